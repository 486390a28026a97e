/* acpi.c: find the RSDP, walk the RSDT/XSDT and pull out what the kernel needs from
 * the MADT (CPUs, IOAPICs, overrides), HPET, MCFG and FADT (+ the DSDT's \_S5).
 *
 * Tables live in memory the firmware marked ACPI or reserved; the memory map names
 * those ranges, so the direct map (P2V) reaches them once vmm_init has run. Every
 * table is checksummed before use and a bad one is skipped with a warning, never
 * trusted. Fields are read with memcpy because ACPI packs its structures with no
 * regard for alignment.
 *
 * \_S5 is the one piece of AML we read: we do not run an interpreter, we look for the
 * bytes "_S5_" in the DSDT and decode the package that follows,
 *   NameOp ('\')? "_S5_" PackageOp PkgLength NumElements SLP_TYPa SLP_TYPb ...
 * where each value is ZeroOp, OneOp, OnesOp or a BytePrefix/WordPrefix/DWordPrefix
 * constant. That is what every firmware we know of emits for \_S5. */
#include "drivers/acpi.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/cpu.h"
#include "kernel/bootinfo.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/selftest.h"
#include "kernel/vmm.h"

struct acpi_info acpi;

#define RSDP_SIG "RSD PTR "
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define EBDA_SEG_PTR 0x40e /* BDA word: EBDA segment */
#define EBDA_SCAN_LEN 1024
#define BIOS_ROM_START 0xe0000
#define BIOS_ROM_END 0x100000
#define RSDP_ALIGN 16
#define SDT_HDR_LEN 36
#define MAX_TABLE_LEN (16u << 20) /* a length beyond this is corrupt */

/* MADT (signature "APIC") */
#define MADT_LAPIC_ADDR 36
#define MADT_ENTRIES 44
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_LAPIC_OVR = 5, MADT_X2APIC = 9 };
#define MADT_CPU_ENABLED 1

/* HPET: the base address is a Generic Address Structure at offset 40; its address at +4. */
#define HPET_GAS 40
/* MCFG: allocation entries of 16 bytes from offset 44. */
#define MCFG_ENTRIES 44
#define MCFG_ENTRY_LEN 16

/* FADT ("FACP") field offsets, ACPI 6.x table 5.9. */
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_FLAGS 112
#define FADT_RESET_REG 116 /* GAS: space id, width, offset, access size, 64-bit address */
#define FADT_RESET_VALUE 128
#define FADT_X_DSDT 140
#define FADT_X_PM1A_CNT 172
#define FADT_X_PM1B_CNT 184
#define FADT_GAS_LEN 12
#define FADT_RESET_REG_SUP (1u << 10)
#define GAS_SPACE_MEM 0
#define GAS_SPACE_IO 1

/* AML opcodes used by the \_S5 decoder */
#define AML_NAME_OP 0x08
#define AML_ROOT_CHAR 0x5c
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_ONES_OP 0xff
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define SLP_TYP_MASK 7

static uint8_t rd8(const uint8_t *p) { return *p; }
static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return v;
}
static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}
static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

/* A valid RSDP at p? (v1 checksum always, the extended one for revision >= 2) */
static bool rsdp_ok(const uint8_t *p, size_t avail)
{
	if (avail < RSDP_V1_LEN || memcmp(p, RSDP_SIG, 8) != 0 || sum(p, RSDP_V1_LEN) != 0)
		return false;
	if (rd8(p + 15) >= 2) {
		uint32_t len = rd32(p + 20);
		if (len < RSDP_V2_LEN || len > avail || sum(p, len) != 0)
			return false;
	}
	return true;
}

static const uint8_t *scan_rsdp(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a + RSDP_V1_LEN <= end; a += RSDP_ALIGN) {
		const uint8_t *p = P2V(a);
		if (rsdp_ok(p, end - a))
			return p;
	}
	return 0;
}

static const uint8_t *find_rsdp(void)
{
	if (boot_info.rsdp_len > 0 && rsdp_ok(boot_info.rsdp, (size_t)boot_info.rsdp_len))
		return boot_info.rsdp;
	uint64_t ebda = (uint64_t)rd16(P2V(EBDA_SEG_PTR)) << 4;
	const uint8_t *p = 0;
	if (ebda >= 0x80000 && ebda < 0xa0000) /* only where an EBDA can be */
		p = scan_rsdp(ebda, ebda + EBDA_SCAN_LEN);
	return p ? p : scan_rsdp(BIOS_ROM_START, BIOS_ROM_END);
}

