/* file.c: the file system calls: open/openat/creat, read/write and their vector and
 * positioned forms, close, lseek, the stat family, access, getdents64, the path calls
 * (mkdir, unlink, rmdir, rename, chdir, getcwd, readlink), truncate, fsync, umask,
 * dup/dup2/dup3, fcntl, ioctl and pipe/pipe2. Arguments are checked and copied here;
 * the work is in kernel/fs/. */
#include <errno.h>
#include <string.h>

#include "kernel/fs/vfs.h"
#include "kernel/heap.h"
#include "kernel/syscall.h"
#include "kernel/uspace.h"

#define MAX_RW_COUNT 0x7ffff000L /* Linux's cap on one read or write */
#define STAT_FLAGS (LX_AT_SYMLINK_NOFOLLOW | LX_AT_EMPTY_PATH | LX_AT_NO_AUTOMOUNT)
#define SETFL_MASK (LX_O_APPEND | LX_O_NONBLOCK)
#define SMALL_GATHER 512 /* a gathered writev this small is copied on the stack */

enum {
	NR_read = 0,
	NR_write = 1,
	NR_open = 2,
	NR_close = 3,
	NR_stat = 4,
	NR_fstat = 5,
	NR_lstat = 6,
	NR_lseek = 8,
	NR_ioctl = 16,
	NR_pread64 = 17,
	NR_pwrite64 = 18,
	NR_readv = 19,
	NR_writev = 20,
	NR_access = 21,
	NR_pipe = 22,
	NR_dup = 32,
	NR_dup2 = 33,
	NR_fcntl = 72,
	NR_fsync = 74,
	NR_fdatasync = 75,
	NR_truncate = 76,
	NR_ftruncate = 77,
	NR_getcwd = 79,
	NR_chdir = 80,
	NR_fchdir = 81,
	NR_rename = 82,
	NR_mkdir = 83,
	NR_rmdir = 84,
	NR_creat = 85,
	NR_unlink = 87,
	NR_readlink = 89,
	NR_umask = 95,
	NR_getdents64 = 217,
	NR_openat = 257,
	NR_mkdirat = 258,
	NR_newfstatat = 262,
	NR_unlinkat = 263,
	NR_renameat = 264,
	NR_readlinkat = 267,
	NR_faccessat = 269,
	NR_dup3 = 292,
	NR_pipe2 = 293,
	NR_preadv = 295,
	NR_pwritev = 296,
	NR_renameat2 = 316,
	NR_faccessat2 = 439,
};

static void *uptr(long a) { return (void *)(uintptr_t)a; }

/* A path argument, copied into a fresh FS_PATH_MAX buffer: *out, or -EFAULT,
 * -ENAMETOOLONG, -ENOMEM. */
static int get_path(long upath, char **out)
{
	char *p = kmalloc(FS_PATH_MAX);
	if (!p)
		return -ENOMEM;
	long r = strncpy_from_user(p, uptr(upath), FS_PATH_MAX);
	if (r < 0) {
		kfree(p);
		return (int)r;
	}
	*out = p;
	return 0;
}

/* The calling task's file for fd with a reference (put it with file_put), or NULL. */
static struct file *get(long fd)
{
	if (fd < 0 || fd >= FS_FDS_MAX)
		return 0;
	return fd_get(fd_table(), (int)fd);
}

/* One read or write of f. pos: an explicit offset (pread/pwrite), or NULL for the
 * file's own position. */
static long rw(struct file *f, char *ubuf, size_t len, const int64_t *pos, bool write)
{
	if (write ? !file_writable(f) : !file_readable(f))
		return -EBADF;
	long (*op)(struct file *, struct fs_buf *, int64_t *) =
		write ? f->ops->write : f->ops->read;
	if (!op)
		return f->ops->getdents ? -EISDIR : -EINVAL;
	if (pos && !f->ops->seekable)
		return -ESPIPE;
	if (pos && *pos < 0)
		return -EINVAL;
	if (len > USPACE_TOP || (uint64_t)ubuf > USPACE_TOP - len)
		return -EFAULT; /* Linux's access_ok: the whole range must be user memory */
	if (len > MAX_RW_COUNT)
		len = MAX_RW_COUNT;
	struct fs_buf b = {ubuf, len, true};
	if (pos) {
		int64_t p = *pos;
		return op(f, &b, &p);
	}
	if (!f->ops->seekable) {
		int64_t p = 0;
		return op(f, &b, &p);
	}
	mutex_lock(&f->pos_lock);
	long r = op(f, &b, &f->pos);
	mutex_unlock(&f->pos_lock);
	return r;
}

