/* trap.c: per-CPU GDT and TSS, the IDT, and dispatch of every interrupt and exception.
 * Kernel-mode exceptions panic with registers and a backtrace unless trap_catch is
 * active; exceptions from ring 3 go to the tasks' hook (trap_user_fault), which ends the
 * task or pages memory in, never the node; the double fault, NMI and machine check run
 * on their own IST stacks so a blown kernel stack still gets reported. */
#include "arch/trap.h"

#include <stddef.h>
#include <string.h>

#include "arch/cpu.h"
#include "arch/user.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/spinlock.h"
#include "kernel/syscall.h"

#define IST_SIZE 8192
#define VEC_PAGE_FAULT 14

struct tss {
	uint32_t rsv0;
	uint64_t rsp[3];
	uint64_t rsv1;
	uint64_t ist[7];
	uint64_t rsv2;
	uint16_t rsv3;
	uint16_t iomap;
} __attribute__((packed));

struct arch_cpu {
	uint64_t gdt[7]; /* null, kcode, kdata, udata, ucode, tss (2 slots) */
	struct tss tss;
};

struct idt_entry {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t isr_table[256];
static struct idt_entry idt[256] __attribute__((aligned(16)));
static trap_handler handlers[256];
static struct arch_cpu arch_cpus[MAX_CPUS];
static uint8_t boot_ist[3][IST_SIZE] __attribute__((aligned(16)));
static int next_vector = VEC_IRQ_BASE;
static struct spinlock vector_lock = SPINLOCK_INIT("vectors");

struct cpu cpus[MAX_CPUS];
int ncpus = 1;

void cpu_set_local(int id)
{
	cpus[id].self = &cpus[id];
	cpus[id].id = id;
	wrmsr(MSR_GS_BASE, (uint64_t)&cpus[id]);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

static void set_gate(int v, uint64_t addr, int ist, int dpl)
{
	idt[v] = (struct idt_entry){
		.off_lo = addr & 0xffff,
		.sel = 0x08,
		.ist = (uint8_t)ist,
		.type = (uint8_t)(0x8e | (dpl << 5)), /* present, 64-bit interrupt gate */
		.off_mid = (addr >> 16) & 0xffff,
		.off_hi = (uint32_t)(addr >> 32),
	};
}

static void idt_build(void)
{
	for (int v = 0; v < 256; v++)
		set_gate(v, isr_table[v], 0, 0);
	set_gate(2, isr_table[2], 2, 0);   /* NMI */
	set_gate(8, isr_table[8], 1, 0);   /* double fault */
	set_gate(18, isr_table[18], 3, 0); /* machine check */
	set_gate(3, isr_table[3], 0, 3);   /* int3 allowed from ring 3 */
}

void trap_init_cpu(int id)
{
	struct arch_cpu *a = &arch_cpus[id];
	if (id == 0)
		idt_build();
	cpus[id].arch = a;

	for (int i = 0; i < 3; i++) {
		uint8_t *stack = id == 0 ? boot_ist[i] : pmm_alloc_kva(IST_SIZE);
		if (!stack)
			panic("no memory for the IST stacks of cpu %d", id);
		a->tss.ist[i] = (uint64_t)stack + IST_SIZE;
	}
	a->tss.iomap = sizeof(struct tss);

	a->gdt[0] = 0;
	a->gdt[1] = 0x00af9a000000ffff; /* kernel code */
	a->gdt[2] = 0x00cf92000000ffff; /* kernel data */
	a->gdt[3] = 0x00cff2000000ffff; /* user data (SYSRET: STAR base + 8) */
	a->gdt[4] = 0x00affa000000ffff; /* user code (STAR base + 16) */
	uint64_t base = (uint64_t)&a->tss, limit = sizeof(struct tss) - 1;
	a->gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
		    (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	a->gdt[6] = base >> 32;

	struct desc_ptr gp = {sizeof a->gdt - 1, (uint64_t)a->gdt};
	struct desc_ptr ip = {sizeof idt - 1, (uint64_t)idt};
	__asm__ volatile("lgdt %0\n"
			 "pushq $0x08\n"
			 "leaq 1f(%%rip), %%rax\n"
			 "pushq %%rax\n"
			 "lretq\n"
			 "1: mov $0x10, %%ax\n"
			 "mov %%ax, %%ds\n"
			 "mov %%ax, %%es\n"
			 "mov %%ax, %%ss\n"
			 "ltr %w1\n"
			 "lidt %2\n" ::"m"(gp),
			 "r"(0x28), "m"(ip)
			 : "rax", "memory");
	cpu_set_local(id);
	syscall_init_cpu();
}

/* The TSS's ring-0 stack, used when an interrupt arrives in ring 3. */
void trap_set_kernel_stack(uint64_t top)
{
	((struct arch_cpu *)this_cpu()->arch)->tss.rsp[0] = top;
}

void trap_register(int vector, trap_handler h) { handlers[vector] = h; }

int trap_alloc_vector(void)
{
	spin_lock(&vector_lock);
	int v = next_vector <= VEC_IRQ_LAST ? next_vector++ : -1;
	spin_unlock(&vector_lock);
	return v;
}

static const char *const names[32] = {
	"divide error",
	"debug",
	"NMI",
	"breakpoint",
	"overflow",
	"bound range",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor overrun",
	"invalid TSS",
	"segment not present",
	"stack fault",
	"general protection fault",
	"page fault",
	0,
	"x87 floating point",
	"alignment check",
	"machine check",
	"SIMD floating point",
	"virtualization",
	"control protection",
};

const char *trap_name(int vector)
{
	return vector < 32 && names[vector] ? names[vector] : "reserved exception";
}

struct catcher {
	uint64_t jmp[9];
};
int ksetjmp(uint64_t buf[9]);
__attribute__((noreturn)) void klongjmp(uint64_t buf[9], int v);

int trap_catch(void (*fn)(void *), void *arg)
{
	struct catcher c;
	struct cpu *cpu = this_cpu();
	void *outer = cpu->catcher;
	int v = ksetjmp(c.jmp);
	if (v == 0) {
		cpu->catcher = &c;
		fn(arg);
		cpu->catcher = outer;
		return -1;
	}
	this_cpu()->catcher = outer;
	return v - 1;
}

void (*trap_user_fault)(struct trapframe *tf);
void (*trap_user_return)(struct trapframe *tf);

/* Some nested hypervisors (PVM) carry out a task's SYSCALL by jumping to LSTAR without
 * leaving user mode; the fetch of syscall_entry then faults in ring 3. The registers are
 * still those at the SYSCALL (rcx the return address, r11 the flags), so the call is
 * served here and returns by IRET. Slow, but the same calls with the same results. */
static void syscall_from_fault(struct trapframe *tf)
{
	static bool told;
	if (!__atomic_exchange_n(&told, true, __ATOMIC_RELAXED))
		kwarn("trap: SYSCALL arrives as a user-mode fault at its entry (nested "
		      "hypervisor?); serving system calls from the fault handler");
	tf->rip = tf->rcx;
	tf->rflags = tf->r11 | USER_RFLAGS;
	tf->vector = VEC_SYSCALL;
	tf->error = 0;
	irq_enable();
	syscall_dispatch(tf);
	irq_disable();
}

void trap(struct trapframe *tf)
{
	int v = (int)tf->vector;
	struct cpu *cpu = this_cpu();

	if (v >= 32) {
		cpu->irq_depth++;
		cpu->eoi_pending = true;
		if (handlers[v])
			handlers[v](tf);
		else if (v != VEC_SPURIOUS) {
			kwarn("trap: unexpected interrupt vector %d", v);
			irq_eoi();
		}
		/* Not cpu->: the scheduler may have preempted the interrupted thread inside
		 * the handler and resumed it later on another CPU. */
		this_cpu()->irq_depth--;
		this_cpu()->eoi_pending = false;
		if ((tf->cs & 3) && trap_user_return)
			trap_user_return(tf);
		return;
	}
	if (handlers[v]) { /* e.g. a page-fault handler that maps on demand */
		handlers[v](tf);
		return;
	}
	if (v == VEC_PAGE_FAULT && (tf->cs & 3) && tf->rip == (uint64_t)syscall_entry) {
		syscall_from_fault(tf);
		return;
	}
	if ((tf->cs & 3) && trap_user_fault) {
		trap_user_fault(tf);
		if (trap_user_return)
			trap_user_return(tf);
		irq_disable(); /* the hook may have enabled them; the way out swaps GS */
		return;
	}
	if (cpu->catcher && v != 8 && v != 18) {
		struct catcher *c = cpu->catcher;
		cpu->catcher = 0;
		klongjmp(c->jmp, v + 1);
	}
	panic_trap(tf, trap_name(v));
}

__attribute__((weak)) void irq_eoi(void) {}
