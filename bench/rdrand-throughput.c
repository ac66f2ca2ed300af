/*
 * Throughput of the conditioned RDRAND source (health tests + 512:1
 * AES-CBC-MAC, the real source_rdrand_ops.read path) against the physical
 * limit measured in the same run: raw RDRAND bytes/s divided by 512.
 *   bench/rdrand-throughput [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "source-rdrand.h"
#include "source.h"

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double raw_rate(double seconds)
{
	static uint64_t words[1024];
	double t0 = now_sec(), t;
	size_t bytes = 0;

	do {
		if (cpu_rdrand_fill(words, 1024) < 0)
			exit(1);
		bytes += sizeof(words);
		t = now_sec();
	} while (t - t0 < seconds);
	return (double)bytes / (t - t0);
}

static double conditioned_rate(double seconds)
{
	uint8_t out[64];
	struct source s;
	double t0, t;
	size_t bytes = 0;

	if (source_init(&s, &source_rdrand_ops, NULL, 4.0) < 0 || source_open(&s, 0) < 0)
		exit(1);
	t0 = now_sec();
	do {
		if (source_take(&s, out, sizeof(out), 0) != (ssize_t)sizeof(out))
			exit(1);
		bytes += sizeof(out);
		t = now_sec();
	} while (t - t0 < seconds);
	source_done(&s);
	return (double)bytes / (t - t0);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	double raw, cond, limit;

	if (!cpu_has_rdrand()) {
		fprintf(stderr, "no RDRAND on this CPU\n");
		return 77;
	}
	raw = raw_rate(seconds);
	cond = conditioned_rate(seconds);
	limit = raw / RDRAND_REDUCTION;
	printf("raw RDRAND:            %10.1f KB/s\n", raw / 1e3);
	printf("limit (raw / 512):     %10.2f KB/s\n", limit / 1e3);
	printf("conditioned rdrand:    %10.2f KB/s\n", cond / 1e3);
	printf("ratio to limit:        %10.1f %% (goal >= 80 %%)\n", 100.0 * cond / limit);
	return 0;
}
