/* vmm.c: the kernel's page tables, a reusable walker for any 4-level root, kernel stacks
 * with guard pages and MMIO windows.
 *
 * The region at VMM_REGION_BASE is split in two. Stacks come first, in fixed slots of
 * STACK_SLOT bytes: a stack sits at the top of its slot and the rest of the slot stays
 * unmapped, so at least one guard page lies below every stack and a free slot is found
 * in a small bitmap. MMIO windows follow, handed out by a bump pointer with one unmapped
 * page between windows (they are never freed). */
#include "kernel/vmm.h"

#include <errno.h>
#include <stdbool.h>

#include "arch/cpu.h"
#include "kernel/bootinfo.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"

#define PTE_P (1UL << 0)
#define PTE_W (1UL << 1)
#define PTE_U (1UL << 2)
#define PTE_PWT (1UL << 3)
#define PTE_PCD (1UL << 4)
#define PTE_PS (1UL << 7) /* large page, in a PD or PDPT entry */
#define PTE_NX (1UL << 63)
#define PTE_ADDR 0x000ffffffffff000UL

#define LEVELS 4
#define LEVEL_SHIFT 9
#define ENTRIES 512
#define LARGE_PAGE (2UL << 20)
#define GIB (1UL << 30)
#define MIN_DIRECT_MAP (4 * GIB)
#define IDENTITY_SIZE LARGE_PAGE
#define CANONICAL_LOW_END 0x0000800000000000UL

#define CPUID_EXT_FEATURES 0x80000001
#define CPUID_EDX_NX (1U << 20)
#define EFER_NXE (1UL << 11)
#define CR0_WP (1UL << 16)

#define VMM_REGION_BASE 0xffffc00000000000UL
#define STACK_SLOT (VMM_STACK_MAX + PAGE_SIZE)
#define STACK_SLOTS 8192 /* 8 GiB of stack address space */
#define MMIO_BASE (VMM_REGION_BASE + STACK_SLOTS * STACK_SLOT)
#define MMIO_END (MMIO_BASE + 64 * GIB)

extern char _load_start[], _text[], _etext[], _data[], _kernel_end[];

static struct spinlock lock = SPINLOCK_INIT("vmm");
static uint64_t kernel_root;
static uint64_t nx; /* PTE_NX when the CPU has it; else the bit is reserved and must be 0 */
static uint64_t stack_used[STACK_SLOTS / 64];
static unsigned stack_hint; /* no free slot below this word */
static uint64_t mmio_next = MMIO_BASE;

static unsigned index_at(uint64_t va, int level)
{
	return (va >> (12 + LEVEL_SHIFT * (level - 1))) & (ENTRIES - 1);
}

/* The entry for va at `level` (1: page table .. 4: PML4) under root. Missing tables
 * are created when `create` (user ones reachable from ring 3 when `user`). NULL with
 * *err = -ENOENT (missing), -EEXIST (a large page covers va) or -ENOMEM. */
static uint64_t *walk(uint64_t root, uint64_t va, int level, bool create, bool user, int *err)
{
	uint64_t *table = P2V(root);
	for (int l = LEVELS; l > level; l--) {
		uint64_t *e = &table[index_at(va, l)];
		if (!(*e & PTE_P)) {
			if (!create) {
				*err = -ENOENT;
				return NULL;
			}
			void *t = pmm_alloc_kva(PAGE_SIZE);
			if (!t) {
				*err = -ENOMEM;
				return NULL;
			}
			*e = V2P(t) | PTE_P | PTE_W | (user ? PTE_U : 0);
		} else if (*e & PTE_PS) {
			*err = -EEXIST;
			return NULL;
		} else if (user) {
			*e |= PTE_U;
		}
		table = P2V(*e & PTE_ADDR);
	}
	return &table[index_at(va, level)];
}

static uint64_t pte_bits(uint64_t flags)
{
	return PTE_P | (flags & VMM_WRITE ? PTE_W : 0) | (flags & VMM_USER ? PTE_U : 0) |
	       (flags & VMM_UNCACHED ? PTE_PCD | PTE_PWT : 0) | (flags & VMM_EXEC ? 0 : nx);
}

static bool canonical(uint64_t va) { return va < CANONICAL_LOW_END || va >= DIRECT_MAP_BASE; }

static int map_locked(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags)
{
	if (va % PAGE_SIZE || pa % PAGE_SIZE || !canonical(va) || (pa & ~PTE_ADDR))
		return -EINVAL;
	int err = 0;
	uint64_t *e = walk(root, va, 1, true, flags & VMM_USER, &err);
	if (!e)
		return err;
	if (*e & PTE_P)
		return -EEXIST;
	*e = pa | pte_bits(flags);
	return 0;
}

