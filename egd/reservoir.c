/*
 * The reservoir: up to RESERVOIR_SIZE bytes read ahead from the first source
 * that works.  Sources block (an upstream EGD server answers at its own pace,
 * a hwrng may stall), so once reservoir_start() ran they are read only by a
 * refill thread; the loop copies bytes out under the lock and never waits
 * for a read.  While the reservoir is under 3/4 full the later sources fill
 * it, so a slow first source is topped up by the next.  A reader that
 * finds too few bytes is told by event_fd when more arrive.  Before
 * reservoir_start() (tests) reservoir_get() reads the sources itself.  A source
 * is touched by its thread alone; its counts are published under the lock for
 * the statistics.  Every byte handed out or dropped is erased.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "macro.h"
#include "reservoir.h"

#define SOURCE_MIN_ENTROPY 4.0  /* bits per byte claimed for the health tests' cutoffs */
#define LOG_INTERVAL_USEC (10 * USEC_PER_SEC)

int reservoir_init(struct reservoir *r, const char (*names)[EGD_CONF_MAX_VALUE], size_t n)
{
	*r = (struct reservoir){ .event_fd = -EBADF,
				 .log_rl = RATELIMIT_INIT(LOG_INTERVAL_USEC, 1) };
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	r->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->event_fd < 0)
		return log_errno(-errno, "Failed to create an eventfd: %m");
	for (size_t i = 0; i < MIN(n, (size_t)EGD_CONF_MAX_SOURCES); i++) {
		char *name = r->names[i], *arg;
		const struct source_ops *ops;
		int k;

		memcpy(name, names[i], EGD_CONF_MAX_VALUE);
		arg = strchr(name, ':');
		if (arg)
			*arg++ = '\0';
		ops = source_ops_by_name(name);
		if (!ops)
			return log_errno(-EINVAL, "Unknown source '%s'.", name);
		k = source_init(&r->sources[i], ops, arg, SOURCE_MIN_ENTROPY);
		if (k < 0)
			return log_errno(k, "Failed to set up source '%s': %m", name);
		r->stat[i] = (struct reservoir_source_stat){ ops->name, r->sources[i].state, 0 };
		r->n_sources++;
	}
	return 0;
}

/* Under the lock, after a read: what reservoir_stats() reports of source @i. */
static void publish(struct reservoir *r, size_t i)
{
	r->stat[i].state = r->sources[i].state;
	r->stat[i].bytes = r->sources[i].bytes;
}

/* One read from source @i into @buf; 0 if it gave nothing.  @rl: the caller's own limiter. */
static size_t read_source(struct reservoir *r, size_t i, uint8_t *buf, size_t n,
			  struct ratelimit *rl)
{
	struct source *src = &r->sources[i];
	uint64_t now = now_usec();
	ssize_t k = source_take(src, buf, n, now);

	if (k > 0)
		return (size_t)k;
	if (k != -EAGAIN && ratelimit_below(rl, now, NULL))
		log_warning_errno((int)k, "Source '%s' failed (%s), trying the next: %m",
				  src->ops->name, source_state_name(src->state));
	return 0;
}

/* One read from the first usable source (before the thread runs). */
static size_t read_sources(struct reservoir *r, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < r->n_sources; i++) {
		size_t k = read_source(r, i, buf, n, &r->log_rl);

		publish(r, i);
		if (k > 0)
			return k;
	}
	return 0;
}

/* Append under the lock; what does not fit is erased. */
static void append(struct reservoir *r, const uint8_t *data, size_t n)
{
	size_t tail = (r->head + r->len) % RESERVOIR_SIZE, first;

	n = MIN(n, RESERVOIR_SIZE - r->len);
	first = MIN(n, RESERVOIR_SIZE - tail);
	memcpy(r->buf + tail, data, first);
	memcpy(r->buf, data + first, n - first);
	r->len += n;
}

/* Under the lock: should reader @i read now?  Once at start in any case, so that
 * a source that does not work is reported then, not when the reservoir runs low. */
static bool wanted(struct reservoir *r, size_t i)
{
	if (r->stopping)
		return false;
	if (!r->readers[i].tried)
		return true;
	if (r->len > RESERVOIR_SIZE - RESERVOIR_CHUNK)
		return false;
	if (i == 0 || r->len < RESERVOIR_SIZE / 4 * 3)
		return true;
	for (size_t j = 0; j < i; j++)
		if (r->readers[j].ok)
			return false;
	return true;
}

