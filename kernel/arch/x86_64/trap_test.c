/* trap_test.c: self-test of trap_catch: CPU exceptions raised on purpose are caught,
 * reported by vector, and the kernel carries on. */
#include <stdint.h>

#include "arch/trap.h"
#include "kernel/selftest.h"

#define VEC_UD 6
#define VEC_PF 14
/* Lower half, far from anything the kernel maps (user tasks live elsewhere). */
#define UNMAPPED_ADDR 0x0000700000000000ul

static void raise_ud(void *arg)
{
	(void)arg;
	__asm__ volatile("ud2");
}

static void read_unmapped(void *arg)
{
	(void)arg;
	(void)*(volatile uint64_t *)UNMAPPED_ADDR;
}

static void harmless(void *arg) { *(int *)arg = 1; }

SELFTEST(trap_catch)
{
	int ran = 0;
	CHECK(trap_catch(raise_ud, 0) == VEC_UD);
	CHECK(trap_catch(read_unmapped, 0) == VEC_PF);
	CHECK(trap_catch(harmless, &ran) == -1);
	CHECK(ran == 1);
	CHECK(trap_catch(raise_ud, 0) == VEC_UD); /* still works after a catch */
	return 0;
}
