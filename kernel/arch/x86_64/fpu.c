/* fpu.c: SSE/AVX enablement and the per-thread save areas (XSAVE or FXSAVE).
 *
 * The kernel itself never touches x87/SSE registers (it is built with
 * -mgeneral-regs-only), so the registers always hold the state of the thread that runs;
 * the scheduler saves them into the outgoing thread's area and loads the incoming one's
 * on every switch. XSAVE (standard form) is used when CPUID offers it, so AVX's upper
 * halves survive as well; fpu=fxsave on the command line, or an XSAVE/XRSTOR that faults
 * when probed on the boot CPU, falls back to FXSAVE with SSE only.
 *
 * fpu=off leaves SSE disabled (CR4.OSFXSR clear, CR0.EM set): x87 and SSE instructions
 * then raise #NM/#UD instead of running, and nothing is saved on a switch. It exists for
 * hypervisors that cannot run SSE instructions in the guest kernel at all (this
 * project's nested PVM "KVM" dies on the first ldmxcsr with an emulation failure). */
#include "kernel/fpu.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "kernel/config.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/panic.h"

#define CPUID1_EDX_FXSR (1u << 24)
#define CPUID1_EDX_SSE (1u << 25)
#define CPUID1_EDX_SSE2 (1u << 26)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_AVX (1u << 28)
#define CPUID_XSAVE_LEAF 0xd

#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR0_NE (1ul << 5)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_OSXSAVE (1ul << 18)

#define XCR0_X87 (1ul << 0)
#define XCR0_SSE (1ul << 1)
#define XCR0_AVX (1ul << 2)

#define FPU_ALIGN 64	/* XSAVE requires it; FXSAVE needs 16 */
#define FXSAVE_SIZE 512 /* legacy region; also the XSAVE header's offset */
#define XSAVE_HEADER_SIZE 64
#define FCW_OFFSET 0
#define MXCSR_OFFSET 24
#define FCW_DEFAULT 0x037f   /* all x87 exceptions masked, extended precision */
#define MXCSR_DEFAULT 0x1f80 /* all SSE exceptions masked, round to nearest */

static bool use_xsave;
static bool enabled;
static bool probed;
static size_t state_size = FXSAVE_SIZE;

static void xsetbv(uint32_t reg, uint64_t v)
{
	__asm__ volatile("xsetbv" ::"c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static void xsave(void *s)
{
	__asm__ volatile("xsave64 (%0)" ::"r"(s), "a"(~0u), "d"(~0u) : "memory");
}

static void xrstor(const void *s)
{
	__asm__ volatile("xrstor64 (%0)" ::"r"(s), "a"(~0u), "d"(~0u) : "memory");
}

static void fill_default(void *s)
{
	memset(s, 0, state_size);
	*(uint16_t *)((char *)s + FCW_OFFSET) = FCW_DEFAULT;
	*(uint32_t *)((char *)s + MXCSR_OFFSET) = MXCSR_DEFAULT;
}

/* Save and restore a default area once, so a hypervisor that mishandles XSAVE is
 * caught here (as an exception) rather than in the middle of a context switch. */
static void probe_fn(void *arg)
{
	xsave(arg);
	xrstor(arg);
}

static bool xsave_works(void)
{
	static uint8_t area[4096] __attribute__((aligned(FPU_ALIGN)));
	if (state_size > sizeof area)
		return false;
	fill_default(area);
	int v = trap_catch(probe_fn, area);
	if (v >= 0)
		kwarn("fpu: XSAVE/XRSTOR raised exception %d, using FXSAVE", v);
	return v < 0;
}

void fpu_init_cpu(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	uint32_t need = CPUID1_EDX_FXSR | CPUID1_EDX_SSE | CPUID1_EDX_SSE2;
	if ((d & need) != need)
		panic("fpu: CPU lacks FXSR/SSE/SSE2, which every x86-64 CPU has");

	if (config.fpu == FPU_OFF) {
		write_cr0((read_cr0() & ~CR0_TS) | CR0_EM | CR0_MP | CR0_NE);
		write_cr4(read_cr4() & ~(CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE));
		enabled = use_xsave = false;
		state_size = FPU_ALIGN; /* threads still get an (unused) area */
		return;
	}
	enabled = true;
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	bool xs = (c & CPUID1_ECX_XSAVE) && config.fpu != FPU_FXSAVE && (!probed || use_xsave);
	write_cr4(xs ? cr4 | CR4_OSXSAVE : cr4 & ~CR4_OSXSAVE);

	size_t size = FXSAVE_SIZE;
	if (xs) {
		xsetbv(0, XCR0_X87 | XCR0_SSE | ((c & CPUID1_ECX_AVX) ? XCR0_AVX : 0));
		/* EBX: bytes needed for the components XCR0 now enables. */
		cpuid(CPUID_XSAVE_LEAF, 0, &a, &b, &c, &d);
		size = b > FXSAVE_SIZE + XSAVE_HEADER_SIZE ? b : FXSAVE_SIZE + XSAVE_HEADER_SIZE;
	}
	uint32_t mxcsr = MXCSR_DEFAULT;
	__asm__ volatile("fninit; ldmxcsr %0" ::"m"(mxcsr));

	/* Every CPU is the same model; the boot CPU's answer stands for all. */
	use_xsave = xs;
	state_size = (size + FPU_ALIGN - 1) & ~(size_t)(FPU_ALIGN - 1);
	if (xs && !probed) {
		probed = true;
		if (!xsave_works()) {
			use_xsave = false;
			write_cr4(cr4 & ~CR4_OSXSAVE);
			state_size = FXSAVE_SIZE;
		}
	}
}

size_t fpu_state_size(void) { return state_size; }

bool fpu_enabled(void) { return enabled; }

void *fpu_state_alloc(void)
{
	void *s = kmalloc_aligned(state_size, FPU_ALIGN);
	if (s)
		fill_default(s);
	return s;
}

void fpu_state_free(void *s) { kfree(s); }

void fpu_save(void *s)
{
	if (!enabled)
		return;
	if (use_xsave)
		xsave(s);
	else
		__asm__ volatile("fxsave64 (%0)" ::"r"(s) : "memory");
}

void fpu_restore(const void *s)
{
	if (!enabled)
		return;
	if (use_xsave)
		xrstor(s);
	else
		__asm__ volatile("fxrstor64 (%0)" ::"r"(s) : "memory");
}
