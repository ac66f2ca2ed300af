/*
 * Throughput of the conditioned RDRAND source (health tests + 512:1
 * AES-CBC-MAC, the real source_rdrand_ops.read path) against the physical
 * limit measured in the same run: raw RDRAND bytes/s divided by 512.  Both are
 * measured in interleaved slices of thread CPU time.
 *   bench/rdrand-throughput [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "source-rdrand.h"
#include "source.h"

/* CPU time of this thread: a busy neighbour on the other core does not skew the ratio. */
static double cpu_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct rate {
	double bytes, seconds;
};

static void raw_slice(struct rate *r, double seconds)
{
	static uint64_t words[1024];
	double t0 = cpu_sec(), t;

	do {
		if (cpu_rdrand_fill(words, 1024) < 0)
			exit(1);
		r->bytes += sizeof(words);
		t = cpu_sec();
	} while (t - t0 < seconds);
	r->seconds += t - t0;
}

static void conditioned_slice(struct source *s, struct rate *r, double seconds)
{
	uint8_t out[64];
	double t0 = cpu_sec(), t;

	do {
		if (source_take(s, out, sizeof(out), 0) != (ssize_t)sizeof(out))
			exit(1);
		r->bytes += sizeof(out);
		t = cpu_sec();
	} while (t - t0 < seconds);
	r->seconds += t - t0;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	struct rate raw = {}, cond = {};
	double raw_rate, cond_rate, limit;
	struct source s;

	if (!cpu_has_rdrand()) {
		fprintf(stderr, "no RDRAND on this CPU\n");
		return 77;
	}
	if (source_init(&s, &source_rdrand_ops, NULL, 4.0) < 0 || source_open(&s, 0) < 0)
		return 1;
	/* Interleaved slices, so both see the same machine. */
	for (int i = 0; i < 20; i++) {
		raw_slice(&raw, seconds / 40);
		conditioned_slice(&s, &cond, seconds / 40);
	}
	source_done(&s);
	raw_rate = raw.bytes / raw.seconds;
	cond_rate = cond.bytes / cond.seconds;
	limit = raw_rate / RDRAND_REDUCTION;
	printf("CBC-MAC:               %10s\n", cpu_has_aesni() ? "AES-NI" : "libgcrypt");
	printf("raw RDRAND:            %10.1f KB per CPU second\n", raw_rate / 1e3);
	printf("limit (raw / 512):     %10.2f KB per CPU second\n", limit / 1e3);
	printf("conditioned rdrand:    %10.2f KB per CPU second\n", cond_rate / 1e3);
	printf("ratio to limit:        %10.1f %% (goal >= 80 %%)\n", 100.0 * cond_rate / limit);
	return 0;
}
