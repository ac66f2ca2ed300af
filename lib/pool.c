/*
 * The only file that knows RNDADDENTROPY and struct rand_pool_info.  Bytes
 * are wiped from the stack copy after the ioctl.  Readiness is probed with a
 * non-blocking getrandom(): unlike a blocking call it never runs the kernel's
 * jitter fallback, which would seed the kernel behind our back.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/random.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>

#include "pool.h"
#include "macro.h"

int pool_add(int fd, const uint8_t *buf, size_t n, unsigned credit_bits)
{
	struct {
		int entropy_count;
		int buf_size;
		uint8_t buf[POOL_MAX_ADD];
	} req;
	int r = 0;

	if (n > POOL_MAX_ADD || credit_bits > n * 8)
		return -EINVAL;
	req.entropy_count = (int)credit_bits;
	req.buf_size = (int)n;
	memcpy(req.buf, buf, n);
	if (ioctl(fd, RNDADDENTROPY, &req) < 0)
		r = -errno;
	explicit_bzero(&req, sizeof(req));
	return r;
}

static int read_uint(const char *dir, const char *name, unsigned *ret)
{
	char path[PATH_MAX];
	unsigned v;
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	r = fscanf(f, "%u", &v) == 1 ? 0 : -EIO;
	fclose(f);
	if (r == 0)
		*ret = v;
	return r;
}

static int pool_state(void *ctx, struct kernel_state *ret)
{
	struct pool *p = ctx;
	struct kernel_state st = {};
	uint8_t probe;
	int r;

	if (ioctl(p->random_fd, RNDGETENTCNT, &r) < 0)
		return -errno;
	st.entropy_avail = (unsigned)MAX(r, 0);
	r = read_uint(p->proc_dir, "poolsize", &st.poolsize);
	if (r < 0)
		return r;
	(void)read_uint(p->proc_dir, "write_wakeup_threshold", &st.threshold);
	st.ready = getrandom(&probe, 1, GRND_NONBLOCK) == 1;
	*ret = st;
	return 0;
}

static int pool_ops_add(void *ctx, const uint8_t *buf, size_t n, unsigned credit_bits)
{
	struct pool *p = ctx;

	return pool_add(p->random_fd, buf, n, credit_bits);
}

static int pool_reseed(void *ctx)
{
	struct pool *p = ctx;

	return ioctl(p->random_fd, RNDRESEEDCRNG) < 0 ? -errno : 0;
}

static int pool_set_threshold(void *ctx, unsigned bits)
{
	struct pool *p = ctx;
	char path[PATH_MAX];
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/write_wakeup_threshold", p->proc_dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fprintf(f, "%u\n", bits) < 0)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

const struct kernel_ops pool_ops = {
	.state = pool_state,
	.add = pool_ops_add,
	.reseed = pool_reseed,
	.set_threshold = pool_set_threshold,
};

int pool_open(struct pool *p, const char *proc_dir)
{
	int fd = open("/dev/random", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	p->random_fd = fd;
	p->proc_dir = proc_dir ? proc_dir : "/proc/sys/kernel/random";
	return 0;
}

void pool_close(struct pool *p)
{
	p->random_fd = safe_close(p->random_fd);
}

enum kernel_gen kernel_gen_of(unsigned poolsize)
{
	return poolsize > POOL_NEW_POOLSIZE ? KERNEL_GEN_OLD : KERNEL_GEN_NEW;
}
