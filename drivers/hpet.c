/* hpet.c: the HPET main counter as a reference clock (IA-PC HPET spec 1.0a, 2.3). */
#include "drivers/hpet.h"

#include <errno.h>

#include "drivers/acpi.h"
#include "kernel/log.h"
#include "kernel/vmm.h"

#define HPET_MMIO_SIZE 1024
#define HPET_CAP 0x000 /* general capabilities and id */
#define HPET_CONFIG 0x010
#define HPET_COUNTER 0x0f0
#define HPET_CAP_PERIOD_SHIFT 32 /* counter period in femtoseconds, bits 63:32 */
#define HPET_CAP_COUNT_64 (1UL << 13)
#define HPET_CONFIG_ENABLE 1UL
#define HPET_MAX_PERIOD_FS 100000000UL /* the spec's upper bound: 100 ns */
#define FS_PER_NS 1000000UL

static volatile uint64_t *regs;
static uint64_t period_fs;
static int counter64;

static uint64_t rd(unsigned off) { return regs[off / 8]; }
static void wr(unsigned off, uint64_t v) { regs[off / 8] = v; }

int hpet_init(void)
{
	if (regs)
		return 0;
	if (!acpi.hpet_addr)
		return -ENODEV;
	volatile uint64_t *r = vmm_map_mmio(acpi.hpet_addr, HPET_MMIO_SIZE);
	if (!r)
		return -ENOMEM;
	uint64_t cap = r[HPET_CAP / 8];
	uint64_t p = cap >> HPET_CAP_PERIOD_SHIFT;
	if (p == 0 || p > HPET_MAX_PERIOD_FS) {
		kwarn("hpet: period %lu fs out of range; not used", p);
		return -ENODEV;
	}
	period_fs = p;
	counter64 = !!(cap & HPET_CAP_COUNT_64);
	regs = r;
	if (!(rd(HPET_CONFIG) & HPET_CONFIG_ENABLE))
		wr(HPET_CONFIG, rd(HPET_CONFIG) | HPET_CONFIG_ENABLE);
	kdebug("hpet: %lu.%03lu MHz, %d-bit counter", 1000000000UL / period_fs,
	       (1000000000000UL / period_fs) % 1000, counter64 ? 64 : 32);
	return 0;
}

int hpet_present(void) { return regs != 0; }

uint64_t hpet_read(void)
{
	if (counter64)
		return rd(HPET_COUNTER);
	return (uint32_t)rd(HPET_COUNTER);
}

uint64_t hpet_ticks_since(uint64_t then)
{
	uint64_t d = hpet_read() - then;
	return counter64 ? d : (uint32_t)d;
}

uint64_t hpet_ticks_to_ns(uint64_t ticks)
{
	/* period = whole ns + a remainder in fs; the remainder term overflows only after
	 * 2^64 / 10^6 ticks (days at any HPET rate). */
	return ticks * (period_fs / FS_PER_NS) + ticks * (period_fs % FS_PER_NS) / FS_PER_NS;
}
