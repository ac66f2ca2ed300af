/*
 * virtseed-egd: shares the host's entropy among virtual machines over the
 * EGD protocol that QEMU's rng-egd backend speaks.  One thread, one epoll
 * loop: listeners, connections, a timerfd for token refills and reconnects,
 * a signalfd for SIGHUP (reload) and SIGTERM/SIGINT.  Everything is opened
 * before privileges are dropped and the seccomp allow-list is loaded.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "egd.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "privs.h"
#include "sandbox.h"

#define DEFAULT_CONFIG SYSCONFDIR "/virtseed/virtseed-egd.conf"
#define DEFAULT_STATS RUNSTATEDIR "/virtseed-egd/stats.sock"
#define MAX_EVENTS 64
#define FD_RESERVE 64            /* fds besides clients and listeners */

struct args {
	const char *config;
	bool config_given, check, stats_client;
	const char *stats_path;
	const char *user;
	const char *listen[MAX_LISTENERS], *connect[MAX_LISTENERS];
	size_t n_listen, n_connect;
	const char *sources[EGD_CONF_MAX_SOURCES];
	size_t n_sources;
};

uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* Per-client events are logged at most once per LOG_INTERVAL_USEC. */
bool log_ratelimit(struct server *s)
{
	uint64_t now = now_usec();

	if (s->last_log_usec && now - s->last_log_usec < LOG_INTERVAL_USEC) {
		s->log_suppressed++;
		return false;
	}
	if (s->log_suppressed)
		log_notice("(%u similar messages suppressed)", s->log_suppressed);
	s->last_log_usec = now;
	s->log_suppressed = 0;
	return true;
}

static void help(void)
{
	printf("Usage: virtseed-egd [OPTIONS]\n"
	       "       virtseed-egd --stats [SOCKET]\n\n"
	       "Share the host's entropy among virtual machines over EGD.\n\n"
	       "  -c --config FILE      configuration (default " DEFAULT_CONFIG ")\n"
	       "  -l --listen ADDR      unix:PATH or tcp:HOST:PORT, optionally ,qemu (repeatable)\n"
	       "  -C --connect ADDR     connect to a QEMU chardev in server mode (repeatable)\n"
	       "  -s --source NAME[:ARG] getrandom, hwrng, rdseed, rdrand, egd:ADDR (repeatable)\n"
	       "  -S --stats-socket PATH where to serve statistics (default " DEFAULT_STATS ")\n"
	       "  -u --user USER        run as USER once sockets are open\n"
	       "  -t --check-config     validate the configuration and exit\n"
	       "     --stats [SOCKET]   print the statistics of a running distributor\n"
	       "  -v --log-level LEVEL  err, warning, notice, info (default), debug\n"
	       "  -h --help             this text\n");
}

static int add_arg(const char **array, size_t *n, size_t max, const char *v)
{
	if (*n >= max)
		return log_errno(-E2BIG, "Too many occurrences of one option (max %zu).", max);
	array[(*n)++] = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "connect", required_argument, NULL, 'C' },
		{ "source", required_argument, NULL, 's' },
		{ "stats-socket", required_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'u' },
		{ "check-config", no_argument, NULL, 't' },
		{ "stats", no_argument, NULL, 'P' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c, r = 0;

	while (r >= 0 && (c = getopt_long(argc, argv, "c:l:C:s:S:u:tv:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'c': a->config = optarg; a->config_given = true; break;
		case 'l': r = add_arg(a->listen, &a->n_listen, MAX_LISTENERS, optarg); break;
		case 'C': r = add_arg(a->connect, &a->n_connect, MAX_LISTENERS, optarg); break;
		case 's':
			r = add_arg(a->sources, &a->n_sources, EGD_CONF_MAX_SOURCES, optarg);
			break;
		case 'S': a->stats_path = optarg; break;
		case 'u': a->user = optarg; break;
		case 't': a->check = true; break;
		case 'P': a->stats_client = true; break;
		case 'v':
			r = log_parse_level(optarg);
			if (r < 0)
				return log_errno(-EINVAL, "Invalid log level '%s'.", optarg);
			log_max_level = r;
			break;
		case 'h': help(); exit(EXIT_SUCCESS);
		default: return -EINVAL;
		}
	}
	if (r < 0)
		return r;
	if (a->stats_client && optind < argc)
		a->stats_path = argv[optind++];
	if (optind < argc)
		return log_errno(-EINVAL, "Unexpected argument '%s'.", argv[optind]);
	return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_(freep) char *buf = malloc(EGD_CONF_MAX_SIZE + 1);
	FILE *f;
	size_t n;

	if (!buf)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, EGD_CONF_MAX_SIZE + 1, f);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*ret = buf;
	*ret_len = n;
	buf = NULL;
	return 0;
}

