/* Pieces of the CPU sources that tests and benchmarks call directly. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Intel DRNG guide: 512 128-bit RDRAND samples condition one seed-grade block. */
#define RDRAND_REDUCTION 512
#define RDRAND_BLOCK 16
#define RDRAND_SAMPLE_BYTES (RDRAND_REDUCTION * RDRAND_BLOCK)
#define RDSEED_RETRIES 1024
#define RDRAND_RETRIES 10
#define AES128_ROUND_KEYS 11

struct cbcmac;

/* Two implementations of the same MAC; AES-NI needs the CPU to have it. */
enum cbcmac_impl {
	CBCMAC_GCRYPT,
	CBCMAC_AESNI,
};

bool cpu_has_rdrand(void);
bool cpu_has_rdseed(void);
bool cpu_has_aesni(void);
int cpu_rdrand_fill(uint64_t *words, size_t n);
int cpu_rdseed_fill(uint64_t *words, size_t n);
int cbcmac_new(const uint8_t key[RDRAND_BLOCK], enum cbcmac_impl impl, struct cbcmac **ret);
struct cbcmac *cbcmac_free(struct cbcmac *m);
int cbcmac_compute(struct cbcmac *m, uint8_t *buf, size_t n, uint8_t out[RDRAND_BLOCK]);
int cbcmac_rdrand(struct cbcmac *m, uint64_t *words, size_t n, uint8_t out[RDRAND_BLOCK]);
int crypto_init(void);