static long io(long fd, long ubuf, long len, const int64_t *pos, bool write)
{
	struct file *f = get(fd);
	if (!f)
		return -EBADF;
	long r = rw(f, uptr(ubuf), (size_t)len, pos, write); /* len < 0: huge, -EFAULT */
	file_put(f);
	return r;
}

static long sys_read(long fd, long buf, long len, long a3, long a4, long a5)
{
	return io(fd, buf, len, 0, false);
}
SYSCALL_DEFINE(NR_read, sys_read);

static long sys_write(long fd, long buf, long len, long a3, long a4, long a5)
{
	return io(fd, buf, len, 0, true);
}
SYSCALL_DEFINE(NR_write, sys_write);

static long sys_pread64(long fd, long buf, long len, long off, long a4, long a5)
{
	int64_t p = off;
	return io(fd, buf, len, &p, false);
}
SYSCALL_DEFINE(NR_pread64, sys_pread64);

static long sys_pwrite64(long fd, long buf, long len, long off, long a4, long a5)
{
	int64_t p = off;
	return io(fd, buf, len, &p, true);
}
SYSCALL_DEFINE(NR_pwrite64, sys_pwrite64);

/* An iovec array from the task: *out (kfree it), or -EINVAL, -EFAULT, -ENOMEM. */
static int get_iov(long uiov, long cnt, struct lx_iovec **out)
{
	if (cnt < 0 || cnt > LX_IOV_MAX)
		return -EINVAL;
	struct lx_iovec *v = kmalloc(sizeof *v * (size_t)(cnt ? cnt : 1));
	if (!v)
		return -ENOMEM;
	int r = copy_from_user(v, uptr(uiov), sizeof *v * (size_t)cnt);
	uint64_t total = 0;
	for (long i = 0; r == 0 && i < cnt; i++) {
		total += v[i].len;
		if (v[i].len > (uint64_t)INT64_MAX || total > (uint64_t)INT64_MAX)
			r = -EINVAL; /* Linux: each length and the sum must fit a ssize_t */
	}
	if (r < 0) {
		kfree(v);
		return r;
	}
	*out = v;
	return 0;
}

static uint64_t iov_total(const struct lx_iovec *v, long cnt)
{
	uint64_t t = 0;
	for (long i = 0; i < cnt; i++)
		t += v[i].len;
	return t;
}

/* A small writev to a pipe or the console goes in as one write, so it is atomic as
 * Linux promises for up to PIPE_BUF bytes (and an output line stays whole). */
static long write_whole(struct file *f, const struct lx_iovec *v, long cnt)
{
	if (!file_writable(f))
		return -EBADF;
	if (!f->ops->write)
		return -EINVAL;
	char small[SMALL_GATHER];
	size_t total = iov_total(v, cnt), n = 0;
	char *k = total <= sizeof small ? small : kmalloc(total);
	if (!k)
		return -ENOMEM;
	long r = 0;
	for (long i = 0; i < cnt && r == 0; i++) {
		r = copy_from_user(k + n, uptr((long)v[i].base), v[i].len);
		n += v[i].len;
	}
	if (r == 0) {
		struct fs_buf b = {k, n, false};
		int64_t p = 0;
		r = f->ops->write(f, &b, &p);
	}
	if (k != small)
		kfree(k);
	return r;
}

static long iov_io(long fd, long uiov, long cnt, const int64_t *pos, bool write)
{
	struct file *f = get(fd);
	if (!f)
		return -EBADF;
	struct lx_iovec *v = 0;
	long r = get_iov(uiov, cnt, &v);
	if (r == 0 && file_is_sock(f) && !pos) {
		r = write ? net_sendv(f, v, (int)cnt, 0, 0, 0) : net_recvv(f, v, (int)cnt, 0, 0, 0);
	} else if (r == 0 && write && !f->ops->seekable && cnt > 1 &&
		   iov_total(v, cnt) <= FS_PIPE_ATOMIC) {
		r = write_whole(f, v, cnt);
	} else if (r == 0) {
		/* Piece by piece; a short transfer ends the call (Linux's semantics for
		 * files; readv/writev on pipes may split the same way). */
		int64_t p = pos ? *pos : 0;
		long total = 0;
		for (long i = 0; i < cnt; i++) {
			if (!v[i].len)
				continue;
			long n = rw(f, uptr((long)v[i].base), v[i].len, pos ? &p : 0, write);
			if (n < 0) {
				if (!total)
					total = n;
				break;
			}
			total += n;
			p += n;
			if ((uint64_t)n < v[i].len)
				break;
		}
		r = total;
	}
	kfree(v);
	file_put(f);
	return r;
}