int vmm_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags)
{
	spin_lock(&lock);
	int err = map_locked(root, va, pa, flags);
	spin_unlock(&lock);
	return err;
}

int vmm_unmap(uint64_t root, uint64_t va)
{
	int err = 0;
	spin_lock(&lock);
	uint64_t *e = walk(root, va & ~(PAGE_SIZE - 1), 1, false, false, &err);
	if (!e || !(*e & PTE_P)) {
		err = -ENOENT;
	} else {
		*e = 0;
		if ((read_cr3() & PTE_ADDR) == root)
			invlpg((void *)va);
	}
	spin_unlock(&lock);
	return err;
}

int vmm_lookup(uint64_t root, uint64_t va, uint64_t *pa, uint64_t *flags)
{
	uint64_t *table = P2V(root), e = 0, size = 0;
	for (int l = LEVELS; l >= 1; l--) {
		e = __atomic_load_n(&table[index_at(va, l)], __ATOMIC_RELAXED);
		if (!(e & PTE_P))
			return -ENOENT;
		if (l == 1 || (l <= 3 && (e & PTE_PS))) {
			size = PAGE_SIZE << (LEVEL_SHIFT * (l - 1));
			break;
		}
		table = P2V(e & PTE_ADDR);
	}
	*pa = (e & PTE_ADDR & ~(size - 1)) | (va & (size - 1));
	if (flags)
		*flags = (e & PTE_W ? VMM_WRITE : 0) | (e & PTE_NX ? 0 : VMM_EXEC) |
			 (e & PTE_U ? VMM_USER : 0) | (e & PTE_PCD ? VMM_UNCACHED : 0);
	return 0;
}

uint64_t vmm_kernel_root(void) { return kernel_root; }

/* Page-table memory at boot is part of the kernel's foundation: without it, stop. */
static uint64_t *boot_walk(uint64_t va, int level)
{
	int err = 0;
	uint64_t *e = walk(kernel_root, va, level, true, false, &err);
	if (!e)
		panic("vmm: cannot build the kernel page tables (%d)", err);
	return e;
}

static void map_image(const void *start, const void *end, uint64_t flags)
{
	for (uint64_t va = (uint64_t)start & ~(PAGE_SIZE - 1); va < (uint64_t)end; va += PAGE_SIZE)
		*boot_walk(va, 1) = (va - KVMA) | pte_bits(flags);
}

