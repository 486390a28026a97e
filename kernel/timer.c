/* timer.c: per-CPU software timers and the one-shot timer interrupt that drives them
 * and the scheduler's preemption.
 *
 * Each CPU keeps its armed timers in a list sorted by deadline, under its own lock. The
 * tick handler pops expired timers and runs each callback with the lock released, so a
 * callback may start or cancel timers and wake threads. While a callback runs, its CPU
 * records it as `running`; timer_cancel from another CPU waits until it has returned,
 * which is what lets an owner free a timer (or the thread containing one) right after
 * cancelling it. A periodic timer is re-armed at deadline + period (not now + period),
 * so late ticks do not accumulate into drift; if it fell a whole period behind it
 * restarts from now rather than firing in a burst.
 *
 * Tickless. The LAPIC timer of a CPU is armed for the earliest of: its first timer's
 * deadline, the scheduler's preemption deadline (timer_preempt_at: the end of the
 * running thread's slice when another thread waits for the CPU, none otherwise) and the
 * backstop, 1 s / tick= from now (a safety net, and the bound on how long a thread
 * spinning alone in ring 3 goes without passing through the kernel). `armed_ns` remembers what the LAPIC was set to;
 * a new deadline re-arms it only when earlier, and a later one (a cancelled timer, a
 * queue that emptied) just costs an interrupt that finds nothing to do and re-arms.
 * Every change comes from the owning CPU: timers start on the caller's CPU, wakeups
 * aimed at another CPU reach its scheduler by the VEC_RESCHED IPI (sched/sched.c), and
 * timer_cancel from elsewhere only removes.
 *
 * The interrupt re-arms before it calls sched_tick, since a switch there returns only
 * when the interrupted thread next runs; the switch itself re-arms for the slice of the
 * thread switched to. */
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

#define NS_PER_S 1000000000ull
#define NOT_ARMED UINT64_MAX

struct timer_cpu {
	struct spinlock lock;
	struct timer *head;	/* armed timers, earliest deadline first */
	struct timer *running;	/* whose callback runs right now */
	bool running_cancelled; /* timer_cancel was called meanwhile: do not re-arm */
	/* The owning CPU's alone, with interrupts off: */
	uint64_t armed_ns;   /* the LAPIC timer fires then; NOT_ARMED if it will not */
	uint64_t preempt_ns; /* the scheduler's deadline; 0: none */
};

static struct timer_cpu timer_cpus[MAX_CPUS];
static uint64_t backstop_ns; /* 1 s / tick= */

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

/* Arm this CPU's LAPIC timer for what comes first, if nothing earlier is armed.
 * Interrupts off. */
static void program(struct timer_cpu *tc)
{
	uint64_t now = time_ns(), want = now + backstop_ns;
	spin_lock(&tc->lock);
	if (tc->head && tc->head->deadline_ns < want)
		want = tc->head->deadline_ns;
	spin_unlock(&tc->lock);
	if (tc->preempt_ns && tc->preempt_ns < want)
		want = tc->preempt_ns;
	if (tc->armed_ns <= want)
		return; /* that interrupt comes first and arms again */
	tc->armed_ns = want;
	lapic_timer_arm(want, now);
}

static void tick(struct trapframe *tf)
{
	(void)tf;
	struct timer_cpu *tc = &timer_cpus[this_cpu()->id];
	lapic_eoi();
	uint64_t now = time_ns();
	tc->armed_ns = NOT_ARMED;
	if (tc->preempt_ns && tc->preempt_ns <= now)
		tc->preempt_ns = 0; /* consumed: sched_tick asks again if it still must */
	run_expired();
	program(tc);
	sched_tick();
}

void timer_init(void)
{
	uint64_t f = irq_save();
	struct timer_cpu *tc = &timer_cpus[this_cpu()->id];
	backstop_ns = NS_PER_S / (uint64_t)config.tick_hz;
	tc->armed_ns = NOT_ARMED;
	tc->preempt_ns = 0;
	trap_register(VEC_TIMER, tick);
	lapic_timer_init(VEC_TIMER);
	program(tc);
	irq_restore(f);
}

void timer_preempt_at(uint64_t ns)
{
	uint64_t f = irq_save();
	struct timer_cpu *tc = &timer_cpus[this_cpu()->id];
	tc->preempt_ns = ns;
	program(tc);
	irq_restore(f);
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
	bool first = tc->head == t;
	spin_unlock(&tc->lock);
	if (first)
		program(tc);
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
