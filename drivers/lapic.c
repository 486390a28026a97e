/* lapic.c: the local APIC of each CPU: enable, EOI, IPIs and the one-shot timer.
 *
 * xAPIC registers are memory-mapped (one window, mapped by the boot CPU, serves every
 * CPU since each sees its own LAPIC at the same address); when CPUID says the CPU has
 * an x2APIC (or the firmware already switched it on) the same registers are MSRs
 * 0x800 + offset/16, and the ICR is one 64-bit MSR with the destination in the top
 * half. The mode is chosen once, on the boot CPU, and every AP follows it.
 *
 * The timer is one-shot: kernel/timer.c arms it for the next thing a CPU must do. In
 * TSC-deadline mode (CPUID.1:ECX[24]) the deadline is a TSC value written to an MSR, so
 * there is nothing to convert or calibrate and no rounding; the mode is chosen only if
 * a probe on the boot CPU sees an armed deadline raise the interrupt, since a nested
 * hypervisor may advertise it and not deliver (or fault on the MSR). Otherwise the
 * timer counts down from an initial count at a rate measured once against the TSC,
 * which time_init calibrated against the HPET (or the PIT): the TSC is the most precise
 * reference we have and costs nothing to read, so 2 ms is plenty. TCG has no
 * TSC-deadline mode; KVM has. */
#include "drivers/lapic.h"

#include <errno.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "drivers/acpi.h"
#include "drivers/pic.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/selftest.h"
#include "kernel/time.h"
#include "kernel/vmm.h"

#define LAPIC_MMIO_SIZE 4096
#define REG_ID 0x020
#define REG_TPR 0x080
#define REG_EOI 0x0b0
#define REG_SVR 0x0f0
#define REG_ESR 0x280
#define REG_IRR 0x200 /* 8 registers of 32 bits, 0x10 apart */
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT_TIMER 0x320
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3e0

#define X2APIC_MSR_BASE 0x800
#define X2APIC_MSR_ICR 0x830
#define APIC_BASE_X2APIC (1UL << 10)
#define APIC_BASE_ENABLE (1UL << 11)
#define CPUID1_ECX_X2APIC (1u << 21)
#define XAPIC_ID_SHIFT 24

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define PROBE_DELAY_NS 20000UL	 /* the probe's deadline, from now */
#define PROBE_WAIT_NS 20000000UL /* how long the probe waits for it to fire */
#define TIMER_DIV_16 0x3
#define TIMER_MAX_COUNT 0xffffffffu
#define TIMER_CALIB_US 2000

#define ICR_FIXED (0u << 8)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_PENDING (1u << 12)
#define ICR_ASSERT (1u << 14)
#define ICR_ALL_BUT_SELF (3u << 18)
#define ICR_SPIN_LIMIT 1000000 /* a stuck delivery bit must not hang a panic */

#define NS_PER_SEC 1000000000UL

static volatile uint32_t *mmio;
static int x2;
static uint64_t timer_rate; /* timer ticks per second at divide-by-16 */
static int tsc_deadline;    /* the timer runs in TSC-deadline mode (all CPUs alike) */

static uint32_t rd(unsigned reg)
{
	if (x2)
		return (uint32_t)rdmsr(X2APIC_MSR_BASE + (reg >> 4));
	return mmio[reg / 4];
}

static void wr(unsigned reg, uint32_t v)
{
	if (x2)
		wrmsr(X2APIC_MSR_BASE + (reg >> 4), v);
	else
		mmio[reg / 4] = v;
}

