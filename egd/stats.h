/* Statistics in Prometheus text format on a unix socket, and the --stats client. */
#pragma once

#include <stdint.h>

#include "client.h"
#include "dispatch.h"
#include "registry.h"
#include "reservoir.h"

struct stats {
	struct dispatch_file file;
	struct dispatch *dispatch;
	const char *path;
	struct registry *reg;
	struct clients *clients;
	struct reservoir *res;
	unsigned n_conns;
	uint64_t paused_until;  /* fds ran out: not accepting until then */
};

int stats_open(struct stats *st, const char *path);
void stats_tick(struct stats *st, uint64_t now_usec);
void stats_close(struct stats *st);
int stats_print(const char *path);
