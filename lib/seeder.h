/* The agent's decisions: what to feed the kernel, and what to wait for next. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "pool.h"
#include "source.h"

#define SEEDER_CHUNK 64          /* bytes per RNDADDENTROPY */
#define SEEDER_MAX_ROUNDS 256    /* chunks per wakeup, at most */
#define SEEDER_MAX_SOURCES 4
#define SEEDER_NEW_READY_BITS 256

struct seeder {
	struct kernel kernel;
	enum kernel_gen gen;
	struct source *sources[SEEDER_MAX_SOURCES];
	size_t n_sources;
	unsigned fill_target;       /* old kernels: entropy_avail to refill to */
	uint64_t reseed_usec;       /* 0: no reseed cadence */
	uint64_t last_reseed_usec;
	bool more;                  /* the last fill stopped early: calling again may give more */
	uint64_t bits_credited, bytes_added, fills, reseeds;
};

struct seeder_plan {
	bool pollout;      /* wait for the kernel to ask for entropy */
	bool pollin;       /* wait for the CRNG to become ready by itself */
	uint64_t wake_usec; /* absolute time of the next timed action, 0 = none */
};

int seeder_add(struct seeder *s, struct source *src, const uint8_t *buf, size_t n);
int seeder_fill(struct seeder *s, uint64_t now_usec);
int seeder_reseed(struct seeder *s, uint64_t now_usec);
bool seeder_satisfied(const struct seeder *s, const struct kernel_state *st);
void seeder_plan(struct seeder *s, const struct kernel_state *st, uint64_t now_usec,
		 struct seeder_plan *ret);
