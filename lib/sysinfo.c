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

static int read_under(const char *root, const char *path, char *buf, size_t size)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", root, path);
	return read_file_str(full, buf, size);
}

static bool exists_under(const char *root, const char *path)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", root, path);
	return access(full, F_OK) == 0;
}

/* The kernel's own report, printed at boot before any module: /dev/kmsg from its start.  A
 * kernel log that cannot be read (no /dev/kmsg) leaves the report empty. */
static void read_mem_encrypt(const char *root, char *buf, size_t size)
{
	static const char tag[] = "Memory Encryption Features active:";
	char path[512], rec[2048];
	int fd;
	ssize_t k;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/dev/kmsg", root);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	/* One record per read on /dev/kmsg (EPIPE: overwritten records, read on). */
	while ((k = read(fd, rec, sizeof(rec) - 1)) > 0 || (k < 0 && errno == EPIPE)) {
		const char *p;

		if (k <= 0)
			continue;
		rec[k] = '\0';
		p = strstr(rec, tag);
		if (p) {
			snprintf(buf, size, "%.*s", (int)strcspn(p, "\n"), p);
			break;
		}
	}
	close(fd);
}

int machine_read(const char *root, struct machine *ret)
{
	struct machine m = {};
	char path[512];

	snprintf(path, sizeof(path), "%s/proc/cpuinfo", root);
	(void)cpuinfo_flags_read(path, m.cpu_flags, sizeof(m.cpu_flags));
	/* As systemd's $SYSTEMD_PROC_CMDLINE: for tests.  It is subject to the same rules as
	 * the kernel command line (the host may write both). */
	if (getenv("VIRTSEED_PROC_CMDLINE"))
		snprintf(m.cmdline, sizeof(m.cmdline), "%s", getenv("VIRTSEED_PROC_CMDLINE"));
	else if (read_under(root, "/proc/cmdline", m.cmdline, sizeof(m.cmdline)) < 0)
		m.cmdline[0] = '\0';
	read_mem_encrypt(root, m.mem_encrypt, sizeof(m.mem_encrypt));
	m.sev_guest_dev = exists_under(root, "/dev/sev-guest");
	m.tdx_guest_dev = exists_under(root, "/dev/tdx_guest");
	m.initrd = exists_under(root, "/etc/initrd-release");
	*ret = m;
	return 0;
}

/* Any one signal is enough: when they disagree, the machine is taken as confidential. */
enum cvm_kind machine_cvm(const struct machine *m)
{
	enum cvm_kind k = cvm_detect(m->cpu_flags, m->sev_guest_dev, m->tdx_guest_dev);

	if (k != CVM_NONE)
		return k;
	if (strstr(m->mem_encrypt, "TDX"))
		return CVM_TDX;
	if (strstr(m->mem_encrypt, "SEV"))
		return CVM_SEV_SNP;
	return CVM_NONE;
}

bool machine_cpu_flag(const struct machine *m, const char *flag)
{
	return has_word(m->cpu_flags, flag);
}

/* The kernel reads a bool as kstrtobool() does: by its first one or two characters. */
static int kernel_bool(const char *v)
{
	if (strchr("yY1", v[0]) && v[0])
		return 1;
	if (strchr("nN0", v[0]) && v[0])
		return 0;
	if (v[0] == 'o' || v[0] == 'O')
		return strchr("nN", v[1]) && v[1] ? 1 : strchr("fF", v[1]) && v[1] ? 0 : -1;
	return -1;
}

/* random.trust_cpu= from the kernel command line (the last one before "--" wins), or -1. */
int machine_trust_cpu(const struct machine *m)
{
	static const char key[] = "random.trust_cpu=";
	const char *p = m->cmdline;
	int v = -1;

	while (*p) {
		char item[64];
		size_t n;

		p += strspn(p, " \t\n");
		n = strcspn(p, " \t\n");
		if (n == 2 && strncmp(p, "--", 2) == 0)
			break;
		if (n < sizeof(item) && strncmp(p, key, sizeof(key) - 1) == 0) {
			int b;

			snprintf(item, sizeof(item), "%.*s", (int)n, p);
			b = kernel_bool(item + sizeof(key) - 1);
			v = b >= 0 ? b : v;
		}
		p += n;
	}
	return v;
}