static long sys_readv(long fd, long iov, long cnt, long a3, long a4, long a5)
{
	return iov_io(fd, iov, cnt, 0, false);
}
SYSCALL_DEFINE(NR_readv, sys_readv);

static long sys_writev(long fd, long iov, long cnt, long a3, long a4, long a5)
{
	return iov_io(fd, iov, cnt, 0, true);
}
SYSCALL_DEFINE(NR_writev, sys_writev);

static long sys_preadv(long fd, long iov, long cnt, long off, long a4, long a5)
{
	int64_t p = off;
	return off < 0 ? -EINVAL : iov_io(fd, iov, cnt, &p, false);
}
SYSCALL_DEFINE(NR_preadv, sys_preadv);

static long sys_pwritev(long fd, long iov, long cnt, long off, long a4, long a5)
{
	int64_t p = off;
	return off < 0 ? -EINVAL : iov_io(fd, iov, cnt, &p, true);
}
SYSCALL_DEFINE(NR_pwritev, sys_pwritev);

static long do_openat(long dirfd, long upath, long flags, long mode)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	char *path = 0;
	int r = get_path(upath, &path);
	if (r < 0)
		return r;
	int fl = (int)flags;
	if (fl & LX_O_PATH)
		fl = (fl & (LX_O_DIRECTORY | LX_O_CLOEXEC)) | LX_O_RDONLY;
	if ((fl & LX_O_ACCMODE) == LX_O_ACCMODE) {
		kfree(path);
		return -EINVAL;
	}
	struct file *f;
	r = fs_open(ft, (int)dirfd, path, fl, (uint32_t)mode, &f);
	kfree(path);
	if (r < 0)
		return r;
	r = fd_install(ft, f, 0, fl & LX_O_CLOEXEC);
	if (r < 0)
		file_put(f);
	return r;
}

static long sys_open(long path, long flags, long mode, long a3, long a4, long a5)
{
	return do_openat(LX_AT_FDCWD, path, flags, mode);
}
SYSCALL_DEFINE(NR_open, sys_open);

static long sys_openat(long dirfd, long path, long flags, long mode, long a4, long a5)
{
	return do_openat(dirfd, path, flags, mode);
}
SYSCALL_DEFINE(NR_openat, sys_openat);

static long sys_creat(long path, long mode, long a2, long a3, long a4, long a5)
{
	return do_openat(LX_AT_FDCWD, path, LX_O_CREAT | LX_O_WRONLY | LX_O_TRUNC, mode);
}
SYSCALL_DEFINE(NR_creat, sys_creat);

static long sys_close(long fd, long a1, long a2, long a3, long a4, long a5)
{
	struct fdtable *ft = fd_table();
	if (!ft || fd < 0 || fd >= FS_FDS_MAX)
		return -EBADF;
	return fd_close(ft, (int)fd);
}
SYSCALL_DEFINE(NR_close, sys_close);

static long sys_lseek(long fd, long off, long whence, long a3, long a4, long a5)
{
	struct file *f = get(fd);
	if (!f)
		return -EBADF;
	long r;
	if (!f->ops->seekable) {
		r = -ESPIPE;
	} else {
		mutex_lock(&f->pos_lock);
		int64_t base = -1;
		if (whence == LX_SEEK_SET)
			base = 0;
		else if (whence == LX_SEEK_CUR)
			base = f->pos;
		else if (whence == LX_SEEK_END)
			base = f->ops->size ? f->ops->size(f) : 0;
		if (base < 0)
			r = -EINVAL;
		else if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
			r = off > 0 ? -EOVERFLOW : -EINVAL;
		else
			r = f->pos = base + off;
		mutex_unlock(&f->pos_lock);
	}
	file_put(f);
	return r;
}
SYSCALL_DEFINE(NR_lseek, sys_lseek);

