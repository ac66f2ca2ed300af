/*
 * virtseed-preinit: /init of a dracut image with systemd or of an initramfs-tools image.
 * Mounts the API file systems, seeds, then execs the real init with the kernel's argv and
 * environment whatever happened.  With a virtio-rng device it loads the driver (finit_module)
 * and the kernel's hwrng thread seeds; without, it runs virtseed-initrd (`virtseedd
 * --until-ready`) within a short budget.  rd.virtseed=0 leaves it all out.
 * Before systemd (dracut) it keeps the file systems mounted, as systemd would mount them, and
 * if the CRNG is ready leaves READY_MARK, so that systemd skips virtseed-initrd.service.
 * Before a shell /init (initramfs-tools, UNMOUNT_FILE present) it unmounts what it mounted, as
 * that /init mounts them itself, and if the CRNG is ready sets READY_ENV for its init-top
 * script, which then does not run the agent again.
 * Its own modules.dep lookup, not libkmod (whose libraries cost tens of ms under TCG), and
 * C, not a script: every exec costs ~0.1 s on a TCG guest (bench/RESULTS-boot.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "moddep.h"

#define LIBEXEC "/usr/libexec/virtseed/"
#define HELPER LIBEXEC "virtseed-initrd"
#define REAL_INIT LIBEXEC "real-init"
#define FALLBACK_INIT "/sbin/init"
#define BUDGET_FILE "/etc/virtseed/preinit-timeout"
#define READY_DIR "/run/virtseed"
#define READY_MARK READY_DIR "/preinit-ready" /* virtseed-initrd.service: ConditionPathExists=! */
#define UNMOUNT_FILE "/etc/virtseed/preinit-unmount" /* written by the initramfs-tools hook */
#define READY_ENV "VIRTSEED_PREINIT_READY"          /* =1: read by scripts/init-top */
#define BUDGET_DEFAULT 2
#define BUDGET_MAX 3600
#define HWRNG_WAIT_MSEC 500 /* the agent's default hwrng-timeout */
#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static struct api_fs {
	const char *type, *dir, *options;
	unsigned long flags;
	bool for_systemd; /* only mounted when it stays mounted */
	bool mounted_here;
} api_fs[] = {
	{ .type = "proc", .dir = "/proc", .flags = MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ .type = "sysfs", .dir = "/sys", .flags = MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ .type = "devtmpfs", .dir = "/dev", .options = "mode=0755", .flags = MS_NOSUID },
	/* As systemd mounts it (TMPFS_LIMITS_RUN), so that it keeps it, and READY_MARK. */
	{ .type = "tmpfs", .dir = "/run", .options = "mode=0755,size=20%,nr_inodes=800k",
	  .flags = MS_NOSUID | MS_NODEV | MS_STRICTATIME, .for_systemd = true },
};
#define N_API_FS (sizeof(api_fs) / sizeof(api_fs[0]))

/* A directory on another device than / is a mount point (nothing nests here yet). */
static int mounted(const char *dir)
{
	struct stat root, st;

	return stat("/", &root) == 0 && stat(dir, &st) == 0 && st.st_dev != root.st_dev;
}

static void mount_api_fs(bool keep)
{
	for (size_t i = 0; i < N_API_FS; i++) {
		struct api_fs *f = &api_fs[i];

		if ((f->for_systemd && !keep) || mounted(f->dir))
			continue;
		if (mkdir(f->dir, 0755) < 0 && errno != EEXIST) /* initramfs-tools: /init makes them */
			fprintf(stderr, "virtseed-preinit: cannot create %s: %m\n", f->dir);
		else if (mount(f->type, f->dir, f->type, f->flags, f->options) < 0)
			fprintf(stderr, "virtseed-preinit: cannot mount %s: %m\n", f->dir);
		else
			f->mounted_here = true;
	}
}

/* Leave the mounts as the kernel gave them, for an /init that mounts them itself. */
static void umount_api_fs(void)
{
	for (size_t i = N_API_FS; i-- > 0;)
		if (api_fs[i].mounted_here && umount(api_fs[i].dir) < 0)
			fprintf(stderr, "virtseed-preinit: cannot unmount %s: %m\n", api_fs[i].dir);
}

