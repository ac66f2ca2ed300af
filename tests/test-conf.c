/* Configuration: values, errors, and file < kernel command line < flags. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
	{ "sources", "rdrand,", -EINVAL },
	{ "hwrng-device", "/dev/fifo", 0 },
	{ "hwrng-device", "dev/fifo", -EINVAL },
	{ "hwrng-timeout", "5", -EINVAL },
	{ "hwrng-timeout", "250", 0 },
	{ "egd", "unix:/run/egd.sock", 0 },
	{ "egd", "vsock:x:y", -EINVAL },
	{ "egd", "tcp:1.2.3", -EINVAL },
	{ "egd", "", 0 },
	{ "credit-rdrand", "9", -EINVAL },
	{ "credit-rdrand", "-1", -EINVAL },
	{ "credit-egd", "0", 0 },
	{ "min-entropy", "0", -EINVAL },
	{ "min-entropy", "0.4", -EINVAL },
	{ "min-entropy", "0.5", 0 },
	{ "min-entropy", "7.5", 0 },
	{ "min-entropy", "8.5", -EINVAL },
	{ "min-entropy", "x", -EINVAL },
	{ "reseed-interval", "auto", 0 },
	{ "reseed-interval", "600", 0 },
	{ "reseed-interval", "1e3", -EINVAL },
	{ "wakeup-threshold", "5000", -EINVAL },
	{ "timeout", "0", -EINVAL },
	{ "confidential", "maybe", -EINVAL },
	{ "trust-host", "yes", 0 },
	{ "trust-host", "on", 0 },
	{ "log-level", "debug", 0 },
	{ "log-level", "11", -EINVAL },
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

static bool only_root(const char *name)
{
	return strcmp(name, "root") == 0;
}

/* What a person reads for each bad item, file, flag and kernel command line alike. */
static const struct {
	const char *file, *flag, *cmdline, *msg;
} message_table[] = {
	{ "bogus = 1\n", NULL, NULL, "F:1: unknown key 'bogus'" },
	{ "# c\ncredit-rdrand = 12\n", NULL, NULL,
	  "F:2: invalid value '12' for 'credit-rdrand': allowed 0 to 8 (bits per byte)" },
	{ "no equals sign\n", NULL, NULL, "F:1: expected 'key = value'" },
	{ "timeout = 5\ntime\0out = 6\n", NULL, NULL, "F:2: NUL byte in the line" },
	{ "user = nosuch\n", NULL, NULL, "F:1: invalid value 'nosuch' for 'user': no such user" },
	{ "credit-hwrng = 8\nmin-entropy = 0.5\n", NULL, NULL,
	  "F:1: invalid value '8' for 'credit-hwrng': more than min-entropy = 0.5: a source is "
	  "credited at most the min-entropy its health tests assume" },
	{ NULL, "bogus", NULL, "Unknown option '--bogus'" },
	{ NULL, "bogus=1", NULL, "Unknown option '--bogus'" },
	{ NULL, "timeout", NULL, "Option --timeout needs a value: --timeout=VALUE" },
	{ NULL, "credit-hwrng=9", NULL,
	  "Invalid value '9' for --credit-hwrng: allowed 0 to 8 (bits per byte)" },
	{ NULL, "sources=", NULL, "Invalid value '' for --sources: allowed a comma-separated list "
	  "of hwrng, rdseed, rdrand, egd, each at most once" },
	{ NULL, "log-level=11", NULL, "Invalid value '11' for --log-level: allowed emerg, alert, "
	  "crit, err, warning, notice, info, debug or 0 to 7" },
	{ NULL, "egd=vsock:x:y", NULL, "Invalid value 'vsock:x:y' for --egd: allowed unix:PATH, "
	  "tcp:HOST:PORT, vsock:CID:PORT, serial:PATH or a device path" },
	{ NULL, "egd=tcp:1.2.3", NULL, "Invalid value 'tcp:1.2.3' for --egd: allowed unix:PATH, "
	  "tcp:HOST:PORT, vsock:CID:PORT, serial:PATH or a device path" },
	{ NULL, "user=nosuch", NULL, "Invalid value 'nosuch' for --user: no such user" },
	{ NULL, "min-entropy=2", NULL, NULL }, /* default credits follow it down */
	{ NULL, NULL, "virtseed.bogus=1", "Kernel command line: unknown key 'virtseed.bogus', "
	  "ignoring" },
	{ NULL, NULL, "virtseed.timeout=abc", "Kernel command line: invalid value 'abc' for "
	  "'virtseed.timeout': allowed 1 to 3600 (seconds), ignoring" },
	{ NULL, NULL, "virtseed.egd=tcp:1.2.3", "Kernel command line: invalid value 'tcp:1.2.3' "
	  "for 'virtseed.egd': allowed unix:PATH, tcp:HOST:PORT, vsock:CID:PORT, serial:PATH or a "
	  "device path, ignoring" },
	{ NULL, NULL, "virtseed.user=nosuch", "Kernel command line: invalid value 'nosuch' for "
	  "'virtseed.user': no such user, ignoring" },
	{ NULL, NULL, "virtseed.min-entropy=1 virtseed.credit-egd=3", "Kernel command line: "
	  "invalid value '3' for 'virtseed.credit-egd': more than min-entropy = 1: a source is "
	  "credited at most the min-entropy its health tests assume, ignoring" },
	{ NULL, NULL, "rd.virtseed=maybe", "Kernel command line: invalid value 'maybe' for "
	  "'rd.virtseed': allowed yes or no, ignoring" },
	{ NULL, NULL, "init=/bin/sh -- virtseed.bogus=1", NULL },
};

