/* console.c: a task's fds 0, 1 and 2. stdin is a read-only regular file holding the
 * spec's bytes (empty unless given; then end of file), so it reads, seeks and stats like
 * Linux's `prog < file`. stdout and stderr are one write-only stream (a FIFO to stat)
 * that appends to the task's output log; neither is a terminal (tty ioctls: -ENOTTY). */
#include <errno.h>
#include <string.h>

#include "kernel/fs/vfs.h"
#include "kernel/heap.h"
#include "kernel/proc.h"

#define OUT_STACK_CHUNK 256 /* small writes copy through the stack */

struct input {
	char *data;
	size_t len;
};

static long in_read(struct file *f, struct fs_buf *b, int64_t *pos)
{
	struct input *in = f->priv;
	if (*pos < 0 || (uint64_t)*pos >= in->len)
		return 0;
	size_t n = in->len - (size_t)*pos;
	if (n > b->len)
		n = b->len;
	int r = buf_put(b, 0, in->data + *pos, n);
	if (r < 0)
		return r;
	*pos += (int64_t)n;
	return (long)n;
}

static int64_t in_size(struct file *f) { return (int64_t)((struct input *)f->priv)->len; }

static int in_stat(struct file *f, struct lx_stat *st)
{
	st->st_mode = LX_S_IFREG | 0400;
	st->st_size = in_size(f);
	return 0;
}

static void in_release(struct file *f)
{
	struct input *in = f->priv;
	kfree(in->data);
	kfree(in);
}

static const struct file_ops in_ops = {
	.name = "stdin",
	.seekable = true,
	.mode = LX_S_IFREG,
	.read = in_read,
	.stat = in_stat,
	.size = in_size,
	.release = in_release,
};

int console_stdin(struct task *t, const void *data, size_t len, struct file **out)
{
	struct input *in = kzalloc(sizeof *in);
	if (!in)
		return -ENOMEM;
	if (len) {
		in->data = kmalloc(len);
		if (!in->data) {
			kfree(in);
			return -ENOMEM;
		}
		memcpy(in->data, data, len);
		in->len = len;
	}
	struct file *f = file_new(&in_ops, LX_O_RDONLY, in);
	if (!f) {
		in_release(&(struct file){.priv = in});
		return -ENOMEM;
	}
	f->task = t;
	*out = f;
	return 0;
}

static long out_write(struct file *f, struct fs_buf *b, int64_t *pos)
{
	char small[OUT_STACK_CHUNK];
	size_t chunk = b->len < FS_IO_CHUNK ? b->len : FS_IO_CHUNK;
	char *tmp = chunk > sizeof small ? kmalloc(chunk) : 0;
	if (!tmp) {
		tmp = small;
		chunk = sizeof small;
	}
	size_t done = 0;
	long r = 0;
	while (done < b->len) {
		size_t n = b->len - done < chunk ? b->len - done : chunk;
		r = buf_get(b, done, tmp, n);
		if (r < 0)
			break;
		if (f->task)
			task_output_append(f->task, tmp, n);
		done += n;
	}
	if (tmp != small)
		kfree(tmp);
	return done ? (long)done : r;
}

static int out_stat(struct file *f, struct lx_stat *st)
{
	st->st_mode = LX_S_IFIFO | 0200;
	return 0;
}

static int out_poll(struct file *f) { return LX_POLLOUT | LX_POLLWRNORM; }

static const struct file_ops out_ops = {
	.name = "stdout",
	.mode = LX_S_IFIFO,
	.write = out_write,
	.stat = out_stat,
	.poll = out_poll,
};

int console_out(struct task *t, struct file **out)
{
	struct file *f = file_new(&out_ops, LX_O_WRONLY, 0);
	if (!f)
		return -ENOMEM;
	f->task = t;
	*out = f;
	return 0;
}
