/* image.c: the read-only tree at `/`, indexed once from the image's userland archive (a
 * cpio newc boot module). The archive stays where the loader put it (the page allocator
 * keeps modules reserved), so file data is read in place; the index is a tree of nodes
 * with their children in archive order. Directories named only through a file's path
 * are implied (mode 0755); `/tmp` always exists, since each task mounts its own there. */
#include <errno.h>
#include <string.h>

#include "kernel/bootinfo.h"
#include "kernel/fs/cpio.h"
#include "kernel/fs/vfs.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/vmm.h"

#define IMPLIED_DIR_MODE (LX_S_IFDIR | 0755)

struct img_node {
	char *name;
	uint32_t mode;
	uint32_t mtime;
	const void *data;
	size_t size;
	uint64_t ino;
	struct img_node *parent, *child, *last, *next;
};

struct index {
	struct img_node *root;
	uint64_t next_ino;
	int skipped; /* entries of other types, or clashing with a file on their path */
};

static struct img_node *root; /* the image's tree, set once by fs_init */

static struct img_node *node_new(struct index *ix, struct img_node *parent, const char *name,
				 size_t len, uint32_t mode)
{
	struct img_node *n = kzalloc(sizeof *n);
	if (!n)
		return 0;
	n->name = kmalloc(len + 1);
	if (!n->name) {
		kfree(n);
		return 0;
	}
	memcpy(n->name, name, len);
	n->name[len] = 0;
	n->mode = mode;
	n->ino = ix->next_ino++;
	n->parent = parent ? parent : n;
	if (parent) {
		if (parent->last)
			parent->last->next = n;
		else
			parent->child = n;
		parent->last = n;
	}
	return n;
}

static struct img_node *child(const struct img_node *d, const char *name, size_t len)
{
	for (struct img_node *c = d->child; c; c = c->next)
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
			return c;
	return 0;
}

bool img_is_dir(const struct img_node *n) { return (n->mode & LX_S_IFMT) == LX_S_IFDIR; }

static int add_entry(void *arg, const struct cpio_entry *e)
{
	struct index *ix = arg;
	uint32_t type = e->mode & CPIO_S_IFMT;
	if (type != CPIO_S_IFREG && type != CPIO_S_IFDIR) {
		ix->skipped++; /* symlinks, devices, FIFOs: not part of the tree */
		return 0;
	}
	struct img_node *d = ix->root;
	const char *p = e->name;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		if (l > FS_NAME_MAX) {
			ix->skipped++;
			return 0;
		}
		struct img_node *c = child(d, p, l);
		if (!slash) {
			if (c && (img_is_dir(c) != (type == CPIO_S_IFDIR))) {
				ix->skipped++; /* a file and a directory of one name */
				return 0;
			}
			if (!c && !(c = node_new(ix, d, p, l, 0)))
				return -ENOMEM;
			c->mode = e->mode;
			c->mtime = e->mtime;
			c->data = e->data;
			c->size = type == CPIO_S_IFREG ? e->size : 0;
			return 0;
		}
		if (c && !img_is_dir(c)) {
			ix->skipped++;
			return 0;
		}
		if (!c && !(c = node_new(ix, d, p, l, IMPLIED_DIR_MODE)))
			return -ENOMEM;
		d = c;
		p = slash + 1;
	}
}

void img_drop(struct img_node *n)
{
	if (!n)
		return;
	struct img_node *c = n->child;
	while (c) {
		struct img_node *next = c->next;
		img_drop(c);
		c = next;
	}
	kfree(n->name);
	kfree(n);
}

struct img_node *img_index(const void *buf, size_t len, const char **why, int *nodes, int *skipped)
{
	struct index ix = {.next_ino = 1};
	*why = 0;
	if (!(ix.root = node_new(&ix, 0, "", 0, IMPLIED_DIR_MODE)))
		return 0;
	if (buf) {
		size_t at = 0;
		long r = cpio_walk(buf, len, add_entry, &ix, why, &at);
		if (r < 0) {
			if (!*why)
				*why = "out of memory";
			img_drop(ix.root);
			return 0;
		}
	}
	if (!child(ix.root, "tmp", 3) && !node_new(&ix, ix.root, "tmp", 3, LX_S_IFDIR | 01777)) {
		*why = "out of memory";
		img_drop(ix.root);
		return 0;
	}
	if (skipped)
		*skipped = ix.skipped;
	if (nodes)
		*nodes = (int)(ix.next_ino - 1);
	return ix.root;
}

struct img_node *img_find(struct img_node *r, const char *path)
{
	if (!r || path[0] != '/')
		return 0;
	struct img_node *n = r;
	const char *p = path + 1;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		if (!img_is_dir(n) || !(n = child(n, p, l)))
			return 0;
		p += l;
		if (*p == '/')
			p++;
	}
	return n;
}

struct img_node *img_lookup(const char *path) { return img_find(root, path); }

static bool is_cpio(const struct boot_module *m)
{
	return m->end - m->start >= CPIO_HDR_LEN && memcmp(P2V(m->start), "070701", 6) == 0;
}

