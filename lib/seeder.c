/*
 * The agent's decisions, apart from its poll loop so that tests can drive
 * them against a fake kernel and fake sources.  Sources are tried in the
 * configured order; one that fails (error, stall, health) is quarantined by
 * source_take() and the next one is asked at once.  A source credited 0 bits
 * (host bytes in a confidential VM) is mixed in once per fill, never relied on.
 */
#include <errno.h>
#include <string.h>

#include "clock.h"
#include "macro.h"
#include "seeder.h"

bool seeder_satisfied(const struct seeder *s, const struct kernel_state *st)
{
	if (s->gen == KERNEL_GEN_NEW)
		return st->ready;
	return st->entropy_avail >= s->fill_target;
}

/* The first source, in order, that gives bytes; credited ones first unless uncredited. */
static struct source *seeder_take(struct seeder *s, bool credited, uint8_t *buf, ssize_t *ret_n,
				  uint64_t now_usec)
{
	for (size_t i = 0; i < s->n_sources; i++) {
		struct source *src = s->sources[i];
		ssize_t n;

		if ((src->credit > 0) != credited || !source_usable(src, now_usec))
			continue;
		n = source_take(src, buf, SEEDER_CHUNK, now_usec);
		if (n == -EAGAIN)
			s->more = true; /* mid start-up test: ask again */
		if (n > 0) {
			*ret_n = n;
			return src;
		}
	}
	return NULL;
}

int seeder_add(struct seeder *s, struct source *src, const uint8_t *buf, size_t n)
{
	unsigned bits = (unsigned)n * src->credit;
	int r = s->kernel.ops->add(s->kernel.ctx, buf, n, bits);

	if (r < 0)
		return r;
	src->bits_credited += bits;
	s->bits_credited += bits;
	s->bytes_added += n;
	return 0;
}

/* One wakeup's work ends after the longest source timeout, so that a trickling source
 * cannot hold the loop (and its signals and watchdog) for long.  Time spent is measured on
 * the clock itself; the `now` handed in is the caller's schedule. */
static uint64_t fill_deadline(const struct seeder *s)
{
	unsigned msec = 0;

	for (size_t i = 0; i < s->n_sources; i++)
		msec = MAX(msec, s->sources[i]->timeout_msec);
	return now_usec() + (uint64_t)msec * USEC_PER_MSEC;
}

/* 1: target reached; 0: no source could reach it now (or the wakeup's time is up: the
 * caller comes back at once); < 0: the kernel refused. */
int seeder_fill(struct seeder *s, uint64_t now)
{
	uint64_t deadline = fill_deadline(s);
	uint8_t buf[SEEDER_CHUNK];
	struct kernel_state st;
	bool mixed = false;
	int r = 0;

	s->fills++;
	s->more = false;
	for (unsigned round = 0; round < SEEDER_MAX_ROUNDS; round++) {
		if (round > 0 && now_usec() >= deadline) {
			s->more = true;
			r = 0;
			break;
		}
		struct source *src;
		ssize_t n;

		r = s->kernel.ops->state(s->kernel.ctx, &st);
		if (r < 0 || seeder_satisfied(s, &st)) {
			r = r < 0 ? r : 1;
			break;
		}
		src = seeder_take(s, true, buf, &n, now);
		if (!src && !mixed) {
			src = seeder_take(s, false, buf, &n, now);
			mixed = true;
		}
		if (!src) {
			r = 0;
			break;
		}
		r = seeder_add(s, src, buf, (size_t)n);
		if (r < 0)
			break;
	}
	explicit_bzero(buf, sizeof(buf));
	return r;
}

/* Mix fresh bytes and make the CRNG use them now rather than at its next reseed. */
int seeder_reseed(struct seeder *s, uint64_t now_usec)
{
	uint8_t buf[SEEDER_CHUNK];
	struct source *src;
	ssize_t n;
	int r;

	s->last_reseed_usec = now_usec;
	src = seeder_take(s, true, buf, &n, now_usec);
	if (!src)
		src = seeder_take(s, false, buf, &n, now_usec);
	if (!src)
		return -ENODATA;
	r = seeder_add(s, src, buf, (size_t)n);
	explicit_bzero(buf, sizeof(buf));
	if (r < 0)
		return r;
	s->reseeds++;
	return s->kernel.ops->reseed(s->kernel.ctx);
}

static uint64_t earliest_retry(const struct seeder *s, uint64_t now_usec, bool *ret_any_usable)
{
	uint64_t t = 0;

	*ret_any_usable = false;
	for (size_t i = 0; i < s->n_sources; i++) {
		const struct source *src = s->sources[i];

		/* Uncredited sources cannot advance the kernel: not worth a wakeup. */
		if (src->credit == 0)
			continue;
		if (source_usable(src, now_usec))
			*ret_any_usable = true;
		else if (t == 0 || src->retry_usec < t)
			t = src->retry_usec;
	}
	return t;
}

/* The reseed cadence starts when the CRNG is first seen ready (old kernels refill on demand). */
void seeder_plan(struct seeder *s, const struct kernel_state *st, uint64_t now_usec,
		 struct seeder_plan *ret)
{
	struct seeder_plan p = {};
	bool usable;
	uint64_t retry = earliest_retry(s, now_usec, &usable);

	if (s->gen == KERNEL_GEN_OLD || !st->ready) {
		p.pollout = usable;
		p.pollin = s->gen == KERNEL_GEN_NEW;
		/* Below target with nothing to give: come back when a source may. */
		if (!usable || !seeder_satisfied(s, st))
			p.wake_usec = retry;
	} else if (s->reseed_usec > 0) {
		if (s->last_reseed_usec == 0)
			s->last_reseed_usec = now_usec;
		p.wake_usec = s->last_reseed_usec + s->reseed_usec;
	}
	*ret = p;
}
