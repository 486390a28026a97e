/* selftest.h: in-kernel tests, run when the command line says `selftest`. A test is a
 * function beside the module it exercises, registered with SELFTEST(name); it returns
 * 0 on success or fails through CHECK, which logs the failed condition. The run prints
 * one line per test and then "selftest: N passed, N failed". */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

#include "kernel/log.h"

struct selftest {
	const char *name;
	int (*fn)(void);
};

#define SELFTEST(n)                                                                                \
	static int selftest_##n(void);                                                             \
	static const struct selftest selftest_entry_##n                                            \
		__attribute__((used, section(".selftests"), aligned(8))) = {#n, selftest_##n};     \
	static int selftest_##n(void)

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			kerror("selftest: check '%s' failed at %s:%d", #c, __FILE__, __LINE__);    \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

/* Run every registered test; returns the number that failed. */
int selftest_run(void);

#endif
