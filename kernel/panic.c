/* panic.c: the last words of a broken kernel: message, registers, symbolized backtrace,
 * then the other CPUs are stopped and this one halts (or reboots). */
#include "kernel/panic.h"

#include <stdarg.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "kernel/config.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/power.h"
#include "kernel/printf.h"

/* Written by scripts/ksyms.sh into the .ksyms section: empty on the first link, filled
 * in on the second. */
struct ksym {
	uint64_t addr;
	uint32_t name; /* offset into ksym_names */
	uint32_t pad;
};
extern const uint64_t ksym_count;
extern const struct ksym ksym_table[];
extern const char ksym_names[];
extern char _text[], _etext[];

static volatile int panicking;

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	if (!ksym_count || addr < (uint64_t)_text || addr >= (uint64_t)_etext)
		return 0;
	uint64_t lo = 0, hi = ksym_count;
	while (hi - lo > 1) {
		uint64_t mid = (lo + hi) / 2;
		if (ksym_table[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (ksym_table[lo].addr > addr)
		return 0;
	*offset = addr - ksym_table[lo].addr;
	return ksym_names + ksym_table[lo].name;
}

static void print_addr(uint64_t a)
{
	uint64_t off;
	const char *s = ksym_lookup(a, &off);
	if (s)
		log_emergency("  %016lx %s+0x%lx\n", a, s, off);
	else
		log_emergency("  %016lx\n", a);
}

static int readable(uint64_t p) { return p >= 0xffff800000000000UL && !(p & 7); }

void backtrace(uint64_t rbp, uint64_t rip)
{
	log_emergency("backtrace:\n");
	print_addr(rip);
	for (int depth = 0; depth < 32 && readable(rbp); depth++) {
		uint64_t ret = ((uint64_t *)rbp)[1];
		uint64_t next = ((uint64_t *)rbp)[0];
		if (!ret)
			break;
		print_addr(ret - 1);
		if (next <= rbp)
			break;
		rbp = next;
	}
}

static __attribute__((noreturn)) void stop(void)
{
	power_stop_others();
	if (config.debug_exit)
		power_debug_exit(3);
	if (config.panic == PANIC_REBOOT)
		power_reboot();
	if (config.panic == PANIC_POWEROFF)
		power_off();
	for (;;) {
		irq_disable();
		cpu_halt();
	}
}

static int enter(void)
{
	irq_disable();
	return __atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST);
}

void panic(const char *fmt, ...)
{
	if (enter())
		for (;;)
			cpu_halt();
	char msg[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_emergency("shoal: panic: %s (cpu %d)\n", msg, this_cpu() ? this_cpu()->id : 0);
	backtrace((uint64_t)__builtin_frame_address(0), (uint64_t)&panic);
	stop();
}

void panic_trap(struct trapframe *tf, const char *what)
{
	if (enter())
		for (;;)
			cpu_halt();
	log_emergency("shoal: panic: %s (vector %lu, error 0x%lx) at %016lx on cpu %d\n", what,
		      tf->vector, tf->error, tf->rip, this_cpu()->id);
	if (tf->vector == 14)
		log_emergency("faulting address: %016lx (%s, %s, %s)\n", read_cr2(),
			      tf->error & 1 ? "protection" : "not present",
			      tf->error & 2 ? "write" : "read", tf->error & 4 ? "user" : "kernel");
	log_emergency("rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", tf->rax, tf->rbx, tf->rcx,
		      tf->rdx);
	log_emergency("rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", tf->rsi, tf->rdi, tf->rbp,
		      tf->rsp);
	log_emergency("r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", tf->r8, tf->r9, tf->r10,
		      tf->r11);
	log_emergency("r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", tf->r12, tf->r13, tf->r14,
		      tf->r15);
	log_emergency("rip %016lx cs %04lx rflags %08lx ss %04lx cr2 %016lx cr3 %016lx\n", tf->rip,
		      tf->cs, tf->rflags, tf->ss, read_cr2(), read_cr3());
	backtrace(tf->rbp, tf->rip);
	stop();
}
