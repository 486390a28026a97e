/* random.c: entropy from the CPU (RDSEED, RDRAND) and TSC jitter, and the kernel CSPRNG.
 *
 * Design. entropy_gather produces output in 32-byte blocks, each the SHA-256 of raw
 * material: four 64-bit words from RDSEED (falling back to RDRAND, each retried a bounded
 * number of times) plus TSC jitter samples, which are always mixed in so that the output
 * does not rest on the CPU's generator alone. Hashing conditions the material and makes
 * the block size independent of how many raw samples went in. Without either instruction
 * (TCG's default qemu64, old CPUs) a block is hashed from JITTER_SAMPLES_ALONE samples
 * instead, counting each as worth only a quarter bit; a repetition check refuses a block
 * whose samples barely vary (a TSC that does not advance or advances in lockstep).
 *
 * The CSPRNG is mbedTLS's CTR-DRBG with AES-256, seeded through an mbedtls_entropy_context
 * whose only source is mbedtls_hardware_poll (= entropy_gather), and personalised with
 * this boot's TSC and APIC id. CTR-DRBG reseeds from the same entropy context every
 * MBEDTLS_CTR_DRBG_RESEED_INTERVAL requests on its own. One spinlock guards both contexts
 * (mbedTLS is built without threading support); large requests are split into
 * MBEDTLS_CTR_DRBG_MAX_REQUEST chunks so the lock is never held for long. */
#include "kernel/random.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "arch/cpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/spinlock.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"

#define CPUID_LEAF_FEATURES 1
#define CPUID_1_ECX_RDRAND (1u << 30)
#define CPUID_1_EBX_APIC_ID_SHIFT 24
#define CPUID_LEAF_EXT_FEATURES 7
#define CPUID_7_EBX_RDSEED (1u << 18)

/* Intel's DRNG guide: ten RDRAND retries make a failure of a healthy generator
 * negligible. RDSEED legitimately runs dry under load, so it gets more, with a pause. */
#define RDRAND_RETRIES 10
#define RDSEED_RETRIES 64

#define BLOCK_BYTES 32 /* one SHA-256 digest */
#define HW_WORDS_PER_BLOCK (BLOCK_BYTES / 8)
#define JITTER_SAMPLES_MIXED 16	  /* alongside RDSEED/RDRAND: a second opinion */
#define JITTER_SAMPLES_ALONE 1024 /* 256 bits at a quarter bit per sample */
#define JITTER_MIN_CHANGES (JITTER_SAMPLES_ALONE / 4)
#define JITTER_SCRATCH 256 /* bytes the timed workload touches */
#define JITTER_MIN_LOOPS 16
#define JITTER_LOOP_MASK 63 /* workload length varies with the previous timing */

#define PERS_MAX 64

enum source { SRC_UNKNOWN, SRC_RDSEED, SRC_RDRAND, SRC_JITTER };
static const char *const source_names[] = {"?", "RDSEED", "RDRAND", "TSC jitter"};

static int source; /* enum source, probed once */
static bool has_rdseed, has_rdrand;
static bool hw_failed_logged;

static struct spinlock lock = SPINLOCK_INIT("random");
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static bool ready;

static void probe(void)
{
	if (__atomic_load_n(&source, __ATOMIC_ACQUIRE) != SRC_UNKNOWN)
		return;
	uint32_t a, b, c, d, max_leaf;
	cpuid(0, 0, &max_leaf, &b, &c, &d);
	cpuid(CPUID_LEAF_FEATURES, 0, &a, &b, &c, &d);
	has_rdrand = c & CPUID_1_ECX_RDRAND;
	if (max_leaf >= CPUID_LEAF_EXT_FEATURES) {
		cpuid(CPUID_LEAF_EXT_FEATURES, 0, &a, &b, &c, &d);
		has_rdseed = b & CPUID_7_EBX_RDSEED;
	}
	int s = has_rdseed ? SRC_RDSEED : has_rdrand ? SRC_RDRAND : SRC_JITTER;
	int expected = SRC_UNKNOWN;
	/* Only the CPU that wins the race logs. */
	if (__atomic_compare_exchange_n(&source, &expected, s, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE) &&
	    s == SRC_JITTER)
		kwarn("random: CPU has neither RDSEED nor RDRAND; entropy from TSC jitter alone");
}

static bool rdseed64(uint64_t *v)
{
	bool ok;
	__asm__ volatile("rdseed %0" : "=r"(*v), "=@ccc"(ok));
	return ok;
}

static bool rdrand64(uint64_t *v)
{
	bool ok;
	__asm__ volatile("rdrand %0" : "=r"(*v), "=@ccc"(ok));
	return ok;
}

/* Some AMD parts return all ones with the carry set after a suspend; never trust that. */
static bool hw_word(uint64_t *v)
{
	if (has_rdseed) {
		for (int i = 0; i < RDSEED_RETRIES; i++) {
			if (rdseed64(v) && *v != ~0ull)
				return true;
			cpu_relax();
		}
	}
	if (has_rdrand) {
		for (int i = 0; i < RDRAND_RETRIES; i++)
			if (rdrand64(v) && *v != ~0ull)
				return true;
	}
	return false;
}

/* Time a small workload whose length and memory pattern depend on the previous timing;
 * the variation (caches, pipelines, interrupts, the host under a VM) is the entropy. */
static uint64_t jitter_sample(uint64_t *state)
{
	volatile uint8_t scratch[JITTER_SCRATCH] = {0};
	uint64_t x = *state;
	unsigned loops = JITTER_MIN_LOOPS + (unsigned)(x & JITTER_LOOP_MASK);
	uint64_t t0 = rdtsc();
	for (unsigned i = 0; i < loops; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull; /* Knuth's MMIX LCG */
		scratch[(x >> 56) % JITTER_SCRATCH] += (uint8_t)x;
	}
	uint64_t delta = rdtsc() - t0;
	*state = (x ^ delta) * 0x9e3779b97f4a7c15ull + scratch[delta % JITTER_SCRATCH];
	return delta;
}

