/* heap.c: kmalloc and friends: slab.c's size classes for small objects, whole
 * page-allocator blocks for large ones, one spinlock.
 *
 * kfree learns what a pointer is from the page allocator's per-page tag: the first
 * page of a large block reads HEAP_TAG_LARGE (its order is the block's), every page of
 * a slab reads HEAP_TAG_SLAB plus its index within the slab, which leads to the slab's
 * header. Anything else was never handed out by the heap (or was already freed), and
 * freeing it is a kernel bug worth a panic. Each class keeps its slabs that have free
 * objects on one list; full slabs are on no list. At most KEEP_EMPTY empty slabs per
 * class stay cached, the rest go back to the page allocator. */
#include "kernel/heap.h"

#include <string.h>

#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/slab.h"
#include "kernel/spinlock.h"
#include "kernel/vmm.h"

_Static_assert(SLAB_PAGE_SIZE == PAGE_SIZE, "slab.h and vmm.h disagree on the page size");

#define HEAP_TAG_LARGE 0x0100
#define HEAP_TAG_SLAB 0x0200 /* | page index within the slab */
#define HEAP_TAG_KIND 0xff00
#define HEAP_TAG_INDEX 0x00ff
#define KEEP_EMPTY 1
#define LARGE_MAX (PAGE_SIZE << PMM_MAX_ORDER)

struct size_class {
	struct slab *partial; /* slabs with at least one free object */
	unsigned empty;	      /* how many of them have no object in use */
};

static struct size_class classes[SLAB_CLASSES];
static struct spinlock lock = SPINLOCK_INIT("heap");
static struct heap_stats stats;

void heap_init(void)
{
	kdebug("heap: %d size classes, %lu to %lu bytes", SLAB_CLASSES, slab_class_size(0),
	       slab_class_size(SLAB_CLASSES - 1));
}

static void push(struct size_class *c, struct slab *s)
{
	s->prev = NULL;
	s->next = c->partial;
	if (s->next)
		s->next->prev = s;
	c->partial = s;
}

static void unlink_slab(struct size_class *c, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->partial = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void set_tags(uint64_t pa, unsigned order, uint16_t kind)
{
	for (unsigned i = 0; i < (1U << order); i++)
		pmm_set_tag(pa + i * PAGE_SIZE, kind ? (uint16_t)(kind | i) : 0);
}

static struct slab *new_slab(int cls)
{
	unsigned order = slab_class_order(cls);
	uint64_t pa = pmm_alloc_order(order);
	if (!pa)
		return NULL;
	set_tags(pa, order, HEAP_TAG_SLAB);
	stats.bytes_reserved += PAGE_SIZE << order;
	return slab_init(P2V(pa), cls);
}

static void *alloc_small(int cls)
{
	struct size_class *c = &classes[cls];
	struct slab *s = c->partial;
	if (!s) {
		if (!(s = new_slab(cls)))
			return NULL;
		push(c, s);
		c->empty++;
	}
	if (slab_empty(s))
		c->empty--;
	void *p = slab_alloc(s);
	if (slab_full(s))
		unlink_slab(c, s);
	stats.bytes_in_use += slab_class_size(cls);
	return p;
}

static void *alloc_large(size_t size)
{
	unsigned order = 0;
	while ((PAGE_SIZE << order) < size)
		order++;
	uint64_t pa = pmm_alloc_order(order);
	if (!pa)
		return NULL;
	pmm_set_tag(pa, HEAP_TAG_LARGE);
	stats.bytes_in_use += PAGE_SIZE << order;
	stats.bytes_reserved += PAGE_SIZE << order;
	return P2V(pa);
}

void *kmalloc_aligned(size_t size, size_t align)
{
	void *p = NULL;
	spin_lock(&lock);
	if (align && !(align & (align - 1)) && align <= PAGE_SIZE && size <= LARGE_MAX) {
		int cls = slab_class(size, align);
		/* Large blocks are page-aligned, which covers every allowed alignment. */
		p = cls >= 0 ? alloc_small(cls) : alloc_large(size);
	}
	if (p)
		stats.allocations++;
	else
		stats.failures++;
	spin_unlock(&lock);
	return p;
}

void *kmalloc(size_t size) { return kmalloc_aligned(size, 1); }

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

static void free_small(struct slab *s, void *p)
{
	if (s->magic != SLAB_MAGIC || s->cls >= SLAB_CLASSES)
		panic("kfree(%p): slab header at %p is corrupt", p, (void *)s);
	struct size_class *c = &classes[s->cls];
	int was_full = slab_full(s);
	enum slab_err err = slab_free(s, p);
	if (err == SLAB_DOUBLE_FREE)
		panic("kfree(%p): double free", p);
	if (err != SLAB_OK)
		panic("kfree(%p): not the start of an object the heap gave out", p);
	stats.bytes_in_use -= slab_class_size(s->cls);
	if (was_full)
		push(c, s);
	if (!slab_empty(s))
		return;
	if (++c->empty <= KEEP_EMPTY)
		return;
	c->empty--;
	unlink_slab(c, s);
	s->magic = 0;
	uint64_t pa = V2P(s);
	set_tags(pa, s->order, 0);
	stats.bytes_reserved -= PAGE_SIZE << s->order;
	pmm_free_order(pa, s->order);
}

void kfree(void *p)
{
	if (!p)
		return;
	uint64_t pa = V2P(p), page = pa & ~(PAGE_SIZE - 1);
	spin_lock(&lock);
	uint16_t tag = (uint64_t)p < DIRECT_MAP_BASE ? 0 : pmm_tag(page);
	if (tag == HEAP_TAG_LARGE && pa == page) {
		int order = pmm_block_order(pa);
		if (order < 0)
			panic("kfree(%p): large block lost its order", p);
		pmm_set_tag(pa, 0);
		stats.bytes_in_use -= PAGE_SIZE << order;
		stats.bytes_reserved -= PAGE_SIZE << order;
		pmm_free_order(pa, (unsigned)order);
	} else if ((tag & HEAP_TAG_KIND) == HEAP_TAG_SLAB) {
		free_small(P2V(page - (tag & HEAP_TAG_INDEX) * PAGE_SIZE), p);
	} else {
		panic("kfree(%p): never returned by kmalloc, or already freed", p);
	}
	stats.frees++;
	spin_unlock(&lock);
}

void heap_stats(struct heap_stats *s)
{
	spin_lock(&lock);
	*s = stats;
	spin_unlock(&lock);
}
