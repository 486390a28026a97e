/* pmm.c: the physical page allocator: one buddy allocator (buddy.c) built from the
 * loader's memory map, behind a spinlock.
 *
 * The buddy spans from the first usable page above 1 MiB, rounded down to a max-order
 * block so that its blocks are physically aligned, to the end of the highest usable
 * range. Its metadata (12 bytes a page, holes included) is carved out of usable memory
 * below PMM_EARLY_LIMIT, which the boot page tables map; the free lists live in that
 * array, so building the allocator touches no page it manages. Only usable RAM is ever
 * handed over; the first MiB (BIOS data, the SMP trampoline), the kernel image, the
 * boot modules and the metadata stay reserved, as does everything the map calls
 * anything other than usable (ACPI tables, NVS, holes), even where usable ranges
 * overlap it.
 *
 * Pages above PMM_EARLY_LIMIT join only when vmm_init has mapped them (pmm_add_high):
 * until then an allocation could return memory nobody can reach. */
#include "kernel/pmm.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "kernel/bootinfo.h"
#include "kernel/buddy.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/selftest.h"
#include "kernel/spinlock.h"
#include "kernel/vmm.h"

#define PAGE_SHIFT 12
#define LOW_MEMORY_END (1UL << 20) /* the first MiB is never handed out */
#define MAX_EXCLUDED (BOOT_MAX_RANGES + BOOT_MAX_MODULES + 2)

struct span {
	uint64_t lo, hi; /* physical, hi exclusive */
};

extern char _load_start[], _kernel_end[];

static struct buddy buddy;
static struct spinlock lock = SPINLOCK_INIT("pmm");
static uint64_t base_pfn; /* page index 0 of the buddy */
static uint64_t span_end; /* physical end of the managed span */
static uint64_t usable_bytes;
static bool high_added;

/* Everything that must stay reserved, sorted by start, page-rounded outward. */
static struct span excluded[MAX_EXCLUDED];
static int nexcluded;

static uint64_t page_down(uint64_t a) { return a & ~(PAGE_SIZE - 1); }
static uint64_t page_up(uint64_t a) { return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

static void exclude(uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return;
	if (nexcluded == MAX_EXCLUDED)
		panic("pmm: more than %d reserved regions", MAX_EXCLUDED);
	struct span s = {page_down(lo), page_up(hi)};
	int i = nexcluded++;
	for (; i > 0 && excluded[i - 1].lo > s.lo; i--) /* insertion keeps it sorted */
		excluded[i] = excluded[i - 1];
	excluded[i] = s;
}

/* Call fn on every piece of usable memory inside [lo, hi) that is not excluded. */
static void for_each_free(uint64_t lo, uint64_t hi, void (*fn)(struct span, void *), void *ctx)
{
	for (int r = 0; r < boot_info.nranges; r++) {
		const struct mem_range *m = &boot_info.ranges[r];
		if (m->type != MEM_USABLE)
			continue;
		uint64_t a = page_up(m->base), b = page_down(m->base + m->len);
		a = a < lo ? lo : a;
		b = b > hi ? hi : b;
		for (int e = 0; e < nexcluded && a < b; e++) {
			if (excluded[e].hi <= a || excluded[e].lo >= b)
				continue;
			if (excluded[e].lo > a)
				fn((struct span){a, excluded[e].lo}, ctx);
			a = excluded[e].hi > a ? excluded[e].hi : a;
		}
		if (a < b)
			fn((struct span){a, b}, ctx);
	}
}

static void count(struct span s, void *ctx) { *(uint64_t *)ctx += s.hi - s.lo; }

static void largest(struct span s, void *ctx)
{
	struct span *best = ctx;
	if (s.hi - s.lo > best->hi - best->lo)
		*best = s;
}

static void add(struct span s, void *ctx)
{
	(void)ctx;
	buddy_add(&buddy, (uint32_t)((s.lo >> PAGE_SHIFT) - base_pfn),
		  (uint32_t)((s.hi - s.lo) >> PAGE_SHIFT));
}

void pmm_init(void)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int r = 0; r < boot_info.nranges; r++) {
		const struct mem_range *m = &boot_info.ranges[r];
		if (m->type != MEM_USABLE) {
			exclude(m->base, m->base + m->len);
			continue;
		}
		uint64_t a = page_up(m->base), b = page_down(m->base + m->len);
		a = a < LOW_MEMORY_END ? LOW_MEMORY_END : a;
		if (a >= b)
			continue;
		lo = a < lo ? a : lo;
		hi = b > hi ? b : hi;
	}
	if (hi == 0)
		panic("pmm: the memory map has no usable RAM above 1 MiB");
	exclude(0, LOW_MEMORY_END);
	exclude((uint64_t)_load_start, (uint64_t)_kernel_end - KVMA);
	for (int i = 0; i < boot_info.nmodules; i++)
		exclude(boot_info.modules[i].start, boot_info.modules[i].end);

	base_pfn = (lo >> PAGE_SHIFT) & ~((1UL << PMM_MAX_ORDER) - 1);
	uint64_t npages = (hi >> PAGE_SHIFT) - base_pfn;
	if (npages >= BUDDY_NONE)
		npages = BUDDY_NONE - 1;

	/* The metadata goes at the top of the largest free piece the boot tables map; if
	 * even that is too small, memory beyond what it can describe is left out. */
	struct span best = {0, 0};
	for_each_free(LOW_MEMORY_END, PMM_EARLY_LIMIT, largest, &best);
	uint64_t fits = (best.hi - best.lo) / sizeof(struct buddy_page);
	if (fits < npages) {
		kwarn("pmm: metadata for only %lu of %lu pages fits below %lu MiB; "
		      "ignoring memory above %lu MiB",
		      fits, npages, PMM_EARLY_LIMIT >> 20, ((base_pfn + fits) << PAGE_SHIFT) >> 20);
		npages = fits;
	}
	uint64_t meta_bytes = page_up(npages * sizeof(struct buddy_page));
	if (npages == 0 || meta_bytes > best.hi - best.lo)
		panic("pmm: no room for the page allocator's metadata");
	uint64_t meta = best.hi - meta_bytes;
	exclude(meta, best.hi);
	span_end = (base_pfn + npages) << PAGE_SHIFT;

	buddy_init(&buddy, P2V(meta), (uint32_t)npages, PMM_MAX_ORDER);
	for_each_free(LOW_MEMORY_END, PMM_EARLY_LIMIT, add, 0);

	for (int r = 0; r < boot_info.nranges; r++) {
		const struct mem_range *m = &boot_info.ranges[r];
		uint64_t b = m->base + m->len > span_end ? span_end : m->base + m->len;
		if (m->type == MEM_USABLE && b > m->base)
			usable_bytes += page_down(b) - page_up(m->base);
	}
	uint64_t free_bytes = 0;
	for_each_free(LOW_MEMORY_END, span_end, count, &free_bytes);
	kinfo("mem: %lu MiB usable, %lu MiB free after kernel and modules", usable_bytes >> 20,
	      free_bytes >> 20);
	kdebug("pmm: pages %#lx-%#lx, %lu KiB of metadata at %#lx", base_pfn << PAGE_SHIFT,
	       span_end, meta_bytes >> 10, meta);
}

