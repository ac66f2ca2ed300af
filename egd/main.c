/*
 * virtseed-egd: shares the host's entropy among virtual machines over the
 * EGD protocol that QEMU's rng-egd backend speaks.  The top of egd/: it
 * parses arguments and configuration, builds the layers (registry,
 * reservoir, connections, listeners, stats), runs the dispatch loop and
 * arms one timerfd at the earliest deadline any layer asks for.  A signalfd
 * takes SIGHUP (reload) and SIGTERM/SIGINT.  Everything is opened before
 * privileges are dropped and the seccomp allow-list is loaded; the
 * reservoir's refill thread starts after, under the same filter.
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
#include "clock.h"
#include "control.h"
#include "dispatch.h"
#include "listen.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "privs.h"
#include "registry.h"
#include "reservoir.h"
#include "sandbox.h"
#include "stats.h"

#define DEFAULT_CONFIG SYSCONFDIR "/virtseed/virtseed-egd.conf"
#define DEFAULT_STATS RUNSTATEDIR "/virtseed-egd/stats.sock"
#define FD_RESERVE 64            /* fds besides clients and listeners */

struct server {
	const char *conf_path;
	bool conf_given;                /* --config: the file must exist */
	bool stop;
	struct dispatch dispatch;
	struct registry reg;
	struct reservoir res;
	struct clients clients;
	struct listeners listeners;
	struct stats stats;
	struct control control;
	struct dispatch_file signal_file, timer_file, reservoir_file;
	uint64_t timer_usec;            /* armed deadline, 0 = disarmed */
};

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
	       "  -t --check-config     validate the configuration, print [global], exit\n"
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

	opterr = 0; /* our own messages, below */
	while (r >= 0 && (c = getopt_long(argc, argv, ":c:l:C:s:S:u:tv:h", opts, NULL)) >= 0) {
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
				return log_errno(-EINVAL, "Invalid value '%s' for --log-level: allowed "
						 "emerg, alert, crit, err, warning, notice, info, "
						 "debug or 0 to 7", optarg);
			log_max_level = r;
			break;
		case 'h': help(); exit(EXIT_SUCCESS);
		case ':':
			return log_errno(-EINVAL, "Option %s needs a value", argv[optind - 1]);
		default:
			return log_errno(-EINVAL, "Unknown option '%.*s'",
					 (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
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
			return log_errno(r, "Invalid value '%s' for --listen: allowed %s", a->listen[i],
					 EGD_CONF_LISTEN_WORDS);
	}
	for (size_t i = 0; i < a->n_connect; i++) {
		r = egd_conf_add_listener(c, a->connect[i], true, NULL, 0);
		if (r < 0)
			return log_errno(r, "Invalid value '%s' for --connect: allowed %s",
					 a->connect[i], EGD_CONF_LISTEN_WORDS);
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

/*
 * Room for max-clients connections plus listeners, stats readers and
 * sources; if the hard limit is lower, @c->max_clients is lowered to fit.
 */
static void fit_fd_limit(struct egd_conf *c)
{
	rlim_t want = (rlim_t)c->max_clients + MAX_LISTENERS + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_cur < MIN(want, rl.rlim_max)) {
		struct rlimit raised = { MIN(want, rl.rlim_max), rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl = raised;
		else
			log_warning_errno(-errno, "Failed to raise RLIMIT_NOFILE: %m");
	}
	if (rl.rlim_cur < want) {
		c->max_clients = (unsigned)MAX(rl.rlim_cur, MAX_LISTENERS + FD_RESERVE + 1) -
				 MAX_LISTENERS - FD_RESERVE;
		log_warning("RLIMIT_NOFILE is %llu: serving at most %u clients.",
			    (unsigned long long)rl.rlim_cur, c->max_clients);
	}
}

static int reload(struct server *s)
{
	struct egd_conf c;
	int r;

	log_info("Reloading '%s'.", s->conf_path);
	r = load_config(s->conf_path, s->conf_given, &c);
	if (r >= 0)
		r = finish_config(s->conf_path, &c);
	if (r >= 0) {
		fit_fd_limit(&c);
		r = registry_reload(&s->reg, &c, now_usec());
		if (r < 0)
			log_errno(r, "Failed to apply the new configuration: %m");
	}
	if (r < 0)
		log_error("Keeping the previous configuration.");
	egd_conf_done(&c);
	return 0;
}

static void on_signal(struct dispatch_file *f, uint32_t events, uint64_t now)
{
	struct server *s = container_of(f, struct server, signal_file);
	struct signalfd_siginfo si;

	while (read(f->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGHUP) {
			s->stop = true;
			return;
		}
		(void)notify_send("RELOADING=1");
		(void)reload(s);
		(void)notify_send("READY=1");
	}
}

static void on_timer(struct dispatch_file *f, uint32_t events, uint64_t now)
{
	struct server *s = container_of(f, struct server, timer_file);
	uint64_t expirations;

	(void)!read(f->fd, &expirations, sizeof(expirations));
	s->timer_usec = 0;
	listeners_tick(&s->listeners, now);
	stats_tick(&s->stats, now);
	clients_run(&s->clients, now);
}

/* The refill thread brought bytes that connections were waiting for. */
static void on_reservoir(struct dispatch_file *f, uint32_t events, uint64_t now)
{
	struct server *s = container_of(f, struct server, reservoir_file);

	reservoir_ack(&s->res);
	clients_run(&s->clients, now);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : MIN(a, b);
}

/* One timerfd for the scheduler, reconnects and paused listeners. */
static int arm(struct server *s, uint64_t now)
{
	uint64_t next = earliest(clients_next_usec(&s->clients, now),
				 listeners_next_usec(&s->listeners));
	struct itimerspec its = {};

	next = earliest(next, s->stats.paused_until);
	if (next == s->timer_usec)
		return 0;
	s->timer_usec = next;
	its.it_value.tv_sec = (time_t)(next / USEC_PER_SEC);
	its.it_value.tv_nsec = (long)(next % USEC_PER_SEC) * 1000;
	if (timerfd_settime(s->timer_file.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

static int setup_fds(struct server *s)
{
	sigset_t mask;
	int fd, r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	(void)signal(SIGPIPE, SIG_IGN);
	r = dispatch_init(&s->dispatch);
	if (r < 0)
		return r;
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0 || (r = dispatch_add(&s->dispatch, &s->signal_file, fd, EPOLLIN, on_signal)) < 0)
		return fd < 0 ? -errno : (safe_close(fd), r);
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || (r = dispatch_add(&s->dispatch, &s->timer_file, fd, EPOLLIN, on_timer)) < 0)
		return fd < 0 ? -errno : (safe_close(fd), r);
	return 0;
}

static int loop(struct server *s)
{
	while (!s->stop) {
		int r = dispatch_run(&s->dispatch, -1, now_usec);

		if (r < 0)
			return log_errno(r, "epoll_wait() failed: %m");
		/* Closed clients may be named by events later in a batch: free now. */
		clients_reap(&s->clients);
		r = arm(s, now_usec());
		if (r < 0)
			return log_errno(r, "Failed to arm the timer: %m");
	}
	return 0;
}

static void close_file(struct dispatch *d, struct dispatch_file *f)
{
	int fd = f->fd;

	dispatch_remove(d, f);
	safe_close(fd);
}

static void server_done(struct server *s)
{
	clients_done(&s->clients, now_usec());
	control_close(&s->control);
	listeners_close(&s->listeners);
	stats_close(&s->stats);
	reservoir_done(&s->res);
	registry_done(&s->reg);
	close_file(&s->dispatch, &s->signal_file);
	close_file(&s->dispatch, &s->timer_file);
	s->reservoir_file.fd = -EBADF;
	dispatch_done(&s->dispatch);
}

/* What the loop and the refill thread need; lib/sandbox.c adds what the sources need. */
static const char *const syscalls[] = {
	"read", "write", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg", "accept4",
	"close", "epoll_wait", "epoll_pwait", "epoll_ctl", "timerfd_settime", "clock_gettime",
	"getrandom", "openat", "fstat", "newfstatat", "lseek", "getsockopt", "setsockopt",
	"socket", "connect", "getpid", "brk", "mmap", "munmap", "mremap", "madvise",
	"exit_group", "exit", "rt_sigreturn", "rt_sigprocmask", "fcntl", "unlink", "poll",
	"ppoll", "futex", "getpeername", "shutdown", "gettid", "clock_nanosleep",
	"prlimit64", "getrlimit", "setrlimit",
};

static int drop_privileges(struct server *s)
{
	const char *user = s->reg.conf.user;
	int r = 0;

	if (geteuid() == 0 || user[0]) {
		r = privs_drop(user[0] ? user : NULL, false);
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

	snprintf(dir, sizeof(dir), "%s", s->reg.conf.stats);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755);
	}
	s->stats = (struct stats){ .file.fd = -EBADF, .dispatch = &s->dispatch, .reg = &s->reg,
				   .clients = &s->clients, .res = &s->res };
	if (stats_open(&s->stats, s->reg.conf.stats) < 0)
		log_warning("Continuing without statistics socket.");
	return 0;
}

static int server_setup(struct server *s, struct egd_conf *conf)
{
	bool activated;
	int r;

	fit_fd_limit(conf);
	r = setup_fds(s);
	if (r < 0)
		return log_errno(r, "Failed to set up epoll, signals and timer: %m");
	r = registry_init(&s->reg, conf, now_usec());
	if (r < 0)
		return log_errno(r, "Failed to build the class tree: %m");
	r = reservoir_init(&s->res, (const char (*)[EGD_CONF_MAX_VALUE])s->reg.conf.sources,
			   s->reg.conf.n_sources);
	if (r < 0)
		return r;
	r = dispatch_add(&s->dispatch, &s->reservoir_file, s->res.event_fd, EPOLLIN, on_reservoir);
	if (r < 0)
		return log_errno(r, "Failed to watch the reservoir: %m");
	clients_init(&s->clients, &s->dispatch, &s->reg, &s->res);
	r = listeners_open(&s->listeners, &s->dispatch, &s->clients, &s->reg, &activated);
	if (r >= 0)
		r = control_open(&s->control, &s->dispatch, &s->reg, &s->clients);
	if (r >= 0)
		r = stats_setup(s);
	if (r >= 0)
		r = drop_privileges(s);
	if (r >= 0)
		r = reservoir_start(&s->res);
	if (r < 0)
		return r;
	listeners_tick(&s->listeners, now_usec());
	return arm(s, now_usec());
}

int main(int argc, char **argv)
{
	static struct server server = {
		.signal_file.fd = -EBADF, .timer_file.fd = -EBADF, .reservoir_file.fd = -EBADF,
		.stats.file.fd = -EBADF, .dispatch.epoll_fd = -EBADF, .res.event_fd = -EBADF,
	};
	struct args a = { .config = DEFAULT_CONFIG };
	struct server *s = &server;
	struct egd_conf conf;
	int r;

	r = parse_args(argc, argv, &a);
	if (r < 0)
		return EXIT_FAILURE;
	if (a.stats_client)
		return stats_print(a.stats_path ? a.stats_path : DEFAULT_STATS) < 0;
	s->conf_path = a.config;
	s->conf_given = a.config_given;
	r = load_config(a.config, a.config_given, &conf);
	if (r >= 0)
		r = apply_args(&a, &conf);
	if (r >= 0)
		r = finish_config(a.config, &conf);
	if (r >= 0 && a.check)
		egd_conf_format_global(&conf, stdout);
	if (r < 0 || a.check) {
		egd_conf_done(&conf);
		return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	r = server_setup(s, &conf);
	if (r >= 0) {
		log_info("Serving %zu listener(s), budget %llu bytes/s, source %s.",
			 s->listeners.n, (unsigned long long)s->reg.conf.root.rate,
			 s->reg.conf.sources[0]);
		(void)notify_send("READY=1\nSTATUS=Serving entropy");
		r = loop(s);
	}
	(void)notify_send("STOPPING=1");
	egd_conf_done(&conf);
	server_done(s);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
