/* virtseed-egd.conf parser: defaults, every key, and errors that name their line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "egd-conf.h"
#include "macro.h"

static int load(struct egd_conf *c, const char *text, struct egd_conf_error *err)
{
	int r;

	assert_int_equal(egd_conf_init(c), 0);
	r = egd_conf_parse(c, text, strlen(text), err);
	return r < 0 ? r : egd_conf_finish(c, err);
}

static void test_egd_conf_empty_defaults(void **state)
{
	struct egd_conf c;
	struct egd_conf_error err;

	assert_int_equal(load(&c, "", &err), 0);
	assert_int_equal(c.root.rate, EGD_CONF_DEFAULT_BUDGET);
	assert_int_equal(c.root.ceil, EGD_CONF_DEFAULT_BUDGET);
	assert_int_equal(c.n_classes, 1);
	assert_string_equal(c.classes[0].name, "default");
	assert_int_equal(c.classes[0].params.rate, EGD_CONF_DEFAULT_BUDGET);
	assert_int_equal(c.classes[0].guest.rate, EGD_CONF_DEFAULT_GUEST_RATE);
	assert_int_equal(c.n_sources, 1);
	assert_string_equal(c.sources[0], "getrandom");
	assert_int_equal(c.write_mode, EGD_WRITE_REFUSE);
	assert_true(c.activated_qemu);
	assert_int_equal(c.max_clients, EGD_CONF_DEFAULT_MAX_CLIENTS);
	assert_int_equal(c.accept_rate, EGD_CONF_DEFAULT_ACCEPT_RATE);
	egd_conf_done(&c);
}

static const char full[] =
	"# host budget\n"
	"budget = 2M\n"
	"burst = 128K\n"
	"source = hwrng getrandom\n"
	"max-clients = 2000\n"
	"accept-rate = 0\n"
	"qemu-prefix = 512\n"
	"max-demand = 8K\n"
	"client-write = mix\n"
	"activated-qemu = no\n"
	"stats = /run/x/stats.sock\n"
	"listen = unix:/run/x/egd.sock,qemu\n"
	"listen = tcp:127.0.0.1:7000\n"
	"\n[class web]\n"
	"  rate = 1M\n ceil=2M\n\tburst = 64K\n"
	"guest-rate = 16K\nguest-ceil = 1M\nguest-burst = 4K\n"
	"[guest vm1]\nclass = web\nrate = 32K\nlisten = unix:/run/x/vm1.sock\n"
	"connect = unix:/run/x/vm1-qemu.sock\n"
	"[guest vm2]\nclass = web\n"
	"[global]\nuser = nobody\n";

static void test_egd_conf_every_key(void **state)
{
	struct egd_conf c;
	struct egd_conf_error err = {};
	const struct egd_conf_guest *vm1, *vm2;

	assert_int_equal(load(&c, full, &err), 0);
	assert_int_equal(c.root.rate, 2 << 20);
	assert_int_equal(c.root.burst, 128 << 10);
	assert_int_equal(c.n_sources, 2);
	assert_string_equal(c.sources[0], "hwrng");
	assert_int_equal(c.max_clients, 2000);
	assert_int_equal(c.accept_rate, 0);
	assert_int_equal(c.qemu_prefix, 512);
	assert_int_equal(c.max_demand, 8192);
	assert_int_equal(c.write_mode, EGD_WRITE_MIX);
	assert_false(c.activated_qemu);
	assert_string_equal(c.stats, "/run/x/stats.sock");
	assert_string_equal(c.user, "nobody");
	assert_int_equal(c.n_listeners, 4);
	assert_true(c.listeners[0].qemu);
	assert_string_equal(c.listeners[0].address, "unix:/run/x/egd.sock");
	assert_false(c.listeners[1].qemu);
	assert_string_equal(c.listeners[2].guest, "vm1");
	assert_true(c.listeners[3].connect && c.listeners[3].qemu);
	assert_int_equal(c.n_classes, 2);
	vm1 = &c.guests[egd_conf_find_guest(&c, "vm1")];
	vm2 = &c.guests[egd_conf_find_guest(&c, "vm2")];
	assert_int_equal(vm1->params.rate, 32 << 10);
	assert_int_equal(vm1->params.ceil, 1 << 20);
	assert_int_equal(vm1->params.burst, 4 << 10);
	assert_int_equal(vm2->params.rate, 16 << 10);
	assert_string_equal(c.classes[vm2->class_index].name, "web");
	egd_conf_done(&c);
}

struct bad_case {
	const char *text;
	unsigned line;
};

static const struct bad_case bad_cases[] = {
	{ "budget = 0\n", 0 },
	{ "budget = lots\n", 1 },
	{ "budget = 1T\n", 1 },
	{ "budget = 99999999999G\n", 1 },
	{ "\nfrobnicate = 1\n", 2 },
	{ "[class]\n", 1 },
	{ "[class a b]\n", 1 },
	{ "[host x]\n", 1 },
	{ "[class x\n", 1 },
	{ "[class x]\n[class x]\n", 2 },
	{ "[guest g]\nclass = nope\n", 1 },
	{ "[class c]\nrate = 2M\nceil = 1M\n", 1 },
	{ "budget = 1M\n[class c]\nceil = 2M\n", 2 },
	{ "[class c]\nceil = 1M\n[guest g]\nclass = c\nceil = 2M\n", 3 },
	{ "[class c]\nburst = 0\n", 1 },
	{ "client-write = maybe\n", 1 },
	{ "activated-qemu = perhaps\n", 1 },
	{ "max-clients = 0\n", 0 },
	{ "max-clients = 65537\n", 1 },
	{ "max-demand = 100\n", 0 },
	{ "qemu-prefix = 5000\n", 1 },
	{ "listen = vsock:2:1\n", 1 },
	{ "listen = /dev/ttyS0\n", 1 },
	{ "listen = unix:\n", 1 },
	{ "no equals sign\n", 1 },
	{ "source = \n", 1 },
	{ "source = a b c d e f g h i\n", 1 },
	{ "[guest g]\nlisten = tcp:localhost\n", 2 },
	{ "[guest bad/name]\n", 1 },
};

static void test_egd_conf_errors_name_line(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
		struct egd_conf c;
		struct egd_conf_error err = {};

		print_message("%s", bad_cases[i].text);
		assert_true(load(&c, bad_cases[i].text, &err) < 0);
		assert_non_null(err.msg);
		assert_int_equal(err.line, bad_cases[i].line);
		egd_conf_done(&c);
	}
}

static void test_egd_conf_line_too_long(void **state)
{
	char text[EGD_CONF_MAX_LINE + 16];
	struct egd_conf c;
	struct egd_conf_error err = {};

	memset(text, '#', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(load(&c, text, &err), -EINVAL);
	assert_int_equal(err.line, 1);
	egd_conf_done(&c);
}

static void test_egd_conf_embedded_nul(void **state)
{
	static const char text[] = "budget = 1M\n# a\0b\n";
	struct egd_conf c;
	struct egd_conf_error err = {};

	assert_int_equal(egd_conf_init(&c), 0);
	assert_int_equal(egd_conf_parse(&c, text, sizeof(text) - 1, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	egd_conf_done(&c);
}

static void test_egd_conf_parse_size_suffixes(void **state)
{
	uint64_t v;

	assert_int_equal(egd_conf_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(egd_conf_parse_size("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(egd_conf_parse_size("3G", &v), 0);
	assert_int_equal(v, 3ULL << 30);
	assert_int_equal(egd_conf_parse_size("16G", &v), 0);
	assert_int_equal(egd_conf_parse_size("17G", &v), -EINVAL);
	assert_int_equal(egd_conf_parse_size("-1", &v), -EINVAL);
	assert_int_equal(egd_conf_parse_size("1KB", &v), -EINVAL);
	assert_int_equal(egd_conf_parse_size("", &v), -EINVAL);
}

static void test_egd_conf_cli_listener(void **state)
{
	struct egd_conf c;

	assert_int_equal(egd_conf_init(&c), 0);
	assert_int_equal(egd_conf_add_listener(&c, "unix:/tmp/egd.sock", false, NULL, 0), 0);
	assert_int_equal(egd_conf_add_listener(&c, "tcp:[::1]:7000,qemu", false, NULL, 0), 0);
	assert_int_equal(egd_conf_add_listener(&c, "tcp:[::1]:7000,bogus", false, NULL, 0),
			 -EINVAL);
	assert_int_equal(c.n_listeners, 2);
	assert_true(c.listeners[1].qemu);
	assert_string_equal(c.listeners[1].address, "tcp:[::1]:7000");
	for (size_t i = 2; i < EGD_CONF_MAX_LISTENERS; i++)
		assert_int_equal(egd_conf_add_listener(&c, "unix:/x", false, NULL, 0), 0);
	assert_int_equal(egd_conf_add_listener(&c, "unix:/x", false, NULL, 0), -E2BIG);
	egd_conf_done(&c);
}

/* The table that parses [global] also prints it, and what it prints parses back. */
static void test_egd_conf_format_round_trips(void **state)
{
	static const char text[] = "budget = 2M\nmax-demand = 1K\nclient-write = mix\n"
				   "activated-qemu = off\npeer-cmdline = on\nuser = nobody\n";
	struct egd_conf a, b;
	struct egd_conf_error err;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(load(&a, text, &err), 0);
	egd_conf_format_global(&a, f);
	fclose(f);
	assert_non_null(strstr(out, "budget = 2097152\nburst = 1048576\n"));
	assert_non_null(strstr(out, "client-write = mix\nactivated-qemu = no\npeer-cmdline = yes\n"));
	assert_int_equal(load(&b, out, &err), 0);
	assert_int_equal(b.root.rate, a.root.rate);
	assert_int_equal(b.max_demand, 1024);
	assert_int_equal(b.write_mode, EGD_WRITE_MIX);
	assert_false(b.activated_qemu);
	assert_true(b.peer_cmdline);
	assert_string_equal(b.user, "nobody");
	free(out);
	egd_conf_done(&a);
	egd_conf_done(&b);
}

