/* trap.h: the interrupt and exception frame, and how handlers are registered. */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include <stdint.h>

/* Pushed by isr.S: registers, then vector and error code, then the CPU's frame. */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Vectors: 0-31 exceptions, 32-47 legacy PIC (masked), 48.. device interrupts,
 * 0xf0.. kernel IPIs and the local timer, 0xff spurious. */
#define VEC_IRQ_BASE 48
#define VEC_IRQ_LAST 0xdf
#define VEC_TIMER 0xf0
#define VEC_RESCHED 0xf1
#define VEC_HALT 0xf2
#define VEC_TLB 0xf3
#define VEC_SPURIOUS 0xff

typedef void (*trap_handler)(struct trapframe *tf);

/* Install the GDT, TSS (with its IST stacks) and IDT on the calling CPU. */
void trap_init_cpu(int cpu);
/* Route a vector to a handler (interrupts: the handler sends EOI itself via irq_eoi). */
void trap_register(int vector, trap_handler h);
/* A free device vector for drivers, or -1. */
int trap_alloc_vector(void);

/* Run fn(arg) on this CPU; if it raises a CPU exception in kernel mode, unwind back
 * here and return the vector; otherwise return -1. For selftests and code that
 * probes (MSRs, instructions) whether something exists. */
int trap_catch(void (*fn)(void *), void *arg);

/* "page fault", "invalid opcode", ... for vectors 0-31. */
const char *trap_name(int vector);

/* Set by the tasks' code (kernel/task.c). trap_user_fault handles an exception raised
 * in ring 3 (with interrupts off on entry; it may enable them); it returns when the
 * thread may go back to user mode. trap_user_return runs before every return to ring 3
 * from an interrupt or exception, to end threads of a killed task and the like. */
extern void (*trap_user_fault)(struct trapframe *tf);
extern void (*trap_user_return)(struct trapframe *tf);

/* Send end-of-interrupt for the interrupt being handled (LAPIC); only the first call per
 * interrupt does, so handlers sharing a line may each call it. */
void irq_eoi(void);

#endif
