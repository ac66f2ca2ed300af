/*
 * Where connections come from: listening unix and TCP sockets from the
 * configuration or the command line, sockets passed by systemd, and
 * connect-out to QEMU chardevs in server mode (libvirt's bind mode), made
 * again RECONNECT_USEC after each loss.  A peer on a shared unix socket is
 * named by SO_PEERCRED and its QEMU -name; a QEMU peer is one whose argv[0]
 * says qemu, or any peer of a listener marked ",qemu".
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

#include "client.h"
#include "egd.h"
#include "log.h"
#include "macro.h"

#define LISTEN_BACKLOG 128
#define LISTEN_FDS_START 3
#define CMDLINE_MAX 4096        /* bytes of /proc/PID/cmdline looked at */

struct client_id {
	char name[EGD_CONF_MAX_NAME];
	unsigned long pid;
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

static int watch(struct server *s, int fd, struct listener *l)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = (uint64_t)(uintptr_t)l | TAG_LISTENER };

	return epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int listener_open(struct server *s, struct listener *l)
{
	int r = address_parse(l->conf.address, &l->addr);

	if (r < 0)
		return log_errno(r, "Invalid address '%s': %m", l->conf.address);
	l->fd = -EBADF;
	if (l->conf.connect)
		return 0;
	r = l->addr.kind == ADDRESS_UNIX ? bind_unix(l->addr.path) : bind_tcp(&l->addr);
	if (r < 0)
		return log_errno(r, "Failed to listen on '%s': %m", l->conf.address);
	l->fd = r;
	return watch(s, l->fd, l);
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

static int open_activated(struct server *s, bool *ret_activated)
{
	int n = listen_fds();

	if (n < 0)
		return log_errno(n, "Invalid LISTEN_FDS from systemd: %m");
	for (int i = 0; i < n; i++) {
		struct listener *l = &s->listeners[s->n_listeners];
		int fd = LISTEN_FDS_START + i, r;

		*l = (struct listener){ .fd = fd, .activated = true };
		l->conf.qemu = s->conf.activated_qemu;
		snprintf(l->conf.address, sizeof(l->conf.address), "fd:%d", fd);
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		r = watch(s, fd, l);
		if (r < 0)
			return log_errno(r, "Failed to watch socket %d: %m", fd);
		s->n_listeners++;
	}
	*ret_activated = n > 0;
	return 0;
}

int listeners_open(struct server *s, bool *ret_activated)
{
	int r = open_activated(s, ret_activated);

	if (r < 0)
		return r;
	for (size_t i = 0; i < s->conf.n_listeners; i++) {
		struct listener *l = &s->listeners[s->n_listeners];

		if (s->n_listeners >= MAX_LISTENERS)
			return log_errno(-E2BIG, "Too many listeners (max %d).", MAX_LISTENERS);
		*l = (struct listener){ .conf = s->conf.listeners[i] };
		r = listener_open(s, l);
		if (r < 0)
			return r;
		s->n_listeners++;
	}
	if (s->n_listeners == 0)
		return log_errno(-EDESTADDRREQ,
				 "Nothing to listen on: use --listen, listen = or socket "
				 "activation.");
	return 0;
}

void listeners_close(struct server *s)
{
	for (size_t i = 0; i < s->n_listeners; i++) {
		struct listener *l = &s->listeners[i];

		if (l->fd >= 0 && !l->activated && l->addr.kind == ADDRESS_UNIX)
			(void)unlink(l->addr.path);
		l->fd = safe_close(l->fd);
	}
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

static void identify(int fd, struct client_id *id)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char path[64], argv[CMDLINE_MAX + 1];
	_cleanup_(closep) int pfd = -EBADF;
	ssize_t n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0)
		return;
	id->pid = (unsigned long)cred.pid;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)cred.pid);
	pfd = open(path, O_RDONLY | O_CLOEXEC);
	if (pfd < 0)
		return;
	n = read(pfd, argv, CMDLINE_MAX);
	if (n <= 0)
		return;
	argv[n] = '\0';
	qemu_name(argv, (size_t)n, id->name, sizeof(id->name), &id->qemu);
}

static int adopt(struct server *s, struct listener *l, int fd, uint64_t now,
		 struct client **ret)
{
	struct client_id id = { .name = "unknown" };
	struct egd_guest *g;
	int r;

	if (l->addr.kind == ADDRESS_UNIX || l->activated)
		identify(fd, &id);
	g = sched_guest(s, l->conf.guest[0] ? l->conf.guest : id.name, now);
	if (!g)
		return -ENOMEM;
	r = client_new(s, fd, g, l->conf.qemu || id.qemu, now, ret);
	if (r < 0) {
		g->clients++;
		sched_guest_unref(s, g);
		return r;
	}
	(*ret)->peer_pid = id.pid;
	log_debug("New %s connection of guest '%s' (pid %lu) on %s.", (*ret)->qemu ? "QEMU" : "EGD",
		  g->name, id.pid, l->conf.address);
	return 0;
}

void listener_event(struct server *s, struct listener *l, uint64_t now)
{
	for (unsigned i = 0; i < 64; i++) {
		struct client *c;
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), r;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && log_ratelimit(s))
				log_warning_errno(-errno, "accept() on %s failed: %m",
						  l->conf.address);
			return;
		}
		if (s->n_clients >= s->conf.max_clients) {
			s->dropped_limit++;
			if (log_ratelimit(s))
				log_warning("Refusing connection: max-clients=%u reached.",
					    s->conf.max_clients);
			safe_close(fd);
			continue;
		}
		r = adopt(s, l, fd, now, &c);
		if (r < 0) {
			log_warning_errno(r, "Failed to set up connection: %m");
			safe_close(fd);
		}
	}
}

void listeners_reconnect(struct server *s, uint64_t now)
{
	for (size_t i = 0; i < s->n_listeners; i++) {
		struct listener *l = &s->listeners[i];
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
		r = adopt(s, l, fd, now, &c);
		if (r < 0) {
			safe_close(fd);
			continue;
		}
		c->listener = l;
		l->client = c;
		log_info("Connected to QEMU at %s (guest '%s').", l->conf.address, c->guest->name);
	}
}

uint64_t listeners_next_usec(const struct server *s)
{
	uint64_t next = 0;

	for (size_t i = 0; i < s->n_listeners; i++) {
		const struct listener *l = &s->listeners[i];

		if (l->conf.connect && !l->client)
			next = next ? MIN(next, MAX(l->retry_usec, 1)) : MAX(l->retry_usec, 1);
	}
	return next;
}
