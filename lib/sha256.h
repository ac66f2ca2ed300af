/* SHA-256 (FIPS 180-4), for fingerprints that may be logged where bytes may not. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct sha256 {
	uint32_t h[8];
	uint8_t block[64];
	size_t fill;
	uint64_t total;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const uint8_t *data, size_t n);
void sha256_final(struct sha256 *c, uint8_t out[SHA256_DIGEST_SIZE]);
