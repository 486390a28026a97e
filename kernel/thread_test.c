/* thread_test.c: self-tests of kernel threads and the scheduler: placement, many
 * threads, preemption, load spreading, sleep accuracy and SSE/AVX state across switches. */
#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "kernel/config.h"
#include "kernel/cpu.h"
#include "kernel/fpu.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/thread.h"
#include "kernel/time.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define MANY_THREADS 200
#define SLEEP_NS (20 * NS_PER_MS)
#define SLEEP_SLACK_NS (20 * NS_PER_MS) /* plus a tick: TCG's timer is late, never early */
#define SLEEP_ROUNDS 3
#define PREEMPT_WARMUP_NS (50 * NS_PER_MS)
#define PREEMPT_WINDOW_NS (100 * NS_PER_MS)
#define PREEMPT_MAX_SLICES 4 /* a third thread behind two spinners waits ~2 slices */
/* Spreading threads spin until every CPU has run one, or this long: a vCPU of a busy
 * host may not run for tens of ms, so the bound is generous; a scheduler that never
 * spreads fails it all the same. */
#define SPREAD_SPIN_NS (2000 * NS_PER_MS)
#define FPU_ROUNDS 30
#define FPU_SPIN_NS (3 * NS_PER_MS)

static void spin_for(uint64_t ns)
{
	uint64_t end = time_ns() + ns;
	while (time_ns() < end)
		cpu_relax();
}

/* One pinned thread per online CPU records where it ran. */
static volatile int ran_on[MAX_CPUS];

static void record_cpu(void *arg)
{
	int want = (int)(intptr_t)arg;
	ran_on[want] = this_cpu()->id;
	if (thread_current()->cpu != want)
		ran_on[want] = -2;
}

SELFTEST(thread_every_cpu)
{
	struct thread *t[MAX_CPUS] = {0};
	int online = 0;
	for (int i = 0; i < ncpus; i++) {
		ran_on[i] = -1;
		if (!cpus[i].online)
			continue;
		online++;
		t[i] = thread_create("percpu", record_cpu, (void *)(intptr_t)i, i);
		CHECK(t[i]);
		thread_start(t[i]);
	}
	for (int i = 0; i < ncpus; i++)
		if (t[i])
			thread_join(t[i]);
	CHECK(online >= 1);
	for (int i = 0; i < ncpus; i++)
		if (cpus[i].online)
			CHECK(ran_on[i] == i);
	return 0;
}

static int many_done;

static void many_fn(void *arg)
{
	int i = (int)(intptr_t)arg;
	if (i % 3 == 0)
		thread_yield();
	else if (i % 3 == 1)
		thread_sleep_ns(NS_PER_MS);
	__atomic_fetch_add(&many_done, 1, __ATOMIC_RELAXED);
}

SELFTEST(thread_many)
{
	static struct thread *t[MANY_THREADS];
	many_done = 0;
	for (int i = 0; i < MANY_THREADS; i++) {
		t[i] = thread_create("many", many_fn, (void *)(intptr_t)i, THREAD_ANY_CPU);
		CHECK(t[i]);
	}
	for (int i = 0; i < MANY_THREADS; i++)
		thread_start(t[i]);
	for (int i = 0; i < MANY_THREADS; i++)
		thread_join(t[i]);
	CHECK(many_done == MANY_THREADS);
	return 0;
}

struct spinner {
	volatile uint64_t count;
	volatile bool *stop;
};

static void spinner_fn(void *arg)
{
	struct spinner *s = arg;
	while (!*s->stop)
		s->count++;
}

static volatile uint64_t latecomer_ns;

static void latecomer_fn(void *arg)
{
	(void)arg;
	latecomer_ns = time_ns();
}

SELFTEST(thread_preempt)
{
	int cpu = smp_last_online();
	volatile bool stop = false;
	struct spinner a = {0, &stop}, b = {0, &stop};
	struct thread *ta = thread_create("spin-a", spinner_fn, &a, cpu);
	struct thread *tb = thread_create("spin-b", spinner_fn, &b, cpu);
	struct thread *tc = thread_create("late", latecomer_fn, 0, cpu);
	CHECK(ta && tb && tc);
	thread_start(ta);
	thread_start(tb);
	thread_sleep_ns(PREEMPT_WARMUP_NS);
	uint64_t a1 = a.count, b1 = b.count;
	latecomer_ns = 0;
	uint64_t t0 = time_ns();
	thread_start(tc);
	thread_sleep_ns(PREEMPT_WINDOW_NS);
	uint64_t a2 = a.count, b2 = b.count, late = latecomer_ns;
	stop = true;
	thread_join(ta);
	thread_join(tb);
	thread_join(tc);

	/* Slices end on a tick, so a slice lasts up to one tick longer than slice=. */
	uint64_t slice = (uint64_t)config.slice_ms * NS_PER_MS + NS_PER_S / config.tick_hz;
	kinfo("thread_preempt: spinners %lu and %lu loops, latecomer ran after %lu us", a2 - a1,
	      b2 - b1, late ? (late - t0) / 1000 : 0);
	CHECK(a2 > a1 && b2 > b1);
	CHECK(late != 0);
	CHECK(late - t0 <= PREEMPT_MAX_SLICES * slice);
	return 0;
}

