/* Bytes read ahead from the sources by a refill thread; the loop only copies them out. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "egd-conf.h"
#include "ratelimit.h"
#include "source.h"

#define RESERVOIR_SIZE 65536            /* bytes read ahead */
#define RESERVOIR_CHUNK 16384           /* bytes asked of a source at once */
#define RESERVOIR_IDLE_USEC 100000      /* a reader's rest after its source gave nothing */

struct reservoir_source_stat {
	const char *name;
	enum source_state state;
	uint64_t bytes;
};

struct reservoir;

/* One refill thread per source, so a slow source never holds up the others. */
struct reservoir_reader {
	struct reservoir *r;
	size_t index;
	pthread_t thread;
	bool ok;                /* its last read gave bytes */
	bool tried;             /* it read once */
	struct ratelimit log_rl;
};

struct reservoir {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct reservoir_reader readers[EGD_CONF_MAX_SOURCES];
	size_t n_started;
	unsigned sleepers;      /* readers waiting for room */
	bool started, stopping;
	bool waiting;           /* a reader came up short: signal event_fd on arrival */
	int event_fd;           /* eventfd: readable when bytes arrived for a waiting reader */
	uint8_t buf[RESERVOIR_SIZE];
	size_t head, len;       /* ring: unread bytes start at buf[head] */
	char names[EGD_CONF_MAX_SOURCES][EGD_CONF_MAX_VALUE];
	struct source sources[EGD_CONF_MAX_SOURCES];     /* each read by its thread alone */
	struct reservoir_source_stat stat[EGD_CONF_MAX_SOURCES];  /* their counts, under lock */
	size_t n_sources;
	struct ratelimit log_rl;        /* reads before reservoir_start() */
};

int reservoir_init(struct reservoir *r, const char (*names)[EGD_CONF_MAX_VALUE], size_t n);
int reservoir_start(struct reservoir *r);
size_t reservoir_avail(struct reservoir *r);
size_t reservoir_get(struct reservoir *r, uint8_t *dst, size_t n);
void reservoir_mix(struct reservoir *r, const uint8_t *data, size_t n);
void reservoir_ack(struct reservoir *r);
size_t reservoir_stats(struct reservoir *r, struct reservoir_source_stat *ret, size_t max);
void reservoir_done(struct reservoir *r);
