/*
 * The CPU's instructions as sources.  RDSEED output is seed-grade and is used
 * as it comes, after retrying transient CF=0 a bounded number of times.
 * RDRAND is a DRBG reseeded at most every 511 outputs, so only its 512:1
 * AES-128-CBC-MAC reduction (Intel DRNG guide) is offered: 8 KiB of raw
 * output in, one 16-byte block out, released only if the raw words pass the
 * health tests; all-zero or all-ones words (known-bad silicon) fail at once.
 * With AES-NI the MAC is chained while the words are fetched, so the AES
 * latency chain runs under RDRAND's and libgcrypt is not even loaded; it is
 * opened on the first need to compute the same MAC on other CPUs, before the
 * sandbox.  All CPU-specific code lives here.
 */
#include <dlfcn.h>
#include <errno.h>
#include <gcrypt.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "source.h"
#include "source-rdrand.h"

/* All-zero or all-ones: known-bad silicon, not a statistical accident. */
static inline bool bad_word(uint64_t w)
{
	return w == 0 || w == UINT64_MAX;
}

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

bool cpu_has_aesni(void)
{
	unsigned a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AES);
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

/*
 * One AES-128 key schedule step (FIPS 197 5.2): each word of the next round key
 * is the XOR of the previous key's words up to it and t's top word, which
 * aeskeygenassist made SubWord(RotWord(w3)) ^ rcon.
 */
__attribute__((target("aes"))) static inline __m128i aes_expand(__m128i k, __m128i t)
{
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 8));
	return _mm_xor_si128(k, _mm_shuffle_epi32(t, 0xff));
}

/* aeskeygenassist takes rcon as an immediate: one line per round. */
#define AES_EXPAND(rk, i, rcon) \
	((rk)[i] = aes_expand((rk)[(i) - 1], _mm_aeskeygenassist_si128((rk)[(i) - 1], rcon)))

__attribute__((target("aes"))) static void aesni_setkey(uint8_t *rk_bytes,
							const uint8_t key[RDRAND_BLOCK])
{
	__m128i rk[AES128_ROUND_KEYS];

	rk[0] = _mm_loadu_si128((const __m128i *)key);
	AES_EXPAND(rk, 1, 0x01);
	AES_EXPAND(rk, 2, 0x02);
	AES_EXPAND(rk, 3, 0x04);
	AES_EXPAND(rk, 4, 0x08);
	AES_EXPAND(rk, 5, 0x10);
	AES_EXPAND(rk, 6, 0x20);
	AES_EXPAND(rk, 7, 0x40);
	AES_EXPAND(rk, 8, 0x80);
	AES_EXPAND(rk, 9, 0x1b);
	AES_EXPAND(rk, 10, 0x36);
	memcpy(rk_bytes, rk, sizeof(rk));
	explicit_bzero(rk, sizeof(rk));
}

/* Unrolled, so that the 11 round keys stay in registers (and never on the stack). */
#define AES_LOAD_KEYS(rk, bytes) \
	_Pragma("GCC unroll 11") \
	for (int i_ = 0; i_ < AES128_ROUND_KEYS; i_++) \
		(rk)[i_] = _mm_load_si128((const __m128i *)(bytes) + i_)

__attribute__((target("aes"))) static inline __m128i aes_encrypt(const __m128i *rk, __m128i x)
{
	x = _mm_xor_si128(x, rk[0]);
#pragma GCC unroll 9
	for (int i = 1; i < AES128_ROUND_KEYS - 1; i++)
		x = _mm_aesenc_si128(x, rk[i]);
	return _mm_aesenclast_si128(x, rk[AES128_ROUND_KEYS - 1]);
}

__attribute__((target("aes"))) static void aesni_mac(const uint8_t *rk_bytes, const uint8_t *buf,
						     size_t n, uint8_t out[RDRAND_BLOCK])
{
	__m128i rk[AES128_ROUND_KEYS], chain = _mm_setzero_si128();

	AES_LOAD_KEYS(rk, rk_bytes);
	for (size_t off = 0; off < n; off += RDRAND_BLOCK)
		chain = aes_encrypt(rk, _mm_xor_si128(chain,
						      _mm_loadu_si128((const __m128i *)(buf + off))));
	_mm_storeu_si128((__m128i *)out, chain);
}

