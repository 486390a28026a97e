/* tmp.c: a task's private writable /tmp, in memory. Files and directories in a tree
 * under one mutex per task; a file's bytes live in pages (so no large contiguous
 * allocation is ever needed), and the bytes of a page past the file's end are kept zero,
 * so a file grown over a hole reads zeroes. What it holds (each node's fixed cost plus
 * every data page) is charged to the task's memory
 * limit (uspace_charge): a write that would pass it fails with -ENOSPC, as a full tmpfs
 * does on Linux. An unlinked file lives on while open (Linux semantics). The charges are
 * not refunded when the task ends: its address space, which holds the count, goes too. */
#include <errno.h>
#include <string.h>

#include "kernel/fs/vfs.h"
#include "kernel/heap.h"
#include "kernel/proc.h"
#include "kernel/time.h"
#include "kernel/uspace.h"
#include "kernel/vmm.h"

#define NODE_COST 256 /* bytes charged per file or directory (node, name) */
#define SLOTS_MIN 8   /* first size of a file's page array */
#define NS_PER_S 1000000000ULL

struct tmp_node {
	char *name;
	uint32_t mode;
	uint64_t ino;
	int64_t mtime;
	char **pages; /* npages data pages, in an array of slots */
	size_t size, npages, slots;
	struct tmp_node *parent, *child, *next;
	int opens;   /* open files on it */
	bool linked; /* in the tree */
};

struct tmpfs {
	struct mutex lock;
	struct task *task;
	struct tmp_node *root;
	int refs; /* the fd table's, and one per open file; under lock */
	uint64_t charged;
	uint64_t next_ino;
};

static bool is_dir(const struct tmp_node *n) { return (n->mode & LX_S_IFMT) == LX_S_IFDIR; }

static int64_t now_s(void) { return (int64_t)(time_ns() / NS_PER_S); }

/* Charge (or refund, bytes < 0) the task: 0 or -ENOSPC. */
static int charge(struct tmpfs *fs, int64_t bytes)
{
	struct task *t = fs->task;
	if (t && t->us && uspace_charge(t->us, bytes) < 0)
		return -ENOSPC;
	fs->charged += (uint64_t)bytes;
	return 0;
}

static struct tmp_node *node_new(struct tmpfs *fs, const char *name, size_t len, uint32_t mode)
{
	if (charge(fs, NODE_COST) < 0)
		return 0;
	struct tmp_node *n = kzalloc(sizeof *n);
	char *nm = kmalloc(len + 1);
	if (!n || !nm) {
		kfree(n);
		kfree(nm);
		charge(fs, -NODE_COST);
		return 0;
	}
	memcpy(nm, name, len);
	nm[len] = 0;
	n->name = nm;
	n->mode = mode;
	n->ino = fs->next_ino++;
	n->mtime = now_s();
	n->parent = n;
	return n;
}

static void node_free(struct tmpfs *fs, struct tmp_node *n, bool refund)
{
	if (refund)
		charge(fs, -(int64_t)(NODE_COST + n->npages * PAGE_SIZE));
	for (size_t i = 0; i < n->npages; i++)
		kfree(n->pages[i]);
	kfree(n->pages);
	kfree(n->name);
	kfree(n);
}

static void link_child(struct tmp_node *d, struct tmp_node *n)
{
	n->parent = d;
	n->next = d->child;
	d->child = n;
	n->linked = true;
}

static void unlink_child(struct tmp_node *n)
{
	struct tmp_node **pp = &n->parent->child;
	while (*pp != n)
		pp = &(*pp)->next;
	*pp = n->next;
	n->next = 0;
	n->parent = n;
	n->linked = false;
}

struct tmpfs *tmp_new(struct task *t)
{
	struct tmpfs *fs = kzalloc(sizeof *fs);
	if (!fs)
		return 0;
	mutex_init(&fs->lock);
	fs->task = t;
	fs->refs = 1;
	fs->next_ino = 1;
	/* The root is the kernel's, not the task's: not charged. */
	fs->root = kzalloc(sizeof *fs->root);
	if (!fs->root) {
		kfree(fs);
		return 0;
	}
	fs->root->mode = LX_S_IFDIR | 01777;
	fs->root->ino = fs->next_ino++;
	fs->root->parent = fs->root;
	fs->root->linked = true;
	fs->root->mtime = now_s();
	return fs;
}

