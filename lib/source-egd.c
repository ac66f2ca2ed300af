/*
 * Client of an EGD server (the host distributor), over a unix or TCP socket,
 * AF_VSOCK, or a virtio-serial port.  Only the blocking read command (0x02)
 * is used.  A reply that misses its deadline is still owed: its bytes are
 * drained and dropped before the next request, so the byte stream never
 * shifts.  A broken connection is dropped and made again on the next read;
 * the backoff between tries is the caller's quarantine.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "clock.h"
#include "egd-proto.h"
#include "macro.h"
#include "source.h"

struct egd_client {
	struct address addr;
	size_t owed;
	uint64_t deadline_usec;
};

static int egd_wait(int fd, short events, uint64_t deadline_usec)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now = now_usec();
	int timeout = now >= deadline_usec ? 0 : (int)((deadline_usec - now + 999) / 1000);
	int r = poll(&pfd, 1, timeout);

	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	return 0;
}

static int egd_connect(struct source *s)
{
	struct egd_client *c = s->data;
	int fd = address_connect(&c->addr);

	if (fd < 0)
		return fd;
	s->fd = fd;
	c->owed = 0;
	return 0;
}

static int egd_open(struct source *s)
{
	struct egd_client *c;
	int r;

	if (!s->path)
		return -EDESTADDRREQ;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = address_parse(s->path, &c->addr);
	if (r < 0) {
		free(c);
		return r;
	}
	s->data = c;
	r = egd_connect(s);
	if (r < 0)
		s->data = (free(c), NULL);
	return r;
}

static void egd_disconnect(struct source *s)
{
	s->fd = safe_close(s->fd);
}

/* Receive n bytes into buf (NULL: drop them); owed counts down as they come. */
static int egd_recv(struct source *s, uint8_t *buf, size_t n)
{
	struct egd_client *c = s->data;
	uint8_t sink[EGD_MAX_READ];
	size_t got = 0;

	while (got < n) {
		int r = egd_wait(s->fd, POLLIN, c->deadline_usec);
		ssize_t k;

		if (r < 0)
			return r;
		k = read(s->fd, buf ? buf + got : sink, MIN(n - got, sizeof(sink)));
		if (k == 0)
			return -ECONNRESET;
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (k > 0) {
			got += (size_t)k;
			c->owed -= (size_t)k;
		}
	}
	explicit_bzero(sink, sizeof(sink));
	return 0;
}

static int egd_send(struct source *s, uint8_t n)
{
	struct egd_client *c = s->data;
	struct egd_req req = { .cmd = EGD_CMD_READ_BLOCK, .len = n };
	uint8_t msg[2];
	ssize_t len = egd_build_request(msg, sizeof(msg), &req);
	ssize_t k;
	int r;

	if (len < 0)
		return (int)len;
	r = egd_wait(s->fd, POLLOUT, c->deadline_usec);
	if (r < 0)
		return r;
	k = send(s->fd, msg, (size_t)len, MSG_NOSIGNAL);
	if (k < 0 && errno == ENOTSOCK)
		k = write(s->fd, msg, (size_t)len);
	if (k < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	if (k != len)
		return -EIO; /* two bytes into an empty buffer are not split */
	c->owed += n;
	return 0;
}

static ssize_t egd_read(struct source *s, uint8_t *buf, size_t n)
{
	struct egd_client *c = s->data;
	int r;

	n = MIN(n, EGD_MAX_READ);
	if (s->fd < 0) {
		r = egd_connect(s);
		if (r < 0)
			return r;
	}
	c->deadline_usec = now_usec() + s->timeout_msec * USEC_PER_MSEC;
	r = egd_recv(s, NULL, c->owed);
	if (r == 0)
		r = egd_send(s, (uint8_t)n);
	if (r == 0)
		r = egd_recv(s, buf, n);
	if (r < 0 && r != -ETIMEDOUT)
		egd_disconnect(s);
	return r < 0 ? r : (ssize_t)n;
}

/* A late reply: drop what is owed without waiting.  Bytes nobody asked for, or the end of
 * the connection, disconnect it: the byte stream can no longer be trusted. */
static int egd_drain(struct source *s)
{
	struct egd_client *c = s->data;
	uint8_t sink[EGD_MAX_READ];
	struct pollfd pfd;
	int r = 0;

	while (c && s->fd >= 0 && c->owed > 0) {
		ssize_t k = read(s->fd, sink, MIN(c->owed, sizeof(sink)));

		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (k <= 0) {
			r = k == 0 ? -ECONNRESET : -errno;
			break;
		}
		c->owed -= (size_t)k;
	}
	explicit_bzero(sink, sizeof(sink));
	pfd = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	if (r == 0 && c && c->owed == 0 && s->fd >= 0 && poll(&pfd, 1, 0) > 0)
		r = -EBADMSG;
	if (r < 0)
		egd_disconnect(s);
	return r;
}

static void egd_close(struct source *s)
{
	egd_disconnect(s);
	free(s->data);
	s->data = NULL;
}

const struct source_ops source_egd_ops = {
	.name = "egd",
	.open = egd_open,
	.read = egd_read,
	.close = egd_close,
	.drain = egd_drain,
	.from_host = true,
};
