/* pci.c: PCI configuration space access, enumeration, BARs and interrupt setup.
 *
 * Configuration space comes through ECAM when the ACPI MCFG table lists a window for
 * the bus (4 KiB per function, 1 MiB per bus), else through the legacy 0xcf8/0xcfc
 * port pair (segment 0 only, first 256 bytes only). ECAM windows are mapped lazily, one
 * bus at a time, and only for buses the scan reaches: a QEMU machine maps one bus.
 *
 * Enumeration starts at the first bus of every MCFG window (bus 0 without MCFG) and
 * follows PCI-to-PCI bridges to their secondary buses, as the firmware numbered them.
 * Each function present is recorded once, with its BARs sized (decoding off while
 * all-ones is written, then restored) and its legacy interrupt pin and line. BARs that
 * minimal firmware (qboot) left unassigned get addresses here (see assign_bars).
 *
 * Interrupts prefer MSI-X, then MSI, both aimed at the boot CPU's LAPIC with fixed
 * delivery and edge trigger. The INTx fallback cannot read the ACPI _PRT (that needs an
 * AML interpreter), so it trusts the line the firmware wrote into the interrupt-line
 * register and treats it as a GSI: an MADT override for that IRQ supplies the GSI,
 * polarity and trigger; otherwise PCI's own level-triggered, active-low is used. That
 * is right on QEMU's pc machine and on most PCs that run SeaBIOS-like firmware; it can
 * be wrong on machines whose _PRT routes PCI to IOAPIC pins 16 and up. Several devices
 * may share a line: one vector per GSI calls every handler on it, and each handler
 * checks its own device (so the LAPIC may see more than one EOI for one interrupt,
 * which is harmless since device handlers run with interrupts off and do not nest). */
#include "drivers/pci.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "arch/cpu.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "kernel/bootinfo.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/vmm.h"

/* Configuration header offsets */
#define CFG_VENDOR 0x00
#define CFG_DEVICE 0x02
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_REVISION 0x08
#define CFG_PROG_IF 0x09
#define CFG_SUBCLASS 0x0a
#define CFG_CLASS 0x0b
#define CFG_HEADER_TYPE 0x0e
#define CFG_BAR0 0x10
#define CFG_SECONDARY_BUS 0x19 /* type 1 (bridge) header */
#define CFG_SUBSYS_VENDOR 0x2c
#define CFG_SUBSYS_ID 0x2e
#define CFG_CAP_PTR 0x34
#define CFG_IRQ_LINE 0x3c
#define CFG_IRQ_PIN 0x3d

#define CMD_IO (1u << 0)
#define CMD_MEM (1u << 1)
#define CMD_MASTER (1u << 2)
#define CMD_INTX_DISABLE (1u << 10)
#define STATUS_CAP_LIST (1u << 4)

#define HDR_TYPE_MASK 0x7f
#define HDR_MULTIFUNCTION 0x80
#define HDR_BRIDGE 1
#define BARS_TYPE0 6
#define BARS_BRIDGE 2

#define BAR_IO 1u
#define BAR_IO_MASK (~3u)
#define BAR_MEM_MASK (~0xfu)
#define BAR_TYPE(v) (((v) >> 1) & 3)
#define BAR_TYPE_64 2
#define BAR_PREFETCH (1u << 3)
#define IO_SPACE_MASK 0xffffu

#define NO_DEVICE 0xffff
#define NO_IRQ_LINE 0xff
#define DEVS_PER_BUS 32
#define FNS_PER_DEV 8
#define NBUS 256
#define CFG_SIZE 4096
#define LEGACY_CFG_SIZE 256
#define ECAM_BUS_SIZE (DEVS_PER_BUS * FNS_PER_DEV * CFG_SIZE)
#define ECAM_OFFSET(dev, fn) (((uint32_t)(dev) << 15) | ((uint32_t)(fn) << 12))
#define CAP_WALK_MAX 48 /* 256 bytes hold at most 48 capabilities: bounds a looped list */

/* Legacy configuration mechanism #1 */
#define PORT_ADDR 0xcf8
#define PORT_DATA 0xcfc
#define ADDR_ENABLE (1u << 31)