/* The table at phys if its header and checksum are sound, else NULL. */
static const uint8_t *table(uint64_t phys)
{
	if (!phys)
		return 0;
	const uint8_t *t = P2V(phys);
	uint32_t len = rd32(t + 4);
	if (len < SDT_HDR_LEN || len > MAX_TABLE_LEN) {
		kwarn("acpi: table at 0x%lx has a bad length %u", phys, len);
		return 0;
	}
	if (sum(t, len) != 0) {
		kwarn("acpi: table %.4s at 0x%lx fails its checksum; ignored", (const char *)t,
		      phys);
		return 0;
	}
	return t;
}

static void add_cpu(uint32_t apic_id, uint32_t flags)
{
	if (!(flags & MADT_CPU_ENABLED))
		return;
	for (int i = 0; i < acpi.ncpu; i++)
		if (acpi.cpu_apic_ids[i] == apic_id)
			return; /* listed both as LAPIC and x2APIC */
	int max = (int)(sizeof acpi.cpu_apic_ids / sizeof acpi.cpu_apic_ids[0]);
	if (acpi.ncpu == max) {
		kwarn("acpi: more than %d CPUs; apic id %u ignored", max, apic_id);
		return;
	}
	acpi.cpu_apic_ids[acpi.ncpu++] = apic_id;
}

static void parse_madt(const uint8_t *t)
{
	uint32_t len = rd32(t + 4);
	acpi.lapic_addr = rd32(t + MADT_LAPIC_ADDR);
	for (uint32_t off = MADT_ENTRIES; off + 2 <= len;) {
		const uint8_t *e = t + off;
		uint8_t type = e[0], elen = e[1];
		if (elen < 2 || off + elen > len)
			break;
		switch (type) {
		case MADT_LAPIC:
			if (elen >= 8)
				add_cpu(e[3], rd32(e + 4));
			break;
		case MADT_X2APIC:
			if (elen >= 16)
				add_cpu(rd32(e + 4), rd32(e + 8));
			break;
		case MADT_IOAPIC:
			if (elen >= 12 && acpi.nioapic < ACPI_MAX_IOAPICS)
				acpi.ioapics[acpi.nioapic++] = (struct acpi_ioapic){
					.id = e[2], .addr = rd32(e + 4), .gsi_base = rd32(e + 8)};
			break;
		case MADT_ISO:
			if (elen >= 10 && acpi.noverride < ACPI_MAX_OVERRIDES)
				acpi.overrides[acpi.noverride++] = (struct acpi_override){
					.irq = e[3], .gsi = rd32(e + 4), .flags = rd16(e + 8)};
			break;
		case MADT_LAPIC_OVR:
			if (elen >= 12)
				acpi.lapic_addr = rd64(e + 4);
			break;
		}
		off += elen;
	}
}

static void parse_mcfg(const uint8_t *t)
{
	uint32_t len = rd32(t + 4);
	for (uint32_t off = MCFG_ENTRIES; off + MCFG_ENTRY_LEN <= len && acpi.nmcfg < ACPI_MAX_MCFG;
	     off += MCFG_ENTRY_LEN)
		acpi.mcfg[acpi.nmcfg++] = (struct acpi_mcfg){.base = rd64(t + off),
							     .segment = rd16(t + off + 8),
							     .bus_start = t[off + 10],
							     .bus_end = t[off + 11]};
}

/* Decode one AML integer constant at p (at most n bytes); returns its length or 0. */
static size_t aml_int(const uint8_t *p, size_t n, uint32_t *v)
{
	if (n < 1)
		return 0;
	switch (p[0]) {
	case AML_ZERO_OP:
		*v = 0;
		return 1;
	case AML_ONE_OP:
		*v = 1;
		return 1;
	case AML_ONES_OP:
		*v = 0xffffffff;
		return 1;
	case AML_BYTE_PREFIX:
		if (n < 2)
			return 0;
		*v = p[1];
		return 2;
	case AML_WORD_PREFIX:
		if (n < 3)
			return 0;
		*v = rd16(p + 1);
		return 3;
	case AML_DWORD_PREFIX:
		if (n < 5)
			return 0;
		*v = rd32(p + 1);
		return 5;
	}
	return 0;
}

