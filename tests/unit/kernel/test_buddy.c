/* sources: kernel/buddy.c */
/* test_buddy.c: the buddy allocator's logic on the host: splitting and merging,
 * exhaustion, every order, bad frees, holes, and a long random run against a model. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first. */
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include "kernel/buddy.h"

#define SMALL 16
#define SMALL_ORDER 4

static struct buddy *make(uint32_t npages, unsigned max_order)
{
	struct buddy *b = calloc(1, sizeof *b);
	buddy_init(b, calloc(npages, sizeof(struct buddy_page)), npages, max_order);
	return b;
}

static void destroy(struct buddy *b)
{
	free(b->pages);
	free(b);
}

static void split_and_coalesce(void **state)
{
	struct buddy *b = make(SMALL, SMALL_ORDER);
	assert_int_equal(b->free_pages, 0);
	buddy_add(b, 0, SMALL);
	assert_int_equal(b->free_pages, SMALL);
	assert_int_equal(b->nfree[SMALL_ORDER], 1);

	uint32_t p = buddy_alloc(b, 0);
	assert_int_equal(p, 0);
	for (unsigned o = 0; o < SMALL_ORDER; o++) /* the split left one buddy per order */
		assert_int_equal(b->nfree[o], 1);
	assert_int_equal(b->nfree[SMALL_ORDER], 0);
	assert_int_equal(b->free_pages, SMALL - 1);

	uint32_t q = buddy_alloc(b, 0);
	assert_int_equal(q, 1);
	assert_int_equal(buddy_free(b, p, 0), 0);
	assert_int_equal(b->nfree[SMALL_ORDER], 0); /* 1 still taken: no merge yet */
	assert_int_equal(buddy_free(b, q, 0), 0);
	assert_int_equal(b->nfree[SMALL_ORDER], 1);
	for (unsigned o = 0; o < SMALL_ORDER; o++)
		assert_int_equal(b->nfree[o], 0);
	destroy(b);
}

static void exhaustion(void **state)
{
	struct buddy *b = make(SMALL, SMALL_ORDER);
	buddy_add(b, 0, SMALL);
	uint8_t seen[SMALL] = {0};
	for (int i = 0; i < SMALL; i++) {
		uint32_t p = buddy_alloc(b, 0);
		assert_true(p < SMALL);
		assert_int_equal(seen[p], 0);
		seen[p] = 1;
	}
	assert_int_equal(buddy_alloc(b, 0), BUDDY_NONE);
	assert_int_equal(buddy_alloc(b, 3), BUDDY_NONE);
	assert_int_equal(b->free_pages, 0);
	for (uint32_t i = 0; i < SMALL; i++)
		assert_int_equal(buddy_free(b, i, 0), 0);
	assert_int_equal(buddy_alloc(b, SMALL_ORDER + 1), BUDDY_NONE); /* above max_order */
	assert_int_equal(buddy_alloc(b, SMALL_ORDER), 0);
	assert_int_equal(buddy_alloc(b, 0), BUDDY_NONE);
	destroy(b);
}

static void every_order(void **state)
{
	struct buddy *b = make(1 << 10, 10);
	buddy_add(b, 0, 1 << 10);
	for (unsigned o = 0; o <= 10; o++) {
		uint32_t p = buddy_alloc(b, o);
		assert_int_not_equal(p, BUDDY_NONE);
		assert_int_equal(p % (1U << o), 0);
		assert_int_equal(buddy_block_order(b, p), (int)o);
		assert_int_equal(b->free_pages, (1U << 10) - (1U << o));
		assert_int_equal(buddy_free(b, p, o), 0);
		assert_int_equal(b->free_pages, 1U << 10);
		assert_int_equal(b->nfree[10], 1);
	}
	destroy(b);
}

