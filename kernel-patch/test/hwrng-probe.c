// SPDX-License-Identifier: GPL-2.0
/*
 * hwrng-probe: guest-side probe for the kernel-patch boot tests.
 *
 *   hwrng-probe crng                 "ready" or "notready", never blocks
 *   hwrng-probe wait-crng MS         poll readiness for up to MS ms
 *   hwrng-probe read MODE N MS       read N bytes of /dev/hwrng (MODE is
 *                                    block or nonblock) in a child that is
 *                                    SIGKILLed after MS ms: reports hang
 *
 * Readiness is tested with getrandom(GRND_NONBLOCK), which fails with EAGAIN
 * and, unlike a blocking getrandom(), never runs the kernel's jitter entropy
 * collection, so probing cannot seed the CRNG and mask what is measured.
 */
#include <errno.h>
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

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "crng") == 0) {
		puts(crng_ready() ? "ready" : "notready");
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "wait-crng") == 0)
		return cmd_wait_crng(strtoul(argv[2], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "read") == 0)
		return cmd_read(argv[2], strtoul(argv[3], NULL, 10),
				strtoul(argv[4], NULL, 10));
	fprintf(stderr, "usage: hwrng-probe crng | wait-crng MS | read block|nonblock N MS\n");
	return 2;
}
