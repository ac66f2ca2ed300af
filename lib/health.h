/* SP 800-90B continuous health tests over samples of 1 or 8 bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEALTH_APT_WINDOW 512
#define HEALTH_STARTUP_SAMPLES 1024
/* False-alarm probability 2^-HEALTH_ALPHA_LOG2 per test, as SP 800-90B recommends. */
#define HEALTH_ALPHA_LOG2 20
#define HEALTH_MIN_ENTROPY 0.5

enum health_failure {
	HEALTH_OK = 0,
	HEALTH_RCT,  /* repetition count test */
	HEALTH_APT,  /* adaptive proportion test */
	HEALTH_PATTERN, /* known-bad hardware output, reported by the source */
};

struct health {
	unsigned sample_bytes; /* 1, or 8 for sources that output 64-bit words */
	unsigned rct_cutoff, apt_cutoff;
	uint64_t rct_last;
	unsigned rct_count;
	uint64_t apt_first;
	unsigned apt_count, apt_seen;
	unsigned startup_left;
	enum health_failure failure;
};

int health_init(struct health *h, double min_entropy_per_byte, unsigned sample_bytes);
void health_reset(struct health *h);
enum health_failure health_test(struct health *h, const uint8_t *buf, size_t n);
void health_fail(struct health *h, enum health_failure why);
bool health_started(const struct health *h);
const char *health_failure_name(enum health_failure f);
unsigned health_rct_cutoff(double min_entropy_bits);
unsigned health_apt_cutoff(double min_entropy_bits, unsigned window);
