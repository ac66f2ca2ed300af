/* The agent's decisions against a fake kernel of each generation and fake sources. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <cmocka.h>

#include "macro.h"
#include "seeder.h"

struct fake_kernel {
	enum kernel_gen gen;
	unsigned entropy, threshold, adds, reseeds;
	unsigned long long credited;
};

static int fk_state(void *ctx, struct kernel_state *ret)
{
	struct fake_kernel *k = ctx;

	*ret = (struct kernel_state){
		.entropy_avail = k->entropy,
		.poolsize = k->gen == KERNEL_GEN_NEW ? 256 : 4096,
		.threshold = k->threshold,
		.ready = k->gen == KERNEL_GEN_NEW ? k->entropy >= 256 : k->entropy >= 128,
	};
	return 0;
}

/* New: linear up to 256 then nothing.  Old: asymptotic, about 3/4 per bit near full. */
static int fk_add(void *ctx, const uint8_t *buf, size_t n, unsigned bits)
{
	struct fake_kernel *k = ctx;

	k->adds++;
	k->credited += bits;
	if (k->gen == KERNEL_GEN_NEW)
		k->entropy = MIN(256u, k->entropy + bits);
	else
		k->entropy += (unsigned)((4096ull - k->entropy) * bits * 3 / 4 / 4096);
	return 0;
}

static int fk_reseed(void *ctx)
{
	((struct fake_kernel *)ctx)->reseeds++;
	return 0;
}

static int fk_threshold(void *ctx, unsigned bits)
{
	((struct fake_kernel *)ctx)->threshold = bits;
	return 0;
}

static const struct kernel_ops fake_kernel_ops = {
	.state = fk_state, .add = fk_add, .reseed = fk_reseed, .set_threshold = fk_threshold,
};

enum fake_behaviour { GOOD, CONSTANT, STALLED, ABSENT, NODEV, SLOW };

static int fs_open(struct source *s)
{
	return *(enum fake_behaviour *)s->data == ABSENT ? -ENOENT : 0;
}

static ssize_t fs_read(struct source *s, uint8_t *buf, size_t n)
{
	enum fake_behaviour *b = s->data;

	if (*b == STALLED)
		return -ETIMEDOUT;
	if (*b == NODEV)
		return -ENODEV;
	if (*b == SLOW) {
		/* 4 bytes every 2 ms: 512 ms for the 1024 start-up samples. */
		struct timespec ts = { .tv_nsec = 2000000 };

		nanosleep(&ts, NULL);
		return getrandom(buf, MIN(n, 4), 0);
	}
	if (*b == CONSTANT) {
		memset(buf, 0x5a, n);
		return (ssize_t)n;
	}
	return getrandom(buf, n, 0);
}

static void fs_close(struct source *s)
{
}

static const struct source_ops fake_source_ops = {
	.name = "fake", .open = fs_open, .read = fs_read, .close = fs_close,
};

static enum fake_behaviour behaviours[SEEDER_MAX_SOURCES];
static struct source sources[SEEDER_MAX_SOURCES];

static void setup(struct seeder *sd, struct fake_kernel *k, enum kernel_gen gen, size_t n,
		  const enum fake_behaviour *b, const unsigned *credit)
{
	*k = (struct fake_kernel){ .gen = gen };
	*sd = (struct seeder){
		.kernel = { .ops = &fake_kernel_ops, .ctx = k },
		.gen = gen,
		.fill_target = 3072,
		.n_sources = n,
	};
	for (size_t i = 0; i < n; i++) {
		behaviours[i] = b[i];
		assert_int_equal(source_init(&sources[i], &fake_source_ops, NULL, 4.0), 0);
		sources[i].data = &behaviours[i];
		sources[i].credit = credit[i];
		sd->sources[i] = &sources[i];
	}
}

static void test_seeder_new_kernel_fills_until_ready(void **state)
{
	struct seeder sd;
	struct fake_kernel k;
	struct kernel_state st;
	struct seeder_plan plan;

	setup(&sd, &k, KERNEL_GEN_NEW, 1, (enum fake_behaviour[]){ GOOD }, (unsigned[]){ 4 });
	assert_int_equal(seeder_fill(&sd, 1000), 1);
	assert_int_equal(k.entropy, 256);
	assert_int_equal(k.adds, 1); /* 64 bytes x 4 bits: one add is enough */
	assert_int_equal(sources[0].bits_credited, 256);
	fk_state(&k, &st);
	seeder_plan(&sd, &st, 2000, &plan);
	assert_false(plan.pollout);
	assert_false(plan.pollin);
	assert_int_equal(plan.wake_usec, 0); /* no reseed cadence: never wake */
}

static void test_seeder_new_kernel_unready_waits_on_pollout_and_pollin(void **state)
{
	struct seeder sd;
	struct fake_kernel k;
	struct kernel_state st;
	struct seeder_plan plan;

	setup(&sd, &k, KERNEL_GEN_NEW, 1, (enum fake_behaviour[]){ GOOD }, (unsigned[]){ 4 });
	fk_state(&k, &st);
	seeder_plan(&sd, &st, 0, &plan);
	assert_true(plan.pollout);
	assert_true(plan.pollin);
}

