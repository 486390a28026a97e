/* namei.c: operations on paths. A path from a task is made absolute (against the working
 * directory or an open directory fd) and normalized lexically, since the tree has no
 * symbolic links; then `/tmp` and everything under it goes to the task's own /tmp and
 * the rest to the read-only image tree, where anything that would change it is -EROFS. */
#include <errno.h>
#include <string.h>

#include "kernel/fs/cpio.h"
#include "kernel/fs/vfs.h"
#include "kernel/heap.h"

#define TMP_PREFIX "/tmp"
#define TMP_PREFIX_LEN 4

/* Make path absolute and normalized into out (FS_PATH_MAX bytes): 0 or -errno. A path
 * that ends in "/" must name a directory: *dir_only says so. */
static int resolve(struct fdtable *ft, int dirfd, const char *path, char *out, bool *dir_only)
{
	size_t pl = strlen(path);
	if (dir_only)
		*dir_only = pl > 0 && path[pl - 1] == '/';
	long r;
	if (path[0] == '/') {
		r = path_normalize("/", path, out, FS_PATH_MAX);
	} else if (dirfd == LX_AT_FDCWD) {
		mutex_lock(&ft->lock);
		r = path_normalize(ft->cwd, path, out, FS_PATH_MAX);
		mutex_unlock(&ft->lock);
	} else {
		struct file *d = fd_get(ft, dirfd);
		if (!d)
			return -EBADF;
		r = d->path ? path_normalize(d->path, path, out, FS_PATH_MAX) : -ENOTDIR;
		file_put(d);
	}
	return r < 0 ? (int)r : 0;
}

/* The part of an absolute path inside /tmp ("" for /tmp itself), or NULL. */
static const char *tmp_rel(const char *abs)
{
	if (strncmp(abs, TMP_PREFIX, TMP_PREFIX_LEN) != 0)
		return 0;
	if (abs[TMP_PREFIX_LEN] == 0)
		return abs + TMP_PREFIX_LEN;
	if (abs[TMP_PREFIX_LEN] == '/')
		return abs + TMP_PREFIX_LEN + 1;
	return 0;
}

/* Why a change to a missing image path fails: -EROFS when its directory exists (the
 * file could have been created on a writable tree), else -ENOENT. */
static int missing(char *abs)
{
	char *slash = strrchr(abs, '/');
	char keep = slash[1];
	if (slash == abs)
		slash[1] = 0; /* the parent is "/" */
	else
		*slash = 0;
	const struct img_node *d = img_lookup(abs);
	if (slash == abs)
		slash[1] = keep;
	else
		*slash = '/';
	return d && img_is_dir(d) ? -EROFS : -ENOENT;
}

/* Each public call: a path buffer, resolve, act. */
static char *path_buf(void) { return kmalloc(FS_PATH_MAX); }

int fs_open(struct fdtable *ft, int dirfd, const char *path, int flags, uint32_t mode,
	    struct file **out)
{
	char *abs = path_buf();
	if (!abs)
		return -ENOMEM;
	bool dir_only;
	int r = resolve(ft, dirfd, path, abs, &dir_only);
	if (r < 0)
		goto out;
	if (dir_only)
		flags |= LX_O_DIRECTORY;
	const char *rel = tmp_rel(abs);
	if (rel) {
		r = tmp_open(ft->tmp, rel, abs, flags, mode & ~ft->umask, out);
		goto out;
	}
	const struct img_node *n = img_lookup(abs);
	if (!n)
		r = flags & LX_O_CREAT ? missing(abs) : -ENOENT;
	else if ((flags & LX_O_CREAT) && (flags & LX_O_EXCL))
		r = -EEXIST;
	else
		r = img_open(n, abs, flags, out);
out:
	kfree(abs);
	return r;
}

int fs_stat(struct fdtable *ft, int dirfd, const char *path, int flags, struct lx_stat *st)
{
	if (!path[0]) {
		if (!(flags & LX_AT_EMPTY_PATH))
			return -ENOENT;
		if (dirfd == LX_AT_FDCWD)
			return fs_stat(ft, dirfd, ".", 0, st);
		struct file *f = fd_get(ft, dirfd);
		if (!f)
			return -EBADF;
		memset(st, 0, sizeof *st);
		st->st_mode = f->ops->mode;
		st->st_blksize = FS_BLKSIZE;
		int r = f->ops->stat ? f->ops->stat(f, st) : 0;
		file_put(f);
		return r;
	}
	char *abs = path_buf();
	if (!abs)
		return -ENOMEM;
	bool dir_only;
	int r = resolve(ft, dirfd, path, abs, &dir_only);
	if (r == 0) {
		const char *rel = tmp_rel(abs);
		if (rel) {
			r = tmp_stat(ft->tmp, rel, st);
		} else {
			const struct img_node *n = img_lookup(abs);
			if (n)
				img_stat(n, st);
			else
				r = -ENOENT;
		}
	}
	if (r == 0 && dir_only && (st->st_mode & LX_S_IFMT) != LX_S_IFDIR)
		r = -ENOTDIR;
	kfree(abs);
	return r;
}

