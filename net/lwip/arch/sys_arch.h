/* sys_arch.h: lwIP's OS types for the shoal kernel: semaphores, mutexes, mailboxes and
 * threads are the kernel's own (kernel/sync.h, kernel/thread.h), embedded by value so
 * that creating one allocates nothing but a mailbox's slots. A `valid` flag says
 * whether lwIP created it (the kernel objects have no invalid state of their own). */
#ifndef SHOAL_LWIP_ARCH_SYS_ARCH_H
#define SHOAL_LWIP_ARCH_SYS_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/sync.h"

struct thread;

typedef struct {
	struct sem sem;
	bool valid;
} sys_sem_t;

typedef struct {
	struct mutex mutex;
	bool valid;
} sys_mutex_t;

typedef struct {
	struct mbox mbox;
	bool valid;
} sys_mbox_t;

typedef struct thread *sys_thread_t;

/* The interrupt flag saved by sys_arch_protect. */
typedef uint64_t sys_prot_t;

#define sys_sem_valid(s) ((s)->valid)
#define sys_sem_set_invalid(s) ((s)->valid = false)
#define sys_mutex_valid(m) ((m)->valid)
#define sys_mutex_set_invalid(m) ((m)->valid = false)
#define sys_mbox_valid(mb) ((mb)->valid)
#define sys_mbox_set_invalid(mb) ((mb)->valid = false)

#endif
