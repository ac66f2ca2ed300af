/*
 * Facts about the machine: is this a confidential VM (then the host is not
 * trusted to supply entropy), does the kernel's own hwrng thread already
 * credit a device, are we in the initramfs.  Decisions are pure functions of
 * the strings read, so tests feed them directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "sysinfo.h"

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0' || p[n] == '\n'))
			return true;
	return false;
}

enum cvm_kind cvm_detect(const char *flags, bool sev_guest_dev, bool tdx_guest_dev)
{
	if (tdx_guest_dev || has_word(flags, "tdx_guest"))
		return CVM_TDX;
	if (sev_guest_dev || (has_word(flags, "hypervisor") && has_word(flags, "sev_snp")))
		return CVM_SEV_SNP;
	return CVM_NONE;
}

const char *cvm_name(enum cvm_kind k)
{
	return k == CVM_TDX ? "TDX" : k == CVM_SEV_SNP ? "SEV-SNP" : "none";
}

/* The kthread credits a device only when one is current and its quality is > 0. */
bool hwrng_kernel_feeds(const struct hwrng_info *h)
{
	return strcmp(h->current, "none") != 0 && h->current[0] != '\0' && h->quality > 0;
}

int read_file_str(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k;

	if (fd < 0)
		return -errno;
	k = read(fd, buf, size - 1);
	close(fd);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == ' '))
		buf[--k] = '\0';
	return 0;
}

int hwrng_info_read(const char *sysfs_dir, const char *param_dir, struct hwrng_info *ret)
{
	char path[512], val[32];
	struct hwrng_info h = { .quality = -1 };
	int r;

	snprintf(path, sizeof(path), "%s/rng_current", sysfs_dir);
	r = read_file_str(path, h.current, sizeof(h.current));
	if (r < 0)
		return r;
	/* rng_quality exists from 5.19; older kernels only show the core default. */
	snprintf(path, sizeof(path), "%s/rng_quality", sysfs_dir);
	if (read_file_str(path, val, sizeof(val)) < 0) {
		snprintf(path, sizeof(path), "%s/default_quality", param_dir);
		if (read_file_str(path, val, sizeof(val)) < 0)
			val[0] = '\0';
	}
	if (val[0])
		h.quality = atoi(val);
	*ret = h;
	return 0;
}

int cpuinfo_flags_read(const char *path, char *buf, size_t size)
{
	char line[4096];
	FILE *f = fopen(path, "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "flags", 5) == 0) {
			const char *colon = strchr(line, ':');

			snprintf(buf, size, "%s", colon ? colon + 1 : "");
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

enum cvm_kind cvm_detect_here(void)
{
	char flags[4096] = "";

	(void)cpuinfo_flags_read("/proc/cpuinfo", flags, sizeof(flags));
	return cvm_detect(flags, access("/dev/sev-guest", F_OK) == 0,
			  access("/dev/tdx_guest", F_OK) == 0);
}

bool in_initrd(void)
{
	return access("/etc/initrd-release", F_OK) == 0;
}
