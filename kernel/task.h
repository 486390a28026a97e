/* task.h: user tasks, as the scheduler and the console see them. A task is an ordinary
 * static Linux x86-64 ELF (built with musl-gcc -static) running in ring 3 in its own
 * address space, with one or more threads, a bounded output log (stdout and stderr
 * interleaved as written) and limits. Whatever a task does, it ends only itself.
 *
 * States: RUNNING -> EXITED (exit or exit_group: status = its code, 0..255)
 *                 -> KILLED (a fault, a limit or task_kill: status = 128 + signal, as a
 *                    shell reports it: 139 SIGSEGV, 132 SIGILL, 136 SIGFPE, 137 SIGKILL).
 * Serial lines (ARCHITECTURE.md): `task ID (PROGRAM) started`,
 * `task ID (PROGRAM) exited with STATUS`; a fault adds a line naming the address. */
#ifndef KERNEL_TASK_H
#define KERNEL_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TASK_PROGRAM_MAX 64   /* bytes of the program path shown in lists */
#define TASK_ARGS_MAX 64      /* argv and envp entries, each */
#define TASK_ARGS_BYTES 16384 /* all argv and envp strings together */
#define TASK_LOG_BYTES 65536  /* output kept per task (the newest bytes) */

struct task_limits {
	uint64_t mem_bytes; /* 0: the node default (task.mem=) */
	int cpus;	    /* threads that may run at once; 0: all CPUs */
};

struct task_spec {
	const char *program; /* path in the image's file tree ("/bin/hello") */
	const void *image;   /* or an uploaded ELF (copied), with image_len */
	size_t image_len;
	const char *const *argv; /* NULL-terminated; NULL: { program } */
	const char *const *envp; /* NULL-terminated; NULL: empty */
	const void *stdin_data;	 /* copied; NULL: stdin is empty */
	size_t stdin_len;
	struct task_limits limits;
	bool echo; /* copy output lines to the serial console, prefixed by the task id */
};

enum task_state { TASK_RUNNING, TASK_EXITED, TASK_KILLED };

struct task_info {
	int id;
	char program[TASK_PROGRAM_MAX];
	enum task_state state;
	int status; /* valid once not RUNNING */
	int threads;
	uint64_t cpu_ns;
	uint64_t mem_bytes; /* now */
	uint64_t mem_limit;
	uint64_t started_ns, ended_ns;
	uint64_t output_bytes; /* written so far (the log keeps the last TASK_LOG_BYTES) */
};

void task_init(void);
/* Start a task: its id (> 0), or -ENOENT (no such program), -ENOEXEC (not a loadable
 * static x86-64 ELF; the reason is logged), -E2BIG (arguments), -EAGAIN (task.max= tasks
 * already running), -ENOMEM. */
int task_spawn(const struct task_spec *spec);
/* Wait until the task ends or timeout_ns passes (0: forever): 0 with *status set,
 * -ETIMEDOUT, or -ESRCH. */
int task_wait(int id, uint64_t timeout_ns, int *status);
/* End a running task (SIGKILL status): 0 or -ESRCH. */
int task_kill(int id);
/* 0 and *out filled, or -ESRCH. Ended tasks are kept (newest task.keep= of them). */
int task_info(int id, struct task_info *out);
/* Up to max tasks, newest first: how many were written. */
size_t task_list(struct task_info *out, size_t max);
/* Output from byte offset off (counting from the task's first byte ever written): the
 * number of bytes copied into buf (0 at the end), or -ESRCH. *next is the offset after
 * them; when the log no longer holds off, copying starts at its oldest byte. */
long task_output(int id, uint64_t off, void *buf, size_t len, uint64_t *next);
/* Tasks running now (for gossip's resource metadata). */
int task_running(void);
/* The memory limit of a task that asks for none: task.mem=, or a share of memory. */
uint64_t task_default_mem(void);
/* Start the run= tasks of the command line (once the network is up). */
void task_start_boot(void);

#endif
