/* modules.dep lines and module lists, as virtseed-preinit reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "moddep.h"

static void test_moddep_parse_finds_the_module_and_its_deps(void **state)
{
	char line[] = "kernel/drivers/char/hw_random/virtio-rng.ko: "
		      "kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n";
	const char *deps[MODDEP_MAX_DEPS];
	size_t n = 99;
	const char *mod = moddep_parse(line, "virtio-rng.ko", deps, &n);

	assert_non_null(mod);
	assert_string_equal(mod, "kernel/drivers/char/hw_random/virtio-rng.ko");
	assert_int_equal(n, 2);
	assert_string_equal(deps[0], "kernel/drivers/virtio/virtio_ring.ko");
	assert_string_equal(deps[1], "kernel/drivers/virtio/virtio.ko");
}

static void test_moddep_parse_no_deps_and_compressed(void **state)
{
	char line[] = "kernel/drivers/virtio/virtio_pci.ko.xz:\n";
	const char *deps[MODDEP_MAX_DEPS];
	size_t n = 99;

	assert_string_equal(moddep_parse(line, "virtio_pci.ko", deps, &n),
			    "kernel/drivers/virtio/virtio_pci.ko.xz");
	assert_int_equal(n, 0);
}

static void test_moddep_parse_rejects_other_modules(void **state)
{
	const char *deps[MODDEP_MAX_DEPS];
	size_t n = 99;
	char other[] = "kernel/drivers/char/virtio-rng-extra.ko: kernel/a.ko\n";
	char prefix[] = "kernel/drivers/char/xvirtio-rng.ko:\n";
	char nocolon[] = "kernel/drivers/char/hw_random/virtio-rng.ko\n";

	assert_null(moddep_parse(other, "virtio-rng.ko", deps, &n));
	assert_null(moddep_parse(prefix, "virtio-rng.ko", deps, &n));
	assert_null(moddep_parse(nocolon, "virtio-rng.ko", deps, &n));
	assert_int_equal(n, 99);
}

static void test_moddep_parse_rejects_too_many_deps(void **state)
{
	char line[512] = "a/m.ko:";
	const char *deps[MODDEP_MAX_DEPS];
	size_t n = 99;

	for (int i = 0; i <= MODDEP_MAX_DEPS; i++)
		strcat(line, " d.ko");
	assert_null(moddep_parse(line, "m.ko", deps, &n));
	assert_int_equal(n, 99);
}

static void test_moddep_in_list_table(void **state)
{
	assert_true(moddep_in_list("virtio_rng", "virtio_rng"));
	assert_true(moddep_in_list("a,virtio-rng,b", "virtio_rng"));
	assert_true(moddep_in_list("a,b,virtio_rng", "virtio_rng"));
	assert_false(moddep_in_list("virtio_rng2,xvirtio_rng", "virtio_rng"));
	assert_false(moddep_in_list("", "virtio_rng"));
	assert_false(moddep_in_list("a,,b,", "virtio_rng"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moddep_parse_finds_the_module_and_its_deps),
		cmocka_unit_test(test_moddep_parse_no_deps_and_compressed),
		cmocka_unit_test(test_moddep_parse_rejects_other_modules),
		cmocka_unit_test(test_moddep_parse_rejects_too_many_deps),
		cmocka_unit_test(test_moddep_in_list_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
