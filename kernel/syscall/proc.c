/* proc.c: who a task is and what it may do - getpid and friends, uname, rlimits,
 * getrandom - and signals-lite. Signals are bookkeeping (rt_sigaction, rt_sigprocmask,
 * sigaltstack remember what they are told) and are never delivered to a handler; a
 * signal a task sends itself (kill, tkill, tgkill) whose action is the default one
 * ends the task with 128 + signal, as abort()'s SIGABRT must (134). Signals whose
 * default is to be ignored or to stop, or that have a handler or SIG_IGN, do nothing. */
#include "kernel/proc.h"

#include <errno.h>
#include <string.h>

#include "kernel/config.h"
#include "kernel/fs.h"
#include "kernel/random.h"
#include "kernel/syscall.h"
#include "kernel/uspace.h"
#include "kernel/version.h"
#include "net/members.h"

#define NR_RT_SIGACTION 13
#define NR_RT_SIGPROCMASK 14
#define NR_GETPID 39
#define NR_KILL 62
#define NR_UNAME 63
#define NR_GETRLIMIT 97
#define NR_GETUID 102
#define NR_GETGID 104
#define NR_GETEUID 107
#define NR_GETEGID 108
#define NR_GETPPID 110
#define NR_SIGALTSTACK 131
#define NR_TKILL 200
#define NR_TGKILL 234
#define NR_PRLIMIT64 302
#define NR_GETRANDOM 318

#define SIGKILL 9
#define SIGSTOP 19
#define SIG_DFL 0
#define SIG_IGN 1
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SIGSET_BYTES 8
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define MINSIGSTKSZ 2048
#define STATUS_SIGNALED 128

#define UTS_LEN 65
#define UTS_SYSNAME "Linux" /* what programs test for; the release says shoal */
#define UTS_RELEASE "6.1.0-shoal"
#define UTS_VERSION "#1 SMP shoal " SHOAL_VERSION
#define UTS_MACHINE "x86_64"
#define UTS_DEFAULT_NODE "shoal"

#define RLIMIT_DATA 2
#define RLIMIT_STACK 3
#define RLIMIT_NPROC 6
#define RLIMIT_NOFILE 7
#define RLIMIT_AS 9
#define RLIMIT_NLIMITS 16
#define RLIM_INFINITY (~0UL)

#define GETRANDOM_CHUNK 256
#define GETRANDOM_MAX (32UL << 20)
#define GRND_NONBLOCK 1
#define GRND_RANDOM 2
#define GRND_INSECURE 4

static long sys_getpid(long a0, long a1, long a2, long a3, long a4, long a5)
{
	return task_current()->id;
}
SYSCALL_DEFINE(NR_GETPID, sys_getpid);

/* No parent a task could signal or wait for: like a process whose parent is gone. */
static long sys_getppid(long a0, long a1, long a2, long a3, long a4, long a5) { return 0; }
SYSCALL_DEFINE(NR_GETPPID, sys_getppid);

/* Everything runs as root inside its own task; there is nobody else. */
static long sys_getuid(long a0, long a1, long a2, long a3, long a4, long a5) { return 0; }
SYSCALL_DEFINE(NR_GETUID, sys_getuid);
static long sys_geteuid(long a0, long a1, long a2, long a3, long a4, long a5) { return 0; }
SYSCALL_DEFINE(NR_GETEUID, sys_geteuid);
static long sys_getgid(long a0, long a1, long a2, long a3, long a4, long a5) { return 0; }
SYSCALL_DEFINE(NR_GETGID, sys_getgid);
static long sys_getegid(long a0, long a1, long a2, long a3, long a4, long a5) { return 0; }
SYSCALL_DEFINE(NR_GETEGID, sys_getegid);

static long sys_uname(long ubuf, long a1, long a2, long a3, long a4, long a5)
{
	char u[6][UTS_LEN];
	memset(u, 0, sizeof u);
	strncpy(u[0], UTS_SYSNAME, UTS_LEN - 1);
	/* The node's name: gossip's (derived from the MAC when name= is unset), else name=. */
	struct members_local self;
	const char *node = config.name[0] ? config.name : UTS_DEFAULT_NODE;
	if (members_local(&self) == 0 && self.name[0])
		node = self.name;
	strncpy(u[1], node, UTS_LEN - 1);
	strncpy(u[2], UTS_RELEASE, UTS_LEN - 1);
	strncpy(u[3], UTS_VERSION, UTS_LEN - 1);
	strncpy(u[4], UTS_MACHINE, UTS_LEN - 1);
	strncpy(u[5], "(none)", UTS_LEN - 1);
	return copy_to_user((void *)ubuf, u, sizeof u);
}
SYSCALL_DEFINE(NR_UNAME, sys_uname);

