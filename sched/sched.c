/* sched.c: per-CPU run queues, time-sliced preemption, blocking and waking, work
 * stealing, and each CPU's idle loop.
 *
 * Every CPU owns a run queue (FIFO of READY threads) under its own spinlock, and an idle
 * thread that runs when the queue is empty. A RUNNING thread always has t->cpu equal to
 * the CPU it runs on; only READY threads sitting in a queue move between CPUs (work
 * stealing by idle CPUs), and only while their queue's lock is held.
 *
 * The switch protocol: a CPU switches threads only with interrupts disabled and its own
 * run-queue lock held, and keeps holding that lock across arch_switch; the thread
 * switched to releases it (sched_finish_switch), after the old thread's registers are
 * saved. Anyone who wants to touch a switched-out thread's context - a waker on another
 * CPU putting a blocked thread back on its queue, or a thief taking a READY one - needs
 * that same lock, so it can never run a thread that is still switching out (the classic
 * "wakeup while still switching out" race cannot occur). Because a thread may resume on
 * another CPU, per-CPU fields that are really per-thread (irq_depth: a thread preempted
 * inside the timer interrupt resumes inside it; the trap_catch catcher) are saved in the
 * switching frame and restored after arch_switch.
 *
 * Preemption happens inside the timer interrupt (sched_tick) or the VEC_RESCHED IPI: the
 * interrupted thread's trapframe stays on its own kernel stack and the interrupt returns
 * when the thread is next switched to, wherever that is. The idle thread is never
 * preempted; it notices new work itself when an interrupt ends its hlt.
 *
 * There is no periodic tick (kernel/timer.c): a CPU asks for a timer interrupt at the
 * end of the running thread's slice only while another thread waits in its queue
 * (want_preempt), so a thread alone on its CPU, or an idle CPU, is left alone but for
 * its timers and the tick= backstop. Whoever makes a queue non-empty makes its CPU look
 * again: on this CPU directly, on another by the VEC_RESCHED IPI (kick), whose handler
 * ends the slice at once if it is already over and otherwise asks for the interrupt at
 * its end. The same IPI makes a thread running elsewhere pass its return path at once
 * (sched_interrupt: a killed task's threads leave there). A thread queued behind a busy
 * CPU also wakes an idle CPU, which steals it: idle CPUs no longer poll for work on a
 * tick.
 *
 * Lock order: a wait-queue lock (sync.c, thread_join) -> run-queue lock -> timer lock.
 * Only one run-queue lock is ever held at a time. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "arch/user.h"
#include "drivers/lapic.h"
#include "kernel/config.h"
#include "kernel/cpu.h"
#include "kernel/fpu.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "sched/internal.h"

#define NS_PER_MS 1000000ull

struct runq {
	struct spinlock lock;
	struct thread *head, *tail; /* READY threads, oldest first */
	int nready;
	uint64_t since_ns; /* when the current thread was switched to (runtime accounting) */
};

static struct runq runqs[MAX_CPUS];
static struct thread idle_threads[MAX_CPUS];
static uint64_t slice_ns;
static int spread_next; /* where the next least-loaded search starts (spreads ties) */

static void enqueue(struct runq *rq, struct thread *t)
{
	t->next = NULL;
	if (rq->tail)
		rq->tail->next = t;
	else
		rq->head = t;
	rq->tail = t;
	rq->nready++;
}

static void unlink_after(struct runq *rq, struct thread *prev, struct thread *t)
{
	if (prev)
		prev->next = t->next;
	else
		rq->head = t->next;
	if (rq->tail == t)
		rq->tail = prev;
	t->next = NULL;
	rq->nready--;
}

static struct thread *dequeue(struct runq *rq)
{
	struct thread *t = rq->head;
	if (t)
		unlink_after(rq, NULL, t);
	return t;
}

/* The oldest thread that may migrate, removed from rq; NULL if all are pinned. */
static struct thread *take_unpinned(struct runq *rq)
{
	struct thread *prev = NULL;
	for (struct thread *t = rq->head; t; prev = t, t = t->next) {
		if (!t->pinned) {
			unlink_after(rq, prev, t);
			return t;
		}
	}
	return NULL;
}

