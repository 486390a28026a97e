/* fs_test.c: self-tests of the files layer in the kernel: the image index built from an
 * archive made here (and a malformed one refused), a task's fd table with stdin and
 * /tmp (create, write, read, seek-free positioned reads, unlink while open, rename,
 * directories, read-only errors, memory returned), pipes (data, end of file, EPIPE,
 * non-blocking, a blocked reader woken by a writer thread, a write larger than the
 * pipe), and lwIP sockets over loopback (TCP connect/accept/send/recv/close, UDP, a
 * refused connect, receive timeouts, option translation); and a real task (echo-server)
 * serving a connection, then killed while blocked in accept. */
#include <errno.h>
#include <string.h>

#include "kernel/fs/cpio.h"
#include "kernel/fs/vfs.h"
#include "kernel/heap.h"
#include "kernel/printf.h"
#include "kernel/proc.h"
#include "kernel/selftest.h"
#include "kernel/task.h"
#include "kernel/thread.h"
#include "kernel/time.h"

#define AR_MAX 4096
#define LOOPBACK 0x0100007fU /* 127.0.0.1 in network order */
#define RCV_TIMEOUT_US 100000
#define NS_PER_MS 1000000UL
#define BIG_WRITE (FS_PIPE_BYTES * 3)
#define PATTERN_BYTES 20000 /* five pages and a bit */
#define ODD_PIECE 1237
#define MEMP_SOCKETS 64 /* more than lwIP has (MEMP_NUM_NETCONN) */
#define THREAD_WAIT_NS (5000UL * NS_PER_MS)

static size_t ar_add(char *ar, size_t off, const char *name, unsigned mode, const char *data)
{
	size_t nl = strlen(name) + 1, dl = data ? strlen(data) : 0;
	off += (size_t)ksnprintf(ar + off, AR_MAX - off,
				 "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", 1u,
				 mode, 0u, 0u, 1u, 0u, (unsigned)dl, 0u, 0u, 0u, 0u, (unsigned)nl,
				 0u);
	memcpy(ar + off, name, nl);
	off += nl;
	while (off % 4)
		ar[off++] = 0;
	if (dl)
		memcpy(ar + off, data, dl);
	off += dl;
	while (off % 4)
		ar[off++] = 0;
	return off;
}

static long kread(struct file *f, void *buf, size_t n, int64_t *pos)
{
	struct fs_buf b = {buf, n, false};
	return f->ops->read(f, &b, pos);
}

static long kwrite(struct file *f, const void *buf, size_t n, int64_t *pos)
{
	struct fs_buf b = {(char *)buf, n, false};
	return f->ops->write(f, &b, pos);
}

/* Names getdents64 returns for dir, joined by spaces, into out. */
static int list(struct file *d, char *out, size_t max)
{
	char buf[512];
	int64_t pos = 0;
	size_t o = 0;
	out[0] = 0;
	for (;;) {
		struct fs_buf b = {buf, sizeof buf, false};
		long n = d->ops->getdents(d, &b, &pos);
		if (n <= 0)
			return (int)n;
		for (long at = 0; at < n;) {
			struct lx_dirent64 *e = (struct lx_dirent64 *)(buf + at);
			o += (size_t)ksnprintf(out + o, max - o, "%s%s", o ? " " : "", e->d_name);
			at += e->d_reclen;
		}
	}
}

