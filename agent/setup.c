/*
 * From configuration to running state: the kernel sink, its generation, the
 * credit policy and the sources in order.  The policy: a source is credited
 * its configured bits per byte, except host-supplied bytes in a confidential
 * VM (0 unless trust-host), and /dev/hwrng is left to the kernel when the
 * kernel's own hwrng thread already credits that device.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "log.h"

#define HWRNG_SYSFS "/sys/class/misc/hw_random"
#define HWRNG_PARAMS "/sys/module/rng_core/parameters"
#define DEFAULT_RESEED_SEC 60

static const struct source_ops *const kind_ops[_SRC_MAX] = {
	[SRC_HWRNG] = &source_hwrng_ops,
	[SRC_RDSEED] = &source_rdseed_ops,
	[SRC_RDRAND] = &source_rdrand_ops,
	[SRC_EGD] = &source_egd_ops,
};

static bool hwrng_left_to_kernel(const struct agent *a)
{
	return a->kernel_feeds_hwrng && strcmp(a->config.hwrng_device, "/dev/hwrng") == 0;
}

static const char *path_of(const struct config *c, enum src_kind k)
{
	return k == SRC_HWRNG ? c->hwrng_device : k == SRC_EGD && c->egd[0] ? c->egd : NULL;
}

/* lib/ reports, the agent logs: the first of a run of equal errors only, and a device that
 * is not there (no virtio-rng behind /dev/hwrng) as the fact it is, not as a warning. */
static void on_source_event(const struct source *s, enum source_event ev, int error, bool repeat)
{
	const char *sp = s->path ? " " : "", *path = s->path ? s->path : "";
	unsigned ms = (unsigned)(s->backoff_usec / USEC_PER_MSEC);

	switch (ev) {
	case SOURCE_EV_ABSENT:
		log_full(repeat ? LOG_DEBUG : LOG_INFO, "Source %s%s%s: not available: %s, retry in "
			 "%u ms", s->ops->name, sp, path, strerror(-error), ms);
		break;
	case SOURCE_EV_PRESENT:
		log_notice("Source %s%s%s: available now", s->ops->name, sp, path);
		break;
	case SOURCE_EV_FAILED:
		if (error == -EIO)
			log_warning("Source %s: failed a health test, retry in %u ms", s->ops->name,
				    ms);
		else
			log_full(error == -ENODEV ? (repeat ? LOG_DEBUG : LOG_INFO) : LOG_WARNING,
				 "Source %s: %s, retry in %u ms", s->ops->name, strerror(-error), ms);
		break;
	case SOURCE_EV_ANSWERING:
		log_notice("Source %s: answering again", s->ops->name);
		break;
	}
}

static bool cpu_kind(enum src_kind k)
{
	return k == SRC_RDRAND || k == SRC_RDSEED;
}

/* S joins the seeder's sources unless it is the fork-only /dev/hwrng reader. */
static int setup_source(struct agent *a, enum src_kind k, struct source *s, uint64_t now)
{
	const struct config *c = &a->config;
	bool fork_only = s == &a->fork.hwrng;
	const char *path = path_of(c, k);
	int r = source_init(s, kind_ops[k], path, c->min_entropy);

	if (r < 0)
		return log_errno(r, "Invalid min-entropy %g: %m", c->min_entropy);
	s->credit = a->policy[k].credit;
	s->timeout_msec = k == SRC_EGD ? c->egd_timeout_msec : c->hwrng_timeout_msec;
	if (k == SRC_EGD && !path) {
		log_debug("Source egd: no address configured, skipping.");
		return 0;
	}
	/* A CPU that lacks the instruction will not grow it: no retries. */
	if (cpu_kind(k) && source_open(s, now) < 0) {
		log_info("Source %s: not available: the CPU does not have it", s->ops->name);
		return 0;
	}
	s->on_event = on_source_event;
	if (source_open(s, now) == 0)
		log_info("Source %s%s%s: ready, credit %u bits/byte (%s)%s", s->ops->name,
			 path ? " " : "", path ? path : "", s->credit,
			 policy_rule_text(a->policy[k].rule), fork_only ? ", read once per VM fork" : "");
	if (fork_only)
		a->fork.has_hwrng = s->state == SOURCE_OK;
	else
		a->seeder.sources[a->seeder.n_sources++] = s;
	return 0;
}