/* Release a spinlock and leave interrupts off: the switch path keeps them disabled
 * from before it takes the run-queue lock until the next thread is running. */
static void release(struct spinlock *l)
{
	__atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

/* Lock the run queue t belongs to. t->cpu only changes while t is READY and under the
 * lock of its old queue, so re-checking it under the lock is enough. */
static struct runq *lock_rq_of(struct thread *t)
{
	for (;;) {
		int cpu = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
		struct runq *rq = &runqs[cpu];
		spin_lock(&rq->lock);
		if (__atomic_load_n(&t->cpu, __ATOMIC_RELAXED) == cpu)
			return rq;
		spin_unlock(&rq->lock);
	}
}

/* The timer interrupt this CPU needs for preemption: at the end of cur's slice if
 * someone waits for the CPU, none otherwise. rq locked. */
static void want_preempt(struct runq *rq, struct thread *cur)
{
	timer_preempt_at(rq->head && cur != this_cpu()->idle ? cur->slice_end_ns : 0);
}

/* Wake an idle CPU other than `busy` and this one: it steals a thread just queued on
 * busy (idle CPUs have no tick to poll on). */
static void kick_idle(int busy)
{
	int n = ncpus, me = this_cpu()->id;
	int start = __atomic_fetch_add(&spread_next, 1, __ATOMIC_RELAXED);
	for (int k = 0; k < n; k++) {
		int i = (start + k) % n;
		struct cpu *c = &cpus[i];
		if (i != busy && i != me && c->online && c->idle && c->current == c->idle) {
			lapic_send_ipi(c->apic_id, VEC_RESCHED);
			return;
		}
	}
}

/* A thread was just queued on `cpu`, whose queue was empty if `first`: make that CPU
 * look at its queue. An idle CPU only does so when an interrupt ends its hlt; a busy
 * one must learn that its slice now has an end, and an idle CPU may take the thread.
 * (The thread may be running elsewhere by now: only what was read under the lock.) */
static void kick(int cpu, bool pinned, bool first)
{
	uint64_t f = irq_save();
	struct cpu *c = &cpus[cpu];
	if (!c->current) { /* not scheduling yet: sched_run looks at the queue first */
		irq_restore(f);
		return;
	}
	bool idle = c->current == c->idle;
	if (cpu == this_cpu()->id) {
		if (first && !idle)
			timer_preempt_at(c->current->slice_end_ns);
	} else if (idle || first) {
		lapic_send_ipi(c->apic_id, VEC_RESCHED);
	}
	if (!idle && !pinned)
		kick_idle(cpu);
	irq_restore(f);
}

/* Switch this CPU to the next READY thread (or its idle thread). Called with interrupts
 * disabled and rq (this CPU's queue) locked; a still-RUNNING current thread goes to the
 * back of the queue. Returns - possibly on another CPU, much later - with the lock
 * released and interrupts still disabled. */
static void reschedule(struct runq *rq)
{
	struct cpu *c = this_cpu();
	struct thread *prev = c->current, *next;
	uint64_t now = time_ns();

	if (prev->state == THREAD_RUNNING && prev != c->idle) {
		prev->state = THREAD_READY;
		enqueue(rq, prev);
	}
	next = dequeue(rq);
	if (!next)
		next = c->idle;
	next->state = THREAD_RUNNING;
	next->slice_end_ns = now + slice_ns;
	if (next == prev) {
		want_preempt(rq, next);
		release(&rq->lock);
		return;
	}
	prev->runtime_ns += now - rq->since_ns;
	rq->since_ns = now;
	c->current = next;
	want_preempt(rq, next);

	/* The idle threads never touch SSE state, so the registers can keep the last real
	 * thread's values while idle runs (they are saved already). */
	if (prev != c->idle && prev->state != THREAD_DEAD)
		fpu_save(prev->fpu);
	if (next != c->idle)
		fpu_restore(next->fpu);

	arch_user_switch(next); /* page tables, kernel entry stack, TLS of a task's thread */
	int depth = c->irq_depth;
	void *catcher = c->catcher;
	prev = arch_switch(prev, next);
	c = this_cpu();
	c->irq_depth = depth;
	c->catcher = catcher;
	sched_finish_switch(prev);
}

uint64_t thread_runtime_ns(struct thread *t)
{
	uint64_t f = irq_save();
	struct cpu *c = this_cpu();
	uint64_t ns = t->runtime_ns;
	if (c->current == t)
		ns += time_ns() - ((struct runq *)c->sched)->since_ns;
	irq_restore(f);
	return ns;
}

void sched_finish_switch(struct thread *prev)
{
	/* Look before letting go: once the lock is free, a READY prev may be stolen, run
	 * and even die elsewhere, and must not be retired twice. */
	bool dead = prev->state == THREAD_DEAD;
	release(&((struct runq *)this_cpu()->sched)->lock);
	if (dead)
		thread_exited(prev);
}

/* Least loaded online CPU: queued threads plus the one running. */
static int pick_cpu(void)
{
	int best = -1, best_load = 0, n = ncpus;
	int start = __atomic_fetch_add(&spread_next, 1, __ATOMIC_RELAXED);
	for (int k = 0; k < n; k++) {
		int i = (start + k) % n;
		struct cpu *c = &cpus[i];
		if (!c->online)
			continue;
		int load = __atomic_load_n(&runqs[i].nready, __ATOMIC_RELAXED) +
			   (c->current && c->current != c->idle);
		if (best < 0 || load < best_load) {
			best = i;
			best_load = load;
		}
	}
	return best < 0 ? 0 : best;
}

void sched_enqueue_new(struct thread *t)
{
	if (t->cpu < 0)
		t->cpu = pick_cpu();
	struct runq *rq = &runqs[t->cpu];
	spin_lock(&rq->lock);
	t->state = THREAD_READY;
	enqueue(rq, t);
	int cpu = t->cpu;
	bool first = rq->nready == 1, pinned = t->pinned;
	spin_unlock(&rq->lock);
	kick(cpu, pinned, first);
}

void sched_yield(void)
{
	uint64_t f = irq_save();
	struct runq *rq = this_cpu()->sched;
	spin_lock(&rq->lock);
	reschedule(rq);
	irq_restore(f);
}

void sched_exit(void)
{
	irq_disable();
	struct runq *rq = this_cpu()->sched;
	spin_lock(&rq->lock);
	this_cpu()->current->state = THREAD_DEAD;
	reschedule(rq);
	panic("sched: a dead thread was switched to");
}

/* End the running thread's slice if it is over and someone waits, else ask for the
 * interrupt that will. Interrupt context. */
static void check_preempt(struct cpu *c)
{
	struct runq *rq = c->sched;
	if (!rq || !c->current || c->current == c->idle)
		return;
	spin_lock(&rq->lock);
	if (rq->head && time_ns() >= c->current->slice_end_ns) {
		reschedule(rq);
		return;
	}
	want_preempt(rq, c->current);
	spin_unlock(&rq->lock);
}

void sched_tick(void)
{
	struct cpu *c = this_cpu();
	c->ticks++;
	check_preempt(c);
}

static void timeout(void *arg) { sched_wake(arg, -ETIMEDOUT); }

int sched_block(struct spinlock *lock, uint64_t deadline_ns)
{
	uint64_t flags = irq_save();
	struct cpu *c = this_cpu();
	struct thread *t = c->current;
	struct runq *rq = c->sched;
	uint64_t held_flags = lock->flags;

	KASSERT(c->irq_depth == 0 && t != c->idle, "sched_block outside a thread");
	spin_lock(&rq->lock);
	t->wake_reason = 0;
	t->wake_ns = deadline_ns;
	if (deadline_ns) {
		uint64_t now = time_ns();
		if (deadline_ns <= now) {
			spin_unlock(&rq->lock);
			irq_restore(flags);
			return -ETIMEDOUT;
		}
		/* Cannot fire before we are switched out: it runs on this CPU, whose
		 * interrupts stay off until then. */
		timer_start(&t->timer, deadline_ns - now, 0, timeout, t);
	}
	t->state = THREAD_BLOCKED;
	release(lock); /* a waker may now find us; it waits for rq->lock */
	reschedule(rq);
	if (deadline_ns)
		timer_cancel(&t->timer);
	spin_lock(lock);
	lock->flags = held_flags;
	irq_restore(flags);
	return t->wake_reason;
}

void sched_wake(struct thread *t, int reason)
{
	struct runq *rq = lock_rq_of(t);
	bool woke = t->state == THREAD_BLOCKED;
	if (woke) {
		t->state = THREAD_READY;
		t->wake_reason = reason;
		enqueue(rq, t);
	}
	int cpu = t->cpu;
	bool first = rq->nready == 1, pinned = t->pinned;
	spin_unlock(&rq->lock);
	if (woke)
		kick(cpu, pinned, first);
}

/* If t is RUNNING on another CPU, interrupt that CPU with VEC_RESCHED now, so that t
 * passes its interrupt's return path (task.c ends the threads of a killed task there)
 * instead of at that CPU's next timer interrupt, which a thread alone on its CPU may
 * only get at the tick= backstop. Whatever the caller stored before this call is
 * visible to t on that path: if t was running we interrupt it after the store; if it
 * was not, whoever switches to it later takes the run-queue lock we held, after us. */
void sched_interrupt(struct thread *t)
{
	if (__atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE) < 0)
		return; /* never queued: it has not started, and checks on its way out */
	uint64_t f = irq_save();
	struct runq *rq = lock_rq_of(t);
	int cpu = t->cpu;
	bool there = t->state == THREAD_RUNNING && cpus[cpu].current == t && cpu != this_cpu()->id;
	spin_unlock(&rq->lock);
	if (there)
		lapic_send_ipi(cpus[cpu].apic_id, VEC_RESCHED);
	irq_restore(f);
}

