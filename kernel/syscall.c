/* syscall.c: the system call dispatcher and the user-memory copies. The table is built
 * once from the .syscalls section that SYSCALL_DEFINE fills (boot/link.ld); a number
 * nobody registered answers -ENOSYS, logged the first time each number is seen. */
#include "kernel/syscall.h"

#include <errno.h>
#include <stdbool.h>

#include "arch/trap.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/proc.h"
#include "kernel/uspace.h"

#define SYSCALL_MAX 512 /* Linux x86-64 numbers stay below this */

extern const struct syscall_entry __syscalls_start[], __syscalls_end[];

static syscall_fn table[SYSCALL_MAX];
static uint64_t unknown_seen[SYSCALL_MAX / 64];
static uint64_t unknown_count;

void syscall_init(void)
{
	for (const struct syscall_entry *e = __syscalls_start; e < __syscalls_end; e++) {
		if (e->nr < 0 || e->nr >= SYSCALL_MAX || table[e->nr])
			panic("syscall: %s registered with a bad or taken number %d", e->name,
			      e->nr);
		table[e->nr] = e->fn;
	}
}

static void unknown(long nr)
{
	__atomic_fetch_add(&unknown_count, 1, __ATOMIC_RELAXED);
	bool first = true;
	if (nr >= 0 && nr < SYSCALL_MAX) {
		uint64_t bit = 1UL << (nr % 64);
		first = !(__atomic_fetch_or(&unknown_seen[nr / 64], bit, __ATOMIC_RELAXED) & bit);
	}
	if (first) {
		struct task *t = task_current();
		kwarn("syscall: %ld is not implemented (first asked by task %d, %s): -ENOSYS", nr,
		      t ? t->id : 0, t ? t->program : "?");
	}
}

bool syscall_registered(int nr) { return nr >= 0 && nr < SYSCALL_MAX && table[nr]; }

uint64_t syscall_unknown_count(void) { return __atomic_load_n(&unknown_count, __ATOMIC_RELAXED); }

/* Called by entry.S with interrupts enabled; the result goes back in rax. */
void syscall_dispatch(struct trapframe *tf)
{
	long nr = (long)tf->rax, ret;
	syscall_fn fn = nr >= 0 && nr < SYSCALL_MAX ? table[nr] : NULL;
	if (fn) {
		ret = fn((long)tf->rdi, (long)tf->rsi, (long)tf->rdx, (long)tf->r10, (long)tf->r8,
			 (long)tf->r9);
	} else {
		unknown(nr);
		ret = -ENOSYS;
	}
	tf->rax = (uint64_t)ret;
	task_user_return();
}

static struct uspace *current_us(void)
{
	struct task *t = task_current();
	return t ? t->us : NULL;
}

int copy_from_user(void *dst, const void *usrc, size_t n)
{
	struct uspace *us = current_us();
	if (!n)
		return 0;
	return us ? uspace_read(us, dst, (uint64_t)usrc, n) : -EFAULT;
}

int copy_to_user(void *udst, const void *src, size_t n)
{
	struct uspace *us = current_us();
	if (!n)
		return 0;
	return us ? uspace_write(us, (uint64_t)udst, src, n) : -EFAULT;
}

long strncpy_from_user(char *dst, const char *usrc, size_t max)
{
	struct uspace *us = current_us();
	return us ? uspace_strncpy(us, dst, (uint64_t)usrc, max) : -EFAULT;
}
