/*
 * SP 800-90B section 4.4 continuous tests on byte samples: the repetition
 * count test and the adaptive proportion test (window 512), with cutoffs
 * derived from the claimed min-entropy per byte at alpha = 2^-20.  A failure
 * is sticky until health_reset(): a source that failed is never credited.
 * The start-up test is the same tests over the first 1024 samples.
 */
#include <errno.h>

#include "health.h"

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

int health_init(struct health *h, double min_entropy_bits)
{
	if (!(min_entropy_bits >= HEALTH_MIN_ENTROPY && min_entropy_bits <= 8.0))
		return -EINVAL;
	*h = (struct health){
		.rct_cutoff = health_rct_cutoff(min_entropy_bits),
		.apt_cutoff = health_apt_cutoff(min_entropy_bits, HEALTH_APT_WINDOW),
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

static enum health_failure health_sample(struct health *h, uint8_t x)
{
	if (h->rct_count > 0 && x == h->rct_last) {
		if (++h->rct_count >= h->rct_cutoff)
			return HEALTH_RCT;
	} else {
		h->rct_last = x;
		h->rct_count = 1;
	}

	if (h->apt_seen == 0) {
		h->apt_first = x;
		h->apt_count = 1;
	} else if (x == h->apt_first && ++h->apt_count >= h->apt_cutoff) {
		return HEALTH_APT;
	}
	if (++h->apt_seen == HEALTH_APT_WINDOW)
		h->apt_seen = 0;
	return HEALTH_OK;
}

enum health_failure health_test(struct health *h, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n && h->failure == HEALTH_OK; i++) {
		h->failure = health_sample(h, buf[i]);
		if (h->startup_left > 0)
			h->startup_left--;
	}
	return h->failure;
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