/* MSI-X capability */
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_TSIZE_MASK 0x7ff
#define MSIX_FUNC_MASK (1u << 14)
#define MSIX_ENABLE (1u << 15)
#define MSIX_BIR_MASK 7u
#define MSIX_ENTRY_SIZE 16
#define MSIX_ADDR_LO 0
#define MSIX_ADDR_HI 4
#define MSIX_DATA 8
#define MSIX_VCTRL 12
#define MSIX_VCTRL_MASKED 1u

/* MSI capability */
#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA_32 8
#define MSI_DATA_64 12
#define MSI_ENABLE (1u << 0)
#define MSI_MME_MASK (7u << 4)
#define MSI_64BIT (1u << 7)

/* Message address of fixed, physical-destination delivery to one LAPIC. */
#define MSI_ADDR_BASE 0xfee00000u
#define MSI_DEST_SHIFT 12
#define MSI_MAX_DEST 0xff

#define MAX_ECAM_BUSES 32
#define MAX_INTX_LINES 16
#define MAX_INTX_SHARERS 8
#define MAX_SCAN_DEPTH 32
#define BAR_TEXT_MAX 160

/* Where BARs the firmware left unassigned may go: memory top-down below the fixed
 * platform devices (IOAPIC, HPET, LAPIC from 0xfec00000 up), I/O above the legacy ports. */
#define MMIO_ALLOC_TOP 0xfec00000UL
#define MMIO_ALLOC_MAX_BAR (256UL << 20)
#define IO_ALLOC_FIRST 0xc000UL
#define IO_ALLOC_END 0x10000UL
#define LOW_MEMORY_FLOOR (1UL << 20)
#define FOUR_GIB (1UL << 32)

struct ecam_bus {
	uint16_t segment;
	uint8_t bus;
	uint8_t *base;
};

struct intx_line {
	uint32_t gsi;
	int vector;
	trap_handler h[MAX_INTX_SHARERS];
	int nh;
};

extern const struct pci_driver __pci_drivers_start[], __pci_drivers_end[];

static struct pci_dev devs[PCI_MAX_DEVICES];
static int ndev;
static bool dropped; /* more functions than PCI_MAX_DEVICES */
static void *bar_va[PCI_MAX_DEVICES][6];
static struct ecam_bus ecam_buses[MAX_ECAM_BUSES];
static int necam;
static uint8_t visited[ACPI_MAX_MCFG + 1][NBUS / 8];
static struct intx_line intx[MAX_INTX_LINES];
static int nintx;
static struct spinlock port_lock = SPINLOCK_INIT("pci-ports");
static struct spinlock irq_lock = SPINLOCK_INIT("pci-irq");

/* ---- configuration space ---- */

static int mcfg_index(uint16_t segment, uint8_t bus)
{
	for (int i = 0; i < acpi.nmcfg; i++) {
		const struct acpi_mcfg *m = &acpi.mcfg[i];
		if (m->segment == segment && bus >= m->bus_start && bus <= m->bus_end)
			return i;
	}
	return -1;
}

/* The ECAM window of a whole bus, mapped on first use; NULL without MCFG for it. */
static uint8_t *ecam_bus_base(uint16_t segment, uint8_t bus)
{
	for (int i = 0; i < necam; i++)
		if (ecam_buses[i].segment == segment && ecam_buses[i].bus == bus)
			return ecam_buses[i].base;
	int m = mcfg_index(segment, bus);
	if (m < 0 || necam == MAX_ECAM_BUSES)
		return NULL;
	const struct acpi_mcfg *w = &acpi.mcfg[m];
	uint64_t phys = w->base + (uint64_t)(bus - w->bus_start) * ECAM_BUS_SIZE;
	uint8_t *va = vmm_map_mmio(phys, ECAM_BUS_SIZE);
	if (!va) {
		kwarn("pci: cannot map the ECAM window of bus %04x:%02x", segment, bus);
		return NULL;
	}
	ecam_buses[necam++] = (struct ecam_bus){segment, bus, va};
	return va;
}

