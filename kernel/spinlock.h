/* spinlock.h: ticket spinlocks that also disable interrupts on this CPU while held.
 * Holding one also means no preemption (preemption comes from the timer interrupt). */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdint.h>

#include "arch/cpu.h"

struct spinlock {
	volatile uint16_t next;
	volatile uint16_t owner;
	uint64_t flags; /* interrupt flag of the holder before it acquired */
	const char *name;
};

#define SPINLOCK_INIT(n)                                                                           \
	{                                                                                          \
		0, 0, 0, n                                                                         \
	}

static inline void spin_init(struct spinlock *l, const char *name)
{
	l->next = l->owner = 0;
	l->flags = 0;
	l->name = name;
}

static inline void spin_lock(struct spinlock *l)
{
	uint64_t f = irq_save();
	uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		cpu_relax();
	l->flags = f;
}

static inline void spin_unlock(struct spinlock *l)
{
	uint64_t f = l->flags;
	__atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
	irq_restore(f);
}

static inline int spin_held(struct spinlock *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}

#endif
