/* vmm_test.c: self-tests of the page tables: guard pages fault, freed stacks are
 * unmapped and reused, MMIO windows work, the kernel image is write- and
 * execute-protected, and the walker maps, finds and unmaps pages in a fresh root. */
#include <errno.h>
#include <stdbool.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "kernel/pmm.h"
#include "kernel/selftest.h"
#include "kernel/vmm.h"

#define VEC_PAGE_FAULT 14
#define TEST_STACK (4 * PAGE_SIZE)
#define TEST_VA 0x400000UL
#define OPCODE_RET 0xc3

static void write_byte(void *p) { *(volatile uint8_t *)p = 0x5a; }
static void read_byte(void *p) { (void)*(volatile uint8_t *)p; }
/* Writes back what is there, so a protection that does not work breaks nothing. */
static void rewrite_byte(void *p)
{
	volatile uint8_t *b = p;
	uint8_t v = *b;
	*b = v;
}
static void call(void *p) { ((void (*)(void))p)(); }

static const uint32_t rodata_word = 0x600dc0de;
static uint8_t data_ret[16] = {OPCODE_RET};

SELFTEST(vmm_stack_guard)
{
	uint8_t *s = vmm_alloc_stack(TEST_STACK);
	CHECK(s != NULL);
	CHECK((uint64_t)s % PAGE_SIZE == 0);
	CHECK(trap_catch(write_byte, s) == -1);
	CHECK(trap_catch(write_byte, s + TEST_STACK - 1) == -1);
	CHECK(trap_catch(write_byte, s - 1) == VEC_PAGE_FAULT); /* the guard page */
	uint64_t pa;
	CHECK(vmm_lookup(vmm_kernel_root(), (uint64_t)s - 1, &pa, NULL) == -ENOENT);
	vmm_free_stack(s, TEST_STACK);
	CHECK(trap_catch(read_byte, s) == VEC_PAGE_FAULT); /* gone once freed */

	uint8_t *again = vmm_alloc_stack(TEST_STACK);
	CHECK(again == s); /* the freed range is reused */
	vmm_free_stack(again, TEST_STACK);
	CHECK(vmm_alloc_stack(0) == NULL);
	CHECK(vmm_alloc_stack(PAGE_SIZE + 1) == NULL);
	CHECK(vmm_alloc_stack(VMM_STACK_MAX + PAGE_SIZE) == NULL);

	uint8_t *big = vmm_alloc_stack(VMM_STACK_MAX);
	if (big) { /* may not fit a small machine */
		CHECK(trap_catch(write_byte, big) == -1);
		CHECK(trap_catch(write_byte, big - 1) == VEC_PAGE_FAULT);
		vmm_free_stack(big, VMM_STACK_MAX);
	}
	return 0;
}

SELFTEST(vmm_mmio)
{
	volatile uint64_t *ram = pmm_alloc_kva(2 * PAGE_SIZE);
	CHECK(ram != NULL);
	uint64_t pa = V2P((void *)ram), off = 0x120;
	ram[off / 8] = 0x1122334455667788UL;
	ram[PAGE_SIZE / 8] = 42;

	/* Straddles a page boundary: both pages must be mapped, offset kept. */
	volatile uint64_t *m = vmm_map_mmio(pa + off, PAGE_SIZE);
	CHECK(m != NULL);
	CHECK((uint64_t)m % PAGE_SIZE == off);
	CHECK(*m == 0x1122334455667788UL);
	CHECK(m[(PAGE_SIZE - off) / 8] == 42);
	*m = 7;
	CHECK(ram[off / 8] == 7);
	uint64_t got, flags;
	CHECK(vmm_lookup(vmm_kernel_root(), (uint64_t)m, &got, &flags) == 0);
	CHECK(got == pa + off);
	CHECK(flags & VMM_UNCACHED);
	CHECK(flags & VMM_WRITE);
	CHECK(!(flags & VMM_USER));
	pmm_free_kva((void *)ram, 2 * PAGE_SIZE);
	return 0;
}

SELFTEST(vmm_kernel_protection)
{
	uint64_t pa, flags;
	CHECK(trap_catch(rewrite_byte, (void *)&rodata_word) == VEC_PAGE_FAULT);
	CHECK(trap_catch(rewrite_byte, (void *)write_byte) == VEC_PAGE_FAULT);
	CHECK(rodata_word == 0x600dc0de);
	CHECK(vmm_lookup(vmm_kernel_root(), (uint64_t)write_byte, &pa, &flags) == 0);
	CHECK((flags & (VMM_EXEC | VMM_WRITE)) == VMM_EXEC);
	CHECK(vmm_lookup(vmm_kernel_root(), (uint64_t)data_ret, &pa, &flags) == 0);
	CHECK(pa == (uint64_t)data_ret - KVMA);
	CHECK(flags & VMM_WRITE);

	uint32_t a, b, c, d;
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	if (d & (1U << 20)) { /* the CPU has NX: data must not run */
		CHECK(!(flags & VMM_EXEC));
		CHECK(trap_catch(call, data_ret) == VEC_PAGE_FAULT);
	}
	/* The direct map reaches past the first GiB (boot tables mapped only that). */
	CHECK(vmm_lookup(vmm_kernel_root(), DIRECT_MAP_BASE + (3UL << 30) + 123, &pa, NULL) == 0);
	CHECK(pa == (3UL << 30) + 123);
	return 0;
}

/* Free the tables of a test root (lower half only, no large pages there). */
static void free_tables(uint64_t table, int level)
{
	uint64_t *t = P2V(table);
	int n = level == 4 ? 256 : 512;
	for (int i = 0; level > 1 && i < n; i++)
		if (t[i] & 1)
			free_tables(t[i] & 0x000ffffffffff000UL, level - 1);
	pmm_free_order(table, 0);
}

SELFTEST(vmm_walker)
{
	void *root_va = pmm_alloc_kva(PAGE_SIZE);
	uint8_t *frame = pmm_alloc_kva(PAGE_SIZE);
	CHECK(root_va && frame);
	uint64_t root = V2P(root_va), fpa = V2P(frame), pa, flags;

	CHECK(vmm_lookup(root, TEST_VA, &pa, NULL) == -ENOENT);
	CHECK(vmm_map(root, TEST_VA + 1, fpa, 0) == -EINVAL);
	CHECK(vmm_map(root, 0x0000900000000000UL, fpa, 0) == -EINVAL); /* not canonical */
	CHECK(vmm_map(root, TEST_VA, fpa, VMM_WRITE | VMM_USER) == 0);
	CHECK(vmm_map(root, TEST_VA, fpa, VMM_WRITE | VMM_USER) == -EEXIST);
	CHECK(vmm_lookup(root, TEST_VA + 0x10, &pa, &flags) == 0);
	CHECK(pa == fpa + 0x10);
	CHECK(flags == (VMM_WRITE | VMM_USER) || flags == (VMM_WRITE | VMM_USER | VMM_EXEC));
	CHECK(vmm_unmap(root, TEST_VA) == 0);
	CHECK(vmm_unmap(root, TEST_VA) == -ENOENT);
	CHECK(vmm_lookup(root, TEST_VA, &pa, NULL) == -ENOENT);
	free_tables(root, 4);
	pmm_free_kva(frame, PAGE_SIZE);
	return 0;
}
