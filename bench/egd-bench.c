/*
 * Benchmarks of virtseed-egd against limits measured in the same run.
 *   egd-bench EGD throughput   64 pipelined QEMU-style clients (02 40) on unix sockets,
 *                              aggregate bytes/s vs single-core getrandom(4096)
 *   egd-bench EGD fairness     16 greedy + 4 light guests in two classes: shares vs
 *                              the max-min fair shares of the configuration, Jain's
 *                              index, light guests' request latency
 *   egd-bench EGD memory       RSS of the distributor with 1000 connected guests
 *   egd-bench EGD hostile      16 light honest guests, one "QEMU" that connects and
 *                              closes in a loop, an upstream source taking 300 ms a
 *                              read: bytes served vs the budget, honest latency
 *                              (ACCEPT_RATE=N sets accept-rate; 0 = none)
 * Starts its own distributor (EGD is the path to virtseed-egd) in a temporary
 * directory; BENCH_SECONDS sets the measuring window.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1100

struct conn {
	int fd;
	uint64_t bytes, window_bytes, outstanding;
	unsigned pipeline;      /* requests kept in flight; 0 = light */
	uint8_t req_len;
	uint64_t sent_usec, next_usec;
	double *lat;
	size_t n_lat, max_lat;
};

static char dir[] = "/tmp/egd-bench.XXXXXX";
static pid_t egd_pid;

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void die(const char *what)
{
	perror(what);
	if (egd_pid > 0)
		kill(egd_pid, SIGTERM);
	exit(1);
}

static void stop_egd(void)
{
	char cmd[64];

	if (egd_pid > 0) {
		kill(egd_pid, SIGTERM);
		waitpid(egd_pid, NULL, 0);
		egd_pid = 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
}

static void start_egd(const char *egd, const char *conf, const char *listen)
{
	char conf_path[128], stats[128], sock[128];

	snprintf(conf_path, sizeof(conf_path), "%s/egd.conf", dir);
	snprintf(stats, sizeof(stats), "%s/stats.sock", dir);
	FILE *f = fopen(conf_path, "w");
	if (!f)
		die("conf");
	fputs(conf, f);
	fclose(f);
	egd_pid = fork();
	if (egd_pid == 0) {
		if (listen)
			execl(egd, egd, "--config", conf_path, "--stats-socket", stats, "--listen",
			      listen, "-v", "warning", (char *)NULL);
		else
			execl(egd, egd, "--config", conf_path, "--stats-socket", stats, "-v",
			      "warning", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		if (access(stats, F_OK) == 0)
			return;
		usleep(10000);
	}
	snprintf(sock, sizeof(sock), "%s", stats);
	fprintf(stderr, "virtseed-egd did not start (%s)\n", sock);
	exit(1);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void send_reqs(struct conn *c, unsigned n)
{
	uint8_t buf[2 * 256];
	ssize_t k;

	n = n > 256 ? 256 : n;
	for (unsigned i = 0; i < n; i++) {
		buf[2 * i] = 0x02;
		buf[2 * i + 1] = c->req_len;
	}
	k = write(c->fd, buf, 2 * n);
	if (k < 0 && errno != EAGAIN)
		die("write");
	if (k > 0) {
		c->outstanding += (uint64_t)(k / 2) * c->req_len;
		c->sent_usec = now_usec();
	}
}

static void on_readable(struct conn *c, bool counting)
{
	static uint8_t buf[65536];
	ssize_t k = read(c->fd, buf, sizeof(buf));

	if (k <= 0) {
		if (k < 0 && errno == EAGAIN)
			return;
		fprintf(stderr, "connection closed by the distributor\n");
		exit(1);
	}
	c->bytes += (uint64_t)k;
	if (counting)
		c->window_bytes += (uint64_t)k;
	c->outstanding -= (uint64_t)k;
	if (c->pipeline) {
		uint64_t want = (uint64_t)c->pipeline * c->req_len;

		if (c->outstanding + c->req_len <= want)
			send_reqs(c, (unsigned)((want - c->outstanding) / c->req_len));
	} else if (c->outstanding == 0 && c->n_lat < c->max_lat && counting) {
		c->lat[c->n_lat++] = (double)(now_usec() - c->sent_usec);
	}
}

/* Run the event loop for warm + window seconds; counts bytes in the window. */
static void run(struct conn *conns, size_t n, double warm, double window)
{
	int ep = epoll_create1(0);
	struct epoll_event evs[64];
	uint64_t start = now_usec(), from = start + (uint64_t)(warm * 1e6);
	uint64_t to = from + (uint64_t)(window * 1e6);

	for (size_t i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[i] };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0)
			die("epoll_ctl");
		if (conns[i].pipeline && conns[i].outstanding == 0)
			send_reqs(&conns[i], conns[i].pipeline);
	}
	for (uint64_t now = start; now < to; now = now_usec()) {
		int k = epoll_wait(ep, evs, 64, 1);

		for (int i = 0; i < k; i++)
			on_readable(evs[i].data.ptr, now >= from);
		for (size_t i = 0; i < n; i++) {
			struct conn *c = &conns[i];

			if (!c->pipeline && c->outstanding == 0 && now >= c->next_usec) {
				send_reqs(c, 1);
				c->next_usec = now + 10000;
			}
		}
	}
	close(ep);
}

static double cpu_seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes per wall second, and per second of CPU (robust on a shared machine). */
static double getrandom_limit(double *ret_per_cpu_s)
{
	static uint8_t buf[4096];
	uint64_t t0 = now_usec(), bytes = 0;
	double c0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);

	while (now_usec() - t0 < 1000000)
		for (int i = 0; i < 64; i++)
			bytes += (uint64_t)getrandom(buf, sizeof(buf), 0);
	*ret_per_cpu_s = (double)bytes / (cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - c0);
	return (double)bytes / ((double)(now_usec() - t0) / 1e6);
}