uint32_t lapic_id_cpuid(void)
{
	uint32_t a, b, c, d, max;
	cpuid(0, 0, &max, &b, &c, &d);
	if (max >= 0xb) {
		cpuid(0xb, 0, &a, &b, &c, &d);
		if (b != 0) /* leaf 0xB present: EDX is the full x2APIC id */
			return d;
	}
	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

uint32_t lapic_id(void) { return x2 ? rd(REG_ID) : rd(REG_ID) >> XAPIC_ID_SHIFT; }

void lapic_eoi(void) { wr(REG_EOI, 0); }

/* Several handlers may share one interrupt (PCI INTx lines); each calls irq_eoi, but only
 * the first may signal it, or a second EOI would retire another interrupt in service. */
void irq_eoi(void)
{
	struct cpu *c = this_cpu();
	if (c->eoi_pending) {
		c->eoi_pending = false;
		lapic_eoi();
	}
}

static void choose_mode(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	x2 = (c & CPUID1_ECX_X2APIC) || (rdmsr(MSR_APIC_BASE) & APIC_BASE_X2APIC);
	if (x2) {
		kdebug("lapic: x2apic mode");
		return;
	}
	uint64_t phys = acpi.lapic_addr ? acpi.lapic_addr : rdmsr(MSR_APIC_BASE) & ~0xfffUL;
	mmio = vmm_map_mmio(phys, LAPIC_MMIO_SIZE);
	if (!mmio)
		panic("lapic: cannot map the local APIC at 0x%lx", phys);
	kdebug("lapic: xapic mode at 0x%lx", phys);
}

void lapic_init_cpu(void)
{
	int boot = this_cpu()->id == 0;
	if (boot) {
		pic_disable();
		choose_mode();
	}
	/* xAPIC first, then x2APIC: disabled -> x2APIC directly is an invalid transition. */
	uint64_t base = rdmsr(MSR_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	base |= APIC_BASE_ENABLE;
	if (x2 && !(base & APIC_BASE_X2APIC))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);

	wr(REG_TPR, 0);
	wr(REG_LVT_TIMER, LVT_MASKED);
	wr(REG_LVT_ERROR, LVT_MASKED);
	wr(REG_ESR, 0); /* clear errors: write, then the read-back is defined */
	wr(REG_ESR, 0);
	wr(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
	lapic_eoi(); /* drop anything the firmware left in service */

	uint32_t id = lapic_id();
	if (id != this_cpu()->apic_id)
		kwarn("lapic: cpu %d has apic id %u, the MADT said %u", this_cpu()->id, id,
		      this_cpu()->apic_id);
	this_cpu()->apic_id = id;
}

static void icr(uint32_t dest, uint32_t lo)
{
	uint64_t f = irq_save();
	if (x2) {
		/* WRMSR to the x2APIC is not serializing: order earlier stores first. */
		__asm__ volatile("mfence; lfence" ::: "memory");
		wrmsr(X2APIC_MSR_ICR, ((uint64_t)dest << 32) | lo);
	} else {
		for (int i = 0; i < ICR_SPIN_LIMIT && (rd(REG_ICR_LO) & ICR_PENDING); i++)
			cpu_relax();
		wr(REG_ICR_HI, dest << XAPIC_ID_SHIFT);
		wr(REG_ICR_LO, lo);
		for (int i = 0; i < ICR_SPIN_LIMIT && (rd(REG_ICR_LO) & ICR_PENDING); i++)
			cpu_relax();
	}
	irq_restore(f);
}

void lapic_send_ipi(uint32_t apic_id, int vector) { icr(apic_id, ICR_FIXED | (uint8_t)vector); }

void lapic_send_nmi_all_others(void) { icr(0, ICR_NMI | ICR_ASSERT | ICR_ALL_BUT_SELF); }

void lapic_send_init(uint32_t apic_id) { icr(apic_id, ICR_INIT | ICR_ASSERT); }

void lapic_send_sipi(uint32_t apic_id, uint8_t page)
{
	icr(apic_id, ICR_STARTUP | ICR_ASSERT | page);
}

static void calibrate(void)
{
	uint64_t f = irq_save();
	wr(REG_TIMER_DIV, TIMER_DIV_16);
	wr(REG_LVT_TIMER, LVT_MASKED);
	uint64_t t0 = rdtsc();
	wr(REG_TIMER_INIT, TIMER_MAX_COUNT);
	udelay(TIMER_CALIB_US);
	uint32_t left = rd(REG_TIMER_CUR);
	uint64_t ns = tsc_to_ns(rdtsc() - t0);
	wr(REG_TIMER_INIT, 0);
	irq_restore(f);
	if (ns == 0 || left == TIMER_MAX_COUNT)
		panic("lapic: the timer does not count");
	timer_rate = (uint64_t)(TIMER_MAX_COUNT - left) * NS_PER_SEC / ns;
	kdebug("lapic: timer %lu kHz (divide by 16)", timer_rate / 1000);
}

static bool irr_set(int vector)
{
	return rd(REG_IRR + (unsigned)(vector / 32) * 0x10) & (1u << (vector % 32));
}

static void arm_probe(void *arg)
{
	(void)arg;
	wrmsr(MSR_TSC_DEADLINE, time_ns_to_tsc(time_ns() + PROBE_DELAY_NS));
}

/* Does an armed TSC deadline raise `vector`? Called with interrupts off: the interrupt
 * stays pending and is taken (as a timer interrupt with nothing due) once they are on. */
static bool probe_tsc_deadline(int vector)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID1_ECX_TSC_DEADLINE))
		return false;
	wr(REG_LVT_TIMER, LVT_TSC_DEADLINE | (uint8_t)vector);
	__asm__ volatile("mfence" ::: "memory"); /* the mode is set before the MSR is written */
	if (trap_catch(arm_probe, NULL) >= 0) {
		kwarn("lapic: the TSC-deadline MSR faults; using the one-shot count");
		return false;
	}
	uint64_t t0 = time_ns();
	while (!irr_set(vector) && time_ns() - t0 < PROBE_WAIT_NS)
		cpu_relax();
	if (irr_set(vector))
		return true;
	wrmsr(MSR_TSC_DEADLINE, 0);
	kwarn("lapic: an armed TSC deadline did not fire; using the one-shot count");
	return false;
}

