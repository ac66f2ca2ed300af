/*
 * The guest registry (egd/registry.c) on a virtual clock: declared guests and
 * live rate changes, lookup by pid and by SO_PEERCRED rule, forgetting, the
 * lingering of made-up guests, and how much restart prefix a QEMU gets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "macro.h"
#include "registry.h"

#define T0 (1000 * USEC_PER_SEC)
#define UUID "6c1b4c5e-0c0e-4c7a-9d3e-2f5b8a1d9e01"
#define UNSET UINT64_MAX

static void setup(struct registry *reg, const char *text)
{
	struct egd_conf_error err;
	struct egd_conf c;

	assert_int_equal(egd_conf_init(&c), 0);
	assert_int_equal(egd_conf_parse(&c, text, strlen(text), &err), 0);
	assert_int_equal(egd_conf_finish(&c, &err), 0);
	assert_int_equal(registry_init(reg, &c, T0), 0);
}

static struct egd_guest *declare(struct registry *reg, uint64_t rate, uint64_t ceil, pid_t pid)
{
	struct guest_decl d = { .name = "web1", .uuid = UUID,
				.params = { rate, ceil, UNSET }, .pid = pid };
	struct egd_guest *g;

	assert_int_equal(registry_declare(reg, &d, T0, &g), 0);
	return g;
}

static void test_registry_declare_then_update_applies_to_connections(void **state)
{
	struct registry reg;
	struct egd_guest *g, *again;
	struct htb_node conn;

	setup(&reg, "[class default]\nguest-burst = 1K\n");
	g = declare(&reg, 1000, 2000, 0);
	assert_int_equal(g->origin, GUEST_DECLARED);
	assert_int_equal(g->params.rate, 1000);
	assert_int_equal(g->node.ctokens.rate, 2000);
	assert_int_equal(g->params.burst, 1024);        /* the class's guest default */
	htb_node_init_member(&conn, &g->node);
	registry_ref(g);
	again = declare(&reg, 5000, 8000, 0);           /* metadata change: same uuid */
	assert_ptr_equal(again, g);
	assert_int_equal(htb_take(&conn, 100000, false, T0 + USEC_PER_SEC), 1024);
	assert_int_equal(g->node.tokens.rate, 5000);    /* what the connection spends */
	assert_int_equal(g->node.ctokens.rate, 8000);
	registry_unref(&reg, g);
	registry_done(&reg);
}

static void test_registry_declare_rejects_bad_identity(void **state)
{
	struct guest_decl bad_uuid = { .name = "a", .uuid = "x", .params = { 1, 1, 1 } };
	struct guest_decl bad_name = { .name = "a/b", .uuid = UUID, .params = { 1, 1, 1 } };
	struct guest_decl bad_class = { .name = "a", .uuid = UUID, .class = "nope",
					.params = { 1, 1, 1 } };
	struct guest_decl too_fast = { .name = "a", .uuid = UUID, .params = { 10, 1 << 30, 1 } };
	struct registry reg;
	struct egd_guest *g;

	setup(&reg, "budget = 1M\n");
	assert_int_equal(registry_declare(&reg, &bad_uuid, T0, &g), -EINVAL);
	assert_int_equal(registry_declare(&reg, &bad_name, T0, &g), -EINVAL);
	assert_int_equal(registry_declare(&reg, &bad_class, T0, &g), -EINVAL);
	assert_int_equal(registry_declare(&reg, &too_fast, T0, &g), -EINVAL);
	registry_done(&reg);
}

static void test_registry_pid_and_cred_lookup(void **state)
{
	struct registry reg;
	struct egd_guest *g;

	setup(&reg, "[guest db1]\nuid = 1234\n[guest db2]\ngid = 99\nuid = 7\n");
	g = declare(&reg, 1000, 1000, 4242);
	assert_ptr_equal(registry_by_pid(&reg, 4242), g);
	assert_null(registry_by_pid(&reg, 4243));
	assert_null(registry_by_pid(&reg, 0));
	assert_string_equal(registry_by_cred(&reg, 1234, 0)->name, "db1");
	assert_string_equal(registry_by_cred(&reg, 7, 99)->name, "db2");
	assert_null(registry_by_cred(&reg, 7, 98));
	assert_ptr_equal(registry_by_uuid(&reg, UUID), g);
	registry_done(&reg);
}

static void test_registry_forget_drops_with_last_connection(void **state)
{
	struct registry reg;
	struct egd_guest *g;

	setup(&reg, "");
	g = registry_ref(declare(&reg, 1000, 1000, 77));
	registry_forget(&reg, g);
	assert_null(registry_by_pid(&reg, 77));         /* nobody claims it any more */
	assert_null(registry_by_uuid(&reg, UUID));
	assert_int_equal(reg.n_guests, 1);              /* its connection still runs */
	registry_unref(&reg, g);
	assert_int_equal(reg.n_guests, 0);
	registry_done(&reg);
}

/* A peer that reconnects finds the balance it left: guests linger until refilled. */
static void test_registry_made_up_guest_lingers_until_refilled(void **state)
{
	struct registry reg;
	struct egd_guest *g;
	struct htb_node conn;

	setup(&reg, "[class default]\nguest-rate = 1000\nguest-burst = 1000\n");
	g = registry_ref(registry_guest(&reg, "peer", T0));
	htb_node_init_member(&conn, &g->node);
	assert_int_equal(htb_take(&conn, 5000, false, T0), 1000);
	registry_unref(&reg, g);
	assert_ptr_equal(registry_guest(&reg, "peer", T0 + 1), g);
	assert_int_equal(htb_take(&conn, 5000, false, T0 + 1), 0);     /* still empty */
	(void)registry_guest(&reg, "other", T0 + 2 * USEC_PER_SEC);     /* reaps "peer" */
	assert_int_equal(reg.n_guests, 1);
	registry_done(&reg);
}

/* Issue 9, promise 1: the restart prefix at most once per refill period, else what was owed. */
static void test_registry_prefix_once_per_period_or_unanswered(void **state)
{
	struct registry reg;
	struct egd_guest *g;

	setup(&reg, "qemu-prefix = 256\n[class default]\nguest-rate = 1K\n");
	g = registry_guest(&reg, "q", T0);
	assert_int_equal(registry_prefix(&reg, g, T0), 256);
	assert_int_equal(registry_prefix(&reg, g, T0 + 1000), 0);       /* churning */
	g->closed_once = true;
	g->unanswered = 64;
	assert_int_equal(registry_prefix(&reg, g, T0 + 2000), 64);      /* what was owed */
	assert_int_equal(registry_prefix(&reg, g, T0 + 2000 + 250 * USEC_PER_MSEC), 256);
	registry_done(&reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_declare_then_update_applies_to_connections),
		cmocka_unit_test(test_registry_declare_rejects_bad_identity),
		cmocka_unit_test(test_registry_pid_and_cred_lookup),
		cmocka_unit_test(test_registry_forget_drops_with_last_connection),
		cmocka_unit_test(test_registry_made_up_guest_lingers_until_refilled),
		cmocka_unit_test(test_registry_prefix_once_per_period_or_unanswered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