void pmm_add_high(void)
{
	spin_lock(&lock);
	if (!high_added && span_end > PMM_EARLY_LIMIT)
		for_each_free(PMM_EARLY_LIMIT, span_end, add, 0);
	high_added = true;
	spin_unlock(&lock);
}

/* Page index of phys in the buddy, or BUDDY_NONE if it is outside the span. */
static uint32_t index_of(uint64_t phys)
{
	uint64_t pfn = phys >> PAGE_SHIFT;
	if (pfn < base_pfn || pfn - base_pfn >= buddy.npages)
		return BUDDY_NONE;
	return (uint32_t)(pfn - base_pfn);
}

uint64_t pmm_alloc_order(unsigned order)
{
	if (order > PMM_MAX_ORDER)
		return 0;
	spin_lock(&lock);
	uint32_t i = buddy_alloc(&buddy, order);
	spin_unlock(&lock);
	return i == BUDDY_NONE ? 0 : (base_pfn + i) << PAGE_SHIFT;
}

void pmm_free_order(uint64_t phys, unsigned order)
{
	uint32_t i = index_of(phys);
	spin_lock(&lock);
	int err = phys % PAGE_SIZE || i == BUDDY_NONE ? -EINVAL : buddy_free(&buddy, i, order);
	spin_unlock(&lock);
	if (err)
		panic("pmm: free of %#lx (order %u), which is not an allocated block of that order",
		      phys, order);
}

static int order_for(size_t bytes)
{
	uint64_t pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	int order = 0;
	while ((1UL << order) < pages)
		order++;
	return order > PMM_MAX_ORDER ? -ENOMEM : order;
}

void *pmm_alloc_kva(size_t bytes)
{
	int order = order_for(bytes);
	if (order < 0)
		return NULL;
	uint64_t pa = pmm_alloc_order((unsigned)order);
	if (!pa)
		return NULL;
	void *p = P2V(pa);
	memset(p, 0, PAGE_SIZE << order);
	return p;
}

void pmm_free_kva(void *p, size_t bytes)
{
	if (!p)
		return;
	int order = order_for(bytes);
	if (order < 0)
		panic("pmm: free of %p with impossible size %zu", p, bytes);
	pmm_free_order(V2P(p), (unsigned)order);
}

uint64_t pmm_total_bytes(void) { return usable_bytes; }

uint64_t pmm_free_bytes(void)
{
	return __atomic_load_n(&buddy.free_pages, __ATOMIC_RELAXED) << PAGE_SHIFT;
}

int pmm_block_order(uint64_t phys)
{
	uint32_t i = index_of(phys);
	if (i == BUDDY_NONE || phys % PAGE_SIZE)
		return -EINVAL;
	spin_lock(&lock);
	int order = buddy_block_order(&buddy, i);
	spin_unlock(&lock);
	return order;
}

