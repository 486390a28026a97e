/* net.c: the socket system calls (socket, bind, listen, accept/accept4, connect, the
 * send and receive family, shutdown, the name and option calls) for AF_INET stream and
 * datagram sockets. Arguments are checked and copied here; kernel/fs/sock.c maps them
 * onto lwIP. Data moves through a kernel bounce buffer of at most FS_IO_CHUNK bytes
 * at a time: a larger stream send loops over chunks, a larger receive returns a short
 * count (as a stream may) unless MSG_WAITALL asks for all of it, and a datagram larger
 * than that is -EMSGSIZE. Ancillary data
 * (msg_control) is ignored on send and never returned. */
#include <errno.h>
#include <string.h>

#include "kernel/fs/vfs.h"
#include "kernel/heap.h"
#include "kernel/syscall.h"

#define ADDR_MAX 128 /* sizeof(struct sockaddr_storage): longest address accepted */
#define OPT_MAX 64   /* longest option value */
#define SMALL_IO 256 /* transfers this small bounce through the stack */

enum {
	NR_socket = 41,
	NR_connect = 42,
	NR_accept = 43,
	NR_sendto = 44,
	NR_recvfrom = 45,
	NR_sendmsg = 46,
	NR_recvmsg = 47,
	NR_shutdown = 48,
	NR_bind = 49,
	NR_listen = 50,
	NR_getsockname = 51,
	NR_getpeername = 52,
	NR_setsockopt = 54,
	NR_getsockopt = 55,
	NR_accept4 = 288,
};

static void *uptr(long a) { return (void *)(uintptr_t)a; }

/* The socket behind fd, with a reference: 0, -EBADF or -ENOTSOCK. */
static int get_sock(long fd, struct file **out)
{
	if (fd < 0 || fd >= FS_FDS_MAX)
		return -EBADF;
	struct file *f = fd_get(fd_table(), (int)fd);
	if (!f)
		return -EBADF;
	if (!file_is_sock(f)) {
		file_put(f);
		return -ENOTSOCK;
	}
	*out = f;
	return 0;
}

/* A sockaddr from the task into a (ADDR_MAX bytes): 0, -EINVAL, -EFAULT. */
static int get_addr(long uaddr, long len, void *a)
{
	if (len < 0 || len > ADDR_MAX)
		return -EINVAL;
	return copy_from_user(a, uptr(uaddr), (size_t)len);
}

/* Return an address the Linux way: *ulen says the room, gets the full size. */
static int put_addr(long uaddr, long ulen, const struct lx_sockaddr_in *a)
{
	if (!uaddr)
		return 0;
	int32_t room;
	int r = copy_from_user(&room, uptr(ulen), sizeof room);
	if (r < 0)
		return r;
	if (room < 0)
		return -EINVAL;
	size_t n = (size_t)room < sizeof *a ? (size_t)room : sizeof *a;
	r = copy_to_user(uptr(uaddr), a, n);
	int32_t full = sizeof *a;
	return r < 0 ? r : copy_to_user(uptr(ulen), &full, sizeof full);
}

static size_t iov_total(const struct lx_iovec *iov, int n)
{
	size_t t = 0;
	for (int i = 0; i < n; i++)
		t += iov[i].len;
	return t;
}

/* Copy len bytes at offset off of the iovec sequence into k (gather) or from k into it
 * (scatter). 0 or -EFAULT. */
static int iov_copy(const struct lx_iovec *iov, int n, size_t off, char *k, size_t len, bool gather)
{
	for (int i = 0; i < n && len; i++) {
		if (off >= iov[i].len) {
			off -= iov[i].len;
			continue;
		}
		size_t m = iov[i].len - off;
		if (m > len)
			m = len;
		void *u = uptr((long)(iov[i].base + off));
		int r = gather ? copy_from_user(k, u, m) : copy_to_user(u, k, m);
		if (r < 0)
			return r;
		k += m;
		len -= m;
		off = 0;
	}
	return 0;
}