static void bad_frees(void **state)
{
	struct buddy *b = make(SMALL, SMALL_ORDER);
	buddy_add(b, 0, SMALL);
	uint32_t p = buddy_alloc(b, 2);
	assert_int_equal(buddy_free(b, p, 1), -EINVAL);	    /* wrong order */
	assert_int_equal(buddy_free(b, p + 1, 0), -EINVAL); /* inside the block */
	assert_int_equal(buddy_free(b, SMALL, 0), -EINVAL); /* out of range */
	assert_int_equal(buddy_free(b, 8, 3), -EINVAL);	    /* a free block */
	assert_int_equal(buddy_block_order(b, p + 1), -EINVAL);
	assert_int_equal(b->free_pages, SMALL - 4);
	b->pages[p].tag = 7;
	assert_int_equal(buddy_free(b, p, 2), 0);
	assert_int_equal(b->pages[p].tag, 0);
	assert_int_equal(buddy_free(b, p, 2), -EINVAL); /* double free */
	assert_int_equal(b->free_pages, SMALL);
	destroy(b);
}

static void holes_and_overlaps(void **state)
{
	struct buddy *b = make(100, 5);
	buddy_add(b, 3, 47);   /* [3, 50) */
	buddy_add(b, 60, 40);  /* [60, 100) */
	buddy_add(b, 40, 30);  /* overlaps both: only [50, 60) is new */
	buddy_add(b, 90, 100); /* runs past the end: clipped, all known */
	assert_int_equal(b->free_pages, 97);
	uint32_t n = 0, p;
	while ((p = buddy_alloc(b, 0)) != BUDDY_NONE) {
		assert_true(p >= 3 && p < 100);
		n++;
	}
	assert_int_equal(n, 97);
	assert_int_equal(b->pages[0].state, BUDDY_RESERVED);
	destroy(b);
}

/* Random allocations and frees of random orders, every result checked against a
 * page-by-page model; at the end everything is freed and the lists must be exactly
 * what they were after buddy_add. */
#define RND_PAGES 1000
#define RND_ORDER 6
#define RND_STEPS 100000
#define RND_LIVE 400

static void random_against_model(void **state)
{
	struct buddy *b = make(RND_PAGES, RND_ORDER);
	uint8_t usable[RND_PAGES] = {0}, taken[RND_PAGES] = {0};
	for (uint32_t i = 5; i < 300; i++)
		usable[i] = 1;
	for (uint32_t i = 333; i < RND_PAGES - 7; i++)
		usable[i] = 1;
	buddy_add(b, 5, 295);
	buddy_add(b, 333, RND_PAGES - 7 - 333);
	uint32_t initial[BUDDY_ORDERS_MAX];
	memcpy(initial, b->nfree, sizeof initial);
	uint64_t model_free = 0;
	for (int i = 0; i < RND_PAGES; i++)
		model_free += usable[i];
	assert_int_equal(b->free_pages, model_free);

	struct {
		uint32_t idx;
		unsigned order;
	} live[RND_LIVE];
	int nlive = 0;
	srand(12345);
	for (int step = 0; step < RND_STEPS; step++) {
		if (nlive < RND_LIVE && (nlive == 0 || rand() % 2)) {
			unsigned order = (unsigned)(rand() % (RND_ORDER + 2)); /* some too big */
			uint32_t p = buddy_alloc(b, order);
			if (p == BUDDY_NONE)
				continue;
			assert_true(order <= RND_ORDER);
			assert_int_equal(p % (1U << order), 0);
			assert_true(p + (1U << order) <= RND_PAGES);
			for (uint32_t j = p; j < p + (1U << order); j++) {
				assert_true(usable[j]);
				assert_false(taken[j]);
				taken[j] = 1;
			}
			model_free -= 1U << order;
			live[nlive].idx = p;
			live[nlive++].order = order;
		} else {
			int k = rand() % nlive;
			uint32_t p = live[k].idx;
			unsigned order = live[k].order;
			assert_int_equal(buddy_free(b, p, order), 0);
			assert_int_equal(buddy_free(b, p, order), -EINVAL);
			for (uint32_t j = p; j < p + (1U << order); j++)
				taken[j] = 0;
			model_free += 1U << order;
			live[k] = live[--nlive];
		}
		assert_int_equal(b->free_pages, model_free);
	}
	while (nlive > 0) {
		nlive--;
		assert_int_equal(buddy_free(b, live[nlive].idx, live[nlive].order), 0);
	}
	assert_memory_equal(initial, b->nfree, sizeof initial);
	destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_and_coalesce), cmocka_unit_test(exhaustion),
		cmocka_unit_test(every_order),	      cmocka_unit_test(bad_frees),
		cmocka_unit_test(holes_and_overlaps), cmocka_unit_test(random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