static int file_stat(struct file *f, struct lx_stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_mode = f->ops->mode;
	st->st_blksize = FS_BLKSIZE;
	return f->ops->stat ? f->ops->stat(f, st) : 0;
}

static long sys_fstat(long fd, long ust, long a2, long a3, long a4, long a5)
{
	struct file *f = get(fd);
	if (!f)
		return -EBADF;
	struct lx_stat st;
	int r = file_stat(f, &st);
	file_put(f);
	return r < 0 ? r : copy_to_user(uptr(ust), &st, sizeof st);
}
SYSCALL_DEFINE(NR_fstat, sys_fstat);

static long do_fstatat(long dirfd, long upath, long ust, long flags)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	if (flags & ~(long)STAT_FLAGS)
		return -EINVAL;
	char *path = 0;
	int r = get_path(upath, &path);
	if (r < 0)
		return r;
	struct lx_stat st;
	r = fs_stat(ft, (int)dirfd, path, (int)flags, &st);
	kfree(path);
	return r < 0 ? r : copy_to_user(uptr(ust), &st, sizeof st);
}

static long sys_stat(long path, long st, long a2, long a3, long a4, long a5)
{
	return do_fstatat(LX_AT_FDCWD, path, st, 0);
}
SYSCALL_DEFINE(NR_stat, sys_stat);

static long sys_lstat(long path, long st, long a2, long a3, long a4, long a5)
{
	return do_fstatat(LX_AT_FDCWD, path, st, LX_AT_SYMLINK_NOFOLLOW);
}
SYSCALL_DEFINE(NR_lstat, sys_lstat);

static long sys_newfstatat(long dirfd, long path, long st, long flags, long a4, long a5)
{
	return do_fstatat(dirfd, path, st, flags);
}
SYSCALL_DEFINE(NR_newfstatat, sys_newfstatat);

static long do_faccessat(long dirfd, long upath, long mode, long flags)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	if (flags & ~(long)(LX_AT_EACCESS | LX_AT_SYMLINK_NOFOLLOW | LX_AT_EMPTY_PATH))
		return -EINVAL;
	char *path = 0;
	int r = get_path(upath, &path);
	if (r < 0)
		return r;
	r = fs_access(ft, (int)dirfd, path, (int)mode);
	kfree(path);
	return r;
}

static long sys_access(long path, long mode, long a2, long a3, long a4, long a5)
{
	return do_faccessat(LX_AT_FDCWD, path, mode, 0);
}
SYSCALL_DEFINE(NR_access, sys_access);

static long sys_faccessat(long dirfd, long path, long mode, long a3, long a4, long a5)
{
	return do_faccessat(dirfd, path, mode, 0);
}
SYSCALL_DEFINE(NR_faccessat, sys_faccessat);

static long sys_faccessat2(long dirfd, long path, long mode, long flags, long a4, long a5)
{
	return do_faccessat(dirfd, path, mode, flags);
}
SYSCALL_DEFINE(NR_faccessat2, sys_faccessat2);

static long sys_getdents64(long fd, long ubuf, long count, long a3, long a4, long a5)
{
	struct file *f = get(fd);
	if (!f)
		return -EBADF;
	long r;
	if (!f->ops->getdents) {
		r = -ENOTDIR;
	} else if (count < 0) {
		r = -EINVAL;
	} else {
		struct fs_buf b = {uptr(ubuf),
				   (size_t)(count > MAX_RW_COUNT ? MAX_RW_COUNT : count), true};
		mutex_lock(&f->pos_lock);
		r = f->ops->getdents(f, &b, &f->pos);
		mutex_unlock(&f->pos_lock);
	}
	file_put(f);
	return r;
}
SYSCALL_DEFINE(NR_getdents64, sys_getdents64);

/* The tree has no symbolic links: an existing path is "not a link". */
static long do_readlinkat(long dirfd, long upath, long buf, long size)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	if (size <= 0)
		return -EINVAL;
	char *path = 0;
	int r = get_path(upath, &path);
	if (r < 0)
		return r;
	struct lx_stat st;
	r = fs_stat(ft, (int)dirfd, path, LX_AT_SYMLINK_NOFOLLOW, &st);
	kfree(path);
	return r < 0 ? r : -EINVAL;
}

