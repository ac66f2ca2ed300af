/* Configuration: values, errors, and file < kernel command line < flags. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"

static const struct {
	const char *key, *value;
	int ret;
} set_table[] = {
	{ "sources", "rdrand,egd", 0 },
	{ "sources", "rdrand,rdrand", -EINVAL },
	{ "sources", "tpm", -EINVAL },
	{ "sources", "", -EINVAL },
	{ "hwrng-device", "/dev/fifo", 0 },
	{ "hwrng-timeout", "5", -ERANGE },
	{ "hwrng-timeout", "250", 0 },
	{ "egd", "unix:/run/egd.sock", 0 },
	{ "credit-rdrand", "9", -ERANGE },
	{ "credit-rdrand", "-1", -EINVAL },
	{ "credit-egd", "0", 0 },
	{ "min-entropy", "0", -ERANGE },
	{ "min-entropy", "0.4", -ERANGE },
	{ "min-entropy", "0.5", 0 },
	{ "min-entropy", "7.5", 0 },
	{ "min-entropy", "x", -ERANGE },
	{ "reseed-interval", "auto", 0 },
	{ "reseed-interval", "600", 0 },
	{ "reseed-interval", "1e3", -ERANGE },
	{ "wakeup-threshold", "5000", -ERANGE },
	{ "timeout", "0", -ERANGE },
	{ "confidential", "maybe", -EINVAL },
	{ "trust-host", "yes", 0 },
	{ "log-level", "debug", 0 },
	{ "log-level", "loud", -EINVAL },
	{ "fork-detect", "kmsg", 0 },
	{ "fork-detect", "off", 0 },
	{ "fork-detect", "uevent", -EINVAL },
	{ "no-such-key", "1", -ENOKEY },
};

static void test_config_set_table(void **state)
{
	for (size_t i = 0; i < sizeof(set_table) / sizeof(set_table[0]); i++) {
		struct config c;

		config_defaults(&c);
		if (config_set(&c, set_table[i].key, set_table[i].value) != set_table[i].ret)
			fail_msg("%s=%s: expected %d", set_table[i].key, set_table[i].value,
				 set_table[i].ret);
	}
}

static void test_config_fork_detect_cmdline_and_format(void **state)
{
	struct config c;
	char buf[2048];

	config_defaults(&c);
	assert_int_equal(c.fork_detect, FORK_MODE_AUTO);
	config_parse_cmdline(&c, "quiet virtseed.fork-detect=kernel", false, NULL, NULL);
	assert_int_equal(c.fork_detect, FORK_MODE_KERNEL);
	assert_int_equal(config_format(&c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\nfork-detect = kernel\n"));
}

static void test_config_file_reports_line(void **state)
{
	struct config c;
	unsigned line = 0;

	config_defaults(&c);
	assert_int_equal(config_parse_text(&c, "# comment\n\nsources = rdrand\n  timeout=5 \n",
					   &line), 0);
	assert_int_equal(c.n_order, 1);
	assert_int_equal(c.timeout_sec, 5);
	assert_int_equal(config_parse_text(&c, "timeout = 5\nbogus = 1\n", &line), -ENOKEY);
	assert_int_equal(line, 2);
	assert_int_equal(config_parse_text(&c, "timeout = 5\n\nno equals sign\n", &line),
			 -EBADMSG);
	assert_int_equal(line, 3);
}

static int bad_count;

static void count_bad(const char *key, const char *value, int error, void *userdata)
{
	bad_count++;
}

static void test_config_precedence_file_cmdline_flags(void **state)
{
	const char *flags[] = { "timeout=9" };
	struct config_input in = {
		.file_text = "timeout = 3\ncredit-egd = 1\nhwrng-timeout = 100\n",
		.cmdline = "quiet virtseed.timeout=7 virtseed.credit-egd=2 root=/dev/vda",
		.flags = flags,
		.n_flags = 1,
	};
	struct config_error err;
	struct config c;

	assert_int_equal(config_load(&c, &in, &err), 0);
	assert_int_equal(c.timeout_sec, 9);          /* flag wins */
	assert_int_equal(c.credit[SRC_EGD], 2);      /* cmdline beats file */
	assert_int_equal(c.hwrng_timeout_msec, 100); /* file beats default */
	assert_int_equal(c.min_entropy, 4.0);        /* default */
}

static void test_config_cmdline_bad_values_are_ignored(void **state)
{
	struct config_input in = {
		.cmdline = "virtseed.timeout=abc virtseed.nokey=1 virtseed.credit-egd=3",
		.bad = count_bad,
	};
	struct config_error err;
	struct config c;

	bad_count = 0;
	assert_int_equal(config_load(&c, &in, &err), 0);
	assert_int_equal(bad_count, 2);
	assert_int_equal(c.timeout_sec, 30);
	assert_int_equal(c.credit[SRC_EGD], 3);
}

static void test_config_rd_prefix_only_in_initrd(void **state)
{
	const char *cmdline = "rd.virtseed.timeout=4 virtseed.timeout=6 rd.virtseed=0";
	struct config c;

	config_defaults(&c);
	config_parse_cmdline(&c, cmdline, false, NULL, NULL);
	assert_int_equal(c.timeout_sec, 6);
	assert_false(c.disabled);
	config_defaults(&c);
	config_parse_cmdline(&c, "virtseed.timeout=6 rd.virtseed.timeout=4 rd.virtseed=0", true,
			     NULL, NULL);
	assert_int_equal(c.timeout_sec, 4);
	assert_true(c.disabled);
}

static void test_config_cmdline_quotes(void **state)
{
	struct config c;

	config_defaults(&c);
	config_parse_cmdline(&c, "a \"virtseed.egd=/dev/virtio-ports/x y\" b", false, NULL, NULL);
	assert_string_equal(c.egd, "/dev/virtio-ports/x y");
}

static void test_config_flag_errors_name_the_key(void **state)
{
	const char *flags[] = { "timeout=2", "credit-rdseed=12" };
	struct config_input in = { .flags = flags, .n_flags = 2 };
	struct config_error err;
	struct config c;

	assert_int_equal(config_load(&c, &in, &err), -ERANGE);
	assert_int_equal(err.flag, 1);
	assert_string_equal(err.key, "credit-rdseed");
	flags[1] = "whatever=1";
	assert_int_equal(config_load(&c, &in, &err), -ENOKEY);
	assert_string_equal(err.key, "whatever");
	flags[1] = "timeout";
	assert_int_equal(config_load(&c, &in, &err), -EINVAL);
}

static void test_config_file_error_stops_load(void **state)
{
	struct config_input in = { .file_text = "sources = hwrng\ncredit-hwrng = 99\n" };
	struct config_error err;
	struct config c;

	assert_int_equal(config_load(&c, &in, &err), -ERANGE);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.flag, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_set_table),
		cmocka_unit_test(test_config_fork_detect_cmdline_and_format),
		cmocka_unit_test(test_config_file_reports_line),
		cmocka_unit_test(test_config_precedence_file_cmdline_flags),
		cmocka_unit_test(test_config_cmdline_bad_values_are_ignored),
		cmocka_unit_test(test_config_rd_prefix_only_in_initrd),
		cmocka_unit_test(test_config_cmdline_quotes),
		cmocka_unit_test(test_config_flag_errors_name_the_key),
		cmocka_unit_test(test_config_file_error_stops_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
