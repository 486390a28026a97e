/* thread.c: threads of a task - clone (threads only), futex, exit and exit_group,
 * set_tid_address, set_robust_list, arch_prctl, sched_yield, sched_getaffinity, gettid.
 * clone accepts what musl's pthread_create asks for; a plain fork (no CLONE_VM and
 * CLONE_THREAD) answers -ENOSYS: a task is one address space. */
#include "kernel/thread.h"

#include <errno.h>

#include "arch/user.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "kernel/time.h"
#include "kernel/uspace.h"

#define NR_SCHED_YIELD 24
#define NR_CLONE 56
#define NR_EXIT 60
#define NR_ARCH_PRCTL 158
#define NR_GETTID 186
#define NR_FUTEX 202
#define NR_SCHED_GETAFFINITY 204
#define NR_SET_TID_ADDRESS 218
#define NR_EXIT_GROUP 231
#define NR_SET_ROBUST_LIST 273

#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_THREAD 0x10000
#define CLONE_SYSVSEM 0x40000
#define CLONE_SETTLS 0x80000
#define CLONE_PARENT_SETTID 0x100000
#define CLONE_CHILD_CLEARTID 0x200000
#define CLONE_DETACHED 0x400000
#define CLONE_CHILD_SETTID 0x1000000
#define CLONE_SIGNAL_MASK 0xff /* the exit signal: none for threads */
#define CLONE_THREAD_NEEDS (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND)
#define CLONE_ALLOWED                                                                              \
	(CLONE_THREAD_NEEDS | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SETTLS |              \
	 CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_CHILD_SETTID)

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME))

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

#define NS_PER_S 1000000000L
#define ROBUST_LIST_HEAD_SIZE 24
#define AFFINITY_BYTES 8 /* one word of CPU bits (MAX_CPUS is 64) */

long timespec_from_user(const void *uts, uint64_t *ns);
uint64_t realtime_epoch_ns(void);

static long sys_clone(long flags, long stack, long parent_tid, long child_tid, long tls, long a5)
{
	if ((flags & CLONE_THREAD_NEEDS) != CLONE_THREAD_NEEDS)
		return -ENOSYS; /* fork, vfork, posix_spawn's clone: not in one address space */
	if (flags & ~(long)(CLONE_ALLOWED | CLONE_SIGNAL_MASK))
		return -EINVAL;
	struct thread *me = thread_current();
	struct trapframe f = *arch_user_frame(me);
	f.rax = 0; /* the child's clone returns 0 */
	if (stack)
		f.rsp = (uint64_t)stack;
	uint64_t fs = flags & CLONE_SETTLS ? (uint64_t)tls : me->fs_base;
	if (fs >= USPACE_TOP)
		return -EPERM;
	return task_clone_thread(&f, fs, flags & CLONE_CHILD_CLEARTID ? (uint64_t)child_tid : 0,
				 flags & CLONE_PARENT_SETTID ? (uint64_t)parent_tid : 0,
				 flags & CLONE_CHILD_SETTID ? (uint64_t)child_tid : 0);
}
SYSCALL_DEFINE(NR_CLONE, sys_clone);

static long sys_exit(long status, long a1, long a2, long a3, long a4, long a5)
{
	task_exit_thread((int)status);
}
SYSCALL_DEFINE(NR_EXIT, sys_exit);

static long sys_exit_group(long status, long a1, long a2, long a3, long a4, long a5)
{
	task_exit_group((int)status);
}
SYSCALL_DEFINE(NR_EXIT_GROUP, sys_exit_group);

static long sys_gettid(long a0, long a1, long a2, long a3, long a4, long a5)
{
	return uthread_current()->tid;
}
SYSCALL_DEFINE(NR_GETTID, sys_gettid);

static long sys_set_tid_address(long tidptr, long a1, long a2, long a3, long a4, long a5)
{
	struct uthread *ut = uthread_current();
	ut->clear_tid = (uint64_t)tidptr;
	return ut->tid;
}
SYSCALL_DEFINE(NR_SET_TID_ADDRESS, sys_set_tid_address);