static long sys_readlink(long path, long buf, long size, long a3, long a4, long a5)
{
	return do_readlinkat(LX_AT_FDCWD, path, buf, size);
}
SYSCALL_DEFINE(NR_readlink, sys_readlink);

static long sys_readlinkat(long dirfd, long path, long buf, long size, long a4, long a5)
{
	return do_readlinkat(dirfd, path, buf, size);
}
SYSCALL_DEFINE(NR_readlinkat, sys_readlinkat);

static long do_unlinkat(long dirfd, long upath, long flags)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	if (flags & ~(long)LX_AT_REMOVEDIR)
		return -EINVAL;
	char *path = 0;
	int r = get_path(upath, &path);
	if (r < 0)
		return r;
	r = fs_unlink(ft, (int)dirfd, path, (int)flags);
	kfree(path);
	return r;
}

static long sys_unlink(long path, long a1, long a2, long a3, long a4, long a5)
{
	return do_unlinkat(LX_AT_FDCWD, path, 0);
}
SYSCALL_DEFINE(NR_unlink, sys_unlink);

static long sys_rmdir(long path, long a1, long a2, long a3, long a4, long a5)
{
	return do_unlinkat(LX_AT_FDCWD, path, LX_AT_REMOVEDIR);
}
SYSCALL_DEFINE(NR_rmdir, sys_rmdir);

static long sys_unlinkat(long dirfd, long path, long flags, long a3, long a4, long a5)
{
	return do_unlinkat(dirfd, path, flags);
}
SYSCALL_DEFINE(NR_unlinkat, sys_unlinkat);

static long do_mkdirat(long dirfd, long upath, long mode)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	char *path = 0;
	int r = get_path(upath, &path);
	if (r < 0)
		return r;
	r = fs_mkdir(ft, (int)dirfd, path, (uint32_t)mode);
	kfree(path);
	return r;
}

static long sys_mkdir(long path, long mode, long a2, long a3, long a4, long a5)
{
	return do_mkdirat(LX_AT_FDCWD, path, mode);
}
SYSCALL_DEFINE(NR_mkdir, sys_mkdir);

static long sys_mkdirat(long dirfd, long path, long mode, long a3, long a4, long a5)
{
	return do_mkdirat(dirfd, path, mode);
}
SYSCALL_DEFINE(NR_mkdirat, sys_mkdirat);

static long do_renameat(long olddirfd, long uold, long newdirfd, long unew, long flags)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	if (flags)
		return -EINVAL; /* RENAME_NOREPLACE, _EXCHANGE, _WHITEOUT: not supported */
	char *from = 0, *to = 0;
	int r = get_path(uold, &from);
	if (r < 0)
		return r;
	r = get_path(unew, &to);
	if (r < 0) {
		kfree(from);
		return r;
	}
	r = fs_rename(ft, (int)olddirfd, from, (int)newdirfd, to);
	kfree(from);
	kfree(to);
	return r;
}

static long sys_rename(long from, long to, long a2, long a3, long a4, long a5)
{
	return do_renameat(LX_AT_FDCWD, from, LX_AT_FDCWD, to, 0);
}
SYSCALL_DEFINE(NR_rename, sys_rename);

static long sys_renameat(long ofd, long from, long nfd, long to, long a4, long a5)
{
	return do_renameat(ofd, from, nfd, to, 0);
}
SYSCALL_DEFINE(NR_renameat, sys_renameat);

static long sys_renameat2(long ofd, long from, long nfd, long to, long flags, long a5)
{
	return do_renameat(ofd, from, nfd, to, flags);
}
SYSCALL_DEFINE(NR_renameat2, sys_renameat2);

static long sys_getcwd(long ubuf, long size, long a2, long a3, long a4, long a5)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	if (size <= 0)
		return -ERANGE;
	char *k = kmalloc(FS_PATH_MAX);
	if (!k)
		return -ENOMEM;
	long r = fs_getcwd(ft, k, (size_t)(size < FS_PATH_MAX ? size : FS_PATH_MAX));
	if (r > 0) {
		int e = copy_to_user(uptr(ubuf), k, (size_t)r);
		if (e < 0)
			r = e;
	}
	kfree(k);
	return r;
}
SYSCALL_DEFINE(NR_getcwd, sys_getcwd);