/* Whole file or nothing: errors name the line. */
static int load_config(const char *path, bool must_exist, struct egd_conf *c)
{
	_cleanup_(freep) char *buf = NULL;
	struct egd_conf_error err = {};
	size_t n = 0;
	int r;

	egd_conf_init(c);
	r = read_file(path, &buf, &n);
	if (r == -ENOENT && !must_exist)
		return 0;
	if (r < 0)
		return log_errno(r, "Failed to read '%s': %m", path);
	r = egd_conf_parse(c, buf, n, &err);
	if (r < 0) {
		log_error("%s:%u: %s", path, err.line, err.msg);
		return r;
	}
	return 0;
}

static int finish_config(const char *path, struct egd_conf *c)
{
	struct egd_conf_error err = {};
	int r = egd_conf_finish(c, &err);

	if (r < 0) {
		if (err.line)
			log_error("%s:%u: %s", path, err.line, err.msg);
		else
			log_error("%s: %s", path, err.msg);
	}
	return r;
}

static int apply_args(const struct args *a, struct egd_conf *c)
{
	int r;

	for (size_t i = 0; i < a->n_listen; i++) {
		r = egd_conf_add_listener(c, a->listen[i], false, NULL, 0);
		if (r < 0)
			return log_errno(r, "Invalid --listen '%s': %m", a->listen[i]);
	}
	for (size_t i = 0; i < a->n_connect; i++) {
		r = egd_conf_add_listener(c, a->connect[i], true, NULL, 0);
		if (r < 0)
			return log_errno(r, "Invalid --connect '%s': %m", a->connect[i]);
	}
	if (a->n_sources)
		c->n_sources = 0;
	for (size_t i = 0; i < a->n_sources; i++) {
		if (strlen(a->sources[i]) >= sizeof(c->sources[0]))
			return log_errno(-EINVAL, "Source name '%s' too long.", a->sources[i]);
		strcpy(c->sources[c->n_sources++], a->sources[i]);
	}
	if (a->stats_path)
		snprintf(c->stats, sizeof(c->stats), "%s", a->stats_path);
	if (!c->stats[0])
		snprintf(c->stats, sizeof(c->stats), "%s", DEFAULT_STATS);
	if (a->user)
		snprintf(c->user, sizeof(c->user), "%s", a->user);
	return 0;
}

static int reload(struct server *s)
{
	struct egd_conf c;
	int r;

	log_info("Reloading '%s'.", s->conf_path);
	r = load_config(s->conf_path, s->conf_given, &c);
	if (r >= 0)
		r = finish_config(s->conf_path, &c);
	if (r >= 0)
		r = sched_reload(s, &c, now_usec());
	if (r < 0)
		log_error("Keeping the previous configuration.");
	egd_conf_done(&c);
	return 0;
}

static int setup_fds(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	(void)signal(SIGPIPE, SIG_IGN);
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->epoll_fd < 0 || s->signal_fd < 0 || s->timer_fd < 0)
		return -errno;
	ev.data.u64 = FD_SIGNAL;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->signal_fd, &ev) < 0)
		return -errno;
	ev.data.u64 = FD_TIMER;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->timer_fd, &ev) < 0)
		return -errno;
	return 0;
}

/* Returns 1 to stop, 0 to go on. */
static int on_signal(struct server *s)
{
	struct signalfd_siginfo si;

	while (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGHUP)
			return 1;
		(void)notify_send("RELOADING=1");
		(void)reload(s);
		(void)notify_send("READY=1");
	}
	return 0;
}

static void on_timer(struct server *s, uint64_t now)
{
	uint64_t expirations;

	(void)read(s->timer_fd, &expirations, sizeof(expirations));
	s->timer_usec = 0;
	listeners_reconnect(s, now);
	sched_run(s, now);
}

static int dispatch(struct server *s, const struct epoll_event *ev, uint64_t now)
{
	uint64_t tag = ev->data.u64 & TAG_MASK;
	void *p = (void *)(uintptr_t)(ev->data.u64 & ~(uint64_t)TAG_MASK);

	if (ev->data.u64 == FD_SIGNAL)
		return on_signal(s);
	if (ev->data.u64 == FD_TIMER)
		on_timer(s, now);
	else if (ev->data.u64 == TAG_STATS)
		stats_accept(s, now);
	else if (tag == TAG_LISTENER)
		listener_event(s, p, now);
	else if (tag == TAG_STATCONN)
		statconn_event(s, p, ev->events);
	else
		client_event(p, ev->events, now);
	return 0;
}