int fs_access(struct fdtable *ft, int dirfd, const char *path, int mode)
{
	if (mode & ~(LX_R_OK | LX_W_OK | LX_X_OK))
		return -EINVAL;
	struct lx_stat st;
	int r = fs_stat(ft, dirfd, path, 0, &st);
	if (r < 0)
		return r;
	/* Tasks run as root: only what root is refused. */
	if ((mode & LX_X_OK) && (st.st_mode & LX_S_IFMT) != LX_S_IFDIR && !(st.st_mode & 0111))
		return -EACCES;
	if ((mode & LX_W_OK) && st.st_dev == FS_DEV_IMAGE)
		return -EROFS;
	return 0;
}

int fs_unlink(struct fdtable *ft, int dirfd, const char *path, int flags)
{
	char *abs = path_buf();
	if (!abs)
		return -ENOMEM;
	int r = resolve(ft, dirfd, path, abs, 0);
	if (r == 0) {
		const char *rel = tmp_rel(abs);
		bool dir = flags & LX_AT_REMOVEDIR;
		if (rel)
			r = tmp_unlink(ft->tmp, rel, dir);
		else
			r = img_lookup(abs) ? -EROFS : -ENOENT;
	}
	kfree(abs);
	return r;
}

int fs_mkdir(struct fdtable *ft, int dirfd, const char *path, uint32_t mode)
{
	char *abs = path_buf();
	if (!abs)
		return -ENOMEM;
	int r = resolve(ft, dirfd, path, abs, 0);
	if (r == 0) {
		const char *rel = tmp_rel(abs);
		if (rel)
			r = tmp_mkdir(ft->tmp, rel, mode & ~ft->umask);
		else
			r = img_lookup(abs) ? -EEXIST : missing(abs);
	}
	kfree(abs);
	return r;
}

int fs_rename(struct fdtable *ft, int olddirfd, const char *from, int newdirfd, const char *to)
{
	char *a = path_buf(), *b = path_buf();
	int r = a && b ? 0 : -ENOMEM;
	if (r == 0)
		r = resolve(ft, olddirfd, from, a, 0);
	if (r == 0)
		r = resolve(ft, newdirfd, to, b, 0);
	if (r == 0) {
		const char *ra = tmp_rel(a), *rb = tmp_rel(b);
		if (ra && rb)
			r = tmp_rename(ft->tmp, ra, rb);
		else if (!ra && !img_lookup(a))
			r = -ENOENT;
		else
			r = ra ? -EXDEV : -EROFS;
	}
	kfree(a);
	kfree(b);
	return r;
}

static int set_cwd(struct fdtable *ft, const char *abs)
{
	size_t l = strlen(abs) + 1;
	char *c = kmalloc(l);
	if (!c)
		return -ENOMEM;
	memcpy(c, abs, l);
	mutex_lock(&ft->lock);
	char *old = ft->cwd;
	ft->cwd = c;
	mutex_unlock(&ft->lock);
	kfree(old);
	return 0;
}

int fs_chdir(struct fdtable *ft, const char *path)
{
	char *abs = path_buf();
	if (!abs)
		return -ENOMEM;
	struct lx_stat st;
	int r = resolve(ft, LX_AT_FDCWD, path, abs, 0);
	if (r == 0)
		r = fs_stat(ft, LX_AT_FDCWD, abs, 0, &st);
	if (r == 0 && (st.st_mode & LX_S_IFMT) != LX_S_IFDIR)
		r = -ENOTDIR;
	if (r == 0)
		r = set_cwd(ft, abs);
	kfree(abs);
	return r;
}

int fs_fchdir(struct fdtable *ft, int fd)
{
	struct file *f = fd_get(ft, fd);
	if (!f)
		return -EBADF;
	int r = f->path ? set_cwd(ft, f->path) : -ENOTDIR;
	file_put(f);
	return r;
}

long fs_getcwd(struct fdtable *ft, char *buf, size_t size)
{
	mutex_lock(&ft->lock);
	size_t l = strlen(ft->cwd) + 1;
	long r = -ERANGE;
	if (l <= size) {
		memcpy(buf, ft->cwd, l);
		r = (long)l;
	}
	mutex_unlock(&ft->lock);
	return r;
}
