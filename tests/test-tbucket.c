/* Token bucket on a virtual clock. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tbucket.h"

static void test_tbucket_init_full(void **state)
{
	struct tbucket b;

	assert_int_equal(tbucket_init(&b, 1000, 500, 0), 0);
	assert_int_equal(tbucket_avail(&b, 0), 500);
	assert_true(tbucket_take(&b, 0, 500));
	assert_false(tbucket_take(&b, 0, 1));
}

static void test_tbucket_init_limits(void **state)
{
	struct tbucket b;

	assert_int_equal(tbucket_init(&b, 1, 0, 0), -EINVAL);
	assert_int_equal(tbucket_init(&b, TBUCKET_MAX_RATE + 1, 1, 0), -EINVAL);
	assert_int_equal(tbucket_init(&b, 1, TBUCKET_MAX_BURST + 1, 0), -EINVAL);
	assert_int_equal(tbucket_init(&b, TBUCKET_MAX_RATE, TBUCKET_MAX_BURST, 0), 0);
	/* a day idle at the maximum rate must not overflow */
	assert_true(tbucket_take(&b, 0, TBUCKET_MAX_BURST));
	assert_int_equal(tbucket_avail(&b, 86400ULL * 1000000), (int64_t)TBUCKET_MAX_BURST);
}

/* Taking 1 byte whenever possible for 100 virtual seconds yields rate * 100 exactly. */
static void test_tbucket_rate_exact(void **state)
{
	struct tbucket b;
	uint64_t got = 0;

	assert_int_equal(tbucket_init(&b, 3333, 16, 0), 0);
	assert_true(tbucket_take(&b, 0, 15));
	assert_true(tbucket_take(&b, 0, 1));
	for (uint64_t t = 1; t <= 100000000; t += 7)
		while (tbucket_take(&b, t, 1))
			got++;
	assert_in_range(got, 333299, 333301);
}

static void test_tbucket_burst_caps_idle(void **state)
{
	struct tbucket b;

	assert_int_equal(tbucket_init(&b, 1000, 100, 0), 0);
	assert_true(tbucket_take(&b, 0, 100));
	assert_int_equal(tbucket_avail(&b, 50000), 50);
	assert_int_equal(tbucket_avail(&b, 10000000), 100);
}

static void test_tbucket_charge_debt(void **state)
{
	struct tbucket b;

	assert_int_equal(tbucket_init(&b, 1000, 100, 0), 0);
	tbucket_charge(&b, 0, 150);
	assert_int_equal(tbucket_avail(&b, 0), -50);
	tbucket_charge(&b, 0, 1000);
	assert_int_equal(tbucket_avail(&b, 0), -100);  /* floor: one burst */
	assert_int_equal(tbucket_wait_usec(&b, 0, 10), 110000);
	assert_int_equal(tbucket_avail(&b, 110000), 10);
}

static void test_tbucket_wait_never(void **state)
{
	struct tbucket b;

	assert_int_equal(tbucket_init(&b, 0, 10, 0), 0);
	assert_int_equal(tbucket_wait_usec(&b, 0, 10), 0);
	assert_true(tbucket_take(&b, 0, 10));
	assert_int_equal(tbucket_wait_usec(&b, 0, 1), UINT64_MAX);
	assert_int_equal(tbucket_init(&b, 10, 10, 0), 0);
	assert_int_equal(tbucket_wait_usec(&b, 0, 11), UINT64_MAX);
}

static void test_tbucket_set_clamps(void **state)
{
	struct tbucket b;

	assert_int_equal(tbucket_init(&b, 1000, 1000, 0), 0);
	tbucket_set(&b, 10, 10, 0);
	assert_int_equal(tbucket_avail(&b, 0), 10);
	assert_true(tbucket_take(&b, 0, 10));
	assert_int_equal(tbucket_avail(&b, 1000000), 10);
}

static void test_tbucket_clock_backwards(void **state)
{
	struct tbucket b;

	assert_int_equal(tbucket_init(&b, 1000, 100, 5000000), 0);
	assert_true(tbucket_take(&b, 5000000, 100));
	assert_int_equal(tbucket_avail(&b, 1000000), 0);
	assert_int_equal(tbucket_avail(&b, 5010000), 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tbucket_init_full),
		cmocka_unit_test(test_tbucket_init_limits),
		cmocka_unit_test(test_tbucket_rate_exact),
		cmocka_unit_test(test_tbucket_burst_caps_idle),
		cmocka_unit_test(test_tbucket_charge_debt),
		cmocka_unit_test(test_tbucket_wait_never),
		cmocka_unit_test(test_tbucket_set_clamps),
		cmocka_unit_test(test_tbucket_clock_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
