/* pci.h: PCI configuration space (ECAM from the ACPI MCFG table, legacy ports 0xcf8/0xcfc
 * otherwise), enumeration of every bus, BARs, bus mastering, and interrupts: MSI-X where
 * the device offers it, MSI next, legacy INTx routed through the IOAPIC last.
 *
 * Drivers register with PCI_DRIVER(name, ids, probe): after enumeration pci_init calls
 * the probe of the first driver whose id table matches each device (vendor, device; a
 * device of 0xffff matches any device of that vendor). A probe returns 0 when it took
 * the device, or a negative errno (logged; the device is left alone). */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/trap.h"

#define PCI_MAX_DEVICES 64
#define PCI_ANY_ID 0xffff

struct pci_bar {
	uint64_t addr; /* physical address (memory) or port (I/O); 0 = unused */
	uint64_t size;
	bool io, mem64, prefetch;
};

struct pci_dev {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint16_t vendor, device, subsys_vendor, subsys_id;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t irq_line, irq_pin; /* legacy INTx: firmware's line, pin 1..4 (0 = none) */
	struct pci_bar bar[6];
	void *ecam;	    /* this function's 4 KiB configuration window, or NULL (port I/O) */
	const char *driver; /* name of the driver that took it, or NULL */
};

struct pci_id {
	uint16_t vendor, device;
};

struct pci_driver {
	const char *name;
	const struct pci_id *ids; /* ends with {0, 0} */
	int (*probe)(struct pci_dev *d);
};

#define PCI_DRIVER(n, id_table, probe_fn)                                                          \
	static const struct pci_driver pci_driver_##n                                              \
		__attribute__((used, section(".pci_drivers"), aligned(8))) = {#n, id_table,        \
									      probe_fn}

/* Enumerate all buses and probe drivers. Logs one line per device found. */
void pci_init(void);
int pci_count(void);
struct pci_dev *pci_get(int i);

uint32_t pci_read32(struct pci_dev *d, uint16_t off);
uint16_t pci_read16(struct pci_dev *d, uint16_t off);
uint8_t pci_read8(struct pci_dev *d, uint16_t off);
void pci_write32(struct pci_dev *d, uint16_t off, uint32_t v);
void pci_write16(struct pci_dev *d, uint16_t off, uint16_t v);
void pci_write8(struct pci_dev *d, uint16_t off, uint8_t v);

/* Turn on memory and I/O decoding and bus mastering (DMA). */
void pci_enable(struct pci_dev *d);
/* Map a memory BAR uncached; NULL for an I/O or missing BAR or when out of space. */
void *pci_map_bar(struct pci_dev *d, int bar);
/* Offset of the first capability with this id at or after `from` (0: from the start),
 * or 0 when there is none. */
uint8_t pci_find_cap(struct pci_dev *d, uint8_t id, uint8_t from);

#define PCI_CAP_MSI 0x05
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_MSIX 0x11

/* Give the device `n` interrupt vectors (n > 1 only with MSI-X), each calling h on the
 * boot CPU; vectors[] receives them. Uses MSI-X, else MSI (n must be 1), else INTx
 * through the IOAPIC (n must be 1; the handler may then be called for a shared line and
 * must check its device). The handler must call irq_eoi(). Returns the mode used
 * (PCI_IRQ_MSIX, PCI_IRQ_MSI, PCI_IRQ_INTX) or a negative errno. */
enum { PCI_IRQ_MSIX = 1, PCI_IRQ_MSI, PCI_IRQ_INTX };
int pci_irq_setup(struct pci_dev *d, int n, trap_handler h, int vectors[]);

#endif