/* Tags belong to the block's owner, so they need no lock: only the owner writes them
 * and a 16-bit store is atomic. */
void pmm_set_tag(uint64_t phys, uint16_t tag)
{
	uint32_t i = index_of(phys);
	if (i == BUDDY_NONE)
		panic("pmm: tag for %#lx, which the allocator does not manage", phys);
	__atomic_store_n(&buddy.pages[i].tag, tag, __ATOMIC_RELAXED);
}

uint16_t pmm_tag(uint64_t phys)
{
	uint32_t i = index_of(phys);
	return i == BUDDY_NONE ? 0 : __atomic_load_n(&buddy.pages[i].tag, __ATOMIC_RELAXED);
}

/* ---- self-tests ---- */

#define STAMP 0x5a5a0000a5a50000UL

static void snapshot(uint32_t *nfree)
{
	spin_lock(&lock);
	memcpy(nfree, buddy.nfree, sizeof buddy.nfree);
	spin_unlock(&lock);
}

static uint64_t module_sum(void)
{
	uint64_t sum = 0;
	for (int i = 0; i < boot_info.nmodules; i++)
		for (uint64_t a = boot_info.modules[i].start; a < boot_info.modules[i].end; a++)
			sum = sum * 31 + *(const uint8_t *)P2V(a);
	return sum;
}

/* Take every page there is in blocks of mixed orders, stamp each page with its own
 * address (overlapping blocks would overwrite each other's stamps, a handed-out module
 * page would change the module), check, give all back and check that the buddies
 * merged back into exactly the blocks there were before. */
SELFTEST(pmm_exhaust)
{
	uint32_t before[BUDDY_ORDERS_MAX], after[BUDDY_ORDERS_MAX];
	uint64_t modules = module_sum();
	snapshot(before);
	uint64_t free0 = pmm_free_bytes(), taken = 0, chain = 0, blocks = 0;
	int bad = 0;
	CHECK(free0 > 0);
	CHECK(pmm_alloc_order(PMM_MAX_ORDER + 1) == 0);

	for (unsigned n = 0;; n++) {
		unsigned order = n % 4;
		uint64_t pa = pmm_alloc_order(order);
		if (!pa && order) {
			order = 0;
			pa = pmm_alloc_order(0);
		}
		if (!pa)
			break;
		/* No early return while holding everything: count problems, check at the end. */
		if (pa % (PAGE_SIZE << order) || pmm_block_order(pa) != (int)order)
			bad++;
		for (uint64_t j = 0; j < (1UL << order); j++)
			*(uint64_t *)P2V(pa + j * PAGE_SIZE) = (pa + j * PAGE_SIZE) ^ STAMP;
		uint64_t *head = P2V(pa);
		head[1] = chain;
		head[2] = order;
		chain = pa;
		taken += PAGE_SIZE << order;
		blocks++;
	}
	kdebug("pmm: selftest took %lu blocks, %lu MiB", blocks, taken >> 20);
	uint64_t free_when_empty = pmm_free_bytes();
	void *extra = pmm_alloc_kva(1);

	while (chain) {
		uint64_t *head = P2V(chain), next = head[1];
		unsigned order = (unsigned)head[2];
		for (uint64_t j = 0; j < (1UL << order); j++)
			if (*(uint64_t *)P2V(chain + j * PAGE_SIZE) !=
			    ((chain + j * PAGE_SIZE) ^ STAMP))
				bad++;
		pmm_free_order(chain, order);
		chain = next;
	}
	CHECK(bad == 0);
	CHECK(module_sum() == modules);
	CHECK(free_when_empty == 0);
	CHECK(extra == NULL);
	CHECK(taken == free0);
	CHECK(pmm_free_bytes() == free0);
	snapshot(after);
	CHECK(memcmp(before, after, sizeof before) == 0);
	return 0;
}

SELFTEST(pmm_kva_and_tags)
{
	uint8_t *p = pmm_alloc_kva(3 * PAGE_SIZE); /* rounds up to 4 pages */
	CHECK(p != NULL);
	uint64_t pa = V2P(p);
	CHECK(pmm_block_order(pa) == 2);
	CHECK(pmm_block_order(pa + PAGE_SIZE) == -EINVAL);
	int nonzero = 0;
	for (size_t i = 0; i < 4 * PAGE_SIZE; i++)
		nonzero |= p[i];
	CHECK(nonzero == 0);
	CHECK(pmm_tag(pa) == 0);
	pmm_set_tag(pa + PAGE_SIZE, 0x1234);
	CHECK(pmm_tag(pa + PAGE_SIZE) == 0x1234);
	pmm_set_tag(pa + PAGE_SIZE, 0);
	pmm_free_kva(p, 3 * PAGE_SIZE);
	CHECK(pmm_block_order(pa) == -EINVAL);
	CHECK(pmm_tag(0) == 0); /* below the span */
	CHECK(pmm_alloc_kva((PAGE_SIZE << PMM_MAX_ORDER) + 1) == NULL);
	return 0;
}
