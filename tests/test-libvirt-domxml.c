/* Domain XML as libvirt 9.0 prints it -> what virtseed-libvirt acts on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "domxml.h"
#include "macro.h"

#define UUID "727e378c-abbc-4506-abea-97862a503b2c"
#define HEAD "<domain type='qemu' id='1'><name>vm1</name><uuid>" UUID "</uuid>"
#define META(attrs) "<metadata><virtseed:guest xmlns:virtseed='" DOMXML_NS "' " attrs \
		    "/></metadata>"
#define RNG(mode, path) "<rng model='virtio'><backend model='egd' type='unix'>" \
			"<source mode='" mode "' path='" path "'/></backend>" \
			"<alias name='rng0'/></rng>"

static int parse(const char *xml, struct domxml *d, char *err)
{
	return domxml_parse(xml, strlen(xml), d, err, 160);
}

static void test_domxml_name_uuid_bind_and_connect(void **state)
{
	static const char xml[] = HEAD "<devices>" RNG("bind", "/run/a.sock")
		"<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
		"<rng model='virtio'><backend model='egd' type='tcp'><source mode='connect' "
		"host='127.0.0.1' service='7000'/></backend></rng>"
		RNG("connect", "/run/virtseed/egd.sock") "</devices></domain>";
	struct domxml d;
	char err[160];

	assert_int_equal(parse(xml, &d, err), 0);
	assert_string_equal(d.name, "vm1");
	assert_string_equal(d.uuid, UUID);
	assert_int_equal(d.n_rng, 2);
	assert_true(d.rng[0].bind);
	assert_string_equal(d.rng[0].path, "/run/a.sock");
	assert_false(d.rng[1].bind);
	assert_string_equal(d.rng[1].path, "/run/virtseed/egd.sock");
	assert_string_equal(d.class, "");
	assert_int_equal(d.rate, 0);
	assert_string_equal(d.meta_error, "");
}

static void test_domxml_metadata_class_and_rates(void **state)
{
	static const char xml[] = HEAD META("class='prod' rate='64K' ceil='1M' burst='16384'")
		"</domain>";
	struct domxml d;
	char err[160];

	assert_int_equal(parse(xml, &d, err), 0);
	assert_string_equal(d.class, "prod");
	assert_int_equal(d.rate, 65536);
	assert_int_equal(d.ceil, 1048576);
	assert_int_equal(d.burst, 16384);
}

static void test_domxml_metadata_other_namespace_ignored(void **state)
{
	static const char xml[] = HEAD "<metadata><x:guest xmlns:x='http://example.org/other' "
		"class='prod'/></metadata></domain>";
	struct domxml d;
	char err[160];

	assert_int_equal(parse(xml, &d, err), 0);
	assert_string_equal(d.class, "");
	assert_string_equal(d.meta_error, "");
}

struct meta_case {
	const char *xml;
	const char *error;
};

static const struct meta_case bad_meta[] = {
	{ HEAD META("class='prod' rate='12Q'") "</domain>",
	  "<virtseed:guest rate=...>: not a size > 0 (bytes, or with K, M, G)" },
	{ HEAD META("class='a b'") "</domain>",
	  "<virtseed:guest class=...>: not 1-63 of [A-Za-z0-9_.+-]" },
	{ HEAD META("colour='red'") "</domain>", "<virtseed:guest colour=...>: unknown attribute" },
	{ HEAD META("rate='1M' ceil='64K'") "</domain>",
	  "<virtseed:guest ceil=...>: less than rate" },
	{ HEAD META("burst='0'") "</domain>",
	  "<virtseed:guest burst=...>: not a size > 0 (bytes, or with K, M, G)" },
};

static void test_domxml_bad_metadata_refused_whole(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(bad_meta); i++) {
		struct domxml d;
		char err[160];

		assert_int_equal(parse(bad_meta[i].xml, &d, err), 0);
		assert_string_equal(d.meta_error, bad_meta[i].error);
		assert_string_equal(d.class, "");
		assert_int_equal(d.rate, 0);
		assert_int_equal(d.ceil, 0);
	}
}

static void test_domxml_bad_domain_refused(void **state)
{
	static const struct meta_case cases[] = {
		{ "<domain><name>vm1</name>", "not a domain's XML" },
		{ "<domain><name>my vm</name><uuid>" UUID "</uuid></domain>",
		  "domain name 'my vm': not 1-63 of [A-Za-z0-9_.+-]" },
		{ "<domain><uuid>" UUID "</uuid></domain>",
		  "domain name '': not 1-63 of [A-Za-z0-9_.+-]" },
		{ "<domain><name>vm1</name><uuid>nope</uuid></domain>",
		  "domain 'vm1': no valid <uuid>" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct domxml d;
		char err[160];

		assert_int_equal(parse(cases[i].xml, &d, err), -EINVAL);
		assert_string_equal(err, cases[i].error);
	}
}

static void test_domxml_rng_element_and_find(void **state)
{
	static const char xml[] = HEAD "<devices>" RNG("bind", "/run/a.sock")
		RNG("bind", "/run/b.sock") "</devices></domain>";
	_cleanup_(freep) char *el = NULL;
	char buf[512];

	assert_true(domxml_rng_element(buf, sizeof(buf), true, "/var/lib/x/vm1.sock") > 0);
	assert_string_equal(buf, "<rng model='virtio'><backend model='egd' type='unix'>"
			    "<source mode='bind' path='/var/lib/x/vm1.sock'/></backend></rng>");
	assert_int_equal(domxml_rng_element(buf, sizeof(buf), false, "rel.sock"), -EINVAL);
	assert_int_equal(domxml_rng_element(buf, sizeof(buf), false, "/a'b"), -EINVAL);
	assert_int_equal(domxml_find_rng(xml, strlen(xml), "/run/b.sock", &el), 0);
	assert_string_equal(el, "<rng model=\"virtio\"><backend model=\"egd\" type=\"unix\">"
			    "<source mode=\"bind\" path=\"/run/b.sock\"/></backend>"
			    "<alias name=\"rng0\"/></rng>");
	assert_int_equal(domxml_find_rng(xml, strlen(xml), "/run/c.sock", &el), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domxml_name_uuid_bind_and_connect),
		cmocka_unit_test(test_domxml_metadata_class_and_rates),
		cmocka_unit_test(test_domxml_metadata_other_namespace_ignored),
		cmocka_unit_test(test_domxml_bad_metadata_refused_whole),
		cmocka_unit_test(test_domxml_bad_domain_refused),
		cmocka_unit_test(test_domxml_rng_element_and_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
