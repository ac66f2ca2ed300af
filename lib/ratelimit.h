/* At most @burst events per @interval_usec, on a clock the caller hands in. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	uint64_t interval_usec;
	unsigned burst;
	uint64_t begin_usec;    /* start of the current interval, 0 = none yet */
	unsigned num;           /* events in the current interval */
	unsigned suppressed;    /* events refused since the last one let through */
};

#define RATELIMIT_INIT(interval, n) { .interval_usec = (interval), .burst = (n) }

bool ratelimit_below(struct ratelimit *rl, uint64_t now_usec, unsigned *ret_suppressed);
