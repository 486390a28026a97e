/* crash.c: misbehaves on purpose, one way per MODE, so the tests can check that a task's
 * fault ends only that task, with the status a shell would report:
 *   segv   write through a NULL pointer          139 (SIGSEGV)
 *   ud     execute ud2                            132 (SIGILL)
 *   div0   integer division by zero              136 (SIGFPE)
 *   abort  abort()                                134 (SIGABRT; or whatever fault
 *                                                 musl's fallback after raise() hits)
 *   stack  unbounded recursion                   139 (the stack runs out)
 *   loop   spin forever                          only a kill ends it
 * Exit 2: unknown mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int recurse(volatile int *depth)
{
	volatile char pad[4096];
	if (*depth < 0) /* never: it keeps the compiler from calling this a bug */
		return 0;
	pad[0] = (char)*depth;
	(*depth)++;
	return recurse(depth) + pad[0];
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "segv";
	volatile int depth = 0;
	int zero = 0;

	setvbuf(stdout, NULL, _IOLBF, 0); /* the line below must be out before the fault */
	printf("crash: %s\n", mode);
	if (!strcmp(mode, "segv")) {
		// cppcheck-suppress nullPointer ; the whole point
		*(volatile int *)0 = 1;
	} else if (!strcmp(mode, "ud")) {
		__asm__ volatile("ud2");
	} else if (!strcmp(mode, "div0")) {
		/* In asm: the compiler turns 1 / x into compares, with no divide at all. */
		__asm__ volatile("divl %0" : : "r"(zero), "a"(1), "d"(0));
	} else if (!strcmp(mode, "abort")) {
		abort();
	} else if (!strcmp(mode, "stack")) {
		return recurse(&depth);
	} else if (!strcmp(mode, "loop")) {
		for (volatile unsigned long i = 0;; i++)
			;
	} else {
		fprintf(stderr, "usage: crash segv|ud|div0|abort|stack|loop\n");
		return 2;
	}
	printf("crash: still alive after %s\n", mode);
	return 1;
}
