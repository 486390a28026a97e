/* heap_test.c: self-tests of the kernel heap: many objects of every class without
 * overlap, alignment, large blocks, failures, and statistics that balance. */
#include <stdint.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/pmm.h"
#include "kernel/selftest.h"
#include "kernel/slab.h"
#include "kernel/vmm.h"

#define PER_CLASS 64
#define MAX_ALIGN PAGE_SIZE

/* Fill p with a byte derived from its number; return 1 if it still holds it. */
static void fill(uint8_t *p, size_t n, unsigned id) { memset(p, (int)(id * 37 + 11) & 0xff, n); }
static int intact(const uint8_t *p, size_t n, unsigned id)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ((id * 37 + 11) & 0xff))
			return 0;
	return 1;
}

SELFTEST(heap_small_objects)
{
	static void *objs[SLAB_CLASSES][PER_CLASS];
	struct heap_stats s0, s1, s2;
	heap_stats(&s0);
	for (int c = 0; c < SLAB_CLASSES; c++) {
		size_t size = slab_class_size(c);
		for (unsigned i = 0; i < PER_CLASS; i++) {
			/* Odd sizes too: anything above half the class lands in it. */
			size_t n = i % 2 ? size : size / 2 + 1;
			uint8_t *p = kmalloc(n);
			CHECK(p != NULL);
			CHECK((uint64_t)p % size == 0); /* natural alignment of the class */
			fill(p, size, c * PER_CLASS + i);
			objs[c][i] = p;
		}
	}
	heap_stats(&s1);
	CHECK(s1.allocations - s0.allocations == SLAB_CLASSES * PER_CLASS);
	CHECK(s1.bytes_in_use > s0.bytes_in_use);
	CHECK(s1.bytes_reserved >= s1.bytes_in_use - s0.bytes_in_use);
	int overlap = 0;
	for (int c = 0; c < SLAB_CLASSES; c++)
		for (unsigned i = 0; i < PER_CLASS; i++)
			overlap += !intact(objs[c][i], slab_class_size(c), c * PER_CLASS + i);
	CHECK(overlap == 0);
	for (int c = 0; c < SLAB_CLASSES; c++)
		for (unsigned i = 0; i < PER_CLASS; i++)
			kfree(objs[c][i]);
	heap_stats(&s2);
	CHECK(s2.frees - s0.frees == SLAB_CLASSES * PER_CLASS);
	CHECK(s2.bytes_in_use == s0.bytes_in_use);
	/* Empty slabs went back, but for one cached per class. */
	size_t cache = 0;
	for (int c = 0; c < SLAB_CLASSES; c++)
		cache += PAGE_SIZE << slab_class_order(c);
	CHECK(s2.bytes_reserved <= s0.bytes_reserved + cache);
	return 0;
}

SELFTEST(heap_aligned_and_large)
{
	struct heap_stats s0, s1;
	heap_stats(&s0);
	for (size_t align = 1; align <= MAX_ALIGN; align <<= 1) {
		void *a = kmalloc_aligned(24, align), *b = kmalloc_aligned(align + 8, align);
		CHECK(a && b);
		CHECK((uint64_t)a % align == 0);
		CHECK((uint64_t)b % align == 0);
		kfree(a);
		kfree(b);
	}
	CHECK(kmalloc_aligned(16, 3) == NULL);		   /* not a power of two */
	CHECK(kmalloc_aligned(16, 2 * PAGE_SIZE) == NULL); /* beyond the contract */

	uint8_t *big = kmalloc(3 * PAGE_SIZE + 1);
	CHECK(big != NULL);
	CHECK((uint64_t)big % PAGE_SIZE == 0);
	memset(big, 0xab, 3 * PAGE_SIZE + 1);
	uint8_t *z = kzalloc(10000);
	CHECK(z != NULL);
	int nonzero = 0;
	for (size_t i = 0; i < 10000; i++)
		nonzero |= z[i];
	CHECK(nonzero == 0);
	CHECK(big[3 * PAGE_SIZE] == 0xab);
	kfree(big);
	kfree(z);
	kfree(NULL);

	uint64_t before = pmm_free_bytes();
	CHECK(kmalloc((PAGE_SIZE << PMM_MAX_ORDER) + 1) == NULL);
	CHECK(kmalloc(SIZE_MAX) == NULL);
	CHECK(kzalloc(SIZE_MAX - 5) == NULL);
	CHECK(pmm_free_bytes() == before);
	heap_stats(&s1);
	CHECK(s1.failures - s0.failures == 5);
	CHECK(s1.allocations - s0.allocations == s1.frees - s0.frees);
	CHECK(s1.bytes_in_use == s0.bytes_in_use);
	return 0;
}

/* Until memory runs out: the heap must say NULL, not crash, and recover afterwards. */
SELFTEST(heap_exhaustion)
{
	struct heap_stats s0, s1;
	heap_stats(&s0);
	void *chain = NULL;
	unsigned n = 0;
	for (;;) {
		void **p = kmalloc(n % 3 ? 1024 : 2 * PAGE_SIZE);
		if (!p)
			break;
		*p = chain;
		chain = p;
		n++;
	}
	CHECK(n > 0);
	while (chain) {
		void *next = *(void **)chain;
		kfree(chain);
		chain = next;
	}
	heap_stats(&s1);
	CHECK(s1.failures == s0.failures + 1);
	CHECK(s1.bytes_in_use == s0.bytes_in_use);
	void *p = kmalloc(100);
	CHECK(p != NULL);
	kfree(p);
	return 0;
}
