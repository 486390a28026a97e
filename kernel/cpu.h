/* cpu.h: per-CPU data. Each CPU's GS base points at its struct cpu, so this_cpu() is
 * one load; fields a CPU touches for itself need no lock. */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H

#include <stdbool.h>
#include <stdint.h>

#define MAX_CPUS 64

struct thread;

struct cpu {
	struct cpu *self;     /* %gs:0, must stay first */
	uint64_t syscall_rsp; /* %gs:8, kernel stack for SYSCALL entry */
	uint64_t user_rsp;    /* %gs:16, scratch for SYSCALL entry */
	int id;		      /* 0 .. ncpus-1; 0 is the boot CPU */
	uint32_t apic_id;
	bool online;
	int irq_depth;		/* nested interrupt handlers running */
	bool eoi_pending;	/* the interrupt being handled still needs its EOI (irq_eoi) */
	struct thread *current; /* running thread (the idle thread when nothing else) */
	struct thread *idle;
	void *sched;	  /* this CPU's run queue (sched/) */
	uint64_t ticks;	  /* timer interrupts taken */
	uint64_t idle_ns; /* time spent halted */
	void *catcher;	  /* active trap_catch, if any */
	void *arch;	  /* the arch's per-CPU tables (GDT, TSS) */
};

extern struct cpu cpus[MAX_CPUS];
extern int ncpus; /* CPUs found in the MADT (at least 1) */

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

/* Point GS at cpus[id] on the calling CPU. */
void cpu_set_local(int id);

#endif
