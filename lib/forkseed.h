/* After a VM fork: fresh bytes into the kernel at once, and the CRNG made to use them. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "seeder.h"
#include "sha256.h"

#define FORKSEED_MIN_BITS 256   /* credited bits of fresh entropy per fork, at least */
#define FORKSEED_MAX_ROUNDS 8   /* SEEDER_CHUNK reads per fork, at most */
/*
 * /dev/hwrng can answer from buffers that are part of the snapshot: the hwrng core's
 * rng_buffer and virtio-rng's prefetched buffer (SMP_CACHE_BYTES each, 64 on x86, in
 * 6.1).  Measured: two clones read the same first 64 bytes.  So much is read and thrown
 * away first.
 */
#define FORKSEED_HWRNG_STALE 128

struct forkseed_result {
	const char *source;     /* the source of the first fresh bytes */
	size_t bytes;
	unsigned bits;          /* credited */
	uint8_t digest[SHA256_DIGEST_SIZE]; /* of the bytes added: loggable, the bytes are not */
};

int forkseed_run(struct seeder *s, struct source *once, size_t once_stale, uint64_t now_usec,
		 struct forkseed_result *ret);
