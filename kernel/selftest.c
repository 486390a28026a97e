/* selftest.c: the runner of the in-kernel self-tests (`selftest` on the command line).
 * SELFTEST() places one struct selftest per test in the .selftests section, which
 * boot/link.ld brackets with __selftests_start and __selftests_end. */
#include "kernel/selftest.h"

#include "arch/cpu.h"

extern const struct selftest __selftests_start[], __selftests_end[];

int selftest_run(void)
{
	int passed = 0, failed = 0;
	for (const struct selftest *t = __selftests_start; t < __selftests_end; t++) {
		int r = t->fn();
		/* A test must not leave interrupts off behind it: that hides the bug it
		 * caused from every later test. */
		if (!irq_enabled()) {
			kerror("selftest: %s returned with interrupts disabled", t->name);
			irq_enable();
			r = -1;
		}
		if (r == 0) {
			passed++;
			kinfo("selftest: %s ok", t->name);
		} else {
			failed++;
			kerror("selftest: %s FAILED", t->name);
		}
	}
	kinfo("selftest: %d passed, %d failed", passed, failed);
	return failed;
}
