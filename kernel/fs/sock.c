/* sock.c: a task's sockets (AF_INET, stream and datagram) on lwIP's sockets API.
 *
 * Every lwIP socket a task owns is non-blocking inside lwIP; blocking is done here: an
 * operation that would block waits in lwip_poll for the event it needs, in slices of
 * FS_WAIT_SLICE_NS, and gives up when its task ends (-EINTR) or its SO_RCVTIMEO /
 * SO_SNDTIMEO passes (-EAGAIN, as Linux), then tries again. So no task thread ever
 * sleeps inside lwIP where a kill could not reach it, and a close can never pull a
 * socket out from under a blocked call (the file's reference count keeps it until the
 * call returns).
 *
 * Translation: Linux's sockaddr_in (16-bit family) and lwIP's (BSD layout, length
 * byte) differ, as do the option levels and names, the MSG_* flags and the POLL* bits;
 * each is mapped here. Errno values are Linux's in both (lwIP's errno.h numbering).
 * lwIP's errno is per thread (net/lwip/sys_arch.c), so each call reads its own. */
#include <string.h>

#include "kernel/fs/vfs.h"
#include "kernel/heap.h"
#include "kernel/time.h"
#include "lwip/sockets.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_US 1000ULL
#define NS_PER_S 1000000000ULL
#define BACKLOG_MAX 0xff /* lwIP keeps the backlog in a byte */
#define SMALL_IO 256	 /* reads and writes this small bounce through the stack */
#define DEFAULT_SNDBUF TCP_SND_BUF
/* lwIP's sockets (MEMP_NUM_NETCONN) serve the kernel too (gossip, the console): tasks
 * together may hold all but this many, so no task can starve the node's own services. */
#define KERNEL_SOCKETS 16
#define TASK_SOCKETS_MAX (MEMP_NUM_NETCONN - KERNEL_SOCKETS)

struct sock {
	int s;				   /* lwIP's socket */
	int type;			   /* LX_SOCK_STREAM or LX_SOCK_DGRAM */
	uint64_t rcvtimeo_ns, sndtimeo_ns; /* 0: none */
	int sndbuf;			   /* reported only (lwIP has no send buffer size) */
	int reuseport;			   /* reported only */
	bool connecting;		   /* a connect is in progress: a reset means refused */
};

static int task_sockets; /* open now, all tasks together */

/* Run one non-blocking lwIP call: its result, or the negated errno it set. */
#define CALL(expr)                                                                                 \
	({                                                                                         \
		errno = 0;                                                                         \
		long r_ = (long)(expr);                                                            \
		int e_ = errno;                                                                    \
		r_ < 0 ? -(long)(e_ ? e_ : EIO) : r_;                                              \
	})

static struct sock *sk(struct file *f) { return f->priv; }

/* lwIP's POLL bits from Linux's, and back. */
static short to_lwip_ev(int ev)
{
	short r = 0;
	if (ev & (LX_POLLIN | LX_POLLRDNORM))
		r |= POLLIN;
	if (ev & (LX_POLLOUT | LX_POLLWRNORM))
		r |= POLLOUT;
	return r;
}

static int from_lwip_ev(short ev)
{
	int r = 0;
	if (ev & POLLIN)
		r |= LX_POLLIN | LX_POLLRDNORM;
	if (ev & POLLOUT)
		r |= LX_POLLOUT | LX_POLLWRNORM;
	if (ev & POLLERR)
		r |= LX_POLLERR;
	if (ev & POLLHUP)
		r |= LX_POLLHUP;
	if (ev & POLLNVAL)
		r |= LX_POLLNVAL;
	return r;
}

static int ms_of(uint64_t ns) { return (int)((ns + NS_PER_MS - 1) / NS_PER_MS); }

int sock_wait(struct file **socks, const int *events, int n, uint64_t timeout_ns)
{
	struct pollfd one = {0}, *p = n == 1 ? &one : kmalloc(sizeof *p * (size_t)n);
	if (!p)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		p[i].fd = sk(socks[i])->s;
		p[i].events = to_lwip_ev(events[i]);
		p[i].revents = 0;
	}
	int r = lwip_poll(p, (nfds_t)n, timeout_ns ? ms_of(timeout_ns) : 0);
	if (p != &one)
		kfree(p);
	return r < 0 ? -EIO : 0;
}

