/* sync.c: mutex, semaphore, condition variable and mailbox on top of sched_block and
 * sched_wake.
 *
 * Every primitive has a spinlock and FIFO wait queues of threads. The rule that keeps
 * timeouts race-free: whoever gives a waiter what it waits for (a mutex handed over, a
 * semaphore count, a message slot becoming interesting) takes it OFF the wait queue
 * under the lock before waking it. A waiter that wakes up still on the queue therefore
 * got nothing - it timed out (or woke spuriously) - and removes itself; one that is off
 * the queue was served, even if its timeout fired at the same moment.
 *
 * The mutex is not handed over: unlock frees it and wakes the oldest waiter, which
 * retries. A thread that is already running may take a free mutex at once, so a
 * contended mutex does not cost a cross-CPU wakeup per acquisition; a waiter that loses
 * such a race goes back to the front of the queue, so newcomers cannot starve it. */
#include "kernel/sync.h"

#include <errno.h>
#include <stddef.h>

#include "kernel/heap.h"
#include "kernel/panic.h"
#include "kernel/thread.h"
#include "kernel/time.h"

static void wq_push(struct waitq *q, struct thread *t, bool front)
{
	t->waitq = q;
	if (front) {
		t->wait_next = q->head;
		q->head = t;
		if (!q->tail)
			q->tail = t;
		return;
	}
	t->wait_next = NULL;
	if (q->tail)
		q->tail->wait_next = t;
	else
		q->head = t;
	q->tail = t;
}

static void wq_remove(struct waitq *q, struct thread *t)
{
	struct thread *prev = NULL;
	for (struct thread *p = q->head; p; prev = p, p = p->wait_next) {
		if (p != t)
			continue;
		if (prev)
			prev->wait_next = t->wait_next;
		else
			q->head = t->wait_next;
		if (q->tail == t)
			q->tail = prev;
		break;
	}
	t->wait_next = NULL;
	t->waitq = NULL;
}

/* Take the oldest waiter off q and wake it; NULL if there was none. */
static struct thread *wq_wake_one(struct waitq *q)
{
	struct thread *t = q->head;
	if (t) {
		wq_remove(q, t);
		sched_wake(t, 0);
	}
	return t;
}

/* Wait on q (lock held, released while asleep) until a waker takes us off it: 0, or
 * -ETIMEDOUT when deadline_ns (0 = none) passed first. front: queue ahead of the others. */
static int wq_wait(struct waitq *q, struct spinlock *lock, uint64_t deadline_ns, bool front)
{
	struct thread *me = thread_current();
	wq_push(q, me, front);
	for (;;) {
		int r = sched_block(lock, deadline_ns);
		if (me->waitq != q)
			return 0;
		if (r == -ETIMEDOUT) {
			wq_remove(q, me);
			return -ETIMEDOUT;
		}
	}
}

static uint64_t deadline(uint64_t timeout_ns) { return timeout_ns ? time_ns() + timeout_ns : 0; }

void mutex_init(struct mutex *m)
{
	spin_init(&m->lock, "mutex");
	m->owner = NULL;
	m->waiters.head = m->waiters.tail = NULL;
}

void mutex_lock(struct mutex *m)
{
	struct thread *me = thread_current();
	spin_lock(&m->lock);
	KASSERT(m->owner != me, "mutex_lock of a mutex this thread holds");
	for (bool woken = false; m->owner; woken = true)
		wq_wait(&m->waiters, &m->lock, 0, woken);
	m->owner = me;
	spin_unlock(&m->lock);
}

bool mutex_trylock(struct mutex *m)
{
	spin_lock(&m->lock);
	bool got = !m->owner;
	if (got)
		m->owner = thread_current();
	spin_unlock(&m->lock);
	return got;
}

void mutex_unlock(struct mutex *m)
{
	spin_lock(&m->lock);
	KASSERT(m->owner == thread_current(), "mutex_unlock by a thread that does not hold it");
	m->owner = NULL;
	wq_wake_one(&m->waiters);
	spin_unlock(&m->lock);
}

void sem_init(struct sem *s, int count)
{
	spin_init(&s->lock, "sem");
	s->count = count;
	s->waiters.head = s->waiters.tail = NULL;
}

