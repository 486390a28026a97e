/* vfs.h: the inside of the files module, shared by the sources in kernel/fs/ and the
 * system calls in kernel/syscall/{file,net,poll}.c. The public contract is kernel/fs.h.
 *
 * A file is an open object with an ops table and a reference count: each fd slot holds
 * one reference, and each system call that uses a file holds one for its duration
 * (fd_get / file_put), so a close in another thread never frees a file in use; the last
 * put releases it (closing a pipe end, an lwIP socket, a /tmp node). A task's fd table
 * is shared by its threads and guarded by its mutex, which is never held while a file
 * operation runs (they may block).
 *
 * Blocking: an operation that waits (pipe read/write, socket accept/recv/send/connect,
 * poll) sleeps in slices of at most FS_WAIT_SLICE_NS and checks between slices whether
 * its task is dying (fs_stop), so a killed task's threads leave their system calls
 * within a slice (-EINTR) even when nothing wakes them. */
#ifndef KERNEL_FS_VFS_H
#define KERNEL_FS_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/fs.h"
#include "kernel/fs/abi.h"
#include "kernel/sync.h"

#define FS_PATH_MAX 4096	      /* Linux's PATH_MAX, NUL included */
#define FS_NAME_MAX 255		      /* one path component */
#define FS_WAIT_SLICE_NS 50000000ULL  /* 50 ms: how late a killed task's wait notices */
#define FS_IO_CHUNK (64 * 1024)	      /* bounce buffer of socket and console I/O */
#define FS_TMP_FILE_MAX (64ULL << 20) /* one /tmp file's size, besides the task's limit */
#define FS_PIPE_BYTES (64 * 1024)     /* a pipe's capacity, as Linux's default */
#define FS_PIPE_ATOMIC 4096	      /* PIPE_BUF: writes this small are never split */
#define FS_DEV_IMAGE 1		      /* st_dev of the image tree */
#define FS_DEV_TMP 2		      /* st_dev of /tmp */
#define FS_DEV_PIPE 3		      /* st_dev of pipes, sockets and the console */
#define FS_BLKSIZE 4096
#define FS_UMASK_DEFAULT 022

/* A buffer a read fills or a write drains: the calling task's memory (user, through
 * copy_to_user/copy_from_user) or kernel memory (self-tests, bounce buffers). */
struct fs_buf {
	char *p;
	size_t len;
	bool user;
};

/* Copy n bytes into b at offset at (buf_put) or out of it (buf_get): 0 or -EFAULT. */
int buf_put(struct fs_buf *b, size_t at, const void *src, size_t n);
int buf_get(const struct fs_buf *b, size_t at, void *dst, size_t n);

struct file;

/* Operations of one kind of file. Any may be NULL: read/write then give -EINVAL, stat a
 * zeroed stat with st_mode, poll "ready for what the open mode allows", ioctl -ENOTTY,
 * getdents -ENOTDIR. read and write get the file position (seekable files: the caller
 * holds pos_lock; others ignore it) and return bytes moved or a negative errno. */
struct file_ops {
	const char *name;
	bool seekable;
	uint32_t mode; /* file type bits for stat and d_type */
	long (*read)(struct file *f, struct fs_buf *b, int64_t *pos);
	long (*write)(struct file *f, struct fs_buf *b, int64_t *pos);
	int (*stat)(struct file *f, struct lx_stat *st);
	int (*poll)(struct file *f); /* LX_POLL* bits ready now */
	long (*ioctl)(struct file *f, unsigned long cmd, unsigned long arg);
	long (*getdents)(struct file *f, struct fs_buf *b, int64_t *pos);
	int64_t (*size)(struct file *f);
	int (*truncate)(struct file *f, int64_t len);
	void (*release)(struct file *f); /* last reference gone */
};