/*
 * Fetch n words and chain them as they come: nothing in a block's RDRAND
 * depends on the previous block's AES rounds, so the core runs both at once.
 */
__attribute__((target("aes,rdrnd"))) static int aesni_rdrand_mac(const uint8_t *rk_bytes,
								  uint64_t *words, size_t n,
								  uint8_t out[RDRAND_BLOCK])
{
	__m128i rk[AES128_ROUND_KEYS], chain = _mm_setzero_si128();

	AES_LOAD_KEYS(rk, rk_bytes);
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (!rdrand_word(&words[i]) || !rdrand_word(&words[i + 1]))
			return -EBUSY;
		if (bad_word(words[i]) || bad_word(words[i + 1]))
			return -EIO;
		chain = aes_encrypt(rk, _mm_xor_si128(chain, _mm_set_epi64x((long long)words[i + 1],
									    (long long)words[i])));
	}
	_mm_storeu_si128((__m128i *)out, chain);
	return 0;
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

bool cpu_has_aesni(void)
{
	return false;
}

static void aesni_setkey(uint8_t *rk_bytes, const uint8_t key[RDRAND_BLOCK])
{
}

static void aesni_mac(const uint8_t *rk_bytes, const uint8_t *buf, size_t n,
		      uint8_t out[RDRAND_BLOCK])
{
}

static int aesni_rdrand_mac(const uint8_t *rk_bytes, uint64_t *words, size_t n,
			    uint8_t out[RDRAND_BLOCK])
{
	return -ENOTSUP;
}
#endif

/* -EBUSY: the CPU gave no word within the retry bound; -EIO: a known-bad word. */
static int fill(bool (*word)(uint64_t *), uint64_t *words, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!word(&words[i]))
			return -EBUSY;
		if (bad_word(words[i]))
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

/*
 * Loading libgcrypt (with libgpg-error) costs ~350 KiB of peak RSS and initializing it ~500 KiB
 * more: only CPUs without AES-NI pay that.  ldd does not show it: initramfs builders add it.
 */
#define GCRYPT_SONAME "libgcrypt.so.20"

static struct {
	typeof(gcry_check_version) *check_version;
	typeof(gcry_control) *control;
	typeof(gcry_cipher_open) *cipher_open;
	typeof(gcry_cipher_close) *cipher_close;
	typeof(gcry_cipher_setkey) *cipher_setkey;
	typeof(gcry_cipher_setiv) *cipher_setiv;
	typeof(gcry_cipher_encrypt) *cipher_encrypt;
} gcry;

#define GCRY_SYM(dl, f) ((gcry.f = dlsym(dl, "gcry_" #f)) != NULL)

/* Never closed: a quarantined source reopens under seccomp, where dlopen() could not run. */
static int gcrypt_load(void)
{
	void *dl;

	if (gcry.cipher_encrypt)
		return 0;
	dl = dlopen(GCRYPT_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!dl)
		return -ELIBACC;
	if (!GCRY_SYM(dl, check_version) || !GCRY_SYM(dl, control) ||
	    !GCRY_SYM(dl, cipher_open) || !GCRY_SYM(dl, cipher_close) ||
	    !GCRY_SYM(dl, cipher_setkey) || !GCRY_SYM(dl, cipher_setiv) ||
	    !GCRY_SYM(dl, cipher_encrypt)) {
		memset(&gcry, 0, sizeof(gcry));
		dlclose(dl);
		return -ELIBBAD;
	}
	return 0;
}

int crypto_init(void)
{
	int r = gcrypt_load();

	if (r < 0)
		return r;
	if (!gcry.control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
		if (!gcry.check_version(GCRYPT_VERSION))
			return -ENOTSUP;
		/* Secure memory would want mlock and setuid games; buffers are wiped instead. */
		gcry.control(GCRYCTL_DISABLE_SECMEM, 0);
		gcry.control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	}
	return 0;
}

struct cbcmac {
	_Alignas(16) uint8_t rk[AES128_ROUND_KEYS * RDRAND_BLOCK]; /* AES-NI round keys */
	enum cbcmac_impl impl;
	gcry_cipher_hd_t h;
};

static int gcrypt_setkey(struct cbcmac *m, const uint8_t key[RDRAND_BLOCK])
{
	int r = crypto_init();

	if (r < 0)
		return r;
	if (gcry.cipher_open(&m->h, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_CBC, 0) ||
	    gcry.cipher_setkey(m->h, key, RDRAND_BLOCK))
		return -EIO;
	return 0;
}

