/*
 * One EGD connection.  Requests are parsed as they arrive and queued; replies
 * are produced strictly from the head of the queue into one output buffer,
 * so the byte stream is in request order whatever mix of commands is
 * pipelined.  0x02 bytes are granted by the scheduler (own rate at once,
 * borrowed bytes by DRR turns) and may go out in pieces: QEMU completes its
 * requests by byte count.  Bytes are never filler and never served twice:
 * the pool erases what it hands out and the output buffer what was sent.
 * Backpressure: reading stops when the queue or the demand cap is full and
 * the input buffer holds a whole unparsed request; serving stops while the
 * output buffer is full.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "macro.h"

static size_t out_queued(const struct client *c)
{
	return c->out_len - c->out_pos;
}

/* Room for @n more bytes at the end of the output, or NULL. */
static uint8_t *out_reserve(struct client *c, size_t n)
{
	if (out_queued(c) + n > CLIENT_OUT_SIZE)
		return NULL;
	if (c->out_len + n > CLIENT_OUT_SIZE) {
		memmove(c->out, c->out + c->out_pos, out_queued(c));
		c->out_len -= c->out_pos;
		c->out_pos = 0;
	}
	return c->out + c->out_len;
}

static void account(struct client *c, size_t bytes, size_t requests)
{
	c->guest->bytes += bytes;
	c->guest->class->bytes += bytes;
	c->guest->requests += requests;
	c->guest->class->requests += requests;
}

static struct pending *head(struct client *c)
{
	return c->q_len ? &c->q[c->q_head] : NULL;
}

static void pop(struct client *c)
{
	c->q_head = (c->q_head + 1) % CLIENT_MAX_PENDING;
	c->q_len--;
}

/* Copy up to @n granted bytes into the 0x02 requests at the head. */
static size_t fill_blocking(struct client *c, size_t n, uint64_t now)
{
	size_t done = 0;
	struct pending *p;

	while (done < n && (p = head(c)) && p->cmd == EGD_CMD_READ_BLOCK) {
		size_t want = MIN(n - done, (size_t)p->left);
		uint8_t *dst = out_reserve(c, want);
		size_t k;

		if (!dst)
			break;
		k = pool_get(c->server, dst, want, now);
		c->out_len += k;
		p->left -= (uint8_t)k;
		c->demand -= k;
		done += k;
		if (p->left == 0)
			pop(c);
		if (k < want)
			break;
	}
	account(c, done, 0);
	return done;
}

/* Bytes the head 0x02 requests could take now, bounded by output room. */
static size_t backlog(struct client *c)
{
	size_t sum = 0;

	for (size_t i = 0; i < c->q_len; i++) {
		const struct pending *p = &c->q[(c->q_head + i) % CLIENT_MAX_PENDING];

		if (p->cmd != EGD_CMD_READ_BLOCK)
			break;
		sum += p->left;
	}
	return MIN(sum, CLIENT_OUT_SIZE - out_queued(c));
}

/* Answer a head request that never waits for tokens.  False if no output room. */
static bool answer_now(struct client *c, struct pending *p, uint64_t now)
{
	uint8_t *dst = out_reserve(c, MAX((size_t)p->left + 1, (size_t)EGD_MAX_PID_REPLY));
	size_t k;
	ssize_t n;

	if (!dst)
		return false;
	switch (p->cmd) {
	case EGD_CMD_AVAIL:
		/* Unit: bits this connection could be served at once (bytes * 8). */
		k = htb_peek(&c->node, UINT32_MAX / 8, now);
		n = egd_build_avail(dst, EGD_AVAIL_REPLY, (uint32_t)(k * 8));
		break;
	case EGD_CMD_PID:
		n = egd_build_pid(dst, EGD_MAX_PID_REPLY, (unsigned long)getpid());
		break;
	default: /* EGD_CMD_READ_NB */
		k = htb_take(&c->node, p->left, true, now);
		k = pool_get(c->server, dst + 1, k, now);
		dst[0] = (uint8_t)k;
		n = (ssize_t)k + 1;
		c->demand -= p->left;
		account(c, k, 0);
		break;
	}
	c->out_len += (size_t)n;
	pop(c);
	return true;
}