static uint32_t port_addr(struct pci_dev *d, uint16_t off)
{
	return ADDR_ENABLE | (uint32_t)d->bus << 16 | (uint32_t)d->dev << 11 |
	       (uint32_t)d->fn << 8 | (off & 0xfc);
}

/* Port I/O reaches segment 0's first 256 bytes only; beyond, reads are all-ones. */
static bool port_ok(struct pci_dev *d, uint16_t off, int width)
{
	return d->segment == 0 && off + width <= LEGACY_CFG_SIZE;
}

uint32_t pci_read32(struct pci_dev *d, uint16_t off)
{
	if (d->ecam)
		return *(volatile uint32_t *)((uint8_t *)d->ecam + (off & ~3u));
	if (!port_ok(d, off, 4))
		return 0xffffffff;
	spin_lock(&port_lock);
	outl(PORT_ADDR, port_addr(d, off));
	uint32_t v = inl(PORT_DATA);
	spin_unlock(&port_lock);
	return v;
}

uint16_t pci_read16(struct pci_dev *d, uint16_t off)
{
	if (d->ecam)
		return *(volatile uint16_t *)((uint8_t *)d->ecam + (off & ~1u));
	if (!port_ok(d, off, 2))
		return 0xffff;
	spin_lock(&port_lock);
	outl(PORT_ADDR, port_addr(d, off));
	uint16_t v = inw(PORT_DATA + (off & 2));
	spin_unlock(&port_lock);
	return v;
}

uint8_t pci_read8(struct pci_dev *d, uint16_t off)
{
	if (d->ecam)
		return *(volatile uint8_t *)((uint8_t *)d->ecam + off);
	if (!port_ok(d, off, 1))
		return 0xff;
	spin_lock(&port_lock);
	outl(PORT_ADDR, port_addr(d, off));
	uint8_t v = inb(PORT_DATA + (off & 3));
	spin_unlock(&port_lock);
	return v;
}

void pci_write32(struct pci_dev *d, uint16_t off, uint32_t v)
{
	if (d->ecam) {
		*(volatile uint32_t *)((uint8_t *)d->ecam + (off & ~3u)) = v;
		return;
	}
	if (!port_ok(d, off, 4))
		return;
	spin_lock(&port_lock);
	outl(PORT_ADDR, port_addr(d, off));
	outl(PORT_DATA, v);
	spin_unlock(&port_lock);
}

void pci_write16(struct pci_dev *d, uint16_t off, uint16_t v)
{
	if (d->ecam) {
		*(volatile uint16_t *)((uint8_t *)d->ecam + (off & ~1u)) = v;
		return;
	}
	if (!port_ok(d, off, 2))
		return;
	spin_lock(&port_lock);
	outl(PORT_ADDR, port_addr(d, off));
	outw(PORT_DATA + (off & 2), v);
	spin_unlock(&port_lock);
}

void pci_write8(struct pci_dev *d, uint16_t off, uint8_t v)
{
	if (d->ecam) {
		*(volatile uint8_t *)((uint8_t *)d->ecam + off) = v;
		return;
	}
	if (!port_ok(d, off, 1))
		return;
	spin_lock(&port_lock);
	outl(PORT_ADDR, port_addr(d, off));
	outb(PORT_DATA + (off & 3), v);
	spin_unlock(&port_lock);
}

/* ---- enumeration ---- */

/* Size one BAR; returns how many BAR slots it used (2 for a 64-bit memory BAR). */
static int size_bar(struct pci_dev *d, int i, int nbars)
{
	uint16_t off = CFG_BAR0 + 4 * i;
	uint32_t lo = pci_read32(d, off);
	struct pci_bar *b = &d->bar[i];
	memset(b, 0, sizeof *b);
	if (lo & BAR_IO) {
		pci_write32(d, off, 0xffffffff);
		uint32_t mask = pci_read32(d, off) & BAR_IO_MASK & IO_SPACE_MASK;
		pci_write32(d, off, lo);
		if (mask) {
			b->io = true;
			b->addr = lo & BAR_IO_MASK;
			b->size = (~mask & IO_SPACE_MASK) + 1;
		}
		return 1;
	}
	bool is64 = BAR_TYPE(lo) == BAR_TYPE_64 && i + 1 < nbars;
	uint32_t hi = is64 ? pci_read32(d, off + 4) : 0;
	pci_write32(d, off, 0xffffffff);
	uint64_t mask = pci_read32(d, off) & BAR_MEM_MASK;
	pci_write32(d, off, lo);
	if (is64) {
		pci_write32(d, off + 4, 0xffffffff);
		mask |= (uint64_t)pci_read32(d, off + 4) << 32;
		pci_write32(d, off + 4, hi);
	} else {
		mask |= 0xffffffff00000000UL; /* a 32-bit BAR's size fits in 32 bits */
	}
	if ((uint32_t)mask) {
		b->addr = ((uint64_t)hi << 32) | (lo & BAR_MEM_MASK);
		b->size = ~mask + 1;
		b->mem64 = is64;
		b->prefetch = lo & BAR_PREFETCH;
	}
	return is64 ? 2 : 1;
}

