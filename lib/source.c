/*
 * Generic source handling: lazy open, start-up test, continuous health tests,
 * quarantine with exponential backoff.  Bytes returned by source_take() have
 * passed every test; a source that fails is closed for the health state to
 * start again from the start-up test after its backoff.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "source.h"

static const struct source_ops *const all_ops[] = {
	&source_hwrng_ops, &source_rdseed_ops, &source_rdrand_ops,
	&source_egd_ops, &source_getrandom_ops,
};

const struct source_ops *source_ops_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++)
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
	s->last_error = error;
	s->backoff_usec = s->backoff_usec ? s->backoff_usec * 2 : SOURCE_BACKOFF_MIN_USEC;
	if (s->backoff_usec > SOURCE_BACKOFF_MAX_USEC)
		s->backoff_usec = SOURCE_BACKOFF_MAX_USEC;
	s->retry_usec = now_usec + s->backoff_usec;
	if (s->state == SOURCE_OK)
		s->state = SOURCE_QUARANTINED;
	health_reset(&s->health);
}

/* The device answered again (its fd became readable): try it at once. */
void source_resume(struct source *s)
{
	if (s->state == SOURCE_QUARANTINED)
		s->retry_usec = 0;
}

int source_open(struct source *s, uint64_t now_usec)
{
	int r;

	if (s->state == SOURCE_OK || s->state == SOURCE_QUARANTINED)
		return 0;
	r = s->ops->open(s);
	if (r < 0) {
		s->state = SOURCE_UNAVAILABLE;
		s->last_error = r;
		s->backoff_usec = SOURCE_BACKOFF_MAX_USEC;
		s->retry_usec = now_usec + s->backoff_usec;
		return r;
	}
	s->state = SOURCE_OK;
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

ssize_t source_take(struct source *s, uint8_t *buf, size_t n, uint64_t now_usec)
{
	ssize_t k;
	int r;

	if (!source_usable(s, now_usec))
		return -EAGAIN;
	r = source_open(s, now_usec);
	if (r < 0)
		return r;
	/* Start-up test: its samples are tested and thrown away. */
	while (s->health.startup_left > 0) {
		k = source_read_tested(s, buf, n);
		if (k < 0)
			goto fail;
	}
	k = source_read_tested(s, buf, n);
	if (k < 0)
		goto fail;
	if (s->backoff_usec)
		log_notice("Source %s: answering again", s->ops->name);
	s->state = SOURCE_OK;
	s->backoff_usec = 0;
	s->last_error = 0;
	s->bytes += (uint64_t)k;
	return k;
fail:
	source_quarantine(s, now_usec, (int)k);
	if (k == -EIO)
		log_warning("Source %s: failed a health test, retry in %u ms", s->ops->name,
			    (unsigned)(s->backoff_usec / 1000));
	else
		log_warning_errno((int)k, "Source %s: %m, retry in %u ms", s->ops->name,
				  (unsigned)(s->backoff_usec / 1000));
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