/* Seconds from BUDGET_FILE (written by the dracut module or the initramfs-tools hook), else
 * the default. */
static unsigned budget_seconds(void)
{
	unsigned v = BUDGET_DEFAULT;
	FILE *f = fopen(BUDGET_FILE, "re");

	if (f) {
		if (fscanf(f, "%u", &v) != 1 || v == 0 || v > BUDGET_MAX)
			v = BUDGET_DEFAULT;
		fclose(f);
	}
	return v;
}

static void run_helper(void)
{
	char arg[32];
	int status;
	pid_t pid;

	snprintf(arg, sizeof(arg), "--timeout=%u", budget_seconds());
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "virtseed-preinit: cannot fork: %m\n");
		return;
	}
	if (pid == 0) {
		execl(HELPER, HELPER, arg, (char *)NULL);
		fprintf(stderr, "virtseed-preinit: cannot run %s: %m\n", HELPER);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr,
			"virtseed-preinit: not seeded yet; the initramfs tries again\n");
}

/* Does a word of the kernel command line satisfy PRED(word, ARG)? */
static bool cmdline_has(bool (*pred)(const char *w, const char *arg), const char *arg)
{
	char buf[4096], *w, *save = NULL;
	FILE *f = fopen("/proc/cmdline", "re");
	bool r = false;

	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		for (w = strtok_r(buf, " \n", &save); w && !r; w = strtok_r(NULL, " \n", &save))
			r = pred(w, arg);
	fclose(f);
	return r;
}

/* rd.virtseed=0 (or no, off, false)? */
static bool word_disables(const char *w, const char *arg)
{
	(void)arg;
	return strcmp(w, "rd.virtseed=0") == 0 || strcmp(w, "rd.virtseed=no") == 0 ||
	       strcmp(w, "rd.virtseed=off") == 0 || strcmp(w, "rd.virtseed=false") == 0;
}

/* modprobe.blacklist=a,b,c names module ARG? */
static bool word_blacklists(const char *w, const char *arg)
{
	return strncmp(w, "modprobe.blacklist=", 19) == 0 && moddep_in_list(w + 19, arg);
}

/*
 * Has the guest a virtio-rng PCI device (vendor 0x1af4, transitional 0x1005 or modern
 * 0x1044)?  /proc/bus/pci/devices lists them all in one read ("BUSDEVFN VENDORDEVICE ...").
 */
static bool has_virtio_rng_pci(void)
{
	FILE *f = fopen("/proc/bus/pci/devices", "re");
	char line[512];
	unsigned id;
	bool r = false;

	if (!f)
		return false;
	while (!r && fgets(line, sizeof(line), f))
		r = sscanf(line, "%*x %x", &id) == 1 && (id == 0x1af41005 || id == 0x1af41044);
	fclose(f);
	return r;
}

static int insmod(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	size_t n = strlen(rel);
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "",
		    n > 3 && strcmp(rel + n - 3, ".ko") ? MODULE_INIT_COMPRESSED_FILE : 0) < 0 &&
	    errno != EEXIST)
		r = -errno;
	close(fd);
	return r;
}

/* Load the module in FILE_BASE (such as "virtio-rng.ko") after its modules.dep dependencies. */
static int load_module(const char *file_base)
{
	const char *deps[MODDEP_MAX_DEPS], *mod = NULL;
	char dir[128], dep[160], *line = NULL; /* utsname.release is at most 64 bytes */
	size_t cap = 0, n = 0;
	struct utsname u;
	int r = -ENOENT;
	FILE *f;

	if (uname(&u) < 0)
		return -errno;
	snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);
	snprintf(dep, sizeof(dep), "%s/modules.dep", dir);
	f = fopen(dep, "re");
	if (!f)
		return -errno;
	while (!mod && getline(&line, &cap, f) > 0)
		mod = moddep_parse(line, file_base, deps, &n);
	fclose(f);
	if (mod) {
		r = 0;
		while (n > 0 && r == 0)
			r = insmod(dir, deps[--n]); /* modprobe's order: last dependency first */
		if (r == 0)
			r = insmod(dir, mod);
	}
	free(line);
	return r;
}

