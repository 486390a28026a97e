/* buddy.c: the buddy allocator's logic (see buddy.h).
 *
 * Invariants: a page is BUDDY_FREE exactly when it starts a free block on the free list
 * of its order, and BUDDY_ALLOC exactly when it starts an allocated block. A free
 * block's buddy (index ^ 2^order) is merged with it whenever that buddy is also a free
 * block of the same order, so the free lists are a function of the set of free pages:
 * freeing everything that was allocated restores exactly the lists that were there. */
#include "kernel/buddy.h"

#include <errno.h>
#include <stddef.h>

static void push(struct buddy *b, uint32_t i, unsigned order)
{
	struct buddy_page *p = &b->pages[i];
	p->state = BUDDY_FREE;
	p->order = (uint8_t)order;
	p->tag = 0;
	p->prev = BUDDY_NONE;
	p->next = b->head[order];
	if (p->next != BUDDY_NONE)
		b->pages[p->next].prev = i;
	b->head[order] = i;
	b->nfree[order]++;
	b->free_pages += 1ULL << order;
}

static void unlink_free(struct buddy *b, uint32_t i)
{
	struct buddy_page *p = &b->pages[i];
	if (p->prev != BUDDY_NONE)
		b->pages[p->prev].next = p->next;
	else
		b->head[p->order] = p->next;
	if (p->next != BUDDY_NONE)
		b->pages[p->next].prev = p->prev;
	b->nfree[p->order]--;
	b->free_pages -= 1ULL << p->order;
}

void buddy_init(struct buddy *b, struct buddy_page *pages, uint32_t npages, unsigned max_order)
{
	b->pages = pages;
	b->npages = npages;
	b->max_order = max_order;
	b->free_pages = 0;
	for (unsigned o = 0; o < BUDDY_ORDERS_MAX; o++) {
		b->head[o] = BUDDY_NONE;
		b->nfree[o] = 0;
	}
	for (uint32_t i = 0; i < npages; i++)
		pages[i] = (struct buddy_page){BUDDY_NONE, BUDDY_NONE, 0, BUDDY_RESERVED, 0};
}

/* Free a block whose first page is already marked allocated, merging with its buddies. */
static void release(struct buddy *b, uint32_t i, unsigned order)
{
	while (order < b->max_order) {
		uint32_t bud = i ^ (1U << order);
		if (bud >= b->npages || b->pages[bud].state != BUDDY_FREE ||
		    b->pages[bud].order != order)
			break;
		unlink_free(b, bud);
		uint32_t hi = bud > i ? bud : i;
		b->pages[hi].state = BUDDY_TAIL;
		b->pages[hi].tag = 0;
		i = bud < i ? bud : i;
		order++;
	}
	push(b, i, order);
}

void buddy_add(struct buddy *b, uint32_t first, uint32_t n)
{
	uint64_t end = (uint64_t)first + n;
	if (end > b->npages)
		end = b->npages;
	uint64_t i = first;
	while (i < end) {
		if (b->pages[i].state != BUDDY_RESERVED) {
			i++;
			continue;
		}
		/* The largest aligned block that fits and whose pages are all still reserved. */
		unsigned order = 0;
		while (order < b->max_order && (i & ((2ULL << order) - 1)) == 0 &&
		       i + (2ULL << order) <= end)
			order++;
		for (uint64_t j = i + 1; j < i + (1ULL << order); j++) {
			if (b->pages[j].state != BUDDY_RESERVED) {
				order = 0; /* mixed run: fall back to single pages */
				break;
			}
		}
		for (uint64_t j = i + 1; j < i + (1ULL << order); j++)
			b->pages[j].state = BUDDY_TAIL;
		b->pages[i].state = BUDDY_ALLOC;
		release(b, (uint32_t)i, order);
		i += 1ULL << order;
	}
}

uint32_t buddy_alloc(struct buddy *b, unsigned order)
{
	if (order > b->max_order)
		return BUDDY_NONE;
	unsigned o = order;
	while (o <= b->max_order && b->head[o] == BUDDY_NONE)
		o++;
	if (o > b->max_order)
		return BUDDY_NONE;
	uint32_t i = b->head[o];
	unlink_free(b, i);
	while (o > order) { /* split, keeping the lower half */
		o--;
		push(b, i + (1U << o), o);
	}
	b->pages[i].state = BUDDY_ALLOC;
	b->pages[i].order = (uint8_t)order;
	b->pages[i].tag = 0;
	return i;
}

int buddy_block_order(const struct buddy *b, uint32_t idx)
{
	if (idx >= b->npages || b->pages[idx].state != BUDDY_ALLOC)
		return -EINVAL;
	return b->pages[idx].order;
}

int buddy_free(struct buddy *b, uint32_t idx, unsigned order)
{
	if (buddy_block_order(b, idx) != (int)order)
		return -EINVAL;
	b->pages[idx].tag = 0;
	release(b, idx, order);
	return 0;
}