void lapic_timer_init(int vector)
{
	uint64_t f = irq_save();
	if (!timer_rate) { /* the boot CPU calls first, before any AP runs */
		calibrate();
		tsc_deadline = probe_tsc_deadline(vector);
		kinfo("lapic: timer in %s mode", lapic_timer_mode());
	}
	wr(REG_TIMER_DIV, TIMER_DIV_16);
	wr(REG_TIMER_INIT, 0);
	wr(REG_LVT_TIMER, (tsc_deadline ? LVT_TSC_DEADLINE : 0) | (uint8_t)vector);
	__asm__ volatile("mfence" ::: "memory");
	irq_restore(f);
}

void lapic_timer_arm(uint64_t deadline_ns, uint64_t now_ns)
{
	if (tsc_deadline) {
		wrmsr(MSR_TSC_DEADLINE, time_ns_to_tsc(deadline_ns)); /* never 0 (= disarm) */
		return;
	}
	/* Clamped to 4.29 s so the product cannot overflow; firing early is harmless. */
	uint64_t delta = deadline_ns > now_ns ? deadline_ns - now_ns : 0;
	if (delta > TIMER_MAX_COUNT)
		delta = TIMER_MAX_COUNT;
	uint64_t count = (delta * timer_rate + NS_PER_SEC - 1) / NS_PER_SEC;
	if (count == 0)
		count = 1;
	if (count > TIMER_MAX_COUNT)
		count = TIMER_MAX_COUNT;
	wr(REG_TIMER_INIT, (uint32_t)count);
}

const char *lapic_timer_mode(void) { return tsc_deadline ? "tsc-deadline" : "one-shot"; }

SELFTEST(lapic_basics)
{
	uint64_t f = irq_save(); /* stay on one CPU while comparing */
	int same = lapic_id() == this_cpu()->apic_id && lapic_id() == lapic_id_cpuid();
	irq_restore(f);
	CHECK(same);
	CHECK(rd(REG_SVR) & SVR_ENABLE);
	CHECK((rd(REG_SVR) & 0xff) == VEC_SPURIOUS);
	CHECK(timer_rate > 0);
	/* the timer is armed (kernel/timer.c keeps it so) and, in count mode, counts down */
	f = irq_save();
	uint32_t lvt = rd(REG_LVT_TIMER), a = rd(REG_TIMER_CUR);
	udelay(100);
	uint32_t b = rd(REG_TIMER_CUR);
	irq_restore(f);
	CHECK(!(lvt & LVT_MASKED) && (lvt & 0xff) == VEC_TIMER);
	CHECK(tsc_deadline ? (lvt & LVT_TSC_DEADLINE) : !(lvt & LVT_TSC_DEADLINE));
	if (!tsc_deadline)
		CHECK(a != b || a == 0); /* 0: it fired meanwhile, pending until irq_restore */
	return 0;
}
