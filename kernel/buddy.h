/* buddy.h: a binary buddy allocator over page indices, pure logic (no kernel includes,
 * no locking, no memory of its own): the caller gives it an array with one entry per
 * page and maps indices to physical addresses itself. Built into the kernel by pmm.c
 * and on the host by the unit tests.
 *
 * A block of order k is 2^k pages starting at an index that is a multiple of 2^k, so
 * the caller gets naturally aligned physical blocks when index 0 is aligned to
 * 2^max_order pages. Every page starts reserved; buddy_add hands pages over. */
#ifndef KERNEL_BUDDY_H
#define KERNEL_BUDDY_H

#include <stdint.h>

#define BUDDY_ORDERS_MAX 16   /* max_order must be below this */
#define BUDDY_NONE UINT32_MAX /* "no page": failed allocation, end of a free list */

enum buddy_state {
	BUDDY_RESERVED, /* never handed over by buddy_add (holes, kernel, ...) */
	BUDDY_FREE,	/* first page of a free block */
	BUDDY_ALLOC,	/* first page of an allocated block */
	BUDDY_TAIL,	/* any other page of a block, free or allocated */
};

/* Per-page metadata: 12 bytes a page. The free lists are linked through these entries,
 * never through the free pages, so the allocator touches no page it manages. */
struct buddy_page {
	uint32_t next, prev; /* free-list links while BUDDY_FREE */
	uint8_t order;	     /* block order, valid on BUDDY_FREE and BUDDY_ALLOC pages */
	uint8_t state;	     /* enum buddy_state */
	uint16_t tag;	     /* free for the block's owner; 0 after alloc and free */
};

struct buddy {
	struct buddy_page *pages;
	uint32_t npages;
	unsigned max_order;
	uint32_t head[BUDDY_ORDERS_MAX];  /* free list per order */
	uint32_t nfree[BUDDY_ORDERS_MAX]; /* free blocks per order */
	uint64_t free_pages;
};

/* Set up b over pages[0 .. npages), every page reserved. npages < BUDDY_NONE,
 * max_order < BUDDY_ORDERS_MAX. */
void buddy_init(struct buddy *b, struct buddy_page *pages, uint32_t npages, unsigned max_order);

/* Hand pages [first, first + n) to the allocator; pages already handed over are skipped
 * (so overlapping calls are harmless). Out-of-range pages are ignored. */
void buddy_add(struct buddy *b, uint32_t first, uint32_t n);

/* The first page of a free block of 2^order pages, or BUDDY_NONE. */
uint32_t buddy_alloc(struct buddy *b, unsigned order);

/* Return a block. 0, or -EINVAL when idx does not start an allocated block of that order
 * (a double free or a wild pointer; the block is left untouched). */
int buddy_free(struct buddy *b, uint32_t idx, unsigned order);

/* Order of the allocated block starting at idx, or -EINVAL if idx starts none. */
int buddy_block_order(const struct buddy *b, uint32_t idx);

#endif
