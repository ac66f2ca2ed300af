/* entropy-boot: boot-time tracer of the kernel RNG for test guests ("entropy_boot").
 *
 * Booted as rdinit=/entropy-boot: mounts its own proc and devtmpfs under /.entropy-boot (so
 * /init finds /proc and /dev as it expects them), logs "entropy-boot: init" to /dev/kmsg (a
 * printk timestamp for "/init started"), forks the sampler and execs /init, which stays PID 1.
 * The sampler reads entropy_avail and CRNG readiness (getrandom(GRND_NONBLOCK) never blocks,
 * so it never runs the jitter dance that would seed the kernel itself) every entropy_boot.ms
 * milliseconds into memory.  It stops entropy_boot.hold s after the CRNG became ready (but not
 * before entropy_boot.min s) or at entropy_boot.max s, prints the change points as CSV lines
 * "entropy-boot: csv,T_MS,ENTROPY_AVAIL,READY" on the console, then "entropy-boot: end", and
 * powers the guest off if entropy_boot.poweroff=1.
 * entropy_boot.hwrng=1 also reads /dev/hwrng 64 bytes at a time every 0.5 s, printing
 * "entropy-boot: hwrng,T_MS,BYTES" per read (tests of a host restart under a running guest).
 * Static, no allocation after start: it must not disturb what it measures.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 100000
#define DIR "/.entropy-boot"

struct sample {
	unsigned t_ms;
	unsigned short avail;
	unsigned char ready;
};

static struct sample samples[MAX_SAMPLES];
static unsigned opt_ms = 10, opt_hold = 3, opt_min, opt_max = 60, opt_poweroff, opt_hwrng;

static unsigned now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void kmsg(const char *line)
{
	int fd = open(DIR "/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)!write(fd, line, strlen(line));
	close(fd);
}

static void parse_cmdline(void)
{
	char buf[4096], *tok, *save;
	int fd = open(DIR "/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		unsigned v;

		if (sscanf(tok, "entropy_boot.ms=%u", &v) == 1 && v > 0)
			opt_ms = v;
		else if (sscanf(tok, "entropy_boot.hold=%u", &v) == 1)
			opt_hold = v;
		else if (sscanf(tok, "entropy_boot.min=%u", &v) == 1)
			opt_min = v;
		else if (sscanf(tok, "entropy_boot.max=%u", &v) == 1)
			opt_max = v;
		else if (sscanf(tok, "entropy_boot.poweroff=%u", &v) == 1)
			opt_poweroff = v;
		else if (sscanf(tok, "entropy_boot.hwrng=%u", &v) == 1)
			opt_hwrng = v;
	}
}

static int read_avail(void)
{
	char buf[16];
	int fd = open(DIR "/proc/sys/kernel/random/entropy_avail", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atoi(buf);
}

static int crng_ready(void)
{
	unsigned char b;

	return getrandom(&b, 1, GRND_NONBLOCK) == 1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void hwrng_reader(unsigned t0, int con)
{
	unsigned char buf[64];
	char line[80];
	int fd;

	while ((fd = open(DIR "/dev/hwrng", O_RDONLY | O_CLOEXEC)) < 0)
		sleep_ms(100);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		snprintf(line, sizeof(line), "entropy-boot: hwrng,%u,%zd\n", now_ms() - t0, n);
		(void)!write(con, line, strlen(line));
		sleep_ms(500);
	}
}

static void dump(int con, unsigned t0, size_t n)
{
	char line[96];
	size_t i;

	snprintf(line, sizeof(line), "entropy-boot: start,%u,ms=%u\n", t0, opt_ms);
	(void)!write(con, line, strlen(line));
	for (i = 0; i < n; i++) {
		if (i > 0 && i + 1 < n && samples[i].avail == samples[i - 1].avail &&
		    samples[i].ready == samples[i - 1].ready)
			continue;
		snprintf(line, sizeof(line), "entropy-boot: csv,%u,%u,%u\n", samples[i].t_ms,
			 samples[i].avail, samples[i].ready);
		(void)!write(con, line, strlen(line));
	}
	(void)!write(con, "entropy-boot: end\n", 18);
}

static void sampler(unsigned t0)
{
	int con = open(DIR "/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	unsigned ready_at = 0;
	size_t n = 0;
	char line[80];

	setsid();
	if (opt_hwrng && fork() == 0)
		hwrng_reader(t0, con);
	while (n < MAX_SAMPLES) {
		unsigned t = now_ms() - t0;
		int avail = read_avail();

		samples[n].t_ms = t;
		samples[n].avail = avail < 0 ? 0 : avail;
		samples[n].ready = crng_ready();
		if (samples[n].ready && !ready_at) {
			ready_at = t ? t : 1;
			snprintf(line, sizeof(line), "entropy-boot: crng ready after %u ms\n", t);
			kmsg(line);
		}
		n++;
		if (t >= opt_max * 1000 ||
		    (ready_at && t - ready_at >= opt_hold * 1000 && t >= opt_min * 1000))
			break;
		sleep_ms(opt_ms);
	}
	dump(con, t0, n);
	if (opt_poweroff) {
		sync();
		reboot(RB_POWER_OFF);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	unsigned t0;

	(void)argc;
	mkdir(DIR, 0700);
	mkdir(DIR "/proc", 0700);
	mkdir(DIR "/dev", 0700);
	(void)mount("proc", DIR "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	(void)mount("devtmpfs", DIR "/dev", "devtmpfs", MS_NOSUID, "mode=0700");
	t0 = now_ms();
	kmsg("entropy-boot: init\n");
	parse_cmdline();
	if (fork() == 0)
		sampler(t0);
	argv[0] = "/init";
	execv("/init", argv);
	kmsg("entropy-boot: exec /init failed\n");
	return 1;
}