static long sys_chdir(long upath, long a1, long a2, long a3, long a4, long a5)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	char *path = 0;
	int r = get_path(upath, &path);
	if (r < 0)
		return r;
	r = fs_chdir(ft, path);
	kfree(path);
	return r;
}
SYSCALL_DEFINE(NR_chdir, sys_chdir);

static long sys_fchdir(long fd, long a1, long a2, long a3, long a4, long a5)
{
	struct fdtable *ft = fd_table();
	if (!ft || fd < 0 || fd >= FS_FDS_MAX)
		return -EBADF;
	return fs_fchdir(ft, (int)fd);
}
SYSCALL_DEFINE(NR_fchdir, sys_fchdir);

static long do_truncate(struct file *f, long len)
{
	if (len < 0)
		return -EINVAL;
	if (!file_writable(f))
		return -EINVAL;
	if (!f->ops->truncate)
		return f->ops->getdents ? -EISDIR : -EINVAL;
	return f->ops->truncate(f, len);
}

static long sys_ftruncate(long fd, long len, long a2, long a3, long a4, long a5)
{
	struct file *f = get(fd);
	if (!f)
		return -EBADF;
	long r = do_truncate(f, len);
	file_put(f);
	return r;
}
SYSCALL_DEFINE(NR_ftruncate, sys_ftruncate);

static long sys_truncate(long upath, long len, long a2, long a3, long a4, long a5)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	char *path = 0;
	int r = get_path(upath, &path);
	if (r < 0)
		return r;
	struct file *f;
	r = fs_open(ft, LX_AT_FDCWD, path, LX_O_WRONLY, 0, &f);
	kfree(path);
	if (r < 0)
		return r;
	long t = do_truncate(f, len);
	file_put(f);
	return t;
}
SYSCALL_DEFINE(NR_truncate, sys_truncate);

/* Everything lives in memory: nothing to flush. */
static long sys_fsync(long fd, long a1, long a2, long a3, long a4, long a5)
{
	struct file *f = get(fd);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}
SYSCALL_DEFINE(NR_fsync, sys_fsync);

static long sys_fdatasync(long fd, long a1, long a2, long a3, long a4, long a5)
{
	return sys_fsync(fd, a1, a2, a3, a4, a5);
}
SYSCALL_DEFINE(NR_fdatasync, sys_fdatasync);

static long sys_dup(long fd, long a1, long a2, long a3, long a4, long a5)
{
	struct file *f = get(fd);
	if (!f)
		return -EBADF;
	int r = fd_install(fd_table(), f, 0, false);
	if (r < 0)
		file_put(f);
	return r;
}
SYSCALL_DEFINE(NR_dup, sys_dup);

static long sys_dup2(long oldfd, long newfd, long a2, long a3, long a4, long a5)
{
	struct fdtable *ft = fd_table();
	if (!ft || oldfd < 0 || oldfd >= FS_FDS_MAX || newfd < 0 || newfd >= FS_FDS_MAX)
		return -EBADF;
	if (oldfd == newfd) {
		struct file *f = get(oldfd);
		if (!f)
			return -EBADF;
		file_put(f);
		return newfd;
	}
	return fd_dup_to(ft, (int)oldfd, (int)newfd, false);
}
SYSCALL_DEFINE(NR_dup2, sys_dup2);

static long sys_dup3(long oldfd, long newfd, long flags, long a3, long a4, long a5)
{
	struct fdtable *ft = fd_table();
	if (flags & ~(long)LX_O_CLOEXEC)
		return -EINVAL;
	if (oldfd == newfd)
		return -EINVAL;
	if (!ft || oldfd < 0 || oldfd >= FS_FDS_MAX || newfd < 0 || newfd >= FS_FDS_MAX)
		return -EBADF;
	return fd_dup_to(ft, (int)oldfd, (int)newfd, flags & LX_O_CLOEXEC);
}
SYSCALL_DEFINE(NR_dup3, sys_dup3);

