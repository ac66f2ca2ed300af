/* The 512:1 RDRAND reduction, checked against CBC-MAC computed another way. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <cmocka.h>
#include <gcrypt.h>

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

static void test_cbcmac_matches_reference(void **state)
{
	static uint8_t in[RDRAND_SAMPLE_BYTES], work[RDRAND_SAMPLE_BYTES];
	uint8_t key[16], got[16], want[16];
	struct cbcmac *m = NULL;

	assert_int_equal(getrandom(key, sizeof(key), 0), 16);
	assert_int_equal(getrandom(in, sizeof(in), 0), (ssize_t)sizeof(in));
	assert_int_equal(cbcmac_new(key, &m), 0);
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

static void test_cbcmac_rejects_partial_blocks(void **state)
{
	uint8_t key[16] = { 0 }, in[32] = { 0 }, out[16];
	struct cbcmac *m = NULL;

	assert_int_equal(cbcmac_new(key, &m), 0);
	assert_int_equal(cbcmac_compute(m, in, 15, out), -EINVAL);
	assert_int_equal(cbcmac_compute(m, in, 0, out), -EINVAL);
	cbcmac_free(m);
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
		cmocka_unit_test(test_cbcmac_rejects_partial_blocks),
		cmocka_unit_test(test_rdrand_source_gives_conditioned_blocks),
		cmocka_unit_test(test_rdrand_read_needs_a_whole_block),
	};

	if (crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