static void test_seeder_new_kernel_reseed_cadence(void **state)
{
	struct seeder sd;
	struct fake_kernel k;
	struct kernel_state st;
	struct seeder_plan plan;

	setup(&sd, &k, KERNEL_GEN_NEW, 1, (enum fake_behaviour[]){ GOOD }, (unsigned[]){ 4 });
	sd.reseed_usec = 60 * USEC_PER_SEC;
	assert_int_equal(seeder_fill(&sd, 0), 1);
	fk_state(&k, &st);
	seeder_plan(&sd, &st, 5 * USEC_PER_SEC, &plan);
	assert_int_equal(plan.wake_usec, 65 * USEC_PER_SEC);
	/* Planning again later does not move the deadline. */
	seeder_plan(&sd, &st, 30 * USEC_PER_SEC, &plan);
	assert_int_equal(plan.wake_usec, 65 * USEC_PER_SEC);
	assert_int_equal(seeder_reseed(&sd, 65 * USEC_PER_SEC), 0);
	assert_int_equal(k.reseeds, 1);
	seeder_plan(&sd, &st, 65 * USEC_PER_SEC, &plan);
	assert_int_equal(plan.wake_usec, 125 * USEC_PER_SEC);
}

static void test_seeder_new_kernel_ready_by_itself_reads_nothing(void **state)
{
	struct seeder sd;
	struct fake_kernel k;

	setup(&sd, &k, KERNEL_GEN_NEW, 1, (enum fake_behaviour[]){ GOOD }, (unsigned[]){ 4 });
	k.entropy = 256;
	assert_int_equal(seeder_fill(&sd, 0), 1);
	assert_int_equal(k.adds, 0);
	assert_int_equal(sources[0].bytes, 0);
}

static void test_seeder_old_kernel_refills_to_target_in_one_wakeup(void **state)
{
	struct seeder sd;
	struct fake_kernel k;
	struct kernel_state st;
	struct seeder_plan plan;

	setup(&sd, &k, KERNEL_GEN_OLD, 1, (enum fake_behaviour[]){ GOOD }, (unsigned[]){ 4 });
	k.entropy = 800;
	assert_int_equal(seeder_fill(&sd, 0), 1);
	assert_true(k.entropy >= 3072);
	assert_int_equal(sd.fills, 1);
	fk_state(&k, &st);
	seeder_plan(&sd, &st, 0, &plan);
	assert_true(plan.pollout); /* the kernel wakes us below write_wakeup_threshold */
	assert_false(plan.pollin);
	assert_int_equal(plan.wake_usec, 0);
}

static void test_seeder_stalled_source_falls_back_to_next(void **state)
{
	struct seeder sd;
	struct fake_kernel k;
	struct kernel_state st;
	struct seeder_plan plan;

	setup(&sd, &k, KERNEL_GEN_NEW, 2, (enum fake_behaviour[]){ STALLED, GOOD },
	      (unsigned[]){ 8, 4 });
	assert_int_equal(seeder_fill(&sd, 10), 1);
	assert_int_equal(sources[0].state, SOURCE_QUARANTINED);
	assert_int_equal(sources[0].bits_credited, 0);
	assert_int_equal(sources[1].bits_credited, 256);
	assert_int_equal(sources[0].retry_usec, 10 + SOURCE_BACKOFF_MIN_USEC);
	/* Not tried again before its backoff: the second source serves. */
	k.entropy = 0;
	assert_int_equal(seeder_fill(&sd, 20), 1);
	assert_int_equal(sources[0].errors, 1);
	fk_state(&k, &st);
	seeder_plan(&sd, &st, 30, &plan);
	assert_int_equal(plan.wake_usec, 0);
}

static void test_seeder_constant_source_is_never_credited(void **state)
{
	struct seeder sd;
	struct fake_kernel k;
	struct kernel_state st;
	struct seeder_plan plan;

	setup(&sd, &k, KERNEL_GEN_NEW, 1, (enum fake_behaviour[]){ CONSTANT }, (unsigned[]){ 8 });
	assert_int_equal(seeder_fill(&sd, 0), 0);
	assert_int_equal(k.credited, 0);
	assert_int_equal(k.adds, 0);
	assert_int_equal(sources[0].health_failures, 1);
	fk_state(&k, &st);
	seeder_plan(&sd, &st, 0, &plan);
	assert_false(plan.pollout); /* nothing usable: do not spin on POLLOUT */
	assert_true(plan.pollin);
	assert_int_equal(plan.wake_usec, SOURCE_BACKOFF_MIN_USEC);
	/* Backoff doubles on the next failure. */
	assert_int_equal(seeder_fill(&sd, SOURCE_BACKOFF_MIN_USEC), 0);
	assert_int_equal(sources[0].retry_usec, 3 * SOURCE_BACKOFF_MIN_USEC);
}

