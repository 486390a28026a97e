/* pipe.c: pipes. A ring of FS_PIPE_BYTES between a read end and a write end, one mutex
 * and one condition variable (both directions wait on it; a change wakes all).
 *
 * Semantics (Linux's): a read blocks while the pipe is empty and a writer remains, and
 * returns what is there (0 at end of file, once every write end is closed). A write of
 * at most FS_PIPE_ATOMIC bytes goes in whole or waits; a longer one may be split and
 * blocks until all of it is in. With no read end left a write fails with -EPIPE; the
 * SIGPIPE Linux would also send is not delivered (tasks have no signal delivery), so a
 * program sees only the error. O_NONBLOCK turns each wait into -EAGAIN (or the partial
 * count). The pipe's buffer is kernel memory, not charged to the task. */
#include <errno.h>
#include <string.h>

#include "kernel/fs/vfs.h"
#include "kernel/heap.h"

struct pipe {
	struct mutex lock;
	struct cond changed;
	char *buf;
	size_t head, count; /* oldest byte's index, bytes held */
	int readers, writers;
	uint64_t ino;
};

static uint64_t next_ino = 1;

static void changed(struct pipe *p)
{
	cond_broadcast(&p->changed);
	fs_wake();
}

static long p_read(struct file *f, struct fs_buf *b, int64_t *pos)
{
	struct pipe *p = f->priv;
	if (b->len == 0)
		return 0;
	mutex_lock(&p->lock);
	long r;
	for (;;) {
		if (p->count) {
			size_t n = p->count < b->len ? p->count : b->len;
			size_t first = FS_PIPE_BYTES - p->head;
			if (first > n)
				first = n;
			r = buf_put(b, 0, p->buf + p->head, first);
			if (r == 0 && n > first)
				r = buf_put(b, first, p->buf, n - first);
			if (r == 0) {
				p->head = (p->head + n) % FS_PIPE_BYTES;
				p->count -= n;
				r = (long)n;
				changed(p);
			}
			break;
		}
		if (!p->writers) {
			r = 0;
			break;
		}
		if (file_nonblock(f)) {
			r = -EAGAIN;
			break;
		}
		if (fs_stop()) {
			r = -EINTR;
			break;
		}
		cond_wait(&p->changed, &p->lock, FS_WAIT_SLICE_NS);
	}
	mutex_unlock(&p->lock);
	return r;
}

static long p_write(struct file *f, struct fs_buf *b, int64_t *pos)
{
	struct pipe *p = f->priv;
	size_t done = 0;
	long err = 0;
	mutex_lock(&p->lock);
	while (done < b->len) {
		if (!p->readers) {
			err = -EPIPE;
			break;
		}
		size_t space = FS_PIPE_BYTES - p->count;
		size_t need = b->len <= FS_PIPE_ATOMIC ? b->len : 1;
		if (space < need) {
			if (file_nonblock(f)) {
				err = -EAGAIN;
				break;
			}
			if (fs_stop()) {
				err = -EINTR;
				break;
			}
			cond_wait(&p->changed, &p->lock, FS_WAIT_SLICE_NS);
			continue;
		}
		size_t n = b->len - done < space ? b->len - done : space;
		size_t tail = (p->head + p->count) % FS_PIPE_BYTES;
		size_t first = FS_PIPE_BYTES - tail;
		if (first > n)
			first = n;
		err = buf_get(b, done, p->buf + tail, first);
		if (!err && n > first)
			err = buf_get(b, done + first, p->buf, n - first);
		if (err)
			break;
		p->count += n;
		done += n;
		changed(p);
	}
	mutex_unlock(&p->lock);
	return done ? (long)done : err;
}

static int p_poll(struct file *f)
{
	struct pipe *p = f->priv;
	int ev = 0;
	mutex_lock(&p->lock);
	if (file_readable(f)) {
		if (p->count)
			ev |= LX_POLLIN | LX_POLLRDNORM;
		if (!p->writers)
			ev |= LX_POLLHUP;
	} else {
		if (FS_PIPE_BYTES - p->count >= FS_PIPE_ATOMIC)
			ev |= LX_POLLOUT | LX_POLLWRNORM;
		if (!p->readers)
			ev |= LX_POLLERR;
	}
	mutex_unlock(&p->lock);
	return ev;
}

static int p_stat(struct file *f, struct lx_stat *st)
{
	struct pipe *p = f->priv;
	st->st_dev = FS_DEV_PIPE;
	st->st_ino = p->ino;
	st->st_nlink = 1;
	st->st_mode = LX_S_IFIFO | 0600;
	st->st_blksize = FS_BLKSIZE;
	return 0;
}

static long p_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
	struct pipe *p = f->priv;
	if (cmd != LX_FIONREAD)
		return -ENOTTY;
	mutex_lock(&p->lock);
	int n = (int)p->count;
	mutex_unlock(&p->lock);
	struct fs_buf b = {(char *)arg, sizeof n, true};
	return buf_put(&b, 0, &n, sizeof n);
}

static void p_release(struct file *f)
{
	struct pipe *p = f->priv;
	mutex_lock(&p->lock);
	if (file_readable(f))
		p->readers--;
	else
		p->writers--;
	bool last = !p->readers && !p->writers;
	changed(p);
	mutex_unlock(&p->lock);
	if (last) {
		kfree(p->buf);
		kfree(p);
	}
}

static const struct file_ops ops = {
	.name = "pipe",
	.mode = LX_S_IFIFO,
	.read = p_read,
	.write = p_write,
	.stat = p_stat,
	.poll = p_poll,
	.ioctl = p_ioctl,
	.release = p_release,
};

int pipe_new(int flags, struct file **rd, struct file **wr)
{
	struct pipe *p = kzalloc(sizeof *p);
	char *buf = kmalloc(FS_PIPE_BYTES);
	int nb = flags & LX_O_NONBLOCK;
	struct file *r = p && buf ? file_new(&ops, LX_O_RDONLY | nb, p) : 0;
	struct file *w = r ? file_new(&ops, LX_O_WRONLY | nb, p) : 0;
	if (!w) {
		kfree(r);
		kfree(buf);
		kfree(p);
		return -ENOMEM;
	}
	mutex_init(&p->lock);
	cond_init(&p->changed);
	p->buf = buf;
	p->readers = p->writers = 1;
	p->ino = __atomic_fetch_add(&next_ino, 1, __ATOMIC_RELAXED);
	*rd = r;
	*wr = w;
	return 0;
}
