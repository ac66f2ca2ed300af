/*
 * Where connections come from: listening unix and TCP sockets from the
 * configuration or the command line, sockets passed by systemd, and
 * connect-out to QEMU chardevs in server mode (libvirt's bind mode), made
 * again RECONNECT_USEC after each loss.  Which guest a peer is comes from
 * trusted facts only: the listener's guest, a pid registered for a guest,
 * a uid/gid rule on SO_PEERCRED.  /proc/PID/cmdline (QEMU's -name and
 * argv[0]) is any process's to set, so it is used only with peer-cmdline.
 * When fds run out, listeners rest ACCEPT_PAUSE_USEC instead of spinning;
 * a listener that reached accept-rate rests until its next token, so a peer
 * that reconnects in a loop waits in the kernel's backlog, not in our loop.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "listen.h"
#include "log.h"
#include "macro.h"

#define LISTEN_BACKLOG 128
#define LISTEN_FDS_START 3
#define CMDLINE_MAX 4096        /* bytes of /proc/PID/cmdline looked at */
#define LOG_INTERVAL_USEC (10 * USEC_PER_SEC)
#define ACCEPT_BATCH 4          /* connections taken per wake-up: others' events go between */

struct client_id {
	char name[EGD_CONF_MAX_NAME];
	struct egd_guest *guest;        /* trusted: registered pid or uid/gid rule */
	pid_t pid;
	bool qemu;
};

static int take_fd(int *fd)
{
	int r = *fd;

	*fd = -EBADF;
	return r;
}

static int bind_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_(closep) int fd = -EBADF;
	struct stat st;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A stale socket from a previous run; never remove anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		return -errno;
	return take_fd(&fd);
}

static int bind_tcp(const struct address *a)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *res;
	char port[8];
	int fd, one = 1, r;

	snprintf(port, sizeof(port), "%u", a->port);
	r = getaddrinfo(a->host, port, &hints, &res);
	if (r != 0)
		return -EADDRNOTAVAIL;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
	} else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		   bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = -errno;
		fd = safe_close(fd);
	}
	freeaddrinfo(res);
	return fd >= 0 ? fd : r;
}

static void listener_event(struct dispatch_file *f, uint32_t events, uint64_t now);

static int watch(struct listeners *set, int fd, struct listener *l)
{
	unsigned rate = set->reg->conf.accept_rate;

	l->set = set;
	(void)tbucket_init(&l->accepts, rate, MAX(rate, 1), now_usec());
	return dispatch_add(set->dispatch, &l->file, fd, EPOLLIN, listener_event);
}

static int listener_open(struct listeners *set, struct listener *l)
{
	int r = address_parse(l->conf.address, &l->addr);

	if (r < 0)
		return log_errno(r, "Invalid address '%s': %m", l->conf.address);
	l->fd = -EBADF;
	l->file.fd = -EBADF;
	l->set = set;
	if (l->conf.connect)
		return 0;
	r = l->addr.kind == ADDRESS_UNIX ? bind_unix(l->addr.path) : bind_tcp(&l->addr);
	if (r < 0)
		return log_errno(r, "Failed to listen on '%s': %m", l->conf.address);
	l->fd = r;
	return watch(set, l->fd, l);
}

/* sd_listen_fds(3) without libsystemd: LISTEN_PID, LISTEN_FDS from fd 3 on. */
static int listen_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int n;

	if (!pid || !fds || strtoul(pid, NULL, 10) != (unsigned long)getpid())
		return 0;
	n = atoi(fds);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return n < 0 || n > MAX_LISTENERS ? -E2BIG : n;
}

static int open_activated(struct listeners *set, bool *ret_activated)
{
	int n = listen_fds();

	if (n < 0)
		return log_errno(n, "Invalid LISTEN_FDS from systemd: %m");
	for (int i = 0; i < n; i++) {
		struct listener *l = &set->l[set->n];
		int fd = LISTEN_FDS_START + i, r;

		*l = (struct listener){ .fd = fd, .activated = true };
		l->conf.qemu = set->reg->conf.activated_qemu;
		snprintf(l->conf.address, sizeof(l->conf.address), "fd:%d", fd);
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		r = watch(set, fd, l);
		if (r < 0)
			return log_errno(r, "Failed to watch socket %d: %m", fd);
		set->n++;
	}
	*ret_activated = n > 0;
	return 0;
}

int listeners_open(struct listeners *set, struct dispatch *d, struct clients *clients,
		   struct registry *reg, bool *ret_activated)
{
	const struct egd_conf *c = &reg->conf;
	int r;