SELFTEST(fs_image_index)
{
	char *ar = kzalloc(AR_MAX);
	CHECK(ar);
	size_t n = ar_add(ar, 0, ".", LX_S_IFDIR | 0755, 0);
	n = ar_add(ar, n, "./bin/hello", LX_S_IFREG | 0755, "ELF-bytes");
	n = ar_add(ar, n, "./etc", LX_S_IFDIR | 0700, 0);
	n = ar_add(ar, n, "./etc/motd", LX_S_IFREG | 0644, "welcome\n");
	n = ar_add(ar, n, "./lnk", 0120777, "bin/hello"); /* a symlink: skipped */
	size_t good = ar_add(ar, n, "TRAILER!!!", 0, 0);

	const char *why;
	int nodes, skipped;
	struct img_node *r = img_index(ar, good, &why, &nodes, &skipped);
	CHECK(r);
	CHECK(nodes == 6 && skipped == 1); /* / bin hello etc motd tmp */
	struct img_node *h = img_find(r, "/bin/hello");
	CHECK(h && !img_is_dir(h));
	CHECK(img_find(r, "/bin") && img_is_dir(img_find(r, "/bin")));
	CHECK(img_find(r, "/tmp") && img_is_dir(img_find(r, "/tmp")));
	CHECK(!img_find(r, "/lnk") && !img_find(r, "/bin/hello/x") && !img_find(r, "/nope"));
	struct lx_stat st;
	img_stat(img_find(r, "/etc"), &st);
	CHECK(st.st_mode == (LX_S_IFDIR | 0700));
	img_stat(h, &st);
	CHECK(st.st_size == 9 && st.st_mode == (LX_S_IFREG | 0755));

	struct file *f;
	CHECK(img_open(h, "/bin/hello", LX_O_RDONLY, &f) == 0);
	char buf[16] = {0};
	int64_t pos = 4;
	CHECK(kread(f, buf, sizeof buf, &pos) == 5 && memcmp(buf, "bytes", 5) == 0 && pos == 9);
	CHECK(kread(f, buf, sizeof buf, &pos) == 0);
	file_put(f);
	CHECK(img_open(h, "/bin/hello", LX_O_RDWR, &f) == -EROFS);
	CHECK(img_open(h, "/bin/hello", LX_O_RDONLY | LX_O_DIRECTORY, &f) == -ENOTDIR);
	CHECK(img_open(r, "/", LX_O_RDONLY, &f) == 0);
	char names[128];
	CHECK(list(f, names, sizeof names) == 0);
	CHECK(strcmp(names, ". .. bin etc tmp") == 0);
	file_put(f);
	img_drop(r);

	/* Malformed: a truncated archive and a bad name are refused whole. */
	CHECK(!img_index(ar, good - 8, &why, 0, 0) && why);
	n = ar_add(ar, 0, "a/../b", LX_S_IFREG, "x");
	n = ar_add(ar, n, "TRAILER!!!", 0, 0);
	CHECK(!img_index(ar, n, &why, 0, 0) && why);
	kfree(ar);
	return 0;
}

static struct task *fake_task(void)
{
	struct task *t = kzalloc(sizeof *t);
	if (t)
		mutex_init(&t->lock);
	return t;
}

