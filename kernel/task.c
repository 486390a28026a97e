/* task.c: the life cycle of user tasks - spawn, threads, exit, faults, kill, the reaper
 * that frees what a task held - plus its output log, and the interruptible waits (futex
 * and sleep) that a dying task must be able to break.
 *
 * Ending. Whatever ends a task (exit_group, a fault, a limit, task_kill) marks it dying
 * with its status; the first reason wins. A dying task's threads leave at their next
 * return towards ring 3 (system call or interrupt), and its futex waits and sleeps are
 * woken at once. A thread running on another CPU gets that interrupt at once too
 * (sched_interrupt's IPI): a CPU with one thread has no timer interrupt but the tick=
 * backstop, so a thread spinning in ring 3 would otherwise outlive its kill by up to a
 * backstop interval. A thread in a wait of another module (a socket read, a pipe) leaves
 * when that wait ends: bounded by the waits' own timeouts, not by this file.
 *
 * A leaving thread switches to the kernel's page tables, queues itself for the reaper
 * and dies. The reaper joins it (its kernel stack is then free to go) and, after the
 * task's last thread, ends the task: fs_task_end, the address space, the status line.
 * Freeing the address space only then means no CPU can still have it loaded. The task's
 * ended_ns is when its last thread left, not when the reaper got to it.
 *
 * Lock order: tasks_lock -> task->lock -> a futex bucket's spinlock. */
#include "kernel/task.h"

#include <errno.h>
#include <string.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "arch/user.h"
#include "kernel/config.h"
#include "kernel/cpu.h"
#include "kernel/elf.h"
#include "kernel/fs.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/printf.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/uspace.h"
#include "kernel/vmm.h"
#include "net/members.h"
#include "net/net.h"

/* The file layer may be absent from a build (it links separately): tasks then have no
 * files, and programs can only come as images. */
extern __typeof__(fs_task_start) fs_task_start __attribute__((weak));
extern __typeof__(fs_task_end) fs_task_end __attribute__((weak));
extern __typeof__(fs_image_file) fs_image_file __attribute__((weak));

#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGSEGV 11
#define STATUS_SIGNALED 128 /* + signal number, as a shell reports it */
#define TID_BASE 100000	    /* thread ids other than a task's first (which is the task id) */
#define FUTEX_BUCKETS 64
#define BOOT_NET_WAIT_NS (10 * 1000000000UL)

#define PF_WRITE (1UL << 1) /* page-fault error code bits */
#define PF_EXEC (1UL << 4)

static struct mutex tasks_lock; /* the list, counters */
static struct task *tasks;	/* newest first */
static int next_id = 1;
static int next_tid = TID_BASE;
static int running;

/* Dead threads waiting for the reaper. */
static struct spinlock reap_lock = SPINLOCK_INIT("reap");
static struct uthread *reap_list;
static struct sem reap_sem;

struct futex_waiter {
	struct uthread *ut;
	struct uspace *us; /* the key: address space and address */
	uint64_t uaddr;
	bool woken;
	struct futex_waiter *next;
};

struct futex_bucket {
	struct spinlock lock;
	struct futex_waiter *head;
};

static struct futex_bucket buckets[FUTEX_BUCKETS];

static const char *signame(int sig)
{
	switch (sig) {
	case SIGILL:
		return "SIGILL";
	case SIGTRAP:
		return "SIGTRAP";
	case SIGABRT:
		return "SIGABRT";
	case SIGBUS:
		return "SIGBUS";
	case SIGFPE:
		return "SIGFPE";
	case SIGKILL:
		return "SIGKILL";
	case SIGSEGV:
		return "SIGSEGV";
	}
	return "signal";
}

struct uthread *uthread_current(void) { return thread_current()->uthread; }

struct task *task_current(void)
{
	struct uthread *ut = uthread_current();
	return ut ? ut->task : NULL;
}

/* ---- Interruptible waits ---- */

static struct futex_bucket *bucket_of(struct uspace *us, uint64_t uaddr)
{
	uint64_t h = ((uint64_t)us >> 6) ^ (uaddr >> 2);
	h ^= h >> 17;
	return &buckets[h % FUTEX_BUCKETS];
}