/* Find \_S5 in an AML byte stream and decode SLP_TYPa/b; 0 or -ENOENT. */
static int find_s5(const uint8_t *aml, size_t n, uint16_t *typa, uint16_t *typb)
{
	for (size_t i = 1; i + 4 < n; i++) {
		if (memcmp(aml + i, "_S5_", 4) != 0)
			continue;
		/* A definition, not a reference: NameOp, possibly with a root prefix. */
		if (!(aml[i - 1] == AML_NAME_OP ||
		      (i >= 2 && aml[i - 1] == AML_ROOT_CHAR && aml[i - 2] == AML_NAME_OP)))
			continue;
		size_t p = i + 4;
		if (p >= n || aml[p] != AML_PACKAGE_OP)
			continue;
		p++;
		if (p >= n)
			break;
		p += 1 + (aml[p] >> 6); /* PkgLength: bits 7:6 count the extra bytes */
		p++;			/* NumElements */
		uint32_t a, b;
		size_t la = p < n ? aml_int(aml + p, n - p, &a) : 0;
		if (!la)
			continue;
		p += la;
		size_t lb = p < n ? aml_int(aml + p, n - p, &b) : 0;
		if (!lb)
			b = a; /* some firmware gives one value */
		*typa = (uint16_t)(a & SLP_TYP_MASK);
		*typb = (uint16_t)(b & SLP_TYP_MASK);
		return 0;
	}
	return -ENOENT;
}

static void parse_fadt(const uint8_t *t)
{
	uint32_t len = rd32(t + 4);
	if (len < FADT_FLAGS)
		return;
	acpi.sci_irq = rd16(t + FADT_SCI_INT);
	acpi.smi_cmd = (uint16_t)rd32(t + FADT_SMI_CMD);
	acpi.acpi_enable = t[FADT_ACPI_ENABLE];
	acpi.pm1a_cnt = rd32(t + FADT_PM1A_CNT);
	acpi.pm1b_cnt = rd32(t + FADT_PM1B_CNT);
	uint64_t dsdt = rd32(t + FADT_DSDT);

	if (len >= FADT_RESET_VALUE + 1 && (rd32(t + FADT_FLAGS) & FADT_RESET_REG_SUP)) {
		const uint8_t *g = t + FADT_RESET_REG;
		if ((g[0] == GAS_SPACE_MEM || g[0] == GAS_SPACE_IO) && rd64(g + 4)) {
			acpi.reset_found = true;
			acpi.reset_space = g[0];
			acpi.reset_addr = rd64(g + 4);
			acpi.reset_value = t[FADT_RESET_VALUE];
		}
	}
	if (len >= FADT_X_DSDT + 8 && rd64(t + FADT_X_DSDT))
		dsdt = rd64(t + FADT_X_DSDT);
	/* The 64-bit PM1 blocks win where present and in I/O space. */
	if (len >= FADT_X_PM1B_CNT + FADT_GAS_LEN) {
		const uint8_t *ga = t + FADT_X_PM1A_CNT, *gb = t + FADT_X_PM1B_CNT;
		if (ga[0] == GAS_SPACE_IO && rd64(ga + 4))
			acpi.pm1a_cnt = (uint32_t)rd64(ga + 4);
		if (gb[0] == GAS_SPACE_IO && rd64(gb + 4))
			acpi.pm1b_cnt = (uint32_t)rd64(gb + 4);
	}

	const uint8_t *d = table(dsdt);
	if (d && find_s5(d + SDT_HDR_LEN, rd32(d + 4) - SDT_HDR_LEN, &acpi.slp_typa,
			 &acpi.slp_typb) == 0)
		acpi.s5_found = true;
}

static void parse(const uint8_t *t)
{
	if (!memcmp(t, "APIC", 4))
		parse_madt(t);
	else if (!memcmp(t, "HPET", 4) && rd32(t + 4) >= HPET_GAS + FADT_GAS_LEN)
		acpi.hpet_addr = rd64(t + HPET_GAS + 4);
	else if (!memcmp(t, "MCFG", 4))
		parse_mcfg(t);
	else if (!memcmp(t, "FACP", 4))
		parse_fadt(t);
}

