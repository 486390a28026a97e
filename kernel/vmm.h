/* vmm.h: virtual memory. The kernel's address space has three fixed parts:
 *   0xffff800000000000  direct map of all physical memory (P2V / V2P)
 *   0xffffc00000000000  kernel stacks and MMIO windows, 4 KiB pages, each stack with an
 *                       unmapped guard page below it so an overflow faults at once
 *   0xffffffff80000000  the kernel image (KVMA + physical)
 * Boot page tables map the first 1 GiB of the direct map; vmm_init maps the rest. */
#ifndef KERNEL_VMM_H
#define KERNEL_VMM_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096UL
#define DIRECT_MAP_BASE 0xffff800000000000UL
#define KVMA 0xffffffff80000000UL

static inline void *P2V(uint64_t pa) { return (void *)(pa + DIRECT_MAP_BASE); }
static inline uint64_t V2P(const void *va)
{
	uint64_t v = (uint64_t)va;
	return v >= KVMA ? v - KVMA : v - DIRECT_MAP_BASE;
}

/* Build the kernel's page tables: direct map of every range the memory map names,
 * kernel image with text read-only and data no-execute. Needs pmm_init first. */
void vmm_init(void);
/* Enable the kernel page tables on an application processor. */
void vmm_init_cpu(void);

/* Map a device's registers uncached; NULL if out of address space or memory. */
void *vmm_map_mmio(uint64_t phys, size_t size);

/* A kernel stack of `size` bytes (page multiple) with an unmapped guard page below.
 * Returns its lowest address, or NULL (out of memory). */
void *vmm_alloc_stack(size_t size);
void vmm_free_stack(void *base, size_t size);

/* Physical address of the kernel's top-level page table. */
uint64_t vmm_kernel_root(void);

#endif
