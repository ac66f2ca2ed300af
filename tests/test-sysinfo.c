/* Machine facts: confidential VM detection, the kernel's hwrng thread, addresses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "conf.h"
#include "policy.h"
#include "sysinfo.h"

/* A fake root: each entry NAME=CONTENT becomes the file ROOT/NAME. */
static void make_root(char *root, const char *const *files)
{
	strcpy(root, "/tmp/test-sysinfo.XXXXXX");
	assert_non_null(mkdtemp(root));
	for (const char *const *f = files; *f; f += 2) {
		char path[512], dir[512];
		FILE *fp;

		snprintf(path, sizeof(path), "%s%s", root, f[0]);
		snprintf(dir, sizeof(dir), "%s", path);
		for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
			*p = '\0';
			(void)mkdir(dir, 0755);
			*p = '/';
		}
		fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(f[1], fp);
		fclose(fp);
	}
}

static void drop_root(const char *root)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void read_root(const char *const *files, struct machine *m)
{
	char root[64];

	make_root(root, files);
	assert_int_equal(machine_read(root, m), 0);
	drop_root(root);
}

static const char cpuinfo_zen5[] =
	"processor\t: 0\nflags\t\t: fpu sse2 hypervisor rdrand\nbugs\t\t: sysret_ss_attrs\n";
static const char cpuinfo_full[] =
	"processor\t: 0\nflags\t\t: fpu hypervisor rdrand rdseed\n";

static void test_machine_read_fake_root(void **state)
{
	const char *files[] = {
		"/proc/cpuinfo", cpuinfo_zen5,
		"/proc/cmdline", "root=/dev/vda random.trust_cpu=off quiet -- random.trust_cpu=on\n",
		"/etc/initrd-release", "",
		NULL,
	};
	struct machine m;

	read_root(files, &m);
	assert_true(m.initrd);
	assert_true(machine_cpu_flag(&m, "rdrand"));
	assert_false(machine_cpu_flag(&m, "rdseed"));
	assert_int_equal(machine_trust_cpu(&m), 0);  /* init's arguments after -- do not count */
	assert_int_equal(machine_cvm(&m), CVM_NONE);
}

static void test_machine_trust_cpu_table(void **state)
{
	static const struct {
		const char *cmdline;
		int want;
	} t[] = {
		{ "quiet", -1 }, { "random.trust_cpu=off", 0 }, { "random.trust_cpu=0", 0 },
		{ "random.trust_cpu=n", 0 }, { "random.trust_cpu=on", 1 },
		{ "random.trust_cpu=1", 1 }, { "random.trust_cpu=yes", 1 },
		{ "random.trust_cpu=0 random.trust_cpu=1", 1 }, { "random.trust_cpu=bogus", -1 },
		{ "xrandom.trust_cpu=0", -1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct machine m = {};

		snprintf(m.cmdline, sizeof(m.cmdline), "%s", t[i].cmdline);
		if (machine_trust_cpu(&m) != t[i].want)
			fail_msg("'%s': want %d", t[i].cmdline, t[i].want);
	}
}

/* In the initramfs before udev there is no /dev/sev-guest: the flags and the kernel's own
 * report must do, and any one of them is enough. */
static void test_machine_cvm_signals(void **state)
{
	const char *snp_flags[] = {
		"/proc/cpuinfo", "flags\t: fpu hypervisor sev sev_es sev_snp rdrand\n", NULL,
	};
	const char *tdx_flags[] = { "/proc/cpuinfo", "flags\t: fpu tdx_guest rdrand\n", NULL };
	const char *report_only[] = {
		"/proc/cpuinfo", cpuinfo_full,
		"/dev/kmsg", "6,1,0,-;Linux version 6.1\n"
			     "6,2,0,-;Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP\n",
		NULL,
	};
	const char *tdx_report[] = {
		"/proc/cpuinfo", cpuinfo_full,
		"/dev/kmsg", "6,2,0,-;Memory Encryption Features active: Intel TDX\n", NULL,
	};
	const char *dev_only[] = { "/proc/cpuinfo", cpuinfo_full, "/dev/sev-guest", "", NULL };
	struct machine m;

	read_root(snp_flags, &m);
	assert_int_equal(machine_cvm(&m), CVM_SEV_SNP);
	read_root(tdx_flags, &m);
	assert_int_equal(machine_cvm(&m), CVM_TDX);
	read_root(report_only, &m);
	assert_int_equal(machine_cvm(&m), CVM_SEV_SNP);
	read_root(tdx_report, &m);
	assert_int_equal(machine_cvm(&m), CVM_TDX);
	read_root(dev_only, &m);
	assert_int_equal(machine_cvm(&m), CVM_SEV_SNP);
}

static void test_policy_cpu_rngs(void **state)
{
	struct machine m = {};
	struct config c;
	struct policy p;

	config_defaults(&c);
	snprintf(m.cpu_flags, sizeof(m.cpu_flags), "fpu hypervisor rdrand");
	/* Zen 5 in a VM: CPUID says RDSEED, the kernel dropped it. */
	p = policy_for(SRC_RDSEED, &c, &m, CVM_NONE);
	assert_false(p.use);
	assert_int_equal(p.rule, POLICY_KERNEL_DISABLED);
	p = policy_for(SRC_RDRAND, &c, &m, CVM_NONE);
	assert_true(p.use);
	assert_int_equal(p.credit, 4);
	snprintf(m.cmdline, sizeof(m.cmdline), "random.trust_cpu=off");
	p = policy_for(SRC_RDRAND, &c, &m, CVM_NONE);
	assert_true(p.use);
	assert_int_equal(p.credit, 0);
	assert_int_equal(p.rule, POLICY_TRUST_CPU_OFF);
	assert_int_equal(config_set(&c, "credit-rdrand", "3"), 0);
	p = policy_for(SRC_RDRAND, &c, &m, CVM_NONE);
	assert_int_equal(p.credit, 3);
	assert_int_equal(p.rule, POLICY_CONFIGURED);
	/* trust_cpu says nothing about the host's bytes. */
	p = policy_for(SRC_HWRNG, &c, &m, CVM_NONE);
	assert_int_equal(p.credit, 4);
}

static void test_policy_cvm_host_bytes(void **state)
{
	struct machine m = {};
	struct config c;
	struct policy p;

	config_defaults(&c);
	p = policy_for(SRC_EGD, &c, &m, CVM_TDX);
	assert_true(p.use);
	assert_int_equal(p.credit, 0);
	assert_int_equal(p.rule, POLICY_CVM_HOST);
	c.trust_host = true;
	p = policy_for(SRC_HWRNG, &c, &m, CVM_SEV_SNP);
	assert_int_equal(p.credit, 4);
}

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
		cmocka_unit_test(test_machine_read_fake_root),
		cmocka_unit_test(test_machine_trust_cpu_table),
		cmocka_unit_test(test_machine_cvm_signals),
		cmocka_unit_test(test_policy_cpu_rngs),
		cmocka_unit_test(test_policy_cvm_host_bytes),
		cmocka_unit_test(test_hwrng_kernel_feeds_table),
		cmocka_unit_test(test_address_parse_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