SELFTEST(fs_task_files)
{
	fs_init();
	struct heap_stats before, after;
	heap_stats(&before);
	struct task *t = fake_task();
	CHECK(t);
	CHECK(fs_task_start(t, "input", 5) == 0);
	struct fdtable *ft = t->files;
	CHECK(ft && ft->fd[0] && ft->fd[1] && ft->fd[1] == ft->fd[2]);

	/* stdin: the bytes, then end of file; not writable. */
	char buf[64] = {0};
	CHECK(kread(ft->fd[0], buf, sizeof buf, &ft->fd[0]->pos) == 5);
	CHECK(memcmp(buf, "input", 5) == 0);
	CHECK(kread(ft->fd[0], buf, sizeof buf, &ft->fd[0]->pos) == 0);
	CHECK(!file_writable(ft->fd[0]) && !file_readable(ft->fd[1]));

	/* /tmp: create, write, read back, append, truncate. */
	struct file *f, *g;
	CHECK(fs_open(ft, LX_AT_FDCWD, "/tmp/a", LX_O_CREAT | LX_O_RDWR, 0644, &f) == 0);
	int64_t pos = 0;
	CHECK(kwrite(f, "hello", 5, &pos) == 5 && pos == 5);
	pos = 10; /* a hole reads as zeroes */
	CHECK(kwrite(f, "!", 1, &pos) == 1);
	pos = 0;
	CHECK(kread(f, buf, sizeof buf, &pos) == 11);
	CHECK(memcmp(buf, "hello\0\0\0\0\0!", 11) == 0);
	CHECK(fs_open(ft, LX_AT_FDCWD, "/tmp/a", LX_O_CREAT | LX_O_EXCL | LX_O_RDWR, 0, &g) ==
	      -EEXIST);
	CHECK(fs_open(ft, LX_AT_FDCWD, "a", LX_O_WRONLY | LX_O_APPEND, 0, &g) == -ENOENT);
	CHECK(fs_chdir(ft, "/tmp") == 0);
	CHECK(fs_open(ft, LX_AT_FDCWD, "a", LX_O_WRONLY | LX_O_APPEND, 0, &g) == 0);
	pos = 0;
	CHECK(kwrite(g, "+", 1, &pos) == 1 && pos == 12);
	struct lx_stat st;
	CHECK(fs_stat(ft, LX_AT_FDCWD, "../tmp/./a", 0, &st) == 0 && st.st_size == 12);
	CHECK((st.st_mode & LX_S_IFMT) == LX_S_IFREG);
	CHECK(g->ops->truncate(g, 3) == 0);
	CHECK(f->ops->size(f) == 3);
	file_put(g);
	CHECK(tmp_bytes(ft->tmp) > 0);

	/* Across pages: a pattern written in one piece, read back in odd pieces; shrink into
	 * a page and grow again: the grown part reads zero. */
	char *pat = kmalloc(PATTERN_BYTES), *back = kzalloc(PATTERN_BYTES);
	CHECK(pat && back);
	for (int i = 0; i < PATTERN_BYTES; i++)
		pat[i] = (char)(i * 7 + 1);
	pos = 100;
	CHECK(kwrite(f, pat, PATTERN_BYTES, &pos) == PATTERN_BYTES);
	for (int64_t at = 100; at < 100 + PATTERN_BYTES; at += ODD_PIECE) {
		int64_t p2 = at;
		size_t want =
			100 + PATTERN_BYTES - at < ODD_PIECE ? 100 + PATTERN_BYTES - at : ODD_PIECE;
		CHECK(kread(f, back + at - 100, ODD_PIECE, &p2) == (long)want);
	}
	CHECK(memcmp(pat, back, PATTERN_BYTES) == 0);
	CHECK(f->ops->truncate(f, 5000) == 0 && f->ops->truncate(f, 9000) == 0);
	pos = 4990;
	CHECK(kread(f, back, 100, &pos) == 100);
	CHECK(memcmp(back, pat + 4890, 10) == 0 && back[10] == 0 && back[99] == 0);
	CHECK(f->ops->truncate(f, 3) == 0);
	kfree(pat);
	kfree(back);

	/* Unlink while open: gone by name, still readable. */
	CHECK(fs_unlink(ft, LX_AT_FDCWD, "/tmp/a", 0) == 0);
	CHECK(fs_stat(ft, LX_AT_FDCWD, "/tmp/a", 0, &st) == -ENOENT);
	pos = 0;
	CHECK(kread(f, buf, sizeof buf, &pos) == 3 && memcmp(buf, "hel", 3) == 0);
	file_put(f);

	/* Directories, rename, listing. */
	CHECK(fs_mkdir(ft, LX_AT_FDCWD, "d", 0755) == 0);
	CHECK(fs_mkdir(ft, LX_AT_FDCWD, "d", 0755) == -EEXIST);
	CHECK(fs_open(ft, LX_AT_FDCWD, "d/x", LX_O_CREAT | LX_O_WRONLY, 0600, &f) == 0);
	file_put(f);
	CHECK(fs_rename(ft, LX_AT_FDCWD, "d/x", LX_AT_FDCWD, "/tmp/y") == 0);
	CHECK(fs_rename(ft, LX_AT_FDCWD, "/tmp/d", LX_AT_FDCWD, "/tmp/d/e") == -EINVAL);
	CHECK(fs_open(ft, LX_AT_FDCWD, "/tmp", LX_O_RDONLY | LX_O_DIRECTORY, 0, &f) == 0);
	char names[128];
	CHECK(list(f, names, sizeof names) == 0);
	CHECK(strstr(names, "y") && strstr(names, "d") && strstr(names, ".."));
	CHECK(fs_open(ft, (int)0, "y", LX_O_RDONLY, 0, &g) == -ENOTDIR); /* fd 0: not a dir */
	int dfd = fd_install(ft, f, 3, false);
	CHECK(dfd == 3);
	CHECK(fs_open(ft, dfd, "y", LX_O_RDONLY, 0, &g) == 0);
	file_put(g);
	CHECK(fs_unlink(ft, LX_AT_FDCWD, "/tmp/d", LX_AT_REMOVEDIR) == 0);
	CHECK(fs_unlink(ft, LX_AT_FDCWD, "/tmp/y", LX_AT_REMOVEDIR) == -ENOTDIR);
	CHECK(fs_unlink(ft, LX_AT_FDCWD, "/tmp", LX_AT_REMOVEDIR) == -EBUSY);

	/* The image is read-only; paths stay inside it. */
	CHECK(fs_open(ft, LX_AT_FDCWD, "/newfile", LX_O_CREAT | LX_O_WRONLY, 0, &g) == -EROFS);
	CHECK(fs_open(ft, LX_AT_FDCWD, "/no/such/dir/f", LX_O_CREAT | LX_O_WRONLY, 0, &g) ==
	      -ENOENT);
	CHECK(fs_mkdir(ft, LX_AT_FDCWD, "/x", 0755) == -EROFS);
	CHECK(fs_unlink(ft, LX_AT_FDCWD, "/tmp/../tmp/../nothing", 0) == -ENOENT);
	CHECK(fs_access(ft, LX_AT_FDCWD, "/", LX_W_OK) == -EROFS);
	CHECK(fs_access(ft, LX_AT_FDCWD, "/tmp", LX_W_OK) == 0);
	CHECK(fs_chdir(ft, "/tmp/y") == -ENOTDIR);
	char cwd[16];
	CHECK(fs_getcwd(ft, cwd, sizeof cwd) == 5 && strcmp(cwd, "/tmp") == 0);
	CHECK(fs_getcwd(ft, cwd, 3) == -ERANGE);

	/* dup2 onto a used slot, close, bad fds. */
	CHECK(fd_dup_to(ft, 0, 3, true) == 3 && fd_get_cloexec(ft, 3) == LX_FD_CLOEXEC);
	CHECK(fd_close(ft, 3) == 0 && fd_close(ft, 3) == -EBADF);
	CHECK(fd_dup_to(ft, 77, 4, false) == -EBADF && !fd_get(ft, -1) && !fd_get(ft, 9999));

	/* Filling /tmp: many files; then the end gives every byte back. */
	for (int i = 0; i < 20; i++) {
		char name[32];
		ksnprintf(name, sizeof name, "/tmp/f%d", i);
		CHECK(fs_open(ft, LX_AT_FDCWD, name, LX_O_CREAT | LX_O_WRONLY, 0600, &f) == 0);
		pos = 0;
		CHECK(kwrite(f, names, sizeof names, &pos) == (long)sizeof names);
		if (i % 2)
			file_put(f);
		else
			CHECK(fd_install(ft, f, 0, false) >= 0); /* left open at the end */
	}
	fs_task_end(t);
	CHECK(!t->files);
	kfree(t);
	heap_stats(&after);
	CHECK(after.bytes_in_use == before.bytes_in_use);
	return 0;
}

