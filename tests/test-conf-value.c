/* lib/conf-value: the value syntax shared by both configuration files, and the table type. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conf-value.h"
#include "macro.h"

static void test_conf_value_bool_words(void **state)
{
	static const struct { const char *s; int r; bool v; } cases[] = {
		{ "on", 0, true }, { "yes", 0, true }, { "true", 0, true }, { "1", 0, true },
		{ "off", 0, false }, { "no", 0, false }, { "false", 0, false }, { "0", 0, false },
		{ "On", -EINVAL, false }, { "", -EINVAL, false }, { "2", -EINVAL, false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		bool v = !cases[i].v;

		assert_int_equal(conf_parse_bool(cases[i].s, &v), cases[i].r);
		if (cases[i].r == 0)
			assert_int_equal(v, cases[i].v);
	}
}

static void test_conf_value_size_suffixes_and_range(void **state)
{
	uint64_t v;

	assert_int_equal(conf_parse_size("64K", CONF_MAX_SIZE, &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(conf_parse_size("2m", CONF_MAX_SIZE, &v), 0);
	assert_int_equal(v, 2 << 20);
	assert_int_equal(conf_parse_size("16G", CONF_MAX_SIZE, &v), 0);
	assert_int_equal(conf_parse_size("17G", CONF_MAX_SIZE, &v), -ERANGE);
	assert_int_equal(conf_parse_size("1025", 1024, &v), -ERANGE);
	assert_int_equal(conf_parse_size("1KB", CONF_MAX_SIZE, &v), -EINVAL);
	assert_int_equal(conf_parse_size("-1", CONF_MAX_SIZE, &v), -EINVAL);
	assert_int_equal(conf_parse_rate("1M", &v), 0);
	assert_int_equal(v, 1 << 20);
}

static void test_conf_value_uint_range(void **state)
{
	unsigned v;

	assert_int_equal(conf_parse_uint("10", 1, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(conf_parse_uint("0", 1, 10, &v), -ERANGE);
	assert_int_equal(conf_parse_uint("11", 1, 10, &v), -ERANGE);
	assert_int_equal(conf_parse_uint("1K", 1, 10000, &v), -EINVAL);
	assert_int_equal(conf_parse_uint("99999999999999999999", 0, 10, &v), -ERANGE);
}

static void test_conf_value_address_kinds(void **state)
{
	struct address a;

	assert_int_equal(conf_parse_address("unix:/run/x.sock", CONF_ADDRESS_KIND(ADDRESS_UNIX), &a),
			 0);
	assert_int_equal(a.kind, ADDRESS_UNIX);
	assert_int_equal(conf_parse_address("vsock:2:5000", CONF_ADDRESS_KIND(ADDRESS_UNIX), &a),
			 -EAFNOSUPPORT);
	assert_int_equal(conf_parse_address("bogus", ~0U, &a), -EINVAL);
	assert_string_equal(conf_value_error(-EAFNOSUPPORT), "address kind not allowed here");
}

struct sample {
	uint64_t rate;
	unsigned count;
	bool on;
	char name[8];
	unsigned mode;
};

static const char *const modes[] = { "refuse", "mix", NULL };
static const struct conf_item items[] = {
	{ "global", "rate", conf_item_size, offsetof(struct sample, rate), 0, 1 << 20, NULL },
	{ "global", "count", conf_item_unsigned, offsetof(struct sample, count), 1, 100, NULL },
	{ "global", "on", conf_item_bool, offsetof(struct sample, on), 0, 0, NULL },
	{ NULL, "name", conf_item_string, offsetof(struct sample, name), 0, 8, NULL },
	{ "global", "mode", conf_item_enum, offsetof(struct sample, mode), 0, 0, modes },
};

static void test_conf_value_table_parses_and_formats(void **state)
{
	static const char *const kv[][2] = {
		{ "rate", "64K" }, { "count", "7" }, { "on", "yes" }, { "name", "abc" },
		{ "mode", "mix" },
	};
	static const char *const printed[] = { "65536", "7", "yes", "abc", "mix" };
	struct sample s = {};
	char buf[32];

	for (size_t i = 0; i < ELEMENTSOF(kv); i++) {
		const struct conf_item *it = conf_table_find(items, ELEMENTSOF(items), "global",
							     kv[i][0]);

		assert_non_null(it);
		assert_int_equal(it->parse(it, kv[i][1], &s), 0);
		assert_int_equal(conf_item_format(it, &s, buf, sizeof(buf)), 0);
		assert_string_equal(buf, printed[i]);
	}
	assert_int_equal(items[1].parse(&items[1], "101", &s), -ERANGE);
	assert_int_equal(items[3].parse(&items[3], "toolongname", &s), -ENAMETOOLONG);
	assert_int_equal(items[4].parse(&items[4], "other", &s), -EINVAL);
	assert_null(conf_table_find(items, ELEMENTSOF(items), "class", "rate"));
	assert_non_null(conf_table_find(items, ELEMENTSOF(items), "class", "name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_value_bool_words),
		cmocka_unit_test(test_conf_value_size_suffixes_and_range),
		cmocka_unit_test(test_conf_value_uint_range),
		cmocka_unit_test(test_conf_value_address_kinds),
		cmocka_unit_test(test_conf_value_table_parses_and_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
