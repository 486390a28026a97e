/* timer.h: one-shot and periodic software timers on the monotonic clock, and the timer
 * interrupt that also drives preemption. Each CPU keeps its own timers; callbacks run
 * in interrupt context on the CPU that started the timer, at their deadline (not at a
 * tick), so they must not block.
 *
 * There is no periodic tick: each CPU's LAPIC timer is armed one-shot for the earliest
 * of its next timer deadline, its scheduler's preemption deadline (timer_preempt_at)
 * and the backstop, 1 s / tick= from now. So tick= is the fewest timer interrupts a
 * CPU takes per second, busy or idle: the bound on how long a thread spinning alone in
 * ring 3 runs before it next passes through the kernel (where a dying task's threads
 * leave), and a safety net for a lost wakeup. */
#ifndef KERNEL_TIMER_H
#define KERNEL_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timer {
	uint64_t deadline_ns;
	uint64_t period_ns; /* 0 = one-shot */
	void (*fn)(void *arg);
	void *arg;
	int cpu;
	bool armed;
	struct timer *next;
};

/* Set up this CPU's LAPIC timer (one-shot, see above); every CPU calls it once. */
void timer_init(void);
/* Arm t to call fn(arg) after delay_ns, then every period_ns if non-zero. */
void timer_start(struct timer *t, uint64_t delay_ns, uint64_t period_ns, void (*fn)(void *),
		 void *arg);
/* Disarm t; after it returns the callback is not running and will not run. */
void timer_cancel(struct timer *t);
/* This CPU's scheduler wants the timer interrupt (sched_tick) at monotonic time ns, or
 * no longer (0). Interrupts off; replaces the previous wish. */
void timer_preempt_at(uint64_t ns);

#endif