static const void *page_align(const void *p)
{
	return (const void *)(((uint64_t)p + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
}

static void enable_features(void)
{
	if (nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr0(read_cr0() | CR0_WP);
}

void vmm_init(void)
{
	uint32_t a, b, c, d;
	cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
	nx = d & CPUID_EDX_NX ? PTE_NX : 0;

	void *root = pmm_alloc_kva(PAGE_SIZE);
	if (!root)
		panic("vmm: no memory for the kernel page tables");
	kernel_root = V2P(root);

	uint64_t end = MIN_DIRECT_MAP;
	for (int r = 0; r < boot_info.nranges; r++) {
		const struct mem_range *m = &boot_info.ranges[r];
		if ((m->type == MEM_USABLE || m->type == MEM_ACPI || m->type == MEM_NVS) &&
		    m->base + m->len > end)
			end = m->base + m->len;
	}
	end = (end + GIB - 1) & ~(GIB - 1);
	for (uint64_t pa = 0; pa < end; pa += LARGE_PAGE)
		*boot_walk(DIRECT_MAP_BASE + pa, 2) = pa | PTE_P | PTE_W | PTE_PS | nx;

	/* The image's sections are page-aligned by boot/link.ld: .boot and the notes, then
	 * text, then rodata (up to _data), then data, ksyms and bss. */
	const void *kstart = (const void *)((uint64_t)_load_start + KVMA);
	map_image(kstart, _text, 0);
	map_image(_text, page_align(_etext), VMM_EXEC);
	map_image(page_align(_etext), _data, 0);
	map_image(_data, _kernel_end, VMM_WRITE);

	*boot_walk(0, 2) = 0 | PTE_P | PTE_W | PTE_PS; /* identity, executable: trampoline */
	boot_walk(VMM_REGION_BASE, 3);		       /* fixes the region's PML4 entry */

	enable_features();
	write_cr3(kernel_root);
	pmm_add_high();
	kinfo("vmm: direct map of %lu GiB, kernel image %lu KiB, NX %s", end / GIB,
	      ((uint64_t)_kernel_end - (uint64_t)kstart) >> 10, nx ? "on" : "unavailable");
}

void vmm_init_cpu(void)
{
	enable_features();
	write_cr3(kernel_root);
}

void vmm_unmap_identity(void)
{
	spin_lock(&lock);
	uint64_t *pml4 = P2V(kernel_root);
	pml4[index_at(0, LEVELS)] = 0;
	write_cr3(read_cr3());
	spin_unlock(&lock);
}

void *vmm_map_mmio(uint64_t phys, size_t size)
{
	uint64_t off = phys % PAGE_SIZE, pa = phys - off;
	uint64_t len = (off + (size ? size : 1) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (size > MMIO_END - MMIO_BASE || (pa & ~PTE_ADDR))
		return NULL;
	spin_lock(&lock);
	uint64_t va = mmio_next;
	if (len + PAGE_SIZE > MMIO_END - va) {
		spin_unlock(&lock);
		return NULL;
	}
	mmio_next += len + PAGE_SIZE; /* the unmapped page keeps windows apart */
	uint64_t done = 0;
	int err = 0;
	for (; done < len && !err; done += PAGE_SIZE)
		err = map_locked(kernel_root, va + done, pa + done, VMM_WRITE | VMM_UNCACHED);
	spin_unlock(&lock);
	if (!err)
		return (void *)(va + off);
	for (uint64_t u = 0; u + PAGE_SIZE < done; u += PAGE_SIZE)
		vmm_unmap(kernel_root, va + u);
	return NULL;
}

static void release_slot(unsigned slot)
{
	spin_lock(&lock);
	stack_used[slot / 64] &= ~(1UL << (slot % 64));
	if (slot / 64 < stack_hint)
		stack_hint = slot / 64;
	spin_unlock(&lock);
}

/* Unmap and free the first n pages of the stack at base. */
static void drop_pages(uint64_t base, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t va = base + i * PAGE_SIZE, pa;
		if (vmm_lookup(kernel_root, va, &pa, NULL) < 0 || vmm_unmap(kernel_root, va) < 0)
			panic("vmm: stack page %#lx is not mapped", va);
		pmm_free_order(pa, 0);
	}
}

void *vmm_alloc_stack(size_t size)
{
	if (size == 0 || size % PAGE_SIZE || size > VMM_STACK_MAX)
		return NULL;
	spin_lock(&lock);
	unsigned slot = STACK_SLOTS;
	for (unsigned w = stack_hint; w < STACK_SLOTS / 64; w++) {
		if (~stack_used[w]) {
			slot = w * 64 + (unsigned)__builtin_ctzll(~stack_used[w]);
			stack_used[w] |= 1UL << (slot % 64);
			stack_hint = w;
			break;
		}
	}
	spin_unlock(&lock);
	if (slot == STACK_SLOTS)
		return NULL;

	uint64_t base = VMM_REGION_BASE + (slot + 1) * STACK_SLOT - size;
	for (size_t i = 0; i < size / PAGE_SIZE; i++) {
		uint64_t pa = pmm_alloc_order(0);
		if (!pa || vmm_map(kernel_root, base + i * PAGE_SIZE, pa, VMM_WRITE) < 0) {
			if (pa)
				pmm_free_order(pa, 0);
			drop_pages(base, i);
			release_slot(slot);
			return NULL;
		}
	}
	return (void *)base;
}

struct va_range {
	uint64_t base;
	size_t pages;
};

static void flush_range(void *arg)
{
	struct va_range *r = arg;
	for (size_t i = 0; i < r->pages; i++)
		invlpg((void *)(r->base + i * PAGE_SIZE));
}

void vmm_free_stack(void *p, size_t size)
{
	uint64_t base = (uint64_t)p;
	unsigned slot = (unsigned)((base - VMM_REGION_BASE) / STACK_SLOT);
	bool ok = base >= VMM_REGION_BASE && slot < STACK_SLOTS && size && size % PAGE_SIZE == 0 &&
		  base + size == VMM_REGION_BASE + (slot + 1) * STACK_SLOT;
	if (ok) {
		spin_lock(&lock);
		ok = stack_used[slot / 64] & (1UL << (slot % 64));
		spin_unlock(&lock);
	}
	if (!ok)
		panic("vmm: free of stack %p (%zu bytes), which vmm_alloc_stack never gave out", p,
		      size);
	drop_pages(base, size / PAGE_SIZE);
	/* Other CPUs that ran on this stack may still cache its old translations: flush
	 * them before the slot can be handed out again with new pages behind it. */
	struct va_range r = {base, size / PAGE_SIZE};
	smp_call_others(flush_range, &r);
	release_slot(slot);
}
