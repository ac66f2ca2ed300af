/* The 512:1 RDRAND reduction, checked against CBC-MAC computed other ways. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <cmocka.h>
#include <gcrypt.h>

#include "macro.h"
#include "source-rdrand.h"
#include "source.h"

/* Reference: AES-128 in ECB mode, chaining done by hand. */
static void reference_cbcmac(const uint8_t key[16], const uint8_t *in, size_t n, uint8_t out[16])
{
	gcry_cipher_hd_t h;
	uint8_t chain[16] = { 0 };

	assert_int_equal(gcry_cipher_open(&h, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_ECB, 0), 0);
	assert_int_equal(gcry_cipher_setkey(h, key, 16), 0);
	for (size_t off = 0; off < n; off += 16) {
		for (int i = 0; i < 16; i++)
			chain[i] ^= in[off + i];
		assert_int_equal(gcry_cipher_encrypt(h, chain, 16, NULL, 0), 0);
	}
	gcry_cipher_close(h);
	memcpy(out, chain, 16);
}

static bool have_aesni(void)
{
	if (cpu_has_aesni())
		return true;
	print_message("CPU has no AES-NI: its CBC-MAC path cannot run here, skipping\n");
	return false;
}

static void test_cbcmac_matches_reference(void **state)
{
	static uint8_t in[RDRAND_SAMPLE_BYTES], work[RDRAND_SAMPLE_BYTES];
	uint8_t key[16], got[16], want[16];
	struct cbcmac *m = NULL;

	assert_int_equal(getrandom(key, sizeof(key), 0), 16);
	assert_int_equal(getrandom(in, sizeof(in), 0), (ssize_t)sizeof(in));
	assert_int_equal(cbcmac_new(key, CBCMAC_GCRYPT, &m), 0);
	memcpy(work, in, sizeof(in));
	assert_int_equal(cbcmac_compute(m, work, sizeof(work), got), 0);
	reference_cbcmac(key, in, sizeof(in), want);
	assert_memory_equal(got, want, 16);
	/* The IV is reset: the same input gives the same MAC again. */
	memcpy(work, in, sizeof(in));
	assert_int_equal(cbcmac_compute(m, work, sizeof(work), got), 0);
	assert_memory_equal(got, want, 16);
	memcpy(work, in, sizeof(in));
	work[100] ^= 1;
	assert_int_equal(cbcmac_compute(m, work, sizeof(work), got), 0);
	assert_memory_not_equal(got, want, 16);
	cbcmac_free(m);
}

/* Same key, same input, every length: the two implementations give the same MAC. */
static void test_cbcmac_aesni_matches_gcrypt(void **state)
{
	static uint8_t in[RDRAND_SAMPLE_BYTES], work[RDRAND_SAMPLE_BYTES];
	static const size_t lengths[] = { 16, 32, 48, 4096, RDRAND_SAMPLE_BYTES };
	uint8_t key[16], got[16], want[16];
	struct cbcmac *aesni = NULL, *gcrypt = NULL;

	if (!have_aesni())
		skip();
	assert_int_equal(getrandom(key, sizeof(key), 0), 16);
	assert_int_equal(getrandom(in, sizeof(in), 0), (ssize_t)sizeof(in));
	assert_int_equal(cbcmac_new(key, CBCMAC_AESNI, &aesni), 0);
	assert_int_equal(cbcmac_new(key, CBCMAC_GCRYPT, &gcrypt), 0);
	for (size_t i = 0; i < ELEMENTSOF(lengths); i++) {
		memcpy(work, in, sizeof(in));
		assert_int_equal(cbcmac_compute(aesni, work, lengths[i], got), 0);
		assert_memory_equal(work, in, sizeof(in));
		assert_int_equal(cbcmac_compute(gcrypt, work, lengths[i], want), 0);
		assert_memory_equal(got, want, 16);
	}
	cbcmac_free(aesni);
	cbcmac_free(gcrypt);
}