int cbcmac_new(const uint8_t key[RDRAND_BLOCK], enum cbcmac_impl impl, struct cbcmac **ret)
{
	struct cbcmac *m;
	int r = 0;

	if (impl == CBCMAC_AESNI && !cpu_has_aesni())
		return -ENOTSUP;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->impl = impl;
	if (impl == CBCMAC_AESNI)
		aesni_setkey(m->rk, key);
	else
		r = gcrypt_setkey(m, key);
	if (r < 0) {
		cbcmac_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

struct cbcmac *cbcmac_free(struct cbcmac *m)
{
	if (m) {
		if (m->h)
			gcry.cipher_close(m->h);
		explicit_bzero(m, sizeof(*m));
		free(m);
	}
	return NULL;
}

/*
 * CBC-MAC with a zero IV: the last ciphertext block of CBC encryption.
 * libgcrypt encrypts the buffer in place (the caller wipes it): no second
 * 8 KiB to write.  AES-NI leaves it as it was.
 */
int cbcmac_compute(struct cbcmac *m, uint8_t *buf, size_t n, uint8_t out[RDRAND_BLOCK])
{
	if (n == 0 || n % RDRAND_BLOCK || n > RDRAND_SAMPLE_BYTES)
		return -EINVAL;
	if (m->impl == CBCMAC_AESNI) {
		aesni_mac(m->rk, buf, n, out);
		return 0;
	}
	if (gcry.cipher_setiv(m->h, NULL, 0) || gcry.cipher_encrypt(m->h, buf, n, NULL, 0))
		return -EIO;
	memcpy(out, buf + n - RDRAND_BLOCK, RDRAND_BLOCK);
	return 0;
}

/*
 * AES-NI only: fill words with RDRAND output and return the CBC-MAC over
 * them, the same as cbcmac_compute() over the words afterwards.  -EBUSY: no
 * word within the retry bound; -EIO: a known-bad word.
 */
int cbcmac_rdrand(struct cbcmac *m, uint64_t *words, size_t n, uint8_t out[RDRAND_BLOCK])
{
	if (m->impl != CBCMAC_AESNI)
		return -ENOTSUP;
	if (n == 0 || n % 2 || n * sizeof(uint64_t) > RDRAND_SAMPLE_BYTES)
		return -EINVAL;
	return aesni_rdrand_mac(m->rk, words, n, out);
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

/* egd opens its sources lazily, under seccomp: libgcrypt must be mapped before. */
static int rdrand_prepare(void)
{
	return cpu_has_rdrand() && !cpu_has_aesni() ? crypto_init() : 0;
}

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
		r = cbcmac_new((const uint8_t *)key,
			       cpu_has_aesni() ? CBCMAC_AESNI : CBCMAC_GCRYPT, &m);
	explicit_bzero(key, sizeof(key));
	if (r < 0)
		return r;
	s->data = m;
	return 0;
}

/* libgcrypt encrypts in place, so it runs after the health tests; AES-NI runs with RDRAND. */
static int rdrand_block(struct source *s, uint8_t out[RDRAND_BLOCK])
{
	static uint64_t raw[RDRAND_SAMPLE_BYTES / sizeof(uint64_t)];
	struct cbcmac *m = s->data;
	uint8_t mac[RDRAND_BLOCK];
	int r = m->impl == CBCMAC_AESNI ? cbcmac_rdrand(m, raw, ELEMENTSOF(raw), mac)
					 : cpu_rdrand_fill(raw, ELEMENTSOF(raw));

	if (r == -EIO)
		health_fail(&s->health, HEALTH_PATTERN);
	else if (r == 0 && health_test(&s->health, (uint8_t *)raw, sizeof(raw)) != HEALTH_OK)
		r = -EIO;
	if (r == 0 && m->impl == CBCMAC_GCRYPT)
		r = cbcmac_compute(m, (uint8_t *)raw, sizeof(raw), mac);
	if (r == 0)
		memcpy(out, mac, sizeof(mac));
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(mac, sizeof(mac));
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
	.prepare = rdrand_prepare,
	.tests_raw = true,
	.sample_bytes = 8,
};