struct file {
	int refs; /* atomic */
	const struct file_ops *ops;
	int flags; /* LX_O_ACCMODE | LX_O_APPEND | LX_O_NONBLOCK: F_GETFL */
	struct mutex pos_lock;
	int64_t pos;
	struct task *task; /* owner (the console writes to its log, /tmp charges it) */
	char *path;	   /* directories: their normalized path (openat, fchdir) */
	void *priv;
};

struct tmpfs;

struct fdtable {
	struct mutex lock;
	struct task *task;
	struct file *fd[FS_FDS_MAX];
	uint8_t cloexec[FS_FDS_MAX];
	char *cwd; /* normalized, kmalloc'd */
	struct tmpfs *tmp;
	uint32_t umask; /* permission bits cleared from new files and directories */
};

/* Files. file_new: one reference, or NULL. */
struct file *file_new(const struct file_ops *ops, int flags, void *priv);
void file_get(struct file *f);
void file_put(struct file *f);
bool file_readable(const struct file *f);
bool file_writable(const struct file *f);
bool file_nonblock(const struct file *f);

/* The fd table of the calling task (NULL in a kernel thread). */
struct fdtable *fd_table(void);
/* The file behind fd with a reference taken, or NULL (-EBADF). */
struct file *fd_get(struct fdtable *ft, int fd);
/* Put f (whose reference the table takes over) in the lowest free slot >= min: the fd,
 * or -EMFILE. */
int fd_install(struct fdtable *ft, struct file *f, int min, bool cloexec);
int fd_close(struct fdtable *ft, int fd);
/* dup2/dup3: newfd now refers to oldfd's file. newfd, or -EBADF. */
int fd_dup_to(struct fdtable *ft, int oldfd, int newfd, bool cloexec);
int fd_get_cloexec(struct fdtable *ft, int fd);
int fd_set_cloexec(struct fdtable *ft, int fd, bool on);

/* The calling thread's task has ended (killed or exiting): a blocking operation stops
 * waiting and returns -EINTR. Never true in kernel threads. */
bool fs_stop(void);
/* Wake every poll waiting for a pipe or console change; waiters compare the
 * generation. */
void fs_wake(void);
uint64_t fs_wake_gen(void);
/* Sleep until fs_wake moves past gen or timeout_ns passes. */
void fs_wait_gen(uint64_t gen, uint64_t timeout_ns);

/* The image tree (image.c). */
struct img_node;
struct img_node *img_lookup(const char *path); /* a normalized absolute path */
/* A tree from an archive (buf NULL: just / and /tmp), for fs_init and the self-tests:
 * NULL with *why set when refused; *nodes counts its nodes, *skipped the entries left
 * out (other types, a file where a directory was named). img_find looks a normalized
 * path up in it; img_drop frees it. */
struct img_node *img_index(const void *buf, size_t len, const char **why, int *nodes, int *skipped);
struct img_node *img_find(struct img_node *root, const char *path);
void img_drop(struct img_node *root);
bool img_is_dir(const struct img_node *n);
void img_stat(const struct img_node *n, struct lx_stat *st);
int img_open(const struct img_node *n, const char *path, int flags, struct file **out);

/* Per-task /tmp (tmp.c). Paths are relative to /tmp ("" is /tmp itself), normalized. */
struct tmpfs *tmp_new(struct task *t);
void tmp_free(struct tmpfs *fs);
int tmp_open(struct tmpfs *fs, const char *rel, const char *path, int flags, uint32_t mode,
	     struct file **out);
int tmp_stat(struct tmpfs *fs, const char *rel, struct lx_stat *st);
int tmp_unlink(struct tmpfs *fs, const char *rel, bool dir);
int tmp_mkdir(struct tmpfs *fs, const char *rel, uint32_t mode);
int tmp_rename(struct tmpfs *fs, const char *from, const char *to);
uint64_t tmp_bytes(struct tmpfs *fs); /* charged now */

/* Pipes (pipe.c): a read end and a write end. 0 or -ENOMEM. */
int pipe_new(int flags, struct file **rd, struct file **wr);