static char last_bad[512];

static void keep_bad(const struct config_error *e, void *userdata)
{
	assert_int_equal(config_error_format(e, NULL, last_bad, sizeof(last_bad)), 0);
}

static void test_config_messages_table(void **state)
{
	for (size_t i = 0; i < sizeof(message_table) / sizeof(message_table[0]); i++) {
		const char *flags[] = { message_table[i].flag };
		const char *file = message_table[i].file;
		struct config_input in = {
			.file_text = file, .cmdline = message_table[i].cmdline,
			.flags = flags, .n_flags = flags[0] ? 1 : 0, .initrd = true,
			.user_exists = only_root, .bad = keep_bad,
		};
		struct config_error err;
		char msg[512] = "";
		struct config c;
		int r;

		/* The file texts hold NULs: their length is that of the literal up to "\n\0". */
		for (in.file_len = 0; file && !(file[in.file_len] == '\0' &&
						 (in.file_len == 0 || file[in.file_len - 1] == '\n'));
		     in.file_len++)
			;
		last_bad[0] = '\0';
		r = config_load(&c, &in, &err);
		if (r < 0)
			assert_int_equal(config_error_format(&err, "F", msg, sizeof(msg)), 0);
		else
			snprintf(msg, sizeof(msg), "%s", last_bad);
		if (!message_table[i].msg) {
			if (msg[0])
				fail_msg("row %zu: unexpected '%s'", i, msg);
			continue;
		}
		if (strcmp(msg, message_table[i].msg) != 0)
			fail_msg("row %zu:\n got '%s'\nwant '%s'", i, msg, message_table[i].msg);
		/* Files and flags stop the load; the kernel command line never does. */
		assert_int_equal(r < 0, message_table[i].cmdline == NULL);
	}
}

static void test_config_file_reports_line(void **state)
{
	const char *text = "# comment\n\nsources = rdrand\n  timeout=5 \n";
	struct config_error e;
	struct config c;

	config_defaults(&c);
	assert_int_equal(config_parse_text(&c, text, strlen(text), &e), 0);
	assert_int_equal(c.n_order, 1);
	assert_int_equal(c.timeout_sec, 5);
	text = "timeout = 5\nbogus = 1\n";
	assert_int_equal(config_parse_text(&c, text, strlen(text), &e), -ENOKEY);
	assert_int_equal(e.line, 2);
	text = "timeout = 5\n\nno equals sign\n";
	assert_int_equal(config_parse_text(&c, text, strlen(text), &e), -EBADMSG);
	assert_int_equal(e.line, 3);
}