struct pipe_peer {
	struct file *f;
	size_t n;
	long result;
	volatile bool done;
};

static void slow_writer(void *arg)
{
	struct pipe_peer *p = arg;
	thread_sleep_ns(20 * NS_PER_MS);
	int64_t pos = 0;
	p->result = kwrite(p->f, "late", 4, &pos);
	p->done = true;
}

static void drain(void *arg)
{
	struct pipe_peer *p = arg;
	char *buf = kmalloc(4096);
	size_t got = 0;
	long r = 1;
	while (buf && r > 0) {
		int64_t pos = 0;
		r = kread(p->f, buf, 4096, &pos);
		if (r > 0)
			got += (size_t)r;
	}
	kfree(buf);
	p->n = got;
	p->result = r;
	p->done = true;
}

static bool wait_done(struct pipe_peer *p)
{
	uint64_t end = time_ns() + THREAD_WAIT_NS;
	while (!p->done && time_ns() < end)
		thread_sleep_ns(NS_PER_MS);
	return p->done;
}

SELFTEST(fs_pipe)
{
	struct file *r, *w;
	CHECK(pipe_new(0, &r, &w) == 0);
	int64_t pos = 0;
	char buf[32];
	CHECK(r->ops->poll(r) == 0);
	CHECK(w->ops->poll(w) & LX_POLLOUT);
	CHECK(kwrite(w, "0123456789", 10, &pos) == 10);
	CHECK(r->ops->poll(r) & LX_POLLIN);
	CHECK(kread(r, buf, 4, &pos) == 4 && memcmp(buf, "0123", 4) == 0);
	CHECK(kread(r, buf, sizeof buf, &pos) == 6 && memcmp(buf, "456789", 6) == 0);
	r->flags |= LX_O_NONBLOCK;
	CHECK(kread(r, buf, sizeof buf, &pos) == -EAGAIN);
	r->flags &= ~LX_O_NONBLOCK;

	/* A blocked reader is woken by a writer thread. */
	struct pipe_peer p = {.f = w};
	struct thread *th = thread_create("pipe-writer", slow_writer, &p, THREAD_ANY_CPU);
	CHECK(th);
	thread_start(th);
	CHECK(kread(r, buf, sizeof buf, &pos) == 4 && memcmp(buf, "late", 4) == 0);
	CHECK(wait_done(&p) && p.result == 4);
	thread_join(th);

	/* A write three times the pipe's size goes through while a thread drains it. */
	struct pipe_peer d = {.f = r};
	th = thread_create("pipe-drain", drain, &d, THREAD_ANY_CPU);
	CHECK(th);
	thread_start(th);
	char *big = kzalloc(BIG_WRITE);
	CHECK(big);
	CHECK(kwrite(w, big, BIG_WRITE, &pos) == BIG_WRITE);
	kfree(big);
	file_put(w); /* end of file for the drain */
	CHECK(wait_done(&d) && d.result == 0 && d.n == BIG_WRITE);
	thread_join(th);
	CHECK(r->ops->poll(r) & LX_POLLHUP);
	file_put(r);

	/* No reader: EPIPE. */
	CHECK(pipe_new(LX_O_NONBLOCK, &r, &w) == 0);
	file_put(r);
	CHECK(kwrite(w, "x", 1, &pos) == -EPIPE);
	CHECK(w->ops->poll(w) & LX_POLLERR);
	file_put(w);
	return 0;
}

