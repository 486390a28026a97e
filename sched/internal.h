/* internal.h: what kernel/thread.c and the scheduler need from each other beyond
 * kernel/thread.h. Not for other modules. */
#ifndef SCHED_INTERNAL_H
#define SCHED_INTERNAL_H

struct thread;

/* NEW -> READY: queue t on t->cpu, or on the least loaded online CPU when t->cpu < 0. */
void sched_enqueue_new(struct thread *t);
/* Give up the CPU; the current thread stays READY. */
void sched_yield(void);
/* Mark the current thread DEAD and switch away for good. */
__attribute__((noreturn)) void sched_exit(void);
/* Second half of every switch, run by the thread switched to (also by a new thread's
 * first instructions): release this CPU's run queue lock and retire prev if it died. */
void sched_finish_switch(struct thread *prev);

/* thread.c: prev has died and is no longer running anywhere; let its joiner free it. */
void thread_exited(struct thread *t);

/* thread.c: a new thread's first code, reached from arch_switch via arch_thread_start. */
void thread_entry(struct thread *prev);

/* switch.S */
struct thread *arch_switch(struct thread *prev, struct thread *next);
void arch_thread_start(void);

#endif
