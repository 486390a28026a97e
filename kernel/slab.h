/* slab.h: size classes and the layout of one slab, pure logic (no kernel includes, no
 * locking) so the host unit tests build it unchanged. The heap (heap.c) keeps the lists
 * of slabs, the locking and the page allocator calls.
 *
 * Classes are powers of two from 16 B to 2 KiB. A slab is 2^order pages, naturally
 * aligned; its header sits in the first slot(s), and slot i lies at i * size from the
 * slab's start, so every object is aligned to its class size: asking for alignment A
 * just means a class of at least A. A bitmap says which slots are free, which makes a
 * double free or a pointer into the middle of an object detectable. */
#ifndef KERNEL_SLAB_H
#define KERNEL_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define SLAB_PAGE_SIZE 4096
#define SLAB_MIN_SHIFT 4  /* 16 B */
#define SLAB_MAX_SHIFT 11 /* 2 KiB */
#define SLAB_CLASSES (SLAB_MAX_SHIFT - SLAB_MIN_SHIFT + 1)
#define SLAB_MAX_SIZE (1UL << SLAB_MAX_SHIFT)
#define SLAB_MIN_SLOTS 8 /* a slab holds at least this many slots */
#define SLAB_MAX_SLOTS (SLAB_PAGE_SIZE >> SLAB_MIN_SHIFT)
#define SLAB_MAGIC 0x51ab51abU

enum slab_err { SLAB_OK = 0, SLAB_BAD_POINTER = -1, SLAB_DOUBLE_FREE = -2 };

struct slab {
	uint32_t magic;
	uint8_t cls;
	uint8_t order;	/* slab is SLAB_PAGE_SIZE << order bytes */
	uint16_t first; /* first object slot (the header fills those below) */
	uint16_t nslots, nfree;
	struct slab *next, *prev;	       /* for the owner's lists */
	uint64_t freemap[SLAB_MAX_SLOTS / 64]; /* bit set: slot free */
};

/* The class for `size` bytes aligned to `align` (a power of two), or -1 when the
 * object is too big for a slab. Size 0 gets the smallest class. */
int slab_class(size_t size, size_t align);
size_t slab_class_size(int cls);
/* Pages of a slab of this class, as an order: 2^order pages. */
unsigned slab_class_order(int cls);
/* Objects a slab of this class holds. */
unsigned slab_class_objects(int cls);

/* Lay out a slab of class cls in the (SLAB_PAGE_SIZE << order)-byte block at mem. */
struct slab *slab_init(void *mem, int cls);
/* A free object from s, or NULL when s is full. */
void *slab_alloc(struct slab *s);
/* Return p to s: SLAB_OK, SLAB_BAD_POINTER (not the start of an object of s) or
 * SLAB_DOUBLE_FREE (already free). Nothing changes on error. */
enum slab_err slab_free(struct slab *s, void *p);

static inline int slab_full(const struct slab *s) { return s->nfree == 0; }
static inline int slab_empty(const struct slab *s) { return s->nfree == s->nslots - s->first; }

#endif
