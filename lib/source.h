/* Entropy sources behind one small ops interface, with health and quarantine. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "health.h"

#define SOURCE_BACKOFF_MIN_USEC (1ULL * 1000000ULL)
#define SOURCE_BACKOFF_MAX_USEC (64ULL * 1000000ULL)
#define SOURCE_DEFAULT_TIMEOUT_MSEC 500

struct source;

struct source_ops {
	const char *name;
	int (*open)(struct source *s);
	/* > 0 bytes, -EAGAIN nothing yet, -ETIMEDOUT deadline passed, -EIO health/pattern */
	ssize_t (*read)(struct source *s, uint8_t *buf, size_t n);
	void (*close)(struct source *s);
	/* Optional, called by source_init(): load what open() will need before the sandbox. */
	int (*prepare)(void);
	bool tests_raw; /* the source health-tests its raw output itself */
	unsigned sample_bytes; /* health-test sample size: 0 or 1 = bytes, 8 = 64-bit words */
	bool from_host; /* bytes come from the hypervisor (untrusted in a confidential VM) */
};

enum source_state {
	SOURCE_IDLE,       /* not opened yet */
	SOURCE_OK,
	SOURCE_QUARANTINED,
	SOURCE_UNAVAILABLE, /* open failed: absent hardware or device */
};

struct source {
	const struct source_ops *ops;
	const char *path;       /* device or address; NULL = the source's default */
	int fd;                 /* pollable while open, or -1 (timer-driven sources) */
	unsigned timeout_msec;  /* deadline for one read */
	void *data;
	struct health health;
	enum source_state state;
	int last_error;
	uint64_t retry_usec, backoff_usec;
	unsigned credit;        /* bits credited per byte, 0..8 */
	uint64_t bytes, bits_credited, health_failures, errors;
};

extern const struct source_ops source_hwrng_ops;
extern const struct source_ops source_rdseed_ops;
extern const struct source_ops source_rdrand_ops;
extern const struct source_ops source_egd_ops;
extern const struct source_ops source_getrandom_ops;

const struct source_ops *source_ops_by_name(const char *name);
int source_init(struct source *s, const struct source_ops *ops, const char *path,
		double min_entropy);
void source_done(struct source *s);
int source_open(struct source *s, uint64_t now_usec);
bool source_usable(const struct source *s, uint64_t now_usec);
ssize_t source_take(struct source *s, uint8_t *buf, size_t n, uint64_t now_usec);
void source_quarantine(struct source *s, uint64_t now_usec, int error);
void source_resume(struct source *s);
const char *source_state_name(enum source_state st);
