/* fs.h: the files a task sees. `/` is read-only, the image's userland archive (a cpio
 * newc boot module); `/tmp` is a small writable in-memory tree per task, its bytes
 * counted against the task's memory limit; fds 0, 1, 2 are stdin (the spec's bytes, or
 * empty), stdout and stderr (both into the task's output log); pipes and sockets (lwIP)
 * are files too. Open files are reference counted (dup, threads sharing the table). */
#ifndef KERNEL_FS_H
#define KERNEL_FS_H

#include <stddef.h>
#include <stdint.h>

struct task;

#define FS_FDS_MAX 256

/* Find the archive (the first boot module that starts with the newc magic) and index
 * it; a malformed archive is refused whole with a log line, leaving `/` holding only
 * /tmp. Idempotent: calls after the first do nothing. */
void fs_init(void);
/* A read-only view of a file in the image's tree, for the ELF loader: 0 with *data and
 * *len set (the bytes stay valid for the kernel's lifetime), -ENOENT or -EISDIR. */
int fs_image_file(const char *path, const void **data, size_t *len);

/* Per-task set-up (fds 0-2, /tmp, cwd "/"; sets t->files) and tear-down (close
 * everything, free /tmp; t->files becomes NULL). 0 or -ENOMEM. fs_task_end runs once no
 * thread of t is left in a system call; /tmp's charges are not refunded then (the
 * address space that counts them goes with the task), so it may run before or after
 * uspace_destroy. The inside (files, ops, fd tables) is kernel/fs/vfs.h; the system
 * calls are kernel/syscall/{file,net,poll}.c, listed in kernel/SYSCALLS.md. */
int fs_task_start(struct task *t, const void *stdin_data, size_t stdin_len);
void fs_task_end(struct task *t);

#endif