static void loopback_addr(struct lx_sockaddr_in *a, uint16_t port_be)
{
	memset(a, 0, sizeof *a);
	a->sin_family = LX_AF_INET;
	a->sin_port = port_be;
	a->sin_addr = LOOPBACK;
}

SELFTEST(fs_socket_loopback)
{
	struct file *ls, *c, *s;
	struct lx_sockaddr_in a, peer;
	CHECK(sock_create(LX_AF_UNIX, LX_SOCK_STREAM, 0, &ls) == -EAFNOSUPPORT);
	CHECK(sock_create(LX_AF_INET, LX_SOCK_STREAM, LX_IPPROTO_UDP, &ls) == -EPROTONOSUPPORT);
	CHECK(sock_create(LX_AF_INET, LX_SOCK_STREAM, 0, &ls) == 0);
	int one = 1;
	CHECK(sock_setopt(ls, LX_SOL_SOCKET, LX_SO_REUSEADDR, &one, sizeof one) == 0);
	loopback_addr(&a, 0);
	CHECK(sock_bind(ls, &a, sizeof a) == 0);
	CHECK(sock_bind(ls, &a, 8) == -EINVAL);
	CHECK(sock_listen(ls, 4) == 0);
	CHECK(sock_name(ls, false, &a) == 0 && a.sin_port != 0 && a.sin_family == LX_AF_INET);
	ls->flags |= LX_O_NONBLOCK;
	CHECK(sock_accept(ls, 0, &s, &peer) == -EAGAIN);
	ls->flags &= ~LX_O_NONBLOCK;

	CHECK(sock_create(LX_AF_INET, LX_SOCK_STREAM, 0, &c) == 0);
	CHECK(sock_connect(c, &a, sizeof a) == 0);
	CHECK(sock_accept(ls, LX_SOCK_NONBLOCK, &s, &peer) == 0);
	CHECK(peer.sin_addr == LOOPBACK && file_nonblock(s));
	struct lx_sockaddr_in cn;
	CHECK(sock_name(c, false, &cn) == 0 && cn.sin_port == peer.sin_port);
	CHECK(sock_send(c, "ping", 4, 0, 0, 0) == 4);
	s->flags &= ~LX_O_NONBLOCK;
	char buf[16];
	CHECK(sock_recv(s, buf, sizeof buf, LX_MSG_PEEK, 0, 0) == 4);
	CHECK(sock_recv(s, buf, sizeof buf, 0, 0, 0) == 4 && memcmp(buf, "ping", 4) == 0);
	CHECK(s->ops->poll(s) & LX_POLLOUT);
	CHECK(!(s->ops->poll(s) & LX_POLLIN));

	/* Receive timeout: -EAGAIN after about the time asked. */
	struct lx_timeval tv = {0, RCV_TIMEOUT_US};
	CHECK(sock_setopt(s, LX_SOL_SOCKET, LX_SO_RCVTIMEO, &tv, sizeof tv) == 0);
	uint64_t t0 = time_ns();
	CHECK(sock_recv(s, buf, sizeof buf, 0, 0, 0) == -EAGAIN);
	uint64_t took = time_ns() - t0;
	CHECK(took >= RCV_TIMEOUT_US * 1000ULL * 9 / 10 && took < RCV_TIMEOUT_US * 1000ULL * 20);
	struct lx_timeval back;
	size_t bl = sizeof back;
	CHECK(sock_getopt(s, LX_SOL_SOCKET, LX_SO_RCVTIMEO, &back, &bl) == 0);
	CHECK(bl == sizeof back && back.tv_usec == RCV_TIMEOUT_US);

	int v = 0;
	size_t vl = sizeof v;
	CHECK(sock_getopt(s, LX_SOL_SOCKET, LX_SO_TYPE, &v, &vl) == 0 && v == LX_SOCK_STREAM);
	CHECK(sock_setopt(s, LX_IPPROTO_TCP, LX_TCP_NODELAY, &one, sizeof one) == 0);
	vl = sizeof v;
	CHECK(sock_getopt(s, LX_IPPROTO_TCP, LX_TCP_NODELAY, &v, &vl) == 0 && v != 0);
	CHECK(sock_setopt(s, LX_SOL_SOCKET, 12345, &one, sizeof one) == -ENOPROTOOPT);

	/* Close one end: the other reads end of stream. */
	file_put(c);
	CHECK(sock_recv(s, buf, sizeof buf, 0, 0, 0) == 0);
	file_put(s);

	/* Nobody listening: refused. */
	file_put(ls);
	CHECK(sock_create(LX_AF_INET, LX_SOCK_STREAM, 0, &c) == 0);
	CHECK(sock_connect(c, &a, sizeof a) == -ECONNREFUSED);
	file_put(c);

	/* UDP both ways, with the sender's address. */
	struct file *u1, *u2;
	CHECK(sock_create(LX_AF_INET, LX_SOCK_DGRAM, 0, &u1) == 0);
	CHECK(sock_create(LX_AF_INET, LX_SOCK_DGRAM | LX_SOCK_NONBLOCK, 0, &u2) == 0);
	loopback_addr(&a, 0);
	CHECK(sock_bind(u1, &a, sizeof a) == 0 && sock_name(u1, false, &a) == 0);
	CHECK(sock_recv(u2, buf, sizeof buf, 0, 0, 0) == -EAGAIN);
	CHECK(sock_send(u2, "datagram", 8, 0, &a, sizeof a) == 8);
	struct lx_sockaddr_in from;
	bool trunc;
	CHECK(sock_recv(u1, buf, 4, 0, &from, &trunc) == 4 && trunc);
	CHECK(from.sin_addr == LOOPBACK && from.sin_port != 0);
	CHECK(sock_send(u1, "back", 4, 0, &from, sizeof from) == 4);
	u2->flags &= ~LX_O_NONBLOCK;
	CHECK(sock_recv(u2, buf, sizeof buf, 0, 0, &trunc) == 4 && !trunc);
	file_put(u1);
	file_put(u2);

	/* Tasks' sockets stop short of lwIP's (the rest are the kernel's); closing frees. */
	struct file *many[MEMP_SOCKETS];
	int n = 0, r = 0;
	while (n < MEMP_SOCKETS && (r = sock_create(LX_AF_INET, LX_SOCK_DGRAM, 0, &many[n])) == 0)
		n++;
	CHECK(r == -ENFILE && n > 0 && n < MEMP_SOCKETS);
	file_put(many[--n]);
	CHECK(sock_create(LX_AF_INET, LX_SOCK_DGRAM, 0, &many[n]) == 0);
	n++;
	while (n)
		file_put(many[--n]);
	return 0;
}

