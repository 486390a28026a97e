/* fd.c: open files and each task's fd table: reference counts, install, close, dup,
 * the per-task set-up and tear-down, and the wake-up generation polls wait on. */
#include <errno.h>
#include <string.h>

#include "kernel/fs/vfs.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "kernel/thread.h"
#include "kernel/time.h"

int buf_put(struct fs_buf *b, size_t at, const void *src, size_t n)
{
	if (at > b->len || b->len - at < n)
		return -EFAULT;
	if (b->user)
		return copy_to_user(b->p + at, src, n);
	memcpy(b->p + at, src, n);
	return 0;
}

int buf_get(const struct fs_buf *b, size_t at, void *dst, size_t n)
{
	if (at > b->len || b->len - at < n)
		return -EFAULT;
	if (b->user)
		return copy_from_user(dst, b->p + at, n);
	memcpy(dst, b->p + at, n);
	return 0;
}

struct file *file_new(const struct file_ops *ops, int flags, void *priv)
{
	struct file *f = kzalloc(sizeof *f);
	if (!f)
		return 0;
	f->refs = 1;
	f->ops = ops;
	f->flags = flags;
	f->priv = priv;
	mutex_init(&f->pos_lock);
	return f;
}

void file_get(struct file *f) { __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED); }

void file_put(struct file *f)
{
	if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (f->ops->release)
		f->ops->release(f);
	kfree(f->path);
	kfree(f);
}

bool file_readable(const struct file *f) { return (f->flags & LX_O_ACCMODE) != LX_O_WRONLY; }
bool file_writable(const struct file *f) { return (f->flags & LX_O_ACCMODE) != LX_O_RDONLY; }
bool file_nonblock(const struct file *f)
{
	return __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & LX_O_NONBLOCK;
}

struct fdtable *fd_table(void)
{
	struct task *t = task_current();
	return t ? t->files : 0;
}

struct file *fd_get(struct fdtable *ft, int fd)
{
	if (!ft || fd < 0 || fd >= FS_FDS_MAX)
		return 0;
	mutex_lock(&ft->lock);
	struct file *f = ft->fd[fd];
	if (f)
		file_get(f);
	mutex_unlock(&ft->lock);
	return f;
}

int fd_install(struct fdtable *ft, struct file *f, int min, bool cloexec)
{
	if (min < 0 || min >= FS_FDS_MAX)
		return -EINVAL;
	mutex_lock(&ft->lock);
	for (int fd = min; fd < FS_FDS_MAX; fd++) {
		if (!ft->fd[fd]) {
			ft->fd[fd] = f;
			ft->cloexec[fd] = cloexec;
			mutex_unlock(&ft->lock);
			return fd;
		}
	}
	mutex_unlock(&ft->lock);
	return -EMFILE;
}

int fd_close(struct fdtable *ft, int fd)
{
	if (fd < 0 || fd >= FS_FDS_MAX)
		return -EBADF;
	mutex_lock(&ft->lock);
	struct file *f = ft->fd[fd];
	ft->fd[fd] = 0;
	ft->cloexec[fd] = 0;
	mutex_unlock(&ft->lock);
	if (!f)
		return -EBADF;
	file_put(f); /* outside the table lock: releasing a socket may take a while */
	return 0;
}

int fd_dup_to(struct fdtable *ft, int oldfd, int newfd, bool cloexec)
{
	if (oldfd < 0 || oldfd >= FS_FDS_MAX || newfd < 0 || newfd >= FS_FDS_MAX)
		return -EBADF;
	mutex_lock(&ft->lock);
	struct file *f = ft->fd[oldfd];
	if (!f) {
		mutex_unlock(&ft->lock);
		return -EBADF;
	}
	struct file *old = ft->fd[newfd];
	file_get(f);
	ft->fd[newfd] = f;
	ft->cloexec[newfd] = cloexec;
	mutex_unlock(&ft->lock);
	if (old)
		file_put(old);
	return newfd;
}

int fd_get_cloexec(struct fdtable *ft, int fd)
{
	if (fd < 0 || fd >= FS_FDS_MAX)
		return -EBADF;
	mutex_lock(&ft->lock);
	int r = ft->fd[fd] ? (ft->cloexec[fd] ? LX_FD_CLOEXEC : 0) : -EBADF;
	mutex_unlock(&ft->lock);
	return r;
}

int fd_set_cloexec(struct fdtable *ft, int fd, bool on)
{
	if (fd < 0 || fd >= FS_FDS_MAX)
		return -EBADF;
	mutex_lock(&ft->lock);
	int r = ft->fd[fd] ? 0 : -EBADF;
	if (!r)
		ft->cloexec[fd] = on;
	mutex_unlock(&ft->lock);
	return r;
}

bool fs_stop(void)
{
	struct task *t = task_current();
	return t && __atomic_load_n(&t->dying, __ATOMIC_RELAXED);
}

/* The wake-up generation: pipes and the console bump it on every change that could make
 * a poll ready; polls that see no ready fd sleep until it moves. */
static struct mutex wake_lock;
static struct cond wake_cond;
static uint64_t wake_gen;
static bool wake_ready;

