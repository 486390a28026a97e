/* sync.h: sleeping synchronization between kernel threads: mutex, counting
 * semaphore, condition variable and bounded mailbox. Waiters sleep (no spinning) and
 * are woken in FIFO order. Timeouts are in nanoseconds, 0 meaning wait forever; the
 * timed calls return 0 or -ETIMEDOUT. None may be used from interrupt handlers
 * except sem_signal and mbox_trypost, which never block. */
#ifndef KERNEL_SYNC_H
#define KERNEL_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/spinlock.h"

struct thread;

struct waitq {
	struct thread *head, *tail;
};

struct mutex {
	struct spinlock lock;
	struct thread *owner;
	struct waitq waiters;
};

struct sem {
	struct spinlock lock;
	int count;
	struct waitq waiters;
};

struct cond {
	struct spinlock lock;
	struct waitq waiters;
};

struct mbox {
	struct spinlock lock;
	void **slots;
	int size, head, count;
	struct waitq readers, writers;
};

void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);

void sem_init(struct sem *s, int count);
int sem_wait(struct sem *s, uint64_t timeout_ns);
void sem_signal(struct sem *s);

void cond_init(struct cond *c);
/* Atomically release m and wait; m is held again on return. */
int cond_wait(struct cond *c, struct mutex *m, uint64_t timeout_ns);
void cond_signal(struct cond *c);
void cond_broadcast(struct cond *c);

/* A mailbox of `size` pointers; -ENOMEM if its slots cannot be allocated. */
int mbox_init(struct mbox *mb, int size);
void mbox_free(struct mbox *mb);
void mbox_post(struct mbox *mb, void *msg);
int mbox_trypost(struct mbox *mb, void *msg); /* 0 or -EAGAIN when full */
int mbox_fetch(struct mbox *mb, void **msg, uint64_t timeout_ns);
int mbox_tryfetch(struct mbox *mb, void **msg); /* 0 or -EAGAIN when empty */

#endif
