/* Hierarchical buckets and DRR on a virtual clock, with an infinitely fast sink. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "htb.h"
#include "macro.h"

#define SEC 1000000ULL
#define STEP 1000ULL
#define GREEDY ((size_t)1 << 30)

static size_t sink(struct htb_node *leaf, size_t n, void *userdata)
{
	uint64_t *total = userdata;

	if (total)
		*total += n;
	return n;
}

/* Run greedy @leaves from @from to @to; returns bytes per leaf served in [from, to). */
static void run(struct htb *h, struct htb_node **leaves, size_t n, uint64_t from, uint64_t to,
		uint64_t *ret_bytes)
{
	uint64_t start[64];

	for (uint64_t t = 0; t < to; t += STEP) {
		if (t == from)
			for (size_t i = 0; i < n; i++)
				start[i] = leaves[i]->bytes;
		for (size_t i = 0; i < n; i++)
			if (leaves[i]->backlog == 0 && ret_bytes[i] != UINT64_MAX)
				htb_set_backlog(h, leaves[i], GREEDY, t);
		(void)htb_run(h, t, sink, NULL, NULL);
	}
	for (size_t i = 0; i < n; i++)
		ret_bytes[i] = leaves[i]->bytes - start[i];
}

static void node(struct htb_node *n, struct htb_node *parent, uint64_t rate, uint64_t ceil,
		 uint64_t burst)
{
	struct htb_params p = { .rate = rate, .ceil = ceil, .burst = burst };

	assert_int_equal(htb_node_init(n, parent, &p, 0), 0);
}

static void assert_within(uint64_t got, uint64_t want, unsigned percent)
{
	print_message("got %llu want %llu\n", (unsigned long long)got, (unsigned long long)want);
	assert_in_range(got, want - want * percent / 100, want + want * percent / 100);
}

static void test_htb_params_check_rejects(void **state)
{
	struct htb_params ok = { 10, 20, 5 }, low_ceil = { 10, 5, 5 }, no_burst = { 10, 20, 0 };
	struct htb_params zero_ceil = { 0, 0, 5 }, huge = { 1, TBUCKET_MAX_RATE + 1, 5 };

	assert_int_equal(htb_params_check(&ok), 0);
	assert_int_equal(htb_params_check(&low_ceil), -EINVAL);
	assert_int_equal(htb_params_check(&no_burst), -EINVAL);
	assert_int_equal(htb_params_check(&zero_ceil), -EINVAL);
	assert_int_equal(htb_params_check(&huge), -EINVAL);
}

static void test_htb_rate_met(void **state)
{
	struct htb h = {};
	struct htb_node root, cls, leaf;
	struct htb_node *leaves[] = { &leaf };
	uint64_t got[1] = {};

	node(&root, NULL, 1000000, 1000000, 65536);
	node(&cls, &root, 100000, 100000, 16384);
	node(&leaf, &cls, 12345, 12345, 4096);
	run(&h, leaves, 1, 2 * SEC, 12 * SEC, got);
	assert_within(got[0], 123450, 2);
}

static void test_htb_ceil_respected_when_borrowing(void **state)
{
	struct htb h = {};
	struct htb_node root, cls, leaf;
	struct htb_node *leaves[] = { &leaf };
	uint64_t got[1] = {};

	node(&root, NULL, 1000000, 1000000, 65536);
	node(&cls, &root, 500000, 1000000, 16384);
	node(&leaf, &cls, 1000, 50000, 4096);
	run(&h, leaves, 1, 2 * SEC, 12 * SEC, got);
	assert_within(got[0], 500000, 2);
	assert_true(leaf.borrowed > 0);
}

/* An idle sibling's rate is lent to the busy one, up to the class rate. */
static void test_htb_borrow_from_class(void **state)
{
	struct htb h = {};
	struct htb_node root, cls, busy, idle;
	struct htb_node *leaves[] = { &busy, &idle };
	uint64_t got[2] = { 0, UINT64_MAX };

	node(&root, NULL, 20000, 20000, 8192);
	node(&cls, &root, 20000, 20000, 8192);
	node(&busy, &cls, 5000, 20000, 2048);
	node(&idle, &cls, 15000, 20000, 2048);
	run(&h, leaves, 2, 2 * SEC, 12 * SEC, got);
	assert_within(got[0], 200000, 2);
	assert_int_equal(got[1], 0);
}

/* Equal borrowers share the spare root capacity equally (Jain index ~1). */
static void test_htb_drr_fair(void **state)
{
	struct htb h = {};
	struct htb_node root, cls, leaf[8];
	struct htb_node *leaves[8];
	uint64_t got[8] = {};

	node(&root, NULL, 80000, 80000, 16384);
	node(&cls, &root, 0, 80000, 16384);
	for (size_t i = 0; i < 8; i++) {
		node(&leaf[i], &cls, 0, 80000, 4096);
		leaves[i] = &leaf[i];
	}
	run(&h, leaves, 8, 2 * SEC, 12 * SEC, got);
	for (size_t i = 0; i < 8; i++)
		assert_within(got[i], 100000, 2);
}

