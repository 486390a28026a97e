/* sys_arch.c: lwIP's OS layer on the kernel's threads and sync primitives.
 *
 * lwIP counts time in milliseconds where the kernel counts nanoseconds; a timeout of 0
 * means "forever" in both. The waits return how long they waited, in milliseconds, or
 * SYS_ARCH_TIMEOUT. sys_arch_protect is lwIP's short critical section around its pools
 * (it nests, and may be taken by any thread on any CPU): one spinlock taken with
 * interrupts off, with an owner CPU and a depth so that the owner can take it again. */
#include <stdarg.h>
#include <string.h>

#include "arch/cpu.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/spinlock.h"
#include "kernel/sync.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lwip/err.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#define NS_PER_MS 1000000ULL
#define MBOX_DEFAULT_SIZE 32 /* for a mailbox lwIP asks for with size 0 */
#define NO_OWNER (-1)

/* lwIP's errno (sockets set it), one per thread; before the first thread exists (or
 * in an interrupt) a shared fallback. */
static int early_errno;

int *sys_arch_errno(void)
{
	struct thread *t = thread_current();
	return t ? &t->net_errno : &early_errno;
}

static struct spinlock prot_lock = SPINLOCK_INIT("lwip_protect");
static volatile int prot_owner = NO_OWNER;
static int prot_depth;

void sys_init(void) {}

u32_t sys_now(void) { return (u32_t)(time_ns() / NS_PER_MS); }

sys_prot_t sys_arch_protect(void)
{
	sys_prot_t flags = irq_save();
	int me = this_cpu()->id;
	if (__atomic_load_n(&prot_owner, __ATOMIC_RELAXED) != me) {
		spin_lock(&prot_lock);
		prot_owner = me;
	}
	prot_depth++;
	return flags;
}

void sys_arch_unprotect(sys_prot_t flags)
{
	if (--prot_depth == 0) {
		prot_owner = NO_OWNER;
		spin_unlock(&prot_lock);
	}
	irq_restore(flags);
}

void sys_arch_check_core_locked(void)
{
	/* Before tcpip_init the stack is set up by one thread (lwip_init), unlocked. */
	if (!lock_tcpip_core.valid)
		return;
	if (lock_tcpip_core.mutex.owner != thread_current())
		panic("lwip: core function called without the core lock (LOCK_TCPIP_CORE)");
}

void sys_arch_diag(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* lwIP's messages end in a newline of their own. */
	size_t n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = 0;
	kdebug("lwip: %s", line);
}

void sys_arch_assert(const char *msg, const char *file, int line)
{
	panic("lwip: assertion \"%s\" failed at %s:%d", msg, file, line);
}

/* Milliseconds to the kernel's nanoseconds; 0 stays 0 (forever). */
static uint64_t ms_to_ns(u32_t ms) { return (uint64_t)ms * NS_PER_MS; }

/* The milliseconds waited since start, as lwIP wants them (never SYS_ARCH_TIMEOUT). */
static u32_t waited_ms(uint64_t start)
{
	uint64_t ms = (time_ns() - start) / NS_PER_MS;
	return ms >= SYS_ARCH_TIMEOUT ? SYS_ARCH_TIMEOUT - 1 : (u32_t)ms;
}

err_t sys_sem_new(sys_sem_t *s, u8_t count)
{
	sem_init(&s->sem, count);
	s->valid = true;
	return ERR_OK;
}

void sys_sem_free(sys_sem_t *s) { s->valid = false; }

void sys_sem_signal(sys_sem_t *s) { sem_signal(&s->sem); }

u32_t sys_arch_sem_wait(sys_sem_t *s, u32_t timeout_ms)
{
	uint64_t start = time_ns();
	if (sem_wait(&s->sem, ms_to_ns(timeout_ms)) < 0)
		return SYS_ARCH_TIMEOUT;
	return waited_ms(start);
}

err_t sys_mutex_new(sys_mutex_t *m)
{
	mutex_init(&m->mutex);
	m->valid = true;
	return ERR_OK;
}

void sys_mutex_free(sys_mutex_t *m) { m->valid = false; }

void sys_mutex_lock(sys_mutex_t *m) { mutex_lock(&m->mutex); }

void sys_mutex_unlock(sys_mutex_t *m) { mutex_unlock(&m->mutex); }

err_t sys_mbox_new(sys_mbox_t *mb, int size)
{
	if (mbox_init(&mb->mbox, size > 0 ? size : MBOX_DEFAULT_SIZE) < 0)
		return ERR_MEM;
	mb->valid = true;
	return ERR_OK;
}

void sys_mbox_free(sys_mbox_t *mb)
{
	mbox_free(&mb->mbox);
	mb->valid = false;
}

void sys_mbox_post(sys_mbox_t *mb, void *msg) { mbox_post(&mb->mbox, msg); }

err_t sys_mbox_trypost(sys_mbox_t *mb, void *msg)
{
	return mbox_trypost(&mb->mbox, msg) < 0 ? ERR_MEM : ERR_OK;
}

err_t sys_mbox_trypost_fromisr(sys_mbox_t *mb, void *msg) { return sys_mbox_trypost(mb, msg); }

u32_t sys_arch_mbox_fetch(sys_mbox_t *mb, void **msg, u32_t timeout_ms)
{
	void *dummy;
	uint64_t start = time_ns();
	if (mbox_fetch(&mb->mbox, msg ? msg : &dummy, ms_to_ns(timeout_ms)) < 0)
		return SYS_ARCH_TIMEOUT;
	return waited_ms(start);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mb, void **msg)
{
	void *dummy;
	if (mbox_tryfetch(&mb->mbox, msg ? msg : &dummy) < 0)
		return SYS_MBOX_EMPTY;
	return 0;
}

sys_thread_t sys_thread_new(const char *name, lwip_thread_fn fn, void *arg, int stacksize, int prio)
{
	struct thread *t = thread_create(name, fn, arg, THREAD_ANY_CPU);
	if (!t)
		panic("lwip: no memory for thread %s", name);
	thread_start(t);
	return t;
}