#define ECHO_PROGRAM "/bin/echo-server"
#define ECHO_PORT 7100
#define ECHO_PORT_ARG "7100"
#define TASK_WAIT_NS (20000UL * NS_PER_MS) /* TCG boots of 4 CPUs on 2 host cores */
#define KILL_BOUND_NS (2000UL * NS_PER_MS)

/* Wait until task id's output holds text: true, or false on timeout or its end. */
static bool output_has(int id, const char *text)
{
	char buf[256];
	uint64_t end = time_ns() + TASK_WAIT_NS;
	while (time_ns() < end) {
		uint64_t next;
		long n = task_output(id, 0, buf, sizeof buf - 1, &next);
		if (n < 0)
			return false;
		buf[n] = 0;
		if (strstr(buf, text))
			return true;
		thread_sleep_ns(10 * NS_PER_MS);
	}
	return false;
}

static int echo_spawn(void)
{
	const char *const argv[] = {ECHO_PROGRAM, ECHO_PORT_ARG, "1", NULL};
	struct task_spec s = {.program = ECHO_PROGRAM, .argv = argv};
	return task_spawn(&s);
}

/* A real task end to end: echo-server's socket calls through the system call layer,
 * a connection from the kernel, then a second one killed while it blocks in accept:
 * it must end within a wait slice or so, and its listening socket must be gone. */