static void size_bars(struct pci_dev *d, int nbars)
{
	/* Decoding stays off while a BAR holds all-ones, so that the probe value never
	 * claims an address range another device owns. */
	uint16_t cmd = pci_read16(d, CFG_COMMAND);
	pci_write16(d, CFG_COMMAND, cmd & ~(CMD_IO | CMD_MEM));
	for (int i = 0; i < nbars;)
		i += size_bar(d, i, nbars);
	pci_write16(d, CFG_COMMAND, cmd);
}

static const char *class_name(uint8_t cls)
{
	static const char *const names[] = {
		"legacy",     "storage",  "network",	 "display",   "multimedia", "memory",
		"bridge",     "comm",	  "system",	 "input",     "docking",    "processor",
		"serial-bus", "wireless", "intelligent", "satellite", "crypto",	    "signal",
	};
	return cls < sizeof names / sizeof names[0] ? names[cls] : "other";
}

/* " bar0 io 0xc000/0x20 bar4 mem64 0xfe000000/0x4000 ..." for the device's log line. */
static void bar_text(const struct pci_dev *d, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = 0;
	for (int i = 0; i < 6 && n < size; i++) {
		const struct pci_bar *b = &d->bar[i];
		if (!b->size)
			continue;
		int w = snprintf(buf + n, size - n, " bar%d %s %#lx/%#lx", i,
				 b->io	    ? "io"
				 : b->mem64 ? "mem64"
					    : "mem",
				 (unsigned long)b->addr, (unsigned long)b->size);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

static void scan_bus(uint16_t segment, uint8_t bus, int depth);

static void add_function(struct pci_dev *probe, int depth)
{
	uint8_t hdr = pci_read8(probe, CFG_HEADER_TYPE) & HDR_TYPE_MASK;
	if (ndev == PCI_MAX_DEVICES) {
		dropped = true;
	} else {
		struct pci_dev *d = &devs[ndev++];
		*d = *probe;
		d->vendor = pci_read16(d, CFG_VENDOR);
		d->device = pci_read16(d, CFG_DEVICE);
		d->revision = pci_read8(d, CFG_REVISION);
		d->prog_if = pci_read8(d, CFG_PROG_IF);
		d->subclass = pci_read8(d, CFG_SUBCLASS);
		d->class_code = pci_read8(d, CFG_CLASS);
		if (hdr == 0) {
			d->subsys_vendor = pci_read16(d, CFG_SUBSYS_VENDOR);
			d->subsys_id = pci_read16(d, CFG_SUBSYS_ID);
		}
		d->irq_line = pci_read8(d, CFG_IRQ_LINE);
		d->irq_pin = pci_read8(d, CFG_IRQ_PIN);
		if (hdr == 0 || hdr == HDR_BRIDGE)
			size_bars(d, hdr == 0 ? BARS_TYPE0 : BARS_BRIDGE);
		char bars[BAR_TEXT_MAX];
		bar_text(d, bars, sizeof bars);
		kdebug("pci: %04x:%02x:%02x.%x %04x:%04x %s %02x.%02x.%02x irq pin %u line %u%s",
		       d->segment, d->bus, d->dev, d->fn, d->vendor, d->device,
		       class_name(d->class_code), d->class_code, d->subclass, d->prog_if,
		       d->irq_pin, d->irq_line, bars);
	}
	if (hdr == HDR_BRIDGE) {
		uint8_t sec = pci_read8(probe, CFG_SECONDARY_BUS);
		if (sec > probe->bus && depth < MAX_SCAN_DEPTH)
			scan_bus(probe->segment, sec, depth + 1);
	}
}

/* The configuration window of one function, mapped or by ports; false when absent. */
static bool locate(struct pci_dev *p, uint16_t segment, uint8_t bus, uint8_t dev, uint8_t fn)
{
	memset(p, 0, sizeof *p);
	p->segment = segment;
	p->bus = bus;
	p->dev = dev;
	p->fn = fn;
	uint8_t *base = ecam_bus_base(segment, bus);
	if (base)
		p->ecam = base + ECAM_OFFSET(dev, fn);
	else if (segment != 0)
		return false;
	return pci_read16(p, CFG_VENDOR) != NO_DEVICE;
}

static void scan_bus(uint16_t segment, uint8_t bus, int depth)
{
	int m = mcfg_index(segment, bus);
	uint8_t *seen = visited[m < 0 ? ACPI_MAX_MCFG : m];
	if (seen[bus / 8] & (1u << (bus % 8)))
		return;
	seen[bus / 8] |= 1u << (bus % 8);

	struct pci_dev p;
	for (uint8_t dev = 0; dev < DEVS_PER_BUS; dev++) {
		if (!locate(&p, segment, bus, dev, 0))
			continue;
		int nfn = pci_read8(&p, CFG_HEADER_TYPE) & HDR_MULTIFUNCTION ? FNS_PER_DEV : 1;
		add_function(&p, depth);
		for (uint8_t fn = 1; fn < nfn; fn++)
			if (locate(&p, segment, bus, dev, fn))
				add_function(&p, depth);
	}
}

/* ---- BARs the firmware did not assign ----
 * SeaBIOS, OVMF and PC firmware assign every BAR; minimal firmware (qboot, the KVM fast
 * path) assigns none and leaves that to the OS. Without the ACPI _CRS (AML) the free
 * window is inferred: memory BARs go top-down from MMIO_ALLOC_TOP, skipping RAM and
 * firmware ranges of the memory map, ECAM windows and BARs already in use; I/O BARs go
 * upwards from IO_ALLOC_FIRST. Only the root bus is served: a bridge would also need its
 * forwarding windows programmed. When the firmware assigned any memory BAR at all, it
 * is trusted to have left the others off on purpose, and nothing is assigned. */

static bool firmware_assigned(void)
{
	for (int i = 0; i < ndev; i++)
		for (int j = 0; j < 6; j++)
			if (devs[i].bar[j].addr && !devs[i].bar[j].io)
				return true;
	return false;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Start of something [addr, addr+size) collides with, or 0 when it is free. */
static uint64_t mem_conflict(uint64_t addr, uint64_t size)
{
	for (int i = 0; i < boot_info.nranges; i++) {
		const struct mem_range *r = &boot_info.ranges[i];
		if (overlaps(addr, size, r->base, r->len))
			return r->base ? r->base : 1;
	}
	for (int i = 0; i < acpi.nmcfg; i++) {
		const struct acpi_mcfg *m = &acpi.mcfg[i];
		uint64_t len = (uint64_t)(m->bus_end - m->bus_start + 1) * ECAM_BUS_SIZE;
		uint64_t base = m->base + (uint64_t)m->bus_start * ECAM_BUS_SIZE;
		if (overlaps(addr, size, base, len))
			return base;
	}
	for (int i = 0; i < ndev; i++)
		for (int j = 0; j < 6; j++) {
			const struct pci_bar *b = &devs[i].bar[j];
			if (b->addr && !b->io && overlaps(addr, size, b->addr, b->size))
				return b->addr;
		}
	return 0;
}

static uint64_t io_conflict(uint64_t addr, uint64_t size)
{
	for (int i = 0; i < ndev; i++)
		for (int j = 0; j < 6; j++) {
			const struct pci_bar *b = &devs[i].bar[j];
			if (b->addr && b->io && overlaps(addr, size, b->addr, b->size))
				return b->addr + b->size;
		}
	return 0;
}

/* Lowest address memory BARs may take: above every RAM-like range below 4 GiB. */
static uint64_t mem_floor(void)
{
	uint64_t floor = LOW_MEMORY_FLOOR;
	for (int i = 0; i < boot_info.nranges; i++) {
		const struct mem_range *r = &boot_info.ranges[i];
		uint64_t end = r->base + r->len;
		if (r->type != MEM_RESERVED && r->base < FOUR_GIB && end > floor)
			floor = end;
	}
	return floor;
}

static uint64_t alloc_mem(uint64_t size)
{
	uint64_t floor = mem_floor(), top = MMIO_ALLOC_TOP;
	while (top >= floor + size) {
		uint64_t addr = (top - size) & ~(size - 1);
		if (addr < floor)
			return 0;
		uint64_t c = mem_conflict(addr, size);
		if (!c)
			return addr;
		top = c;
	}
	return 0;
}

static uint64_t alloc_io(uint64_t size)
{
	uint64_t addr = (IO_ALLOC_FIRST + size - 1) & ~(size - 1);
	while (addr + size <= IO_ALLOC_END) {
		uint64_t c = io_conflict(addr, size);
		if (!c)
			return addr;
		addr = (c + size - 1) & ~(size - 1);
	}
	return 0;
}

static void assign_bars(struct pci_dev *d)
{
	uint8_t hdr = pci_read8(d, CFG_HEADER_TYPE) & HDR_TYPE_MASK;
	for (int i = 0; i < BARS_TYPE0 && hdr == 0; i++) {
		struct pci_bar *b = &d->bar[i];
		if (!b->size || b->addr)
			continue;
		uint16_t off = CFG_BAR0 + 4 * i;
		uint64_t addr = 0;
		if (d->bus != 0)
			kwarn("pci: %02x:%02x.%x bar%d unassigned behind a bridge, left off",
			      d->bus, d->dev, d->fn, i);
		else if (b->io)
			addr = alloc_io(b->size);
		else if (b->size <= MMIO_ALLOC_MAX_BAR)
			addr = alloc_mem(b->size);
		if (!addr) {
			if (d->bus == 0)
				kwarn("pci: %02x:%02x.%x bar%d: no room for %#lx bytes", d->bus,
				      d->dev, d->fn, i, (unsigned long)b->size);
			continue;
		}
		uint32_t flags = pci_read32(d, off) & (b->io ? ~BAR_IO_MASK : ~BAR_MEM_MASK);
		pci_write32(d, off, (uint32_t)addr | flags);
		if (b->mem64)
			pci_write32(d, off + 4, (uint32_t)(addr >> 32));
		b->addr = addr;
		kdebug("pci: %02x:%02x.%x bar%d assigned %#lx/%#lx", d->bus, d->dev, d->fn, i,
		       (unsigned long)addr, (unsigned long)b->size);
	}
}

static bool id_matches(const struct pci_id *id, const struct pci_dev *d)
{
	return id->vendor == d->vendor && (id->device == PCI_ANY_ID || id->device == d->device);
}

static void probe_drivers(struct pci_dev *d)
{
	for (const struct pci_driver *drv = __pci_drivers_start; drv < __pci_drivers_end; drv++) {
		for (const struct pci_id *id = drv->ids; id->vendor || id->device; id++) {
			if (!id_matches(id, d))
				continue;
			int err = drv->probe(d);
			if (err == 0) {
				d->driver = drv->name;
				return;
			}
			kwarn("pci: %s: %04x:%02x:%02x.%x %04x:%04x not taken (error %d)",
			      drv->name, d->segment, d->bus, d->dev, d->fn, d->vendor, d->device,
			      err);
			break;
		}
	}
}

void pci_init(void)
{
	if (acpi.nmcfg > 0) {
		for (int i = 0; i < acpi.nmcfg; i++)
			scan_bus(acpi.mcfg[i].segment, acpi.mcfg[i].bus_start, 0);
	} else {
		scan_bus(0, 0, 0);
	}
	if (dropped)
		kwarn("pci: more than %d functions, the rest are ignored", PCI_MAX_DEVICES);
	kinfo("pci: %d devices (%s)", ndev, acpi.nmcfg > 0 ? "ecam" : "port i/o");
	if (!firmware_assigned()) {
		kinfo("pci: the firmware assigned no BARs; assigning them");
		for (int i = 0; i < ndev; i++)
			assign_bars(&devs[i]);
	}
	/* No NIC found is reported once, by net_init (net/net.h), which runs next. */
	for (int i = 0; i < ndev; i++)
		probe_drivers(&devs[i]);
}

int pci_count(void) { return ndev; }

struct pci_dev *pci_get(int i) { return i >= 0 && i < ndev ? &devs[i] : NULL; }

/* ---- resources ---- */

void pci_enable(struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, CFG_COMMAND);
	pci_write16(d, CFG_COMMAND, cmd | CMD_IO | CMD_MEM | CMD_MASTER);
}

void *pci_map_bar(struct pci_dev *d, int bar)
{
	if (bar < 0 || bar >= 6 || !d->bar[bar].addr || d->bar[bar].io || !d->bar[bar].size)
		return NULL;
	/* Devices in the table map each BAR once, however many users it has. */
	ptrdiff_t idx = d - devs;
	bool known = idx >= 0 && idx < ndev;
	if (known && bar_va[idx][bar])
		return bar_va[idx][bar];
	void *va = vmm_map_mmio(d->bar[bar].addr, d->bar[bar].size);
	if (known)
		bar_va[idx][bar] = va;
	return va;
}

uint8_t pci_find_cap(struct pci_dev *d, uint8_t id, uint8_t from)
{
	if (!(pci_read16(d, CFG_STATUS) & STATUS_CAP_LIST))
		return 0;
	uint8_t off = pci_read8(d, CFG_CAP_PTR) & ~3u;
	bool started = from == 0;
	for (int n = 0; off && n < CAP_WALK_MAX; n++) {
		if (off == from)
			started = true;
		if (started && pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1) & ~3u;
	}
	return 0;
}

/* ---- interrupts ---- */

static uint32_t msi_address(void) { return MSI_ADDR_BASE | cpus[0].apic_id << MSI_DEST_SHIFT; }

static int alloc_vectors(int n, trap_handler h, int vectors[])
{
	for (int i = 0; i < n; i++) {
		vectors[i] = trap_alloc_vector();
		if (vectors[i] < 0)
			return -ENOSPC;
		trap_register(vectors[i], h);
	}
	return 0;
}

static void intx_off(struct pci_dev *d, bool off)
{
	uint16_t cmd = pci_read16(d, CFG_COMMAND);
	pci_write16(d, CFG_COMMAND, off ? cmd | CMD_INTX_DISABLE : cmd & ~CMD_INTX_DISABLE);
}

static int setup_msix(struct pci_dev *d, uint8_t cap, int n, trap_handler h, int vectors[])
{
	uint16_t ctrl = pci_read16(d, cap + MSIX_CTRL);
	int tsize = (ctrl & MSIX_TSIZE_MASK) + 1;
	if (n > tsize)
		return -ENOSPC;
	uint32_t t = pci_read32(d, cap + MSIX_TABLE);
	uint8_t *base = pci_map_bar(d, t & MSIX_BIR_MASK);
	if (!base)
		return -ENOMEM;
	volatile uint8_t *table = base + (t & ~MSIX_BIR_MASK);
	int err = alloc_vectors(n, h, vectors);
	if (err < 0)
		return err;
	/* Function-masked while the table is written, so no half-written entry fires. */
	pci_write16(d, cap + MSIX_CTRL, ctrl | MSIX_ENABLE | MSIX_FUNC_MASK);
	for (int i = 0; i < tsize; i++) {
		volatile uint32_t *e = (volatile uint32_t *)(table + i * MSIX_ENTRY_SIZE);
		if (i >= n) {
			e[MSIX_VCTRL / 4] = MSIX_VCTRL_MASKED;
			continue;
		}
		e[MSIX_ADDR_LO / 4] = msi_address();
		e[MSIX_ADDR_HI / 4] = 0;
		e[MSIX_DATA / 4] = (uint32_t)vectors[i];
		e[MSIX_VCTRL / 4] = 0;
	}
	intx_off(d, true);
	pci_write16(d, cap + MSIX_CTRL, (ctrl | MSIX_ENABLE) & ~MSIX_FUNC_MASK);
	return PCI_IRQ_MSIX;
}

static int setup_msi(struct pci_dev *d, uint8_t cap, trap_handler h, int vectors[])
{
	uint16_t ctrl = pci_read16(d, cap + MSI_CTRL);
	int err = alloc_vectors(1, h, vectors);
	if (err < 0)
		return err;
	pci_write32(d, cap + MSI_ADDR_LO, msi_address());
	if (ctrl & MSI_64BIT) {
		pci_write32(d, cap + MSI_ADDR_HI, 0);
		pci_write16(d, cap + MSI_DATA_64, (uint16_t)vectors[0]);
	} else {
		pci_write16(d, cap + MSI_DATA_32, (uint16_t)vectors[0]);
	}
	intx_off(d, true);
	pci_write16(d, cap + MSI_CTRL, (ctrl & ~MSI_MME_MASK) | MSI_ENABLE);
	return PCI_IRQ_MSI;
}

static void intx_dispatch(struct trapframe *tf)
{
	for (int i = 0; i < nintx; i++) {
		if (intx[i].vector != (int)tf->vector)
			continue;
		for (int j = 0; j < intx[i].nh; j++)
			intx[i].h[j](tf);
		return;
	}
	irq_eoi();
}

static int setup_intx(struct pci_dev *d, trap_handler h, int vectors[])
{
	if (d->irq_pin == 0 || d->irq_line == 0 || d->irq_line == NO_IRQ_LINE)
		return -ENODEV;
	uint32_t gsi = d->irq_line;
	int level = 1, low = 1;
	for (int i = 0; i < acpi.noverride; i++) {
		const struct acpi_override *o = &acpi.overrides[i];
		if (o->irq != d->irq_line)
			continue;
		gsi = o->gsi;
		if (INTI_POLARITY(o->flags) == INTI_ACTIVE_HIGH)
			low = 0;
		if (INTI_TRIGGER(o->flags) == INTI_EDGE)
			level = 0;
	}
	int err = 0;
	spin_lock(&irq_lock);
	struct intx_line *l = NULL;
	for (int i = 0; i < nintx; i++)
		if (intx[i].gsi == gsi)
			l = &intx[i];
	if (!l) {
		int v = nintx < MAX_INTX_LINES ? trap_alloc_vector() : -1;
		if (v < 0) {
			err = -ENOSPC;
		} else {
			l = &intx[nintx++];
			l->gsi = gsi;
			l->vector = v;
			l->nh = 0;
			trap_register(v, intx_dispatch);
			err = ioapic_route_gsi(gsi, v, cpus[0].apic_id, level, low);
		}
	}
	if (!err && l->nh == MAX_INTX_SHARERS)
		err = -ENOSPC;
	if (!err) {
		l->h[l->nh++] = h;
		vectors[0] = l->vector;
	}
	spin_unlock(&irq_lock);
	if (err < 0)
		return err;
	intx_off(d, false);
	kdebug("pci: %02x:%02x.%x INTx pin %u on GSI %u (%s, active %s)", d->bus, d->dev, d->fn,
	       d->irq_pin, gsi, level ? "level" : "edge", low ? "low" : "high");
	return PCI_IRQ_INTX;
}

int pci_irq_setup(struct pci_dev *d, int n, trap_handler h, int vectors[])
{
	if (n < 1 || !h)
		return -EINVAL;
	if (cpus[0].apic_id > MSI_MAX_DEST)
		return -ENODEV; /* would need interrupt remapping or x2APIC destinations */
	uint8_t cap = pci_find_cap(d, PCI_CAP_MSIX, 0);
	if (cap)
		return setup_msix(d, cap, n, h, vectors);
	if (n > 1)
		return -ENOSPC;
	cap = pci_find_cap(d, PCI_CAP_MSI, 0);
	if (cap)
		return setup_msi(d, cap, h, vectors);
	return setup_intx(d, h, vectors);
}
