/*
 * /dev/hwrng through a reader thread.  A stalled backend blocks every read of
 * the device, even with O_NONBLOCK (the core's reading_mutex), so the agent
 * never reads it itself: it posts a request to the thread and waits for the
 * answer on a pipe with a deadline.  A request that missed its deadline stays
 * posted; when the device answers, the pipe becomes readable, which is how the
 * caller learns that the source is back.  Messages are <= PIPE_BUF: atomic.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "source.h"

#define HWRNG_MAX_READ 256
#define HWRNG_DEFAULT_PATH "/dev/hwrng"

struct hwrng_msg {
	int32_t len; /* bytes, or -errno */
	uint8_t data[HWRNG_MAX_READ];
};

struct hwrng {
	int dev_fd, req_rd, req_wr, ans_rd, ans_wr;
	pthread_t thread;
	bool pending, started;
};

static void *hwrng_thread(void *arg)
{
	struct hwrng *h = arg;
	struct hwrng_msg msg;
	uint32_t want;

	while (read(h->req_rd, &want, sizeof(want)) == sizeof(want)) {
		ssize_t k = read(h->dev_fd, msg.data, MIN(want, HWRNG_MAX_READ));

		msg.len = k < 0 ? -errno : k == 0 ? -EIO : (int32_t)k;
		if (write(h->ans_wr, &msg, sizeof(msg.len) + (size_t)MAX(msg.len, 0)) < 0)
			break;
		explicit_bzero(&msg, sizeof(msg));
	}
	return NULL;
}

static int hwrng_pipes(struct hwrng *h)
{
	int req[2], ans[2];

	if (pipe2(req, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(ans, O_CLOEXEC | O_NONBLOCK) < 0) {
		int r = -errno;

		close(req[0]);
		close(req[1]);
		return r;
	}
	h->req_rd = req[0];
	h->req_wr = req[1];
	h->ans_rd = ans[0];
	h->ans_wr = ans[1];
	return 0;
}

static int hwrng_open(struct source *s)
{
	const char *path = s->path ? s->path : HWRNG_DEFAULT_PATH;
	struct hwrng *h;
	int r;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	/* O_NONBLOCK only so that opening a FIFO does not wait for a writer. */
	h->dev_fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (h->dev_fd < 0) {
		r = -errno;
		free(h);
		return r;
	}
	r = fcntl(h->dev_fd, F_SETFL, 0) < 0 ? -errno : hwrng_pipes(h);
	if (r < 0) {
		close(h->dev_fd);
		free(h);
		return r;
	}
	s->data = h;
	s->fd = h->ans_rd;
	return 0;
}

static ssize_t hwrng_collect(struct hwrng *h, uint8_t *buf, size_t n)
{
	struct hwrng_msg msg;
	ssize_t k = read(h->ans_rd, &msg, sizeof(msg));

	if (k < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	h->pending = false;
	if (k < (ssize_t)sizeof(msg.len) || msg.len > HWRNG_MAX_READ ||
	    (msg.len > 0 && k != (ssize_t)sizeof(msg.len) + msg.len))
		return -EIO;
	/* An answer to an earlier, larger request is cut to what fits. */
	k = msg.len > 0 ? MIN((ssize_t)n, (ssize_t)msg.len) : msg.len;
	if (k > 0)
		memcpy(buf, msg.data, (size_t)k);
	explicit_bzero(&msg, sizeof(msg));
	return k;
}

static ssize_t hwrng_read(struct source *s, uint8_t *buf, size_t n)
{
	struct hwrng *h = s->data;
	struct pollfd pfd = { .fd = h->ans_rd, .events = POLLIN };
	int timeout = (int)s->timeout_msec;

	n = MIN(n, HWRNG_MAX_READ);
	/* Started on first use, after the caller dropped its privileges. */
	if (!h->started) {
		int r = -pthread_create(&h->thread, NULL, hwrng_thread, h);

		if (r < 0)
			return r;
		h->started = true;
	}
	if (!h->pending) {
		uint32_t want = (uint32_t)n;

		if (write(h->req_wr, &want, sizeof(want)) != sizeof(want))
			return -EIO;
		h->pending = true;
	} else {
		/* Still waiting for an earlier request: do not wait again. */
		timeout = 0;
	}
	if (poll(&pfd, 1, timeout) < 0)
		return -errno;
	if (!(pfd.revents & POLLIN))
		return -ETIMEDOUT;
	return hwrng_collect(h, buf, n);
}

/* A late answer: dropped, so that the pipe does not stay readable. */
static int hwrng_drain(struct source *s)
{
	struct hwrng *h = s->data;
	uint8_t sink[HWRNG_MAX_READ];

	if (h && h->pending)
		(void)hwrng_collect(h, sink, sizeof(sink));
	explicit_bzero(sink, sizeof(sink));
	return 0;
}

/* The thread may be stuck in the device forever: cancel, never join. */
static void hwrng_close(struct source *s)
{
	struct hwrng *h = s->data;

	if (!h)
		return;
	if (h->started) {
		pthread_cancel(h->thread);
		pthread_detach(h->thread);
	} else {
		close(h->dev_fd);
		close(h->req_rd);
		close(h->ans_wr);
	}
	close(h->req_wr);
	close(h->ans_rd);
	if (!h->started)
		free(h);
	s->data = NULL;
	s->fd = -1;
}

const struct source_ops source_hwrng_ops = {
	.name = "hwrng",
	.open = hwrng_open,
	.read = hwrng_read,
	.close = hwrng_close,
	.drain = hwrng_drain,
	.from_host = true,
};