SELFTEST(fs_task_socket_and_kill)
{
	const void *img;
	size_t len;
	if (fs_image_file(ECHO_PROGRAM, &img, &len) < 0) {
		kinfo("selftest: fs_task_socket_and_kill: no %s in the image, skipped",
		      ECHO_PROGRAM);
		return 0;
	}
	int id = echo_spawn(), status = -1;
	CHECK(id > 0);
	CHECK(output_has(id, "listening"));
	struct file *c;
	struct lx_sockaddr_in a;
	loopback_addr(&a, __builtin_bswap16(ECHO_PORT));
	CHECK(sock_create(LX_AF_INET, LX_SOCK_STREAM, 0, &c) == 0);
	CHECK(sock_connect(c, &a, sizeof a) == 0);
	CHECK(sock_send(c, "hello", 5, 0, 0, 0) == 5);
	char buf[8];
	CHECK(sock_recv(c, buf, 5, LX_MSG_WAITALL, 0, 0) == 5 && memcmp(buf, "hello", 5) == 0);
	file_put(c);
	CHECK(task_wait(id, TASK_WAIT_NS, &status) == 0 && status == 0);
	CHECK(output_has(id, "1 connections, 5 bytes"));

	id = echo_spawn();
	CHECK(id > 0);
	CHECK(output_has(id, "listening"));
	thread_sleep_ns(20 * NS_PER_MS); /* into accept */
	uint64_t t0 = time_ns();
	CHECK(task_kill(id) == 0);
	CHECK(task_wait(id, KILL_BOUND_NS, &status) == 0);
	uint64_t took = time_ns() - t0;
	CHECK(status == 137);
	kinfo("selftest: a task blocked in accept ended %lu ms after its kill", took / NS_PER_MS);
	/* Its socket was closed: the port binds again without SO_REUSEADDR. */
	CHECK(sock_create(LX_AF_INET, LX_SOCK_STREAM, 0, &c) == 0);
	CHECK(sock_bind(c, &a, sizeof a) == 0);
	file_put(c);
	return 0;
}