/* Hash `samples` jitter timings into ctx; returns how often a timing differed from the
 * one before it (the repetition check). */
static int mix_jitter(mbedtls_sha256_context *ctx, int samples)
{
	uint64_t state = rdtsc(), prev = 0;
	int changes = 0;
	for (int i = 0; i < samples; i++) {
		uint64_t d = jitter_sample(&state);
		changes += d != prev;
		prev = d;
		mbedtls_sha256_update_ret(ctx, (const unsigned char *)&d, sizeof(d));
	}
	return changes;
}

/* One conditioned block; false if the raw material failed its checks. */
static bool gather_block(uint8_t out[BLOCK_BYTES])
{
	mbedtls_sha256_context ctx;
	bool ok = true;
	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts_ret(&ctx, 0);

	uint64_t words[HW_WORDS_PER_BLOCK];
	int hw = 0;
	if (has_rdseed || has_rdrand)
		while (hw < HW_WORDS_PER_BLOCK && hw_word(&words[hw]))
			hw++;
	if (hw == HW_WORDS_PER_BLOCK) {
		mbedtls_sha256_update_ret(&ctx, (const unsigned char *)words, sizeof(words));
		mix_jitter(&ctx, JITTER_SAMPLES_MIXED);
	} else {
		/* The instruction failed even after retries: this block rests on jitter. */
		if ((has_rdseed || has_rdrand) &&
		    !__atomic_exchange_n(&hw_failed_logged, true, __ATOMIC_RELAXED))
			kwarn("random: %s failed; blocks without it use TSC jitter alone",
			      source_names[source]);
		ok = mix_jitter(&ctx, JITTER_SAMPLES_ALONE) >= JITTER_MIN_CHANGES;
	}
	mbedtls_sha256_finish_ret(&ctx, out);
	mbedtls_sha256_free(&ctx);
	mbedtls_platform_zeroize(words, sizeof(words));
	return ok;
}

size_t entropy_gather(void *buf, size_t n)
{
	uint8_t block[BLOCK_BYTES];
	uint8_t *p = buf;
	size_t done = 0;

	probe();
	while (done < n) {
		if (!gather_block(block)) {
			kerror("random: TSC jitter failed its repetition check");
			break;
		}
		size_t k = n - done < BLOCK_BYTES ? n - done : BLOCK_BYTES;
		memcpy(p + done, block, k);
		done += k;
	}
	mbedtls_platform_zeroize(block, sizeof(block));
	return done;
}

/* MBEDTLS_ENTROPY_HARDWARE_ALT: the entropy context's only source. */
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen)
{
	(void)data;
	*olen = entropy_gather(out, len);
	return *olen ? 0 : MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
}

/* The code only: mbedtls_strerror would pull ~14 KiB of message strings into the image
 * for a message that should never appear (see mbedtls/ctr_drbg.h, entropy.h). */
static void log_mbedtls_error(const char *what, int err)
{
	kerror("random: %s failed: mbedTLS error -0x%04x", what, (unsigned)-err);
}

void random_init(void)
{
	char pers[PERS_MAX];
	uint32_t a, b, c, d;

	if (__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		return;
	probe();
	cpuid(CPUID_LEAF_FEATURES, 0, &a, &b, &c, &d);
	/* Distinguishes this boot and this CPU even if two machines' entropy coincided. */
	int len = ksnprintf(pers, sizeof(pers), "shoal random tsc=%lx apic=%u",
			    (unsigned long)rdtsc(), b >> CPUID_1_EBX_APIC_ID_SHIFT);

	spin_lock(&lock);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	int r = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
				      (const unsigned char *)pers, (size_t)len);
	if (r != 0) {
		mbedtls_ctr_drbg_free(&drbg);
		mbedtls_entropy_free(&entropy);
	} else {
		__atomic_store_n(&ready, true, __ATOMIC_RELEASE);
	}
	spin_unlock(&lock);

	if (r != 0)
		log_mbedtls_error("seeding the CTR-DRBG", r);
	else
		kinfo("random: CTR-DRBG (AES-256) seeded from %s", source_names[source]);
}

static int to_errno(int err)
{
	switch (err) {
	case MBEDTLS_ERR_CTR_DRBG_REQUEST_TOO_BIG:
	case MBEDTLS_ERR_CTR_DRBG_INPUT_TOO_BIG:
		return -EINVAL;
	default: /* entropy source failures during a reseed, and anything unexpected */
		return -EIO;
	}
}

int random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	while (n > 0) {
		size_t k = n < MBEDTLS_CTR_DRBG_MAX_REQUEST ? n : MBEDTLS_CTR_DRBG_MAX_REQUEST;
		spin_lock(&lock);
		int r = mbedtls_ctr_drbg_random(&drbg, p, k);
		spin_unlock(&lock);
		if (r != 0) {
			log_mbedtls_error("drawing random bytes", r);
			return to_errno(r);
		}
		p += k;
		n -= k;
	}
	return 0;
}

/* Never fails: before random_init (or if seeding failed) it draws straight from the
 * entropy source, and a machine with no entropy at all cannot run securely. */
uint64_t random_u64(void)
{
	uint64_t v;
	if (random_bytes(&v, sizeof(v)) == 0)
		return v;
	if (entropy_gather(&v, sizeof(v)) == sizeof(v))
		return v;
	panic("random: no entropy source works");
}
