/* threads.c: N threads (default 4) each sum a slice of 1..WORK (default 4000000) and
 * bump a shared counter under a mutex ROUNDS times, so musl's pthreads exercise clone,
 * futex waits and wakes, and thread exit. Prints the sum, which must equal
 * WORK*(WORK+1)/2, and the counter, which must equal N*ROUNDS. Exit 0 if both hold. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#define THREADS_MAX 64
#define ROUNDS 2000

struct slice {
	unsigned long long from, to, sum;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *work(void *arg)
{
	struct slice *s = arg;
	for (unsigned long long i = s->from; i <= s->to; i++)
		s->sum += i;
	for (int r = 0; r < ROUNDS; r++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return s;
}

int main(int argc, char **argv)
{
	long n = arg_num(argc, argv, 1, 4), total = arg_num(argc, argv, 2, 4000000);
	pthread_t t[THREADS_MAX];
	struct slice sl[THREADS_MAX];
	unsigned long long sum = 0, want;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (n < 1 || n > THREADS_MAX || total < 1) {
		fprintf(stderr, "usage: threads [N<=%d] [WORK]\n", THREADS_MAX);
		return 2;
	}
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++) {
		sl[i] = (struct slice){.from = (unsigned long long)(total * i / n) + 1,
				       .to = (unsigned long long)(total * (i + 1) / n)};
		int e = pthread_create(&t[i], NULL, work, &sl[i]);
		if (e) {
			printf("threads: pthread_create %ld: %s\n", i, strerror(e));
			return 1;
		}
	}
	for (long i = 0; i < n; i++) {
		void *r;
		int e = pthread_join(t[i], &r);
		if (e || r != &sl[i]) {
			printf("threads: pthread_join %ld: %s\n", i,
			       e ? strerror(e) : "wrong result");
			return 1;
		}
		sum += sl[i].sum;
	}
	uint64_t took = now_ns() - t0;
	want = (unsigned long long)total * ((unsigned long long)total + 1) / 2;
	printf("threads: %ld threads, sum %llu (%s), counter %ld (%s), %llu us\n", n, sum,
	       sum == want ? "ok" : "WRONG", counter, counter == n * ROUNDS ? "ok" : "WRONG",
	       (unsigned long long)(took / 1000));
	return sum == want && counter == n * ROUNDS ? 0 : 1;
}
