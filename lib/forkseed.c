/*
 * The fork reseed.  A clone shares its CRNG state with every other clone of
 * the same snapshot; the kernel has mixed in the public generation ID, nothing
 * secret.  So: read at least FORKSEED_MIN_BITS of credited fresh entropy, from
 * ONCE first (the /dev/hwrng that the kernel's hwrng thread otherwise feeds
 * from: one bounded read after dropping what its buffers held from before the
 * fork, the device is left alone again afterwards), then from
 * the seeder's sources in order, add it, and make the CRNG use it now
 * (RNDRESEEDCRNG) or, on kernels <= 5.17, refill the pool to the target.
 */
#include <errno.h>
#include <string.h>

#include "forkseed.h"
#include "macro.h"

/*
 * Only sources open and answering now: a fork is no time to probe absent hardware (opening
 * a missing /dev/hwrng makes the kernel run modprobe, ~0.2 s in a TCG guest) or to wait for
 * a quarantined one.
 */
/* Reads and drops the bytes ONCE may still hold from before the fork. */
static bool forkseed_drop_stale(struct source *once, size_t stale, uint64_t now_usec)
{
	uint8_t buf[SEEDER_CHUNK];
	bool ok = true;

	while (ok && stale > 0) {
		ssize_t n = source_take(once, buf, MIN(stale, sizeof(buf)), now_usec);

		ok = n > 0;
		stale -= ok ? MIN((size_t)n, stale) : 0;
	}
	explicit_bzero(buf, sizeof(buf));
	return ok;
}

static struct source *forkseed_take(struct seeder *s, struct source *once, bool *once_tried,
				    bool credited, uint8_t *buf, ssize_t *ret_n, uint64_t now_usec)
{
	for (size_t i = 0; i <= s->n_sources; i++) {
		struct source *src = i == 0 ? once : s->sources[i - 1];
		ssize_t n;

		if (!src || src->state != SOURCE_OK || (src->credit > 0) != credited ||
		    (src == once && *once_tried))
			continue;
		if (src == once)
			*once_tried = true;
		n = source_take(src, buf, SEEDER_CHUNK, now_usec);
		if (n > 0) {
			*ret_n = n;
			return src;
		}
	}
	return NULL;
}

static int forkseed_add(struct seeder *s, struct source *src, const uint8_t *buf, size_t n,
			struct sha256 *h, struct forkseed_result *res)
{
	int r = seeder_add(s, src, buf, n);

	if (r < 0)
		return r;
	if (!res->source)
		res->source = src->ops->name;
	sha256_update(h, buf, n);
	res->bytes += n;
	res->bits += (unsigned)n * src->credit;
	return 0;
}

/* -ENODATA: no source gave a byte; < 0 otherwise: the kernel refused. */
int forkseed_run(struct seeder *s, struct source *once, size_t once_stale, uint64_t now_usec,
		 struct forkseed_result *ret)
{
	struct forkseed_result res = {};
	uint8_t buf[SEEDER_CHUNK];
	bool once_tried = false;
	struct sha256 h;
	ssize_t n;
	int r = 0;

	sha256_init(&h);
	if (once && once->state == SOURCE_OK && !forkseed_drop_stale(once, once_stale, now_usec))
		once_tried = true;
	for (unsigned i = 0; i < FORKSEED_MAX_ROUNDS && res.bits < FORKSEED_MIN_BITS; i++) {
		struct source *src = forkseed_take(s, once, &once_tried, true, buf, &n, now_usec);

		if (!src)
			break;
		r = forkseed_add(s, src, buf, (size_t)n, &h, &res);
		if (r < 0)
			goto out;
	}
	/* Nothing credited (a confidential VM's host bytes only): still better than nothing. */
	if (res.bytes == 0) {
		struct source *src = forkseed_take(s, once, &once_tried, false, buf, &n, now_usec);

		r = src ? forkseed_add(s, src, buf, (size_t)n, &h, &res) : 0;
		if (r < 0)
			goto out;
	}
	if (res.bytes == 0) {
		r = -ENODATA;
		goto out;
	}
	if (s->gen == KERNEL_GEN_NEW)
		r = s->kernel.ops->reseed(s->kernel.ctx);
	else
		r = MIN(seeder_fill(s, now_usec), 0);
	if (r == 0) {
		sha256_final(&h, res.digest);
		*ret = res;
	}
out:
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&h, sizeof(h));
	return r;
}