/* Wait for ev (Linux POLL bits) on f until deadline (0: none): 0 to try again, -EINTR
 * (the task ended) or -EAGAIN (the deadline passed). */
static int wait_for(struct file *f, int ev, uint64_t deadline)
{
	for (;;) {
		if (fs_stop())
			return -EINTR;
		uint64_t now = time_ns();
		if (deadline && now >= deadline)
			return -EAGAIN;
		uint64_t slice = FS_WAIT_SLICE_NS;
		if (deadline && deadline - now < slice)
			slice = deadline - now;
		struct pollfd p = {sk(f)->s, to_lwip_ev(ev), 0};
		int r = lwip_poll(&p, 1, ms_of(slice));
		if (r != 0)
			return 0; /* ready, or an error the retried call will report */
	}
}

static uint64_t deadline_of(uint64_t timeout_ns) { return timeout_ns ? time_ns() + timeout_ns : 0; }

/* Linux sockaddr_in -> lwIP's. 0, -EINVAL (too short), -EAFNOSUPPORT. */
static int addr_in(const void *addr, size_t len, struct sockaddr_in *out)
{
	struct lx_sockaddr_in a;
	if (len < sizeof a)
		return -EINVAL;
	memcpy(&a, addr, sizeof a);
	if (a.sin_family != LX_AF_INET)
		return -EAFNOSUPPORT;
	memset(out, 0, sizeof *out);
	out->sin_len = sizeof *out;
	out->sin_family = AF_INET;
	out->sin_port = a.sin_port;
	out->sin_addr.s_addr = a.sin_addr;
	return 0;
}

static void addr_out(const struct sockaddr_in *in, struct lx_sockaddr_in *out)
{
	memset(out, 0, sizeof *out);
	out->sin_family = LX_AF_INET;
	out->sin_port = in->sin_port;
	out->sin_addr = in->sin_addr.s_addr;
}

static int set_nonblock(int s) { return (int)CALL(lwip_fcntl(s, F_SETFL, O_NONBLOCK)); }

static long s_read(struct file *f, struct fs_buf *b, int64_t *pos)
{
	char small[SMALL_IO];
	size_t n = b->len < FS_IO_CHUNK ? b->len : FS_IO_CHUNK;
	char *k = n <= sizeof small ? small : kmalloc(n);
	if (!k)
		return -ENOMEM;
	long r = sock_recv(f, k, n, 0, 0, 0);
	if (r > 0) {
		int e = buf_put(b, 0, k, (size_t)r);
		if (e < 0)
			r = e;
	}
	if (k != small)
		kfree(k);
	return r;
}

static long s_write(struct file *f, struct fs_buf *b, int64_t *pos)
{
	char small[SMALL_IO];
	size_t done = 0;
	long r = 0;
	size_t chunk = b->len < FS_IO_CHUNK ? b->len : FS_IO_CHUNK;
	char *k = chunk <= sizeof small ? small : kmalloc(chunk);
	if (!k)
		return -ENOMEM;
	while (done < b->len) {
		size_t n = b->len - done < chunk ? b->len - done : chunk;
		r = buf_get(b, done, k, n);
		if (r < 0)
			break;
		r = sock_send(f, k, n, 0, 0, 0);
		if (r <= 0)
			break;
		done += (size_t)r;
		if ((size_t)r < n || sk(f)->type != LX_SOCK_STREAM)
			break;
	}
	if (k != small)
		kfree(k);
	return done ? (long)done : r;
}

static int s_poll(struct file *f)
{
	struct pollfd p = {sk(f)->s, POLLIN | POLLOUT, 0};
	if (lwip_poll(&p, 1, 0) < 0)
		return LX_POLLERR;
	return from_lwip_ev(p.revents);
}

static int s_stat(struct file *f, struct lx_stat *st)
{
	st->st_dev = FS_DEV_PIPE;
	st->st_ino = (uint64_t)sk(f)->s;
	st->st_nlink = 1;
	st->st_mode = LX_S_IFSOCK | 0777;
	st->st_blksize = FS_BLKSIZE;
	return 0;
}