/* The boot CPU's APIC id as the CPU itself reports it (leaf 0xB has the full x2APIC id). */
static uint32_t boot_apic_id(void)
{
	uint32_t a, b, c, d;
	cpuid(0, 0, &a, &b, &c, &d);
	if (a >= 0xb) {
		uint32_t max = a;
		cpuid(0xb, 0, &a, &b, &c, &d);
		if (b != 0 && max >= 0xb)
			return d;
	}
	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

/* Put the boot CPU first, so that CPU ids 0.. follow the MADT with 0 the BSP. */
static void boot_cpu_first(void)
{
	uint32_t me = boot_apic_id();
	int i;
	for (i = 0; i < acpi.ncpu && acpi.cpu_apic_ids[i] != me; i++)
		;
	if (i == acpi.ncpu) { /* the MADT forgot us: we exist all the same */
		if (acpi.ncpu == (int)(sizeof acpi.cpu_apic_ids / sizeof acpi.cpu_apic_ids[0]))
			acpi.ncpu--;
		acpi.cpu_apic_ids[acpi.ncpu++] = me;
	}
	for (; i > 0; i--) {
		uint32_t t = acpi.cpu_apic_ids[i];
		acpi.cpu_apic_ids[i] = acpi.cpu_apic_ids[i - 1];
		acpi.cpu_apic_ids[i - 1] = t;
	}
}

void acpi_init(void)
{
	const uint8_t *rsdp = find_rsdp();
	if (rsdp) {
		acpi.found = true;
		bool x = rd8(rsdp + 15) >= 2 && rd64(rsdp + 24);
		const uint8_t *root = table(x ? rd64(rsdp + 24) : rd32(rsdp + 16));
		if (root) {
			size_t esz = x ? 8 : 4, n = (rd32(root + 4) - SDT_HDR_LEN) / esz;
			for (size_t i = 0; i < n; i++) {
				const uint8_t *e = root + SDT_HDR_LEN + i * esz;
				const uint8_t *t = table(x ? rd64(e) : rd32(e));
				if (t)
					parse(t);
			}
		} else {
			acpi.found = false;
		}
	}
	if (!acpi.found)
		kwarn("acpi: no valid RSDP or root table; assuming one CPU, no HPET");
	if (!acpi.lapic_addr)
		acpi.lapic_addr = rdmsr(MSR_APIC_BASE) & ~0xfffUL;
	boot_cpu_first();

	ncpus = acpi.ncpu < MAX_CPUS ? acpi.ncpu : MAX_CPUS;
	for (int i = 0; i < ncpus; i++)
		cpus[i].apic_id = acpi.cpu_apic_ids[i];
	kdebug("acpi: %d cpus, %d ioapics, %d overrides, hpet 0x%lx, %d mcfg, s5 %s (%u/%u), "
	       "reset %s",
	       acpi.ncpu, acpi.nioapic, acpi.noverride, acpi.hpet_addr, acpi.nmcfg,
	       acpi.s5_found ? "yes" : "no", acpi.slp_typa, acpi.slp_typb,
	       acpi.reset_found ? "yes" : "no");
}

SELFTEST(acpi_madt)
{
	CHECK(acpi.found);
	CHECK(acpi.ncpu >= 1 && ncpus >= 1 && ncpus <= acpi.ncpu);
	CHECK(acpi.lapic_addr != 0);
	CHECK(acpi.nioapic >= 1);
	/* The CPU this test runs on knows its own APIC id: the MADT order must agree
	 * (interrupts off so the thread cannot move between the two reads). */
	uint64_t f = irq_save();
	uint32_t mine = cpus[this_cpu()->id].apic_id, real = boot_apic_id();
	irq_restore(f);
	CHECK(mine == real);
	for (int i = 0; i < acpi.ncpu; i++)
		for (int j = i + 1; j < acpi.ncpu; j++)
			CHECK(acpi.cpu_apic_ids[i] != acpi.cpu_apic_ids[j]);
	CHECK(acpi.pm1a_cnt != 0);
	CHECK(acpi.s5_found);
	return 0;
}

SELFTEST(acpi_s5_decode)
{
	/* Name(\_S5, Package(4) {0x05, 0x05, Zero, Zero}) as iasl emits it */
	static const uint8_t a[] = {0x10, 0x08, 0x5c, '_',  'S',  '5',	'_',  0x12,
				    0x0a, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
	/* Name(_S5, Package {Zero, One}) and a reference to _S5_ before it */
	static const uint8_t b[] = {0x70, '_', 'S',  '5',  '_',	 0x08, '_', 'S',
				    '5',  '_', 0x12, 0x04, 0x02, 0x00, 0x01};
	static const uint8_t none[] = {0x08, '_', 'S', '4', '_', 0x12, 0x04, 0x02, 0x00, 0x01};
	uint16_t x = 9, y = 9;
	CHECK(find_s5(a, sizeof a, &x, &y) == 0 && x == 5 && y == 5);
	CHECK(find_s5(b, sizeof b, &x, &y) == 0 && x == 0 && y == 1);
	CHECK(find_s5(none, sizeof none, &x, &y) == -ENOENT);
	CHECK(find_s5(a, 9, &x, &y) == -ENOENT); /* truncated */
	return 0;
}
