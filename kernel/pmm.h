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

#endif