long net_sendv(struct file *f, const struct lx_iovec *iov, int n, int flags, const void *addr,
	       size_t alen)
{
	size_t total = iov_total(iov, n);
	int type = 0;
	size_t tl = sizeof type;
	if (sock_getopt(f, LX_SOL_SOCKET, LX_SO_TYPE, &type, &tl) < 0)
		return -ENOTSOCK;
	if (type != LX_SOCK_STREAM && total > FS_IO_CHUNK)
		return -EMSGSIZE;
	char small[SMALL_IO];
	size_t chunk = total < FS_IO_CHUNK ? total : FS_IO_CHUNK;
	char *k = chunk <= sizeof small ? small : kmalloc(chunk);
	if (!k)
		return -ENOMEM;
	size_t done = 0;
	long r = 0;
	do {
		size_t m = total - done < chunk ? total - done : chunk;
		r = iov_copy(iov, n, done, k, m, true);
		if (r < 0)
			break;
		r = sock_send(f, k, m, flags, addr, alen);
		if (r < 0)
			break;
		done += (size_t)r;
		if ((size_t)r < m)
			break;
	} while (done < total);
	if (k != small)
		kfree(k);
	return done ? (long)done : r;
}

long net_recvv(struct file *f, const struct lx_iovec *iov, int n, int flags,
	       struct lx_sockaddr_in *from, bool *truncated)
{
	size_t total = iov_total(iov, n);
	char small[SMALL_IO];
	size_t chunk = total < FS_IO_CHUNK ? total : FS_IO_CHUNK;
	char *k = chunk <= sizeof small ? small : kmalloc(chunk);
	if (!k)
		return -ENOMEM;
	/* One receive; with MSG_WAITALL on a stream, chunk after chunk until all is in. */
	int type = 0;
	size_t tl = sizeof type;
	sock_getopt(f, LX_SOL_SOCKET, LX_SO_TYPE, &type, &tl);
	bool all = (flags & LX_MSG_WAITALL) && !(flags & LX_MSG_PEEK) && type == LX_SOCK_STREAM;
	size_t done = 0;
	long r;
	do {
		size_t m = total - done < chunk ? total - done : chunk;
		r = sock_recv(f, k, m, flags, from, truncated);
		if (r <= 0)
			break;
		int e = iov_copy(iov, n, done, k, (size_t)r, false);
		if (e < 0) {
			r = e;
			break;
		}
		done += (size_t)r;
		if ((size_t)r < m)
			break;
	} while (all && done < total);
	if (k != small)
		kfree(k);
	return done ? (long)done : r;
}

static long sys_socket(long domain, long type, long proto, long a3, long a4, long a5)
{
	struct fdtable *ft = fd_table();
	if (!ft)
		return -EBADF;
	struct file *f;
	int r = sock_create((int)domain, (int)type, (int)proto, &f);
	if (r < 0)
		return r;
	r = fd_install(ft, f, 0, type & LX_SOCK_CLOEXEC);
	if (r < 0)
		file_put(f);
	return r;
}
SYSCALL_DEFINE(NR_socket, sys_socket);

/* bind and connect: a socket and an address copied in from the task. */
static long addr_call(long fd, long uaddr, long len,
		      int (*op)(struct file *f, const void *addr, size_t len))
{
	char a[ADDR_MAX] = {0};
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	r = get_addr(uaddr, len, a);
	if (r == 0)
		r = op(f, a, (size_t)len);
	file_put(f);
	return r;
}

static long sys_bind(long fd, long uaddr, long len, long a3, long a4, long a5)
{
	return addr_call(fd, uaddr, len, sock_bind);
}
SYSCALL_DEFINE(NR_bind, sys_bind);

static long sys_connect(long fd, long uaddr, long len, long a3, long a4, long a5)
{
	return addr_call(fd, uaddr, len, sock_connect);
}
SYSCALL_DEFINE(NR_connect, sys_connect);

static long sys_listen(long fd, long backlog, long a2, long a3, long a4, long a5)
{
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	r = sock_listen(f, (int)backlog);
	file_put(f);
	return r;
}
SYSCALL_DEFINE(NR_listen, sys_listen);

