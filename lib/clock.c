/*
 * CLOCK_MONOTONIC in microseconds.  Only the main loops call it; lib/ modules
 * take the time as a parameter so tests run on virtual time.
 */
#include <time.h>

#include "clock.h"
#include "macro.h"

/**
 * now_usec() - microseconds on CLOCK_MONOTONIC (never goes back, ignores settimeofday).
 */
uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}