static void unlink_waiter(struct futex_bucket *b, struct futex_waiter *w)
{
	for (struct futex_waiter **pp = &b->head; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

/* Block in bucket b (locked on entry and exit) as w until woken or deadline. */
static int wait_in(struct futex_bucket *b, struct futex_waiter *w, uint64_t deadline_ns)
{
	w->next = b->head;
	b->head = w;
	w->ut->waiting = b;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* pairs with mark_dying's */
	int rc = 0;
	while (!w->woken && !w->ut->task->dying) {
		rc = sched_block(&b->lock, deadline_ns);
		if (rc == -ETIMEDOUT)
			break;
	}
	w->ut->waiting = NULL;
	if (w->woken)
		return 0;
	unlink_waiter(b, w);
	return w->ut->task->dying ? -EINTR : -ETIMEDOUT;
}

int futex_wait(uint64_t uaddr, uint32_t val, uint64_t deadline_ns)
{
	struct uthread *ut = uthread_current();
	struct uspace *us = ut->task->us;
	uint64_t pa;
	if (uaddr % sizeof(uint32_t))
		return -EINVAL;
	/* Fault the word in first (that may sleep); then read it under the bucket lock
	 * through the direct map: a waker changes the word before it takes this lock, so
	 * either we see the new value or it finds us queued. */
	int err = uspace_phys(us, uaddr, false, &pa);
	if (err)
		return err;
	struct futex_bucket *b = bucket_of(us, uaddr);
	struct futex_waiter w = {.ut = ut, .us = us, .uaddr = uaddr};
	spin_lock(&b->lock);
	if (__atomic_load_n((uint32_t *)P2V(pa), __ATOMIC_SEQ_CST) != val) {
		spin_unlock(&b->lock);
		return -EAGAIN;
	}
	int rc = wait_in(b, &w, deadline_ns);
	spin_unlock(&b->lock);
	return rc;
}

int futex_wake(struct uspace *us, uint64_t uaddr, int n)
{
	struct futex_bucket *b = bucket_of(us, uaddr);
	int woken = 0;
	spin_lock(&b->lock);
	for (struct futex_waiter **pp = &b->head; *pp && woken < n;) {
		struct futex_waiter *w = *pp;
		if (w->us != us || w->uaddr != uaddr) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->woken = true;
		sched_wake(w->ut->thread, 0);
		woken++;
	}
	spin_unlock(&b->lock);
	return woken;
}

int task_sleep_until(uint64_t deadline_ns)
{
	struct uthread *ut = uthread_current();
	if (!ut) {
		uint64_t now = time_ns();
		if (deadline_ns > now)
			thread_sleep_ns(deadline_ns - now);
		return 0;
	}
	/* A private key nobody wakes: only the deadline or the task's end. */
	struct futex_bucket *b = bucket_of(NULL, (uint64_t)ut);
	struct futex_waiter w = {.ut = ut, .us = NULL, .uaddr = (uint64_t)ut};
	spin_lock(&b->lock);
	int rc = time_ns() < deadline_ns ? wait_in(b, &w, deadline_ns) : -ETIMEDOUT;
	spin_unlock(&b->lock);
	return rc == -EINTR ? -EINTR : 0;
}

/* Wake ut if it sits in one of the waits above (it sees the task dying); if it runs in
 * ring 3 on another CPU, interrupt it there so it leaves now. */
static void interrupt(struct uthread *ut)
{
	sched_interrupt(ut->thread);
	struct futex_bucket *b =
		__atomic_load_n((struct futex_bucket **)&ut->waiting, __ATOMIC_ACQUIRE);
	if (!b)
		return;
	spin_lock(&b->lock);
	if (ut->waiting == b)
		sched_wake(ut->thread, 0);
	spin_unlock(&b->lock);
}

/* ---- Output ---- */

static void echo(struct task *t, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool eol = p[i] == '\n';
		if (!eol)
			t->echo_line[t->echo_len++] = (char)p[i];
		if (eol || t->echo_len == TASK_ECHO_LINE - 1) {
			t->echo_line[t->echo_len] = 0;
			kinfo("[task %d] %s", t->id, t->echo_line);
			t->echo_len = 0;
		}
	}
}

void task_output_append(struct task *t, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	mutex_lock(&t->lock);
	if (t->echo)
		echo(t, p, n);
	/* Only the last TASK_LOG_BYTES can be kept. */
	if (n > TASK_LOG_BYTES) {
		t->log_total += n - TASK_LOG_BYTES;
		p += n - TASK_LOG_BYTES;
		n = TASK_LOG_BYTES;
	}
	while (n) {
		size_t at = t->log_total % TASK_LOG_BYTES, chunk = TASK_LOG_BYTES - at;
		if (chunk > n)
			chunk = n;
		memcpy(t->log + at, p, chunk);
		t->log_total += chunk;
		p += chunk;
		n -= chunk;
	}
	t->stats.output_bytes = t->log_total;
	cond_broadcast(&t->changed);
	mutex_unlock(&t->lock);
}

/* ---- Ending ---- */

/* Mark t dying with this end (the first reason wins) and wake its interruptible waits. */
static void mark_dying(struct task *t, enum task_state state, int status)
{
	mutex_lock(&t->lock);
	if (!t->dying) {
		t->dying = true;
		t->state_end = state;
		t->status = status;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* dying before we look at waits */
	for (struct uthread *ut = t->threads; ut; ut = ut->next)
		interrupt(ut);
	mutex_unlock(&t->lock);
}

/* The calling thread leaves for good: kernel page tables, queue for the reaper, die. */
static __attribute__((noreturn)) void leave(struct uthread *ut)
{
	struct task *t = ut->task;
	struct thread *th = ut->thread;
	mutex_lock(&t->lock);
	bool last = --t->nthreads == 0;
	if (last && !t->dying) { /* the last thread's exit is the task's */
		t->dying = true;
		t->state_end = TASK_EXITED;
		t->status = 0;
	}
	if (last) /* its code stops here: the end a kill's latency is measured to */
		t->stats.ended_ns = time_ns();
	t->dead_cpu_ns += thread_runtime_ns(th);
	mutex_unlock(&t->lock);

	irq_disable();
	th->cr3 = 0;
	arch_user_switch(th); /* the kernel's tables: the task's may be freed any time now */
	spin_lock(&reap_lock);
	ut->next_dead = reap_list;
	reap_list = ut;
	spin_unlock(&reap_lock);
	sem_signal(&reap_sem);
	thread_exit();
}

void task_terminate(struct task *t, int status)
{
	mark_dying(t, status >= STATUS_SIGNALED ? TASK_KILLED : TASK_EXITED, status);
	struct uthread *ut = uthread_current();
	if (ut && ut->task == t)
		leave(ut);
}

void task_exit_group(int status)
{
	struct uthread *ut = uthread_current();
	mark_dying(ut->task, TASK_EXITED, status & 0xff);
	leave(ut);
}

void task_exit_thread(int status)
{
	struct uthread *ut = uthread_current();
	struct task *t = ut->task;
	if (ut->clear_tid && !t->dying) {
		uint32_t zero = 0;
		if (uspace_write(t->us, ut->clear_tid, &zero, sizeof zero) == 0)
			futex_wake(t->us, ut->clear_tid, 1);
	}
	mutex_lock(&t->lock);
	if (t->nthreads == 1 && !t->dying) {
		t->dying = true;
		t->state_end = TASK_EXITED;
		t->status = status & 0xff;
	}
	mutex_unlock(&t->lock);
	leave(ut);
}

void task_user_return(void)
{
	struct uthread *ut = uthread_current();
	if (ut && __atomic_load_n(&ut->task->dying, __ATOMIC_ACQUIRE)) {
		irq_enable();
		leave(ut);
	}
}

static void user_return_hook(struct trapframe *tf)
{
	(void)tf;
	task_user_return();
}

/* An exception in ring 3: demand paging, or the end of the task. */
static void user_fault_hook(struct trapframe *tf)
{
	struct uthread *ut = uthread_current();
	if (!ut)
		panic_trap(tf, "exception in ring 3 outside any task");
	struct task *t = ut->task;
	uint64_t addr = tf->rip;
	int sig = SIGSEGV;
	irq_enable(); /* came from ring 3: no kernel lock is held */
	switch (tf->vector) {
	case 14: { /* page fault */
		addr = read_cr2();
		int err = uspace_fault(t->us, addr, tf->error & PF_WRITE, tf->error & PF_EXEC);
		if (err == 0)
			return;
		if (err == -ENOMEM) {
			kwarn("task %d (%s) killed: SIGKILL at 0x%lx (rip 0x%lx): memory limit of "
			      "%lu KiB reached",
			      t->id, t->program, addr, tf->rip, uspace_limit(t->us) >> 10);
			task_terminate(t, STATUS_SIGNALED + SIGKILL);
		}
		break;
	}
	case 0:	 /* divide error */
	case 16: /* x87 */
	case 19: /* SIMD floating point */
		sig = SIGFPE;
		break;
	case 6: /* invalid opcode */
	case 7: /* device not available: SSE with fpu=off */
		sig = SIGILL;
		break;
	case 1:
	case 3:
		sig = SIGTRAP;
		break;
	case 17: /* alignment check */
		sig = SIGBUS;
		break;
	default: /* #GP, #SS, #NP, ... */
		addr = tf->vector == 13 && tf->error ? tf->error : 0;
		break;
	}
	kwarn("task %d (%s) killed: %s at 0x%lx (rip 0x%lx): %s, error 0x%lx", t->id, t->program,
	      signame(sig), addr, tf->rip, trap_name((int)tf->vector), tf->error);
	task_terminate(t, STATUS_SIGNALED + sig);
}

static void free_task(struct task *t)
{
	pmm_free_kva(t->log, TASK_LOG_BYTES);
	kfree(t);
}

/* After the last thread: release everything and publish the end. */
static void finish(struct task *t)
{
	if (t->files_started)
		fs_task_end(t);
	uint64_t mem = uspace_mem(t->us);
	uspace_destroy(t->us);
	t->us = NULL;

	/* Publish the end only once the oldest ended task beyond task.keep= is freed, so
	 * that whoever waited sees the node's memory as the task left it. Only the reaper
	 * runs this, so t cannot be freed under us (it is never pruned in its own pass). */
	mutex_lock(&tasks_lock);
	mutex_lock(&t->lock);
	if (t->echo && t->echo_len) {
		t->echo_line[t->echo_len] = 0;
		kinfo("[task %d] %s", t->id, t->echo_line);
		t->echo_len = 0;
	}
	t->state = t->state_end;
	t->stats.cpu_ns = t->dead_cpu_ns;
	t->stats.mem_bytes = mem;
	int status = t->status;
	mutex_unlock(&t->lock);
	int n = --running;
	struct task *drop = NULL;
	int kept = 0;
	for (struct task **pp = &tasks; *pp;) {
		struct task *x = *pp;
		if (x->state != TASK_RUNNING && ++kept > config.task_keep && x != t) {
			*pp = x->next;
			x->unlinked = true;
			if (!x->refs) {
				x->next = drop;
				drop = x;
			}
			continue;
		}
		pp = &x->next;
	}
	mutex_unlock(&tasks_lock);
	while (drop) {
		struct task *x = drop;
		drop = x->next;
		free_task(x);
	}
	members_set_tasks((unsigned)n);
	kinfo("task %d (%s) exited with %d", t->id, t->program, status);
	mutex_lock(&t->lock);
	cond_broadcast(&t->changed);
	mutex_unlock(&t->lock);
}

static void reaper(void *arg)
{
	(void)arg;
	for (;;) {
		sem_wait(&reap_sem, 0);
		spin_lock(&reap_lock);
		struct uthread *ut = reap_list;
		reap_list = ut->next_dead;
		spin_unlock(&reap_lock);

		struct task *t = ut->task;
		thread_join(ut->thread);
		mutex_lock(&t->lock);
		for (struct uthread **pp = &t->threads; *pp; pp = &(*pp)->next) {
			if (*pp == ut) {
				*pp = ut->next;
				break;
			}
		}
		bool last = --t->nlive == 0;
		mutex_unlock(&t->lock);
		kfree(ut->start);
		kfree(ut);
		if (last)
			finish(t);
	}
}

/* ---- Starting ---- */

/* Every user thread's kernel side begins here, then leaves for ring 3 for good. */
static void uthread_main(void *arg)
{
	struct uthread *ut = arg;
	struct trapframe f = *ut->start;
	task_user_return(); /* killed before it ever ran */
	arch_user_enter(&f);
}

/* A thread of t that starts in ring 3 with frame. */
static struct uthread *new_uthread(struct task *t, const struct trapframe *frame, int tid,
				   uint64_t fs_base)
{
	struct uthread *ut = kzalloc(sizeof *ut);
	if (!ut)
		return NULL;
	ut->start = kmalloc(sizeof *ut->start);
	char name[THREAD_NAME_MAX];
	ksnprintf(name, sizeof name, "task%d/%d", t->id, tid);
	ut->thread = ut->start ? thread_create(name, uthread_main, ut, THREAD_ANY_CPU) : NULL;
	if (!ut->thread) {
		kfree(ut->start);
		kfree(ut);
		return NULL;
	}
	*ut->start = *frame;
	ut->task = t;
	ut->tid = tid;
	ut->thread->uthread = ut;
	ut->thread->task = t;
	ut->thread->cr3 = uspace_root(t->us);
	ut->thread->fs_base = fs_base;
	return ut;
}

/* Link ut into t and start it (t->lock held). */
static void add_thread(struct task *t, struct uthread *ut)
{
	ut->next = t->threads;
	t->threads = ut;
	t->nthreads++;
	t->nlive++;
	t->stats.threads = t->nthreads;
	if (t->nthreads > 1)
		uspace_set_shared(t->us, true);
}

int task_clone_thread(const struct trapframe *frame, uint64_t fs_base, uint64_t clear_tid,
		      uint64_t set_tid1, uint64_t set_tid2)
{
	struct task *t = task_current();
	if (t->dying)
		return -EAGAIN; /* a thread starting after this sees it and leaves at once */
	int id = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
	struct uthread *ut = new_uthread(t, frame, id, fs_base);
	if (!ut)
		return -ENOMEM;
	ut->clear_tid = clear_tid;
	ut->sigmask = uthread_current()->sigmask;
	int32_t tid = id;
	if ((set_tid1 && uspace_write(t->us, set_tid1, &tid, sizeof tid)) ||
	    (set_tid2 && uspace_write(t->us, set_tid2, &tid, sizeof tid))) {
		/* Never started: free it as thread_join would. */
		thread_discard(ut->thread);
		kfree(ut->start);
		kfree(ut);
		return -EFAULT;
	}
	mutex_lock(&t->lock);
	add_thread(t, ut);
	mutex_unlock(&t->lock);
	thread_start(ut->thread);
	return id;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

uint64_t task_default_mem(void)
{
	if (config.task_mem)
		return config.task_mem;
	uint64_t fraction = pmm_total_bytes() / CONFIG_TASK_MEM_FRACTION;
	return fraction < CONFIG_DEFAULT_TASK_MEM ? fraction : CONFIG_DEFAULT_TASK_MEM;
}

int task_spawn(const struct task_spec *spec)
{
	const void *image = spec->image;
	size_t len = spec->image_len;
	const char *program = spec->program ? spec->program : "(image)";
	if (!image) {
		if (!spec->program)
			return -EINVAL;
		int err = fs_image_file ? fs_image_file(spec->program, &image, &len) : -ENOENT;
		if (err)
			return err == -EISDIR ? -ENOEXEC : err;
	}

	mutex_lock(&tasks_lock);
	if (running >= config.task_max) {
		mutex_unlock(&tasks_lock);
		return -EAGAIN;
	}
	running++;
	int id = next_id++;
	mutex_unlock(&tasks_lock);

	int err = -ENOMEM;
	struct task *t = kzalloc(sizeof *t);
	if (!t)
		goto fail_count;
	t->id = id;
	strncpy(t->program, base_name(program), sizeof t->program - 1);
	t->limits = spec->limits;
	if (!t->limits.mem_bytes)
		t->limits.mem_bytes = task_default_mem();
	t->echo = spec->echo;
	mutex_init(&t->lock);
	cond_init(&t->changed);
	spin_init(&t->sig_lock, "sigact");
	t->log = pmm_alloc_kva(TASK_LOG_BYTES);
	t->us = uspace_create(t->limits.mem_bytes);
	if (!t->log || !t->us)
		goto fail_task;

	uint64_t entry, sp;
	const char *why = NULL;
	const char *const *argv = spec->argv;
	const char *const own[] = {program, NULL};
	if (!argv)
		argv = own;
	err = exec_load(t->us, image, len, !spec->image, program, argv, spec->envp, &entry, &sp,
			&why);
	if (err) {
		if (err == -ENOEXEC)
			kwarn("task: %s is not a loadable program: %s", program, why ? why : "?");
		goto fail_task;
	}
	if (fs_task_start) {
		err = fs_task_start(t, spec->stdin_data, spec->stdin_len);
		if (err)
			goto fail_task;
		t->files_started = true;
	}

	struct trapframe f = {0};
	f.rip = entry;
	f.rsp = sp;
	f.cs = USER_CS;
	f.ss = USER_DS;
	f.rflags = USER_RFLAGS;
	struct uthread *ut = new_uthread(t, &f, id, 0);
	if (!ut) {
		err = -ENOMEM;
		goto fail_files;
	}
	t->state = TASK_RUNNING;
	t->stats.started_ns = time_ns();
	t->stats.mem_limit = t->limits.mem_bytes;
	add_thread(t, ut);

	mutex_lock(&tasks_lock);
	t->next = tasks;
	tasks = t;
	int n = running;
	mutex_unlock(&tasks_lock);
	kinfo("task %d (%s) started", id, t->program);
	members_set_tasks((unsigned)n);
	thread_start(ut->thread);
	return id;

fail_files:
	if (t->files_started)
		fs_task_end(t);
fail_task:
	if (t) {
		uspace_destroy(t->us);
		if (t->log)
			pmm_free_kva(t->log, TASK_LOG_BYTES);
		kfree(t);
	}
fail_count:
	mutex_lock(&tasks_lock);
	running--;
	mutex_unlock(&tasks_lock);
	return err;
}

/* ---- Queries ---- */

/* The task with this id, or NULL; tasks_lock held. */
static struct task *lookup(int id)
{
	for (struct task *t = tasks; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

int task_wait(int id, uint64_t timeout_ns, int *status)
{
	mutex_lock(&tasks_lock);
	struct task *t = lookup(id);
	if (!t) {
		mutex_unlock(&tasks_lock);
		return -ESRCH;
	}
	t->refs++; /* not freed while we wait (finish only unlinks it then) */
	mutex_unlock(&tasks_lock);
	uint64_t deadline = timeout_ns ? time_ns() + timeout_ns : 0;
	mutex_lock(&t->lock);
	int rc = 0;
	while (t->state == TASK_RUNNING) {
		uint64_t left = 0;
		if (deadline) {
			uint64_t now = time_ns();
			if (now >= deadline) {
				rc = -ETIMEDOUT;
				break;
			}
			left = deadline - now;
		}
		cond_wait(&t->changed, &t->lock, left);
	}
	if (!rc && status)
		*status = t->status;
	mutex_unlock(&t->lock);
	mutex_lock(&tasks_lock);
	bool gone = --t->refs == 0 && t->unlinked;
	mutex_unlock(&tasks_lock);
	if (gone)
		free_task(t);
	return rc;
}

int task_kill(int id)
{
	mutex_lock(&tasks_lock);
	struct task *t = lookup(id);
	int rc = -ESRCH;
	if (t && t->state == TASK_RUNNING) {
		mark_dying(t, TASK_KILLED, STATUS_SIGNALED + SIGKILL);
		rc = 0;
	}
	mutex_unlock(&tasks_lock);
	return rc;
}

static void fill(struct task *t, struct task_info *out)
{
	mutex_lock(&t->lock);
	*out = t->stats;
	out->id = t->id;
	memcpy(out->program, t->program, sizeof out->program);
	out->state = t->state;
	out->status = t->status;
	out->threads = t->state == TASK_RUNNING ? t->nthreads : 0;
	out->mem_limit = t->limits.mem_bytes;
	out->output_bytes = t->log_total;
	if (t->state == TASK_RUNNING) {
		uint64_t cpu = t->dead_cpu_ns;
		for (struct uthread *ut = t->threads; ut; ut = ut->next)
			cpu += thread_runtime_ns(ut->thread);
		out->cpu_ns = cpu;
		out->mem_bytes = t->us ? uspace_mem(t->us) : 0;
	}
	mutex_unlock(&t->lock);
}

int task_info(int id, struct task_info *out)
{
	mutex_lock(&tasks_lock);
	struct task *t = lookup(id);
	if (t)
		fill(t, out);
	mutex_unlock(&tasks_lock);
	return t ? 0 : -ESRCH;
}

size_t task_list(struct task_info *out, size_t max)
{
	size_t n = 0;
	mutex_lock(&tasks_lock);
	for (struct task *t = tasks; t && n < max; t = t->next)
		fill(t, &out[n++]);
	mutex_unlock(&tasks_lock);
	return n;
}

long task_output(int id, uint64_t off, void *buf, size_t len, uint64_t *next)
{
	mutex_lock(&tasks_lock);
	struct task *t = lookup(id);
	if (!t) {
		mutex_unlock(&tasks_lock);
		return -ESRCH;
	}
	mutex_lock(&t->lock);
	uint64_t oldest = t->log_total > TASK_LOG_BYTES ? t->log_total - TASK_LOG_BYTES : 0;
	if (off < oldest)
		off = oldest;
	if (off > t->log_total)
		off = t->log_total;
	size_t n = t->log_total - off < len ? (size_t)(t->log_total - off) : len;
	for (size_t done = 0; done < n;) {
		size_t at = (off + done) % TASK_LOG_BYTES, chunk = TASK_LOG_BYTES - at;
		if (chunk > n - done)
			chunk = n - done;
		memcpy((uint8_t *)buf + done, t->log + at, chunk);
		done += chunk;
	}
	*next = off + n;
	mutex_unlock(&t->lock);
	mutex_unlock(&tasks_lock);
	return (long)n;
}

int task_running(void) { return __atomic_load_n(&running, __ATOMIC_RELAXED); }

int task_cpus(struct task *t)
{
	int online = 0;
	for (int i = 0; i < ncpus; i++)
		online += cpus[i].online;
	return t && t->limits.cpus > 0 && t->limits.cpus < online ? t->limits.cpus : online;
}

/* ---- Boot ---- */

static void start_boot_tasks(void *arg)
{
	(void)arg;
	/* Daemons such as an echo server want their address bound first. */
	if (net_wait_bound(BOOT_NET_WAIT_NS) == -ETIMEDOUT)
		kwarn("task: network not up after %lu s; starting run= tasks anyway",
		      BOOT_NET_WAIT_NS / 1000000000UL);
	for (int i = 0; i < config.nrun; i++) {
		/* run=PROGRAM[:ARG:ARG...] */
		char buf[CONFIG_RUN_LEN];
		const char *argv[CONFIG_RUN_ARGS + 1];
		int argc = 0;
		memcpy(buf, config.run[i], sizeof buf);
		argv[argc++] = buf;
		for (char *p = buf; *p && argc < CONFIG_RUN_ARGS; p++) {
			if (*p == ':') {
				*p = 0;
				argv[argc++] = p + 1;
			}
		}
		argv[argc] = NULL;
		struct task_spec spec = {.program = argv[0], .argv = argv, .echo = true};
		int id = task_spawn(&spec);
		if (id < 0)
			kwarn("task: run=%s failed: %d", config.run[i], id);
	}
}

void task_init(void)
{
	mutex_init(&tasks_lock);
	sem_init(&reap_sem, 0);
	for (int i = 0; i < FUTEX_BUCKETS; i++)
		spin_init(&buckets[i].lock, "futex");
	syscall_init();
	trap_user_fault = user_fault_hook;
	trap_user_return = user_return_hook;
	struct thread *r = thread_create("reaper", reaper, NULL, THREAD_ANY_CPU);
	if (!r)
		panic("task: no memory for the reaper thread");
	thread_start(r);
	kinfo("task: ready (limit %lu MiB per task, at most %d tasks, SMEP %s, SMAP %s)",
	      task_default_mem() >> 20, config.task_max, arch_smep() ? "on" : "off",
	      arch_smap() ? "on" : "off");
}

void task_start_boot(void)
{
	if (!config.nrun)
		return;
	struct thread *th = thread_create("run", start_boot_tasks, NULL, THREAD_ANY_CPU);
	if (th)
		thread_start(th); /* it ends by itself; its few KiB are not worth a join */
	else
		kwarn("task: no memory to start the run= tasks");
}
