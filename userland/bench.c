/* bench.c: the micro-benchmarks that run the same on shoal and on Linux (scripts/bench/
 * tasks.py compares them); each prints one line "bench: NAME N ITEMS X ns/ITEM":
 *   getpid N   N raw getpid calls: the cost of a null system call
 *   futex N    two threads hand a token back and forth N times through futex wait and
 *              wake: the cost of one thread switch (half a round trip)
 * Exit 2: bad arguments; 1: a call failed. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

static _Atomic int turn; /* 0: the main thread's move, 1: the partner's */
static long rounds;

static void wait_for(int want)
{
	int v;
	while ((v = atomic_load(&turn)) != want)
		syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void hand_to(int who)
{
	atomic_store(&turn, who);
	syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *partner(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		wait_for(1);
		hand_to(0);
	}
	return NULL;
}

static void report(const char *name, long n, const char *item, uint64_t ns, long per)
{
	printf("bench: %s %ld %s %llu.%01llu ns/%s\n", name, n, item,
	       (unsigned long long)(ns / (uint64_t)per),
	       (unsigned long long)(ns * 10 / (uint64_t)per % 10), item);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	long n = arg_num(argc, argv, 2, 100000);

	if (n < 1) {
		fprintf(stderr, "usage: bench getpid|futex [N]\n");
		return 2;
	}
	if (!strcmp(what, "getpid")) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getpid);
		report("getpid", n, "call", now_ns() - t0, n);
		return 0;
	}
	if (!strcmp(what, "futex")) {
		pthread_t t;
		rounds = n;
		int e = pthread_create(&t, NULL, partner, NULL);
		if (e) {
			printf("bench: pthread_create: %s\n", strerror(e));
			return 1;
		}
		uint64_t t0 = now_ns();
		for (long i = 0; i < n; i++) {
			hand_to(1);
			wait_for(0);
		}
		uint64_t took = now_ns() - t0;
		pthread_join(t, NULL);
		report("futex", n, "switch", took, 2 * n);
		return 0;
	}
	fprintf(stderr, "usage: bench getpid|futex [N]\n");
	return 2;
}
