// SPDX-License-Identifier: GPL-2.0
/*
 * hwrng-probe: guest-side probe for the kernel-patch boot tests.
 *
 *   hwrng-probe crng                 "ready" or "notready", never blocks
 *   hwrng-probe wait-crng MS         poll readiness for up to MS ms
 *   hwrng-probe read MODE N MS       read N bytes of /dev/hwrng (MODE is
 *                                    block or nonblock) in a child that is
 *                                    SIGKILLed after MS ms: reports hang
 *   hwrng-probe fork-wait HOW MS     wait up to MS ms for a VM fork, HOW =
 *                                    sysfs (the vmgenid "generation" file of
 *                                    patch 0005, POLLPRI) or kmsg (the kernel's
 *                                    notice in /dev/kmsg, POLLIN); logs
 *                                    "VST: fork-woke via=HOW wakeups=N" to
 *                                    /dev/kmsg at once, N = poll() returns
 *
 * Readiness is tested with getrandom(GRND_NONBLOCK), which fails with EAGAIN
 * and, unlike a blocking getrandom(), never runs the kernel's jitter entropy
 * collection, so probing cannot seed the CRNG and mask what is measured.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_MAX 4096

static uint64_t now_msec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int crng_ready(void)
{
	uint8_t b;

	return getrandom(&b, 1, GRND_NONBLOCK) == 1;
}

static int cmd_wait_crng(unsigned int limit_ms)
{
	uint64_t start = now_msec();
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	while (!crng_ready()) {
		if (now_msec() - start >= limit_ms) {
			printf("notready ms=%llu\n", (unsigned long long)(now_msec() - start));
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	printf("ready ms=%llu\n", (unsigned long long)(now_msec() - start));
	return 0;
}

/* Child: one read(2), result written to @fd as "<n or -errno> <ms>". */
static void read_child(int fd, int nonblock, size_t n)
{
	static uint8_t buf[READ_MAX];
	uint64_t start = now_msec();
	char line[64];
	ssize_t r;
	int dev;

	dev = open("/dev/hwrng", O_RDONLY | (nonblock ? O_NONBLOCK : 0));
	if (dev < 0)
		r = -errno;
	else {
		r = read(dev, buf, n);
		if (r < 0)
			r = -errno;
	}
	snprintf(line, sizeof(line), "%zd %llu\n", r,
		 (unsigned long long)(now_msec() - start));
	(void)!write(fd, line, strlen(line));
	_exit(0);
}

static int cmd_read(const char *mode, size_t n, unsigned int limit_ms)
{
	int nonblock = strcmp(mode, "nonblock") == 0;
	uint64_t start = now_msec();
	struct pollfd pfd;
	char line[64] = "";
	long long r = 0;
	unsigned long long ms = 0;
	int p[2], status;
	pid_t pid;

	if (n > READ_MAX || pipe(p) < 0)
		return 2;
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		close(p[0]);
		read_child(p[1], nonblock, n);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, limit_ms) <= 0 || read(p[0], line, sizeof(line) - 1) <= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		printf("mode=%s result=hang ms=%llu\n", mode,
		       (unsigned long long)(now_msec() - start));
		return 1;
	}
	waitpid(pid, &status, 0);
	if (sscanf(line, "%lld %llu", &r, &ms) != 2)
		return 2;
	if (r >= 0)
		printf("mode=%s result=ok bytes=%lld ms=%llu\n", mode, r, ms);
	else
		printf("mode=%s result=%s ms=%llu\n", mode,
		       r == -EAGAIN ? "EAGAIN" : r == -ETIMEDOUT ? "ETIMEDOUT" :
		       strerror((int)-r), ms);
	return 0;
}

#define NOTICE "random: crng reseeded due to virtual machine fork"
#define VMGENID "/sys/bus/acpi/drivers/vmgenid"

static void kmsg(const char *line)
{
	int fd = open("/dev/kmsg", O_WRONLY);

	if (fd >= 0) {
		(void)!write(fd, line, strlen(line));
		close(fd);
	}
}

static int open_generation(void)
{
	DIR *d = opendir(VMGENID);
	struct dirent *e;
	char path[512];
	int fd = -1;

	while (d && fd < 0 && (e = readdir(d)))
		if (strchr(e->d_name, ':')) {
			snprintf(path, sizeof(path), VMGENID "/%s/generation", e->d_name);
			fd = open(path, O_RDONLY);
		}
	if (d)
		closedir(d);
	return fd;
}

static long read_generation(int fd)
{
	char buf[32];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* Returns 1 once the fork is seen. */
static int kmsg_drain(int fd)
{
	char rec[8192];
	ssize_t n;
	int fork = 0;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		/* Kernel facility only: PRI < 8. */
		if (rec[0] >= '0' && rec[0] <= '7' && rec[1] == ',' && strstr(rec, ";" NOTICE "\n"))
			fork = 1;
	}
	return fork;
}

static int cmd_fork_wait(const char *how, unsigned int limit_ms)
{
	int sysfs = strcmp(how, "sysfs") == 0;
	uint64_t start = now_msec();
	unsigned int wakeups = 0;
	struct pollfd pfd;
	long gen0 = 0, gen = 0;
	char line[128];
	int fd;

	fd = sysfs ? open_generation() : open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		printf("%s=absent\n", how);
		return 1;
	}
	if (sysfs)
		gen0 = read_generation(fd);
	else
		lseek(fd, 0, SEEK_END);
	pfd = (struct pollfd){ .fd = fd, .events = sysfs ? POLLPRI : POLLIN };
	while (now_msec() - start < limit_ms) {
		if (poll(&pfd, 1, (int)(limit_ms - (now_msec() - start))) <= 0)
			continue;
		wakeups++;
		gen = sysfs ? read_generation(fd) : 0;
		if (sysfs ? gen != gen0 : kmsg_drain(fd)) {
			snprintf(line, sizeof(line), "VST: fork-woke via=%s gen=%ld wakeups=%u\n",
				 how, gen, wakeups);
			kmsg(line);
			printf("%s=woke gen0=%ld gen=%ld wakeups=%u\n", how, gen0, gen, wakeups);
			return 0;
		}
	}
	printf("%s=timeout gen0=%ld wakeups=%u\n", how, gen0, wakeups);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "fork-wait") == 0)
		return cmd_fork_wait(argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 2 && strcmp(argv[1], "crng") == 0) {
		puts(crng_ready() ? "ready" : "notready");
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "wait-crng") == 0)
		return cmd_wait_crng(strtoul(argv[2], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "read") == 0)
		return cmd_read(argv[2], strtoul(argv[3], NULL, 10),
				strtoul(argv[4], NULL, 10));
	fprintf(stderr, "usage: hwrng-probe crng | wait-crng MS | read block|nonblock N MS |"
		" fork-wait sysfs|kmsg MS\n");
	return 2;
}
