/* Where connections come from: listening sockets, systemd's, and connect-out to QEMU. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "address.h"
#include "client.h"
#include "dispatch.h"
#include "egd-conf.h"
#include "registry.h"
#include "tbucket.h"

#define MAX_LISTENERS EGD_CONF_MAX_LISTENERS
#define RECONNECT_USEC (1 * USEC_PER_SEC)

struct listener {
	struct dispatch_file file;
	struct listeners *set;
	struct egd_conf_listener conf;
	struct address addr;
	int fd;                 /* listening socket; -EBADF for connect-out */
	bool activated;         /* from systemd */
	struct client *client;  /* connect-out: the live connection */
	uint64_t retry_usec;
	struct tbucket accepts; /* accept-rate: one token per connection */
	uint64_t resume_usec;   /* accept-rate reached: not watched until then, 0 = watched */
};

struct listeners {
	struct listener l[MAX_LISTENERS];
	size_t n;
	struct dispatch *dispatch;
	struct clients *clients;
	struct registry *reg;
	uint64_t paused_until;  /* fds ran out: not accepting until then, 0 = accepting */
	struct ratelimit log_rl;
	struct ratelimit rest_rl;       /* the accept-rate line: not silenced by the others */
};

int listeners_open(struct listeners *set, struct dispatch *d, struct clients *clients,
		   struct registry *reg, bool *ret_activated);
void listeners_tick(struct listeners *set, uint64_t now_usec);
uint64_t listeners_next_usec(const struct listeners *set);
void listeners_close(struct listeners *set);