/* Default action of sig is to end the process (terminate or core dump). */
static bool fatal_by_default(int sig)
{
	switch (sig) {
	case 17: /* SIGCHLD */
	case 18: /* SIGCONT */
	case 19: /* SIGSTOP */
	case 20: /* SIGTSTP */
	case 21: /* SIGTTIN */
	case 22: /* SIGTTOU */
	case 23: /* SIGURG */
	case 28: /* SIGWINCH */
		return false;
	}
	return sig < 32; /* real-time signals: ignored when nobody waits for them */
}

/* A signal to the caller's own task. */
static long signal_self(struct task *t, long sig)
{
	if (sig < 0 || sig > TASK_SIGNALS)
		return -EINVAL;
	if (sig == 0)
		return 0;
	spin_lock(&t->sig_lock);
	uint64_t handler = t->sigact[sig - 1].handler;
	spin_unlock(&t->sig_lock);
	if (sig == SIGKILL || (handler == SIG_DFL && fatal_by_default((int)sig)))
		task_terminate(t, STATUS_SIGNALED + (int)sig);
	return 0;
}

static long sys_kill(long pid, long sig, long a2, long a3, long a4, long a5)
{
	struct task *t = task_current();
	if (pid != t->id && pid != 0 && pid != -1)
		return -ESRCH; /* tasks cannot signal each other */
	return signal_self(t, sig);
}
SYSCALL_DEFINE(NR_KILL, sys_kill);

/* A thread of the caller's task, by tid (threads share one fate: the signal is the
 * task's). */
static bool own_thread(struct task *t, long tid)
{
	bool found = false;
	mutex_lock(&t->lock);
	for (struct uthread *ut = t->threads; ut; ut = ut->next)
		found |= ut->tid == tid;
	mutex_unlock(&t->lock);
	return found;
}

static long sys_tkill(long tid, long sig, long a2, long a3, long a4, long a5)
{
	struct task *t = task_current();
	return own_thread(t, tid) ? signal_self(t, sig) : -ESRCH;
}
SYSCALL_DEFINE(NR_TKILL, sys_tkill);

static long sys_tgkill(long tgid, long tid, long sig, long a3, long a4, long a5)
{
	struct task *t = task_current();
	return tgid == t->id && own_thread(t, tid) ? signal_self(t, sig) : -ESRCH;
}
SYSCALL_DEFINE(NR_TGKILL, sys_tgkill);

static long sys_rt_sigaction(long sig, long uact, long uold, long size, long a4, long a5)
{
	struct task *t = task_current();
	if (size != SIGSET_BYTES || sig < 1 || sig > TASK_SIGNALS)
		return -EINVAL;
	struct ksigaction act, old;
	if (uact) {
		if (sig == SIGKILL || sig == SIGSTOP)
			return -EINVAL;
		int err = copy_from_user(&act, (const void *)uact, sizeof act);
		if (err)
			return err;
	}
	spin_lock(&t->sig_lock);
	old = t->sigact[sig - 1];
	if (uact)
		t->sigact[sig - 1] = act;
	spin_unlock(&t->sig_lock);
	return uold ? copy_to_user((void *)uold, &old, sizeof old) : 0;
}
SYSCALL_DEFINE(NR_RT_SIGACTION, sys_rt_sigaction);

static long sys_rt_sigprocmask(long how, long uset, long uold, long size, long a4, long a5)
{
	struct uthread *ut = uthread_current();
	if (size != SIGSET_BYTES)
		return -EINVAL;
	uint64_t old = ut->sigmask, set;
	if (uset) {
		int err = copy_from_user(&set, (const void *)uset, sizeof set);
		if (err)
			return err;
		uint64_t cant = (1UL << (SIGKILL - 1)) | (1UL << (SIGSTOP - 1));
		switch (how) {
		case SIG_BLOCK:
			ut->sigmask |= set & ~cant;
			break;
		case SIG_UNBLOCK:
			ut->sigmask &= ~set;
			break;
		case SIG_SETMASK:
			ut->sigmask = set & ~cant;
			break;
		default:
			return -EINVAL;
		}
	}
	return uold ? copy_to_user((void *)uold, &old, sizeof old) : 0;
}
SYSCALL_DEFINE(NR_RT_SIGPROCMASK, sys_rt_sigprocmask);

