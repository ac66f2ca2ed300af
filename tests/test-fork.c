/* VM fork detection parsers and choice (lib/fork.c), SHA-256 (lib/sha256.c) and the
 * fork reseed (lib/forkseed.c) against a fake kernel and fake sources. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fork.h"
#include "forkseed.h"
#include "macro.h"
#include "sha256.h"

#define NOTICE "random: crng reseeded due to virtual machine fork"

static void test_fork_kmsg_parse_table(void **state)
{
	static const struct {
		const char *rec;
		int r;
		uint64_t seq, ts;
		bool fork;
	} t[] = {
		{ "5,1234,98765432,-;" NOTICE "\n", 0, 1234, 98765432, true },
		{ "5,1234,98765432,-,caller=T1;" NOTICE "\n", 0, 1234, 98765432, true },
		/* Continuation dictionary lines after the message are not part of it. */
		{ "5,7,10,-;" NOTICE "\n SUBSYSTEM=acpi\n", 0, 7, 10, true },
		{ "6,8,11,-;random: crng init done\n", 0, 8, 11, false },
		{ "5,9,12,-;" NOTICE " (not quite)\n", 0, 9, 12, false },
		/* Facility 1 (user): a write to /dev/kmsg cannot pose as the kernel. */
		{ "13,10,13,-;" NOTICE "\n", 0, 10, 13, false },
		{ "5,10,13;" NOTICE "\n", -EBADMSG, 0, 0, false },
		{ "5,x,13,-;" NOTICE "\n", -EBADMSG, 0, 0, false },
		{ "5,10,13,-" NOTICE "\n", -EBADMSG, 0, 0, false },
		{ "", -EBADMSG, 0, 0, false },
		{ "5,99999999999999999999999,1,-;x\n", -EBADMSG, 0, 0, false },
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct fork_kmsg k = { .seq = 77 };
		int r = fork_kmsg_parse(t[i].rec, strlen(t[i].rec), &k);

		assert_int_equal(r, t[i].r);
		if (r < 0) {
			assert_int_equal(k.seq, 77); /* untouched */
			continue;
		}
		assert_int_equal(k.seq, t[i].seq);
		assert_int_equal(k.ts_usec, t[i].ts);
		assert_int_equal(k.fork, t[i].fork);
	}
}

static void test_fork_kmsg_parse_no_nul_needed(void **state)
{
	char rec[64];
	struct fork_kmsg k;
	const char *s = "5,1,2,-;" NOTICE;

	/* read() hands a record without a terminating NUL. */
	memset(rec, 'x', sizeof(rec));
	memcpy(rec, s, strlen(s));
	assert_int_equal(fork_kmsg_parse(rec, strlen(s), &k), 0);
	assert_true(k.fork);
	assert_int_equal(fork_kmsg_parse(rec, strlen(s) - 1, &k), 0);
	assert_false(k.fork);
}