static void test_seeder_uncredited_source_is_mixed_once(void **state)
{
	struct seeder sd;
	struct fake_kernel k;
	struct kernel_state st;
	struct seeder_plan plan;

	setup(&sd, &k, KERNEL_GEN_NEW, 1, (enum fake_behaviour[]){ GOOD }, (unsigned[]){ 0 });
	assert_int_equal(seeder_fill(&sd, 0), 0);
	assert_int_equal(k.adds, 1);
	assert_int_equal(k.credited, 0);
	fk_state(&k, &st);
	seeder_plan(&sd, &st, 0, &plan);
	assert_false(plan.pollout);
	assert_true(plan.pollin);
}

static unsigned events[4], repeats;

static void count_event(const struct source *s, enum source_event ev, int error, bool repeat)
{
	events[ev]++;
	repeats += repeat;
}

static void test_seeder_absent_source_is_reopened_with_backoff(void **state)
{
	struct seeder sd;
	struct fake_kernel k;
	struct kernel_state st;
	struct seeder_plan plan;
	uint64_t t = 0;

	setup(&sd, &k, KERNEL_GEN_NEW, 1, (enum fake_behaviour[]){ ABSENT }, (unsigned[]){ 4 });
	memset(events, 0, sizeof(events));
	sources[0].on_event = count_event;
	/* 250 ms, then doubling, capped. */
	for (uint64_t want = 250000; want <= SOURCE_BACKOFF_MAX_USEC; want *= 2) {
		assert_int_equal(seeder_fill(&sd, t), 0);
		assert_int_equal(sources[0].retry_usec, t + want);
		fk_state(&k, &st);
		seeder_plan(&sd, &st, t, &plan);
		assert_int_equal(plan.wake_usec, t + want); /* --until-ready comes back then */
		t += want;
	}
	assert_int_equal(seeder_fill(&sd, t), 0);
	assert_int_equal(sources[0].retry_usec, t + SOURCE_BACKOFF_MAX_USEC);
	behaviours[0] = GOOD;
	assert_int_equal(seeder_fill(&sd, sources[0].retry_usec), 1);
	assert_int_equal(k.credited, 256);
	assert_int_equal(events[SOURCE_EV_PRESENT], 1);
	assert_int_equal(repeats, events[SOURCE_EV_ABSENT] - 1); /* logged once */
}

static void test_seeder_nodev_is_reported_once(void **state)
{
	struct seeder sd;
	struct fake_kernel k;

	setup(&sd, &k, KERNEL_GEN_NEW, 1, (enum fake_behaviour[]){ NODEV }, (unsigned[]){ 4 });
	memset(events, 0, sizeof(events));
	repeats = 0;
	sources[0].on_event = count_event;
	for (int i = 0; i < 5; i++)
		assert_int_equal(seeder_fill(&sd, sources[0].retry_usec), 0);
	assert_int_equal(events[SOURCE_EV_FAILED], 5);
	assert_int_equal(repeats, 4);
}

/* A slow source's start-up test is spread over fills of one timeout each, and the next
 * source serves meanwhile. */
static void test_seeder_slow_startup_is_bounded_per_fill(void **state)
{
	struct seeder sd;
	struct fake_kernel k;
	struct timespec t0, t1;
	int fills = 0;

	setup(&sd, &k, KERNEL_GEN_NEW, 1, (enum fake_behaviour[]){ SLOW }, (unsigned[]){ 4 });
	sources[0].timeout_msec = 100;
	do {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_true(seeder_fill(&sd, 0) >= 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* One timeout plus the read in progress, with room for a loaded machine. */
		assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 <
			    400);
		fills++;
	} while (sd.more && k.credited < 256 && fills < 100);
	assert_true(fills >= 3);
	assert_int_equal(sources[0].errors, 0);
	assert_int_equal(sources[0].state, SOURCE_OK);
	assert_int_equal(sources[0].health.startup_left, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeder_new_kernel_fills_until_ready),
		cmocka_unit_test(test_seeder_new_kernel_unready_waits_on_pollout_and_pollin),
		cmocka_unit_test(test_seeder_new_kernel_reseed_cadence),
		cmocka_unit_test(test_seeder_new_kernel_ready_by_itself_reads_nothing),
		cmocka_unit_test(test_seeder_old_kernel_refills_to_target_in_one_wakeup),
		cmocka_unit_test(test_seeder_stalled_source_falls_back_to_next),
		cmocka_unit_test(test_seeder_constant_source_is_never_credited),
		cmocka_unit_test(test_seeder_uncredited_source_is_mixed_once),
		cmocka_unit_test(test_seeder_absent_source_is_reopened_with_backoff),
		cmocka_unit_test(test_seeder_nodev_is_reported_once),
		cmocka_unit_test(test_seeder_slow_startup_is_bounded_per_fill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
