/* Entropy sources behind one small ops interface, with health and quarantine. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "health.h"

#define SOURCE_BACKOFF_MIN_USEC (1ULL * 1000000ULL)      /* after a failed read */
#define SOURCE_REOPEN_MIN_USEC (250ULL * 1000ULL)       /* after a failed open */
#define SOURCE_BACKOFF_MAX_USEC (64ULL * 1000000ULL)
#define SOURCE_DEFAULT_TIMEOUT_MSEC 500

struct source;

struct source_ops {
	const char *name;
	int (*open)(struct source *s);
	/* > 0 bytes, -EAGAIN nothing yet, -ETIMEDOUT deadline passed, -EIO health/pattern */
	ssize_t (*read)(struct source *s, uint8_t *buf, size_t n);
	void (*close)(struct source *s);
	/* Optional: consume a late answer without waiting (its bytes are dropped); 0 when the
	 * source is ready for a new request, < 0 when it had to be disconnected. */
	int (*drain)(struct source *s);
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

/* What happened to a source, for the caller to log (lib/ does not).  repeat: the same
 * error as the last event's, which a caller may keep quiet about. */
enum source_event {
	SOURCE_EV_ABSENT,      /* open failed: retried with backoff */
	SOURCE_EV_PRESENT,     /* opened after being absent */
	SOURCE_EV_FAILED,      /* read error, stall or health test: quarantined */
	SOURCE_EV_ANSWERING,   /* good bytes again after a quarantine */
};
typedef void (*source_event_fn)(const struct source *s, enum source_event ev, int error,
				bool repeat);

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
	source_event_fn on_event;  /* NULL: nobody listens */
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
void source_resume(struct source *s, uint64_t now_usec);
const char *source_state_name(enum source_state st);
