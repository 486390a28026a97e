/* timer_test.c: self-tests of software timers: periodic accuracy against the TSC,
 * one-shot firing exactly once, and cancellation. */
#include <stdint.h>

#include "arch/cpu.h"
#include "kernel/config.h"
#include "kernel/selftest.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/timer.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define PERIOD_NS (5 * NS_PER_MS) /* or two ticks, if tick= is coarser */
#define FIRINGS 10
#define TOLERANCE_PCT 10
#define WAIT_LIMIT_NS (1000 * NS_PER_MS)

struct periodic {
	uint64_t tsc[FIRINGS + 1];
	volatile int n;
};

static void stamp(void *arg)
{
	struct periodic *p = arg;
	if (p->n <= FIRINGS)
		p->tsc[p->n] = rdtsc();
	p->n++;
}

SELFTEST(timer_periodic)
{
	struct periodic p = {{0}, 0};
	struct timer t = {0};
	uint64_t period = PERIOD_NS, tick = NS_PER_S / config.tick_hz;
	if (period < 2 * tick)
		period = 2 * tick;
	uint64_t start = time_ns();
	timer_start(&t, period, period, stamp, &p);
	while (p.n <= FIRINGS && time_ns() - start < WAIT_LIMIT_NS)
		thread_sleep_ns(period);
	timer_cancel(&t);
	CHECK(p.n > FIRINGS);
	int after_cancel = p.n;
	thread_sleep_ns(4 * period);
	CHECK(p.n == after_cancel);

	/* FIRINGS intervals between the first and the last of FIRINGS + 1 firings. */
	uint64_t mean = tsc_to_ns(p.tsc[FIRINGS] - p.tsc[0]) / FIRINGS;
	kinfo("timer_periodic: mean period %lu us (want %lu)", mean / 1000, period / 1000);
	CHECK(mean >= period * (100 - TOLERANCE_PCT) / 100);
	CHECK(mean <= period * (100 + TOLERANCE_PCT) / 100);
	return 0;
}

static void bump(void *arg) { __atomic_fetch_add((int *)arg, 1, __ATOMIC_RELAXED); }

SELFTEST(timer_oneshot_cancel)
{
	int fired = 0, control = 0;
	struct timer cancelled = {0}, kept = {0};
	timer_start(&cancelled, 20 * NS_PER_MS, 0, bump, &fired);
	timer_start(&kept, 10 * NS_PER_MS, 0, bump, &control);
	thread_sleep_ns(5 * NS_PER_MS);
	timer_cancel(&cancelled);
	CHECK(!cancelled.armed);
	thread_sleep_ns(40 * NS_PER_MS);
	CHECK(__atomic_load_n(&fired, __ATOMIC_RELAXED) == 0);
	CHECK(__atomic_load_n(&control, __ATOMIC_RELAXED) == 1); /* once: it is one-shot */
	CHECK(!kept.armed);
	timer_cancel(&kept); /* cancelling a fired timer is harmless */
	return 0;
}
