/* Control codec tables: text -> message or the exact refusal, message -> text -> message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctl-proto.h"
#include "macro.h"

#define UUID "727e378c-abbc-4506-abea-97862a503b2c"

struct bad_case {
	const char *text;
	const char *err;
};

static const struct bad_case bad_cases[] = {
	{ "", "not newline-terminated text of at most 4096 bytes" },
	{ "op=domain", "not newline-terminated text of at most 4096 bytes" },
	{ "op=start\nuuid=" UUID "\n", "op: not domain, adopt or forget" },
	{ "uuid=" UUID "\nop=forget\n", "op: not domain, adopt or forget" },
	{ "op=domain\nuuid=" UUID "\n", "name: missing" },
	{ "op=domain\nname=vm1\n", "uuid: missing" },
	{ "op=forget\n", "uuid: missing" },
	{ "op=domain\nname=vm 1\nuuid=" UUID "\n", "name: not 1-63 of [A-Za-z0-9_.+-]" },
	{ "op=domain\nname=\nuuid=" UUID "\n", "name: not 1-63 of [A-Za-z0-9_.+-]" },
	{ "op=domain\nname=vm1\nuuid=727E378C-ABBC-4506-ABEA-97862A503B2C\n",
	  "uuid: not a lower-case 36-character UUID" },
	{ "op=domain\nname=vm1\nname=vm2\nuuid=" UUID "\n", "key given twice" },
	{ "op=domain\nname=vm1\nuuid=" UUID "\ncolor=red\n", "unknown key" },
	{ "op=forget\nuuid=" UUID "\nname=vm1\n", "key not taken by this op" },
	{ "op=domain\nname=vm1\nuuid=" UUID "\nrate=12Q\n",
	  "rate: not a size > 0 within the token bucket limit" },
	{ "op=domain\nname=vm1\nuuid=" UUID "\nceil=0\n",
	  "ceil: not a size > 0 within the token bucket limit" },
	{ "op=domain\nname=vm1\nuuid=" UUID "\npid=-1\n", "pid: not a process id" },
	{ "op=domain\nname=vm1\nuuid=" UUID "\npid=99999999999\n", "pid: not a process id" },
	{ "op=domain\nname=vm1\nuuid=" UUID "\nclass\n", "line without '='" },
	{ "op=domain\nname=vm1\nuuid=" UUID "\nclass=" "0123456789012345678901234567890123456789"
	  "01234567890123456789012345\n", "value too long" },
};

static void test_ctl_parse_refuses_naming_the_cause(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
		struct ctl_msg m;
		const char *err = NULL;

		assert_int_equal(ctl_parse(bad_cases[i].text, strlen(bad_cases[i].text), &m, &err),
				 -EBADMSG);
		assert_string_equal(err, bad_cases[i].err);
	}
}

static void test_ctl_parse_domain_sizes(void **state)
{
	static const char text[] = "op=domain\nname=vm1\nuuid=" UUID "\nclass=prod\n"
				   "rate=64K\nceil=1M\nburst=4096\npid=1234\n";
	struct ctl_msg m;
	const char *err;

	assert_int_equal(ctl_parse(text, strlen(text), &m, &err), 0);
	assert_int_equal(m.op, CTL_OP_DOMAIN);
	assert_string_equal(m.name, "vm1");
	assert_string_equal(m.uuid, UUID);
	assert_string_equal(m.class, "prod");
	assert_int_equal(m.rate, 65536);
	assert_int_equal(m.ceil, 1048576);
	assert_int_equal(m.burst, 4096);
	assert_int_equal(m.pid, 1234);
}

static void test_ctl_build_parse_round_trip(void **state)
{
	static const struct ctl_msg msgs[] = {
		{ .op = CTL_OP_DOMAIN, .name = "vm1", .uuid = UUID },
		{ .op = CTL_OP_DOMAIN, .name = "web.prod-2", .uuid = UUID, .class = "prod",
		  .rate = 1, .ceil = 1ULL << 30, .burst = 255, .pid = 4194304 },
		{ .op = CTL_OP_ADOPT, .uuid = UUID },
		{ .op = CTL_OP_FORGET, .uuid = UUID },
	};

	for (size_t i = 0; i < ELEMENTSOF(msgs); i++) {
		char buf[CTL_MAX_MSG];
		struct ctl_msg m;
		const char *err;
		ssize_t n = ctl_build(buf, sizeof(buf), &msgs[i]);

		assert_true(n > 0);
		assert_int_equal(ctl_parse(buf, n, &m, &err), 0);
		assert_memory_equal(&m, &msgs[i], sizeof(m));
	}
}

static void test_ctl_build_exact_text(void **state)
{
	struct ctl_msg m = { .op = CTL_OP_DOMAIN, .name = "vm1", .uuid = UUID, .rate = 65536,
			     .pid = 7 };
	char buf[CTL_MAX_MSG];
	ssize_t n = ctl_build(buf, sizeof(buf), &m);

	assert_int_equal(n, strlen("op=domain\nname=vm1\nuuid=" UUID "\nrate=65536\npid=7\n"));
	assert_memory_equal(buf, "op=domain\nname=vm1\nuuid=" UUID "\nrate=65536\npid=7\n", n);
	assert_int_equal(ctl_build(buf, 20, &m), -ENOBUFS);
}

static void test_ctl_reply_ok_error_and_garbage(void **state)
{
	char buf[64], err[CTL_MAX_ERROR];
	ssize_t n;

	n = ctl_build_reply(buf, sizeof(buf), NULL);
	assert_int_equal(ctl_parse_reply(buf, n, err, sizeof(err)), 0);
	n = ctl_build_reply(buf, sizeof(buf), "no class 'gold'\nsecond line");
	assert_memory_equal(buf, "error=no class 'gold'\n", n);
	assert_int_equal(ctl_parse_reply(buf, n, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "no class 'gold'");
	assert_int_equal(ctl_parse_reply("ok", 2, err, sizeof(err)), -EBADMSG);
	assert_int_equal(ctl_parse_reply("error=a\nb\n", 10, err, sizeof(err)), -EBADMSG);
	assert_int_equal(ctl_parse_reply("error=\n", 7, err, sizeof(err)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_parse_refuses_naming_the_cause),
		cmocka_unit_test(test_ctl_parse_domain_sizes),
		cmocka_unit_test(test_ctl_build_parse_round_trip),
		cmocka_unit_test(test_ctl_build_exact_text),
		cmocka_unit_test(test_ctl_reply_ok_error_and_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
