/* Token bucket over a caller-supplied clock: bytes per second, depth in bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TBUCKET_MAX_RATE (1ULL << 34)   /* bytes/s: 16 GiB/s, far beyond any source */
#define TBUCKET_MAX_BURST (1ULL << 34)  /* bytes */

struct tbucket {
	uint64_t rate;          /* bytes per second */
	uint64_t burst;         /* depth in bytes; also how deep the bucket may go into debt */
	int64_t tokens;         /* in byte-microseconds (bytes * 10^6) */
	uint64_t last_usec;
};

int tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_usec);
void tbucket_set(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_usec);
void tbucket_refill(struct tbucket *b, uint64_t now_usec);
int64_t tbucket_avail(struct tbucket *b, uint64_t now_usec);
bool tbucket_take(struct tbucket *b, uint64_t now_usec, size_t n);
void tbucket_charge(struct tbucket *b, uint64_t now_usec, size_t n);
uint64_t tbucket_wait_usec(struct tbucket *b, uint64_t now_usec, size_t n);
