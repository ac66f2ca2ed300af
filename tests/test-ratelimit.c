/* lib/ratelimit: a window of burst events on a virtual clock, and the count of the refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

#define SEC 1000000ULL

static void test_ratelimit_burst_then_refuses_until_next_window(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(10 * SEC, 2);
	unsigned n = 99;

	assert_true(ratelimit_below(&rl, 5 * SEC, &n));
	assert_int_equal(n, 0);
	assert_true(ratelimit_below(&rl, 6 * SEC, NULL));
	assert_false(ratelimit_below(&rl, 7 * SEC, NULL));
	assert_false(ratelimit_below(&rl, 14 * SEC, NULL));
	assert_true(ratelimit_below(&rl, 15 * SEC, &n));
	assert_int_equal(n, 2);         /* the two refused, said once */
	assert_true(ratelimit_below(&rl, 15 * SEC, &n));
	assert_int_equal(n, 0);
}

static void test_ratelimit_time_zero_is_a_time(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(SEC, 1);

	assert_true(ratelimit_below(&rl, 0, NULL));
	assert_false(ratelimit_below(&rl, 1, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit_burst_then_refuses_until_next_window),
		cmocka_unit_test(test_ratelimit_time_zero_is_a_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
