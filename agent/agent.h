/* virtseedd's files share the running state. */
#pragma once

#include <stdbool.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>

#include "clock.h"
#include "conf.h"
#include "fork.h"
#include "policy.h"
#include "pool.h"
#include "seeder.h"
#include "source.h"
#include "sysinfo.h"

enum agent_mode { MODE_DAEMON, MODE_ONCE, MODE_UNTIL_READY, MODE_STATUS };

/* VM fork detection (agent/fork.c): the chosen method's fd, and its counters. */
struct fork_watch {
	enum fork_method method;
	int fd;                  /* pollable, or -1: checked at each wakeup (vmclock) */
	short events;
	int sysfs_fd, kmsg_fd, vmclock_fd;
	const uint8_t *vmclock;  /* the mapped vmclock_abi */
	struct fork_gen gen;
	int64_t clock_offset_usec; /* kernel log time minus CLOCK_MONOTONIC */
	char device[PATH_MAX];   /* the vmgenid device's sysfs directory */
	struct source hwrng;     /* /dev/hwrng left to the kernel: read once per fork */
	bool has_hwrng;
	uint64_t forks, reseeds;
};

struct agent {
	struct config config;
	struct machine machine;
	enum agent_mode mode;
	struct pool pool;
	struct seeder seeder;
	struct source sources[_SRC_MAX];
	struct policy policy[_SRC_MAX];
	enum cvm_kind cvm;
	struct hwrng_info hwrng;
	bool kernel_feeds_hwrng;
	uint64_t start_usec;
	struct fork_watch fork;
};

int agent_setup(struct agent *a);
void agent_log_counters(const struct agent *a, const char *why);
void agent_status_line(const struct agent *a, char *buf, size_t size);
int agent_print_status(struct agent *a);
int agent_config_load(struct config *c, const struct machine *m, int argc, char **argv,
		      enum agent_mode *ret_mode);
int agent_fork_setup(struct agent *a);
void agent_fork_start(struct agent *a);
int agent_fork_on_wakeup(struct agent *a, const struct pollfd *p);
struct pollfd agent_fork_pollfd(const struct agent *a);
bool agent_fork_needs_syslog(const struct agent *a);