	*set = (struct listeners){ .dispatch = d, .clients = clients, .reg = reg,
				   .log_rl = RATELIMIT_INIT(LOG_INTERVAL_USEC, 1),
				   .rest_rl = RATELIMIT_INIT(LOG_INTERVAL_USEC, 1) };
	r = open_activated(set, ret_activated);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_listeners; i++) {
		struct listener *l = &set->l[set->n];

		if (set->n >= MAX_LISTENERS)
			return log_errno(-E2BIG, "Too many listeners (max %d).", MAX_LISTENERS);
		*l = (struct listener){ .conf = c->listeners[i] };
		r = listener_open(set, l);
		if (r < 0)
			return r;
		set->n++;
	}
	if (set->n == 0)
		return log_errno(-EDESTADDRREQ,
				 "Nothing to listen on: use --listen, listen = or socket "
				 "activation.");
	return 0;
}

void listeners_close(struct listeners *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct listener *l = &set->l[i];

		if (l->fd >= 0 && !l->activated && l->addr.kind == ADDRESS_UNIX)
			(void)unlink(l->addr.path);
		dispatch_remove(set->dispatch, &l->file);
		l->fd = safe_close(l->fd);
	}
	set->n = 0;
}

/* "-name guest=NAME,..." or "-name NAME,..." from a NUL-separated argv. */
static void qemu_name(const char *argv, size_t n, char *ret, size_t size, bool *ret_qemu)
{
	const char *base = strrchr(argv, '/');

	*ret_qemu = strstr(base ? base + 1 : argv, "qemu") != NULL;
	for (size_t i = 0; i < n; i += strlen(argv + i) + 1) {
		const char *v = argv + i + strlen(argv + i) + 1;
		size_t len;

		if (strcmp(argv + i, "-name") != 0 || v >= argv + n)
			continue;
		if (strncmp(v, "guest=", 6) == 0)
			v += 6;
		len = strcspn(v, ",");
		if (len == 0 || len >= size)
			return;
		/* Names end up in logs and in Prometheus labels: keep them plain. */
		for (size_t k = 0; k < len; k++)
			ret[k] = isalnum((unsigned char)v[k]) || strchr("-_.:", v[k]) ? v[k] : '_';
		ret[len] = '\0';
		return;
	}
}

/* The spoofable fallback: QEMU's -name and argv[0] as the peer set them. */
static void identify_cmdline(struct client_id *id)
{
	char path[64], argv[CMDLINE_MAX + 1];
	_cleanup_(closep) int pfd = -EBADF;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)id->pid);
	pfd = open(path, O_RDONLY | O_CLOEXEC);
	if (pfd < 0)
		return;
	n = read(pfd, argv, CMDLINE_MAX);
	if (n <= 0)
		return;
	argv[n] = '\0';
	qemu_name(argv, (size_t)n, id->name, sizeof(id->name), &id->qemu);
}

static void identify(struct registry *reg, int fd, struct client_id *id)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0)
		return;
	id->pid = cred.pid;
	id->guest = registry_by_pid(reg, cred.pid);
	if (id->guest) {
		id->qemu = true;        /* the pid was registered as that domain's QEMU */
		return;
	}
	id->guest = registry_by_cred(reg, cred.uid, cred.gid);
	if (!id->guest && reg->conf.peer_cmdline)
		identify_cmdline(id);
}

static void adopted_closed(struct client *c, void *userdata, uint64_t now)
{
	struct listener *l = userdata;

	l->client = NULL;
	l->retry_usec = now + RECONNECT_USEC;
}

static int adopt(struct listeners *set, struct listener *l, int fd, uint64_t now,
		 struct client **ret)
{
	struct client_id id = { .name = "unknown" };
	struct registry *reg = set->reg;
	struct egd_guest *g;
	int r;

	if (!l->conf.guest[0] && (l->addr.kind == ADDRESS_UNIX || l->activated))
		identify(reg, fd, &id);
	g = l->conf.guest[0] ? registry_guest(reg, l->conf.guest, now) :
		id.guest ? id.guest : registry_guest(reg, id.name, now);
	if (!g)
		return safe_close(fd), -ENOMEM;
	r = client_new(set->clients, fd, g, l->conf.qemu || id.qemu, now, ret);
	if (r < 0)
		return r;
	(*ret)->peer_pid = id.pid;
	log_debug("New %s connection of guest '%s' (pid %ld) on %s.", (*ret)->qemu ? "QEMU" : "EGD",
		  g->name, (long)id.pid, l->conf.address);
	return 0;
}