static long s_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
	if (cmd != LX_FIONREAD)
		return -ENOTTY;
	int n = 0;
	long r = CALL(lwip_ioctl(sk(f)->s, FIONREAD, &n));
	if (r < 0)
		return r;
	struct fs_buf b = {(char *)arg, sizeof n, true};
	return buf_put(&b, 0, &n, sizeof n);
}

/* A TCP close may wait for the stack; its errno is unused. */
static void s_release(struct file *f)
{
	lwip_close(sk(f)->s);
	kfree(f->priv);
	__atomic_sub_fetch(&task_sockets, 1, __ATOMIC_RELAXED);
}

static const struct file_ops ops = {
	.name = "socket",
	.mode = LX_S_IFSOCK,
	.read = s_read,
	.write = s_write,
	.stat = s_stat,
	.poll = s_poll,
	.ioctl = s_ioctl,
	.release = s_release,
};

bool file_is_sock(const struct file *f) { return f->ops == &ops; }

/* Count one more task socket: 0, or -ENFILE when tasks hold their share. */
static int reserve(void)
{
	if (__atomic_add_fetch(&task_sockets, 1, __ATOMIC_RELAXED) > TASK_SOCKETS_MAX) {
		__atomic_sub_fetch(&task_sockets, 1, __ATOMIC_RELAXED);
		return -ENFILE;
	}
	return 0;
}

/* A file for lwIP socket s, whose reservation it takes over (both undone on failure). */
static int wrap(int s, int type, int flags, struct file **out)
{
	struct sock *k = kzalloc(sizeof *k);
	struct file *f = k ? file_new(&ops, LX_O_RDWR | (flags & LX_O_NONBLOCK), k) : 0;
	if (!f) {
		kfree(k);
		lwip_close(s);
		__atomic_sub_fetch(&task_sockets, 1, __ATOMIC_RELAXED);
		return -ENOMEM;
	}
	k->s = s;
	k->type = type;
	k->sndbuf = DEFAULT_SNDBUF;
	*out = f;
	return 0;
}

int sock_create(int domain, int type, int proto, struct file **out)
{
	int kind = type & LX_SOCK_TYPE_MASK;
	if (type & ~(LX_SOCK_TYPE_MASK | LX_SOCK_NONBLOCK | LX_SOCK_CLOEXEC))
		return -EINVAL;
	if (domain != LX_AF_INET)
		return -EAFNOSUPPORT;
	if (kind == LX_SOCK_RAW)
		return -EPROTONOSUPPORT;
	if (kind != LX_SOCK_STREAM && kind != LX_SOCK_DGRAM)
		return -EINVAL;
	if (proto && proto != (kind == LX_SOCK_STREAM ? LX_IPPROTO_TCP : LX_IPPROTO_UDP))
		return -EPROTONOSUPPORT;
	int r = reserve();
	if (r < 0)
		return r;
	long s = CALL(lwip_socket(AF_INET, kind == LX_SOCK_STREAM ? SOCK_STREAM : SOCK_DGRAM, 0));
	if (s >= 0 && (r = set_nonblock((int)s)) < 0)
		lwip_close((int)s);
	if (s < 0 || r < 0) {
		__atomic_sub_fetch(&task_sockets, 1, __ATOMIC_RELAXED);
		return s == -ENOBUFS || s == -ENOMEM ? -ENFILE : s < 0 ? (int)s : r;
	}
	return wrap((int)s, kind, type, out);
}

int sock_bind(struct file *f, const void *addr, size_t len)
{
	struct sockaddr_in a;
	int r = addr_in(addr, len, &a);
	if (r < 0)
		return r;
	return (int)CALL(lwip_bind(sk(f)->s, (struct sockaddr *)&a, sizeof a));
}

int sock_listen(struct file *f, int backlog)
{
	if (sk(f)->type != LX_SOCK_STREAM)
		return -EOPNOTSUPP;
	if (backlog < 1)
		backlog = 1;
	if (backlog > BACKLOG_MAX)
		backlog = BACKLOG_MAX;
	return (int)CALL(lwip_listen(sk(f)->s, backlog));
}

