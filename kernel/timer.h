/* timer.h: one-shot and periodic software timers on the monotonic clock. Each CPU
 * keeps its own timers; callbacks run in interrupt context on the CPU that started
 * the timer, at the first tick at or after the deadline, so they must not block. */
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

/* Start this CPU's tick (LAPIC timer at tick= Hz); every CPU calls it once. */
void timer_init(void);
/* Arm t to call fn(arg) after delay_ns, then every period_ns if non-zero. */
void timer_start(struct timer *t, uint64_t delay_ns, uint64_t period_ns, void (*fn)(void *),
		 void *arg);
/* Disarm t; after it returns the callback is not running and will not run. */
void timer_cancel(struct timer *t);

#endif