/* FIPS 197 appendix C.1: one block under the key 000102..0f, checking the key schedule. */
static void test_cbcmac_aesni_fips197_vector(void **state)
{
	uint8_t key[16], in[16], out[16];
	static const uint8_t want[16] = {
		0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
		0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a,
	};
	struct cbcmac *m = NULL;

	if (!have_aesni())
		skip();
	for (int i = 0; i < 16; i++) {
		key[i] = (uint8_t)i;
		in[i] = (uint8_t)(i * 0x11);
	}
	assert_int_equal(cbcmac_new(key, CBCMAC_AESNI, &m), 0);
	assert_int_equal(cbcmac_compute(m, in, sizeof(in), out), 0);
	assert_memory_equal(out, want, 16);
	cbcmac_free(m);
}

/* The source's path: words fetched and chained at once, checked against libgcrypt after. */
static void test_cbcmac_rdrand_matches_gcrypt(void **state)
{
	static uint64_t words[RDRAND_SAMPLE_BYTES / sizeof(uint64_t)];
	uint8_t key[16], got[16], want[16];
	struct cbcmac *aesni = NULL, *gcrypt = NULL;

	if (!cpu_has_rdrand() || !have_aesni())
		skip();
	assert_int_equal(getrandom(key, sizeof(key), 0), 16);
	assert_int_equal(cbcmac_new(key, CBCMAC_AESNI, &aesni), 0);
	assert_int_equal(cbcmac_new(key, CBCMAC_GCRYPT, &gcrypt), 0);
	assert_int_equal(cbcmac_rdrand(aesni, words, ELEMENTSOF(words), got), 0);
	assert_int_equal(cbcmac_compute(gcrypt, (uint8_t *)words, sizeof(words), want), 0);
	assert_memory_equal(got, want, 16);
	assert_int_equal(cbcmac_rdrand(aesni, words, 3, got), -EINVAL);
	assert_int_equal(cbcmac_rdrand(gcrypt, words, 2, got), -ENOTSUP);
	explicit_bzero(words, sizeof(words));
	cbcmac_free(aesni);
	cbcmac_free(gcrypt);
}

static void test_cbcmac_rejects_partial_blocks(void **state)
{
	uint8_t key[16] = { 0 }, in[32] = { 0 }, out[16];
	enum cbcmac_impl impls[] = { CBCMAC_GCRYPT, CBCMAC_AESNI };

	for (size_t i = 0; i < ELEMENTSOF(impls); i++) {
		struct cbcmac *m = NULL;

		if (impls[i] == CBCMAC_AESNI && !cpu_has_aesni()) {
			assert_int_equal(cbcmac_new(key, impls[i], &m), -ENOTSUP);
			continue;
		}
		assert_int_equal(cbcmac_new(key, impls[i], &m), 0);
		assert_int_equal(cbcmac_compute(m, in, 15, out), -EINVAL);
		assert_int_equal(cbcmac_compute(m, in, 0, out), -EINVAL);
		cbcmac_free(m);
	}
}

static void test_rdrand_source_gives_conditioned_blocks(void **state)
{
	struct source s;
	uint8_t buf[64];

	if (!cpu_has_rdrand())
		skip();
	assert_int_equal(source_init(&s, &source_rdrand_ops, NULL, 4.0), 0);
	assert_int_equal(source_take(&s, buf, sizeof(buf), 0), 64);
	assert_true(health_started(&s.health));
	source_done(&s);
}

static void test_rdrand_read_needs_a_whole_block(void **state)
{
	struct source s;
	uint8_t buf[15];

	if (!cpu_has_rdrand())
		skip();
	assert_int_equal(source_init(&s, &source_rdrand_ops, NULL, 4.0), 0);
	assert_int_equal(source_open(&s, 0), 0);
	assert_int_equal(s.ops->read(&s, buf, sizeof(buf)), -EINVAL);
	source_done(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cbcmac_matches_reference),
		cmocka_unit_test(test_cbcmac_aesni_matches_gcrypt),
		cmocka_unit_test(test_cbcmac_aesni_fips197_vector),
		cmocka_unit_test(test_cbcmac_rdrand_matches_gcrypt),
		cmocka_unit_test(test_cbcmac_rejects_partial_blocks),
		cmocka_unit_test(test_rdrand_source_gives_conditioned_blocks),
		cmocka_unit_test(test_rdrand_read_needs_a_whole_block),
	};

	if (crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