int sock_accept(struct file *f, int flags, struct file **out, struct lx_sockaddr_in *peer)
{
	struct sock *k = sk(f);
	if (k->type != LX_SOCK_STREAM)
		return -EOPNOTSUPP;
	uint64_t deadline = deadline_of(k->rcvtimeo_ns);
	for (;;) {
		struct sockaddr_in a = {0};
		socklen_t al = sizeof a;
		int r = reserve();
		if (r < 0)
			return r; /* the connection stays queued until a socket is free */
		long s = CALL(lwip_accept(k->s, (struct sockaddr *)&a, &al));
		if (s < 0)
			__atomic_sub_fetch(&task_sockets, 1, __ATOMIC_RELAXED);
		if (s >= 0) {
			r = set_nonblock((int)s);
			if (r < 0) {
				lwip_close((int)s);
				__atomic_sub_fetch(&task_sockets, 1, __ATOMIC_RELAXED);
				return r;
			}
			if (peer)
				addr_out(&a, peer);
			return wrap((int)s, LX_SOCK_STREAM, flags, out);
		}
		if (s != -EAGAIN)
			return (int)s;
		if (file_nonblock(f))
			return -EAGAIN;
		int w = wait_for(f, LX_POLLIN, deadline);
		if (w < 0)
			return w;
	}
}

int sock_connect(struct file *f, const void *addr, size_t len)
{
	struct sock *k = sk(f);
	struct sockaddr_in a;
	int r = addr_in(addr, len, &a);
	if (r < 0)
		return r;
	r = (int)CALL(lwip_connect(k->s, (struct sockaddr *)&a, sizeof a));
	k->connecting = r == -EINPROGRESS;
	if (r != -EINPROGRESS || file_nonblock(f))
		return r == -ECONNRESET ? -ECONNREFUSED : r;
	/* Blocking connect: wait until writable (connected) or failed. */
	uint64_t deadline = deadline_of(k->sndtimeo_ns);
	for (;;) {
		int w = wait_for(f, LX_POLLOUT, deadline);
		if (w < 0)
			return w == -EAGAIN ? -EINPROGRESS : w;
		int err = 0;
		socklen_t el = sizeof err;
		CALL(lwip_getsockopt(k->s, SOL_SOCKET, SO_ERROR, &err, &el));
		if (err) {
			k->connecting = false;
			return err == ECONNRESET ? -ECONNREFUSED : -err;
		}
		struct sockaddr_in p;
		socklen_t pl = sizeof p;
		if (CALL(lwip_getpeername(k->s, (struct sockaddr *)&p, &pl)) == 0) {
			k->connecting = false;
			return 0;
		}
		if (s_poll(f) & LX_POLLERR) {
			k->connecting = false;
			return -ECONNREFUSED;
		}
	}
}

long sock_send(struct file *f, const void *buf, size_t len, int flags, const void *addr,
	       size_t alen)
{
	struct sock *k = sk(f);
	struct sockaddr_in a;
	if (addr) {
		int r = addr_in(addr, alen, &a);
		if (r < 0)
			return r;
	}
	int lf = MSG_DONTWAIT | (flags & LX_MSG_MORE ? MSG_MORE : 0);
	bool nb = file_nonblock(f) || (flags & LX_MSG_DONTWAIT);
	uint64_t deadline = deadline_of(k->sndtimeo_ns);
	size_t done = 0;
	for (;;) {
		const char *p = (const char *)buf + done;
		long r = addr ? CALL(lwip_sendto(k->s, p, len - done, lf, (struct sockaddr *)&a,
						 sizeof a))
			      : CALL(lwip_send(k->s, p, len - done, lf));
		if (r >= 0) {
			done += (size_t)r;
			if (done == len || k->type != LX_SOCK_STREAM || nb)
				return (long)done;
			continue;
		}
		if (r != -EAGAIN || nb)
			return done ? (long)done : r;
		int w = wait_for(f, LX_POLLOUT, deadline);
		if (w < 0)
			return done ? (long)done : w;
	}
}

