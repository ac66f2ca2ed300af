/*
 * Generic source handling: lazy open, start-up test, continuous health tests,
 * quarantine with exponential backoff.  Bytes returned by source_take() have
 * passed every test.  A source that fails keeps its fd (a stalled device that
 * answers again makes it readable) and starts again from the start-up test
 * after its backoff; one that cannot be opened is tried again, 250 ms after
 * the first failure, doubling up to SOURCE_BACKOFF_MAX_USEC.  The start-up
 * test of a slow source is spread over several calls: one call spends at most
 * the source's timeout on it, plus the read in progress.
 */
#include <errno.h>
#include <string.h>

#include "clock.h"
#include "macro.h"
#include "source.h"

static const struct source_ops *const all_ops[] = {
	&source_hwrng_ops, &source_rdseed_ops, &source_rdrand_ops,
	&source_egd_ops, &source_getrandom_ops,
};

const struct source_ops *source_ops_by_name(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(all_ops); i++)
		if (strcmp(all_ops[i]->name, name) == 0)
			return all_ops[i];
	return NULL;
}

int source_init(struct source *s, const struct source_ops *ops, const char *path,
		double min_entropy)
{
	*s = (struct source){
		.ops = ops,
		.path = path,
		.fd = -1,
		.timeout_msec = SOURCE_DEFAULT_TIMEOUT_MSEC,
	};
	/* A failure shows again, and is reported, at open(). */
	if (ops->prepare)
		(void)ops->prepare();
	return health_init(&s->health, min_entropy, ops->sample_bytes ? ops->sample_bytes : 1);
}

void source_done(struct source *s)
{
	if (s->state == SOURCE_OK || s->state == SOURCE_QUARANTINED)
		s->ops->close(s);
	s->fd = -1;
	s->state = SOURCE_IDLE;
}

static void event(struct source *s, enum source_event ev, int error)
{
	bool repeat = error != 0 && error == s->last_error;

	s->last_error = error;
	if (s->on_event)
		s->on_event(s, ev, error, repeat);
}

static uint64_t backoff(uint64_t prev, uint64_t min)
{
	return prev ? MIN(prev * 2, SOURCE_BACKOFF_MAX_USEC) : min;
}

bool source_usable(const struct source *s, uint64_t now_usec)
{
	switch (s->state) {
	case SOURCE_IDLE:
	case SOURCE_OK:
		return true;
	case SOURCE_QUARANTINED:
	case SOURCE_UNAVAILABLE:
		return now_usec >= s->retry_usec;
	}
	return false;
}

void source_quarantine(struct source *s, uint64_t now_usec, int error)
{
	if (error == -EIO)
		s->health_failures++;
	else
		s->errors++;
	s->backoff_usec = backoff(s->backoff_usec, SOURCE_BACKOFF_MIN_USEC);
	s->retry_usec = now_usec + s->backoff_usec;
	if (s->state == SOURCE_OK)
		s->state = SOURCE_QUARANTINED;
	health_reset(&s->health);
	event(s, SOURCE_EV_FAILED, error);
}

/* The quarantined source's fd became readable: a late answer.  Take it out of the way
 * now, so that the fd does not stay readable, and try the source again at once. */
void source_resume(struct source *s, uint64_t now_usec)
{
	if (s->state != SOURCE_QUARANTINED)
		return;
	if (s->ops->drain && s->ops->drain(s) < 0) {
		/* Disconnected (fd -1 now): reconnect after the backoff. */
		return;
	}
	s->retry_usec = now_usec;
}

int source_open(struct source *s, uint64_t now_usec)
{
	int r;

	if (s->state == SOURCE_OK || s->state == SOURCE_QUARANTINED)
		return 0;
	r = s->ops->open(s);
	if (r < 0) {
		s->errors += s->state == SOURCE_IDLE ? 0 : 1;
		s->state = SOURCE_UNAVAILABLE;
		s->backoff_usec = backoff(s->backoff_usec, SOURCE_REOPEN_MIN_USEC);
		s->retry_usec = now_usec + s->backoff_usec;
		event(s, SOURCE_EV_ABSENT, r);
		return r;
	}
	if (s->state == SOURCE_UNAVAILABLE)
		event(s, SOURCE_EV_PRESENT, 0);
	s->state = SOURCE_OK;
	s->backoff_usec = 0;
	health_reset(&s->health);
	return 0;
}

static ssize_t source_read_tested(struct source *s, uint8_t *buf, size_t n)
{
	ssize_t k = s->ops->read(s, buf, n);

	if (k <= 0)
		return k == 0 ? -EIO : k;
	if (!s->ops->tests_raw && health_test(&s->health, buf, (size_t)k) != HEALTH_OK)
		return -EIO;
	if (s->health.failure != HEALTH_OK)
		return -EIO;
	return k;
}

/* Start-up test: its samples are tested and thrown away.  -EAGAIN: not done within the
 * source's timeout; the next call goes on where this one stopped. */
static ssize_t source_startup(struct source *s, uint8_t *buf, size_t n)
{
	uint64_t deadline = now_usec() + s->timeout_msec * USEC_PER_MSEC;

	while (s->health.startup_left > 0) {
		ssize_t k;

		if (now_usec() >= deadline)
			return -EAGAIN;
		k = source_read_tested(s, buf, n);
		if (k < 0)
			return k;
	}
	return 0;
}

ssize_t source_take(struct source *s, uint8_t *buf, size_t n, uint64_t now_usec)
{
	ssize_t k;
	int r;

	if (!source_usable(s, now_usec))
		return -EAGAIN;
	r = source_open(s, now_usec);
	if (r < 0)
		return r;
	k = source_startup(s, buf, n);
	if (k == 0)
		k = source_read_tested(s, buf, n);
	if (k == -EAGAIN && s->health.startup_left > 0)
		return k;
	if (k < 0) {
		source_quarantine(s, now_usec, (int)k);
		return k;
	}
	if (s->backoff_usec)
		event(s, SOURCE_EV_ANSWERING, 0);
	s->state = SOURCE_OK;
	s->backoff_usec = 0;
	s->last_error = 0;
	s->bytes += (uint64_t)k;
	return k;
}

const char *source_state_name(enum source_state st)
{
	switch (st) {
	case SOURCE_IDLE:
		return "idle";
	case SOURCE_OK:
		return "ok";
	case SOURCE_QUARANTINED:
		return "quarantined";
	case SOURCE_UNAVAILABLE:
		return "unavailable";
	}
	return "unknown";
}