static int loop(struct server *s)
{
	struct epoll_event events[MAX_EVENTS];

	for (;;) {
		int n = epoll_wait(s->epoll_fd, events, MAX_EVENTS, -1);
		uint64_t now;
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return log_errno(-errno, "epoll_wait() failed: %m");
		}
		now = now_usec();
		for (int i = 0; i < n; i++)
			if (dispatch(s, &events[i], now) > 0)
				return 0;
		/* Closed clients may be named by events later in a batch: free now. */
		clients_reap(s);
		r = sched_arm(s, now_usec());
		if (r < 0)
			return log_errno(r, "Failed to arm the timer: %m");
	}
}

static void server_done(struct server *s)
{
	uint64_t now = now_usec();

	while (s->clients)
		(void)client_close(s->clients, now);
	clients_reap(s);
	listeners_close(s);
	if (s->stats_fd >= 0)
		(void)unlink(s->conf.stats);
	s->stats_fd = safe_close(s->stats_fd);
	sched_done(s);
	safe_close(s->epoll_fd);
	safe_close(s->timer_fd);
	safe_close(s->signal_fd);
	egd_conf_done(&s->conf);
}

static const char *const syscalls[] = {
	"read", "write", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg", "accept4",
	"close", "epoll_wait", "epoll_pwait", "epoll_ctl", "timerfd_settime", "clock_gettime",
	"getrandom", "openat", "fstat", "newfstatat", "lseek", "getsockopt", "setsockopt",
	"socket", "connect", "getpid", "brk", "mmap", "munmap", "mremap", "madvise",
	"exit_group", "exit", "rt_sigreturn", "rt_sigprocmask", "fcntl", "unlink", "poll",
	"ppoll", "futex", "getpeername", "shutdown", "gettid", "clock_nanosleep",
};

static int drop_privileges(struct server *s)
{
	int r = 0;

	if (geteuid() == 0 || s->conf.user[0]) {
		r = privs_drop(s->conf.user[0] ? s->conf.user : NULL, false);
		if (r < 0)
			return log_errno(r, "Failed to drop privileges: %m");
	}
	r = sandbox_allow_syscalls(syscalls, ELEMENTSOF(syscalls));
	if (r < 0)
		return log_errno(r, "Failed to install the seccomp filter: %m");
	return 0;
}

static int stats_setup(struct server *s)
{
	char dir[EGD_CONF_MAX_VALUE];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", s->conf.stats);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755);
	}
	if (stats_open(s) < 0)
		log_warning("Continuing without statistics socket.");
	return 0;
}

/* Room for max-clients connections plus listeners, stats readers and sources. */
static void raise_fd_limit(struct server *s)
{
	rlim_t want = (rlim_t)s->conf.max_clients + MAX_LISTENERS + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = MIN(want, rl.rlim_max);
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < want) {
		s->conf.max_clients = (unsigned)MAX(rl.rlim_cur, MAX_LISTENERS + FD_RESERVE + 1) -
				      MAX_LISTENERS - FD_RESERVE;
		log_warning("RLIMIT_NOFILE is %llu: serving at most %u clients.",
			    (unsigned long long)rl.rlim_cur, s->conf.max_clients);
	}
}

static int server_setup(struct server *s, const struct args *a)
{
	bool activated;
	int r;

	raise_fd_limit(s);
	r = setup_fds(s);
	if (r < 0)
		return log_errno(r, "Failed to set up epoll, signals and timer: %m");
	r = listeners_open(s, &activated);
	if (r < 0)
		return r;
	r = stats_setup(s);
	if (r >= 0)
		r = sched_setup(s, now_usec());
	if (r >= 0)
		r = drop_privileges(s);
	if (r < 0)
		return r;
	listeners_reconnect(s, now_usec());
	return sched_arm(s, now_usec());
}

int main(int argc, char **argv)
{
	static struct server server = { .epoll_fd = -EBADF, .timer_fd = -EBADF,
					.signal_fd = -EBADF, .stats_fd = -EBADF };
	struct args a = { .config = DEFAULT_CONFIG };
	struct server *s = &server;
	int r;

	r = parse_args(argc, argv, &a);
	if (r < 0)
		return EXIT_FAILURE;
	if (a.stats_client)
		return stats_print(a.stats_path ? a.stats_path : DEFAULT_STATS) < 0;
	s->conf_path = a.config;
	s->conf_given = a.config_given;
	r = load_config(a.config, a.config_given, &s->conf);
	if (r >= 0)
		r = apply_args(&a, &s->conf);
	if (r >= 0)
		r = finish_config(a.config, &s->conf);
	if (r < 0 || a.check)
		return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	r = server_setup(s, &a);
	if (r >= 0) {
		log_info("Serving %zu listener(s), budget %llu bytes/s, source %s.", s->n_listeners,
			 (unsigned long long)s->conf.root.rate, s->conf.sources[0]);
		(void)notify_send("READY=1\nSTATUS=Serving entropy");
		r = loop(s);
	}
	(void)notify_send("STOPPING=1");
	server_done(s);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