long sock_recv(struct file *f, void *buf, size_t len, int flags, struct lx_sockaddr_in *from,
	       bool *truncated)
{
	struct sock *k = sk(f);
	int lf = MSG_DONTWAIT | (flags & LX_MSG_PEEK ? MSG_PEEK : 0);
	bool nb = file_nonblock(f) || (flags & LX_MSG_DONTWAIT);
	bool all = (flags & LX_MSG_WAITALL) && k->type == LX_SOCK_STREAM && !(flags & LX_MSG_PEEK);
	uint64_t deadline = deadline_of(k->rcvtimeo_ns);
	size_t done = 0;
	if (truncated)
		*truncated = false;
	for (;;) {
		struct sockaddr_in a = {0}; /* lwIP leaves it alone for TCP */
		struct iovec iov = {(char *)buf + done, len - done};
		struct msghdr m = {
			.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov, .msg_iovlen = 1};
		long r = CALL(lwip_recvmsg(k->s, &m, lf));
		if (r > (long)(len - done))
			r = (long)(len - done); /* lwIP answers a datagram's full length */
		if (r >= 0) {
			done += (size_t)r;
			if (from && m.msg_namelen >= sizeof a && a.sin_family == AF_INET)
				addr_out(&a, from);
			if (truncated && (m.msg_flags & MSG_TRUNC))
				*truncated = true;
			if (r == 0 || !all || done == len)
				return (long)done;
			continue;
		}
		if (r != -EAGAIN || nb)
			return done ? (long)done : r;
		int w = wait_for(f, LX_POLLIN, deadline);
		if (w < 0)
			return done ? (long)done : w;
	}
}

int sock_shutdown(struct file *f, int how)
{
	if (how < LX_SHUT_RD || how > LX_SHUT_RDWR)
		return -EINVAL;
	return (int)CALL(lwip_shutdown(sk(f)->s, how));
}

int sock_name(struct file *f, bool peer, struct lx_sockaddr_in *out)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof a;
	long r = peer ? CALL(lwip_getpeername(sk(f)->s, (struct sockaddr *)&a, &al))
		      : CALL(lwip_getsockname(sk(f)->s, (struct sockaddr *)&a, &al));
	if (r < 0)
		return (int)r;
	addr_out(&a, out);
	return 0;
}

/* Options lwIP implements: Linux's (level, name) -> lwIP's; false when it has none. */
static bool opt_map(int level, int name, int *ll, int *ln)
{
	static const struct {
		int level, name, llevel, lname;
	} map[] = {
		{LX_SOL_SOCKET, LX_SO_REUSEADDR, SOL_SOCKET, SO_REUSEADDR},
		{LX_SOL_SOCKET, LX_SO_KEEPALIVE, SOL_SOCKET, SO_KEEPALIVE},
		{LX_SOL_SOCKET, LX_SO_BROADCAST, SOL_SOCKET, SO_BROADCAST},
		{LX_SOL_SOCKET, LX_SO_RCVBUF, SOL_SOCKET, SO_RCVBUF},
		{LX_SOL_SOCKET, LX_SO_LINGER, SOL_SOCKET, SO_LINGER},
		{LX_SOL_SOCKET, LX_SO_ERROR, SOL_SOCKET, SO_ERROR},
		{LX_SOL_SOCKET, LX_SO_TYPE, SOL_SOCKET, SO_TYPE},
		{LX_SOL_SOCKET, LX_SO_ACCEPTCONN, SOL_SOCKET, SO_ACCEPTCONN},
		{LX_IPPROTO_TCP, LX_TCP_NODELAY, IPPROTO_TCP, TCP_NODELAY},
		{LX_IPPROTO_TCP, LX_TCP_KEEPIDLE, IPPROTO_TCP, TCP_KEEPIDLE},
		{LX_IPPROTO_TCP, LX_TCP_KEEPINTVL, IPPROTO_TCP, TCP_KEEPINTVL},
		{LX_IPPROTO_TCP, LX_TCP_KEEPCNT, IPPROTO_TCP, TCP_KEEPCNT},
		{LX_IPPROTO_IP, LX_IP_TOS, IPPROTO_IP, IP_TOS},
		{LX_IPPROTO_IP, LX_IP_TTL, IPPROTO_IP, IP_TTL},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (map[i].level == level && map[i].name == name) {
			*ll = map[i].llevel;
			*ln = map[i].lname;
			return true;
		}
	}
	return false;
}

static uint64_t tv_ns(const struct lx_timeval *tv)
{
	return (uint64_t)tv->tv_sec * NS_PER_S + (uint64_t)tv->tv_usec * NS_PER_US;
}

