/*
 * Statistics on a control unix socket: each connection gets one snapshot in
 * Prometheus text format and is closed.  The snapshot is written from a heap
 * buffer as the reader takes it, so a slow reader never blocks the loop.
 * `virtseed-egd --stats [SOCKET]` is the matching client.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "stats.h"

#define STATS_MAX_CONNS 16      /* concurrent stats readers */

struct statconn {
	struct dispatch_file file;
	struct stats *st;
	int fd;
	char *buf;
	size_t len, pos;
};

static void stats_accept(struct dispatch_file *f, uint32_t events, uint64_t now);

/* Listen on @path; the caller has set st->dispatch and the objects reported on. */
int stats_open(struct stats *st, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_(closep) int fd = -EBADF;
	struct stat sb;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_errno(-ENAMETOOLONG, "Stats socket path '%s': %m", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_errno(-errno, "Failed to create the stats socket: %m");
	/* A stale socket from a previous run; never remove anything else. */
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
		(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		return log_errno(-errno, "Failed to listen on '%s': %m", path);
	r = dispatch_add(st->dispatch, &st->file, fd, EPOLLIN, stats_accept);
	if (r < 0)
		return log_errno(r, "Failed to watch '%s': %m", path);
	st->path = path;
	fd = -EBADF;
	return 0;
}

void stats_close(struct stats *st)
{
	int fd = st->file.fd;

	if (fd < 0)
		return;
	dispatch_remove(st->dispatch, &st->file);
	safe_close(fd);
	(void)unlink(st->path);
}


static void metric(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP virtseed_egd_%s %s\n# TYPE virtseed_egd_%s %s\n",
		name, help, name, type);
}

static void guest_live(struct stats *st, const struct egd_guest *g, uint64_t now,
		       uint64_t *ret_throttled, uint64_t *ret_queue)
{
	*ret_throttled = g->throttled_usec;
	*ret_queue = 0;
	for (struct client *c = st->clients->list; c; c = c->next)
		if (c->guest == g) {
			*ret_throttled += htb_throttled_usec(&c->node, now);
			*ret_queue += c->demand;
		}
}

static void print_guests(struct stats *st, FILE *f, uint64_t now)
{
	struct registry *s = st->reg;

	metric(f, "guest_bytes_total", "counter", "Bytes of entropy served to the guest.");
	for (size_t i = 0; i < s->n_guests; i++)
		fprintf(f, "virtseed_egd_guest_bytes_total{guest=\"%s\",class=\"%s\"} %llu\n",
			s->guests[i]->name, s->guests[i]->class->name,
			(unsigned long long)s->guests[i]->bytes);
	metric(f, "guest_requests_total", "counter", "EGD requests received from the guest.");
	for (size_t i = 0; i < s->n_guests; i++)
		fprintf(f, "virtseed_egd_guest_requests_total{guest=\"%s\",class=\"%s\"} %llu\n",
			s->guests[i]->name, s->guests[i]->class->name,
			(unsigned long long)s->guests[i]->requests);
	metric(f, "guest_throttled_seconds_total", "counter",
	       "Time the guest had requests waiting for tokens or output room.");
	metric(f, "guest_queue_bytes", "gauge", "Bytes asked for and not yet served.");
	metric(f, "guest_connections", "gauge", "Open connections of the guest.");
	for (size_t i = 0; i < s->n_guests; i++) {
		const struct egd_guest *g = s->guests[i];
		uint64_t thr, q;

		guest_live(st, g, now, &thr, &q);
		fprintf(f, "virtseed_egd_guest_throttled_seconds_total{guest=\"%s\",class=\"%s\"} "
			"%.6f\n", g->name, g->class->name, (double)thr / USEC_PER_SEC);
		fprintf(f, "virtseed_egd_guest_queue_bytes{guest=\"%s\",class=\"%s\"} %llu\n",
			g->name, g->class->name, (unsigned long long)q);
		fprintf(f, "virtseed_egd_guest_connections{guest=\"%s\",class=\"%s\"} %u\n",
			g->name, g->class->name, g->refs);
	}
}

static void print_classes(struct stats *st, FILE *f, uint64_t now)
{
	struct registry *s = st->reg;

	metric(f, "class_bytes_total", "counter", "Bytes of entropy served to the class.");
	metric(f, "class_requests_total", "counter", "EGD requests received in the class.");
	metric(f, "class_throttled_seconds_total", "counter", "Sum of its guests' waiting time.");
	metric(f, "class_queue_bytes", "gauge", "Bytes asked for and not yet served.");
	for (size_t i = 0; i < s->n_classes; i++) {
		const struct egd_class *cl = s->classes[i];
		uint64_t thr = cl->throttled_usec, q = 0;

		for (struct client *c = st->clients->list; c; c = c->next)
			if (c->guest->class == cl) {
				thr += htb_throttled_usec(&c->node, now);
				q += c->demand;
			}
		fprintf(f, "virtseed_egd_class_bytes_total{class=\"%s\"} %llu\n", cl->name,
			(unsigned long long)cl->bytes);
		fprintf(f, "virtseed_egd_class_requests_total{class=\"%s\"} %llu\n", cl->name,
			(unsigned long long)cl->requests);
		fprintf(f, "virtseed_egd_class_throttled_seconds_total{class=\"%s\"} %.6f\n",
			cl->name, (double)thr / USEC_PER_SEC);
		fprintf(f, "virtseed_egd_class_queue_bytes{class=\"%s\"} %llu\n", cl->name,
			(unsigned long long)q);
	}
}

static void print_server(struct stats *st, FILE *f)
{
	struct reservoir_source_stat src[EGD_CONF_MAX_SOURCES];
	size_t n = reservoir_stats(st->res, src, ELEMENTSOF(src));

	metric(f, "connections", "gauge", "Open EGD connections.");
	fprintf(f, "virtseed_egd_connections %u\n", st->clients->n);
	metric(f, "dropped_total", "counter", "Connections closed or refused by the distributor.");
	fprintf(f, "virtseed_egd_dropped_total{reason=\"protocol\"} %llu\n",
		(unsigned long long)st->clients->dropped_protocol);
	fprintf(f, "virtseed_egd_dropped_total{reason=\"max-clients\"} %llu\n",
		(unsigned long long)st->clients->dropped_limit);
	metric(f, "accepted_total", "counter", "Connections accepted on listening sockets.");
	fprintf(f, "virtseed_egd_accepted_total %llu\n",
		(unsigned long long)st->clients->accepted);
	metric(f, "accept_rested_total", "counter",
	       "Times a listener reached accept-rate and let connections wait.");
	fprintf(f, "virtseed_egd_accept_rested_total %llu\n",
		(unsigned long long)st->clients->accept_rested);
	metric(f, "source_bytes_total", "counter", "Bytes read from each source.");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "virtseed_egd_source_bytes_total{source=\"%s\",state=\"%s\"} %llu\n",
			src[i].name, source_state_name(src[i].state),
			(unsigned long long)src[i].bytes);
	metric(f, "root_tokens_bytes", "gauge", "Budget left in the root bucket.");
	fprintf(f, "virtseed_egd_root_tokens_bytes %lld\n",
		(long long)(st->reg->root.ctokens.tokens / 1000000));
}