/* Watched unless fds ran out or its accept-rate is spent. */
static void update_watch(struct listeners *set, struct listener *l)
{
	if (l->fd >= 0)
		(void)dispatch_modify(set->dispatch, &l->file,
				      set->paused_until || l->resume_usec ? 0 : EPOLLIN);
}

static void pause_listeners(struct listeners *set, int error, uint64_t now)
{
	set->paused_until = now + ACCEPT_PAUSE_USEC;
	for (size_t i = 0; i < set->n; i++)
		update_watch(set, &set->l[i]);
	if (ratelimit_below(&set->log_rl, now, NULL))
		log_warning_errno(error, "accept() failed, not accepting for %llu ms: %m",
				  (unsigned long long)(ACCEPT_PAUSE_USEC / USEC_PER_MSEC));
}

/* A token of accept-rate (kept in step with a reload), else rest until the next. */
static bool accept_allowed(struct listener *l, uint64_t now)
{
	struct listeners *set = l->set;
	unsigned rate = set->reg->conf.accept_rate;

	if (rate == 0)
		return true;
	if (l->accepts.rate != rate)
		tbucket_set(&l->accepts, rate, rate, now);
	if (tbucket_avail(&l->accepts, now) >= 1)
		return true;
	l->resume_usec = now + MAX(tbucket_wait_usec(&l->accepts, now, 1), 1);
	update_watch(set, l);
	set->clients->accept_rested++;
	if (ratelimit_below(&set->rest_rl, now, NULL))
		log_info("Connections on %s come faster than accept-rate=%u a second: "
			 "the others wait in the backlog.", l->conf.address, rate);
	return false;
}

static void listener_event(struct dispatch_file *f, uint32_t events, uint64_t now)
{
	struct listener *l = container_of(f, struct listener, file);
	struct listeners *set = l->set;

	for (unsigned i = 0; i < ACCEPT_BATCH; i++) {
		struct client *c;
		int fd, r;

		if (!accept_allowed(l, now))
			return;
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (accept_exhausted(errno))
				pause_listeners(set, -errno, now);
			else if (errno != EAGAIN && errno != EINTR &&
				 ratelimit_below(&set->log_rl, now, NULL))
				log_warning_errno(-errno, "accept() on %s failed: %m",
						  l->conf.address);
			return;
		}
		tbucket_charge(&l->accepts, now, 1);
		set->clients->accepted++;
		if (set->clients->n >= set->reg->conf.max_clients) {
			set->clients->dropped_limit++;
			if (ratelimit_below(&set->log_rl, now, NULL))
				log_warning("Refusing connection: max-clients=%u reached.",
					    set->reg->conf.max_clients);
			safe_close(fd);
			continue;
		}
		r = adopt(set, l, fd, now, &c);
		if (r < 0 && ratelimit_below(&set->log_rl, now, NULL))
			log_warning_errno(r, "Failed to set up connection: %m");
	}
}

static void reconnect(struct listeners *set, uint64_t now)
{
	for (size_t i = 0; i < set->n; i++) {
		struct listener *l = &set->l[i];
		struct client *c;
		int fd, r;

		if (!l->conf.connect || l->client || l->retry_usec > now)
			continue;
		l->retry_usec = now + RECONNECT_USEC;
		fd = address_connect(&l->addr);
		if (fd < 0) {
			log_debug_errno(fd, "Connecting to %s failed, retrying: %m",
					l->conf.address);
			continue;
		}
		r = adopt(set, l, fd, now, &c);
		if (r < 0)
			continue;
		c->on_close = adopted_closed;
		c->userdata = l;
		l->client = c;
		log_info("Connected to QEMU at %s (guest '%s').", l->conf.address, c->guest->name);
	}
}

/* Timer: resume accepting after a pause, reconnect to QEMU chardevs. */
void listeners_tick(struct listeners *set, uint64_t now)
{
	bool resumed = set->paused_until && now >= set->paused_until;

	if (resumed)
		set->paused_until = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct listener *l = &set->l[i];
		bool rested = l->resume_usec && now >= l->resume_usec;

		if (rested)
			l->resume_usec = 0;
		if (resumed || rested)
			update_watch(set, l);
	}
	reconnect(set, now);
}

uint64_t listeners_next_usec(const struct listeners *set)
{
	uint64_t next = set->paused_until;

	for (size_t i = 0; i < set->n; i++) {
		const struct listener *l = &set->l[i];

		if (l->resume_usec)
			next = next ? MIN(next, l->resume_usec) : l->resume_usec;
		if (l->conf.connect && !l->client)
			next = next ? MIN(next, MAX(l->retry_usec, 1)) : MAX(l->retry_usec, 1);
	}
	return next;
}
