/* vmm.h: virtual memory. The kernel's address space has three fixed parts:
 *   0xffff800000000000  direct map of all physical memory (P2V / V2P)
 *   0xffffc00000000000  kernel stacks and MMIO windows, 4 KiB pages, each stack with an
 *                       unmapped guard page below it so an overflow faults at once
 *   0xffffffff80000000  the kernel image (KVMA + physical)
 * Boot page tables map the first 1 GiB of the direct map; vmm_init maps the rest.
 * TLB flushes are local to the calling CPU throughout. */
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

/* Build the kernel's page tables: direct map (2 MiB pages) of physical memory up to the
 * end of the highest usable or ACPI range and at least 4 GiB; the kernel image with
 * 4 KiB pages, text read-only, rodata read-only and no-execute, data and bss no-execute;
 * the first 2 MiB identity-mapped for the SMP trampoline. Turns on EFER.NXE (when the
 * CPU has NX) and CR0.WP, switches to the new tables and hands the memory above
 * PMM_EARLY_LIMIT to the page allocator. Needs pmm_init first.
 * The kernel half's top-level (PML4) entries are all created here and never change
 * afterwards, so an address space that copies them sees every later kernel mapping. */
void vmm_init(void);
/* Load the kernel page tables on an application processor and set NXE and WP. */
void vmm_init_cpu(void);
/* Drop the identity map of the first 2 MiB (once the APs are up). Flushes this CPU's
 * TLB only; the page-table pages it used are kept, since other CPUs may cache them. */
void vmm_unmap_identity(void);

/* Map a device's registers uncached (PCD|PWT, 4 KiB pages, page-granular) and return
 * the virtual address of `phys` itself (its offset in the page kept); NULL if out of
 * address space or memory. Windows are never unmapped. */
void *vmm_map_mmio(uint64_t phys, size_t size);

/* A kernel stack of `size` bytes (page multiple, at most VMM_STACK_MAX) with an unmapped
 * guard page below. Returns its lowest address, or NULL (out of memory, bad size).
 * Freed ranges are reused. Freeing flushes only this CPU's TLB: the caller makes sure no
 * other CPU still uses the stack (and shoots down its TLB if it ran there). */
#define VMM_STACK_MAX ((1UL << 20) - PAGE_SIZE)
void *vmm_alloc_stack(size_t size);
void vmm_free_stack(void *base, size_t size);

/* Physical address of the kernel's top-level page table. */
uint64_t vmm_kernel_root(void);

/* One page in the tables rooted at `root` (the physical address of a PML4). Mappings
 * are always present and readable; flags add: */
#define VMM_WRITE (1UL << 0)	/* writable */
#define VMM_EXEC (1UL << 1)	/* executable; without it no-execute (when the CPU has NX) */
#define VMM_USER (1UL << 2)	/* reachable from ring 3 (tables on the way get it too) */
#define VMM_UNCACHED (1UL << 3) /* PCD|PWT: device registers */

/* Map the page at va to the frame at pa, creating missing tables. 0; -EINVAL if va or pa
 * is not page-aligned or va is not canonical; -EEXIST if va is already mapped (also by
 * a large page); -ENOMEM. A new mapping needs no TLB flush. */
int vmm_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags);
/* Remove the 4 KiB mapping of va. 0, or -ENOENT if there is none. Flushes va from this
 * CPU's TLB when root is loaded here; cross-CPU shootdown is the caller's job
 * (smp_call_others in kernel/smp.h). Page-table pages are not freed. */
int vmm_unmap(uint64_t root, uint64_t va);
/* Physical address va maps to (offset included) and its VMM_* flags (flags may be NULL);
 * 0, or -ENOENT if va is not mapped. Sees 2 MiB pages too. */
int vmm_lookup(uint64_t root, uint64_t va, uint64_t *pa, uint64_t *flags);

#endif
