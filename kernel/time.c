/* time.c: the monotonic clock: nanoseconds since kmain from the TSC.
 *
 * time_init measures the TSC rate once, on the boot CPU, against the HPET's main
 * counter (QEMU's runs at 100 MHz) or, without an HPET, against the count of PIT
 * channel 2 (1.193182 MHz). Each end of the interval is a TSC read bracketing a
 * reference read, and the narrowest of a few brackets is kept, so the slow emulated
 * device read costs no accuracy: 5 ms gives an error of a few parts in 10^5 under QEMU.
 *
 * Conversion is ns = (ticks * mult) >> 32, the product taken in 128 bits, so it cannot
 * overflow for any uptime (the result fits 64 bits for 584 years) and costs one
 * multiply. The TSC is shared by all CPUs: with an invariant TSC (CPUID 0x80000007
 * EDX bit 8) it runs at a constant rate in every power state, and firmware starts the
 * CPUs' counters together, so time_ns is consistent across CPUs. Without the bit we
 * still use the TSC (QEMU's TCG TSC is constant-rate although it does not say so) and
 * say so in the log. */
#include "kernel/time.h"

#include <errno.h>

#include "arch/cpu.h"
#include "drivers/hpet.h"
#include "drivers/pit.h"
#include "kernel/log.h"
#include "kernel/selftest.h"

#define CALIB_US 5000
#define TEST_US 50000
#define TSC_SHIFT 32
#define BRACKET_TRIES 8
#define NS_PER_US 1000UL
#define NS_PER_MS 1000000UL
#define US_PER_MS 1000UL
#define US_PER_SEC 1000000UL
#define CPUID_EXT_POWER 0x80000007
#define CPUID_INVARIANT_TSC (1u << 8)
#define CPUID_EXT_MAX 0x80000000
/* A PIT that never counts down (no PIT at all) is given up on after this many TSC
 * ticks: one second even at 100 GHz. */
#define PIT_GIVE_UP_TICKS 100000000000UL
#define FALLBACK_TSC_KHZ 1000000UL /* 1 GHz, only when no reference clock answers */

static uint64_t mult;	  /* ns per TSC tick << TSC_SHIFT; 0 before calibration */
static uint64_t inv_mult; /* TSC ticks per ns << TSC_SHIFT: the way back */
static uint64_t khz;

/* rdtsc is not ordered with earlier loads; the lfence makes a time read after a
 * load of another CPU's published time see a later TSC. */
static inline uint64_t tsc_now(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * mult) >> TSC_SHIFT);
}

uint64_t tsc_khz(void) { return khz; }

uint64_t time_ns_to_tsc(uint64_t ns)
{
	uint64_t t = (uint64_t)(((unsigned __int128)ns * inv_mult) >> TSC_SHIFT) + 1;
	/* inv_mult is truncated, so far from boot the estimate falls short (microseconds
	 * after a day): step up until time_ns() read at that TSC is >= ns. */
	for (int i = 0; i < BRACKET_TRIES; i++) {
		uint64_t back = tsc_to_ns(t);
		if (back >= ns)
			break;
		t += (ns - back) * khz / NS_PER_MS + 1;
	}
	return boot_tsc + t;
}

uint64_t time_ns(void)
{
	uint64_t t = tsc_now();
	return t > boot_tsc ? tsc_to_ns(t - boot_tsc) : 0;
}

/* A TSC reading and an HPET reading taken at (nearly) the same instant: the TSC is
 * the middle of the narrowest bracket around the HPET read. With `since` the HPET
 * value is the ticks elapsed from *h, else the counter itself. */
static void hpet_pair(uint64_t *tsc, uint64_t *h, int since)
{
	uint64_t best = ~0UL, base = *h;
	for (int i = 0; i < BRACKET_TRIES; i++) {
		uint64_t a = tsc_now();
		uint64_t v = since ? hpet_ticks_since(base) : hpet_read();
		uint64_t b = tsc_now();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*h = v;
		}
	}
}

/* The same for the PIT's channel 2 count. */
static void pit_pair(uint64_t *tsc, uint64_t *count)
{
	uint64_t best = ~0UL;
	for (int i = 0; i < BRACKET_TRIES; i++) {
		uint64_t a = tsc_now();
		uint32_t v = pit_count();
		uint64_t b = tsc_now();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*count = v;
		}
	}
}

/* TSC ticks and reference nanoseconds over about `us` microseconds; -ENODEV when
 * there is no reference clock. */
