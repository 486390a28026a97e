/* upt.c: creating and tearing down the page tables of a task's address space. The user
 * half is entries 0..255 of the top level; the kernel half (256..511) is copied from the
 * kernel's own table, whose top-level entries never change after vmm_init. */
#include "arch/upt.h"

#include <stdbool.h>

#include "arch/cpu.h"
#include "kernel/pmm.h"
#include "kernel/vmm.h"

#define PTE_P (1UL << 0)
#define PTE_PS (1UL << 7)
#define PTE_ADDR 0x000ffffffffff000UL
#define ENTRIES 512
#define USER_ENTRIES 256 /* top-level entries of the lower (user) half */

uint64_t upt_create(void)
{
	uint64_t *t = pmm_alloc_kva(PAGE_SIZE);
	if (!t)
		return 0;
	const uint64_t *k = P2V(vmm_kernel_root());
	for (int i = USER_ENTRIES; i < ENTRIES; i++)
		t[i] = k[i];
	return V2P(t);
}

/* Free the table at pa of `level` (3: PDPT .. 1: PT) and everything below it. */
static uint64_t free_table(uint64_t pa, int level, void (*free_page)(uint64_t pa))
{
	uint64_t *t = P2V(pa), n = 0;
	for (int i = 0; i < ENTRIES; i++) {
		uint64_t e = t[i];
		if (!(e & PTE_P))
			continue;
		if (level == 1) {
			free_page(e & PTE_ADDR);
			n++;
		} else if (!(e & PTE_PS)) { /* tasks never get large pages */
			n += free_table(e & PTE_ADDR, level - 1, free_page);
		}
	}
	pmm_free_order(pa, 0);
	return n;
}

uint64_t upt_destroy(uint64_t root, void (*free_page)(uint64_t pa))
{
	uint64_t *t = P2V(root), n = 0;
	for (int i = 0; i < USER_ENTRIES; i++)
		if (t[i] & PTE_P)
			n += free_table(t[i] & PTE_ADDR, 3, free_page);
	pmm_free_order(root, 0);
	return n;
}

void upt_flush_if_loaded(void *root)
{
	uint64_t r = *(uint64_t *)root;
	if ((read_cr3() & PTE_ADDR) == r)
		write_cr3(read_cr3());
}