static long do_accept(long fd, long uaddr, long ulen, long flags)
{
	if (flags & ~(long)(LX_SOCK_NONBLOCK | LX_SOCK_CLOEXEC))
		return -EINVAL;
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	if (uaddr) { /* Linux checks the length before it waits */
		int32_t room;
		r = copy_from_user(&room, uptr(ulen), sizeof room);
		if (r == 0 && room < 0)
			r = -EINVAL;
	}
	struct file *nf = 0;
	struct lx_sockaddr_in peer;
	if (r == 0)
		r = sock_accept(f, (int)flags, &nf, &peer);
	file_put(f);
	if (r < 0)
		return r;
	r = put_addr(uaddr, ulen, &peer);
	if (r == 0)
		r = fd_install(fd_table(), nf, 0, flags & LX_SOCK_CLOEXEC);
	if (r < 0)
		file_put(nf);
	return r;
}

static long sys_accept(long fd, long uaddr, long ulen, long a3, long a4, long a5)
{
	return do_accept(fd, uaddr, ulen, 0);
}
SYSCALL_DEFINE(NR_accept, sys_accept);

static long sys_accept4(long fd, long uaddr, long ulen, long flags, long a4, long a5)
{
	return do_accept(fd, uaddr, ulen, flags);
}
SYSCALL_DEFINE(NR_accept4, sys_accept4);

static long sys_sendto(long fd, long buf, long len, long flags, long uaddr, long alen)
{
	char a[ADDR_MAX] = {0};
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	long n = len < 0 ? -EINVAL : 0;
	if (n == 0 && uaddr)
		n = get_addr(uaddr, alen, a);
	if (n == 0) {
		struct lx_iovec v = {(uint64_t)buf, (uint64_t)len};
		n = net_sendv(f, &v, 1, (int)flags, uaddr ? a : 0, (size_t)alen);
	}
	file_put(f);
	return n;
}
SYSCALL_DEFINE(NR_sendto, sys_sendto);

static long sys_recvfrom(long fd, long buf, long len, long flags, long uaddr, long ulen)
{
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	long n = len < 0 ? -EINVAL : 0;
	struct lx_sockaddr_in from = {0};
	if (n == 0) {
		struct lx_iovec v = {(uint64_t)buf, (uint64_t)len};
		n = net_recvv(f, &v, 1, (int)flags, &from, 0);
	}
	file_put(f);
	if (n >= 0 && uaddr && from.sin_family) {
		int e = put_addr(uaddr, ulen, &from);
		if (e < 0)
			return e;
	}
	return n;
}
SYSCALL_DEFINE(NR_recvfrom, sys_recvfrom);

