/* lapic.c: the local APIC of each CPU: enable, EOI, IPIs and the periodic timer.
 *
 * xAPIC registers are memory-mapped (one window, mapped by the boot CPU, serves every
 * CPU since each sees its own LAPIC at the same address); when CPUID says the CPU has
 * an x2APIC (or the firmware already switched it on) the same registers are MSRs
 * 0x800 + offset/16, and the ICR is one 64-bit MSR with the destination in the top
 * half. The mode is chosen once, on the boot CPU, and every AP follows it.
 *
 * The timer's rate is measured once against the TSC, which time_init calibrated
 * against the HPET (or the PIT): the TSC is the most precise reference we have and
 * costs nothing to read, so 2 ms is plenty. */
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
#define LVT_PERIODIC (1u << 17)
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

void lapic_timer_start(uint32_t hz, int vector)
{
	if (!timer_rate) /* the boot CPU calls first, before any AP runs */
		calibrate();
	if (hz == 0)
		hz = 1;
	uint64_t count = timer_rate / hz;
	if (count == 0)
		count = 1;
	if (count > TIMER_MAX_COUNT)
		count = TIMER_MAX_COUNT;
	wr(REG_TIMER_DIV, TIMER_DIV_16);
	wr(REG_LVT_TIMER, LVT_PERIODIC | (uint8_t)vector);
	wr(REG_TIMER_INIT, (uint32_t)count);
}

SELFTEST(lapic_basics)
{
	uint64_t f = irq_save(); /* stay on one CPU while comparing */
	int same = lapic_id() == this_cpu()->apic_id && lapic_id() == lapic_id_cpuid();
	irq_restore(f);
	CHECK(same);
	CHECK(rd(REG_SVR) & SVR_ENABLE);
	CHECK((rd(REG_SVR) & 0xff) == VEC_SPURIOUS);
	CHECK(timer_rate > 0);
	/* the timer counts down */
	uint32_t a = rd(REG_TIMER_CUR);
	udelay(100);
	uint32_t b = rd(REG_TIMER_CUR);
	CHECK(a != b);
	return 0;
}