static int setup_sources(struct agent *a)
{
	uint64_t now = now_usec();

	for (size_t i = 0; i < a->config.n_order; i++) {
		enum src_kind k = a->config.order[i];
		int r;

		a->policy[k] = policy_for(k, &a->config, &a->machine, a->cvm);
		if (!a->policy[k].use) {
			log_info("Source %s: not used: %s", config_source_name(k),
				 policy_rule_text(a->policy[k].rule));
			continue;
		}
		if (k == SRC_HWRNG && hwrng_left_to_kernel(a)) {
			log_info("Source hwrng: the kernel's hwrng thread already credits %s "
				 "(quality %d), leaving it alone.", a->hwrng.current, a->hwrng.quality);
			r = a->fork.method != FORK_NONE ? setup_source(a, k, &a->fork.hwrng, now) : 0;
			if (r < 0)
				return r;
			continue;
		}
		r = setup_source(a, k, &a->sources[k], now);
		if (r < 0)
			return r;
	}
	return 0;
}

static int setup_kernel(struct agent *a)
{
	struct kernel_state st;
	int r = pool_open(&a->pool, NULL);

	if (r < 0)
		return log_errno(r, "Failed to open /dev/random: %m");
	a->seeder.kernel = (struct kernel){ .ops = &pool_ops, .ctx = &a->pool };
	r = pool_ops.state(&a->pool, &st);
	if (r < 0)
		return log_errno(r, "Failed to read the kernel's RNG state: %m");
	a->seeder.gen = kernel_gen_of(st.poolsize);
	a->seeder.fill_target = MIN(a->config.fill_target, st.poolsize);
	if (a->seeder.gen == KERNEL_GEN_OLD && a->mode != MODE_STATUS) {
		r = pool_ops.set_threshold(&a->pool, a->config.wakeup_threshold);
		if (r < 0)
			return log_errno(r, "Failed to set write_wakeup_threshold: %m");
	}
	return 0;
}

int agent_setup(struct agent *a)
{
	int r;

	a->start_usec = now_usec();
	a->cvm = a->config.confidential < 0 ? machine_cvm(&a->machine)
		 : a->config.confidential ? CVM_SEV_SNP : CVM_NONE;
	if (hwrng_info_read(HWRNG_SYSFS, HWRNG_PARAMS, &a->hwrng) < 0)
		snprintf(a->hwrng.current, sizeof(a->hwrng.current), "none");
	/* In a confidential VM the kernel crediting the host's device is not our business. */
	a->kernel_feeds_hwrng = hwrng_kernel_feeds(&a->hwrng);
	r = setup_kernel(a);
	if (r < 0)
		return r;
	(void)agent_fork_setup(a);
	if (a->config.reseed_interval >= 0)
		a->seeder.reseed_usec = (uint64_t)a->config.reseed_interval * USEC_PER_SEC;
	else if (!hwrng_left_to_kernel(a))
		a->seeder.reseed_usec = DEFAULT_RESEED_SEC * USEC_PER_SEC;
	return setup_sources(a);
}

void agent_status_line(const struct agent *a, char *buf, size_t size)
{
	int n = snprintf(buf, size, "credited %llu bits in %llu bytes, %llu fills, %llu reseeds, "
			 "%llu forks, %llu fork reseeds",
			 (unsigned long long)a->seeder.bits_credited,
			 (unsigned long long)a->seeder.bytes_added,
			 (unsigned long long)a->seeder.fills, (unsigned long long)a->seeder.reseeds,
			 (unsigned long long)a->fork.forks, (unsigned long long)a->fork.reseeds);

	for (size_t i = 0; i < a->seeder.n_sources && n > 0 && (size_t)n < size; i++) {
		const struct source *s = a->seeder.sources[i];

		n += snprintf(buf + n, size - (size_t)n, "; %s=%llu bits %s", s->ops->name,
			      (unsigned long long)s->bits_credited, source_state_name(s->state));
	}
}

void agent_log_counters(const struct agent *a, const char *why)
{
	char line[512];

	agent_status_line(a, line, sizeof(line));
	log_info("virtseed: %s: %s", why, line);
	for (size_t i = 0; i < a->seeder.n_sources; i++) {
		const struct source *s = a->seeder.sources[i];

		log_info("Source %s: %llu bytes read, %llu bits credited, %llu health failures, "
			 "%llu errors, state %s", s->ops->name, (unsigned long long)s->bytes,
			 (unsigned long long)s->bits_credited,
			 (unsigned long long)s->health_failures, (unsigned long long)s->errors,
			 source_state_name(s->state));
	}
}
