/*
 * Token bucket with the clock as a parameter, so tests run on virtual time.
 * Tokens are kept in byte-microseconds: refilling rate * dt needs no division
 * and no rounding, so a configured rate is met exactly over any interval.
 * The balance may go negative (debt, at most one burst) when a caller charges
 * bytes it had to send anyway; debt is repaid by later refills.
 */
#include <errno.h>

#include "tbucket.h"

#define MICRO 1000000LL

/**
 * tbucket_init() - a full bucket of @burst bytes refilled at @rate bytes/s.
 * Return: 0, or -EINVAL if @rate or @burst exceeds TBUCKET_MAX_*, or @burst is 0.
 */
int tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_usec)
{
	if (rate > TBUCKET_MAX_RATE || burst > TBUCKET_MAX_BURST || burst == 0)
		return -EINVAL;
	*b = (struct tbucket){ .rate = rate, .burst = burst, .last_usec = now_usec };
	b->tokens = (int64_t)burst * MICRO;
	return 0;
}

/* Change rate and depth, keeping the balance (clamped to the new depth). */
void tbucket_set(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_usec)
{
	tbucket_refill(b, now_usec);
	b->rate = rate;
	b->burst = burst;
	if (b->tokens > (int64_t)burst * MICRO)
		b->tokens = (int64_t)burst * MICRO;
}

void tbucket_refill(struct tbucket *b, uint64_t now_usec)
{
	int64_t cap = (int64_t)b->burst * MICRO;
	uint64_t dt;

	if (now_usec <= b->last_usec)
		return;
	dt = now_usec - b->last_usec;
	b->last_usec = now_usec;
	if (b->tokens >= cap)
		return;
	/* Compare before multiplying: rate * dt can overflow after a long idle. */
	if (b->rate == 0)
		return;
	if (dt >= (uint64_t)(cap - b->tokens) / b->rate + 1)
		b->tokens = cap;
	else
		b->tokens += (int64_t)(b->rate * dt);
	if (b->tokens > cap)
		b->tokens = cap;
}

/**
 * tbucket_avail() - whole bytes available now; negative while in debt.
 */
int64_t tbucket_avail(struct tbucket *b, uint64_t now_usec)
{
	tbucket_refill(b, now_usec);
	if (b->tokens < 0)
		return -((-b->tokens + MICRO - 1) / MICRO);
	return b->tokens / MICRO;
}

/**
 * tbucket_take() - take @n bytes if they are all there.
 * Return: true if taken, false (bucket unchanged) otherwise.
 */
bool tbucket_take(struct tbucket *b, uint64_t now_usec, size_t n)
{
	if (tbucket_avail(b, now_usec) < (int64_t)n)
		return false;
	b->tokens -= (int64_t)n * MICRO;
	return true;
}

/* Take @n bytes whatever the balance; the debt floor is one burst. */
void tbucket_charge(struct tbucket *b, uint64_t now_usec, size_t n)
{
	int64_t floor = -(int64_t)b->burst * MICRO;

	tbucket_refill(b, now_usec);
	if (n > b->burst * 2)
		n = b->burst * 2;
	b->tokens -= (int64_t)n * MICRO;
	if (b->tokens < floor)
		b->tokens = floor;
}

/**
 * tbucket_wait_usec() - time until @n bytes will be available (0 if now).
 * Return: microseconds, UINT64_MAX if never (rate 0 or @n deeper than the bucket).
 */
uint64_t tbucket_wait_usec(struct tbucket *b, uint64_t now_usec, size_t n)
{
	int64_t need;

	tbucket_refill(b, now_usec);
	need = (int64_t)n * MICRO - b->tokens;
	if (need <= 0)
		return 0;
	if (b->rate == 0 || n > b->burst)
		return UINT64_MAX;
	return ((uint64_t)need + b->rate - 1) / b->rate;
}
