/*
 * --status: the kernel RNG state as the agent sees it, the sources it would
 * use and their health, and the configuration in effect.  Read-only: opens
 * the sources to probe them but feeds nothing.
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "log.h"

static void print_trust_cpu(const struct machine *m)
{
	int t = machine_trust_cpu(m);

	if (t >= 0)
		printf("trust_cpu:              %s (kernel command line)\n", t ? "on" : "off");
	else
		printf("trust_cpu:              kernel default (CONFIG_RANDOM_TRUST_CPU)\n");
}

static void print_kernel(struct agent *a)
{
	struct kernel_state st;

	if (pool_ops.state(&a->pool, &st) < 0) {
		printf("kernel RNG:             unreadable\n");
		return;
	}
	printf("kernel RNG:             %s (%s)\n", st.ready ? "ready" : "NOT ready",
	       a->seeder.gen == KERNEL_GEN_NEW ? "5.18+ design" : "<= 5.17 design");
	printf("entropy_avail:          %u\n", st.entropy_avail);
	printf("poolsize:               %u\n", st.poolsize);
	printf("write_wakeup_threshold: %u\n", st.threshold);
	printf("hwrng current:          %s (quality %d)%s\n", a->hwrng.current, a->hwrng.quality,
	       a->kernel_feeds_hwrng ? ", credited by the kernel's hwrng thread" : "");
	print_trust_cpu(&a->machine);
	printf("confidential VM:        %s\n", cvm_name(a->cvm));
}

static const char *health_text(const struct source *s)
{
	if (s->health.failure == HEALTH_OK && s->health.startup_left > 0)
		return "untested";
	return health_failure_name(s->health.failure);
}

static void print_sources(const struct agent *a)
{
	printf("sources in use:        ");
	if (a->seeder.n_sources == 0)
		printf(" none");
	for (size_t i = 0; i < a->seeder.n_sources; i++) {
		const struct source *s = a->seeder.sources[i];

		printf(" %s(%s, credit %u bits/byte, health %s)", s->ops->name,
		       source_state_name(s->state), s->credit, health_text(s));
	}
	printf("\n");
	for (size_t i = 0; i < a->config.n_order; i++) {
		enum src_kind k = a->config.order[i];

		printf("rule %-18s%s\n", config_source_name(k), policy_rule_text(a->policy[k].rule));
	}
	printf("reseed interval:        %llu s\n",
	       (unsigned long long)(a->seeder.reseed_usec / USEC_PER_SEC));
	printf("VM fork detection:      %s (fork-detect=%s)\n", fork_method_name(a->fork.method),
	       fork_mode_name(a->config.fork_detect));
}

int agent_print_status(struct agent *a)
{
	char conf[2048];
	int saved = log_max_level;
	int r;

	log_max_level = LOG_WARNING;
	r = agent_setup(a);
	log_max_level = saved;
	if (r < 0)
		return r;
	print_kernel(a);
	print_sources(a);
	if (config_format(&a->config, conf, sizeof(conf)) == 0)
		printf("\nconfiguration in effect:\n%s", conf);
	return 0;
}