/* A msghdr's iovecs from the task: *out (kfree it), or -EINVAL, -EFAULT, -ENOMEM. */
static int get_msg_iov(const struct lx_msghdr *m, struct lx_iovec **out)
{
	if (m->msg_iovlen > LX_IOV_MAX)
		return -EMSGSIZE;
	size_t n = (size_t)m->msg_iovlen;
	struct lx_iovec *v = kmalloc(sizeof *v * (n ? n : 1));
	if (!v)
		return -ENOMEM;
	int r = copy_from_user(v, uptr((long)m->msg_iov), sizeof *v * n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (v[i].len > (uint64_t)INT64_MAX)
			r = -EINVAL;
	if (r < 0) {
		kfree(v);
		return r;
	}
	*out = v;
	return 0;
}

static long sys_sendmsg(long fd, long umsg, long flags, long a3, long a4, long a5)
{
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	struct lx_msghdr m;
	struct lx_iovec *v = 0;
	char a[ADDR_MAX] = {0};
	long n = copy_from_user(&m, uptr(umsg), sizeof m);
	if (n == 0 && m.msg_name)
		n = get_addr((long)m.msg_name, m.msg_namelen, a);
	if (n == 0)
		n = get_msg_iov(&m, &v);
	if (n == 0)
		n = net_sendv(f, v, (int)m.msg_iovlen, (int)flags, m.msg_name ? a : 0,
			      m.msg_namelen);
	kfree(v);
	file_put(f);
	return n;
}
SYSCALL_DEFINE(NR_sendmsg, sys_sendmsg);

static long sys_recvmsg(long fd, long umsg, long flags, long a3, long a4, long a5)
{
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	struct lx_msghdr m;
	struct lx_iovec *v = 0;
	struct lx_sockaddr_in from = {0};
	bool trunc = false;
	long n = copy_from_user(&m, uptr(umsg), sizeof m);
	if (n == 0 && (int32_t)m.msg_namelen < 0)
		n = -EINVAL;
	if (n == 0)
		n = get_msg_iov(&m, &v);
	if (n == 0)
		n = net_recvv(f, v, (int)m.msg_iovlen, (int)flags, &from, &trunc);
	kfree(v);
	file_put(f);
	if (n < 0)
		return n;
	if (m.msg_name) {
		size_t room = m.msg_namelen < sizeof from ? m.msg_namelen : sizeof from;
		int e = from.sin_family ? copy_to_user(uptr((long)m.msg_name), &from, room) : 0;
		if (e < 0)
			return e;
		m.msg_namelen = from.sin_family ? sizeof from : 0;
	}
	m.msg_controllen = 0;
	m.msg_flags = trunc ? LX_MSG_TRUNC : 0;
	int e = copy_to_user(uptr(umsg), &m, sizeof m);
	return e < 0 ? e : n;
}
SYSCALL_DEFINE(NR_recvmsg, sys_recvmsg);

static long sys_shutdown(long fd, long how, long a2, long a3, long a4, long a5)
{
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	r = sock_shutdown(f, (int)how);
	file_put(f);
	return r;
}
SYSCALL_DEFINE(NR_shutdown, sys_shutdown);

static long get_name(long fd, long uaddr, long ulen, bool peer)
{
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	struct lx_sockaddr_in a;
	r = sock_name(f, peer, &a);
	file_put(f);
	if (r < 0)
		return r;
	if (!uaddr)
		return -EFAULT;
	return put_addr(uaddr, ulen, &a);
}

static long sys_getsockname(long fd, long uaddr, long ulen, long a3, long a4, long a5)
{
	return get_name(fd, uaddr, ulen, false);
}
SYSCALL_DEFINE(NR_getsockname, sys_getsockname);

static long sys_getpeername(long fd, long uaddr, long ulen, long a3, long a4, long a5)
{
	return get_name(fd, uaddr, ulen, true);
}
SYSCALL_DEFINE(NR_getpeername, sys_getpeername);

static long sys_setsockopt(long fd, long level, long name, long uval, long len, long a5)
{
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	char v[OPT_MAX] = {0};
	if (len < 0)
		r = -EINVAL;
	else
		r = copy_from_user(v, uptr(uval), (size_t)(len < OPT_MAX ? len : OPT_MAX));
	if (r == 0)
		r = sock_setopt(f, (int)level, (int)name, v, (size_t)len);
	file_put(f);
	return r;
}
SYSCALL_DEFINE(NR_setsockopt, sys_setsockopt);

static long sys_getsockopt(long fd, long level, long name, long uval, long ulen, long a5)
{
	struct file *f;
	int r = get_sock(fd, &f);
	if (r < 0)
		return r;
	int32_t room;
	char v[OPT_MAX];
	size_t len = sizeof v;
	r = copy_from_user(&room, uptr(ulen), sizeof room);
	if (r == 0 && room < 0)
		r = -EINVAL;
	if (r == 0)
		r = sock_getopt(f, (int)level, (int)name, v, &len);
	file_put(f);
	if (r < 0)
		return r;
	size_t n = (size_t)room < len ? (size_t)room : len;
	r = copy_to_user(uptr(uval), v, n);
	int32_t out = (int32_t)n;
	return r < 0 ? r : copy_to_user(uptr(ulen), &out, sizeof out);
}
SYSCALL_DEFINE(NR_getsockopt, sys_getsockopt);
