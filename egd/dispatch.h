/* epoll where each watched fd carries its own callback (dbus-broker's DispatchFile). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACCEPT_PAUSE_USEC 100000         /* listening sockets rest this long when fds run out */

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct dispatch_file;
typedef void (*dispatch_fn)(struct dispatch_file *f, uint32_t events, uint64_t now_usec);

struct dispatch_file {
	int fd;                 /* -EBADF while not watched */
	uint32_t events;        /* registered with epoll */
	dispatch_fn fn;
};

struct dispatch {
	int epoll_fd;
};

int dispatch_init(struct dispatch *d);
void dispatch_done(struct dispatch *d);
int dispatch_add(struct dispatch *d, struct dispatch_file *f, int fd, uint32_t events,
		 dispatch_fn fn);
int dispatch_modify(struct dispatch *d, struct dispatch_file *f, uint32_t events);
void dispatch_remove(struct dispatch *d, struct dispatch_file *f);
/* accept() failed for want of fds or memory: it would fail again at once. */
static inline bool accept_exhausted(int error)
{
	return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

int dispatch_run(struct dispatch *d, int timeout_msec, uint64_t (*clock)(void));
