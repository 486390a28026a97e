/* crashtest.c: deliberate kernel crashes (debug.crash=) so tests can check what the panic
 * path prints: message, registers, faulting address and a symbolized backtrace, and
 * that a double fault from a blown stack still gets reported on its IST stack. */
#include "kernel/crashtest.h"

#include "kernel/config.h"
#include "kernel/log.h"
#include "kernel/panic.h"

static volatile int depth;

/* Recurse until the stack runs into its guard page. */
__attribute__((noinline)) static int recurse(volatile char *prev)
{
	volatile char frame[512];
	frame[0] = prev ? prev[0] + 1 : 0;
	if (++depth > 1000000) /* never reached: the guard page stops it first */
		return 0;
	return recurse(frame) + frame[1];
}

void crashtest_run(int kind)
{
	switch (kind) {
	case CRASH_PANIC:
		kinfo("crashtest: calling panic");
		panic("crashtest: deliberate panic");
	case CRASH_PAGEFAULT:
		kinfo("crashtest: writing to an unmapped address");
		*(volatile int *)0xdead0000UL = 1;
		break;
	case CRASH_UD:
		kinfo("crashtest: executing ud2");
		__asm__ volatile("ud2");
		break;
	case CRASH_STACK:
		kinfo("crashtest: overflowing this thread's stack");
		recurse(0);
		break;
	}
}