static void wake_init(void)
{
	if (__atomic_load_n(&wake_ready, __ATOMIC_ACQUIRE))
		return;
	static struct spinlock once = SPINLOCK_INIT("fs_wake_once");
	spin_lock(&once);
	if (!wake_ready) {
		mutex_init(&wake_lock);
		cond_init(&wake_cond);
		__atomic_store_n(&wake_ready, true, __ATOMIC_RELEASE);
	}
	spin_unlock(&once);
}

void fs_wake(void)
{
	wake_init();
	mutex_lock(&wake_lock);
	wake_gen++;
	cond_broadcast(&wake_cond);
	mutex_unlock(&wake_lock);
}

uint64_t fs_wake_gen(void)
{
	wake_init();
	return __atomic_load_n(&wake_gen, __ATOMIC_ACQUIRE);
}

void fs_wait_gen(uint64_t gen, uint64_t timeout_ns)
{
	wake_init();
	uint64_t end = time_ns() + timeout_ns;
	mutex_lock(&wake_lock);
	while (wake_gen == gen) {
		uint64_t now = time_ns();
		if (now >= end)
			break;
		cond_wait(&wake_cond, &wake_lock, end - now);
	}
	mutex_unlock(&wake_lock);
}

static uint8_t mode_dtype(uint32_t mode)
{
	switch (mode & LX_S_IFMT) {
	case LX_S_IFDIR:
		return LX_DT_DIR;
	case LX_S_IFREG:
		return LX_DT_REG;
	case LX_S_IFIFO:
		return LX_DT_FIFO;
	case LX_S_IFCHR:
		return LX_DT_CHR;
	case LX_S_IFSOCK:
		return LX_DT_SOCK;
	}
	return 0;
}

/* A getdents64 record at b+at if it fits: its length, 0 when it does not fit, or an
 * error. */
static long dirent_put(struct fs_buf *b, size_t at, uint64_t ino, int64_t next, uint8_t type,
		       const char *name)
{
	size_t nl = strlen(name);
	size_t reclen = (offsetof(struct lx_dirent64, d_name) + nl + 1 + 7) & ~(size_t)7;
	if (at > b->len || b->len - at < reclen)
		return 0;
	char rec[offsetof(struct lx_dirent64, d_name) + FS_NAME_MAX + 1 + 8];
	if (reclen > sizeof rec)
		return -ENAMETOOLONG;
	memset(rec, 0, reclen);
	struct lx_dirent64 *d = (struct lx_dirent64 *)rec;
	d->d_ino = ino;
	d->d_off = next;
	d->d_reclen = (uint16_t)reclen;
	d->d_type = type;
	memcpy(d->d_name, name, nl);
	int r = buf_put(b, at, rec, reclen);
	return r < 0 ? r : (long)reclen;
}

long dir_fill(struct fs_buf *b, int64_t *pos, uint64_t self_ino, uint64_t parent_ino,
	      const void *first, bool (*next)(const void **cursor, struct dir_entry *e))
{
	const void *cursor = first;
	size_t at = 0;
	for (int64_t i = 0;; i++) {
		struct dir_entry e = {.name = ".", .ino = self_ino, .mode = LX_S_IFDIR};
		if (i == 1) {
			e.name = "..";
			e.ino = parent_ino;
		} else if (i > 1 && !next(&cursor, &e)) {
			break;
		}
		if (i < *pos)
			continue;
		long r = dirent_put(b, at, e.ino, i + 1, mode_dtype(e.mode), e.name);
		if (r < 0)
			return r;
		if (r == 0) {
			if (at == 0)
				return -EINVAL; /* not even one entry fits */
			break;
		}
		at += (size_t)r;
		*pos = i + 1;
	}
	return (long)at;
}

static void table_free(struct fdtable *ft)
{
	for (int fd = 0; fd < FS_FDS_MAX; fd++) {
		struct file *f = ft->fd[fd];
		ft->fd[fd] = 0;
		if (f)
			file_put(f);
	}
	if (ft->tmp)
		tmp_free(ft->tmp);
	kfree(ft->cwd);
	kfree(ft);
}

int fs_task_start(struct task *t, const void *stdin_data, size_t stdin_len)
{
	struct fdtable *ft = kzalloc(sizeof *ft);
	if (!ft)
		return -ENOMEM;
	mutex_init(&ft->lock);
	ft->task = t;
	ft->umask = FS_UMASK_DEFAULT;
	ft->cwd = kmalloc(2);
	ft->tmp = tmp_new(t);
	struct file *in = 0, *out = 0;
	if (!ft->cwd || !ft->tmp || console_stdin(t, stdin_data, stdin_len, &in) < 0 ||
	    console_out(t, &out) < 0) {
		if (in)
			file_put(in);
		table_free(ft);
		return -ENOMEM;
	}
	memcpy(ft->cwd, "/", 2);
	ft->fd[0] = in;
	ft->fd[1] = out;
	file_get(out);
	ft->fd[2] = out;
	t->files = ft;
	return 0;
}

void fs_task_end(struct task *t)
{
	struct fdtable *ft = t->files;
	if (!ft)
		return;
	t->files = 0;
	table_free(ft);
	fs_wake(); /* peers of its pipes (none outside the task today) see the close */
}
