/* timer.c: per-CPU software timers and the tick interrupt that drives them and the
 * scheduler.
 *
 * Each CPU keeps its armed timers in a list sorted by deadline, under its own lock. The
 * tick handler pops expired timers and runs each callback with the lock released, so a
 * callback may start or cancel timers and wake threads. While a callback runs, its CPU
 * records it as `running`; timer_cancel from another CPU waits until it has returned,
 * which is what lets an owner free a timer (or the thread containing one) right after
 * cancelling it. A periodic timer is re-armed at deadline + period (not now + period),
 * so late ticks do not accumulate into drift; if it fell a whole period behind it
 * restarts from now rather than firing in a burst. */
#include "kernel/timer.h"

#include <stddef.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "drivers/lapic.h"
#include "kernel/config.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel/time.h"

struct timer_cpu {
	struct spinlock lock;
	struct timer *head;	/* armed timers, earliest deadline first */
	struct timer *running;	/* whose callback runs right now */
	bool running_cancelled; /* timer_cancel was called meanwhile: do not re-arm */
};

static struct timer_cpu timer_cpus[MAX_CPUS];

static void insert(struct timer_cpu *tc, struct timer *t)
{
	struct timer **pp = &tc->head;
	while (*pp && (*pp)->deadline_ns <= t->deadline_ns)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

static void disarm(struct timer_cpu *tc, struct timer *t)
{
	for (struct timer **pp = &tc->head; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	t->armed = false;
}

static void run_expired(void)
{
	int me = this_cpu()->id;
	struct timer_cpu *tc = &timer_cpus[me];
	uint64_t now = time_ns();

	spin_lock(&tc->lock);
	while (tc->head && tc->head->deadline_ns <= now) {
		struct timer *t = tc->head;
		tc->head = t->next;
		t->next = NULL;
		t->armed = false;
		tc->running = t;
		tc->running_cancelled = false;
		/* A one-shot timer may be freed by its own callback: read what we need now. */
		uint64_t period = t->period_ns;
		spin_unlock(&tc->lock);
		t->fn(t->arg);
		spin_lock(&tc->lock);
		tc->running = NULL;
		if (period && !tc->running_cancelled && !t->armed) {
			t->deadline_ns += period;
			if (t->deadline_ns <= now)
				t->deadline_ns = now + period;
			t->cpu = me;
			insert(tc, t);
		}
	}
	spin_unlock(&tc->lock);
}

static void tick(struct trapframe *tf)
{
	(void)tf;
	lapic_eoi();
	run_expired();
	sched_tick();
}

void timer_init(void)
{
	trap_register(VEC_TIMER, tick);
	lapic_timer_start((uint32_t)config.tick_hz, VEC_TIMER);
}

void timer_start(struct timer *t, uint64_t delay_ns, uint64_t period_ns, void (*fn)(void *),
		 void *arg)
{
	timer_cancel(t);
	t->fn = fn;
	t->arg = arg;
	t->period_ns = period_ns;

	uint64_t f = irq_save(); /* stay on this CPU while picking its list */
	int me = this_cpu()->id;
	struct timer_cpu *tc = &timer_cpus[me];
	spin_lock(&tc->lock);
	t->cpu = me;
	t->deadline_ns = time_ns() + delay_ns;
	insert(tc, t);
	spin_unlock(&tc->lock);
	irq_restore(f);
}

void timer_cancel(struct timer *t)
{
	for (;;) {
		int cpu = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
		if (cpu < 0 || cpu >= MAX_CPUS)
			return; /* never started */
		struct timer_cpu *tc = &timer_cpus[cpu];
		spin_lock(&tc->lock);
		if (t->cpu != cpu) { /* re-armed elsewhere meanwhile */
			spin_unlock(&tc->lock);
			continue;
		}
		if (t->armed)
			disarm(tc, t);
		bool wait = false;
		if (tc->running == t) {
			tc->running_cancelled = true;
			/* On its own CPU we are inside the callback: nothing to wait for. */
			wait = cpu != this_cpu()->id;
		}
		spin_unlock(&tc->lock);
		while (wait && __atomic_load_n(&tc->running, __ATOMIC_ACQUIRE) == t)
			cpu_relax();
		return;
	}
}