static void test_fork_counter_parse(void **state)
{
	uint64_t v = 5;

	assert_int_equal(fork_counter_parse("0\n", 2, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(fork_counter_parse("42", 2, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(fork_counter_parse("", 0, &v), -EBADMSG);
	assert_int_equal(fork_counter_parse("4 2\n", 4, &v), -EBADMSG);
	assert_int_equal(fork_counter_parse("-1\n", 3, &v), -EBADMSG);
	assert_int_equal(v, 42);
}

static void test_fork_gen_first_value_is_no_fork(void **state)
{
	struct fork_gen g = {};

	assert_false(fork_gen_update(&g, 3));
	assert_false(fork_gen_update(&g, 3));
	assert_true(fork_gen_update(&g, 5));
	assert_false(fork_gen_update(&g, 5));
	/* A counter that went back (a different VM's counter) is still a change. */
	assert_true(fork_gen_update(&g, 1));
}

static void test_fork_uevent(void **state)
{
	static const char yes[] = "change@/devices/LNXSYSTM:00/QEMUVGID:00\0ACTION=change\0"
				  "DEVPATH=/devices/LNXSYSTM:00/QEMUVGID:00\0NEW_VMGENID=1";
	static const char add[] = "add@/devices/x\0ACTION=add\0NEW_VMGENID=1";
	static const char other[] = "change@/devices/x\0ACTION=change\0NEW_VMGENID=10";
	static const char cut[] = "change@/devices/x\0ACTION=change\0NEW_VMGEN";

	assert_true(fork_uevent_is_fork(yes, sizeof(yes)));
	assert_false(fork_uevent_is_fork(add, sizeof(add)));
	assert_false(fork_uevent_is_fork(other, sizeof(other)));
	assert_false(fork_uevent_is_fork(cut, sizeof(cut)));
	assert_false(fork_uevent_is_fork(yes, 10));
}

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void vmclock_page(uint8_t *abi, uint32_t seq, uint64_t flags, uint64_t gen)
{
	memset(abi, 0, FORK_VMCLOCK_MIN_SIZE);
	put_le(abi, FORK_VMCLOCK_MAGIC, 4);
	put_le(abi + 4, 0x1000, 4);
	put_le(abi + 8, 1, 2);
	put_le(abi + 12, seq, 4);
	put_le(abi + 24, flags, 8);
	put_le(abi + 104, gen, 8);
}

static void test_fork_vmclock(void **state)
{
	uint8_t abi[FORK_VMCLOCK_MIN_SIZE];
	uint64_t gen = 99;
	struct fork_gen g = {};

	vmclock_page(abi, 2, FORK_VMCLOCK_FLAG_GEN, 0x0102030405060708ull);
	assert_int_equal(fork_vmclock_parse(abi, sizeof(abi), &gen), 0);
	assert_int_equal(gen, 0x0102030405060708ull);
	assert_false(fork_gen_update(&g, gen));
	/* The host restored a snapshot: new counter. */
	vmclock_page(abi, 4, FORK_VMCLOCK_FLAG_GEN, 0x0102030405060709ull);
	assert_int_equal(fork_vmclock_parse(abi, sizeof(abi), &gen), 0);
	assert_true(fork_gen_update(&g, gen));
	/* Mid-update (odd seq_count): read again, the value is not trusted. */
	vmclock_page(abi, 5, FORK_VMCLOCK_FLAG_GEN, 7);
	assert_int_equal(fork_vmclock_parse(abi, sizeof(abi), &gen), -EAGAIN);
	assert_int_equal(gen, 0x0102030405060709ull);
	/* A vmclock without the counter, a wrong magic, a short page. */
	vmclock_page(abi, 2, 0, 7);
	assert_int_equal(fork_vmclock_parse(abi, sizeof(abi), &gen), -EOPNOTSUPP);
	vmclock_page(abi, 2, FORK_VMCLOCK_FLAG_GEN, 7);
	abi[0] ^= 1;
	assert_int_equal(fork_vmclock_parse(abi, sizeof(abi), &gen), -EBADMSG);
	vmclock_page(abi, 2, FORK_VMCLOCK_FLAG_GEN, 7);
	assert_int_equal(fork_vmclock_parse(abi, 104, &gen), -EBADMSG);
	put_le(abi + 4, 64, 4);
	assert_int_equal(fork_vmclock_parse(abi, sizeof(abi), &gen), -EBADMSG);
}

static void test_fork_choose(void **state)
{
	const struct fork_env all = { true, true, true, true, true };
	const struct fork_env stock = { .vmgenid = true, .kmsg = true };
	const struct fork_env none = { .kmsg = true };
	const struct fork_env clock = { .vmclock_gen = true, .kmsg = true };
	const struct fork_env v68 = { .uevent = true, .vmgenid = true, .kmsg = true };

	assert_int_equal(fork_choose(FORK_MODE_AUTO, &all), FORK_SYSFS);
	assert_int_equal(fork_choose(FORK_MODE_KERNEL, &all), FORK_SYSFS);
	assert_int_equal(fork_choose(FORK_MODE_KMSG, &all), FORK_KMSG);
	assert_int_equal(fork_choose(FORK_MODE_OFF, &all), FORK_NONE);
	assert_int_equal(fork_choose(FORK_MODE_AUTO, &v68), FORK_UEVENT);
	assert_int_equal(fork_choose(FORK_MODE_AUTO, &clock), FORK_VMCLOCK);
	assert_int_equal(fork_choose(FORK_MODE_AUTO, &stock), FORK_KMSG);
	assert_int_equal(fork_choose(FORK_MODE_KERNEL, &stock), FORK_NONE);
	/* No vmgenid device: nothing will ever log a fork, so auto does not pay for kmsg. */
	assert_int_equal(fork_choose(FORK_MODE_AUTO, &none), FORK_NONE);
	assert_int_equal(fork_choose(FORK_MODE_KMSG, &none), FORK_KMSG);
}

static void test_fork_mode_names(void **state)
{
	enum fork_mode m = FORK_MODE_OFF;

	for (int i = 0; i < _FORK_MODE_MAX; i++) {
		assert_int_equal(fork_mode_parse(fork_mode_name((enum fork_mode)i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_int_equal(fork_mode_parse("sysfs", &m), -EINVAL);
	assert_int_equal(fork_mode_parse("", &m), -EINVAL);
}

static void digest_of(const char *s, size_t repeat, char *hex)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	struct sha256 c;

	sha256_init(&c);
	for (size_t i = 0; i < repeat; i++)
		sha256_update(&c, (const uint8_t *)s, strlen(s));
	sha256_final(&c, d);
	for (size_t i = 0; i < sizeof(d); i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
}

/* FIPS 180-4 example vectors. */
static void test_sha256_vectors(void **state)
{
	char hex[65];

	digest_of("abc", 1, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_of("", 1, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	digest_of("a", 1000000, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* The fork reseed against a fake kernel. */
struct fake_kernel {
	enum kernel_gen gen;
	unsigned adds, reseeds, entropy;
	int fail_reseed;
};

static int fk_state(void *ctx, struct kernel_state *ret)
{
	struct fake_kernel *k = ctx;

	*ret = (struct kernel_state){ .entropy_avail = k->entropy, .ready = true,
				      .poolsize = k->gen == KERNEL_GEN_NEW ? 256 : 4096 };
	return 0;
}

static int fk_add(void *ctx, const uint8_t *buf, size_t n, unsigned bits)
{
	struct fake_kernel *k = ctx;

	k->adds++;
	k->entropy = MIN(4096u, k->entropy + bits);
	return 0;
}

static int fk_reseed(void *ctx)
{
	struct fake_kernel *k = ctx;

	k->reseeds++;
	return k->fail_reseed;
}

static const struct kernel_ops fk_ops = { .state = fk_state, .add = fk_add, .reseed = fk_reseed };

/* A xorshift stream per source: deterministic, passes the health tests. */
struct fake_src {
	uint64_t x;
	bool stalled;
	unsigned reads;
};

static int fs_open(struct source *s)
{
	return 0;
}

static ssize_t fs_read(struct source *s, uint8_t *buf, size_t n)
{
	struct fake_src *f = s->data;

	f->reads++;
	if (f->stalled)
		return -ETIMEDOUT;
	for (size_t i = 0; i < n; i++) {
		f->x ^= f->x << 13;
		f->x ^= f->x >> 7;
		f->x ^= f->x << 17;
		buf[i] = (uint8_t)(f->x >> 32);
	}
	return (ssize_t)n;
}

static void fs_close(struct source *s)
{
}

static const struct source_ops hwrng_ops = { .name = "hwrng", .open = fs_open, .read = fs_read,
					     .close = fs_close };
static const struct source_ops rdrand_ops = { .name = "rdrand", .open = fs_open,
					      .read = fs_read, .close = fs_close };

struct rig {
	struct seeder sd;
	struct fake_kernel k;
	struct source once, src;
	struct fake_src f_once, f_src;
};

static void rig_init(struct rig *r, enum kernel_gen gen, uint64_t seed, unsigned credit)
{
	*r = (struct rig){ .k = { .gen = gen }, .f_once = { .x = seed }, .f_src = { .x = ~seed } };
	r->sd = (struct seeder){ .kernel = { .ops = &fk_ops, .ctx = &r->k }, .gen = gen,
				 .fill_target = 3072, .n_sources = 1 };
	assert_int_equal(source_init(&r->once, &hwrng_ops, NULL, 4.0), 0);
	assert_int_equal(source_init(&r->src, &rdrand_ops, NULL, 4.0), 0);
	r->once.data = &r->f_once;
	r->src.data = &r->f_src;
	r->once.credit = r->src.credit = credit;
	r->sd.sources[0] = &r->src;
	/* Both opened at start, as the agent does. */
	assert_int_equal(source_open(&r->once, 0), 0);
	assert_int_equal(source_open(&r->src, 0), 0);
}

static void test_forkseed_prefers_the_once_source_and_reseeds(void **state)
{
	struct rig r;
	struct forkseed_result res;

	rig_init(&r, KERNEL_GEN_NEW, 1, 4);
	assert_int_equal(forkseed_run(&r.sd, &r.once, 0, 1000, &res), 0);
	assert_string_equal(res.source, "hwrng");
	/* 64 bytes at 4 bits/byte = 256 bits: one chunk from the once source is enough. */
	assert_int_equal(res.bytes, 64);
	assert_int_equal(res.bits, 256);
	assert_int_equal(r.k.reseeds, 1);
	assert_int_equal(r.f_src.reads, 0);
}

static void test_forkseed_once_source_is_read_once(void **state)
{
	struct rig r;
	struct forkseed_result res;

	/* 2 bits/byte: 128 bits per chunk, the rest comes from the seeder's sources. */
	rig_init(&r, KERNEL_GEN_NEW, 1, 2);
	assert_int_equal(forkseed_run(&r.sd, &r.once, 0, 1000, &res), 0);
	assert_string_equal(res.source, "hwrng");
	assert_int_equal(res.bits, 256);
	assert_int_equal(res.bytes, 128);
	assert_int_equal(r.src.bytes, 64);
	assert_int_equal(r.once.bytes, 64);
}

static void test_forkseed_falls_back_when_hwrng_stalls(void **state)
{
	struct rig r;
	struct forkseed_result res;

	rig_init(&r, KERNEL_GEN_NEW, 1, 4);
	r.f_once.stalled = true;
	assert_int_equal(forkseed_run(&r.sd, &r.once, 0, 1000, &res), 0);
	assert_string_equal(res.source, "rdrand");
	assert_int_equal(res.bits, 256);
	assert_int_equal(r.f_once.reads, 1);
	assert_int_equal(r.once.state, SOURCE_QUARANTINED);
}

static void test_forkseed_clones_differ_same_input_same_digest(void **state)
{
	struct rig a, b, c;
	struct forkseed_result ra, rb, rc;

	rig_init(&a, KERNEL_GEN_NEW, 11, 4);
	rig_init(&b, KERNEL_GEN_NEW, 12, 4);
	rig_init(&c, KERNEL_GEN_NEW, 11, 4);
	assert_int_equal(forkseed_run(&a.sd, &a.once, 0, 1, &ra), 0);
	assert_int_equal(forkseed_run(&b.sd, &b.once, 0, 1, &rb), 0);
	assert_int_equal(forkseed_run(&c.sd, &c.once, 0, 1, &rc), 0);
	assert_memory_not_equal(ra.digest, rb.digest, sizeof(ra.digest));
	assert_memory_equal(ra.digest, rc.digest, sizeof(ra.digest));
}

static void test_forkseed_no_source(void **state)
{
	struct rig r;
	struct forkseed_result res = { .bytes = 5 };

	rig_init(&r, KERNEL_GEN_NEW, 1, 4);
	r.f_once.stalled = r.f_src.stalled = true;
	assert_int_equal(forkseed_run(&r.sd, &r.once, 0, 1000, &res), -ENODATA);
	assert_int_equal(res.bytes, 5);
	assert_int_equal(r.k.reseeds, 0);
	assert_int_equal(r.k.adds, 0);
}

static void test_forkseed_uncredited_bytes_still_mixed(void **state)
{
	struct rig r;
	struct forkseed_result res;

	/* A confidential VM: host bytes credited 0 are mixed, once, and the CRNG reseeded. */
	rig_init(&r, KERNEL_GEN_NEW, 1, 0);
	assert_int_equal(forkseed_run(&r.sd, NULL, 0, 1000, &res), 0);
	assert_int_equal(res.bits, 0);
	assert_int_equal(res.bytes, 64);
	assert_int_equal(r.k.reseeds, 1);
}

static void test_forkseed_old_kernel_refills(void **state)
{
	struct rig r;
	struct forkseed_result res;

	rig_init(&r, KERNEL_GEN_OLD, 1, 4);
	assert_int_equal(forkseed_run(&r.sd, &r.once, 0, 1000, &res), 0);
	assert_int_equal(r.k.reseeds, 0);
	assert_true(r.k.entropy >= 3072);
}

/* What the hwrng buffers held at the snapshot is the same in every clone: dropped. */
static void test_forkseed_drops_stale_hwrng_bytes(void **state)
{
	struct rig a, b;
	struct forkseed_result ra, rb;

	rig_init(&a, KERNEL_GEN_NEW, 11, 4);
	rig_init(&b, KERNEL_GEN_NEW, 11, 4);
	assert_int_equal(forkseed_run(&a.sd, &a.once, 0, 1, &ra), 0);
	assert_int_equal(forkseed_run(&b.sd, &b.once, FORKSEED_HWRNG_STALE, 1, &rb), 0);
	assert_string_equal(rb.source, "hwrng");
	assert_int_equal(rb.bytes, 64);
	assert_int_equal(b.once.bytes, FORKSEED_HWRNG_STALE + 64);
	/* Same stream: B's bytes are the ones after the stale ones, so they differ from A's. */
	assert_memory_not_equal(ra.digest, rb.digest, sizeof(ra.digest));
	/* A stalled hwrng while dropping: the next source gives the fresh bytes. */
	rig_init(&b, KERNEL_GEN_NEW, 11, 4);
	b.f_once.stalled = true;
	assert_int_equal(forkseed_run(&b.sd, &b.once, FORKSEED_HWRNG_STALE, 1, &rb), 0);
	assert_string_equal(rb.source, "rdrand");
	assert_int_equal(b.f_once.reads, 1);
}

static void test_forkseed_skips_sources_not_open(void **state)
{
	struct rig r;
	struct forkseed_result res;

	/* An absent /dev/hwrng is retried by fills, never probed after a fork. */
	rig_init(&r, KERNEL_GEN_NEW, 1, 4);
	r.once.state = SOURCE_UNAVAILABLE;
	r.once.retry_usec = 0;
	assert_int_equal(forkseed_run(&r.sd, &r.once, 0, 1000, &res), 0);
	assert_string_equal(res.source, "rdrand");
	assert_int_equal(r.f_once.reads, 0);
	r.src.state = SOURCE_QUARANTINED;
	assert_int_equal(forkseed_run(&r.sd, &r.once, 0, 1000, &res), -ENODATA);
}

static void test_forkseed_reseed_refused(void **state)
{
	struct rig r;
	struct forkseed_result res = { .bytes = 5 };

	rig_init(&r, KERNEL_GEN_NEW, 1, 4);
	r.k.fail_reseed = -EPERM;
	assert_int_equal(forkseed_run(&r.sd, &r.once, 0, 1000, &res), -EPERM);
	assert_int_equal(res.bytes, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_kmsg_parse_table),
		cmocka_unit_test(test_fork_kmsg_parse_no_nul_needed),
		cmocka_unit_test(test_fork_counter_parse),
		cmocka_unit_test(test_fork_gen_first_value_is_no_fork),
		cmocka_unit_test(test_fork_uevent),
		cmocka_unit_test(test_fork_vmclock),
		cmocka_unit_test(test_fork_choose),
		cmocka_unit_test(test_fork_mode_names),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_forkseed_prefers_the_once_source_and_reseeds),
		cmocka_unit_test(test_forkseed_once_source_is_read_once),
		cmocka_unit_test(test_forkseed_falls_back_when_hwrng_stalls),
		cmocka_unit_test(test_forkseed_clones_differ_same_input_same_digest),
		cmocka_unit_test(test_forkseed_no_source),
		cmocka_unit_test(test_forkseed_uncredited_bytes_still_mixed),
		cmocka_unit_test(test_forkseed_old_kernel_refills),
		cmocka_unit_test(test_forkseed_drops_stale_hwrng_bytes),
		cmocka_unit_test(test_forkseed_skips_sources_not_open),
		cmocka_unit_test(test_forkseed_reseed_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
