/* uspace.h: a task's address space: its own page tables (the kernel half shared,
 * supervisor-only), a sorted list of regions (image segments, brk heap, anonymous
 * mmaps, the stack), demand paging of zero-filled pages, and the memory limit.
 *
 * Accounting: a task's memory is its resident user pages plus what other modules
 * charge to it (the files in its /tmp). The limit is checked twice: brk and mmap fail
 * with -ENOMEM when the regions they would reserve (the stack excepted) plus the charged
 * bytes pass it, and a page fault that would take resident memory past it fails too
 * (the task is then killed with SIGKILL's status).
 *
 * The kernel never touches user memory through user addresses: uspace_read and
 * uspace_write look the pages up (faulting them in) and copy through the direct map,
 * under the address space's lock, so a bad pointer from a task is an -EFAULT and never a
 * kernel fault, and SMAP can stay on without STAC/CLAC. All calls may sleep. */
#ifndef KERNEL_USPACE_H
#define KERNEL_USPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Linux's PROT_* and MAP_* values, as tasks pass them. */
#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000

/* Layout of every address space. */
#define USPACE_LOW 0x10000UL		  /* nothing is mapped below (NULL pointers fault) */
#define USPACE_PIE_BASE 0x555555554000UL  /* load bias of a static PIE */
#define USPACE_STACK_TOP 0x7ffffffde000UL /* initial stack grows down from here */
#define USPACE_STACK_SIZE (8UL << 20)	  /* reserved, faulted in as touched */
#define USPACE_MMAP_TOP 0x7f0000000000UL  /* mmap picks addresses below, top down */
#define USPACE_TOP 0x7ffffffff000UL	  /* end of the usable user half */

enum region_kind { REGION_IMAGE, REGION_HEAP, REGION_ANON, REGION_STACK };

struct uspace;

/* A new, empty address space with this memory limit in bytes; NULL when out of memory. */
struct uspace *uspace_create(uint64_t limit);
/* Free every page, page table and region. No thread may run in it any more, and no CPU
 * may have it loaded. */
void uspace_destroy(struct uspace *us);
/* Physical address of its top-level page table (for CR3). */
uint64_t uspace_root(struct uspace *us);
/* Threads of the task may run on several CPUs at once: unmapping then shoots down the
 * other CPUs' TLBs. */
void uspace_set_shared(struct uspace *us, bool shared);

/* Reserve [va, va+len) (page-aligned) as a region of kind with PROT_* prot. 0, -EEXIST
 * (overlaps), -EINVAL, -ENOMEM (limit or memory). */
int uspace_add(struct uspace *us, uint64_t va, uint64_t len, int prot, enum region_kind kind);
/* Start of the brk heap (after the image); brk begins empty there. */
void uspace_set_brk(struct uspace *us, uint64_t base);

/* Copy between the kernel and user memory: 0 or -EFAULT (a page that is not in a region,
 * or lacks the access, or cannot be faulted in). uspace_load writes regardless of the
 * region's protection: the loader's way to fill read-only segments. */
int uspace_read(struct uspace *us, void *dst, uint64_t va, size_t n);
int uspace_write(struct uspace *us, uint64_t va, const void *src, size_t n);
int uspace_load(struct uspace *us, uint64_t va, const void *src, size_t n);
/* Map a page many address spaces share (exec.c's cache of programs' read-only segments)
 * at va, inside a region, read-only whatever the region's rights: us never frees it nor
 * counts it against the limit; an mprotect that makes it writable gives us a private
 * copy. The page must carry USPACE_SHARED_TAG (pmm_set_tag). 0, -EFAULT (no region),
 * -EEXIST (va mapped), -ENOMEM. */
#define USPACE_SHARED_TAG 0x0400 /* beside the heap's tags (kernel/heap.c) */
int uspace_map_shared(struct uspace *us, uint64_t va, uint64_t pa);
/* A NUL-terminated string of at most max-1 bytes: its length, -EFAULT or -ENAMETOOLONG. */
long uspace_strncpy(struct uspace *us, char *dst, uint64_t va, size_t max);
/* Read the 32-bit word at va (4-aligned) for futex: 0 or -EFAULT/-EINVAL. */
int uspace_read_u32(struct uspace *us, uint64_t va, uint32_t *val);
/* The physical address behind va, faulting the page in (readable; writable if write):
 * 0 or -EFAULT. Valid until the task unmaps it. */
int uspace_phys(struct uspace *us, uint64_t va, bool write, uint64_t *pa);

/* A task touched va and missed: map a page if a region allows the access (write, exec
 * as the fault says). 0, -EFAULT (segmentation fault), -ENOMEM (over the limit). */
int uspace_fault(struct uspace *us, uint64_t va, bool write, bool exec);

/* The system calls' cores, with Linux's semantics and errors. */
long uspace_brk(struct uspace *us, uint64_t want);
long uspace_mmap(struct uspace *us, uint64_t addr, uint64_t len, int prot, int flags);
int uspace_munmap(struct uspace *us, uint64_t addr, uint64_t len);
int uspace_mprotect(struct uspace *us, uint64_t addr, uint64_t len, int prot);
/* MADV_DONTNEED: drop the pages of the range; they read back as zeros. 0 or -EINVAL. */
int uspace_discard(struct uspace *us, uint64_t addr, uint64_t len);

/* Bytes counted against the limit now (resident pages plus charges), and the limit. */
uint64_t uspace_mem(struct uspace *us);
uint64_t uspace_limit(struct uspace *us);
/* Charge (bytes > 0) or refund (bytes < 0) memory that lives outside the page tables,
 * e.g. /tmp files. 0, or -ENOMEM when a charge would pass the limit (nothing charged). */
int uspace_charge(struct uspace *us, int64_t bytes);

#endif
