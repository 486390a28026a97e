/* sources: kernel/slab.c */
/* test_slab.c: the heap's size-class logic on the host: class choice, alignment,
 * slab layout, fill and drain, double-free and bad-pointer detection. */
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

#include "kernel/slab.h"

static void classes(void **state)
{
	assert_int_equal(slab_class(0, 1), 0);
	assert_int_equal(slab_class(1, 1), 0);
	assert_int_equal(slab_class(16, 1), 0);
	assert_int_equal(slab_class(17, 1), 1);
	assert_int_equal(slab_class(2048, 1), SLAB_CLASSES - 1);
	assert_int_equal(slab_class(2049, 1), -1);
	assert_int_equal(slab_class(8, 256), slab_class(256, 1)); /* alignment picks the class */
	assert_int_equal(slab_class(8, 4096), -1);
	for (int c = 0; c < SLAB_CLASSES; c++) {
		size_t size = slab_class_size(c);
		assert_int_equal(size, 16UL << c);
		assert_int_equal(slab_class(size, 1), c);
		assert_int_equal(slab_class(size / 2 + 1, 1), c);
		assert_true(slab_class_objects(c) >= SLAB_MIN_SLOTS - 1);
		assert_true((SLAB_PAGE_SIZE << slab_class_order(c)) / size <= SLAB_MAX_SLOTS);
	}
}

static void *slab_memory(int cls)
{
	size_t bytes = SLAB_PAGE_SIZE << slab_class_order(cls);
	void *m = aligned_alloc(bytes, bytes);
	assert_non_null(m);
	return m;
}

static void fill_and_drain(void **state)
{
	for (int c = 0; c < SLAB_CLASSES; c++) {
		size_t size = slab_class_size(c), bytes = SLAB_PAGE_SIZE << slab_class_order(c);
		struct slab *s = slab_init(slab_memory(c), c);
		unsigned n = slab_class_objects(c);
		assert_true(slab_empty(s));
		void **objs = calloc(n, sizeof *objs);
		for (unsigned i = 0; i < n; i++) {
			objs[i] = slab_alloc(s);
			assert_non_null(objs[i]);
			uintptr_t off = (uintptr_t)objs[i] - (uintptr_t)s;
			assert_int_equal(off % size, 0);	 /* aligned to the class */
			assert_true(off >= sizeof(struct slab)); /* clear of the header */
			assert_true(off + size <= bytes);	 /* inside the slab */
			memset(objs[i], (int)i, size);		 /* ASan sees overruns */
			for (unsigned j = 0; j < i; j++)
				assert_ptr_not_equal(objs[i], objs[j]);
		}
		assert_true(slab_full(s));
		assert_null(slab_alloc(s));
		assert_int_equal(s->magic, SLAB_MAGIC); /* objects did not hit the header */
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(slab_free(s, objs[i]), SLAB_OK);
		assert_true(slab_empty(s));
		free(objs);
		free(s);
	}
}

static void bad_frees(void **state)
{
	int c = slab_class(64, 1);
	struct slab *s = slab_init(slab_memory(c), c);
	char *p = slab_alloc(s);
	char *q = slab_alloc(s);
	assert_int_equal(slab_free(s, p + 1), SLAB_BAD_POINTER);     /* mid-object */
	assert_int_equal(slab_free(s, (char *)s), SLAB_BAD_POINTER); /* the header */
	assert_int_equal(slab_free(s, (char *)s + SLAB_PAGE_SIZE), SLAB_BAD_POINTER); /* past */
	assert_int_equal(slab_free(s, (char *)s - 64), SLAB_BAD_POINTER);	      /* before */
	assert_int_equal(slab_free(s, p), SLAB_OK);
	assert_int_equal(slab_free(s, p), SLAB_DOUBLE_FREE);
	assert_int_equal(slab_free(s, q + 2 * 64), SLAB_DOUBLE_FREE); /* never allocated */
	assert_int_equal(slab_free(s, q), SLAB_OK);
	assert_true(slab_empty(s));
	/* A freed slot is handed out again. */
	assert_ptr_equal(slab_alloc(s), p);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classes),
		cmocka_unit_test(fill_and_drain),
		cmocka_unit_test(bad_frees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
