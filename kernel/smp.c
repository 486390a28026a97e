/* smp.c: starting the application processors, and running a function on the others.
 *
 * Start-up (Intel SDM vol. 3, 8.4.4): the trampoline (trampoline.S) goes to a free
 * page below 1 MiB, followed by its three page-table pages. Every AP gets INIT, then
 * after one delay a STARTUP IPI, and those that have not shown up after a short wait a
 * second one; all APs go through each step together rather than one at a time. An AP
 * takes a stack from smp_ap_stacks by an atomic counter (any stack fits any CPU),
 * finds its CPU number from its APIC id, and claims its slot with a compare-and-swap
 * on its state. The boot CPU waits for each CPU to come online up to a bound; a CPU
 * that never claimed its slot is marked abandoned by the same compare-and-swap, so if
 * it wakes up later it parks itself instead of joining half-way.
 *
 * smp_call_others: one call at a time, announced by a bitmask of the target CPUs and an
 * IPI. A target runs the function in the IPI handler and clears its bit; the caller
 * waits, with interrupts off, for the mask to empty. A CPU that wants to start a call
 * while another call is in flight spins for its turn and meanwhile runs any call aimed
 * at itself, so two CPUs calling each other at once cannot deadlock. A target that
 * spins with interrupts off for a lock the caller holds would deadlock, so callers hold
 * no spinlock across the call. */
#include "kernel/smp.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "kernel/bootinfo.h"
#include "kernel/config.h"
#include "kernel/cpu.h"
#include "kernel/fpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/selftest.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "kernel/vmm.h"

#define TRAMP_PREFERRED 0x8000UL
#define TRAMP_LOWEST 0x1000UL  /* page 0 holds the real-mode IVT and BIOS data */
#define TRAMP_LIMIT 0x100000UL /* a STARTUP vector names a page below 1 MiB */
#define TRAMP_PAGES 4	       /* code, PML4, PDPT, PD */
#define TRAMP_PML4 (1 * PAGE_SIZE)
#define TRAMP_PDPT (2 * PAGE_SIZE)
#define TRAMP_PD (3 * PAGE_SIZE)
#define PTE_P 0x1UL
#define PTE_W 0x2UL
#define PTE_PS 0x80UL
#define PT_ENTRIES 512
#define EFER_LME (1u << 8)
#define EFER_NXE (1u << 11)
#define CPUID_EXT_FEATURES 0x80000001
#define CPUID_EXT_NX (1u << 20)
#define CPUID1_ECX_HYPERVISOR (1u << 31)

#define AP_STACK_SIZE (16 * 1024)
/* The SDM's 10 ms after INIT is for old hardware; a hypervisor handles INIT
 * synchronously, so there the wait is a token one. */
#define INIT_DELAY_US 10000
#define INIT_DELAY_VIRT_US 100
#define SIPI_RETRY_US 200
#define AP_TIMEOUT_NS 1000000000UL
#define CALL_WARN_NS 1000000000UL

enum { AP_WAITING, AP_CLAIMED, AP_ABANDONED };

extern const char trampoline_start[], trampoline_end[], tramp_gdtr[], tramp_pm_jump[],
	tramp_lm_jump[], tramp_efer[];

/* Read by trampoline.S */
uint64_t smp_boot_cr3;
uint64_t smp_ap_stacks[MAX_CPUS];
uint32_t smp_ap_next_stack;

static int ap_state[MAX_CPUS];
static int nonline = 1;

static int call_vector = -1;
static int call_busy;
static void (*call_fn)(void *);
static void *call_arg;
static uint64_t call_pending; /* CPUs that still have to run call_fn */

int smp_online(void) { return __atomic_load_n(&nonline, __ATOMIC_ACQUIRE); }