static void tree_free(struct tmpfs *fs, struct tmp_node *n)
{
	struct tmp_node *c = n->child;
	n->child = 0;
	while (c) {
		struct tmp_node *next = c->next;
		c->parent = c;
		tree_free(fs, c);
		c = next;
	}
	n->linked = false;
	if (!n->opens)
		node_free(fs, n, false); /* else its last open file frees it */
}

static void fs_put(struct tmpfs *fs)
{
	mutex_lock(&fs->lock);
	bool last = --fs->refs == 0;
	mutex_unlock(&fs->lock);
	if (last)
		kfree(fs);
}

void tmp_free(struct tmpfs *fs)
{
	mutex_lock(&fs->lock);
	fs->task = 0; /* the task and its address space are going away: no refunds */
	tree_free(fs, fs->root);
	fs->root = 0;
	mutex_unlock(&fs->lock);
	fs_put(fs);
}

uint64_t tmp_bytes(struct tmpfs *fs) { return __atomic_load_n(&fs->charged, __ATOMIC_RELAXED); }

static struct tmp_node *child(struct tmp_node *d, const char *name, size_t len)
{
	for (struct tmp_node *c = d->child; c; c = c->next)
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
			return c;
	return 0;
}

/* Find rel's node (*last NULL), or its parent when only the last component is missing
 * (*last, *last_len name it). -ENOENT, -ENOTDIR, -ENAMETOOLONG. Under fs->lock. */
static int walk(struct tmpfs *fs, const char *rel, struct tmp_node **out, const char **last,
		size_t *last_len)
{
	struct tmp_node *n = fs->root;
	*last = 0;
	if (!n)
		return -ENOENT;
	const char *p = rel;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		if (l > FS_NAME_MAX)
			return -ENAMETOOLONG;
		if (!is_dir(n))
			return -ENOTDIR;
		struct tmp_node *c = child(n, p, l);
		if (!c) {
			if (slash)
				return -ENOENT;
			*last = p;
			*last_len = l;
			break;
		}
		n = c;
		p += l;
		if (*p == '/')
			p++;
	}
	*out = n;
	return 0;
}

/* rel's node, which must exist: walk's -ENOENT, -ENOTDIR, -ENAMETOOLONG, or -ENOENT when
 * only its last component is missing. Under fs->lock. */
static int find(struct tmpfs *fs, const char *rel, struct tmp_node **out)
{
	const char *last;
	size_t ll;
	int r = walk(fs, rel, out, &last, &ll);
	return !r && last ? -ENOENT : r;
}

static void tmp_fill_stat(const struct tmp_node *n, struct lx_stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_dev = FS_DEV_TMP;
	st->st_ino = n->ino;
	st->st_nlink = n->linked ? (is_dir(n) ? 2 : 1) : 0;
	st->st_mode = n->mode;
	st->st_size = (int64_t)n->size;
	st->st_blksize = FS_BLKSIZE;
	st->st_blocks = (int64_t)(n->npages * (PAGE_SIZE / 512));
	st->st_atime_sec = st->st_mtime_sec = st->st_ctime_sec = n->mtime;
}

int tmp_stat(struct tmpfs *fs, const char *rel, struct lx_stat *st)
{
	mutex_lock(&fs->lock);
	struct tmp_node *n;
	int r = find(fs, rel, &n);
	if (!r)
		tmp_fill_stat(n, st);
	mutex_unlock(&fs->lock);
	return r;
}

static size_t pages_for(size_t bytes) { return (bytes + PAGE_SIZE - 1) / PAGE_SIZE; }

/* Make room for end bytes (zeroed pages, each charged): 0, or -ENOSPC with the pages
 * added so far kept (they belong to the file and stay charged). */
