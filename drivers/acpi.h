/* acpi.h: what the firmware's ACPI tables say about this machine: CPUs and IOAPICs
 * (MADT), the HPET, PCI ECAM windows (MCFG), and how to power off and reset (FADT and
 * the DSDT's \_S5 package). Missing tables are not errors: each field says whether
 * it was found, and callers fall back (PIT, legacy PCI ports, keyboard-controller
 * reset). */
#ifndef DRIVERS_ACPI_H
#define DRIVERS_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_OVERRIDES 16
#define ACPI_MAX_MCFG 8

struct acpi_ioapic {
	uint8_t id;
	uint64_t addr;
	uint32_t gsi_base;
};

/* The flags of an interrupt source override (MPS INTI): polarity and trigger mode. */
#define INTI_POLARITY(f) ((f)&3)
#define INTI_TRIGGER(f) (((f) >> 2) & 3)
#define INTI_ACTIVE_HIGH 1
#define INTI_ACTIVE_LOW 3
#define INTI_EDGE 1
#define INTI_LEVEL 3

struct acpi_override { /* ISA IRQ -> GSI, with polarity and trigger flags */
	uint8_t irq;
	uint32_t gsi;
	uint16_t flags;
};

struct acpi_mcfg {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
};

struct acpi_info {
	bool found; /* an RSDP with valid checksums */
	uint64_t lapic_addr;
	uint32_t cpu_apic_ids[64]; /* enabled CPUs, boot CPU first */
	int ncpu;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	int nioapic;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	int noverride;
	uint64_t hpet_addr; /* 0 = no HPET */
	struct acpi_mcfg mcfg[ACPI_MAX_MCFG];
	int nmcfg;
	/* power: FADT fields, and SLP_TYPa/b from \_S5 */
	uint32_t pm1a_cnt, pm1b_cnt;
	bool s5_found;
	uint16_t slp_typa, slp_typb;
	bool reset_found;
	uint8_t reset_space; /* 0 memory, 1 I/O */
	uint64_t reset_addr;
	uint8_t reset_value;
	uint16_t sci_irq, smi_cmd;
	uint8_t acpi_enable;
};

extern struct acpi_info acpi;

/* Find and parse the tables (RSDP from the loader, else the BIOS areas); sets ncpus. */
void acpi_init(void);

#endif