/* Issue 9, promise 7: what the daemon refuses, --check-config refuses too. */
static void test_egd_conf_unknown_source_refused(void **state)
{
	struct egd_conf c;
	struct egd_conf_error err = {};

	assert_true(load(&c, "source = getrandom bogus\n", &err) < 0);
	assert_string_equal(err.msg, "source: unknown source 'bogus' (getrandom, hwrng, rdseed, "
			    "rdrand, egd:ADDRESS)");
	egd_conf_done(&c);
	assert_true(load(&c, "source = egd\n", &err) < 0);
	assert_string_equal(err.msg, "source: 'egd' needs an address (egd:ADDRESS)");
	egd_conf_done(&c);
	assert_true(load(&c, "max-clients = lots\n", &err) < 0);
	assert_string_equal(err.msg, "invalid value 'lots' for 'max-clients': allowed 0 to 65536 "
			    "(a K, M or G suffix multiplies by 1024)");
	egd_conf_done(&c);
	assert_true(load(&c, "qemu-prefix = 5000\n", &err) < 0);
	assert_string_equal(err.msg, "invalid value '5000' for 'qemu-prefix': allowed 0 to 4096 "
			    "(a K, M or G suffix multiplies by 1024)");
	egd_conf_done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_egd_conf_empty_defaults),
		cmocka_unit_test(test_egd_conf_every_key),
		cmocka_unit_test(test_egd_conf_errors_name_line),
		cmocka_unit_test(test_egd_conf_line_too_long),
		cmocka_unit_test(test_egd_conf_embedded_nul),
		cmocka_unit_test(test_egd_conf_parse_size_suffixes),
		cmocka_unit_test(test_egd_conf_format_round_trips),
		cmocka_unit_test(test_egd_conf_unknown_source_refused),
		cmocka_unit_test(test_egd_conf_cli_listener),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
