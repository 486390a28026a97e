/* sync_test.c: self-tests of mutex, semaphore, condition variable and mailbox, with
 * threads spread over all CPUs. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "kernel/cpu.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/sync.h"
#include "kernel/thread.h"
#include "kernel/time.h"

#define NS_PER_MS 1000000ull
#define MUTEX_ROUNDS 2000 /* per thread: contended enough, and 2 s, not 100, under nested KVM */
#define MAX_WORKERS 16
#define SEM_TIMEOUT_NS (30 * NS_PER_MS)
#define SEM_TIMEOUT_MAX_NS (60 * NS_PER_MS)
#define SEM_SIGNAL_DELAY_NS (10 * NS_PER_MS)
#define COND_WAITERS 8
#define COND_TIMEOUT_NS (2000 * NS_PER_MS)
#define MBOX_SLOTS 4
#define MBOX_MESSAGES 500
#define MBOX_SHORT_NS (10 * NS_PER_MS)

static struct mutex counter_lock;
static volatile uint64_t counter;

static void mutex_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < MUTEX_ROUNDS; i++) {
		mutex_lock(&counter_lock);
		uint64_t v = counter; /* a non-atomic update: only the mutex keeps it exact */
		cpu_relax();
		counter = v + 1;
		mutex_unlock(&counter_lock);
	}
}

SELFTEST(sync_mutex)
{
	struct thread *t[MAX_WORKERS];
	int n = 2 * smp_online();
	if (n < 4)
		n = 4;
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	mutex_init(&counter_lock);
	counter = 0;
	CHECK(mutex_trylock(&counter_lock));
	CHECK(!mutex_trylock(&counter_lock));
	mutex_unlock(&counter_lock);
	for (int i = 0; i < n; i++) {
		t[i] = thread_create("mutex", mutex_worker, 0, THREAD_ANY_CPU);
		CHECK(t[i]);
	}
	for (int i = 0; i < n; i++)
		thread_start(t[i]);
	for (int i = 0; i < n; i++)
		thread_join(t[i]);
	CHECK(counter == (uint64_t)n * MUTEX_ROUNDS);
	CHECK(counter_lock.owner == 0);
	return 0;
}

static void delayed_signal(void *arg)
{
	thread_sleep_ns(SEM_SIGNAL_DELAY_NS);
	sem_signal(arg);
}

SELFTEST(sync_sem)
{
	struct sem s;
	sem_init(&s, 0);
	uint64_t t0 = time_ns();
	CHECK(sem_wait(&s, SEM_TIMEOUT_NS) == -ETIMEDOUT);
	uint64_t dt = time_ns() - t0;
	CHECK(dt >= SEM_TIMEOUT_NS && dt <= SEM_TIMEOUT_MAX_NS);
	CHECK(s.waiters.head == 0); /* the timed-out waiter left the queue */

	sem_signal(&s);
	sem_signal(&s);
	CHECK(sem_wait(&s, SEM_TIMEOUT_NS) == 0);
	CHECK(sem_wait(&s, 0) == 0);
	CHECK(s.count == 0);

	/* Woken from another CPU well before the timeout. */
	struct thread *t = thread_create("sem", delayed_signal, &s, smp_last_online());
	CHECK(t);
	t0 = time_ns();
	thread_start(t);
	CHECK(sem_wait(&s, 100 * SEM_TIMEOUT_NS) == 0);
	dt = time_ns() - t0;
	thread_join(t);
	CHECK(dt >= SEM_SIGNAL_DELAY_NS && dt < 10 * SEM_SIGNAL_DELAY_NS);
	CHECK(s.count == 0);
	return 0;
}

struct cond_test {
	struct mutex m;
	struct cond c;
	bool go;
	int waiting, woken, timed_out;
};