static int reserve(struct tmpfs *fs, struct tmp_node *n, size_t end)
{
	size_t need = pages_for(end);
	if (need > n->slots) {
		size_t slots = n->slots ? n->slots : SLOTS_MIN;
		while (slots < need)
			slots *= 2;
		char **p = kmalloc(slots * sizeof *p);
		if (!p)
			return -ENOSPC;
		if (n->npages)
			memcpy(p, n->pages, n->npages * sizeof *p);
		kfree(n->pages);
		n->pages = p;
		n->slots = slots;
	}
	while (n->npages < need) {
		if (charge(fs, PAGE_SIZE) < 0)
			return -ENOSPC;
		char *pg = kzalloc(PAGE_SIZE);
		if (!pg) {
			charge(fs, -(int64_t)PAGE_SIZE);
			return -ENOSPC;
		}
		n->pages[n->npages++] = pg;
	}
	return 0;
}

static int set_size(struct tmpfs *fs, struct tmp_node *n, int64_t len)
{
	if (len < 0)
		return -EINVAL;
	if ((uint64_t)len > FS_TMP_FILE_MAX)
		return -EFBIG;
	size_t l = (size_t)len;
	if (l > n->size) {
		int r = reserve(fs, n, l);
		if (r < 0)
			return r;
	} else {
		size_t keep = pages_for(l);
		while (n->npages > keep) {
			kfree(n->pages[--n->npages]);
			charge(fs, -(int64_t)PAGE_SIZE);
		}
		if (l % PAGE_SIZE) /* past the end stays zero */
			memset(n->pages[l / PAGE_SIZE] + l % PAGE_SIZE, 0,
			       PAGE_SIZE - l % PAGE_SIZE);
	}
	n->size = l;
	n->mtime = now_s();
	return 0;
}

/* Zero [from, to) of n's pages (all present). */
static void zero(struct tmp_node *n, size_t from, size_t to)
{
	while (from < to) {
		size_t in = from % PAGE_SIZE, m = PAGE_SIZE - in;
		if (m > to - from)
			m = to - from;
		memset(n->pages[from / PAGE_SIZE] + in, 0, m);
		from += m;
	}
}

/* Copy k bytes between the file at off and b at boff, page by page. */
static int copy(struct tmp_node *n, size_t off, struct fs_buf *b, size_t boff, size_t k,
		bool to_file)
{
	while (k) {
		size_t in = off % PAGE_SIZE, m = PAGE_SIZE - in;
		if (m > k)
			m = k;
		char *pg = n->pages[off / PAGE_SIZE] + in;
		int r = to_file ? buf_get(b, boff, pg, m) : buf_put(b, boff, pg, m);
		if (r < 0)
			return r;
		off += m;
		boff += m;
		k -= m;
	}
	return 0;
}

/* Open files on a node. */
struct tmp_open {
	struct tmpfs *fs;
	struct tmp_node *n;
};

static long t_read(struct file *f, struct fs_buf *b, int64_t *pos)
{
	struct tmp_open *o = f->priv;
	mutex_lock(&o->fs->lock);
	long r = 0;
	if (*pos >= 0 && (uint64_t)*pos < o->n->size) {
		size_t k = o->n->size - (size_t)*pos;
		if (k > b->len)
			k = b->len;
		r = copy(o->n, (size_t)*pos, b, 0, k, false);
		if (r == 0) {
			*pos += (int64_t)k;
			r = (long)k;
		}
	}
	mutex_unlock(&o->fs->lock);
	return r;
}

static long t_write(struct file *f, struct fs_buf *b, int64_t *pos)
{
	struct tmp_open *o = f->priv;
	struct tmp_node *n = o->n;
	mutex_lock(&o->fs->lock);
	if (f->flags & LX_O_APPEND)
		*pos = (int64_t)n->size;
	long r;
	if (*pos < 0) {
		r = -EINVAL;
	} else if ((uint64_t)*pos + b->len > FS_TMP_FILE_MAX) {
		r = -EFBIG;
	} else if (b->len == 0) {
		r = 0;
	} else {
		size_t at = (size_t)*pos, end = at + b->len;
		r = reserve(o->fs, n, end);
		if (r < 0 && n->npages * PAGE_SIZE > at) {
			end = n->npages * PAGE_SIZE; /* full: a short write, as tmpfs does */
			r = 0;
		}
		if (r == 0) {
			r = copy(n, at, b, 0, end - at, true);
			if (r < 0 && end > n->size) /* a fault part way: past the end stays 0 */
				zero(n, at > n->size ? at : n->size, end);
		}
		if (r == 0) {
			if (end > n->size)
				n->size = end;
			n->mtime = now_s();
			*pos = (int64_t)end;
			r = (long)(end - at);
		}
	}
	mutex_unlock(&o->fs->lock);
	return r;
}