/* Console fds (console.c). */
int console_stdin(struct task *t, const void *data, size_t len, struct file **out);
int console_out(struct task *t, struct file **out);

/* Sockets (sock.c). */
bool file_is_sock(const struct file *f);
int sock_create(int domain, int type, int proto, struct file **out);
int sock_bind(struct file *f, const void *addr, size_t len);
int sock_listen(struct file *f, int backlog);
/* accept: the new file (flags LX_SOCK_NONBLOCK applied) and the peer's address. */
int sock_accept(struct file *f, int flags, struct file **out, struct lx_sockaddr_in *peer);
int sock_connect(struct file *f, const void *addr, size_t len);
/* Send len bytes of buf (kernel memory) to addr (NULL: connected peer): bytes sent. */
long sock_send(struct file *f, const void *buf, size_t len, int flags, const void *addr,
	       size_t alen);
/* Receive up to len bytes: bytes received (0: end of stream); *from the sender. */
long sock_recv(struct file *f, void *buf, size_t len, int flags, struct lx_sockaddr_in *from,
	       bool *truncated);
int sock_shutdown(struct file *f, int how);
int sock_name(struct file *f, bool peer, struct lx_sockaddr_in *out);
int sock_setopt(struct file *f, int level, int name, const void *val, size_t len);
/* *len in: room in val; out: the option's size. */
int sock_getopt(struct file *f, int level, int name, void *val, size_t *len);
/* Sleep until one of the n sockets has one of its events (LX_POLL*) or timeout_ns
 * passes; returns at once if one already has. 0 or a negative errno. */
int sock_wait(struct file **socks, const int *events, int n, uint64_t timeout_ns);

/* Vector I/O on a socket (kernel/syscall/net.c): iov is a kernel copy of the task's
 * iovecs (user buffers). A send gathers them into one message (one datagram); a receive
 * scatters what one receive returned. addr: a kernel copy of a Linux sockaddr (or
 * NULL); from and truncated (either may be NULL) report the sender and MSG_TRUNC. */
long net_sendv(struct file *f, const struct lx_iovec *iov, int n, int flags, const void *addr,
	       size_t alen);
long net_recvv(struct file *f, const struct lx_iovec *iov, int n, int flags,
	       struct lx_sockaddr_in *from, bool *truncated);

/* Path operations (namei.c) on paths from the task: dirfd is LX_AT_FDCWD or an open
 * directory. Each returns 0 or a negative errno. */
int fs_open(struct fdtable *ft, int dirfd, const char *path, int flags, uint32_t mode,
	    struct file **out);
int fs_stat(struct fdtable *ft, int dirfd, const char *path, int flags, struct lx_stat *st);
int fs_access(struct fdtable *ft, int dirfd, const char *path, int mode);
int fs_unlink(struct fdtable *ft, int dirfd, const char *path, int flags);
int fs_mkdir(struct fdtable *ft, int dirfd, const char *path, uint32_t mode);
int fs_rename(struct fdtable *ft, int olddirfd, const char *from, int newdirfd, const char *to);
int fs_chdir(struct fdtable *ft, const char *path);
int fs_fchdir(struct fdtable *ft, int fd);
/* The working directory into buf: its length with the NUL, or -ERANGE. */
long fs_getcwd(struct fdtable *ft, char *buf, size_t size);
/* getdents64 for any directory: records from entry number *pos on (0 ".", 1 "..", then
 * the children in the order `next` yields them), as many as fit in b; *pos moves past
 * them. `next` fills in the child at *cursor (first: the directory's first child) and
 * advances it, or returns false after the last. The bytes written, -EINVAL when not even
 * one record fits, or -EFAULT. */
struct dir_entry {
	const char *name;
	uint64_t ino;
	uint32_t mode;
};
long dir_fill(struct fs_buf *b, int64_t *pos, uint64_t self_ino, uint64_t parent_ino,
	      const void *first, bool (*next)(const void **cursor, struct dir_entry *e));

#endif
