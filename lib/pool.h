/* The kernel's input pool as a sink, behind an ops struct so the agent's
 * decisions can be tested against a fake kernel. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest single RNDADDENTROPY we issue; larger inputs are split. */
#define POOL_MAX_ADD 512
#define POOL_OLD_POOLSIZE 4096
#define POOL_NEW_POOLSIZE 256

enum kernel_gen {
	KERNEL_GEN_OLD, /* <= 5.17: entropy is debited, POLLOUT below write_wakeup_threshold */
	KERNEL_GEN_NEW, /* >= 5.18: entropy_avail is init progress, POLLOUT only until ready */
};

struct kernel_state {
	unsigned entropy_avail;
	unsigned poolsize;
	unsigned threshold;
	bool ready; /* the CRNG is initialised: getrandom() would not block */
};

struct kernel_ops {
	int (*state)(void *ctx, struct kernel_state *ret);
	int (*add)(void *ctx, const uint8_t *buf, size_t n, unsigned credit_bits);
	int (*reseed)(void *ctx);
	int (*set_threshold)(void *ctx, unsigned bits);
};

struct kernel {
	const struct kernel_ops *ops;
	void *ctx;
};

/* The real kernel: /dev/random plus /proc/sys/kernel/random. */
struct pool {
	int random_fd;
	const char *proc_dir;
};

extern const struct kernel_ops pool_ops;

int pool_open(struct pool *p, const char *proc_dir);
void pool_close(struct pool *p);
int pool_add(int fd, const uint8_t *buf, size_t n, unsigned credit_bits);
enum kernel_gen kernel_gen_of(unsigned poolsize);
