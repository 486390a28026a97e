/* thread.c: creating, starting, ending and joining kernel threads, and sleeping.
 * The scheduling itself (run queues, switching, blocking) is in sched/sched.c. */
#include "kernel/thread.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/cpu.h"
#include "kernel/cpu.h"
#include "kernel/fpu.h"
#include "kernel/heap.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/vmm.h"
#include "sched/internal.h"

/* Registers arch_switch pops before returning into a new thread (rbp rbx r12-r15). */
#define SWITCH_SAVED_REGS 6

/* Guards the list of all threads and every thread's exited/joiner pair. */
static struct spinlock threads_lock = SPINLOCK_INIT("threads");
static struct thread *all_threads;
static int next_id = 1;

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu)
{
	if (cpu != THREAD_ANY_CPU && (cpu < 0 || cpu >= MAX_CPUS || !cpus[cpu].online))
		return NULL;
	struct thread *t = kzalloc(sizeof *t);
	if (!t)
		return NULL;
	t->stack = vmm_alloc_stack(THREAD_STACK_SIZE);
	t->fpu = fpu_state_alloc();
	if (!t->stack || !t->fpu) {
		if (t->stack)
			vmm_free_stack(t->stack, THREAD_STACK_SIZE);
		if (t->fpu)
			fpu_state_free(t->fpu);
		kfree(t);
		return NULL;
	}
	strncpy(t->name, name, sizeof t->name - 1);
	t->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
	t->state = THREAD_NEW;
	t->cpu = cpu;
	t->pinned = cpu != THREAD_ANY_CPU;
	t->fn = fn;
	t->arg = arg;

	/* The frame arch_switch expects: saved registers, then the return address. Two
	 * zero words on top leave rsp 16-byte aligned when it "returns" into
	 * arch_thread_start, as the ABI wants before the call there. */
	uint64_t *sp = (uint64_t *)((char *)t->stack + THREAD_STACK_SIZE);
	*--sp = 0;
	*--sp = 0;
	*--sp = (uint64_t)arch_thread_start;
	for (int i = 0; i < SWITCH_SAVED_REGS; i++)
		*--sp = 0;
	t->rsp = (uint64_t)sp;

	spin_lock(&threads_lock);
	t->all_next = all_threads;
	all_threads = t;
	spin_unlock(&threads_lock);
	return t;
}

void thread_start(struct thread *t)
{
	KASSERT(t && t->state == THREAD_NEW, "thread_start of a missing or started thread");
	sched_enqueue_new(t);
}

/* Runs on the new thread's stack with interrupts off and this CPU's queue locked. */
void thread_entry(struct thread *prev)
{
	struct cpu *c = this_cpu();
	c->irq_depth = 0;
	c->catcher = NULL;
	sched_finish_switch(prev);
	irq_enable();
	struct thread *t = thread_current();
	t->fn(t->arg);
	thread_exit();
}

void thread_exit(void) { sched_exit(); }

void thread_exited(struct thread *t)
{
	spin_lock(&threads_lock);
	t->exited = true;
	/* Wake under the lock: the joiner cannot see exited, free t and leave before. */
	if (t->joiner)
		sched_wake(t->joiner, 0);
	spin_unlock(&threads_lock);
}

static void free_thread(struct thread *t)
{
	vmm_free_stack(t->stack, THREAD_STACK_SIZE);
	fpu_state_free(t->fpu);
	kfree(t);
}

void thread_discard(struct thread *t)
{
	KASSERT(t && t->state == THREAD_NEW, "thread_discard of a started thread");
	spin_lock(&threads_lock);
	struct thread **pp = &all_threads;
	while (*pp != t)
		pp = &(*pp)->all_next;
	*pp = t->all_next;
	spin_unlock(&threads_lock);
	free_thread(t);
}

void thread_join(struct thread *t)
{
	spin_lock(&threads_lock);
	while (!t->exited) {
		t->joiner = thread_current();
		sched_block(&threads_lock, 0);
	}
	struct thread **pp = &all_threads;
	while (*pp != t)
		pp = &(*pp)->all_next;
	*pp = t->all_next;
	spin_unlock(&threads_lock);
	free_thread(t);
}

void thread_yield(void) { sched_yield(); }

void thread_sleep_ns(uint64_t ns)
{
	if (!ns) {
		thread_yield();
		return;
	}
	struct spinlock l = SPINLOCK_INIT("sleep");
	uint64_t deadline = time_ns() + ns;
	spin_lock(&l);
	while (time_ns() < deadline)
		sched_block(&l, deadline);
	spin_unlock(&l);
}

struct thread *thread_current(void)
{
	/* With interrupts on, this thread could move to another CPU between reading GS
	 * and reading ->current. */
	uint64_t f = irq_save();
	struct thread *t = this_cpu()->current;
	irq_restore(f);
	return t;
}