static int measure(uint32_t us, uint64_t *ticks, uint64_t *ns)
{
	if (hpet_present()) {
		uint64_t t0, t1, h0 = 0, h1;
		hpet_pair(&t0, &h0, 0);
		while (hpet_ticks_to_ns(hpet_ticks_since(h0)) < us * NS_PER_US)
			cpu_relax();
		h1 = h0;
		hpet_pair(&t1, &h1, 1);
		*ticks = t1 - t0;
		*ns = hpet_ticks_to_ns(h1);
		return 0;
	}
	/* PIT: a countdown from the top, read (latched) at both ends of the interval. */
	uint64_t want = (us * PIT_HZ + US_PER_SEC - 1) / US_PER_SEC, t0, t1, c0, c1;
	pit_oneshot_start(PIT_MAX_US);
	pit_pair(&t0, &c0);
	uint64_t start = tsc_now();
	do {
		if (tsc_now() - start > PIT_GIVE_UP_TICKS)
			return -ENODEV;
		pit_pair(&t1, &c1);
	} while (c1 > c0 || c0 - c1 < want);
	*ticks = t1 - t0;
	*ns = pit_ticks_to_ns(c0 - c1);
	return 0;
}

static int invariant_tsc(void)
{
	uint32_t a, b, c, d;
	cpuid(CPUID_EXT_MAX, 0, &a, &b, &c, &d);
	if (a < CPUID_EXT_POWER)
		return 0;
	cpuid(CPUID_EXT_POWER, 0, &a, &b, &c, &d);
	return !!(d & CPUID_INVARIANT_TSC);
}

void time_init(void)
{
	int err = hpet_init();
	if (err < 0 && err != -ENODEV)
		kwarn("time: hpet unusable (%d); calibrating against the PIT", err);
	uint64_t ticks = 0, ns = 0;
	if (measure(CALIB_US, &ticks, &ns) < 0 || ticks == 0 || ns == 0) {
		kerror("time: no reference clock answered; assuming a %lu MHz TSC",
		       FALLBACK_TSC_KHZ / US_PER_MS);
		ticks = FALLBACK_TSC_KHZ;
		ns = NS_PER_MS;
	}
	khz = ticks * NS_PER_MS / ns;
	mult = (ns << TSC_SHIFT) / ticks;     /* ns < 2^32 here: the interval is milliseconds */
	inv_mult = (ticks << TSC_SHIFT) / ns; /* ticks < 2^32 too, below an 800 GHz TSC */
	kinfo("time: tsc %lu.%03lu MHz%s, calibrated against the %s", khz / 1000, khz % 1000,
	      invariant_tsc() ? "" : " (not invariant)", hpet_present() ? "hpet" : "pit");
}

void udelay(uint64_t us)
{
	if (khz) {
		uint64_t start = tsc_now(), n = us * khz / US_PER_MS;
		while (tsc_now() - start < n)
			cpu_relax();
		return;
	}
	/* Before calibration: the PIT, in chunks it can count. */
	while (us > 0) {
		uint32_t chunk = us > PIT_MAX_US ? PIT_MAX_US : (uint32_t)us;
		pit_oneshot_start(chunk);
		uint64_t t0 = rdtsc();
		while (!pit_oneshot_done() && rdtsc() - t0 < PIT_GIVE_UP_TICKS)
			cpu_relax();
		us -= chunk;
	}
}

SELFTEST(time_vs_reference)
{
	/* time_ns against the reference clock over 50 ms: within 1%. */
	CHECK(khz > 0);
	uint64_t f = irq_save();
	uint64_t t0 = time_ns(), ticks, ref;
	int err = measure(TEST_US, &ticks, &ref);
	uint64_t t1 = time_ns();
	irq_restore(f);
	CHECK(err == 0);
	uint64_t dt = t1 - t0, conv = tsc_to_ns(ticks);
	CHECK(ref >= TEST_US * NS_PER_US - NS_PER_US); /* whole reference ticks */
	CHECK(conv * 100 >= ref * 99 && conv * 100 <= ref * 101);
	/* time_ns spans the whole measurement, including the bracketing reads of the
	 * reference, which cost hundreds of microseconds each under a nested hypervisor:
	 * it may not run slow, and only loosely fast. */
	CHECK(dt * 100 >= ref * 99 && dt * 100 <= ref * 110);
	return 0;
}

SELFTEST(time_monotonic_local)
{
	uint64_t prev = time_ns();
	CHECK(prev > 0);
	for (int i = 0; i < 20000; i++) {
		uint64_t now = time_ns();
		CHECK(now >= prev);
		prev = now;
	}
	/* udelay really waits (by the clock it is built on) */
	uint64_t a = time_ns();
	udelay(1000);
	CHECK(time_ns() - a >= 1000 * NS_PER_US);
	/* the conversion does not overflow for ten years of uptime */
	uint64_t secs = 10UL * 365 * 24 * 3600,
		 got = tsc_to_ns(secs * khz * US_PER_MS) / 1000000000UL;
	CHECK(got >= secs - secs / 10000 && got <= secs + secs / 10000);
	/* time_ns_to_tsc (TSC deadlines) is the inverse, rounded up: never early */
	for (uint64_t ns = 1; ns < secs * 1000000000UL; ns = ns * 7 + 12345) {
		uint64_t back = tsc_to_ns(time_ns_to_tsc(ns) - boot_tsc);
		CHECK(back >= ns && back - ns <= NS_PER_US);
	}
	return 0;
}
