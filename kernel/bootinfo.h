/* bootinfo.h: what the loader told us, in one form whatever the loader was
 * (multiboot2 from GRUB, multiboot1 from QEMU -kernel and iPXE, PVH). */
#ifndef KERNEL_BOOTINFO_H
#define KERNEL_BOOTINFO_H

#include <stdint.h>

#define BOOT_MAX_RANGES 128
#define BOOT_MAX_MODULES 8
#define BOOT_CMDLINE_MAX 2048

enum mem_type { MEM_USABLE = 1, MEM_RESERVED = 2, MEM_ACPI = 3, MEM_NVS = 4, MEM_BAD = 5 };

struct mem_range {
	uint64_t base, len;
	enum mem_type type;
};

struct boot_module {
	uint64_t start, end; /* physical, end exclusive */
	char cmdline[128];
};

struct boot_info {
	const char *loader; /* "multiboot2", "multiboot1", "pvh" */
	char cmdline[BOOT_CMDLINE_MAX];
	struct mem_range ranges[BOOT_MAX_RANGES];
	int nranges;
	struct boot_module modules[BOOT_MAX_MODULES];
	int nmodules;
	/* The loader's copy of the ACPI RSDP (up to 36 bytes), kept here because the
	 * loader's memory is reused once the page allocator runs. */
	uint8_t rsdp[36];
	int rsdp_len; /* 0: the loader gave none; search the BIOS areas */
	uint64_t usable_bytes;
};

extern struct boot_info boot_info;

/* Parse the loader's information; magic and info are what arrived in eax and ebx.
 * Returns 0, or -EINVAL when the magic is unknown (no usable loader data). */
int bootinfo_parse(uint32_t magic, uint64_t info_phys);

#endif
