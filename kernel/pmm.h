/* pmm.h: the physical page allocator, a buddy allocator over the usable ranges of the
 * memory map, minus the kernel image, boot modules, loader data and the first 1 MiB.
 * Blocks are 2^order pages (order 0..PMM_MAX_ORDER). Out of memory returns 0 / NULL,
 * never panics. Safe from any CPU and from interrupt handlers. */
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H

#include <stddef.h>
#include <stdint.h>

#define PMM_MAX_ORDER 10 /* 4 MiB blocks */

void pmm_init(void);

/* A block of 2^order pages: its physical address, or 0 when none is free. */
uint64_t pmm_alloc_order(unsigned order);
void pmm_free_order(uint64_t phys, unsigned order);

/* Bytes rounded up to a power-of-two number of pages, zeroed, as a direct-map pointer. */
void *pmm_alloc_kva(size_t bytes);
void pmm_free_kva(void *p, size_t bytes);

uint64_t pmm_total_bytes(void);
uint64_t pmm_free_bytes(void);

/* Order of the allocated block that starts at phys, or -EINVAL if none starts there. */
int pmm_block_order(uint64_t phys);
/* A 16-bit tag per page for the owner of an allocated block (the heap marks its pages
 * with it). Reads 0 for pages the allocator does not manage; a block's first page reads
 * 0 after allocation and after free; the owner clears tags it set on other pages. */
void pmm_set_tag(uint64_t phys, uint16_t tag);
uint16_t pmm_tag(uint64_t phys);

/* Until vmm_init has mapped all of physical memory only the pages below
 * PMM_EARLY_LIMIT are handed out; vmm_init then calls pmm_add_high for the rest. */
#define PMM_EARLY_LIMIT (1UL << 30)
void pmm_add_high(void);

#endif
