/*
 * getrandom(2) as a source: the host's own CRNG, the distributor's default.
 * Never blocks once the host is seeded; before that it returns -EAGAIN so a
 * host that is itself starving is not served from.
 */
#include <errno.h>
#include <sys/random.h>

#include "source.h"

static int getrandom_open(struct source *s)
{
	s->fd = -1;
	return 0;
}

static ssize_t getrandom_read(struct source *s, uint8_t *buf, size_t n)
{
	ssize_t k = getrandom(buf, n, GRND_NONBLOCK);

	return k < 0 ? -errno : k;
}

static void getrandom_close(struct source *s)
{
}

const struct source_ops source_getrandom_ops = {
	.name = "getrandom",
	.open = getrandom_open,
	.read = getrandom_read,
	.close = getrandom_close,
	.sample_bytes = 8,
};
