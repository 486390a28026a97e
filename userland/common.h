/* common.h: the few helpers the example tasks share (time, number arguments). */
#ifndef USERLAND_COMMON_H
#define USERLAND_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS 1000000ull

/* futex operations (linux/futex.h, which musl-gcc's include path does not carry). */
#define FUTEX_WAIT_PRIVATE (0 | 128)
#define FUTEX_WAKE_PRIVATE (1 | 128)

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * NS_PER_SEC + (uint64_t)t.tv_nsec;
}

/* argv[i] as a non-negative number, or def when it is absent; -1 when it is malformed. */
static inline long arg_num(int argc, char **argv, int i, long def)
{
	char *end;
	long v;

	if (i >= argc)
		return def;
	v = strtol(argv[i], &end, 0);
	if (end == argv[i] || *end || v < 0)
		return -1;
	return v;
}

#endif
