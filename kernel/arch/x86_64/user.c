/* user.c: SYSCALL/SYSRET set-up, SMEP/SMAP, and loading a user thread's context on a
 * switch. SYSCALL enters at syscall_entry (entry.S) with interrupts, the direction flag,
 * the trap flag and AC masked; STAR's selectors match the GDT of trap.c (kernel code
 * 0x08, data 0x10; SYSRET takes user data at 0x18 and user code at 0x20). */
#include "arch/user.h"

#include <string.h>

#include "arch/cpu.h"
#include "kernel/cpu.h"
#include "kernel/syscall.h"
#include "kernel/thread.h"
#include "kernel/vmm.h"

#define EFER_SCE (1UL << 0)
#define STAR_KERNEL_CS 0x08UL
#define STAR_SYSRET_BASE 0x10UL /* SYSRET: SS = base + 8, CS = base + 16 (RPL 3 added) */
#define FLAG_TF (1UL << 8)
#define FLAG_IF (1UL << 9)
#define FLAG_DF (1UL << 10)
#define FLAG_NT (1UL << 14)
#define FLAG_AC (1UL << 18)
#define CPUID_LEAF7_SMEP (1U << 7)
#define CPUID_LEAF7_SMAP (1U << 20)
#define CR4_SMEP (1UL << 20)
#define CR4_SMAP (1UL << 21)
#define CR3_ADDR 0x000ffffffffff000UL

void trap_set_kernel_stack(uint64_t top);

static bool smep, smap;
static uint64_t fs_loaded[MAX_CPUS]; /* FS base each CPU last loaded */

void syscall_init_cpu(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, (STAR_SYSRET_BASE << 48) | (STAR_KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, FLAG_TF | FLAG_IF | FLAG_DF | FLAG_NT | FLAG_AC);

	uint32_t a, b, c, d;
	cpuid(0, 0, &a, &b, &c, &d);
	uint32_t max_leaf = a;
	b = 0;
	if (max_leaf >= 7)
		cpuid(7, 0, &a, &b, &c, &d);
	/* Every CPU gets the same answer; the boot CPU's decides what is reported. */
	smep = b & CPUID_LEAF7_SMEP;
	smap = b & CPUID_LEAF7_SMAP;
	uint64_t cr4 = read_cr4();
	if (smep)
		cr4 |= CR4_SMEP;
	if (smap)
		cr4 |= CR4_SMAP;
	write_cr4(cr4);
	fs_loaded[this_cpu()->id] = rdmsr(MSR_FS_BASE);
}

bool arch_smep(void) { return smep; }
bool arch_smap(void) { return smap; }

void arch_user_switch(struct thread *next)
{
	uint64_t root = next->cr3 ? next->cr3 : vmm_kernel_root();
	if ((read_cr3() & CR3_ADDR) != root)
		write_cr3(root);
	if (!next->uthread)
		return;
	struct cpu *c = this_cpu();
	uint64_t top = (uint64_t)next->stack + THREAD_STACK_SIZE;
	trap_set_kernel_stack(top);
	c->syscall_rsp = top;
	if (fs_loaded[c->id] != next->fs_base) {
		wrmsr(MSR_FS_BASE, next->fs_base);
		fs_loaded[c->id] = next->fs_base;
	}
}

void arch_set_fs(uint64_t base)
{
	uint64_t f = irq_save();
	thread_current()->fs_base = base;
	wrmsr(MSR_FS_BASE, base);
	fs_loaded[this_cpu()->id] = base;
	irq_restore(f);
}

struct trapframe *arch_user_frame(struct thread *t)
{
	return (struct trapframe *)((char *)t->stack + THREAD_STACK_SIZE) - 1;
}
