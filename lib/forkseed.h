/* After a VM fork: fresh bytes into the kernel at once, and the CRNG made to use them. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "seeder.h"
#include "sha256.h"

#define FORKSEED_MIN_BITS 256   /* credited bits of fresh entropy per fork, at least */
#define FORKSEED_MAX_ROUNDS 8   /* SEEDER_CHUNK reads per fork, at most */
/* Bytes of the once source dropped first: what the kernel had buffered before the snapshot
 * (6.1: the hwrng core's 64-byte buffer and virtio-rng's own), the same in every clone. */
#define FORKSEED_STALE_BYTES 128

struct forkseed_result {
	const char *source;     /* the source of the first fresh bytes */
	size_t bytes;
	unsigned bits;          /* credited */
	uint8_t digest[SHA256_DIGEST_SIZE]; /* of the bytes added: loggable, the bytes are not */
};

int forkseed_run(struct seeder *s, struct source *once, uint64_t now_usec,
		 struct forkseed_result *ret);