/* CPU seconds (user + system) used so far by process @pid. */
static double process_cpu_seconds(pid_t pid)
{
	char path[64];
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		ut = st = 0;
	fclose(f);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double window_seconds(void)
{
	const char *s = getenv("BENCH_SECONDS");

	return s ? atof(s) : 5.0;
}

static int bench_throughput(const char *egd)
{
	static struct conn conns[64];
	char sock[128], listen[140];
	double limit, limit_cpu, window = window_seconds(), total = 0, cpu;

	limit = getrandom_limit(&limit_cpu);
	snprintf(sock, sizeof(sock), "%s/egd.sock", dir);
	snprintf(listen, sizeof(listen), "unix:%s", sock);
	start_egd(egd, "budget = 16G\nburst = 1G\n[class default]\n"
		       "guest-rate = 16G\nguest-burst = 1G\n", listen);
	for (size_t i = 0; i < 64; i++)
		conns[i] = (struct conn){ .fd = connect_unix(sock), .pipeline = 64, .req_len = 64 };
	run(conns, 64, 1.0, 0);
	cpu = process_cpu_seconds(egd_pid);
	run(conns, 64, 0, window);
	cpu = process_cpu_seconds(egd_pid) - cpu;
	for (size_t i = 0; i < 64; i++)
		total += (double)conns[i].window_bytes;
	printf("throughput: 64 clients x 64 pipelined '02 40': %.1f MB/s\n", total / window / 1e6);
	printf("limit: single-core getrandom(4096): %.1f MB/s\n", limit / 1e6);
	printf("ratio: %.1f %% (goal >= 40 %%)\n", 100.0 * total / window / limit);
	printf("per CPU second: distributor %.1f MB (%.2f CPU s in %.1f s), getrandom(4096) "
	       "%.1f MB: %.1f %%\n", total / cpu / 1e6, cpu, window, limit_cpu / 1e6,
	       100.0 * total / cpu / limit_cpu);
	return 0;
}

/* Fairness setup: class a and b alike; per class 4 borrowers, 4 capped, 2 light. */
#define N_FAIR 20
static const char *fair_conf_fmt =
	"budget = 1M\nburst = 256K\n"
	"[class a]\nrate = 512K\nceil = 1M\nburst = 128K\n"
	"[class b]\nrate = 512K\nceil = 1M\nburst = 128K\n";

static void fair_guest(FILE *f, size_t i, char *ret_kind)
{
	size_t k = i % 10;
	char cls = i < 10 ? 'a' : 'b';

	fprintf(f, "[guest g%zu]\nclass = %c\nlisten = unix:%s/g%zu.sock\n", i, cls, dir, i);
	if (k < 4) {
		fputs("rate = 32K\nceil = 1M\nburst = 16K\n", f);
		*ret_kind = 'B';
	} else if (k < 8) {
		fputs("rate = 48K\nceil = 48K\nburst = 16K\n", f);
		*ret_kind = 'C';
	} else {
		fputs("rate = 32K\nceil = 1M\nburst = 16K\n", f);
		*ret_kind = 'L';
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_fairness(const char *egd)
{
	static struct conn conns[N_FAIR];
	static double lat[N_FAIR][4096];
	char kind[N_FAIR], *conf = NULL, sock[128];
	size_t len = 0, n_all = 0;
	double window = window_seconds() * 2, expect[N_FAIR], sum = 0, sum2 = 0, all[4 * 4096];
	double capped = 48 * 1024, budget_class = 512 * 1024;
	int worst_ok = 1;
	FILE *f = open_memstream(&conf, &len);

	fputs(fair_conf_fmt, f);
	for (size_t i = 0; i < N_FAIR; i++)
		fair_guest(f, i, &kind[i]);
	fclose(f);
	start_egd(egd, conf, NULL);
	free(conf);
	for (size_t i = 0; i < N_FAIR; i++) {
		snprintf(sock, sizeof(sock), "%s/g%zu.sock", dir, i);
		conns[i] = (struct conn){ .fd = connect_unix(sock),
					  .req_len = kind[i] == 'L' ? 64 : 255,
					  .pipeline = kind[i] == 'L' ? 0 : 16,
					  .lat = lat[i], .max_lat = 4096 };
	}
	run(conns, N_FAIR, 2.0, window);
	/* Max-min fair shares: a light guest's share is its demand (requests it made);
	 * a class's rate left after its light and capped guests is shared equally by its
	 * borrowers (class rate x2 == budget, so the root has nothing more to lend). */
	for (size_t c = 0; c < 2; c++) {
		double left = budget_class - 4 * capped;

		for (size_t i = c * 10; i < c * 10 + 10; i++)
			if (kind[i] == 'L')
				left -= expect[i] = (double)conns[i].n_lat * 64 / window;
		for (size_t i = c * 10; i < c * 10 + 10; i++)
			if (kind[i] != 'L')
				expect[i] = kind[i] == 'C' ? capped : left / 4;
	}
	printf("%-5s %-8s %12s %12s %8s\n", "guest", "kind", "got B/s", "expect B/s", "ratio");
	for (size_t i = 0; i < N_FAIR; i++) {
		double got = (double)conns[i].window_bytes / window, x = got / expect[i];

		printf("g%-4zu %-8s %12.0f %12.0f %8.4f\n", i,
		       kind[i] == 'B' ? "borrower" : kind[i] == 'C' ? "capped" : "light",
		       got, expect[i], x);
		sum += x;
		sum2 += x * x;
		worst_ok &= fabs(x - 1) <= 0.02;
		for (size_t k = 0; kind[i] == 'L' && k < conns[i].n_lat; k++)
			all[n_all++] = conns[i].lat[k];
	}
	qsort(all, n_all, sizeof(double), cmp_double);
	printf("jain index: %.4f (goal >= 0.99)\n", sum * sum / (N_FAIR * sum2));
	printf("every guest within 2 %% of its fair share: %s\n", worst_ok ? "yes" : "no");
	if (n_all)
		printf("light guests: %zu requests, latency p50 %.0f us, p99 %.0f us, max %.0f us "
		       "(goal p99 <= 1000 us)\n", n_all, all[n_all / 2], all[n_all * 99 / 100],
		       all[n_all - 1]);
	return 0;
}

static long rss_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = atol(line + strlen(field) + 1);
	fclose(f);
	return v;
}

static int bench_memory(const char *egd)
{
	static struct conn conns[1000];
	struct rlimit rl = { 4096, 4096 };
	char sock[128], listen[140];
	long before;

	(void)setrlimit(RLIMIT_NOFILE, &rl);
	snprintf(sock, sizeof(sock), "%s/egd.sock", dir);
	snprintf(listen, sizeof(listen), "unix:%s", sock);
	start_egd(egd, "max-clients = 1000\n", listen);
	before = rss_kib(egd_pid, "VmRSS");
	for (size_t i = 0; i < 1000; i++) {
		conns[i] = (struct conn){ .fd = connect_unix(sock), .req_len = 64 };
		send_reqs(&conns[i], 1);
	}
	for (size_t i = 0; i < 1000; i++) {
		uint8_t buf[64];
		size_t got = 0;

		while (got < 64) {
			ssize_t k = read(conns[i].fd, buf, 64 - got);

			if (k > 0)
				got += (size_t)k;
			else if (k == 0 || errno != EAGAIN)
				die("read");
			else
				usleep(100);
		}
	}
	printf("memory: idle %ld KiB RSS; with 1000 connected guests (each served 64 B): "
	       "%ld KiB RSS, peak %ld KiB (goal <= 32768 KiB)\n", before,
	       rss_kib(egd_pid, "VmRSS"), rss_kib(egd_pid, "VmHWM"));
	return 0;
}

/* Sum of the lines of the stats snapshot starting with @prefix. */
static double stats_sum(const char *prefix)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char buf[1 << 20];
	size_t len = 0, plen = strlen(prefix);
	double sum = 0;
	ssize_t k;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stats.sock", dir);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("stats");
	while (len < sizeof(buf) - 1 && (k = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)k;
	close(fd);
	buf[len] = '\0';
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
		if (strncmp(l, prefix, plen) == 0)
			sum += atof(strrchr(l, ' ') + 1);
	return sum;
}

/* An EGD server that answers each "02 N" after @delay_usec (an overloaded upstream). */
static pid_t slow_upstream(const char *path, useconds_t delay_usec)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	if (srv < 0 || bind(srv, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(srv, 4) < 0)
		die("upstream");
	pid = fork();
	if (pid != 0) {
		close(srv);
		return pid;
	}
	for (;;) {
		int c = accept(srv, NULL, NULL);
		uint8_t req[2], data[255];

		while (c >= 0 && read(c, req, 2) == 2) {
			usleep(delay_usec);
			(void)!getrandom(data, req[1], 0);
			if (write(c, data, req[1]) != req[1])
				break;
		}
		close(c);
	}
}

/* A "QEMU" that connects, asks for 4 x 255 bytes and closes, in a loop. */
static pid_t churner(const char *path, double seconds)
{
	pid_t pid = fork();
	uint64_t end = now_usec() + (uint64_t)(seconds * 1e6);
	static const uint8_t req[] = { 2, 255, 2, 255, 2, 255, 2, 255 };

	if (pid != 0)
		return pid;
	while (now_usec() < end) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			(void)!write(fd, req, sizeof(req));
		close(fd);
	}
	_exit(0);
}

#define N_HONEST 16

/* Latency percentiles of the honest guests' requests made since @from[i]. */
static void honest_latency(struct conn *conns, const size_t *from, const char *what)
{
	static double all[N_HONEST * 4096];
	size_t n = 0;

	for (size_t i = 0; i < N_HONEST; i++)
		for (size_t k = from[i]; k < conns[i].n_lat; k++)
			all[n++] = conns[i].lat[k];
	qsort(all, n, sizeof(double), cmp_double);
	if (n)
		printf("honest guests, %s: %zu requests, latency p50 %.0f us, p99 %.0f us, "
		       "max %.0f us\n", what, n, all[n / 2], all[n * 99 / 100], all[n - 1]);
}

static int bench_hostile(const char *egd)
{
	static struct conn conns[N_HONEST];
	static double lat[N_HONEST][4096];
	char *conf = NULL, sock[128], listen[140], up[128];
	double window = window_seconds(), budget = 1048576, burst = 65536, t0, t1, served, cpu;
	double accepted;
	size_t len = 0, from[N_HONEST] = { 0 };
	pid_t up_pid, churn_pid;
	FILE *f = open_memstream(&conf, &len);

	snprintf(up, sizeof(up), "%s/upstream.sock", dir);
	up_pid = slow_upstream(up, 300000);
	fprintf(f, "budget = 1M\nburst = 64K\nsource = egd:unix:%s getrandom\n", up);
	if (getenv("ACCEPT_RATE"))
		fprintf(f, "accept-rate = %s\n", getenv("ACCEPT_RATE"));
	for (size_t i = 0; i < N_HONEST; i++)
		fprintf(f, "[guest h%zu]\nrate = 32K\nburst = 16K\nlisten = unix:%s/h%zu.sock\n",
			i, dir, i);
	fclose(f);
	snprintf(listen, sizeof(listen), "unix:%s/churn.sock,qemu", dir);
	start_egd(egd, conf, listen);
	free(conf);
	for (size_t i = 0; i < N_HONEST; i++) {
		snprintf(sock, sizeof(sock), "%s/h%zu.sock", dir, i);
		conns[i] = (struct conn){ .fd = connect_unix(sock), .req_len = 64,
					  .lat = lat[i], .max_lat = 4096 };
	}
	/* Same run, first without the churner: the honest guests' own latency. */
	run(conns, N_HONEST, 1.0, window);
	honest_latency(conns, from, "slow upstream only");
	for (size_t i = 0; i < N_HONEST; i++)
		from[i] = conns[i].n_lat;
	snprintf(sock, sizeof(sock), "%s/churn.sock", dir);
	churn_pid = churner(sock, 2 * window + 1.5);
	run(conns, N_HONEST, 1.0, 0);
	for (size_t i = 0; i < N_HONEST; i++)
		from[i] = conns[i].n_lat;
	served = stats_sum("virtseed_egd_class_bytes_total");
	accepted = stats_sum("virtseed_egd_accepted_total");
	cpu = process_cpu_seconds(egd_pid);
	t0 = (double)now_usec() / 1e6;
	run(conns, N_HONEST, 0, 2 * window);
	t1 = (double)now_usec() / 1e6;
	cpu = process_cpu_seconds(egd_pid) - cpu;
	served = stats_sum("virtseed_egd_class_bytes_total") - served;
	accepted = stats_sum("virtseed_egd_accepted_total") - accepted;
	kill(churn_pid, SIGTERM);
	waitpid(churn_pid, NULL, 0);
	kill(up_pid, SIGTERM);
	waitpid(up_pid, NULL, 0);
	printf("hostile: served %.0f B in %.1f s = %.3f x the budget (1 MiB/s); overshoot %.0f B "
	       "= %.2f bursts (goal <= 1); distributor %.2f CPU s\n", served, t1 - t0,
	       served / (budget * (t1 - t0)), served - budget * (t1 - t0),
	       (served - budget * (t1 - t0)) / burst, cpu);
	printf("churning QEMU: %.0f connections accepted (%.0f a second; accept-rate %s)\n",
	       accepted, accepted / (t1 - t0), getenv("ACCEPT_RATE") ? getenv("ACCEPT_RATE") :
	       "100, the default");
	printf("upstream source: %.0f B read (300 ms a read); getrandom: %.0f B\n",
	       stats_sum("virtseed_egd_source_bytes_total{source=\"egd\""),
	       stats_sum("virtseed_egd_source_bytes_total{source=\"getrandom\""));
	honest_latency(conns, from, "+ churning QEMU (goal p99 <= 1000 us)");
	return 0;
}

int main(int argc, char **argv)
{
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: egd-bench EGD throughput|fairness|memory|hostile\n");
		return 2;
	}
	if (!mkdtemp(dir))
		die("mkdtemp");
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[2], "throughput") == 0)
		r = bench_throughput(argv[1]);
	else if (strcmp(argv[2], "fairness") == 0)
		r = bench_fairness(argv[1]);
	else if (strcmp(argv[2], "memory") == 0)
		r = bench_memory(argv[1]);
	else if (strcmp(argv[2], "hostile") == 0)
		r = bench_hostile(argv[1]);
	else
		r = 2;
	stop_egd();
	return r;
}
