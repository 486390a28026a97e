/* random_test.c: self-tests for the entropy source, the CSPRNG and the mbedTLS wiring
 * beneath them (known-answer tests against published vectors). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernel/random.h"
#include "kernel/selftest.h"
#include "mbedtls/aes.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/platform.h"
#include "mbedtls/sha256.h"

#define GATHER_BYTES 32
#define HISTOGRAM_BYTES (64 * 1024)
#define HISTOGRAM_CHUNK 1024
#define BYTE_VALUES 256
/* Chi-square with 255 degrees of freedom has mean 255 and deviation ~22.6: outside
 * [150, 400] is a > 4.5 sigma event for a good generator. The lower bound catches output
 * that is too even to be random (a counter, a repeating pattern). */
#define CHI2_MIN 150
#define CHI2_MAX 400

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

SELFTEST(entropy_gather_varies)
{
	uint8_t a[GATHER_BYTES], b[GATHER_BYTES];
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK(entropy_gather(a, sizeof(a)) == sizeof(a));
	CHECK(entropy_gather(b, sizeof(b)) == sizeof(b));
	CHECK(!all_zero(a, sizeof(a)));
	CHECK(!all_zero(b, sizeof(b)));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	/* A request that is not a multiple of the block size is filled exactly. */
	uint8_t odd[GATHER_BYTES + 5];
	memset(odd, 0, sizeof(odd));
	CHECK(entropy_gather(odd, sizeof(odd) - 1) == sizeof(odd) - 1);
	CHECK(odd[sizeof(odd) - 1] == 0);
	return 0;
}

SELFTEST(random_bytes_differ)
{
	uint8_t a[GATHER_BYTES], b[GATHER_BYTES];
	CHECK(random_bytes(a, sizeof(a)) == 0);
	CHECK(random_bytes(b, sizeof(b)) == 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(!all_zero(a, sizeof(a)));
	CHECK(random_u64() != random_u64());
	CHECK(random_bytes(a, 0) == 0);
	return 0;
}

SELFTEST(random_bytes_histogram)
{
	static uint32_t count[BYTE_VALUES];
	static uint8_t big[3 * MBEDTLS_CTR_DRBG_MAX_REQUEST + 7]; /* crosses chunk limits */
	uint8_t chunk[HISTOGRAM_CHUNK];

	memset(count, 0, sizeof(count));
	for (size_t done = 0; done < HISTOGRAM_BYTES; done += sizeof(chunk)) {
		CHECK(random_bytes(chunk, sizeof(chunk)) == 0);
		for (size_t i = 0; i < sizeof(chunk); i++)
			count[chunk[i]]++;
	}
	const uint32_t expect = HISTOGRAM_BYTES / BYTE_VALUES;
	uint64_t sq = 0;
	for (int v = 0; v < BYTE_VALUES; v++) {
		CHECK(count[v] > 0);
		int64_t dev = (int64_t)count[v] - expect;
		sq += (uint64_t)(dev * dev);
	}
	uint64_t chi2 = sq / expect;
	kinfo("random: chi-square of %u bytes = %lu (255 degrees of freedom)", HISTOGRAM_BYTES,
	      (unsigned long)chi2);
	CHECK(chi2 >= CHI2_MIN && chi2 <= CHI2_MAX);

	/* A request above MBEDTLS_CTR_DRBG_MAX_REQUEST is split, and all of it is written. */
	memset(big, 0, sizeof(big));
	CHECK(random_bytes(big, sizeof(big)) == 0);
	CHECK(!all_zero(big + sizeof(big) - GATHER_BYTES, GATHER_BYTES));
	return 0;
}

/* One request past the reseed interval makes CTR-DRBG pull fresh entropy (under the
 * lock, through mbedtls_hardware_poll); a broken reseed path would surface here. */
SELFTEST(random_reseeds)
{
	uint8_t b;
	for (int i = 0; i <= MBEDTLS_CTR_DRBG_RESEED_INTERVAL; i++)
		CHECK(random_bytes(&b, sizeof(b)) == 0);
	return 0;
}

/* mbedTLS's allocator is the kernel heap: zeroed memory, and overflow refused. */
SELFTEST(mbedtls_calloc_glue)
{
	CHECK(mbedtls_calloc(SIZE_MAX / 2, 4) == NULL);
	uint8_t *p = mbedtls_calloc(3, 100);
	CHECK(p != NULL);
	CHECK(all_zero(p, 300));
	mbedtls_free(p);
	void *z = mbedtls_calloc(0, 0);
	CHECK(z != NULL);
	mbedtls_free(z);
	return 0;
}

/* FIPS-197 appendix C.3: AES-256. */
SELFTEST(mbedtls_aes256_kat)
{
	static const uint8_t pt[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				       0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	static const uint8_t ct[16] = {0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf,
				       0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49, 0x60, 0x89};
	uint8_t key[32], out[16], back[16];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;

	mbedtls_aes_context aes;
	mbedtls_aes_init(&aes);
	CHECK(mbedtls_aes_setkey_enc(&aes, key, 256) == 0);
	CHECK(mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, pt, out) == 0);
	CHECK(memcmp(out, ct, sizeof(ct)) == 0);
	CHECK(mbedtls_aes_setkey_dec(&aes, key, 256) == 0);
	CHECK(mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_DECRYPT, ct, back) == 0);
	CHECK(memcmp(back, pt, sizeof(pt)) == 0);
	mbedtls_aes_free(&aes);
	return 0;
}

