/* ioapic.c: routing interrupt lines (GSIs) through the IOAPICs the MADT lists.
 *
 * Each IOAPIC is two registers: an index (IOREGSEL) and a window (IOWIN); the 64-bit
 * redirection entry of pin n is at indexes 0x10 + 2n (low) and 0x11 + 2n (high). The
 * index/window pair is a critical section, hence the lock. On first use every pin of
 * every IOAPIC is masked, so only what a driver routes can interrupt. ISA IRQs go
 * through the MADT's interrupt source overrides, which may move them to another GSI
 * and change their polarity and trigger mode (ISA's own: edge, active high). */
#include <errno.h>
#include <stdbool.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "drivers/pit.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/selftest.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/vmm.h"

#define IOAPIC_MMIO_SIZE 0x20
#define IOREGSEL 0
#define IOWIN 4 /* in 32-bit words: byte offset 0x10 */
#define IOAPIC_VER 0x01
#define IOAPIC_REDTBL 0x10
#define VER_MAX_REDIR_SHIFT 16
#define RED_MASKED (1u << 16)
#define RED_LEVEL (1u << 15)
#define RED_ACTIVE_LOW (1u << 13)
#define RED_DEST_SHIFT 24
#define MAX_XAPIC_DEST 0xff

struct ioapic {
	volatile uint32_t *regs;
	uint32_t gsi_base, npins;
};

static struct ioapic io[ACPI_MAX_IOAPICS];
static int nio;
static bool ready;
static struct spinlock lock = SPINLOCK_INIT("ioapic");

static uint32_t rd(struct ioapic *a, uint32_t reg)
{
	a->regs[IOREGSEL] = reg;
	return a->regs[IOWIN];
}

static void wr(struct ioapic *a, uint32_t reg, uint32_t v)
{
	a->regs[IOREGSEL] = reg;
	a->regs[IOWIN] = v;
}

static void setup(void) /* lock held */
{
	ready = true;
	for (int i = 0; i < acpi.nioapic; i++) {
		struct ioapic *a = &io[nio];
		a->regs = vmm_map_mmio(acpi.ioapics[i].addr, IOAPIC_MMIO_SIZE);
		if (!a->regs) {
			kwarn("ioapic: cannot map 0x%lx", acpi.ioapics[i].addr);
			continue;
		}
		a->gsi_base = acpi.ioapics[i].gsi_base;
		a->npins = ((rd(a, IOAPIC_VER) >> VER_MAX_REDIR_SHIFT) & 0xff) + 1;
		for (uint32_t p = 0; p < a->npins; p++) {
			wr(a, IOAPIC_REDTBL + 2 * p, RED_MASKED);
			wr(a, IOAPIC_REDTBL + 2 * p + 1, 0);
		}
		nio++;
	}
}

int ioapic_route_gsi(uint32_t gsi, int vector, uint32_t apic_id, int level, int active_low)
{
	if (vector < VEC_IRQ_BASE || vector > 0xff || apic_id > MAX_XAPIC_DEST)
		return -EINVAL;
	spin_lock(&lock);
	if (!ready)
		setup();
	int err = -ENODEV;
	for (int i = 0; i < nio; i++) {
		struct ioapic *a = &io[i];
		if (gsi < a->gsi_base || gsi - a->gsi_base >= a->npins)
			continue;
		uint32_t pin = gsi - a->gsi_base;
		uint32_t lo = (uint8_t)vector | (level ? RED_LEVEL : 0) |
			      (active_low ? RED_ACTIVE_LOW : 0);
		wr(a, IOAPIC_REDTBL + 2 * pin, RED_MASKED);
		wr(a, IOAPIC_REDTBL + 2 * pin + 1, apic_id << RED_DEST_SHIFT);
		wr(a, IOAPIC_REDTBL + 2 * pin, lo);
		err = 0;
		break;
	}
	spin_unlock(&lock);
	return err;
}

int ioapic_route_isa(uint8_t irq, int vector, uint32_t apic_id)
{
	uint32_t gsi = irq;
	int level = 0, low = 0;
	for (int i = 0; i < acpi.noverride; i++) {
		const struct acpi_override *o = &acpi.overrides[i];
		if (o->irq != irq)
			continue;
		gsi = o->gsi;
		low = INTI_POLARITY(o->flags) == INTI_ACTIVE_LOW;
		level = INTI_TRIGGER(o->flags) == INTI_LEVEL;
	}
	return ioapic_route_gsi(gsi, vector, apic_id, level, low);
}

static volatile int test_hits;

static void test_irq(struct trapframe *tf)
{
	test_hits++;
	lapic_eoi();
}

SELFTEST(ioapic_route)
{
	/* A real interrupt through the IOAPIC: PIT channel 0 fires once on ISA IRQ 0
	 * (GSI 2 behind QEMU's override). */
	CHECK(ioapic_route_gsi(0xffffff, VEC_IRQ_BASE, 0, 0, 0) == -ENODEV);
	CHECK(ioapic_route_isa(0, 1, 0) == -EINVAL);
	static int vector = -1;
	if (vector < 0)
		vector = trap_alloc_vector();
	CHECK(vector > 0);
	trap_register(vector, test_irq);
	test_hits = 0;
	uint64_t f = irq_save();
	uint32_t me = lapic_id();
	pit_irq0_oneshot(PIT_MAX_US); /* OUT0 low and quiet while the route is set */
	int err = ioapic_route_isa(0, vector, me);
	pit_irq0_oneshot(1000);
	irq_enable(); /* the handler runs on this CPU: keep it here, interruptible */
	uint64_t t0 = time_ns();
	while (!test_hits && time_ns() - t0 < 100000000UL)
		cpu_relax();
	irq_disable();
	irq_restore(f);
	CHECK(err == 0);
	CHECK(test_hits == 1);
	return 0;
}
