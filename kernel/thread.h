/* thread.h: kernel threads. Each has its own kernel stack (with a guard page), runs on
 * one CPU's run queue, and is preempted when its time slice ends (slice= ms). A thread
 * is created stopped, started with thread_start, and ends by returning from its
 * function or calling thread_exit; thread_join waits for that and frees it.
 *
 * States: NEW -> READY <-> RUNNING -> (BLOCKED -> READY)* -> DEAD. */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/timer.h"

struct waitq;

#define THREAD_ANY_CPU -1
#define THREAD_NAME_MAX 24
#define THREAD_STACK_SIZE (16 * 1024)

enum thread_state { THREAD_NEW, THREAD_READY, THREAD_RUNNING, THREAD_BLOCKED, THREAD_DEAD };

struct thread {
	uint64_t rsp; /* saved stack pointer while switched out (arch switch.S) */
	int id;
	char name[THREAD_NAME_MAX];
	enum thread_state state;
	int cpu;     /* run queue it belongs to */
	bool pinned; /* created for one CPU: never migrated */
	void (*fn)(void *);
	void *arg;
	void *stack;		  /* lowest mapped address of the kernel stack */
	void *fpu;		  /* saved SSE/AVX state */
	uint64_t slice_end_ns;	  /* when it must give up the CPU */
	uint64_t runtime_ns;	  /* CPU time used */
	uint64_t wake_ns;	  /* sleep deadline, 0 = none */
	int wake_reason;	  /* 0 = woken, -ETIMEDOUT = timed out */
	struct thread *next;	  /* run queue or wait queue link */
	struct thread *all_next;  /* list of all threads */
	struct thread *joiner;	  /* thread waiting in thread_join */
	void *task;		  /* owning user task (issue 5), NULL for kernel threads */
	struct thread *wait_next; /* wait queue link (sync.c): a thread that timed out is
				   * READY on a run queue and still on a wait queue */
	struct waitq *waitq;	  /* wait queue it is on, NULL when none (sync.c) */
	struct timer timer;	  /* sched_block's deadline */
	int net_errno;		  /* lwIP's errno for this thread (net/lwip/sys_arch.c) */
	bool exited;		  /* DEAD and switched away from: thread_join may free it */
	/* User threads (kernel/proc.h): loaded on every switch to the thread. */
	uint64_t cr3;	  /* its address space's page tables; 0: the kernel's */
	uint64_t fs_base; /* its TLS pointer (arch_prctl ARCH_SET_FS) */
	void *uthread;	  /* its struct uthread, NULL for kernel threads */
};

/* A new thread that will run fn(arg) on cpu (or the least loaded one with
 * THREAD_ANY_CPU). NULL when out of memory. */
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu);
void thread_start(struct thread *t);
/* Free a thread that was created and never started. */
void thread_discard(struct thread *t);
__attribute__((noreturn)) void thread_exit(void);
/* Wait until t has ended, then free it. */
void thread_join(struct thread *t);
void thread_yield(void);
void thread_sleep_ns(uint64_t ns);
struct thread *thread_current(void);
/* CPU time t has used, including the running slice when t is the caller. */
uint64_t thread_runtime_ns(struct thread *t);

/* Scheduler (sched/): set up the run queues; turn the calling boot context into this
 * CPU's idle loop (never returns); called by the timer interrupt when a slice may be over. */
void sched_init(void);
__attribute__((noreturn)) void sched_run(void);
void sched_tick(void);

/* Blocking primitives build on these. Both are called with interrupts disabled and
 * the caller's wait-queue lock held; sched_block releases it while blocked and returns
 * with it re-acquired (and interrupts as they were). */
struct spinlock;
/* Block the current thread until sched_wake or until deadline_ns (0 = none); returns
 * 0 when woken, -ETIMEDOUT on timeout. */
int sched_block(struct spinlock *lock, uint64_t deadline_ns);
/* Make a blocked thread ready again; reason is what its sched_block returns. */
void sched_wake(struct thread *t, int reason);
/* If t is running on another CPU, interrupt that CPU now (VEC_RESCHED), so t passes its
 * return-to-user path (a killed task's threads leave there). */
void sched_interrupt(struct thread *t);

#endif