/* FIPS 180-2 appendix B.1: SHA-256("abc"). */
SELFTEST(mbedtls_sha256_kat)
{
	static const uint8_t want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
					 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
					 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
					 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	uint8_t got[32];
	CHECK(mbedtls_sha256_ret((const unsigned char *)"abc", 3, got, 0) == 0);
	CHECK(memcmp(got, want, sizeof(want)) == 0);
	return 0;
}

/* NIST's CTR_DRBG example values (CTR_DRBG_withDF.pdf: AES-256, derivation function,
 * no prediction resistance, no personalisation, no additional input), as carried in
 * mbedTLS's own test data: entropy 00..2f, nonce 20..2f, two 32-byte generates; the
 * second output is the answer. */
struct fixed_entropy {
	const uint8_t *data;
	size_t len, used;
};

static int fixed_entropy_func(void *arg, unsigned char *buf, size_t n)
{
	struct fixed_entropy *f = arg;
	if (f->used + n > f->len)
		return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
	memcpy(buf, f->data + f->used, n);
	f->used += n;
	return 0;
}

#define KAT_ENTROPY_LEN 48
#define KAT_NONCE_LEN 16
#define KAT_NONCE_FIRST 0x20

SELFTEST(mbedtls_ctr_drbg_kat)
{
	static const uint8_t want[32] = {0x8d, 0xa6, 0xcc, 0x59, 0xe7, 0x03, 0xce, 0xd0,
					 0x7d, 0x58, 0xd9, 0x6e, 0x5b, 0x6d, 0x78, 0x36,
					 0xc3, 0x25, 0x99, 0x73, 0x5b, 0x73, 0x4f, 0x88,
					 0xc1, 0xa7, 0x3b, 0x53, 0xc7, 0xa6, 0xd8, 0x2e};
	uint8_t entropy[KAT_ENTROPY_LEN], nonce[KAT_NONCE_LEN], out[32];
	for (int i = 0; i < KAT_ENTROPY_LEN; i++)
		entropy[i] = (uint8_t)i;
	for (int i = 0; i < KAT_NONCE_LEN; i++)
		nonce[i] = (uint8_t)(KAT_NONCE_FIRST + i);
	struct fixed_entropy f = {entropy, sizeof(entropy), 0};

	mbedtls_ctr_drbg_context ctx;
	mbedtls_ctr_drbg_init(&ctx);
	/* The whole entropy input at once and the nonce passed as the "custom" string, as
	 * the NIST example lays them out. */
	mbedtls_ctr_drbg_set_entropy_len(&ctx, KAT_ENTROPY_LEN);
	CHECK(mbedtls_ctr_drbg_set_nonce_len(&ctx, 0) == 0);
	int r = mbedtls_ctr_drbg_seed(&ctx, fixed_entropy_func, &f, nonce, sizeof(nonce));
	if (r == 0)
		r = mbedtls_ctr_drbg_random(&ctx, out, sizeof(out));
	if (r == 0)
		r = mbedtls_ctr_drbg_random(&ctx, out, sizeof(out));
	mbedtls_ctr_drbg_free(&ctx);
	CHECK(r == 0);
	CHECK(memcmp(out, want, sizeof(want)) == 0);
	return 0;
}