/* Overcommitted rates: the root budget still bounds every window. */
static void test_htb_host_budget_never_exceeded(void **state)
{
	struct htb h = {};
	struct htb_node root, cls, leaf[4];
	uint64_t total = 0, prev = 0;

	node(&root, NULL, 10000, 10000, 2000);
	node(&cls, &root, 100000, 100000, 50000);
	for (size_t i = 0; i < 4; i++)
		node(&leaf[i], &cls, 50000, 100000, 20000);
	for (uint64_t t = 0; t < 20 * SEC; t += STEP) {
		for (size_t i = 0; i < 4; i++)
			htb_set_backlog(&h, &leaf[i], GREEDY, t);
		(void)htb_run(&h, t, sink, &total, NULL);
		if (t % SEC == 0) {
			/* one second may add the rate plus at most one burst */
			assert_true(total - prev <= 10000 + 2000);
			prev = total;
		}
	}
	assert_within(total, 20 * 10000, 2);
}

/* A guest within its rate is served at once although greedy guests drain the root. */
static void test_htb_green_first(void **state)
{
	struct htb h = {};
	struct htb_node root, cls, greedy[4], light;
	uint64_t next;

	node(&root, NULL, 100000, 100000, 8192);
	node(&cls, &root, 100000, 100000, 8192);
	node(&light, &cls, 10000, 10000, 1024);
	for (size_t i = 0; i < 4; i++)
		node(&greedy[i], &cls, 1000, 100000, 1024);
	for (uint64_t t = 0; t < 5 * SEC; t += STEP) {
		for (size_t i = 0; i < 4; i++)
			htb_set_backlog(&h, &greedy[i], GREEDY, t);
		(void)htb_run(&h, t, sink, NULL, &next);
		assert_true(next > t);
		if (t > SEC && t % (10 * STEP) == 0)
			assert_int_equal(htb_take(&light, 64, false, t + STEP / 2), 64);
	}
}

static void test_htb_backlog_ring(void **state)
{
	struct htb h = {};
	struct htb_node root, a, b;
	uint64_t next;

	node(&root, NULL, 1000, 1000, 100);
	node(&a, &root, 0, 1000, 100);
	node(&b, &root, 0, 1000, 100);
	htb_set_backlog(&h, &a, 10, 0);
	htb_set_backlog(&h, &b, 10, 0);
	assert_int_equal(h.n_active, 2);
	assert_int_equal(htb_run(&h, 0, sink, NULL, &next), 20);
	assert_int_equal(h.n_active, 0);
	assert_int_equal(next, 0);
	htb_set_backlog(&h, &a, 500, 0);
	(void)htb_run(&h, 0, sink, NULL, &next);
	assert_int_equal(h.n_active, 1);
	assert_true(next >= HTB_TICK_USEC && next <= HTB_MAX_WAIT_USEC);
	assert_int_equal(htb_throttled_usec(&a, 5000), 5000);
	htb_remove(&h, &a, 5000);
	assert_int_equal(h.n_active, 0);
	assert_null(h.ring);
}

/* Issue 9, promise 1: connections of one guest share its ceil, however many are made anew. */
static void test_htb_member_leaves_share_the_guest_ceil(void **state)
{
	struct htb_node root, guest, conns[8];
	struct htb h = {};
	uint64_t total = 0;

	node(&root, NULL, 1000000, 1000000, 1000000);
	node(&guest, &root, 10000, 10000, 1000);
	for (uint64_t t = 0; t < 10 * SEC; t += STEP) {
		struct htb_node *c = &conns[(t / (100 * STEP)) % 8];

		/* Every 100 ms a fresh connection replaces the previous one. */
		if (t % (100 * STEP) == 0) {
			htb_node_init_member(c, &guest);
			htb_set_backlog(&h, c, GREEDY, t);
		}
		total += htb_take(c, 4096, false, t);
		(void)htb_run(&h, t, sink, &total, NULL);
		if (t % (100 * STEP) == 100 * STEP - STEP)
			htb_remove(&h, c, t);
	}
	/* 10 s at 10000 B/s plus one burst of 1000: never one burst per connection. */
	assert_true(total <= 10 * 10000 + 1000);
	assert_within(total, 10 * 10000, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_htb_member_leaves_share_the_guest_ceil),
		cmocka_unit_test(test_htb_params_check_rejects),
		cmocka_unit_test(test_htb_rate_met),
		cmocka_unit_test(test_htb_ceil_respected_when_borrowing),
		cmocka_unit_test(test_htb_borrow_from_class),
		cmocka_unit_test(test_htb_drr_fair),
		cmocka_unit_test(test_htb_host_budget_never_exceeded),
		cmocka_unit_test(test_htb_green_first),
		cmocka_unit_test(test_htb_backlog_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
