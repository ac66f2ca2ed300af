/*
 * The bottom of egd/: an epoll set whose event data is the dispatch_file
 * itself, so dispatch_run() calls f->fn without knowing what kind of fd it
 * is.  Whoever adds a file embeds it in its object and finds the object
 * again with container_of().  A file removed during a batch must stay
 * allocated until the batch ends (its owner frees it after dispatch_run()).
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "dispatch.h"
#include "macro.h"

#define DISPATCH_MAX_EVENTS 1024      /* one wait takes every ready fd: none waits behind a flood */

int dispatch_init(struct dispatch *d)
{
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return d->epoll_fd < 0 ? -errno : 0;
}

void dispatch_done(struct dispatch *d)
{
	d->epoll_fd = safe_close(d->epoll_fd);
}

int dispatch_add(struct dispatch *d, struct dispatch_file *f, int fd, uint32_t events,
		 dispatch_fn fn)
{
	struct epoll_event ev = { .events = events, .data.ptr = f };

	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	f->fd = fd;
	f->events = events;
	f->fn = fn;
	return 0;
}

int dispatch_modify(struct dispatch *d, struct dispatch_file *f, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = f };

	if (f->fd < 0 || events == f->events)
		return 0;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, f->fd, &ev) < 0)
		return -errno;
	f->events = events;
	return 0;
}

/* Stop watching; the fd stays open (its owner closes it).  Later events of this batch
 * are dropped. */
void dispatch_remove(struct dispatch *d, struct dispatch_file *f)
{
	if (f->fd >= 0)
		(void)epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, f->fd, NULL);
	f->fd = -EBADF;
}

/**
 * dispatch_run() - wait up to @timeout_msec (-1: forever) and call the
 * callback of every ready file with the time of @clock after the wait.
 * Return: events handled, or -errno.
 */
int dispatch_run(struct dispatch *d, int timeout_msec, uint64_t (*clock)(void))
{
	struct epoll_event events[DISPATCH_MAX_EVENTS];
	int n = epoll_wait(d->epoll_fd, events, DISPATCH_MAX_EVENTS, timeout_msec);
	uint64_t now;

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	now = clock();
	for (int i = 0; i < n; i++) {
		struct dispatch_file *f = events[i].data.ptr;

		if (f->fd >= 0)
			f->fn(f, events[i].events, now);
	}
	return n;
}
