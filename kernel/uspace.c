/* uspace.c: a task's address space - regions, demand paging, brk/mmap/munmap/mprotect
 * and the memory limit. Regions are kept in a sorted array (tasks have tens of them);
 * adjacent regions of the same kind and protection are merged so a growing brk heap
 * stays one region. Pages are allocated one at a time, zeroed, when first touched (by the
 * task or by the kernel copying on its behalf); a page of a PROT_NONE region is kept
 * mapped supervisor-only so its contents survive an mprotect back. */
#include "kernel/uspace.h"

#include <errno.h>
#include <string.h>

#include "arch/upt.h"
#include "kernel/heap.h"
#include "kernel/pmm.h"
#include "kernel/smp.h"
#include "kernel/sync.h"
#include "kernel/vmm.h"

#define REGIONS_MIN 16
#define REGIONS_MAX 4096 /* like Linux's map count limit, smaller */
#define UNMAP_BATCH 32	 /* pages unmapped per TLB shootdown */

struct region {
	uint64_t start, end;
	int prot;
	enum region_kind kind;
};

struct uspace {
	uint64_t root;
	struct mutex lock;
	struct region *regs;
	int nregs, cap;
	uint64_t brk_base, brk; /* the heap region is [brk_base, page_up(brk)) */
	uint64_t pages;		/* resident user pages */
	uint64_t reserved;	/* bytes of regions other than the stack */
	int64_t charged;	/* bytes charged by other modules */
	uint64_t limit;
	bool shared;
};