int smp_last_online(void)
{
	int last = 0;
	for (int i = 0; i < ncpus; i++)
		if (__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
			last = i;
	return last;
}

static __attribute__((noreturn)) void park(void)
{
	for (;;) {
		irq_disable();
		cpu_halt();
	}
}

/* C entry of every AP (from ap_entry64), on its own stack, interrupts off. */
__attribute__((noreturn)) void smp_ap_main(void)
{
	uint32_t apic = lapic_id_cpuid();
	int id = -1;
	for (int i = 1; i < ncpus; i++)
		if (cpus[i].apic_id == apic)
			id = i;
	int expect = AP_WAITING;
	if (id < 0 || !__atomic_compare_exchange_n(&ap_state[id], &expect, AP_CLAIMED, false,
						   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		park(); /* unknown to us, or given up on */
	trap_init_cpu(id);
	fpu_init_cpu();
	vmm_init_cpu();
	lapic_init_cpu();
	timer_init();
	__atomic_store_n(&cpus[id].online, true, __ATOMIC_RELEASE);
	__atomic_add_fetch(&nonline, 1, __ATOMIC_ACQ_REL);
	sched_run();
	panic("sched_run returned on cpu %d", id);
}

/* A run of TRAMP_PAGES usable pages below 1 MiB (0x8000 when it is free), or 0. */
static uint64_t tramp_page(void)
{
	uint64_t len = TRAMP_PAGES * PAGE_SIZE, best = 0;
	for (int i = 0; i < boot_info.nranges; i++) {
		const struct mem_range *r = &boot_info.ranges[i];
		if (r->type != MEM_USABLE)
			continue;
		uint64_t lo = (r->base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), hi = r->base + r->len;
		if (lo < TRAMP_LOWEST)
			lo = TRAMP_LOWEST;
		if (hi > TRAMP_LIMIT)
			hi = TRAMP_LIMIT;
		if (lo + len > hi)
			continue;
		if (TRAMP_PREFERRED >= lo && TRAMP_PREFERRED + len <= hi)
			return TRAMP_PREFERRED;
		if (!best)
			best = lo;
	}
	return best;
}

/* Offset of a trampoline label from trampoline_start. */
static size_t tramp_off(const char *label)
{
	return (size_t)((uintptr_t)label - (uintptr_t)trampoline_start);
}

static void patch32(uint8_t *page, const char *label, uint32_t v)
{
	memcpy(page + tramp_off(label), &v, sizeof v);
}

/* The field holds an offset in the trampoline: make it an absolute address. */
static void relocate32(uint8_t *page, const char *label, uint64_t base)
{
	uint32_t v;
	memcpy(&v, page + tramp_off(label), sizeof v);
	patch32(page, label, v + (uint32_t)base);
}

static void tramp_install(uint64_t base)
{
	size_t code = tramp_off(trampoline_end);
	if (code > PAGE_SIZE)
		panic("smp: trampoline is %zu bytes, more than a page", code);
	uint8_t *page = P2V(base);
	memcpy(page, trampoline_start, code);
	relocate32(page, tramp_gdtr + 2, base); /* the base after the 16-bit limit */
	relocate32(page, tramp_pm_jump, base);
	relocate32(page, tramp_lm_jump, base);
	uint32_t a, b, c, d, efer = EFER_LME;
	cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
	if (d & CPUID_EXT_NX)
		efer |= EFER_NXE;
	patch32(page, tramp_efer, efer);

	/* The kernel's half of the PML4 as it is now (its entries never change after
	 * vmm_init), and our own identity map of the first 2 MiB in the lower half. */
	uint64_t *pml4 = P2V(base + TRAMP_PML4), *pdpt = P2V(base + TRAMP_PDPT),
		 *pd = P2V(base + TRAMP_PD);
	const uint64_t *kernel = P2V(vmm_kernel_root());
	memset(pml4, 0, PAGE_SIZE);
	memcpy(pml4 + PT_ENTRIES / 2, kernel + PT_ENTRIES / 2, PAGE_SIZE / 2);
	memset(pdpt, 0, PAGE_SIZE);
	memset(pd, 0, PAGE_SIZE);
	pml4[0] = (base + TRAMP_PDPT) | PTE_P | PTE_W;
	pdpt[0] = (base + TRAMP_PD) | PTE_P | PTE_W;
	pd[0] = 0 | PTE_P | PTE_W | PTE_PS;
	smp_boot_cr3 = vmm_kernel_root();
}

static void call_run_mine(void)
{
	uint64_t bit = 1UL << this_cpu()->id;
	if (!(__atomic_load_n(&call_pending, __ATOMIC_ACQUIRE) & bit))
		return;
	call_fn(call_arg);
	__atomic_and_fetch(&call_pending, ~bit, __ATOMIC_RELEASE);
}

static void call_irq(struct trapframe *tf)
{
	call_run_mine();
	lapic_eoi();
}

void smp_call_others(void (*fn)(void *), void *arg)
{
	if (smp_online() < 2 || call_vector < 0)
		return;
	uint64_t f = irq_save();
	while (__atomic_exchange_n(&call_busy, 1, __ATOMIC_ACQUIRE)) {
		call_run_mine();
		cpu_relax();
	}
	int me = this_cpu()->id;
	uint64_t mask = 0;
	for (int i = 0; i < ncpus; i++)
		if (i != me && __atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
			mask |= 1UL << i;
	if (mask) {
		call_fn = fn;
		call_arg = arg;
		__atomic_store_n(&call_pending, mask, __ATOMIC_RELEASE);
		for (int i = 0; i < ncpus; i++)
			if (mask & (1UL << i))
				lapic_send_ipi(cpus[i].apic_id, call_vector);
		uint64_t t0 = time_ns();
		bool warned = false;
		while (__atomic_load_n(&call_pending, __ATOMIC_ACQUIRE)) {
			if (!warned && time_ns() - t0 > CALL_WARN_NS) {
				kwarn("smp: call to other cpus still pending (mask 0x%lx)",
				      call_pending);
				warned = true;
			}
			cpu_relax();
		}
	}
	__atomic_store_n(&call_busy, 0, __ATOMIC_RELEASE);
	irq_restore(f);
}

static bool hypervisor(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return c & CPUID1_ECX_HYPERVISOR;
}

/* Wait until every CPU below `want` is online or the deadline passes. */
static void wait_online(int want, uint64_t deadline)
{
	while (smp_online() < want && time_ns() < deadline)
		cpu_relax();
}

void smp_start_aps(void)
{
	cpus[0].online = true;
	int want = ncpus;
	if (config.smp > 0 && config.smp < want)
		want = config.smp;
	if (call_vector < 0) {
		call_vector = trap_alloc_vector();
		if (call_vector < 0)
			panic("smp: no vector left for cross-CPU calls");
		trap_register(call_vector, call_irq);
	}

	uint64_t base = want > 1 ? tramp_page() : 0;
	if (want > 1 && !base) {
		kwarn("smp: no free page below 1 MiB for the trampoline; one cpu only");
		want = 1;
	}
	for (int i = 1; i < want; i++) {
		uint8_t *stack = vmm_alloc_stack(AP_STACK_SIZE);
		if (!stack) {
			kwarn("smp: no memory for cpu %d's stack; starting %d cpus", i, i);
			want = i;
			break;
		}
		smp_ap_stacks[i - 1] = (uint64_t)stack + AP_STACK_SIZE;
	}
	if (want > 1) {
		tramp_install(base);
		uint8_t vec = (uint8_t)(base >> 12);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		for (int i = 1; i < want; i++)
			lapic_send_init(cpus[i].apic_id);
		udelay(hypervisor() ? INIT_DELAY_VIRT_US : INIT_DELAY_US);
		for (int i = 1; i < want; i++)
			lapic_send_sipi(cpus[i].apic_id, vec);
		wait_online(want, time_ns() + SIPI_RETRY_US * 1000UL);
		for (int i = 1; i < want; i++) /* a second STARTUP is ignored by a running CPU */
			if (__atomic_load_n(&ap_state[i], __ATOMIC_ACQUIRE) == AP_WAITING)
				lapic_send_sipi(cpus[i].apic_id, vec);
		uint64_t deadline = time_ns() + AP_TIMEOUT_NS;
		wait_online(want, deadline);
		for (int i = 1; i < want; i++) {
			int expect = AP_WAITING;
			if (__atomic_compare_exchange_n(&ap_state[i], &expect, AP_ABANDONED, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				kwarn("smp: cpu %d (apic id %u) did not start; skipped", i,
				      cpus[i].apic_id);
				continue;
			}
			/* claimed: it is on its way, give it the same bound again */
			uint64_t t0 = time_ns();
			while (!__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE) &&
			       time_ns() - t0 < AP_TIMEOUT_NS)
				cpu_relax();
			if (!__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
				kwarn("smp: cpu %d (apic id %u) started but never came online", i,
				      cpus[i].apic_id);
		}
	}
	vmm_unmap_identity(); /* the trampoline keeps its own identity map */
	kinfo("smp: %d cpus online", smp_online());
}

static uint64_t test_seen;
static uint64_t test_last_ns;
static int test_backwards;

static void test_mark(void *arg)
{
	__atomic_or_fetch(&test_seen, 1UL << this_cpu()->id, __ATOMIC_ACQ_REL);
	/* time_ns across CPUs: never below a value another CPU published before */
	for (int i = 0; i < 200; i++) {
		uint64_t prev = __atomic_load_n(&test_last_ns, __ATOMIC_ACQUIRE);
		uint64_t now = time_ns();
		if (now < prev)
			__atomic_add_fetch(&test_backwards, 1, __ATOMIC_RELAXED);
		while (prev < now &&
		       !__atomic_compare_exchange_n(&test_last_ns, &prev, now, false,
						    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			;
	}
	(void)arg;
}

SELFTEST(smp_call_others_reaches_all)
{
	uint64_t want = 0;
	int online = 0;
	for (int i = 0; i < ncpus; i++)
		if (__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE)) {
			want |= 1UL << i;
			online++;
		}
	CHECK(online == smp_online());
	int expect = config.smp > 0 && config.smp < ncpus ? config.smp : ncpus;
	CHECK(online == expect);
	for (int round = 0; round < 20; round++) {
		uint64_t f = irq_save(); /* pin to this CPU for the round */
		int me = this_cpu()->id;
		__atomic_store_n(&test_seen, 0, __ATOMIC_RELEASE);
		smp_call_others(test_mark, 0);
		uint64_t seen = __atomic_load_n(&test_seen, __ATOMIC_ACQUIRE);
		test_mark(0);
		irq_restore(f);
		CHECK(seen == (want & ~(1UL << me)));
	}
	CHECK(test_backwards == 0);
	return 0;
}
