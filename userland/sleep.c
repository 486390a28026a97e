/* sleep.c: sleeps N milliseconds (default 100) with nanosleep and prints how long it
 * really took by the monotonic clock. Exit 1 if it woke early, 2 on a bad argument. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"

int main(int argc, char **argv)
{
	long ms = arg_num(argc, argv, 1, 100);
	if (ms < 0) {
		fprintf(stderr, "usage: sleep [MS]\n");
		return 2;
	}
	struct timespec want = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * (long)NS_PER_MS};
	uint64_t t0 = now_ns();
	while (nanosleep(&want, &want) != 0) {
		if (errno != EINTR) {
			fprintf(stderr, "sleep: nanosleep: %s\n", strerror(errno));
			return 2;
		}
	}
	uint64_t took = now_ns() - t0;
	printf("sleep: asked %ld ms, slept %llu.%03llu ms\n", ms,
	       (unsigned long long)(took / NS_PER_MS),
	       (unsigned long long)(took % NS_PER_MS / 1000));
	return took >= (uint64_t)ms * NS_PER_MS ? 0 : 1;
}
