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
 * output buffer is full.  A QEMU connection starts with an unrequested
 * prefix queued like a 0x02 request, so it waits for tokens like any reply.
 * Bytes come from the reservoir, which never blocks: a connection that finds
 * it dry waits for the reservoir's event like it waits for tokens.
 * Calls only downward: registry (guest references), reservoir, dispatch.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "log.h"
#include "macro.h"

#define LOG_INTERVAL_USEC (10 * USEC_PER_SEC)

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

static bool is_block(const struct pending *p)
{
	return p->cmd == EGD_CMD_READ_BLOCK || p->cmd == PENDING_PREFIX;
}

/* Per-client events are logged at most once per LOG_INTERVAL_USEC. */
static bool log_ratelimit(struct clients *set)
{
	unsigned suppressed = 0;

	if (!ratelimit_below(&set->log_rl, now_usec(), &suppressed))
		return false;
	if (suppressed)
		log_notice("(%u similar messages suppressed)", suppressed);
	return true;
}

static struct pending *head(struct client *c)
{
	return c->q_len ? &c->q[c->q_head] : NULL;
}

static void pop(struct client *c)
{
	c->steps++;
	c->q_head = (c->q_head + 1) % CLIENT_MAX_PENDING;
	c->q_len--;
}

/* Copy up to @n granted bytes into the 0x02 requests at the head. */
static size_t fill_blocking(struct client *c, size_t n, uint64_t now)
{
	size_t done = 0;
	struct pending *p;

	while (done < n && (p = head(c)) && is_block(p)) {
		size_t want = MIN(n - done, (size_t)p->left);
		uint8_t *dst = out_reserve(c, want);
		size_t k;

		if (!dst)
			break;
		k = reservoir_get(c->set->res, dst, want);
		c->out_len += k;
		p->left -= (uint16_t)k;
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

		if (!is_block(p))
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
		k = htb_take(&c->node, MIN(p->left, reservoir_avail(c->set->res)), true, now);
		k = reservoir_get(c->set->res, dst + 1, k);
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
		if (is_block(p)) {
			size_t want = MIN(backlog(c), reservoir_avail(c->set->res)), k;

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
		c->steps++;
	}
	c->out_pos = c->out_len = 0;
	return 0;
}

static int client_write_cmd(struct client *c, const struct egd_req *req)
{
	switch (c->set->reg->conf.write_mode) {
	case EGD_WRITE_REFUSE:
		c->set->refused_write++;
		return -EPERM;
	case EGD_WRITE_MIX:
		reservoir_mix(c->set->res, req->data, req->len);
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
		    c->demand + req.len > c->set->reg->conf.max_demand) {
			r = 0;
			break;
		}
		off += (size_t)r;
		account(c, 0, 1);
		if (req.cmd == EGD_CMD_WRITE) {
			r = client_write_cmd(c, &req);
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
	c->steps += off;
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

	if (c->eof && c->q_len == 0 && out_queued(c) == 0)
		return -ECONNRESET;
	/* Backpressure: a full input buffer could not be parsed (caps reached). */
	if (!c->eof && c->in_len < CLIENT_IN_SIZE)
		want |= EPOLLIN | EPOLLRDHUP;
	if (out_queued(c) > 0)
		want |= EPOLLOUT;
	(void)dispatch_modify(c->set->dispatch, &c->file, want);
	htb_set_backlog(&c->set->htb, &c->node, backlog(c), now);
	return 0;
}

/* Returns < 0 when the connection must go. */
/*
 * Serve, send, parse until nothing moves: room made by a flush may let the
 * head 0x00/0x01/0x04 be answered, served requests let more be parsed, and
 * no later event would come for either.  It ends: input is only read
 * before, and every round pops a request, parses input or sends bytes.
 */
static int process(struct client *c, uint64_t now)
{
	uint64_t before;
	int r;

	do {
		before = c->steps;
		advance(c, now);
		r = flush(c);
		if (r < 0)
			return r;
		r = parse(c, now);
		if (r < 0)
			return r;
	} while (c->steps != before);
	return update(c, now);
}

static void drop(struct client *c, int r, uint64_t now)
{
	struct clients *set = c->set;

	if (r == -EBADMSG || r == -EPERM) {
		set->dropped_protocol++;
		if (log_ratelimit(set))
			log_notice("Dropping %s connection of guest '%s' (pid %ld): %s",
				   c->qemu ? "QEMU" : "EGD", c->guest->name, (long)c->peer_pid,
				   r == -EBADMSG ? "protocol violation" : "client write refused");
	} else {
		log_debug_errno(r, "Connection of guest '%s' closed: %m", c->guest->name);
	}
	(void)client_close(c, now);
}

static void client_event(struct dispatch_file *f, uint32_t events, uint64_t now)
{
	struct client *c = container_of(f, struct client, file);
	int r = 0;

	/* Both directions shut (a peer that closed, not one that only stopped
	 * sending): nobody is left to read replies, so nothing more is served. */
	if (events & (EPOLLHUP | EPOLLERR))
		r = -ECONNRESET;
	else if (events & (EPOLLIN | EPOLLRDHUP))
		r = do_read(c, now);
	if (r == 0)
		r = process(c, now);
	if (r < 0)
		drop(c, r, now);
}

/* Scheduler callback: @n borrowed bytes granted to this connection. */
static size_t serve(struct htb_node *leaf, size_t n, void *userdata)
{
	struct client *c = (struct client *)leaf;
	struct clients *set = userdata;
	size_t k = fill_blocking(c, n, set->run_usec);

	if (k < n)
		set->starved = set->starved || reservoir_avail(set->res) == 0;
	if (k > 0 && !c->dirty) {
		c->dirty = true;
		c->dirty_next = set->dirty;
		set->dirty = c;
	}
	return k;
}

/**
 * clients_run() - one scheduling run: connections waiting for tokens or for
 * bytes get what the tree grants, then flush.
 */
void clients_run(struct clients *set, uint64_t now)
{
	uint64_t next = 0;

	set->starved = false;
	set->run_usec = now;
	(void)htb_run(&set->htb, now, serve, set, &next);
	set->next_run_usec = next;
	while (set->dirty) {
		struct client *c = set->dirty;
		int r;

		set->dirty = c->dirty_next;
		c->dirty = false;
		if (c->fd < 0)
			continue;
		r = process(c, now);
		if (r < 0)
			drop(c, r, now);
	}
	if (set->htb.ring && !set->next_run_usec)
		set->next_run_usec = now + HTB_TICK_USEC;
}

/*
 * When the next run is due: 0 if nothing waits for tokens, or if what waits
 * waits for bytes (the reservoir's event starts the run then).
 */
uint64_t clients_next_usec(struct clients *set, uint64_t now)
{
	if (!set->htb.ring || set->starved)
		return 0;
	if (!set->next_run_usec || set->next_run_usec < now)
		set->next_run_usec = now + HTB_TICK_USEC;
	return set->next_run_usec;
}

void clients_init(struct clients *set, struct dispatch *d, struct registry *reg,
		  struct reservoir *res)
{
	*set = (struct clients){ .dispatch = d, .reg = reg, .res = res,
				 .log_rl = RATELIMIT_INIT(LOG_INTERVAL_USEC, 1) };
}

static void queue_prefix(struct client *c, uint64_t now)
{
	size_t n = registry_prefix(c->set->reg, c->guest, now);

	if (n == 0)
		return;
	c->q[c->q_head] = (struct pending){ .cmd = PENDING_PREFIX, .left = (uint16_t)n };
	c->q_len = 1;
	c->demand = n;
}

/**
 * client_new() - serve connected socket @fd as a connection of guest @g (a
 * reference is taken; @fd is owned by the connection from now on, even on
 * failure).  With @qemu, an unrequested prefix answers the requests QEMU
 * had in flight when its previous connection died (QEMU never sends them
 * again); it waits for tokens like a reply (registry_prefix() says how much).
 * Return: 0, or -errno (@fd is closed).
 */
int client_new(struct clients *set, int fd, struct egd_guest *g, bool qemu, uint64_t now,
	       struct client **ret)
{
	struct client *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return safe_close(fd), -ENOMEM;
	htb_node_init_member(&c->node, &g->node);
	r = dispatch_add(set->dispatch, &c->file, fd, EPOLLIN | EPOLLRDHUP, client_event);
	if (r < 0)
		return safe_close(fd), free(c), r;
	c->fd = fd;
	c->set = set;
	c->guest = registry_ref(g);
	c->qemu = qemu;
	c->next = set->list;
	if (set->list)
		set->list->prev = c;
	set->list = c;
	set->n++;
	if (qemu)
		queue_prefix(c, now);
	r = process(c, now);
	if (r < 0)
		drop(c, r, now);
	if (ret)
		*ret = r < 0 ? NULL : c;
	return r < 0 ? r : 0;
}

/*
 * A guest declared with its QEMU's pid (libvirt's connect mode): that QEMU connected when its
 * process started, before libvirt said so, and was then nobody's.  Its open connections
 * become the guest's, as QEMU connections; their queued requests keep their place.
 */
void clients_claim_pid(struct clients *set, pid_t pid, struct egd_guest *g, uint64_t now)
{
	for (struct client *c = set->list; c && pid > 0; c = c->next) {
		struct egd_guest *old = c->guest;

		if (c->fd < 0 || c->peer_pid != pid || old == g)
			continue;
		htb_remove(&set->htb, &c->node, now);
		old->throttled_usec += c->node.throttled_usec;
		old->class->throttled_usec += c->node.throttled_usec;
		htb_node_init_member(&c->node, &g->node);
		c->guest = registry_ref(g);
		c->qemu = true;
		registry_unref(set->reg, old);
		htb_set_backlog(&set->htb, &c->node, backlog(c), now);
		log_info("Connection of pid %ld is now guest '%s's (declared with that QEMU pid).",
			 (long)pid, g->name);
	}
}

/* Close now, free after the current dispatch batch: later events may still name @c. */
struct client *client_close(struct client *c, uint64_t now)
{
	struct clients *set;
	struct egd_guest *g;

	if (!c || c->fd < 0)
		return NULL;
	set = c->set;
	g = c->guest;
	htb_remove(&set->htb, &c->node, now);
	g->throttled_usec += c->node.throttled_usec;
	g->class->throttled_usec += c->node.throttled_usec;
	g->unanswered = c->demand + out_queued(c);
	g->closed_once = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		set->list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	set->n--;
	if (c->on_close)
		c->on_close(c, c->userdata, now);
	c->guest = NULL;
	registry_unref(set->reg, g);
	dispatch_remove(set->dispatch, &c->file);
	c->fd = safe_close(c->fd);
	explicit_bzero(c->out, sizeof(c->out));
	c->next = set->closed;
	set->closed = c;
	return NULL;
}

void clients_reap(struct clients *set)
{
	while (set->closed) {
		struct client *c = set->closed;

		set->closed = c->next;
		free(c);
	}
}

void clients_done(struct clients *set, uint64_t now)
{
	while (set->list)
		(void)client_close(set->list, now);
	clients_reap(set);
}
