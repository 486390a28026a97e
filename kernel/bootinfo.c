/* bootinfo.c: read multiboot2, multiboot1 and PVH start information. Runs before the
 * memory manager, through the boot page tables' direct map of the first 1 GiB (every
 * loader puts its information there). */
#include "kernel/bootinfo.h"

#include <errno.h>
#include <string.h>

#include "kernel/vmm.h"

#define MB2_MAGIC 0x36d76289
#define MB1_MAGIC 0x2badb002
#define PVH_MAGIC 0x336ec578

struct boot_info boot_info;

static void *phys(uint64_t pa) { return P2V(pa); }

static void copy_str(char *d, size_t n, uint64_t pa)
{
	const char *s = phys(pa);
	size_t i = 0;
	for (; i + 1 < n && s[i]; i++)
		d[i] = s[i];
	d[i] = 0;
}

static void copy_rsdp(uint64_t pa, uint32_t len)
{
	if (len > sizeof boot_info.rsdp)
		len = sizeof boot_info.rsdp;
	memcpy(boot_info.rsdp, phys(pa), len);
	boot_info.rsdp_len = (int)len;
}

static void add_range(uint64_t base, uint64_t len, uint32_t type)
{
	if (boot_info.nranges == BOOT_MAX_RANGES || len == 0)
		return;
	enum mem_type t = type >= 1 && type <= 5 ? (enum mem_type)type : MEM_RESERVED;
	boot_info.ranges[boot_info.nranges++] = (struct mem_range){base, len, t};
	if (t == MEM_USABLE)
		boot_info.usable_bytes += len;
}

static void add_module(uint64_t start, uint64_t end, uint64_t cmdline)
{
	if (boot_info.nmodules == BOOT_MAX_MODULES || end <= start)
		return;
	struct boot_module *m = &boot_info.modules[boot_info.nmodules++];
	m->start = start;
	m->end = end;
	if (cmdline)
		copy_str(m->cmdline, sizeof m->cmdline, cmdline);
}

static void parse_mb2(uint64_t info)
{
	uint32_t total = *(uint32_t *)phys(info);
	uint64_t p = info + 8, end = info + total;
	while (p + 8 <= end) {
		uint32_t type = *(uint32_t *)phys(p), size = *(uint32_t *)phys(p + 4);
		if (type == 0 || size < 8)
			break;
		switch (type) {
		case 1: /* command line */
			copy_str(boot_info.cmdline, sizeof boot_info.cmdline, p + 8);
			break;
		case 3: /* module */
			add_module(*(uint32_t *)phys(p + 8), *(uint32_t *)phys(p + 12), p + 16);
			break;
		case 6: { /* memory map */
			uint32_t esz = *(uint32_t *)phys(p + 8);
			for (uint64_t e = p + 16; esz && e + esz <= p + size; e += esz)
				add_range(*(uint64_t *)phys(e), *(uint64_t *)phys(e + 8),
					  *(uint32_t *)phys(e + 16));
			break;
		}
		case 14: /* ACPI 1.0 RSDP copy */
		case 15: /* ACPI 2.0+ RSDP copy: preferred */
			if (type == 15 || !boot_info.rsdp_len)
				copy_rsdp(p + 8, size - 8);
			break;
		}
		p += (size + 7) & ~7u;
	}
}

struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};

/* Multiboot1 loaders (QEMU, iPXE, GRUB) put the kernel's file name first. */
static void drop_first_word(char *s)
{
	char *p = s;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	memmove(s, p, strlen(p) + 1);
}

static void parse_mb1(uint64_t info)
{
	struct mb1_info *mi = phys(info);
	if (mi->flags & (1 << 2)) {
		copy_str(boot_info.cmdline, sizeof boot_info.cmdline, mi->cmdline);
		drop_first_word(boot_info.cmdline);
	}
	if (mi->flags & (1 << 3)) {
		uint32_t *mod = phys(mi->mods_addr);
		for (uint32_t i = 0; i < mi->mods_count; i++, mod += 4)
			add_module(mod[0], mod[1], mod[2]);
	}
	if (mi->flags & (1 << 6)) {
		uint64_t p = mi->mmap_addr, end = p + mi->mmap_length;
		while (p < end) {
			uint32_t size = *(uint32_t *)phys(p);
			add_range(*(uint64_t *)phys(p + 4), *(uint64_t *)phys(p + 12),
				  *(uint32_t *)phys(p + 20));
			p += size + 4;
		}
	} else if (mi->flags & 1) {
		add_range(0, (uint64_t)mi->mem_lower * 1024, MEM_USABLE);
		add_range(0x100000, (uint64_t)mi->mem_upper * 1024, MEM_USABLE);
	}
}

struct pvh_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

static void parse_pvh(uint64_t info)
{
	struct pvh_info *pi = phys(info);
	if (pi->cmdline_paddr)
		copy_str(boot_info.cmdline, sizeof boot_info.cmdline, pi->cmdline_paddr);
	if (pi->rsdp_paddr)
		copy_rsdp(pi->rsdp_paddr, 36);
	uint64_t *mod = phys(pi->modlist_paddr);
	for (uint32_t i = 0; pi->modlist_paddr && i < pi->nr_modules; i++, mod += 4)
		add_module(mod[0], mod[0] + mod[1], mod[2]);
	uint64_t *e = phys(pi->memmap_paddr);
	for (uint32_t i = 0; pi->version >= 1 && pi->memmap_paddr && i < pi->memmap_entries;
	     i++, e += 3)
		add_range(e[0], e[1], (uint32_t)e[2]);
}

int bootinfo_parse(uint32_t magic, uint64_t info)
{
	switch (magic) {
	case MB2_MAGIC:
		boot_info.loader = "multiboot2";
		parse_mb2(info);
		return 0;
	case MB1_MAGIC:
		boot_info.loader = "multiboot1";
		parse_mb1(info);
		return 0;
	case PVH_MAGIC:
		boot_info.loader = "pvh";
		parse_pvh(info);
		return 0;
	}
	return -EINVAL;
}
