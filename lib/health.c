/*
 * SP 800-90B section 4.4 continuous tests: the repetition count test and the
 * adaptive proportion test (window 512), with cutoffs derived from the claimed
 * min-entropy at alpha = 2^-20.  A sample is a byte, or a 64-bit word for the
 * CPU instructions, whose natural output unit it is (and 8 times cheaper).  A failure
 * is sticky until health_reset(): a source that failed is never credited.
 * The start-up test is the same tests over the first 1024 samples.
 */
#include <errno.h>
#include <string.h>

#include "health.h"
#include "macro.h"

unsigned health_rct_cutoff(double h)
{
	double q = HEALTH_ALPHA_LOG2 / h;
	unsigned c = (unsigned)q;

	return 1 + c + (q > (double)c);
}

/* 2^-x for 0 <= x <= 8 without libm: halvings, then a series for the fraction. */
static double exp2_neg(double x)
{
	double r = 1.0, term = 1.0, y;
	unsigned whole = (unsigned)x;

	y = (x - whole) * 0.69314718055994530942;
	for (int i = 1; i < 30; i++) {
		term *= -y / i;
		r += term;
	}
	while (whole--)
		r *= 0.5;
	return r;
}

/*
 * 1 + smallest k with P(Binom(window, 2^-h) <= k) >= 1 - alpha, summing the
 * probabilities term by term: P(0) = (1-p)^W, P(k+1) = P(k) (W-k)/(k+1) p/(1-p).
 * P(0) stays above the smallest double for h >= HEALTH_MIN_ENTROPY.
 */
unsigned health_apt_cutoff(double h, unsigned window)
{
	double p = exp2_neg(h), q = 1.0 - exp2_neg(HEALTH_ALPHA_LOG2), pk = 1.0, cdf;

	for (unsigned i = 0; i < window; i++)
		pk *= 1.0 - p;
	cdf = pk;
	for (unsigned k = 0; k < window; k++) {
		if (cdf >= q)
			return 1 + k < window ? 1 + k : window;
		pk *= (double)(window - k) / (k + 1) * p / (1.0 - p);
		cdf += pk;
	}
	return window;
}

int health_init(struct health *h, double min_entropy_per_byte, unsigned sample_bytes)
{
	double bits = min_entropy_per_byte * sample_bytes;

	if (!(min_entropy_per_byte >= HEALTH_MIN_ENTROPY && min_entropy_per_byte <= 8.0) ||
	    (sample_bytes != 1 && sample_bytes != 8))
		return -EINVAL;
	*h = (struct health){
		.sample_bytes = sample_bytes,
		.rct_cutoff = health_rct_cutoff(bits),
		.apt_cutoff = health_apt_cutoff(bits, HEALTH_APT_WINDOW),
	};
	health_reset(h);
	return 0;
}

void health_reset(struct health *h)
{
	h->rct_count = 0;
	h->apt_seen = 0;
	h->apt_count = 0;
	h->startup_left = HEALTH_STARTUP_SAMPLES;
	h->failure = HEALTH_OK;
}

static inline uint64_t load(const uint8_t *p, unsigned width)
{
	uint64_t x;

	if (width == 1)
		return *p;
	memcpy(&x, p, sizeof(x));
	return x;
}

/* The hot path (8 KiB a block for RDRAND): state in locals, width a constant. */
static inline enum health_failure health_run(struct health *h, const uint8_t *buf, size_t n,
					     unsigned width)
{
	const unsigned rct_cutoff = h->rct_cutoff, apt_cutoff = h->apt_cutoff;
	unsigned rct = h->rct_count, apt = h->apt_count, seen = h->apt_seen;
	uint64_t last = h->rct_last, first = h->apt_first;
	enum health_failure f = h->failure;
	size_t i;

	for (i = 0; i + width <= n && f == HEALTH_OK; i += width) {
		uint64_t x = load(buf + i, width);

		if (rct > 0 && x == last) {
			if (++rct >= rct_cutoff) {
				f = HEALTH_RCT;
				break;
			}
		} else {
			last = x;
			rct = 1;
		}
		if (seen == 0) {
			first = x;
			apt = 1;
		} else if (x == first && ++apt >= apt_cutoff) {
			f = HEALTH_APT;
		}
		if (++seen == HEALTH_APT_WINDOW)
			seen = 0;
	}
	h->startup_left -= (unsigned)MIN(i / width, (size_t)h->startup_left);
	h->rct_count = rct;
	h->apt_count = apt;
	h->apt_seen = seen;
	h->rct_last = last;
	h->apt_first = first;
	h->failure = f;
	return f;
}

/* A trailing partial word is not tested: word sources read whole words. */
enum health_failure health_test(struct health *h, const uint8_t *buf, size_t n)
{
	if (h->sample_bytes == 8)
		return health_run(h, buf, n, 8);
	return health_run(h, buf, n, 1);
}

void health_fail(struct health *h, enum health_failure why)
{
	h->failure = why;
}

bool health_started(const struct health *h)
{
	return h->startup_left == 0 && h->failure == HEALTH_OK;
}

const char *health_failure_name(enum health_failure f)
{
	switch (f) {
	case HEALTH_OK:
		return "ok";
	case HEALTH_RCT:
		return "repetition-count";
	case HEALTH_APT:
		return "adaptive-proportion";
	case HEALTH_PATTERN:
		return "known-bad-pattern";
	}
	return "unknown";
}
