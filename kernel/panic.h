/* panic.h: stop the machine on a broken kernel invariant (never for bad input).
 * Prints "shoal: panic: MESSAGE", the registers when a trap caused it, and a symbolized
 * backtrace, stops the other CPUs, then halts (or reboots: panic=reboot). */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdint.h>

struct trapframe;

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
__attribute__((noreturn)) void panic_trap(struct trapframe *tf, const char *what);

/* Print a backtrace starting at the given frame pointer and instruction. */
void backtrace(uint64_t rbp, uint64_t rip);
/* Name of the function containing addr and the offset into it, or NULL. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

#define KASSERT(c, msg)                                                                            \
	do {                                                                                       \
		if (!(c))                                                                          \
			panic("assertion '%s' failed at %s:%d: %s", #c, __FILE__, __LINE__, msg);  \
	} while (0)

#endif
