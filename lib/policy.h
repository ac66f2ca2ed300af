/* Which sources the agent uses and what it credits them: a pure function of the
 * configuration and of what the kernel says about the machine. */
#pragma once

#include <stdbool.h>

#include "conf.h"
#include "sysinfo.h"

enum policy_rule {
	POLICY_CONFIGURED,      /* credited as configured */
	POLICY_CVM_HOST,        /* bytes from the host of a confidential VM: credited 0 */
	POLICY_TRUST_CPU_OFF,   /* random.trust_cpu=off and no explicit credit: credited 0 */
	POLICY_KERNEL_DISABLED, /* a CPU RNG the kernel does not list: not used at all */
};

struct policy {
	bool use;
	unsigned credit;        /* bits per byte */
	enum policy_rule rule;
};

struct policy policy_for(enum src_kind k, const struct config *c, const struct machine *m,
			 enum cvm_kind cvm);
const char *policy_rule_text(enum policy_rule r);