static uint64_t page_up(uint64_t v) { return (v + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }
static uint64_t page_down(uint64_t v) { return v & ~(PAGE_SIZE - 1); }

struct uspace *uspace_create(uint64_t limit)
{
	struct uspace *us = kzalloc(sizeof *us);
	if (!us)
		return NULL;
	us->regs = kmalloc(REGIONS_MIN * sizeof *us->regs);
	us->root = upt_create();
	if (!us->regs || !us->root) {
		if (us->root)
			upt_destroy(us->root, NULL);
		kfree(us->regs);
		kfree(us);
		return NULL;
	}
	us->cap = REGIONS_MIN;
	us->limit = limit;
	mutex_init(&us->lock);
	return us;
}

static bool shared(uint64_t pa) { return pmm_tag(pa) == USPACE_SHARED_TAG; }

static void free_user_page(uint64_t pa)
{
	if (!shared(pa))
		pmm_free_order(pa, 0);
}

void uspace_destroy(struct uspace *us)
{
	if (!us)
		return;
	upt_destroy(us->root, free_user_page);
	kfree(us->regs);
	kfree(us);
}

uint64_t uspace_root(struct uspace *us) { return us->root; }
void uspace_set_shared(struct uspace *us, bool shared) { us->shared = shared; }

static uint64_t mem_locked(struct uspace *us)
{
	int64_t m = (int64_t)(us->pages * PAGE_SIZE) + us->charged;
	return m < 0 ? 0 : (uint64_t)m;
}

uint64_t uspace_mem(struct uspace *us) { return mem_locked(us); }
uint64_t uspace_limit(struct uspace *us) { return us->limit; }

int uspace_charge(struct uspace *us, int64_t bytes)
{
	mutex_lock(&us->lock);
	int err = 0;
	if (bytes > 0 && mem_locked(us) + (uint64_t)bytes > us->limit)
		err = -ENOMEM;
	else
		us->charged += bytes;
	mutex_unlock(&us->lock);
	return err;
}

/* Index of the region holding va, or -1. */
static int find(struct uspace *us, uint64_t va)
{
	int lo = 0, hi = us->nregs - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		struct region *r = &us->regs[mid];
		if (va < r->start)
			hi = mid - 1;
		else if (va >= r->end)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

/* Index of the first region ending after va (nregs if none). */
static int first_after(struct uspace *us, uint64_t va)
{
	int i = 0;
	while (i < us->nregs && us->regs[i].end <= va)
		i++;
	return i;
}

static bool overlaps(struct uspace *us, uint64_t start, uint64_t end)
{
	int i = first_after(us, start);
	return i < us->nregs && us->regs[i].start < end;
}

static uint64_t counted(const struct region *r)
{
	return r->kind == REGION_STACK ? 0 : r->end - r->start;
}

static int insert_at(struct uspace *us, int i, struct region r)
{
	if (us->nregs == us->cap) {
		if (us->cap >= REGIONS_MAX)
			return -ENOMEM;
		struct region *n = kmalloc(2 * us->cap * sizeof *n);
		if (!n)
			return -ENOMEM;
		memcpy(n, us->regs, us->nregs * sizeof *n);
		kfree(us->regs);
		us->regs = n;
		us->cap *= 2;
	}
	memmove(&us->regs[i + 1], &us->regs[i], (us->nregs - i) * sizeof r);
	us->regs[i] = r;
	us->nregs++;
	us->reserved += counted(&r);
	return 0;
}

static void remove_at(struct uspace *us, int i)
{
	us->reserved -= counted(&us->regs[i]);
	memmove(&us->regs[i], &us->regs[i + 1], (us->nregs - i - 1) * sizeof us->regs[0]);
	us->nregs--;
}

static bool same(const struct region *a, const struct region *b)
{
	return a->end == b->start && a->prot == b->prot && a->kind == b->kind;
}

/* Merge region i with the one after it while that continues it (same kind and
 * protection): the reserved total does not change. */
static void merge_next(struct uspace *us, int i)
{
	while (i + 1 < us->nregs && same(&us->regs[i], &us->regs[i + 1])) {
		us->regs[i].end = us->regs[i + 1].end;
		memmove(&us->regs[i + 1], &us->regs[i + 2],
			(us->nregs - i - 2) * sizeof us->regs[0]);
		us->nregs--;
	}
}

static int add_locked(struct uspace *us, uint64_t va, uint64_t len, int prot, enum region_kind kind)
{
	if (va % PAGE_SIZE || len % PAGE_SIZE || !len || va < USPACE_LOW || va > USPACE_TOP ||
	    len > USPACE_TOP - va)
		return -EINVAL;
	if (overlaps(us, va, va + len))
		return -EEXIST;
	struct region r = {va, va + len, prot, kind};
	if (kind != REGION_STACK &&
	    us->reserved + len + (uint64_t)(us->charged > 0 ? us->charged : 0) > us->limit)
		return -ENOMEM;
	int i = first_after(us, va);
	int err = insert_at(us, i, r);
	if (err)
		return err;
	merge_next(us, i);
	if (i > 0)
		merge_next(us, i - 1);
	return 0;
}

int uspace_add(struct uspace *us, uint64_t va, uint64_t len, int prot, enum region_kind kind)
{
	mutex_lock(&us->lock);
	int err = add_locked(us, va, len, prot, kind);
	mutex_unlock(&us->lock);
	return err;
}

void uspace_set_brk(struct uspace *us, uint64_t base)
{
	mutex_lock(&us->lock);
	us->brk_base = us->brk = page_up(base);
	mutex_unlock(&us->lock);
}

static uint64_t pte_flags(int prot)
{
	if (prot == PROT_NONE)
		return 0; /* present for the kernel only: the task faults */
	return VMM_USER | (prot & PROT_WRITE ? VMM_WRITE : 0) | (prot & PROT_EXEC ? VMM_EXEC : 0);
}

/* The physical address of va (its page mapped, zeroed, first if needed). For the kernel's
 * own copies (`force`), any region will do. */
static int page_in(struct uspace *us, uint64_t va, bool write, bool exec, bool force,
		   uint64_t *pa_out)
{
	int i = find(us, va);
	if (i < 0)
		return -EFAULT;
	const struct region *r = &us->regs[i];
	if (!force && ((write && !(r->prot & PROT_WRITE)) || (exec && !(r->prot & PROT_EXEC)) ||
		       !(r->prot & (PROT_READ | PROT_WRITE | PROT_EXEC))))
		return -EFAULT;
	uint64_t page = page_down(va), pa;
	if (vmm_lookup(us->root, page, &pa, NULL) == 0) {
		*pa_out = pa + va % PAGE_SIZE;
		return 0;
	}
	if (mem_locked(us) + PAGE_SIZE > us->limit)
		return -ENOMEM;
	void *p = pmm_alloc_kva(PAGE_SIZE);
	if (!p)
		return -ENOMEM;
	int err = vmm_map(us->root, page, V2P(p), pte_flags(r->prot));
	if (err) {
		pmm_free_kva(p, PAGE_SIZE);
		return err == -ENOMEM ? -ENOMEM : -EFAULT;
	}
	us->pages++;
	*pa_out = V2P(p) + va % PAGE_SIZE;
	return 0;
}

int uspace_fault(struct uspace *us, uint64_t va, bool write, bool exec)
{
	uint64_t pa;
	mutex_lock(&us->lock);
	int err = page_in(us, va, write, exec, false, &pa);
	if (!err) {
		/* Mapped already, yet the task faulted: the access is not allowed (PROT_NONE,
		 * or a write to a page mapped before an mprotect made it writable). */
		uint64_t flags = 0;
		vmm_lookup(us->root, page_down(va), &pa, &flags);
		int want = pte_flags(us->regs[find(us, va)].prot);
		if ((flags & VMM_USER) != (want & VMM_USER) || (write && !(flags & VMM_WRITE)))
			err = -EFAULT;
	}
	mutex_unlock(&us->lock);
	return err;
}

int uspace_map_shared(struct uspace *us, uint64_t va, uint64_t pa)
{
	mutex_lock(&us->lock);
	int i = find(us, va), err = -EFAULT;
	if (i >= 0) {
		err = vmm_map(us->root, page_down(va), pa,
			      pte_flags(us->regs[i].prot & ~PROT_WRITE));
		if (err == -EINVAL)
			err = -EFAULT;
	}
	mutex_unlock(&us->lock);
	return err;
}

enum dir { TO_KERNEL, TO_USER, LOAD };

static int copy(struct uspace *us, uint64_t va, void *kbuf, size_t n, enum dir d)
{
	if (va + n < va || va + n > USPACE_TOP)
		return -EFAULT;
	mutex_lock(&us->lock);
	int err = 0;
	uint8_t *k = kbuf;
	while (n) {
		uint64_t pa;
		size_t chunk = PAGE_SIZE - va % PAGE_SIZE;
		if (chunk > n)
			chunk = n;
		err = page_in(us, va, d != TO_KERNEL, false, d == LOAD, &pa);
		if (err) {
			err = d == LOAD ? err : -EFAULT;
			break;
		}
		if (d == TO_KERNEL)
			memcpy(k, P2V(pa), chunk);
		else
			memcpy(P2V(pa), k, chunk);
		va += chunk;
		k += chunk;
		n -= chunk;
	}
	mutex_unlock(&us->lock);
	return err;
}

int uspace_read(struct uspace *us, void *dst, uint64_t va, size_t n)
{
	return copy(us, va, dst, n, TO_KERNEL);
}

int uspace_write(struct uspace *us, uint64_t va, const void *src, size_t n)
{
	return copy(us, va, (void *)src, n, TO_USER);
}

int uspace_load(struct uspace *us, uint64_t va, const void *src, size_t n)
{
	return copy(us, va, (void *)src, n, LOAD);
}

long uspace_strncpy(struct uspace *us, char *dst, uint64_t va, size_t max)
{
	if (!max)
		return -ENAMETOOLONG;
	mutex_lock(&us->lock);
	long len = 0, err = -ENAMETOOLONG;
	while ((size_t)len < max) {
		uint64_t pa;
		if (va + len >= USPACE_TOP || page_in(us, va + len, false, false, false, &pa)) {
			err = -EFAULT;
			break;
		}
		const char *s = P2V(pa);
		size_t room = PAGE_SIZE - (va + len) % PAGE_SIZE;
		for (; room && (size_t)len < max; room--, s++, len++) {
			dst[len] = *s;
			if (!*s) {
				mutex_unlock(&us->lock);
				return len;
			}
		}
	}
	mutex_unlock(&us->lock);
	dst[max - 1] = 0;
	return err;
}

int uspace_read_u32(struct uspace *us, uint64_t va, uint32_t *val)
{
	if (va % sizeof *val)
		return -EINVAL;
	return uspace_read(us, val, va, sizeof *val);
}

int uspace_phys(struct uspace *us, uint64_t va, bool write, uint64_t *pa)
{
	if (va >= USPACE_TOP)
		return -EFAULT;
	mutex_lock(&us->lock);
	int err = page_in(us, va, write, false, false, pa);
	mutex_unlock(&us->lock);
	return err ? -EFAULT : 0;
}

/* Drop the pages of [start, end). With threads on other CPUs, a page is freed only
 * after their TLBs have forgotten it (a stale entry would write into its next owner),
 * so pages are unmapped in batches: unmap, shoot down, free. */
static void unmap_pages(struct uspace *us, uint64_t start, uint64_t end)
{
	uint64_t batch[UNMAP_BATCH];
	int n = 0;
	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t pa;
		if (vmm_lookup(us->root, va, &pa, NULL) == 0) {
			vmm_unmap(us->root, va);
			if (!shared(pa)) {
				batch[n++] = pa;
				us->pages--;
			}
		}
		if (n == UNMAP_BATCH || (n && va + PAGE_SIZE >= end)) {
			if (us->shared)
				smp_call_others(upt_flush_if_loaded, &us->root);
			while (n)
				pmm_free_order(batch[--n], 0);
		}
	}
}

/* Split regions so that none straddles a or b. */
static int carve(struct uspace *us, uint64_t a, uint64_t b)
{
	uint64_t cuts[2] = {a, b};
	for (int c = 0; c < 2; c++) {
		int i = find(us, cuts[c]);
		if (i < 0 || us->regs[i].start == cuts[c])
			continue;
		struct region hi = us->regs[i];
		hi.start = cuts[c];
		us->regs[i].end = cuts[c];
		us->reserved -= counted(&hi); /* insert_at counts it again */
		int err = insert_at(us, i + 1, hi);
		if (err) {
			us->reserved += counted(&hi);
			us->regs[i].end = hi.end;
			return err;
		}
	}
	return 0;
}

static int munmap_locked(struct uspace *us, uint64_t a, uint64_t b)
{
	int err = carve(us, a, b);
	if (err)
		return err;
	int i = first_after(us, a);
	while (i < us->nregs && us->regs[i].start < b) {
		unmap_pages(us, us->regs[i].start, us->regs[i].end);
		remove_at(us, i);
	}
	return 0;
}

int uspace_munmap(struct uspace *us, uint64_t addr, uint64_t len)
{
	if (addr % PAGE_SIZE || !len || addr >= USPACE_TOP || page_up(len) > USPACE_TOP - addr)
		return -EINVAL;
	mutex_lock(&us->lock);
	int err = munmap_locked(us, addr, addr + page_up(len));
	mutex_unlock(&us->lock);
	return err;
}

/* Highest free gap of len bytes below USPACE_MMAP_TOP: its start, or 0. */
static uint64_t find_gap(struct uspace *us, uint64_t len)
{
	uint64_t hi = USPACE_MMAP_TOP;
	for (int i = us->nregs - 1; i >= -1; i--) {
		uint64_t lo = i >= 0 ? us->regs[i].end : USPACE_LOW;
		if (i >= 0 && us->regs[i].start >= hi)
			continue;
		if (hi >= lo + len && hi - len >= USPACE_LOW)
			return hi - len;
		if (i >= 0)
			hi = us->regs[i].start;
	}
	return 0;
}

long uspace_mmap(struct uspace *us, uint64_t addr, uint64_t len, int prot, int flags)
{
	if (!len || len > USPACE_TOP || addr % PAGE_SIZE)
		return -EINVAL;
	len = page_up(len);
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	mutex_lock(&us->lock);
	long ret;
	if (fixed) {
		if (addr < USPACE_LOW || addr > USPACE_TOP || len > USPACE_TOP - addr) {
			ret = -EINVAL;
			goto out;
		}
		if (overlaps(us, addr, addr + len)) {
			if (flags & MAP_FIXED_NOREPLACE) {
				ret = -EEXIST;
				goto out;
			}
			int err = munmap_locked(us, addr, addr + len);
			if (err) {
				ret = err;
				goto out;
			}
		}
	} else if (!addr || addr < USPACE_LOW || addr > USPACE_MMAP_TOP ||
		   len > USPACE_MMAP_TOP - addr || overlaps(us, addr, addr + len)) {
		addr = find_gap(us, len);
		if (!addr) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = add_locked(us, addr, len, prot, REGION_ANON);
	if (ret == -EEXIST || ret == -EINVAL)
		ret = -ENOMEM;
	if (!ret)
		ret = (long)addr;
out:
	mutex_unlock(&us->lock);
	return ret;
}

int uspace_mprotect(struct uspace *us, uint64_t addr, uint64_t len, int prot)
{
	if (addr % PAGE_SIZE || addr >= USPACE_TOP || page_up(len) > USPACE_TOP - addr ||
	    (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	uint64_t end = addr + page_up(len);
	if (!len)
		return 0;
	mutex_lock(&us->lock);
	/* Linux: -ENOMEM when part of the range is not mapped. */
	int err = 0;
	for (uint64_t va = addr; va < end;) {
		int i = find(us, va);
		if (i < 0) {
			err = -ENOMEM;
			goto out;
		}
		va = us->regs[i].end;
	}
	err = carve(us, addr, end);
	if (err)
		goto out;
	for (int i = first_after(us, addr); i < us->nregs && us->regs[i].start < end; i++)
		us->regs[i].prot = prot;
	for (uint64_t va = addr; va < end; va += PAGE_SIZE) {
		uint64_t pa;
		if (vmm_lookup(us->root, va, &pa, NULL))
			continue;
		if (shared(pa) && (prot & PROT_WRITE)) {
			/* Writable from now on: this space's own copy, not the shared page. */
			void *p = mem_locked(us) + PAGE_SIZE <= us->limit ? pmm_alloc_kva(PAGE_SIZE)
									  : NULL;
			if (!p) {
				err = -ENOMEM;
				break;
			}
			memcpy(p, P2V(pa), PAGE_SIZE);
			pa = V2P(p);
			us->pages++;
		}
		vmm_unmap(us->root, va);
		vmm_map(us->root, va, pa, pte_flags(shared(pa) ? prot & ~PROT_WRITE : prot));
	}
	if (us->shared)
		smp_call_others(upt_flush_if_loaded, &us->root);
	int m = first_after(us, addr);
	for (m = m > 0 ? m - 1 : 0; m < us->nregs && us->regs[m].start <= end; m++)
		merge_next(us, m);
out:
	mutex_unlock(&us->lock);
	return err;
}

int uspace_discard(struct uspace *us, uint64_t addr, uint64_t len)
{
	if (addr % PAGE_SIZE || addr >= USPACE_TOP || page_up(len) > USPACE_TOP - addr)
		return -EINVAL;
	mutex_lock(&us->lock);
	unmap_pages(us, addr, addr + page_up(len));
	mutex_unlock(&us->lock);
	return 0;
}

long uspace_brk(struct uspace *us, uint64_t want)
{
	mutex_lock(&us->lock);
	uint64_t cur = us->brk, old_end = page_up(cur), new_end = page_up(want);
	if (want < us->brk_base || want >= USPACE_MMAP_TOP)
		goto out;
	if (new_end > old_end) {
		if (add_locked(us, old_end, new_end - old_end, PROT_READ | PROT_WRITE, REGION_HEAP))
			goto out;
	} else if (new_end < old_end) {
		munmap_locked(us, new_end, old_end);
	}
	us->brk = want;
out:
	cur = us->brk;
	mutex_unlock(&us->lock);
	return (long)cur;
}
