/*
 * virtseed-preinit: /init of a dracut image with systemd.  Mounts the API file systems,
 * runs virtseed-initrd (virtio drivers, then `virtseedd --until-ready`) within a short
 * budget, then execs the real init with the kernel's argv and environment whatever
 * happened: virtseed-initrd.service runs the agent again, with its full timeout, once
 * systemd is up (a no-op when the CRNG is ready).  A C program rather than a script
 * because every exec costs ~0.1 s on a TCG guest, and systemd's first initrd unit starts
 * seconds after /init there.  systemd finds the file systems mounted and keeps them.
 * With a virtio-rng device it leaves the seeding to systemd (see has_virtio_rng_pci()).
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIBEXEC "/usr/libexec/virtseed/"
#define HELPER LIBEXEC "virtseed-initrd"
#define REAL_INIT LIBEXEC "real-init"
#define FALLBACK_INIT "/sbin/init"
#define BUDGET_FILE "/etc/virtseed/preinit-timeout"
#define BUDGET_DEFAULT 2
#define BUDGET_MAX 3600

static const struct api_fs {
	const char *type, *dir, *options;
	unsigned long flags;
} api_fs[] = {
	{ "proc", "/proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "sysfs", "/sys", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "devtmpfs", "/dev", "mode=0755", MS_NOSUID },
};

/* A directory on another device than / is a mount point (nothing nests here yet). */
static int mounted(const char *dir)
{
	struct stat root, st;

	return stat("/", &root) == 0 && stat(dir, &st) == 0 && st.st_dev != root.st_dev;
}

static void mount_api_fs(void)
{
	for (size_t i = 0; i < sizeof(api_fs) / sizeof(api_fs[0]); i++) {
		const struct api_fs *f = &api_fs[i];

		if (mounted(f->dir))
			continue;
		if (mount(f->type, f->dir, f->type, f->flags, f->options) < 0)
			fprintf(stderr, "virtseed-preinit: cannot mount %s: %m\n", f->dir);
	}
}

/* Seconds from BUDGET_FILE (written by the dracut module), else the default. */
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
		fprintf(stderr, "virtseed-preinit: not seeded yet; virtseed-initrd.service tries again\n");
}

static bool file_is(const char *dir, const char *name, const char *want)
{
	char path[PATH_MAX], line[32];
	FILE *f;
	bool r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return false;
	r = fgets(line, sizeof(line), f) && strcmp(line, want) == 0;
	fclose(f);
	return r;
}

/*
 * systemd loads virtio_rng itself as it starts when the guest has a virtio-rng PCI device
 * (transitional 0x1005 or modern 0x1044), and the kernel's hwrng thread credits it at once:
 * running the helper first would only delay that.  The initrd unit still runs the agent.
 */
static bool has_virtio_rng_pci(void)
{
	glob_t g;
	bool r = false;

	if (glob("/sys/bus/pci/devices/*", GLOB_NOSORT, NULL, &g) != 0)
		return false;
	for (size_t i = 0; i < g.gl_pathc && !r; i++)
		r = file_is(g.gl_pathv[i], "vendor", "0x1af4\n") &&
		    (file_is(g.gl_pathv[i], "device", "0x1005\n") ||
		     file_is(g.gl_pathv[i], "device", "0x1044\n"));
	globfree(&g);
	return r;
}

int main(int argc, char *argv[])
{
	(void)argc;
	mount_api_fs();
	if (has_virtio_rng_pci())
		fprintf(stderr, "virtseed-preinit: virtio-rng present, systemd loads its driver; "
			"seeding is left to virtseed-initrd.service\n");
	else
		run_helper();
	execv(REAL_INIT, argv);
	fprintf(stderr, "virtseed-preinit: cannot run %s: %m; trying %s\n", REAL_INIT,
		FALLBACK_INIT);
	execv(FALLBACK_INIT, argv);
	fprintf(stderr, "virtseed-preinit: cannot run %s: %m\n", FALLBACK_INIT);
	return EXIT_FAILURE;
}