static int t_stat(struct file *f, struct lx_stat *st)
{
	struct tmp_open *o = f->priv;
	mutex_lock(&o->fs->lock);
	tmp_fill_stat(o->n, st);
	mutex_unlock(&o->fs->lock);
	return 0;
}

static int64_t t_size(struct file *f)
{
	struct tmp_open *o = f->priv;
	mutex_lock(&o->fs->lock);
	int64_t s = (int64_t)o->n->size;
	mutex_unlock(&o->fs->lock);
	return s;
}

static int t_truncate(struct file *f, int64_t len)
{
	struct tmp_open *o = f->priv;
	mutex_lock(&o->fs->lock);
	int r = set_size(o->fs, o->n, len);
	mutex_unlock(&o->fs->lock);
	return r;
}

static bool t_next(const void **cursor, struct dir_entry *e)
{
	const struct tmp_node *c = *cursor;
	if (!c)
		return false;
	*e = (struct dir_entry){c->name, c->ino, c->mode};
	*cursor = c->next;
	return true;
}

static long t_getdents(struct file *f, struct fs_buf *b, int64_t *pos)
{
	struct tmp_open *o = f->priv;
	struct tmp_node *d = o->n;
	mutex_lock(&o->fs->lock);
	long r = dir_fill(b, pos, d->ino, d->parent->ino, d->child, t_next);
	mutex_unlock(&o->fs->lock);
	return r;
}

static void t_release(struct file *f)
{
	struct tmp_open *o = f->priv;
	struct tmpfs *fs = o->fs;
	mutex_lock(&fs->lock);
	if (--o->n->opens == 0 && !o->n->linked)
		node_free(fs, o->n, fs->task != 0);
	mutex_unlock(&fs->lock);
	kfree(o);
	fs_put(fs);
}

static const struct file_ops file_ops = {
	.name = "tmp",
	.seekable = true,
	.mode = LX_S_IFREG,
	.read = t_read,
	.write = t_write,
	.stat = t_stat,
	.size = t_size,
	.truncate = t_truncate,
	.release = t_release,
};

static const struct file_ops dir_ops = {
	.name = "tmp-dir",
	.seekable = true,
	.mode = LX_S_IFDIR,
	.stat = t_stat,
	.getdents = t_getdents,
	.release = t_release,
};

int tmp_open(struct tmpfs *fs, const char *rel, const char *path, int flags, uint32_t mode,
	     struct file **out)
{
	struct tmp_open *o = kzalloc(sizeof *o);
	size_t pl = strlen(path) + 1;
	char *pcopy = kmalloc(pl); /* kept by directories (openat, fchdir) */
	if (!o || !pcopy) {
		kfree(o);
		kfree(pcopy);
		return -ENOMEM;
	}
	memcpy(pcopy, path, pl);
	mutex_lock(&fs->lock);
	struct tmp_node *n;
	const char *last;
	size_t ll;
	int r = walk(fs, rel, &n, &last, &ll);
	int acc = flags & LX_O_ACCMODE;
	if (r < 0)
		goto out;
	if (last) {
		if (!(flags & LX_O_CREAT)) {
			r = -ENOENT;
			goto out;
		}
		if (flags & LX_O_DIRECTORY) {
			r = -EINVAL; /* Linux: O_CREAT|O_DIRECTORY never makes a directory */
			goto out;
		}
		struct tmp_node *c = node_new(fs, last, ll, LX_S_IFREG | (mode & 07777));
		if (!c) {
			r = -ENOSPC;
			goto out;
		}
		link_child(n, c);
		n->mtime = c->mtime;
		n = c;
	} else {
		if ((flags & LX_O_CREAT) && (flags & LX_O_EXCL)) {
			r = -EEXIST;
			goto out;
		}
		if (is_dir(n) && (acc != LX_O_RDONLY || (flags & LX_O_CREAT))) {
			r = -EISDIR;
			goto out;
		}
		if (!is_dir(n) && (flags & LX_O_DIRECTORY)) {
			r = -ENOTDIR;
			goto out;
		}
		if ((flags & LX_O_TRUNC) && !is_dir(n) && acc != LX_O_RDONLY &&
		    (r = set_size(fs, n, 0)) < 0)
			goto out;
	}
	struct file *f = file_new(is_dir(n) ? &dir_ops : &file_ops,
				  flags & (LX_O_ACCMODE | LX_O_APPEND | LX_O_NONBLOCK), o);
	if (!f) {
		r = -ENOMEM;
		goto out;
	}
	if (is_dir(n)) {
		f->path = pcopy;
		pcopy = 0;
	}
	o->fs = fs;
	o->n = n;
	n->opens++;
	fs->refs++;
	f->task = fs->task;
	*out = f;
	mutex_unlock(&fs->lock);
	kfree(pcopy);
	return 0;
out:
	mutex_unlock(&fs->lock);
	kfree(o);
	kfree(pcopy);
	return r;
}

