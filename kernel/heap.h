/* heap.h: the kernel heap. Small objects come from per-size-class slabs (16 B to
 * 2 KiB), larger ones straight from the page allocator. Out of memory returns NULL. */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <stddef.h>

void heap_init(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size);
/* align: a power of two up to PAGE_SIZE. */
void *kmalloc_aligned(size_t size, size_t align);
void kfree(void *p);

struct heap_stats {
	size_t bytes_in_use;   /* requested sizes rounded to their class */
	size_t bytes_reserved; /* pages held by the heap */
	size_t allocations, frees, failures;
};
void heap_stats(struct heap_stats *s);

#endif