int sock_setopt(struct file *f, int level, int name, const void *val, size_t len)
{
	struct sock *k = sk(f);
	if (level == LX_SOL_SOCKET && (name == LX_SO_RCVTIMEO || name == LX_SO_SNDTIMEO)) {
		struct lx_timeval tv;
		if (len < sizeof tv)
			return -EINVAL;
		memcpy(&tv, val, sizeof tv);
		if (tv.tv_sec < 0 || tv.tv_usec < 0 ||
		    tv.tv_usec >= (int64_t)(NS_PER_S / NS_PER_US))
			return -EDOM;
		*(name == LX_SO_RCVTIMEO ? &k->rcvtimeo_ns : &k->sndtimeo_ns) = tv_ns(&tv);
		return 0;
	}
	int v = 0;
	if (len < sizeof v)
		return -EINVAL;
	memcpy(&v, val, sizeof v);
	if (level == LX_SOL_SOCKET) {
		switch (name) {
		case LX_SO_SNDBUF:
			k->sndbuf = v;
			return 0;
		case LX_SO_REUSEPORT: /* lwIP's SO_REUSEADDR allows what REUSEPORT would */
			k->reuseport = v != 0;
			if (v)
				return (int)CALL(lwip_setsockopt(k->s, SOL_SOCKET, SO_REUSEADDR, &v,
								 sizeof v));
			return 0;
		case LX_SO_RCVLOWAT:
		case LX_SO_SNDLOWAT:
			return v == 1 ? 0 : -ENOPROTOOPT; /* only the default */
		}
	}
	int ll, ln;
	if (!opt_map(level, name, &ll, &ln))
		return -ENOPROTOOPT;
	size_t sz = ln == SO_LINGER ? sizeof(struct lx_linger) : sizeof(int);
	if (len < sz)
		return -EINVAL;
	return (int)CALL(lwip_setsockopt(k->s, ll, ln, val, (socklen_t)sz));
}

int sock_getopt(struct file *f, int level, int name, void *val, size_t *len)
{
	struct sock *k = sk(f);
	if (level == LX_SOL_SOCKET && (name == LX_SO_RCVTIMEO || name == LX_SO_SNDTIMEO)) {
		uint64_t ns = name == LX_SO_RCVTIMEO ? k->rcvtimeo_ns : k->sndtimeo_ns;
		struct lx_timeval tv = {(int64_t)(ns / NS_PER_S),
					(int64_t)(ns % NS_PER_S / NS_PER_US)};
		if (*len < sizeof tv)
			return -EINVAL;
		memcpy(val, &tv, sizeof tv);
		*len = sizeof tv;
		return 0;
	}
	int v;
	if (*len < sizeof v)
		return -EINVAL;
	if (level == LX_SOL_SOCKET) {
		bool local = true;
		switch (name) {
		case LX_SO_SNDBUF:
			v = k->sndbuf;
			break;
		case LX_SO_REUSEPORT:
			v = k->reuseport;
			break;
		case LX_SO_RCVLOWAT:
		case LX_SO_SNDLOWAT:
			v = 1;
			break;
		case LX_SO_DOMAIN:
			v = LX_AF_INET;
			break;
		case LX_SO_PROTOCOL:
			v = k->type == LX_SOCK_STREAM ? LX_IPPROTO_TCP : LX_IPPROTO_UDP;
			break;
		case LX_SO_TYPE:
			v = k->type;
			break;
		default:
			local = false;
		}
		if (local) {
			memcpy(val, &v, sizeof v);
			*len = sizeof v;
			return 0;
		}
	}
	int ll, ln;
	if (!opt_map(level, name, &ll, &ln))
		return -ENOPROTOOPT;
	char out[sizeof(struct lx_linger)];
	socklen_t ol = ln == SO_LINGER ? sizeof(struct lx_linger) : sizeof(int);
	if (*len < ol)
		return -EINVAL;
	long r = CALL(lwip_getsockopt(k->s, ll, ln, out, &ol));
	if (r < 0)
		return (int)r;
	if (ln == SO_ERROR) {
		memcpy(&v, out, sizeof v);
		if (v == ECONNRESET && k->connecting)
			v = ECONNREFUSED; /* a reset answering our SYN */
		if (v)
			k->connecting = false;
		memcpy(out, &v, sizeof v);
	}
	memcpy(val, out, ol);
	*len = ol;
	return 0;
}
