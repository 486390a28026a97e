/* user.h: ring 3 on x86-64. Tasks enter the kernel through SYSCALL (kernel/syscall.h's
 * dispatcher) or an interrupt; either way the user registers end up in a struct
 * trapframe at the top of the thread's own kernel stack. */
#ifndef ARCH_USER_H
#define ARCH_USER_H

#define USER_CS 0x23	  /* GDT entry 4, RPL 3 */
#define USER_DS 0x1b	  /* GDT entry 3, RPL 3 */
#define USER_RFLAGS 0x202 /* IF, and the always-one bit */
#define VEC_SYSCALL 256	  /* trapframe vector of a SYSCALL entry (no real vector) */

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stdint.h>

#include "arch/trap.h"

struct thread;

/* Load next's context on this CPU before switching to it: its page tables (the kernel's
 * for kernel threads), and for a user thread the stack the CPU enters the kernel on
 * (TSS rsp0 and the SYSCALL stack) and its FS base. Interrupts are off. */
void arch_user_switch(struct thread *next);
/* Set the calling user thread's FS base, now and for later switches. */
void arch_set_fs(uint64_t base);
/* Leave for ring 3 with the registers in tf (a user frame). Never returns. */
__attribute__((noreturn)) void arch_user_enter(const struct trapframe *tf);
/* The user frame of a user thread: at the top of its kernel stack. */
struct trapframe *arch_user_frame(struct thread *t);
/* The SYSCALL entry (entry.S) and the dispatcher it calls (kernel/syscall.c). */
void syscall_entry(void);
void syscall_dispatch(struct trapframe *tf);
/* SMEP and SMAP in use on this machine. */
bool arch_smep(void);
bool arch_smap(void);

#endif /* __ASSEMBLY__ */
#endif