static int snapshot(struct stats *st, uint64_t now, char **ret, size_t *ret_len)
{
	FILE *f = open_memstream(ret, ret_len);

	if (!f)
		return -errno;
	print_guests(st, f, now);
	print_classes(st, f, now);
	print_server(st, f);
	return fclose(f) == 0 ? 0 : -ENOMEM;
}

static void statconn_free(struct statconn *sc)
{
	dispatch_remove(sc->st->dispatch, &sc->file);
	safe_close(sc->fd);
	free(sc->buf);
	sc->st->n_conns--;
	free(sc);
}

static void statconn_event(struct dispatch_file *f, uint32_t events, uint64_t now)
{
	struct statconn *sc = container_of(f, struct statconn, file);
	ssize_t k = send(sc->fd, sc->buf + sc->pos, sc->len - sc->pos, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (k > 0)
		sc->pos += (size_t)k;
	if ((k < 0 && errno != EAGAIN) || sc->pos == sc->len)
		statconn_free(sc);
}

static void stats_accept(struct dispatch_file *f, uint32_t events, uint64_t now)
{
	struct stats *st = container_of(f, struct stats, file);
	struct statconn *sc;
	int fd = accept4(f->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		/* Out of fds: rest like the listeners instead of spinning. */
		if (accept_exhausted(errno)) {
			st->paused_until = now + ACCEPT_PAUSE_USEC;
			(void)dispatch_modify(st->dispatch, &st->file, 0);
		}
		return;
	}
	sc = st->n_conns < STATS_MAX_CONNS ? calloc(1, sizeof(*sc)) : NULL;
	if (!sc) {
		safe_close(fd);
		return;
	}
	st->n_conns++;
	sc->st = st;
	sc->fd = fd;
	sc->file.fd = -EBADF;
	if (snapshot(st, now, &sc->buf, &sc->len) < 0 ||
	    dispatch_add(st->dispatch, &sc->file, fd, EPOLLOUT, statconn_event) < 0)
		statconn_free(sc);
}

void stats_tick(struct stats *st, uint64_t now)
{
	if (st->paused_until && now >= st->paused_until) {
		st->paused_until = 0;
		(void)dispatch_modify(st->dispatch, &st->file, EPOLLIN);
	}
}

/* --stats: print one snapshot to stdout. */
int stats_print(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_(closep) int fd = -EBADF;
	char buf[4096];
	ssize_t k;

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_errno(-ENAMETOOLONG, "'%s': %m", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return log_errno(-errno, "Failed to connect to '%s': %m", path);
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)k, stdout) != (size_t)k)
			return -EIO;
	if (k < 0)
		return log_errno(-errno, "Failed to read '%s': %m", path);
	return fflush(stdout) == 0 ? 0 : -EIO;
}