static void *reader_thread(void *arg)
{
	struct reservoir_reader *rd = arg;
	struct reservoir *r = rd->r;
	uint8_t chunk[RESERVOIR_CHUNK];

	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		struct timespec rest = { 0, RESERVOIR_IDLE_USEC * 1000 };
		size_t k;

		if (!wanted(r, rd->index)) {
			r->sleepers++;
			pthread_cond_wait(&r->wake, &r->lock);
			r->sleepers--;
			continue;
		}
		pthread_mutex_unlock(&r->lock);
		k = read_source(r, rd->index, chunk, sizeof(chunk), &rd->log_rl);
		pthread_mutex_lock(&r->lock);
		rd->tried = true;
		publish(r, rd->index);
		if (k == 0) {
			pthread_mutex_unlock(&r->lock);
			(void)nanosleep(&rest, NULL);
			pthread_mutex_lock(&r->lock);
		}
		append(r, chunk, k);
		explicit_bzero(chunk, k);
		if (rd->ok != (k > 0))
			pthread_cond_broadcast(&r->wake);       /* later readers: take over or stop */
		rd->ok = k > 0;
		if (k > 0 && r->waiting) {
			uint64_t one = 1;

			r->waiting = false;
			(void)!write(r->event_fd, &one, sizeof(one));
		}
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/**
 * reservoir_start() - hand the sources to their refill threads (after the
 * sandbox is loaded: the threads inherit it).
 */
int reservoir_start(struct reservoir *r)
{
	for (size_t i = 0; i < r->n_sources; i++) {
		struct reservoir_reader *rd = &r->readers[i];
		int k;

		*rd = (struct reservoir_reader){ .r = r, .index = i, .ok = true,
						 .log_rl = RATELIMIT_INIT(LOG_INTERVAL_USEC, 1) };
		k = -pthread_create(&rd->thread, NULL, reader_thread, rd);
		if (k < 0)
			return log_errno(k, "Failed to start a refill thread: %m");
		r->n_started++;
		r->started = true;
	}
	return 0;
}

/* Bytes that reservoir_get() can hand out now (it only grows until the next get). */
size_t reservoir_avail(struct reservoir *r)
{
	size_t n;

	if (!r->started)
		return RESERVOIR_SIZE;
	pthread_mutex_lock(&r->lock);
	n = r->len;
	if (n == 0)
		r->waiting = true;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static void take(struct reservoir *r, uint8_t *dst, size_t n)
{
	size_t first = MIN(n, RESERVOIR_SIZE - r->head);

	memcpy(dst, r->buf + r->head, first);
	explicit_bzero(r->buf + r->head, first);
	memcpy(dst + first, r->buf, n - first);
	explicit_bzero(r->buf, n - first);
	r->head = (r->head + n) % RESERVOIR_SIZE;
	r->len -= n;
}

/**
 * reservoir_get() - copy out up to @n fresh bytes; never waits for a source
 * once started.  A short count arms event_fd for the next arrival.
 * Return: bytes copied.
 */
size_t reservoir_get(struct reservoir *r, uint8_t *dst, size_t n)
{
	size_t done;

	pthread_mutex_lock(&r->lock);
	if (!r->started && r->len < n) {
		uint8_t chunk[RESERVOIR_CHUNK];
		size_t k;

		while (r->len < n && (k = read_sources(r, chunk, sizeof(chunk))) > 0) {
			append(r, chunk, k);
			explicit_bzero(chunk, k);
		}
	}
	done = MIN(n, r->len);
	take(r, dst, done);
	if (done < n)
		r->waiting = true;
	/* Readers sleep while there is no room for a chunk: wake them only when there is. */
	if (r->sleepers > 0 && r->len <= RESERVOIR_SIZE - RESERVOIR_CHUNK)
		pthread_cond_broadcast(&r->wake);
	pthread_mutex_unlock(&r->lock);
	return done;
}

/* client-write = mix: XOR into unread bytes; credited nothing. */
void reservoir_mix(struct reservoir *r, const uint8_t *data, size_t n)
{
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < MIN(n, r->len); i++)
		r->buf[(r->head + i) % RESERVOIR_SIZE] ^= data[i];
	pthread_mutex_unlock(&r->lock);
}

/* The loop saw event_fd readable: reset it. */
void reservoir_ack(struct reservoir *r)
{
	uint64_t v;

	(void)!read(r->event_fd, &v, sizeof(v));
}

size_t reservoir_stats(struct reservoir *r, struct reservoir_source_stat *ret, size_t max)
{
	size_t n = MIN(max, r->n_sources);

	pthread_mutex_lock(&r->lock);
	memcpy(ret, r->stat, n * sizeof(*ret));
	pthread_mutex_unlock(&r->lock);
	return n;
}

/*
 * A source may be stuck in a read for its whole timeout: the threads are told
 * to stop and joined; sources are closed after them.
 */
void reservoir_done(struct reservoir *r)
{
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_broadcast(&r->wake);
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; i < r->n_started; i++)
		pthread_join(r->readers[i].thread, NULL);
	r->n_started = 0;
	r->started = false;
	for (size_t i = 0; i < r->n_sources; i++)
		source_done(&r->sources[i]);
	r->n_sources = 0;
	explicit_bzero(r->buf, sizeof(r->buf));
	r->event_fd = safe_close(r->event_fd);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
}
