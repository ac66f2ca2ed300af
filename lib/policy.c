/*
 * The credit rules, in order: a CPU RNG the kernel has disabled (it drops the
 * flag from /proc/cpuinfo, as for Zen 5's RDSEED, while CPUID in a VM still
 * shows it) is not used; host bytes in a confidential VM are mixed, credited 0
 * unless trust-host; with random.trust_cpu=off the CPU RNGs are mixed,
 * credited 0 unless their credit is set explicitly; else the configured credit.
 */
#include "policy.h"

static bool from_host(enum src_kind k)
{
	return k == SRC_HWRNG || k == SRC_EGD;
}

static const char *cpu_flag(enum src_kind k)
{
	return k == SRC_RDRAND ? "rdrand" : k == SRC_RDSEED ? "rdseed" : NULL;
}

struct policy policy_for(enum src_kind k, const struct config *c, const struct machine *m,
			 enum cvm_kind cvm)
{
	const char *flag = cpu_flag(k);

	if (flag && !machine_cpu_flag(m, flag))
		return (struct policy){ .rule = POLICY_KERNEL_DISABLED };
	if (from_host(k) && cvm != CVM_NONE && !c->trust_host)
		return (struct policy){ .use = true, .rule = POLICY_CVM_HOST };
	if (flag && machine_trust_cpu(m) == 0 && !c->credit_set[k])
		return (struct policy){ .use = true, .rule = POLICY_TRUST_CPU_OFF };
	return (struct policy){ .use = true, .credit = c->credit[k], .rule = POLICY_CONFIGURED };
}

const char *policy_rule_text(enum policy_rule r)
{
	switch (r) {
	case POLICY_CONFIGURED:
		return "as configured";
	case POLICY_CVM_HOST:
		return "host bytes in a confidential VM, trust-host=no";
	case POLICY_TRUST_CPU_OFF:
		return "random.trust_cpu=off on the kernel command line, no explicit credit";
	case POLICY_KERNEL_DISABLED:
		return "not in the kernel's /proc/cpuinfo flags: disabled by the kernel";
	}
	return "?";
}