static long sys_fcntl(long fd, long cmd, long arg, long a3, long a4, long a5)
{
	struct fdtable *ft = fd_table();
	struct file *f = get(fd);
	if (!f)
		return -EBADF;
	long r;
	switch (cmd) {
	case LX_F_DUPFD:
	case LX_F_DUPFD_CLOEXEC:
		if (arg < 0 || arg >= FS_FDS_MAX) {
			r = -EINVAL;
			break;
		}
		file_get(f);
		r = fd_install(ft, f, (int)arg, cmd == LX_F_DUPFD_CLOEXEC);
		if (r < 0)
			file_put(f);
		break;
	case LX_F_GETFD:
		r = fd_get_cloexec(ft, (int)fd);
		break;
	case LX_F_SETFD:
		r = fd_set_cloexec(ft, (int)fd, arg & LX_FD_CLOEXEC);
		break;
	case LX_F_GETFL:
		r = __atomic_load_n(&f->flags, __ATOMIC_RELAXED) | LX_O_LARGEFILE;
		break;
	case LX_F_SETFL: {
		int old = __atomic_load_n(&f->flags, __ATOMIC_RELAXED), nw;
		do
			nw = (old & ~SETFL_MASK) | ((int)arg & SETFL_MASK);
		while (!__atomic_compare_exchange_n(&f->flags, &old, nw, false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED));
		r = 0;
		break;
	}
	default:
		r = -EINVAL; /* locks, leases, pipe sizes, seals: not supported */
	}
	file_put(f);
	return r;
}
SYSCALL_DEFINE(NR_fcntl, sys_fcntl);

static void set_nonblock(struct file *f, bool on)
{
	if (on)
		__atomic_or_fetch(&f->flags, LX_O_NONBLOCK, __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&f->flags, ~LX_O_NONBLOCK, __ATOMIC_RELAXED);
}

static long sys_ioctl(long fd, long cmd, long arg, long a3, long a4, long a5)
{
	struct file *f = get(fd);
	if (!f)
		return -EBADF;
	long r;
	unsigned int c = (unsigned int)cmd; /* Linux takes the command as 32 bits */
	if (c == LX_FIONBIO) {
		int on;
		r = copy_from_user(&on, uptr(arg), sizeof on);
		if (r == 0)
			set_nonblock(f, on != 0);
	} else if (c == LX_FIOCLEX || c == LX_FIONCLEX) {
		r = fd_set_cloexec(fd_table(), (int)fd, c == LX_FIOCLEX);
	} else if (c == LX_FIONREAD && f->ops->seekable && f->ops->size) {
		mutex_lock(&f->pos_lock);
		int64_t left = f->ops->size(f) - f->pos;
		mutex_unlock(&f->pos_lock);
		int n = left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
		r = copy_to_user(uptr(arg), &n, sizeof n);
	} else if (f->ops->ioctl) {
		r = f->ops->ioctl(f, c, (unsigned long)arg);
	} else {
		r = -ENOTTY; /* TCGETS, TIOCGWINSZ...: nothing here is a terminal */
	}
	file_put(f);
	return r;
}
SYSCALL_DEFINE(NR_ioctl, sys_ioctl);

static long do_pipe2(long ufds, long flags)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	if (flags & ~(long)(LX_O_CLOEXEC | LX_O_NONBLOCK))
		return -EINVAL;
	struct file *rd, *wr;
	int r = pipe_new((int)flags, &rd, &wr);
	if (r < 0)
		return r;
	bool cx = flags & LX_O_CLOEXEC;
	int fds[2] = {fd_install(ft, rd, 0, cx), -1};
	if (fds[0] < 0) {
		file_put(rd);
		file_put(wr);
		return fds[0];
	}
	fds[1] = fd_install(ft, wr, 0, cx);
	if (fds[1] < 0) {
		file_put(wr);
		fd_close(ft, fds[0]);
		return fds[1];
	}
	r = copy_to_user(uptr(ufds), fds, sizeof fds);
	if (r < 0) {
		fd_close(ft, fds[0]);
		fd_close(ft, fds[1]);
	}
	return r;
}

static long sys_pipe(long fds, long a1, long a2, long a3, long a4, long a5)
{
	return do_pipe2(fds, 0);
}
SYSCALL_DEFINE(NR_pipe, sys_pipe);

static long sys_pipe2(long fds, long flags, long a2, long a3, long a4, long a5)
{
	return do_pipe2(fds, flags);
}
SYSCALL_DEFINE(NR_pipe2, sys_pipe2);

static long sys_umask(long mask, long a1, long a2, long a3, long a4, long a5)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	return (long)__atomic_exchange_n(&ft->umask, (uint32_t)mask & 0777, __ATOMIC_RELAXED);
}
SYSCALL_DEFINE(NR_umask, sys_umask);