void fs_init(void)
{
	static struct spinlock once = SPINLOCK_INIT("fs_init");
	static bool done;
	spin_lock(&once);
	bool first = !done;
	done = true;
	spin_unlock(&once);
	if (!first)
		return;

	const struct boot_module *m = 0;
	for (int i = 0; i < boot_info.nmodules && !m; i++)
		if (is_cpio(&boot_info.modules[i]))
			m = &boot_info.modules[i];
	const char *why = 0;
	int nodes = 0, skipped = 0;
	struct img_node *r = 0;
	if (m) {
		r = img_index(P2V(m->start), m->end - m->start, &why, &nodes, &skipped);
		if (!r) {
			size_t at = 0; /* where the walk stopped, for the log */
			cpio_walk(P2V(m->start), m->end - m->start, 0, 0, 0, &at);
			kerror("fs: userland archive refused (%lu bytes): %s at byte %zu",
			       m->end - m->start, why, at);
		}
	} else {
		kwarn("fs: no userland archive among %d boot modules; / is empty",
		      boot_info.nmodules);
	}
	if (!r)
		r = img_index(0, 0, &why, 0, 0); /* just / and /tmp */
	if (!r) {
		kerror("fs: out of memory indexing the image");
		return;
	}
	__atomic_store_n(&root, r, __ATOMIC_RELEASE);
	if (nodes)
		kinfo("fs: userland archive: %d files and directories, %lu bytes, %d skipped",
		      nodes, m->end - m->start, skipped);
}

int fs_image_file(const char *path, const void **data, size_t *len)
{
	char *p = kmalloc(FS_PATH_MAX);
	if (!p)
		return -ENOMEM;
	long r = path_normalize("/", path, p, FS_PATH_MAX);
	struct img_node *n = r < 0 ? 0 : img_lookup(p);
	kfree(p);
	if (r < 0)
		return (int)r;
	if (!n)
		return -ENOENT;
	if (img_is_dir(n))
		return -EISDIR;
	*data = n->data;
	*len = n->size;
	return 0;
}

void img_stat(const struct img_node *n, struct lx_stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_dev = FS_DEV_IMAGE;
	st->st_ino = n->ino;
	st->st_nlink = img_is_dir(n) ? 2 : 1;
	st->st_mode = n->mode;
	st->st_size = (int64_t)n->size;
	st->st_blksize = FS_BLKSIZE;
	st->st_blocks = (int64_t)((n->size + 511) / 512);
	st->st_atime_sec = st->st_mtime_sec = st->st_ctime_sec = n->mtime;
}

static long file_read(struct file *f, struct fs_buf *b, int64_t *pos)
{
	const struct img_node *n = f->priv;
	if (*pos < 0 || (uint64_t)*pos >= n->size)
		return 0;
	size_t k = n->size - (size_t)*pos;
	if (k > b->len)
		k = b->len;
	int r = buf_put(b, 0, (const char *)n->data + *pos, k);
	if (r < 0)
		return r;
	*pos += (int64_t)k;
	return (long)k;
}

static int node_stat(struct file *f, struct lx_stat *st)
{
	img_stat(f->priv, st);
	return 0;
}

static int64_t file_size(struct file *f) { return (int64_t)((struct img_node *)f->priv)->size; }

static const struct file_ops file_ops = {
	.name = "image",
	.seekable = true,
	.mode = LX_S_IFREG,
	.read = file_read,
	.stat = node_stat,
	.size = file_size,
};

static bool dir_next(const void **cursor, struct dir_entry *e)
{
	const struct img_node *c = *cursor;
	if (!c)
		return false;
	*e = (struct dir_entry){c->name, c->ino, c->mode};
	*cursor = c->next;
	return true;
}

static long dir_getdents(struct file *f, struct fs_buf *b, int64_t *pos)
{
	const struct img_node *d = f->priv;
	return dir_fill(b, pos, d->ino, d->parent->ino, d->child, dir_next);
}

static const struct file_ops dir_ops = {
	.name = "image-dir",
	.seekable = true,
	.mode = LX_S_IFDIR,
	.stat = node_stat,
	.getdents = dir_getdents,
};

int img_open(const struct img_node *n, const char *path, int flags, struct file **out)
{
	bool dir = img_is_dir(n);
	if ((flags & LX_O_ACCMODE) != LX_O_RDONLY || (flags & (LX_O_TRUNC | LX_O_APPEND)))
		return dir ? -EISDIR : -EROFS;
	if ((flags & LX_O_DIRECTORY) && !dir)
		return -ENOTDIR;
	struct file *f = file_new(dir ? &dir_ops : &file_ops,
				  flags & (LX_O_ACCMODE | LX_O_NONBLOCK), (void *)n);
	if (!f)
		return -ENOMEM;
	if (dir) {
		size_t l = strlen(path) + 1;
		if (!(f->path = kmalloc(l))) {
			file_put(f);
			return -ENOMEM;
		}
		memcpy(f->path, path, l);
	}
	*out = f;
	return 0;
}
