/* Machine facts: confidential VM detection, the kernel's hwrng thread, addresses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "address.h"
#include "sysinfo.h"

static void test_cvm_detect_table(void **state)
{
	assert_int_equal(cvm_detect("fpu vme hypervisor rdrand", false, false), CVM_NONE);
	assert_int_equal(cvm_detect("fpu tdx_guest hypervisor", false, false), CVM_TDX);
	assert_int_equal(cvm_detect("fpu", false, true), CVM_TDX);
	assert_int_equal(cvm_detect("fpu hypervisor sev sev_es sev_snp", false, false),
			 CVM_SEV_SNP);
	/* A host lists sev_snp too, but is no guest. */
	assert_int_equal(cvm_detect("fpu sev sev_es sev_snp", false, false), CVM_NONE);
	assert_int_equal(cvm_detect("fpu", true, false), CVM_SEV_SNP);
	assert_int_equal(cvm_detect("xtdx_guest", false, false), CVM_NONE);
}

static void test_hwrng_kernel_feeds_table(void **state)
{
	struct hwrng_info h = { .current = "virtio_rng.0", .quality = 1000 };

	assert_true(hwrng_kernel_feeds(&h));
	h.quality = 0;
	assert_false(hwrng_kernel_feeds(&h));
	h.quality = -1;
	assert_false(hwrng_kernel_feeds(&h));
	strcpy(h.current, "none");
	h.quality = 1024;
	assert_false(hwrng_kernel_feeds(&h));
}

static void test_address_parse_table(void **state)
{
	struct address a;

	assert_int_equal(address_parse("unix:/run/egd.sock", &a), 0);
	assert_int_equal(a.kind, ADDRESS_UNIX);
	assert_string_equal(a.path, "/run/egd.sock");
	assert_int_equal(address_parse("tcp:127.0.0.1:708", &a), 0);
	assert_int_equal(a.kind, ADDRESS_TCP);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 708);
	assert_int_equal(address_parse("tcp:[::1]:708", &a), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(address_parse("vsock:2:7080", &a), 0);
	assert_int_equal(a.kind, ADDRESS_VSOCK);
	assert_int_equal(a.cid, 2);
	assert_int_equal(a.port, 7080);
	assert_int_equal(address_parse("/dev/virtio-ports/org.virtseed.egd", &a), 0);
	assert_int_equal(a.kind, ADDRESS_DEVICE);
	assert_int_equal(address_parse("serial:/dev/vport0p1", &a), 0);
	assert_string_equal(a.path, "/dev/vport0p1");

	assert_int_equal(address_parse("tcp:host", &a), -EINVAL);
	assert_int_equal(address_parse("tcp:host:0", &a), -EINVAL);
	assert_int_equal(address_parse("tcp:host:65536", &a), -EINVAL);
	assert_int_equal(address_parse("tcp::80", &a), -EINVAL);
	assert_int_equal(address_parse("vsock:x:1", &a), -EINVAL);
	assert_int_equal(address_parse("vsock:2", &a), -EINVAL);
	assert_int_equal(address_parse("unix:", &a), -EINVAL);
	assert_int_equal(address_parse("serial:relative", &a), -EINVAL);
	assert_int_equal(address_parse("http://x", &a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cvm_detect_table),
		cmocka_unit_test(test_hwrng_kernel_feeds_table),
		cmocka_unit_test(test_address_parse_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