int tmp_mkdir(struct tmpfs *fs, const char *rel, uint32_t mode)
{
	mutex_lock(&fs->lock);
	struct tmp_node *n;
	const char *last;
	size_t ll;
	int r = walk(fs, rel, &n, &last, &ll);
	if (!r && !last)
		r = -EEXIST;
	if (!r) {
		struct tmp_node *c = node_new(fs, last, ll, LX_S_IFDIR | (mode & 07777));
		if (c)
			link_child(n, c);
		else
			r = -ENOSPC;
	}
	mutex_unlock(&fs->lock);
	return r;
}

static void drop(struct tmpfs *fs, struct tmp_node *n)
{
	unlink_child(n);
	if (!n->opens)
		node_free(fs, n, true);
}

int tmp_unlink(struct tmpfs *fs, const char *rel, bool dir)
{
	mutex_lock(&fs->lock);
	struct tmp_node *n;
	int r = find(fs, rel, &n);
	if (!r && n == fs->root)
		r = -EBUSY;
	else if (!r && dir && !is_dir(n))
		r = -ENOTDIR;
	else if (!r && !dir && is_dir(n))
		r = -EISDIR;
	else if (!r && dir && n->child)
		r = -ENOTEMPTY;
	if (!r)
		drop(fs, n);
	mutex_unlock(&fs->lock);
	return r;
}

int tmp_rename(struct tmpfs *fs, const char *from, const char *to)
{
	mutex_lock(&fs->lock);
	struct tmp_node *src = 0, *dst = 0;
	const char *last = 0, *tlast = 0;
	size_t ll, tll;
	int r = walk(fs, from, &src, &last, &ll);
	if (!r && last)
		r = -ENOENT;
	if (!r && src == fs->root)
		r = -EBUSY;
	if (!r)
		r = walk(fs, to, &dst, &tlast, &tll);
	if (r < 0 || (!tlast && dst == src))
		goto out;
	/* dst: the target's node, or (tlast set) its parent directory. */
	struct tmp_node *parent = tlast ? dst : dst->parent;
	for (struct tmp_node *a = parent;; a = a->parent) {
		if (a == src) {
			r = -EINVAL; /* into its own subtree */
			goto out;
		}
		if (a == fs->root)
			break;
	}
	if (!tlast) {
		if (dst == fs->root) {
			r = -EBUSY;
			goto out;
		}
		if (is_dir(src) && !is_dir(dst)) {
			r = -ENOTDIR;
			goto out;
		}
		if (!is_dir(src) && is_dir(dst)) {
			r = -EISDIR;
			goto out;
		}
		if (is_dir(dst) && dst->child) {
			r = -ENOTEMPTY;
			goto out;
		}
	}
	const char *name = tlast ? tlast : dst->name;
	size_t nl = tlast ? tll : strlen(dst->name);
	char *nm = kmalloc(nl + 1);
	if (!nm) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(nm, name, nl);
	nm[nl] = 0;
	if (!tlast)
		drop(fs, dst);
	unlink_child(src);
	kfree(src->name);
	src->name = nm;
	link_child(parent, src);
out:
	mutex_unlock(&fs->lock);
	return r;
}