/* Does the kernel's hwrng thread credit what it reads (rng_quality > 0, Linux 5.18+)? */
static bool kernel_credits_hwrng(void)
{
	FILE *f = fopen("/sys/class/misc/hw_random/rng_quality", "re");
	unsigned q = 0;

	if (f) {
		if (fscanf(f, "%u", &q) != 1)
			q = 0;
		fclose(f);
	}
	return q > 0;
}

/*
 * With a virtio-rng device, load its driver now, as systemd would as it starts (and as udev
 * would at coldplug without systemd): the kernel's hwrng thread credits it within ms; wait
 * for that (so systemd starts seeded) as long as the agent's own hwrng deadline.  Without
 * the device, if the kernel does not credit it, or if the host stalls, run the helper
 * (RDSEED, RDRAND, EGD; the agent leaves a credited hwrng to the kernel).
 */
static int load_virtio_rng(void)
{
	int r = 0;

	if (access("/sys/bus/pci/drivers/virtio-pci", F_OK) < 0)
		r = load_module("virtio_pci.ko");
	if (r == 0 && access("/sys/module/virtio_rng", F_OK) < 0)
		r = load_module("virtio-rng.ko");
	if (r < 0)
		fprintf(stderr, "virtseed-preinit: cannot load virtio_rng: %s\n", strerror(-r));
	return r;
}

/*
 * Wait (bounded) for the CRNG to be ready, so that systemd starts seeded.  POLLIN on
 * /dev/random: ready (5.18+), enough entropy to read (older kernels).
 */
static bool wait_crng_ready(int timeout_msec)
{
	struct pollfd p = { .fd = open("/dev/random", O_RDONLY | O_CLOEXEC), .events = POLLIN };
	int r;

	if (p.fd < 0)
		return false;
	while ((r = poll(&p, 1, timeout_msec)) < 0 && errno == EINTR)
		;
	close(p.fd);
	return r > 0;
}

/* The kernel's own answer: getrandom() without blocking succeeds once the CRNG is ready. */
static bool crng_ready(void)
{
	uint8_t byte;

	return getrandom(&byte, sizeof(byte), GRND_NONBLOCK) == 1;
}

/* Tell virtseed-initrd.service that there is nothing left to do (it would exec to find so). */
static void mark_ready(void)
{
	int fd;

	if (mkdir(READY_DIR, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "virtseed-preinit: cannot create %s: %m\n", READY_DIR);
		return;
	}
	fd = open(READY_MARK, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		fprintf(stderr, "virtseed-preinit: cannot create %s: %m\n", READY_MARK);
		return;
	}
	close(fd);
}

static void seed(void)
{
	if (has_virtio_rng_pci() && !cmdline_has(word_blacklists, "virtio_rng") &&
	    load_virtio_rng() == 0 && kernel_credits_hwrng()) {
		if (wait_crng_ready(HWRNG_WAIT_MSEC)) {
			fprintf(stderr, "virtseed-preinit: virtio-rng: driver loaded, CRNG ready\n");
			return;
		}
		fprintf(stderr, "virtseed-preinit: virtio-rng: CRNG not ready after %d ms\n",
			HWRNG_WAIT_MSEC);
	}
	run_helper();
}

int main(int argc, char *argv[])
{
	bool keep = access(UNMOUNT_FILE, F_OK) < 0;

	(void)argc;
	mount_api_fs(keep);
	if (cmdline_has(word_disables, NULL)) {
		fprintf(stderr, "virtseed-preinit: disabled by rd.virtseed=0\n");
	} else {
		seed();
		if (crng_ready() && keep)
			mark_ready();
		else if (crng_ready())
			setenv(READY_ENV, "1", 1);
	}
	if (!keep)
		umount_api_fs();
	execv(REAL_INIT, argv);
	fprintf(stderr, "virtseed-preinit: cannot run %s: %m; trying %s\n", REAL_INIT,
		FALLBACK_INIT);
	execv(FALLBACK_INIT, argv);
	fprintf(stderr, "virtseed-preinit: cannot run %s: %m\n", FALLBACK_INIT);
	return EXIT_FAILURE;
}
