/* proc.h: the inside of a task, for the kernel code that serves its system calls
 * (kernel/syscall/, kernel/fs/). The scheduler and the console use task.h only.
 * task.c owns the life cycle; each other module keeps its per-task state behind one
 * pointer here and sets it up and tears it down from the hooks task.c calls.
 *
 * Life cycle: task_spawn builds the address space (exec.c), calls fs_task_start and
 * starts the main thread. Threads end by exit, by exit_group or a fault of any thread
 * (task_terminate: the task is `dying`, every thread leaves at its next return towards
 * user mode or wake-up from an interruptible wait), or by task_kill. A reaper thread
 * joins dead threads; when the last one is gone it calls fs_task_end, frees the address
 * space, records the status and prints `task ID (PROGRAM) exited with STATUS`. */
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/spinlock.h"
#include "kernel/sync.h"
#include "kernel/task.h"

struct uspace;
struct fdtable;
struct thread;
struct trapframe;

#define TASK_SIGNALS 64
#define TASK_ECHO_LINE 256 /* echo to serial is cut into lines of at most this */

/* What rt_sigaction stores (Linux's struct kernel_sigaction); signals other than the
 * fatal ones are never delivered, so this is bookkeeping for the task's own queries. */
struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* One user thread (a kernel thread that runs a task's code in ring 3). */
struct uthread {
	struct thread *thread;
	struct task *task;
	int tid;
	uint64_t clear_tid; /* set_tid_address / CLONE_CHILD_CLEARTID: zeroed + woken at exit */
	uint64_t sigmask;
	uint64_t alt_sp, alt_size; /* sigaltstack */
	int alt_flags;
	struct trapframe *start; /* registers of its first entry to ring 3 (freed then) */
	struct uthread *next;	 /* the task's threads, under task->lock */
	/* An interruptible wait (futex, sleep): the bucket it waits in, NULL otherwise. */
	void *waiting;
	struct uthread *next_dead; /* the reaper's queue */
};

struct task {
	int id;
	char program[TASK_PROGRAM_MAX];
	struct uspace *us;     /* address space: kernel/uspace.h */
	struct fdtable *files; /* open files and the working directory: kernel/fs.h */
	struct task_limits limits;
	struct mutex lock; /* the fields below */
	enum task_state state;
	int status;
	int nthreads;		/* user threads still running */
	struct task_info stats; /* what task_info reports (cpu_ns, mem_bytes...) */
	bool echo;
	/* Output log, a ring of TASK_LOG_BYTES, and its total written count. */
	uint8_t *log;
	uint64_t log_total;
	struct cond changed; /* state or log changed: task_wait, followers of the log */

	bool dying;		   /* ending: threads leave at their next chance */
	enum task_state state_end; /* EXITED or KILLED, once dying */
	int refs;		   /* task_wait callers (under task.c's list lock) */
	bool files_started;	   /* fs_task_start succeeded: fs_task_end is owed */
	bool unlinked;		   /* off the list: the last task_wait caller frees it */
	struct uthread *threads;   /* alive or not yet reaped */
	int nlive;		   /* threads not yet reaped */
	uint64_t dead_cpu_ns;	   /* CPU time of reaped threads */
	char echo_line[TASK_ECHO_LINE];
	int echo_len;
	struct spinlock sig_lock; /* sigact */
	struct ksigaction sigact[TASK_SIGNALS];
	struct task *next; /* all tasks, newest first (task.c) */
};

/* The task the calling thread belongs to, or NULL in a kernel thread. */
struct task *task_current(void);
/* The calling thread's user state, or NULL in a kernel thread. */
struct uthread *uthread_current(void);
/* Append to the output log (stdout and stderr both land here). */
void task_output_append(struct task *t, const void *buf, size_t n);
/* End the whole task with this Linux-style status (0..255, or 128 + signal); the
 * calling thread does not return when it belongs to t. */
void task_terminate(struct task *t, int status);
/* exit_group: end the caller's task with status (0..255). Does not return. */
__attribute__((noreturn)) void task_exit_group(int status);
/* End the calling user thread (exit): clears and wakes its clear_tid; the last thread
 * to leave ends the task with status. Does not return. */
__attribute__((noreturn)) void task_exit_thread(int status);
/* Before returning to user mode: a thread of a dying task ends here. */
void task_user_return(void);
/* A new thread in the caller's task that enters ring 3 with the registers in frame (a
 * copy is taken) and this FS base: its tid, or -ENOMEM/-EAGAIN. Its tid is written to
 * the user words at set_tid1 and set_tid2 (each if non-zero) before it runs; clear_tid
 * is zeroed and futex-woken when it exits. */
int task_clone_thread(const struct trapframe *frame, uint64_t fs_base, uint64_t clear_tid,
		      uint64_t set_tid1, uint64_t set_tid2);

/* Interruptible waits: they end early (-EINTR) when the task is dying. */
/* FUTEX_WAIT: sleep while the word at uaddr equals val (-EAGAIN if it does not), until
 * woken, the deadline (time_ns; 0 = none; -ETIMEDOUT) or the task dies. */
int futex_wait(uint64_t uaddr, uint32_t val, uint64_t deadline_ns);
/* FUTEX_WAKE: wake up to n waiters on uaddr in the caller's address space: how many. */
int futex_wake(struct uspace *us, uint64_t uaddr, int n);
/* Sleep until deadline_ns: 0, or -EINTR when the task is dying. */
int task_sleep_until(uint64_t deadline_ns);

/* Load a program image into us and build its initial stack (exec.c): 0 with the entry
 * point and stack pointer, -ENOEXEC with *why, -E2BIG, -ENOMEM. With share (an image
 * that lives as long as the kernel: the image tree's files), read-only segments are
 * mapped from pages shared by every task running the same program. */
int exec_load(struct uspace *us, const void *image, size_t len, bool share, const char *program,
	      const char *const *argv, const char *const *envp, uint64_t *entry, uint64_t *sp,
	      const char **why);

/* Threads of the caller's task (for sched_getaffinity and the like). */
int task_cpus(struct task *t);

#endif