/* Serve from the head as far as possible without the scheduler. */
static void advance(struct client *c, uint64_t now)
{
	struct pending *p;

	while ((p = head(c))) {
		if (p->cmd == EGD_CMD_READ_BLOCK) {
			size_t want = backlog(c), k;

			if (p->left == 0) {
				pop(c);
				continue;
			}
			k = htb_take(&c->node, want, false, now);
			if (k == 0 || fill_blocking(c, k, now) < want)
				break;
		} else if (!answer_now(c, p, now)) {
			break;
		}
	}
}

static int flush(struct client *c)
{
	while (out_queued(c) > 0) {
		ssize_t k = send(c->fd, c->out + c->out_pos, out_queued(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k < 0)
			return errno == EAGAIN ? 0 : -errno;
		explicit_bzero(c->out + c->out_pos, (size_t)k);
		c->out_pos += (size_t)k;
	}
	c->out_pos = c->out_len = 0;
	return 0;
}

static int client_write_cmd(struct client *c, const struct egd_req *req, uint64_t now)
{
	struct server *s = c->server;

	switch (s->conf.write_mode) {
	case EGD_WRITE_REFUSE:
		s->refused_write++;
		return -EPERM;
	case EGD_WRITE_MIX:
		pool_mix(s, req->data, req->len, now);
		return 0;
	case EGD_WRITE_DISCARD:
		return 0;
	}
	return 0;
}

/* Queue complete requests from the input; stops at the queue and demand caps. */
static int parse(struct client *c, uint64_t now)
{
	size_t off = 0;
	int r = 0;

	while (c->q_len < CLIENT_MAX_PENDING) {
		struct egd_req req;

		r = egd_parse(c->in + off, c->in_len - off, &req);
		if (r <= 0)
			break;
		if ((req.cmd == EGD_CMD_READ_NB || req.cmd == EGD_CMD_READ_BLOCK) &&
		    c->demand + req.len > c->server->conf.max_demand) {
			r = 0;
			break;
		}
		off += (size_t)r;
		account(c, 0, 1);
		if (req.cmd == EGD_CMD_WRITE) {
			r = client_write_cmd(c, &req, now);
			if (r < 0)
				break;
			continue;
		}
		c->q[(c->q_head + c->q_len++) % CLIENT_MAX_PENDING] =
			(struct pending){ .cmd = (uint8_t)req.cmd, .left = req.len };
		if (req.cmd == EGD_CMD_READ_NB || req.cmd == EGD_CMD_READ_BLOCK)
			c->demand += req.len;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return r < 0 ? r : 0;
}

static int do_read(struct client *c, uint64_t now)
{
	ssize_t k;

	if (c->eof || c->in_len == CLIENT_IN_SIZE)
		return 0;
	k = recv(c->fd, c->in + c->in_len, CLIENT_IN_SIZE - c->in_len, MSG_DONTWAIT);
	if (k == 0) {
		/* Half-closed: answer what was asked, then close. */
		c->eof = true;
		return 0;
	}
	if (k < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	c->in_len += (size_t)k;
	return parse(c, now);
}

static int update(struct client *c, uint64_t now)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (c->eof && c->q_len == 0 && out_queued(c) == 0)
		return -ECONNRESET;
	/* Backpressure: a full input buffer could not be parsed (caps reached). */
	if (!c->eof && c->in_len < CLIENT_IN_SIZE)
		want |= EPOLLIN | EPOLLRDHUP;
	if (out_queued(c) > 0)
		want |= EPOLLOUT;
	if (want != c->events) {
		ev = (struct epoll_event){ .events = want, .data.ptr = c };
		if (epoll_ctl(c->server->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
			c->events = want;
	}
	htb_set_backlog(&c->server->htb, &c->node, backlog(c), now);
	return 0;
}

/* Returns < 0 when the connection must go. */
static int process(struct client *c, uint64_t now)
{
	int r;

	advance(c, now);
	r = flush(c);
	if (r < 0)
		return r;
	/* Room made by the flush or by served requests lets more be parsed. */
	r = parse(c, now);
	if (r < 0)
		return r;
	advance(c, now);
	r = flush(c);
	if (r < 0)
		return r;
	return update(c, now);
}

static void drop(struct client *c, int r, uint64_t now)
{
	struct server *s = c->server;

	if (r == -EBADMSG || r == -EPERM) {
		s->dropped_protocol++;
		if (log_ratelimit(s))
			log_notice("Dropping %s connection of guest '%s' (pid %lu): %s",
				   c->qemu ? "QEMU" : "EGD", c->guest->name, c->peer_pid,
				   r == -EBADMSG ? "protocol violation" : "client write refused");
	} else {
		log_debug_errno(r, "Connection of guest '%s' closed: %m", c->guest->name);
	}
	(void)client_close(c, now);
}

void client_event(struct client *c, uint32_t events, uint64_t now)
{
	int r = 0;

	if (c->fd < 0)
		return;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		r = do_read(c, now);
	if (r == 0 && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		r = -ECONNRESET;
	if (r == 0)
		r = process(c, now);
	if (r < 0)
		drop(c, r, now);
}

/* Scheduler callback: @n borrowed bytes granted to this connection. */
size_t client_fill(struct client *c, size_t n, uint64_t now)
{
	size_t k = fill_blocking(c, n, now);

	if (k > 0 && !c->dirty) {
		c->dirty = true;
		c->dirty_next = c->server->dirty;
		c->server->dirty = c;
	}
	return k;
}

void client_after_run(struct client *c, uint64_t now)
{
	int r;

	if (c->fd < 0)
		return;
	r = process(c, now);

	if (r < 0)
		drop(c, r, now);
}

void client_set_params(struct client *c, uint64_t now)
{
	c->node.parent = &c->guest->class->node;
	htb_node_set(&c->node, &c->guest->params, now);
}

static void send_prefix(struct client *c, size_t n, uint64_t now)
{
	uint8_t *dst = out_reserve(c, n);
	size_t k;

	if (!dst)
		return;
	k = pool_get(c->server, dst, n, now);
	c->out_len += k;
	htb_charge(&c->node, k, now);
	account(c, k, 0);
}

/**
 * client_new() - adopt connected socket @fd for guest @g (a reference is taken).
 * With @qemu, an unrequested prefix answers the requests QEMU had in flight
 * when its previous connection died: QEMU never sends them again.
 */
int client_new(struct server *s, int fd, struct egd_guest *g, bool qemu, uint64_t now,
	       struct client **ret)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	_cleanup_(freep) struct client *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = htb_node_init(&c->node, &g->class->node, &g->params, now);
	if (r < 0)
		return r;
	ev.data.ptr = c;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	c->fd = fd;
	c->events = ev.events;
	c->server = s;
	c->guest = g;
	c->qemu = qemu;
	g->clients++;
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->n_clients++;
	if (qemu && s->conf.qemu_prefix > 0)
		send_prefix(c, s->conf.qemu_prefix, now);
	r = flush(c);
	if (r >= 0)
		(void)update(c, now);
	*ret = c;
	c = NULL;
	return 0;
}

/* Close now, free after the current epoll batch: later events may still name @c. */
struct client *client_close(struct client *c, uint64_t now)
{
	struct server *s;

	if (!c || c->fd < 0)
		return NULL;
	s = c->server;
	htb_remove(&s->htb, &c->node, now);
	c->guest->throttled_usec += c->node.throttled_usec;
	c->guest->class->throttled_usec += c->node.throttled_usec;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_clients--;
	if (c->listener) {
		c->listener->client = NULL;
		c->listener->retry_usec = now + RECONNECT_USEC;
	}
	sched_guest_unref(s, c->guest);
	c->guest = NULL;
	c->fd = safe_close(c->fd);
	explicit_bzero(c->out, sizeof(c->out));
	c->next = s->closed;
	s->closed = c;
	return NULL;
}

void clients_reap(struct server *s)
{
	while (s->closed) {
		struct client *c = s->closed;

		s->closed = c->next;
		free(c);
	}
}