int sem_wait(struct sem *s, uint64_t timeout_ns)
{
	uint64_t dl = deadline(timeout_ns);
	spin_lock(&s->lock);
	int r = 0;
	if (s->count > 0)
		s->count--;
	else
		r = wq_wait(&s->waiters, &s->lock, dl,
			    false); /* sem_signal passes its count to us */
	spin_unlock(&s->lock);
	return r;
}

void sem_signal(struct sem *s)
{
	spin_lock(&s->lock);
	if (!wq_wake_one(&s->waiters))
		s->count++;
	spin_unlock(&s->lock);
}

void cond_init(struct cond *c)
{
	spin_init(&c->lock, "cond");
	c->waiters.head = c->waiters.tail = NULL;
}

int cond_wait(struct cond *c, struct mutex *m, uint64_t timeout_ns)
{
	uint64_t dl = deadline(timeout_ns);
	/* Queue ourselves before letting go of m, so a signal sent right after cannot be
	 * missed. */
	spin_lock(&c->lock);
	mutex_unlock(m);
	int r = wq_wait(&c->waiters, &c->lock, dl, false);
	spin_unlock(&c->lock);
	mutex_lock(m);
	return r;
}

void cond_signal(struct cond *c)
{
	spin_lock(&c->lock);
	wq_wake_one(&c->waiters);
	spin_unlock(&c->lock);
}

void cond_broadcast(struct cond *c)
{
	spin_lock(&c->lock);
	while (wq_wake_one(&c->waiters))
		;
	spin_unlock(&c->lock);
}

int mbox_init(struct mbox *mb, int size)
{
	if (size <= 0)
		return -EINVAL;
	mb->slots = kmalloc((size_t)size * sizeof *mb->slots);
	if (!mb->slots)
		return -ENOMEM;
	spin_init(&mb->lock, "mbox");
	mb->size = size;
	mb->head = mb->count = 0;
	mb->readers.head = mb->readers.tail = NULL;
	mb->writers.head = mb->writers.tail = NULL;
	return 0;
}

void mbox_free(struct mbox *mb)
{
	kfree(mb->slots);
	mb->slots = NULL;
}

/* A woken reader or writer only learns that the state changed; it re-checks, since
 * another thread may have taken the message or the slot first. */
static void put(struct mbox *mb, void *msg)
{
	mb->slots[(mb->head + mb->count) % mb->size] = msg;
	mb->count++;
	wq_wake_one(&mb->readers);
}

static void *take(struct mbox *mb)
{
	void *msg = mb->slots[mb->head];
	mb->head = (mb->head + 1) % mb->size;
	mb->count--;
	wq_wake_one(&mb->writers);
	return msg;
}

void mbox_post(struct mbox *mb, void *msg)
{
	spin_lock(&mb->lock);
	for (bool again = false; mb->count == mb->size; again = true)
		wq_wait(&mb->writers, &mb->lock, 0, again);
	put(mb, msg);
	spin_unlock(&mb->lock);
}

int mbox_trypost(struct mbox *mb, void *msg)
{
	spin_lock(&mb->lock);
	int r = -EAGAIN;
	if (mb->count < mb->size) {
		put(mb, msg);
		r = 0;
	}
	spin_unlock(&mb->lock);
	return r;
}

int mbox_fetch(struct mbox *mb, void **msg, uint64_t timeout_ns)
{
	uint64_t dl = deadline(timeout_ns);
	spin_lock(&mb->lock);
	for (bool again = false; mb->count == 0; again = true) {
		if (wq_wait(&mb->readers, &mb->lock, dl, again) == -ETIMEDOUT && mb->count == 0) {
			spin_unlock(&mb->lock);
			return -ETIMEDOUT;
		}
	}
	*msg = take(mb);
	spin_unlock(&mb->lock);
	return 0;
}

int mbox_tryfetch(struct mbox *mb, void **msg)
{
	spin_lock(&mb->lock);
	int r = -EAGAIN;
	if (mb->count > 0) {
		*msg = take(mb);
		r = 0;
	}
	spin_unlock(&mb->lock);
	return r;
}
