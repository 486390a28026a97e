/* primes.c: CPU-bound work with no memory to speak of: counts the primes below N
 * (default 100000) by trial division, PASSES times (default 1), and prints the count and
 * the time each pass took. The benchmark compares these times on shoal and on Linux: the
 * first pass includes the work of starting cold (under TCG, translating the code), the
 * later ones are the CPU's steady speed. */
#include <stdio.h>

#include "common.h"

static int prime(unsigned long n)
{
	if (n < 2)
		return 0;
	if (n % 2 == 0)
		return n == 2;
	for (unsigned long d = 3; d * d <= n; d += 2)
		if (n % d == 0)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	long n = arg_num(argc, argv, 1, 100000);
	long passes = arg_num(argc, argv, 2, 1);
	if (n < 0 || passes < 1) {
		fprintf(stderr, "usage: primes [N [PASSES]]\n");
		return 2;
	}
	for (long p = 0; p < passes; p++) {
		uint64_t t0 = now_ns();
		long count = 0;
		for (long i = 0; i < n; i++)
			count += prime((unsigned long)i);
		uint64_t took = now_ns() - t0;
		printf("primes below %ld: %ld (%llu us)\n", n, count,
		       (unsigned long long)(took / 1000));
	}
	return 0;
}
