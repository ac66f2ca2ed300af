/* SP 800-90B health tests: cutoffs, a stuck source, a biased source, a good one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <cmocka.h>

#include "health.h"

static void test_health_cutoffs_match_sp800_90b(void **state)
{
	/* SP 800-90B 4.4.1: C = 1 + ceil(20 / H). */
	assert_int_equal(health_rct_cutoff(8.0), 4);
	assert_int_equal(health_rct_cutoff(4.0), 6);
	assert_int_equal(health_rct_cutoff(1.0), 21);
	/* 4.4.2 table 2 (W = 512, non-binary samples). */
	assert_int_equal(health_apt_cutoff(0.5, 512), 410);
	assert_int_equal(health_apt_cutoff(1.0, 512), 311);
	assert_int_equal(health_apt_cutoff(2.0, 512), 177);
	assert_int_equal(health_apt_cutoff(4.0, 512), 62);
	assert_int_equal(health_apt_cutoff(8.0, 512), 13);
}

static void test_health_stuck_source_fails_at_rct_cutoff(void **state)
{
	struct health h;
	uint8_t buf[64];

	assert_int_equal(health_init(&h, 4.0, 1), 0);
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(health_test(&h, buf, h.rct_cutoff - 1), HEALTH_OK);
	assert_int_equal(health_test(&h, buf, 1), HEALTH_RCT);
	/* Sticky until reset. */
	assert_int_equal(health_test(&h, (uint8_t[]){ 1, 2, 3 }, 3), HEALTH_RCT);
	health_reset(&h);
	assert_int_equal(h.failure, HEALTH_OK);
}

static void test_health_biased_source_fails_apt(void **state)
{
	struct health h;
	uint8_t buf[512];

	/* Every other byte is 0x00: no long runs, but far too many zeros. */
	assert_int_equal(health_init(&h, 4.0, 1), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = i % 2 ? (uint8_t)(i * 37 + 1) : 0;
	assert_int_equal(health_test(&h, buf, sizeof(buf)), HEALTH_APT);
}

static void test_health_good_source_passes(void **state)
{
	struct health h;
	uint8_t buf[4096];

	assert_int_equal(health_init(&h, 4.0, 1), 0);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(getrandom(buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
		assert_int_equal(health_test(&h, buf, sizeof(buf)), HEALTH_OK);
	}
	assert_true(health_started(&h));
}

static void test_health_startup_needs_1024_samples(void **state)
{
	struct health h;
	uint8_t buf[1023];

	assert_int_equal(health_init(&h, 8.0, 1), 0);
	assert_int_equal(getrandom(buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	health_test(&h, buf, sizeof(buf));
	assert_false(health_started(&h));
	health_test(&h, buf, 1);
	assert_true(health_started(&h) || h.failure != HEALTH_OK);
}

static void test_health_word_samples_catch_a_repeated_word(void **state)
{
	uint64_t words[512];
	struct health h;

	/* 4 bits per byte = 32 per word: RCT cutoff 2, any repeated word in a window fails APT. */
	assert_int_equal(health_init(&h, 4.0, 8), 0);
	assert_int_equal(h.rct_cutoff, 2);
	assert_int_equal(getrandom(words, sizeof(words), 0), (ssize_t)sizeof(words));
	assert_int_equal(health_test(&h, (uint8_t *)words, sizeof(words)), HEALTH_OK);
	words[7] = words[6];
	assert_int_equal(health_test(&h, (uint8_t *)words, sizeof(words)), HEALTH_RCT);
	/* All-ones words, like a known-bad RDRAND, fail at once. */
	health_reset(&h);
	memset(words, 0xff, 16);
	assert_int_equal(health_test(&h, (uint8_t *)words, 16), HEALTH_RCT);
	/* Only bytes and 64-bit words are samples. */
	assert_int_equal(health_init(&h, 4.0, 3), -EINVAL);
}

static void test_health_init_rejects_bad_entropy(void **state)
{
	struct health h;

	assert_int_equal(health_init(&h, 0.0, 1), -EINVAL);
	assert_int_equal(health_init(&h, 8.5, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_cutoffs_match_sp800_90b),
		cmocka_unit_test(test_health_stuck_source_fails_at_rct_cutoff),
		cmocka_unit_test(test_health_biased_source_fails_apt),
		cmocka_unit_test(test_health_good_source_passes),
		cmocka_unit_test(test_health_startup_needs_1024_samples),
		cmocka_unit_test(test_health_word_samples_catch_a_repeated_word),
		cmocka_unit_test(test_health_init_rejects_bad_entropy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