struct kstack_t {
	uint64_t sp;
	int32_t flags;
	uint64_t size;
};

static long sys_sigaltstack(long uss, long uold, long a2, long a3, long a4, long a5)
{
	struct uthread *ut = uthread_current();
	struct kstack_t old = {ut->alt_sp, ut->alt_size ? ut->alt_flags : SS_DISABLE, ut->alt_size};
	if (uss) {
		struct kstack_t ss;
		int err = copy_from_user(&ss, (const void *)uss, sizeof ss);
		if (err)
			return err;
		if (ss.flags & ~SS_DISABLE)
			return -EINVAL;
		if (ss.flags & SS_DISABLE) {
			ut->alt_sp = ut->alt_size = 0;
		} else {
			if (ss.size < MINSIGSTKSZ)
				return -ENOMEM;
			ut->alt_sp = ss.sp;
			ut->alt_size = ss.size;
			ut->alt_flags = 0;
		}
	}
	return uold ? copy_to_user((void *)uold, &old, sizeof old) : 0;
}
SYSCALL_DEFINE(NR_SIGALTSTACK, sys_sigaltstack);

/* Limits as the task lives them: its memory limit for address space and data, the
 * reserved stack, the descriptor table's size. Setting a limit is accepted and changes
 * nothing (the node's limits are not the task's to raise). */
static void limit_of(struct task *t, long res, uint64_t lim[2])
{
	lim[0] = lim[1] = RLIM_INFINITY;
	switch (res) {
	case RLIMIT_AS:
	case RLIMIT_DATA:
		lim[0] = lim[1] = t->limits.mem_bytes;
		break;
	case RLIMIT_STACK:
		lim[0] = lim[1] = USPACE_STACK_SIZE;
		break;
	case RLIMIT_NOFILE:
		lim[0] = lim[1] = FS_FDS_MAX;
		break;
	case RLIMIT_NPROC:
		lim[0] = lim[1] = (uint64_t)config.task_max;
		break;
	}
}

static long sys_prlimit64(long pid, long res, long unew, long uold, long a4, long a5)
{
	struct task *t = task_current();
	if (pid && pid != t->id)
		return -ESRCH;
	if (res < 0 || res >= RLIMIT_NLIMITS)
		return -EINVAL;
	uint64_t lim[2], want[2];
	limit_of(t, res, lim);
	if (unew) {
		int err = copy_from_user(want, (const void *)unew, sizeof want);
		if (err)
			return err;
		if (want[0] > want[1])
			return -EINVAL;
	}
	return uold ? copy_to_user((void *)uold, lim, sizeof lim) : 0;
}
SYSCALL_DEFINE(NR_PRLIMIT64, sys_prlimit64);

static long sys_getrlimit(long res, long uold, long a2, long a3, long a4, long a5)
{
	return sys_prlimit64(0, res, 0, uold, 0, 0);
}
SYSCALL_DEFINE(NR_GETRLIMIT, sys_getrlimit);

static long sys_getrandom(long ubuf, long len, long flags, long a3, long a4, long a5)
{
	if (flags & ~(long)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if (len < 0)
		return -EINVAL;
	size_t n = (size_t)len > GETRANDOM_MAX ? GETRANDOM_MAX : (size_t)len;
	uint8_t chunk[GETRANDOM_CHUNK];
	for (size_t done = 0; done < n;) {
		size_t c = n - done < sizeof chunk ? n - done : sizeof chunk;
		if (random_bytes(chunk, c) < 0)
			return done ? (long)done : -EAGAIN;
		int err = copy_to_user((uint8_t *)ubuf + done, chunk, c);
		if (err)
			return done ? (long)done : err;
		done += c;
	}
	memset(chunk, 0, sizeof chunk);
	return (long)n;
}
SYSCALL_DEFINE(NR_GETRANDOM, sys_getrandom);
