/* syscall.h: the Linux x86-64 system call ABI as tasks see it. Each implementation file
 * registers its calls with SYSCALL_DEFINE(nr, fn); the dispatcher (kernel/syscall.c) looks
 * the number up, calls fn with the six argument registers, and answers -ENOSYS (logged
 * once per number) for anything unregistered. kernel/SYSCALLS.md lists each call and its
 * status. Return values follow Linux: a result >= 0, or a negated errno. */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef long (*syscall_fn)(long a0, long a1, long a2, long a3, long a4, long a5);

struct syscall_entry {
	int nr;
	const char *name;
	syscall_fn fn;
};

#define SYSCALL_DEFINE(nr_, fn_)                                                                   \
	static const struct syscall_entry syscall_entry_##fn_                                      \
		__attribute__((used, section(".syscalls"), aligned(8))) = {nr_, #fn_, fn_}

/* Build the dispatch table from the .syscalls section (once, at boot). */
void syscall_init(void);
/* Set up SYSCALL/SYSRET (STAR, LSTAR, FMASK, EFER.SCE), SMEP/SMAP where present, on the
 * calling CPU. */
void syscall_init_cpu(void);

/* Whether a call with this number is registered. */
bool syscall_registered(int nr);
/* System calls answered -ENOSYS so far (all numbers, every time). */
uint64_t syscall_unknown_count(void);

/* Access to the current task's memory. Each checks that the whole range is user memory
 * the task may access that way (faulting pages in on demand) and returns 0 or -EFAULT;
 * never a kernel fault. */
int copy_from_user(void *dst, const void *usrc, size_t n);
int copy_to_user(void *udst, const void *src, size_t n);
/* A NUL-terminated string of at most max-1 bytes into dst: its length, -EFAULT, or
 * -ENAMETOOLONG when it does not fit. */
long strncpy_from_user(char *dst, const char *usrc, size_t max);

#endif
