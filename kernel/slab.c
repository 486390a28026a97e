/* slab.c: size classes and object bookkeeping inside one slab (see slab.h). */
#include "kernel/slab.h"

_Static_assert(sizeof(struct slab) <= SLAB_MAX_SIZE, "slab header must fit one big slot");

int slab_class(size_t size, size_t align)
{
	if (size < align)
		size = align;
	if (size > SLAB_MAX_SIZE)
		return -1;
	int cls = 0;
	while ((1UL << (SLAB_MIN_SHIFT + cls)) < size)
		cls++;
	return cls;
}

size_t slab_class_size(int cls) { return 1UL << (SLAB_MIN_SHIFT + cls); }

unsigned slab_class_order(int cls)
{
	unsigned order = 0;
	while ((SLAB_PAGE_SIZE << order) / slab_class_size(cls) < SLAB_MIN_SLOTS)
		order++;
	return order;
}

static unsigned header_slots(int cls)
{
	size_t size = slab_class_size(cls);
	return (unsigned)((sizeof(struct slab) + size - 1) / size);
}

unsigned slab_class_objects(int cls)
{
	return (unsigned)((SLAB_PAGE_SIZE << slab_class_order(cls)) / slab_class_size(cls)) -
	       header_slots(cls);
}

struct slab *slab_init(void *mem, int cls)
{
	struct slab *s = mem;
	s->magic = SLAB_MAGIC;
	s->cls = (uint8_t)cls;
	s->order = (uint8_t)slab_class_order(cls);
	s->nslots = (uint16_t)((SLAB_PAGE_SIZE << s->order) / slab_class_size(cls));
	s->first = (uint16_t)header_slots(cls);
	s->nfree = (uint16_t)(s->nslots - s->first);
	s->next = s->prev = NULL;
	for (unsigned w = 0; w < SLAB_MAX_SLOTS / 64; w++)
		s->freemap[w] = 0;
	for (unsigned i = s->first; i < s->nslots; i++)
		s->freemap[i / 64] |= 1ULL << (i % 64);
	return s;
}

void *slab_alloc(struct slab *s)
{
	if (s->nfree == 0)
		return NULL;
	for (unsigned w = 0; w < SLAB_MAX_SLOTS / 64; w++) {
		if (s->freemap[w]) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(s->freemap[w]);
			s->freemap[w] &= ~(1ULL << (i % 64));
			s->nfree--;
			return (char *)s + (size_t)i * slab_class_size(s->cls);
		}
	}
	return NULL; /* unreachable while nfree matches the map */
}

enum slab_err slab_free(struct slab *s, void *p)
{
	size_t size = slab_class_size(s->cls);
	uintptr_t off = (uintptr_t)p - (uintptr_t)s;
	if ((uintptr_t)p < (uintptr_t)s || off % size || off / size >= s->nslots ||
	    off / size < s->first)
		return SLAB_BAD_POINTER;
	unsigned i = (unsigned)(off / size);
	if (s->freemap[i / 64] & (1ULL << (i % 64)))
		return SLAB_DOUBLE_FREE;
	s->freemap[i / 64] |= 1ULL << (i % 64);
	s->nfree++;
	return SLAB_OK;
}
