/* virtseedd's files share the running state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "conf.h"
#include "policy.h"
#include "pool.h"
#include "seeder.h"
#include "source.h"
#include "sysinfo.h"

enum agent_mode { MODE_DAEMON, MODE_ONCE, MODE_UNTIL_READY, MODE_STATUS };

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
};

int agent_setup(struct agent *a);
void agent_log_counters(const struct agent *a, const char *why);
void agent_status_line(const struct agent *a, char *buf, size_t size);
int agent_print_status(struct agent *a);
int agent_config_load(struct config *c, const struct machine *m, int argc, char **argv,
		      enum agent_mode *ret_mode);