/* Robust futex lists are only walked when a thread dies holding a lock; accepted and not
 * walked (a task's threads end together or cleanly). */
static long sys_set_robust_list(long head, long len, long a2, long a3, long a4, long a5)
{
	return len == ROBUST_LIST_HEAD_SIZE ? 0 : -EINVAL;
}
SYSCALL_DEFINE(NR_SET_ROBUST_LIST, sys_set_robust_list);

static long sys_arch_prctl(long code, long addr, long a2, long a3, long a4, long a5)
{
	switch (code) {
	case ARCH_SET_FS:
		if ((uint64_t)addr >= USPACE_TOP)
			return -EPERM;
		arch_set_fs((uint64_t)addr);
		return 0;
	case ARCH_GET_FS: {
		uint64_t fs = thread_current()->fs_base;
		return copy_to_user((void *)addr, &fs, sizeof fs);
	}
	case ARCH_SET_GS:
	case ARCH_GET_GS:
		return -EPERM; /* GS belongs to the kernel's per-CPU data */
	}
	return -EINVAL;
}
SYSCALL_DEFINE(NR_ARCH_PRCTL, sys_arch_prctl);

/* Wake n waiters and, for the requeue operations, up to n2 more: waiters are not moved to
 * the second address but woken, which futex users must tolerate (spurious wake-ups). */
static long sys_futex(long uaddr, long op, long val, long timeout, long uaddr2, long val3)
{
	struct task *t = task_current();
	int cmd = (int)op & FUTEX_CMD_MASK;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET: {
		uint64_t deadline = 0, ns;
		if (timeout) {
			long err = timespec_from_user((const void *)timeout, &ns);
			if (err)
				return err;
			if (cmd == FUTEX_WAIT)
				deadline = time_ns() + ns; /* relative */
			else if (op & FUTEX_CLOCK_REALTIME)
				deadline = ns > realtime_epoch_ns() ? ns - realtime_epoch_ns() : 1;
			else
				deadline =
					ns ? ns : 1; /* absolute monotonic; 0 would mean "none" */
		}
		if (cmd == FUTEX_WAIT_BITSET && !val3)
			return -EINVAL;
		return futex_wait((uint64_t)uaddr, (uint32_t)val, deadline);
	}
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		if (cmd == FUTEX_WAKE_BITSET && !val3)
			return -EINVAL;
		return futex_wake(t->us, (uint64_t)uaddr, (int)val);
	case FUTEX_CMP_REQUEUE: {
		uint32_t now;
		int err = uspace_read_u32(t->us, (uint64_t)uaddr, &now);
		if (err)
			return err;
		if (now != (uint32_t)val3)
			return -EAGAIN;
	}
		/* fall through */
	case FUTEX_REQUEUE: {
		long n2 = timeout; /* the requeue count travels in the timeout argument */
		int woken = futex_wake(t->us, (uint64_t)uaddr, (int)val);
		if (n2 > 0)
			woken += futex_wake(t->us, (uint64_t)uaddr,
					    (int)(n2 > INT32_MAX ? INT32_MAX : n2));
		return woken;
	}
	}
	return -ENOSYS;
}
SYSCALL_DEFINE(NR_FUTEX, sys_futex);

static long sys_sched_yield(long a0, long a1, long a2, long a3, long a4, long a5)
{
	thread_yield();
	return 0;
}
SYSCALL_DEFINE(NR_SCHED_YIELD, sys_sched_yield);

/* The CPUs the task may use: as many bits as it may run threads at once. */
static long sys_sched_getaffinity(long pid, long len, long mask, long a3, long a4, long a5)
{
	struct task *t = task_current();
	if (pid && pid != t->id)
		return -ESRCH;
	if (len < AFFINITY_BYTES)
		return -EINVAL;
	int n = task_cpus(t);
	uint64_t bits = n >= 64 ? ~0UL : (1UL << n) - 1;
	int err = copy_to_user((void *)mask, &bits, sizeof bits);
	return err ? err : AFFINITY_BYTES;
}
SYSCALL_DEFINE(NR_SCHED_GETAFFINITY, sys_sched_getaffinity);
