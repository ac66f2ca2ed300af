/*
 * The CPU's instructions as sources.  RDSEED output is seed-grade and is used
 * as it comes, after retrying transient CF=0 a bounded number of times.
 * RDRAND is a DRBG reseeded at most every 511 outputs, so only its 512:1
 * AES-128-CBC-MAC reduction (Intel DRNG guide) is offered: 8 KiB of raw
 * output in, one 16-byte block out.  Raw words are health-tested before
 * conditioning; all-zero or all-ones words (known-bad silicon) fail at once.
 * All CPU-specific code of the project lives in this file.
 */
#include <errno.h>
#include <gcrypt.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "source.h"
#include "source-rdrand.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

bool cpu_has_rdrand(void)
{
	unsigned a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_RDRND);
}

bool cpu_has_rdseed(void)
{
	unsigned a, b, c, d;

	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_RDSEED);
}

__attribute__((target("rdrnd"))) static bool rdrand_word(uint64_t *w)
{
	unsigned long long v;

	for (int i = 0; i < RDRAND_RETRIES; i++)
		if (_rdrand64_step(&v)) {
			*w = v;
			return true;
		}
	return false;
}

__attribute__((target("rdseed"))) static bool rdseed_word(uint64_t *w)
{
	unsigned long long v;

	for (int i = 0; i < RDSEED_RETRIES; i++) {
		if (_rdseed64_step(&v)) {
			*w = v;
			return true;
		}
		_mm_pause();
	}
	return false;
}
#else
bool cpu_has_rdrand(void)
{
	return false;
}

bool cpu_has_rdseed(void)
{
	return false;
}

static bool rdrand_word(uint64_t *w)
{
	return false;
}

static bool rdseed_word(uint64_t *w)
{
	return false;
}
#endif

/* -EBUSY: the CPU gave no word within the retry bound; -EIO: a known-bad word. */
static int fill(bool (*word)(uint64_t *), uint64_t *words, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!word(&words[i]))
			return -EBUSY;
		if (words[i] == 0 || words[i] == UINT64_MAX)
			return -EIO;
	}
	return 0;
}

int cpu_rdrand_fill(uint64_t *words, size_t n)
{
	return fill(rdrand_word, words, n);
}

int cpu_rdseed_fill(uint64_t *words, size_t n)
{
	return fill(rdseed_word, words, n);
}

int crypto_init(void)
{
	if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
		if (!gcry_check_version(GCRYPT_VERSION))
			return -ENOTSUP;
		/* Secure memory would want mlock and setuid games; buffers are wiped instead. */
		gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
		gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	}
	return 0;
}

struct cbcmac {
	gcry_cipher_hd_t h;
};

int cbcmac_new(const uint8_t key[RDRAND_BLOCK], struct cbcmac **ret)
{
	struct cbcmac *m;
	int r = crypto_init();

	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (gcry_cipher_open(&m->h, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_CBC, 0) ||
	    gcry_cipher_setkey(m->h, key, RDRAND_BLOCK)) {
		cbcmac_free(m);
		return -EIO;
	}
	*ret = m;
	return 0;
}

struct cbcmac *cbcmac_free(struct cbcmac *m)
{
	if (m) {
		gcry_cipher_close(m->h);
		explicit_bzero(m, sizeof(*m));
		free(m);
	}
	return NULL;
}

/*
 * CBC-MAC with a zero IV: the last ciphertext block of CBC encryption.  The
 * buffer is encrypted in place (the caller wipes it): no second 8 KiB to write.
 */
int cbcmac_compute(struct cbcmac *m, uint8_t *buf, size_t n, uint8_t out[RDRAND_BLOCK])
{
	if (n == 0 || n % RDRAND_BLOCK || n > RDRAND_SAMPLE_BYTES)
		return -EINVAL;
	if (gcry_cipher_setiv(m->h, NULL, 0) || gcry_cipher_encrypt(m->h, buf, n, NULL, 0))
		return -EIO;
	memcpy(out, buf + n - RDRAND_BLOCK, RDRAND_BLOCK);
	return 0;
}

static int rdseed_open(struct source *s)
{
	s->fd = -1;
	return cpu_has_rdseed() ? 0 : -ENODEV;
}

static ssize_t rdseed_read(struct source *s, uint8_t *buf, size_t n)
{
	uint64_t words[32];
	size_t k = MIN(n, sizeof(words)) / sizeof(uint64_t) * sizeof(uint64_t);
	int r;

	if (k == 0)
		return -EINVAL;
	r = cpu_rdseed_fill(words, k / sizeof(uint64_t));
	if (r == -EIO)
		health_fail(&s->health, HEALTH_PATTERN);
	if (r == 0)
		memcpy(buf, words, k);
	explicit_bzero(words, sizeof(words));
	return r < 0 ? r : (ssize_t)k;
}

static void cpu_close(struct source *s)
{
	s->data = cbcmac_free(s->data);
}

const struct source_ops source_rdseed_ops = {
	.name = "rdseed",
	.open = rdseed_open,
	.read = rdseed_read,
	.close = cpu_close,
	.sample_bytes = 8,
};

static int rdrand_open(struct source *s)
{
	uint64_t key[2];
	struct cbcmac *m;
	int r;

	s->fd = -1;
	if (!cpu_has_rdrand())
		return -ENODEV;
	r = cpu_rdrand_fill(key, ELEMENTSOF(key));
	if (r == 0)
		r = cbcmac_new((const uint8_t *)key, &m);
	explicit_bzero(key, sizeof(key));
	if (r < 0)
		return r;
	s->data = m;
	return 0;
}

static int rdrand_block(struct source *s, uint8_t out[RDRAND_BLOCK])
{
	static uint64_t raw[RDRAND_SAMPLE_BYTES / sizeof(uint64_t)];
	int r = cpu_rdrand_fill(raw, ELEMENTSOF(raw));

	if (r == -EIO)
		health_fail(&s->health, HEALTH_PATTERN);
	else if (r == 0 && health_test(&s->health, (uint8_t *)raw, sizeof(raw)) != HEALTH_OK)
		r = -EIO;
	if (r == 0)
		r = cbcmac_compute(s->data, (uint8_t *)raw, sizeof(raw), out);
	explicit_bzero(raw, sizeof(raw));
	return r;
}

static ssize_t rdrand_read(struct source *s, uint8_t *buf, size_t n)
{
	size_t done = 0;

	if (n < RDRAND_BLOCK)
		return -EINVAL;
	/* Health start-up: the raw samples of the first blocks are the test. */
	while (done + RDRAND_BLOCK <= n) {
		int r = rdrand_block(s, buf + done);

		if (r < 0)
			return r;
		done += RDRAND_BLOCK;
	}
	return (ssize_t)done;
}

const struct source_ops source_rdrand_ops = {
	.name = "rdrand",
	.open = rdrand_open,
	.read = rdrand_read,
	.close = cpu_close,
	.tests_raw = true,
	.sample_bytes = 8,
};
