/* mem.c: the cluster core's memory, from the C library on the host and from the kernel
 * heap in the kernel (declared here so that the core includes nothing from kernel/). */
#include <errno.h>
#include <string.h>

#include "sched/cluster/internal.h"

#if __STDC_HOSTED__
#include <stdlib.h>
#define raw_alloc malloc
#define raw_free free
#else
void *kmalloc(size_t size);
void kfree(void *p);
#define raw_alloc kmalloc
#define raw_free kfree
#endif

void *cl_alloc(size_t n) { return raw_alloc(n ? n : 1); }

void *cl_zalloc(size_t n)
{
	void *p = cl_alloc(n);
	if (p)
		memset(p, 0, n ? n : 1);
	return p;
}

void cl_free(void *p)
{
	if (p)
		raw_free(p);
}

int cl_grow(void **p, size_t old, size_t new)
{
	void *q;
	if (new <= old)
		return 0;
	q = cl_alloc(new);
	if (!q)
		return -ENOMEM;
	if (*p && old)
		memcpy(q, *p, old);
	memset((uint8_t *)q + old, 0, new - old);
	cl_free(*p);
	*p = q;
	return 0;
}