static void test_config_precedence_file_cmdline_flags(void **state)
{
	const char *flags[] = { "timeout=9" };
	const char *file = "timeout = 3\ncredit-egd = 1\nhwrng-timeout = 100\n";
	struct config_input in = {
		.file_text = file,
		.file_len = strlen(file),
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

static int bad_count;

static void count_bad(const struct config_error *e, void *userdata)
{
	bad_count++;
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

static void test_config_cmdline_after_dashes_is_init_s(void **state)
{
	struct config_input in = { .cmdline = "virtseed.timeout=5 -- virtseed.timeout=6", };
	struct config c;

	config_defaults(&c);
	config_parse_cmdline(&c, in.cmdline, &in);
	assert_int_equal(c.timeout_sec, 5);
}

static void test_config_cmdline_long_item_is_rejected(void **state)
{
	char cmdline[2 * CONFIG_LINE_MAX];
	struct config_input in = { .cmdline = cmdline, .bad = count_bad };
	struct config c;
	int n = snprintf(cmdline, sizeof(cmdline), "virtseed.hwrng-device=/");

	memset(cmdline + n, 'a', CONFIG_LINE_MAX);
	cmdline[n + CONFIG_LINE_MAX] = '\0';
	config_defaults(&c);
	bad_count = 0;
	config_parse_cmdline(&c, cmdline, &in);
	assert_int_equal(bad_count, 1);
	assert_string_equal(c.hwrng_device, "/dev/hwrng");
}

static void test_config_cvm_cmdline_cannot_weaken(void **state)
{
	const char *file = "credit-hwrng = 2\n";
	struct config_input in = {
		.file_text = file, .file_len = strlen(file), .confidential = true,
		.cmdline = "virtseed.confidential=no virtseed.trust-host=yes "
			   "virtseed.credit-hwrng=4 virtseed.credit-egd=0 virtseed.timeout=5",
		.bad = keep_bad,
	};
	struct config_error err;
	struct config c;

	assert_int_equal(config_load(&c, &in, &err), 0);
	assert_int_equal(c.confidential, -1);
	assert_false(c.trust_host);
	assert_int_equal(c.credit[SRC_HWRNG], 2);
	assert_int_equal(c.credit[SRC_EGD], 0);  /* lowering is fine */
	assert_int_equal(c.timeout_sec, 5);
	assert_string_equal(last_bad, "Kernel command line: 'virtseed.credit-hwrng=4' would weaken "
			    "the trust rules of this confidential VM, ignoring (only "
			    CONFIG_DEFAULT_PATH " can)");
	/* The file may. */
	file = "confidential = no\ntrust-host = yes\n";
	in.file_text = file;
	in.file_len = strlen(file);
	in.cmdline = NULL;
	assert_int_equal(config_load(&c, &in, &err), 0);
	assert_int_equal(c.confidential, 0);
	assert_true(c.trust_host);
}

static void test_config_credit_follows_min_entropy(void **state)
{
	const char *file = "min-entropy = 6\ncredit-egd = 6\n";
	struct config_input in = { .file_text = file, .file_len = strlen(file) };
	struct config_error err;
	struct config c;

	/* virtseed.conf(5)'s example. */
	assert_int_equal(config_load(&c, &in, &err), 0);
	assert_int_equal(c.credit[SRC_EGD], 6);
	file = "min-entropy = 2.5\n";
	in.file_text = file;
	in.file_len = strlen(file);
	assert_int_equal(config_load(&c, &in, &err), 0);
	assert_int_equal(c.credit[SRC_HWRNG], 2);
}

static void test_config_rd_prefix_only_in_initrd(void **state)
{
	struct config_input in = {};
	struct config c;

	config_defaults(&c);
	config_parse_cmdline(&c, "rd.virtseed.timeout=4 virtseed.timeout=6 rd.virtseed=0", &in);
	assert_int_equal(c.timeout_sec, 6);
	assert_false(c.disabled);
	config_defaults(&c);
	in.initrd = true;
	config_parse_cmdline(&c, "virtseed.timeout=6 rd.virtseed.timeout=4 rd.virtseed=0", &in);
	assert_int_equal(c.timeout_sec, 4);
	assert_true(c.disabled);
}

static void test_config_cmdline_quotes(void **state)
{
	struct config_input in = {};
	struct config c;

	config_defaults(&c);
	config_parse_cmdline(&c, "a \"virtseed.egd=/dev/virtio-ports/x y\" b", &in);
	assert_string_equal(c.egd, "/dev/virtio-ports/x y");
}

static void test_config_fork_detect_cmdline_and_format(void **state)
{
	struct config_input in = {};
	struct config c;
	char buf[2048];

	config_defaults(&c);
	assert_int_equal(c.fork_detect, FORK_MODE_AUTO);
	config_parse_cmdline(&c, "quiet virtseed.fork-detect=kernel", &in);
	assert_int_equal(c.fork_detect, FORK_MODE_KERNEL);
	assert_int_equal(config_format(&c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\nfork-detect = kernel\n"));
}

static void test_config_format_parses_back(void **state)
{
	char text[4096];
	struct config c, d;
	struct config_error e;

	config_defaults(&c);
	assert_int_equal(config_set(&c, "egd", "unix:/run/x"), 0);
	assert_int_equal(config_set(&c, "reseed-interval", "30"), 0);
	assert_int_equal(config_format(&c, text, sizeof(text)), 0);
	config_defaults(&d);
	assert_int_equal(config_parse_text(&d, text, strlen(text), &e), 0);
	assert_string_equal(d.egd, "unix:/run/x");
	assert_int_equal(d.reseed_interval, 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_set_table),
		cmocka_unit_test(test_config_messages_table),
		cmocka_unit_test(test_config_file_reports_line),
		cmocka_unit_test(test_config_precedence_file_cmdline_flags),
		cmocka_unit_test(test_config_cmdline_bad_values_are_ignored),
		cmocka_unit_test(test_config_cmdline_after_dashes_is_init_s),
		cmocka_unit_test(test_config_cmdline_long_item_is_rejected),
		cmocka_unit_test(test_config_cvm_cmdline_cannot_weaken),
		cmocka_unit_test(test_config_credit_follows_min_entropy),
		cmocka_unit_test(test_config_rd_prefix_only_in_initrd),
		cmocka_unit_test(test_config_cmdline_quotes),
		cmocka_unit_test(test_config_fork_detect_cmdline_and_format),
		cmocka_unit_test(test_config_format_parses_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