static void cond_waiter(void *arg)
{
	struct cond_test *ct = arg;
	mutex_lock(&ct->m);
	ct->waiting++;
	while (!ct->go) {
		if (cond_wait(&ct->c, &ct->m, COND_TIMEOUT_NS) == -ETIMEDOUT) {
			ct->timed_out++;
			break;
		}
	}
	if (ct->go)
		ct->woken++;
	mutex_unlock(&ct->m);
}

SELFTEST(sync_cond_broadcast)
{
	struct cond_test ct = {.go = false};
	struct thread *t[COND_WAITERS];
	mutex_init(&ct.m);
	cond_init(&ct.c);
	for (int i = 0; i < COND_WAITERS; i++) {
		t[i] = thread_create("cond", cond_waiter, &ct, THREAD_ANY_CPU);
		CHECK(t[i]);
		thread_start(t[i]);
	}
	for (int tries = 0; tries < 1000; tries++) {
		mutex_lock(&ct.m);
		int w = ct.waiting;
		mutex_unlock(&ct.m);
		if (w == COND_WAITERS)
			break;
		thread_sleep_ns(NS_PER_MS);
	}
	mutex_lock(&ct.m);
	CHECK(ct.waiting == COND_WAITERS);
	ct.go = true;
	cond_broadcast(&ct.c);
	mutex_unlock(&ct.m);
	for (int i = 0; i < COND_WAITERS; i++)
		thread_join(t[i]);
	CHECK(ct.timed_out == 0);
	CHECK(ct.woken == COND_WAITERS);

	/* A wait nobody signals times out, and holds the mutex again afterwards. */
	mutex_lock(&ct.m);
	CHECK(cond_wait(&ct.c, &ct.m, MBOX_SHORT_NS) == -ETIMEDOUT);
	CHECK(ct.m.owner == thread_current());
	mutex_unlock(&ct.m);
	return 0;
}

struct mbox_test {
	struct mbox mb;
	int errors, received;
};

static void producer(void *arg)
{
	struct mbox_test *mt = arg;
	for (uintptr_t i = 1; i <= MBOX_MESSAGES; i++)
		mbox_post(&mt->mb, (void *)i);
}

static void consumer(void *arg)
{
	struct mbox_test *mt = arg;
	for (uintptr_t want = 1; want <= MBOX_MESSAGES; want++) {
		void *msg;
		if (mbox_fetch(&mt->mb, &msg, 0) != 0 || (uintptr_t)msg != want)
			mt->errors++;
		mt->received++;
	}
}

SELFTEST(sync_mbox)
{
	struct mbox_test mt = {.errors = 0};
	CHECK(mbox_init(&mt.mb, MBOX_SLOTS) == 0);

	struct thread *p = thread_create("producer", producer, &mt, smp_last_online());
	struct thread *c = thread_create("consumer", consumer, &mt, 0);
	CHECK(p && c);
	thread_start(c);
	thread_start(p);
	thread_join(p);
	thread_join(c);
	CHECK(mt.errors == 0);
	CHECK(mt.received == MBOX_MESSAGES);

	void *msg;
	CHECK(mbox_tryfetch(&mt.mb, &msg) == -EAGAIN);
	uint64_t t0 = time_ns();
	CHECK(mbox_fetch(&mt.mb, &msg, MBOX_SHORT_NS) == -ETIMEDOUT);
	CHECK(time_ns() - t0 >= MBOX_SHORT_NS);
	for (uintptr_t i = 0; i < MBOX_SLOTS; i++)
		CHECK(mbox_trypost(&mt.mb, (void *)(i + 100)) == 0);
	CHECK(mbox_trypost(&mt.mb, (void *)1) == -EAGAIN);
	CHECK(mbox_tryfetch(&mt.mb, &msg) == 0 && (uintptr_t)msg == 100);
	CHECK(mbox_fetch(&mt.mb, &msg, MBOX_SHORT_NS) == 0 && (uintptr_t)msg == 101);
	mbox_free(&mt.mb);
	return 0;
}