/* An idle CPU takes the oldest unpinned READY thread from the longest queue of a busy
 * CPU. Never holds two run-queue locks: the thread is in neither queue for a moment,
 * READY, which wakers leave alone. */
static bool steal(struct cpu *me)
{
	int victim = -1, most = 0;
	for (int i = 0; i < ncpus; i++) {
		struct cpu *c = &cpus[i];
		int n = __atomic_load_n(&runqs[i].nready, __ATOMIC_RELAXED);
		if (i != me->id && c->online && c->current != c->idle && n > most) {
			victim = i;
			most = n;
		}
	}
	if (victim < 0)
		return false;
	struct runq *rq = &runqs[victim];
	spin_lock(&rq->lock);
	struct thread *t = take_unpinned(rq);
	if (t)
		__atomic_store_n(&t->cpu, me->id, __ATOMIC_RELEASE);
	spin_unlock(&rq->lock);
	if (!t)
		return false;
	rq = me->sched;
	spin_lock(&rq->lock);
	enqueue(rq, t);
	spin_unlock(&rq->lock);
	return true;
}

/* Another CPU queued a thread here: an idle CPU looks at its queue (and steals) when
 * this interrupt ends its hlt; a busy one ends or times its slice. */
static void resched_ipi(struct trapframe *tf)
{
	(void)tf;
	lapic_eoi();
	check_preempt(this_cpu());
}

void sched_init(void)
{
	slice_ns = (uint64_t)config.slice_ms * NS_PER_MS;
	for (int i = 0; i < MAX_CPUS; i++) {
		spin_init(&runqs[i].lock, "runq");
		cpus[i].sched = &runqs[i];
	}
	cpus[0].online = true;
	trap_register(VEC_RESCHED, resched_ipi);
}

void sched_run(void)
{
	irq_disable();
	struct cpu *c = this_cpu();
	struct thread *idle = &idle_threads[c->id];
	struct runq *rq = c->sched;

	ksnprintf(idle->name, sizeof idle->name, "idle%d", c->id);
	idle->state = THREAD_RUNNING;
	idle->cpu = c->id;
	idle->pinned = true;
	rq->since_ns = time_ns();
	c->idle = idle;
	c->current = idle;
	c->online = true;

	for (;;) {
		spin_lock(&rq->lock);
		if (rq->head) {
			reschedule(rq);
			continue;
		}
		spin_unlock(&rq->lock);
		if (steal(c))
			continue;
		uint64_t t0 = time_ns();
		cpu_idle(); /* sti; hlt: a wakeup's IPI cannot slip in before the hlt */
		irq_disable();
		c->idle_ns += time_ns() - t0;
	}
}