static uint64_t spread_mask, spread_want;

static void spread_fn(void *arg)
{
	(void)arg;
	uint64_t end = time_ns() + SPREAD_SPIN_NS;
	while (time_ns() < end &&
	       (__atomic_or_fetch(&spread_mask, 1ull << this_cpu()->id, __ATOMIC_RELAXED) &
		spread_want) != spread_want)
		;
}

/* Unpinned threads spread over all CPUs (placement plus stealing by idle CPUs). */
SELFTEST(thread_spread)
{
	struct thread *t[2 * MAX_CPUS];
	uint64_t want = 0;
	int n = 0;
	for (int i = 0; i < ncpus; i++)
		if (cpus[i].online)
			want |= 1ull << i, n++;
	n *= 2;
	spread_mask = 0;
	spread_want = want;
	for (int i = 0; i < n; i++) {
		t[i] = thread_create("spread", spread_fn, 0, THREAD_ANY_CPU);
		CHECK(t[i]);
		thread_start(t[i]);
	}
	for (int i = 0; i < n; i++)
		thread_join(t[i]);
	CHECK((spread_mask & want) == want);
	return 0;
}

SELFTEST(thread_sleep)
{
	for (int i = 0; i < SLEEP_ROUNDS; i++) {
		uint64_t t0 = time_ns();
		thread_sleep_ns(SLEEP_NS);
		uint64_t dt = time_ns() - t0;
		uint64_t max = SLEEP_NS + SLEEP_SLACK_NS + NS_PER_S / config.tick_hz;
		if (dt < SLEEP_NS || dt > max)
			kerror("thread_sleep: sleep of %llu ns took %lu ns", SLEEP_NS, dt);
		CHECK(dt >= SLEEP_NS);
		CHECK(dt <= max);
	}
	return 0;
}

/* SSE/AVX registers survive switches: two threads on one CPU load different values,
 * give up the CPU in every way there is, and check their registers afterwards. The
 * kernel is built without SSE, so only the inline assembly touches these registers. */
struct fpu_arg {
	uint64_t seed;
	bool avx;
	int bad;
};

static bool avx_enabled(void)
{
	uint32_t lo, hi;
	if (!(read_cr4() & (1ul << 18))) /* CR4.OSXSAVE */
		return false;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo & (1u << 2); /* XCR0.AVX */
}

static void fpu_fn(void *arg)
{
	struct fpu_arg *a = arg;
	for (int i = 0; i < FPU_ROUNDS; i++) {
		uint64_t v = a->seed + (uint64_t)i, x0, x7, x15;
		uint64_t ymm_in[4] = {v, ~v, v ^ 0x5555, v + 7}, ymm_out[4] = {0};
		__asm__ volatile("movq %0, %%xmm0\n\tmovq %0, %%xmm7\n\tmovq %0, %%xmm15" ::"r"(v));
		if (a->avx)
			__asm__ volatile("vmovdqu (%0), %%ymm3" ::"r"(ymm_in) : "memory");
		switch (i % 3) {
		case 0:
			thread_yield();
			break;
		case 1:
			thread_sleep_ns(NS_PER_MS);
			break;
		default:
			spin_for(FPU_SPIN_NS); /* preempted by the tick, if at all */
		}
		__asm__ volatile("movq %%xmm0, %0\n\tmovq %%xmm7, %1\n\tmovq %%xmm15, %2"
				 : "=r"(x0), "=r"(x7), "=r"(x15));
		if (a->avx)
			__asm__ volatile("vmovdqu %%ymm3, (%0)" ::"r"(ymm_out) : "memory");
		if (x0 != v || x7 != v || x15 != v)
			a->bad++;
		if (a->avx && (ymm_out[0] != ymm_in[0] || ymm_out[1] != ymm_in[1] ||
			       ymm_out[2] != ymm_in[2] || ymm_out[3] != ymm_in[3]))
			a->bad++;
	}
}

SELFTEST(thread_fpu)
{
	if (!fpu_enabled()) { /* fpu=off: SSE must really be off, there is nothing to save */
		kinfo("thread_fpu: fpu=off, checking that SSE is disabled instead");
		CHECK(config.fpu == FPU_OFF);
		CHECK(!(read_cr4() & (1ul << 9)) && (read_cr0() & (1ul << 2)));
		return 0;
	}
	int cpu = smp_last_online();
	bool avx = avx_enabled();
	struct fpu_arg a = {0x1111111100000000ull, avx, 0}, b = {0x2222222200000000ull, avx, 0};
	struct thread *ta = thread_create("fpu-a", fpu_fn, &a, cpu);
	struct thread *tb = thread_create("fpu-b", fpu_fn, &b, cpu);
	CHECK(ta && tb);
	thread_start(ta);
	thread_start(tb);
	thread_join(ta);
	thread_join(tb);
	if (a.bad || b.bad)
		kerror("thread_fpu: %d and %d rounds saw foreign register values (avx %d)", a.bad,
		       b.bad, avx);
	CHECK(a.bad == 0 && b.bad == 0);
	return 0;
}
