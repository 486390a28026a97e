/* poll.c: poll, ppoll, select and pselect6 over any mix of files, pipes and sockets.
 *
 * Each round asks every file what is ready now (its ops' poll). When nothing is and
 * time remains, the thread sleeps until something may have changed: pipes bump the fs
 * wake generation (fs_wake), sockets wake lwip_poll. With no socket
 * in the set it waits on the generation alone; with only sockets, in lwip_poll alone;
 * with both, in lwip_poll for at most MIXED_SLICE_NS at a time, so a pipe's change is
 * seen within that. Every wait is also cut at FS_WAIT_SLICE_NS to notice a killed
 * task. The signal masks of ppoll and pselect6 are accepted and ignored (tasks get no
 * signal delivery); the remaining time is not written back to the timeout. */
#include <errno.h>
#include <string.h>

#include "kernel/fs/vfs.h"
#include "kernel/heap.h"
#include "kernel/syscall.h"
#include "kernel/time.h"

#define POLL_MAX FS_FDS_MAX * 16  /* entries in one call (fds may repeat) */
#define MIXED_SLICE_NS 5000000ULL /* 5 ms */
#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define NS_PER_US 1000LL
#define FOREVER UINT64_MAX
#define ALWAYS (LX_POLLERR | LX_POLLHUP | LX_POLLNVAL) /* reported even if not asked */

enum { NR_poll = 7, NR_select = 23, NR_pselect6 = 270, NR_ppoll = 271 };

static void *uptr(long a) { return (void *)(uintptr_t)a; }

static int ready_now(struct file *f)
{
	if (f->ops->poll)
		return f->ops->poll(f);
	int ev = 0; /* files that never block */
	if (file_readable(f))
		ev |= LX_POLLIN | LX_POLLRDNORM;
	if (file_writable(f))
		ev |= LX_POLLOUT | LX_POLLWRNORM;
	return ev;
}

/* Fill revents; the number of entries with any. */
static int scan(struct lx_pollfd *p, struct file **files, size_t n)
{
	int ready = 0;
	for (size_t i = 0; i < n; i++) {
		p[i].revents = 0;
		if (p[i].fd < 0)
			continue;
		int ev = files[i] ? ready_now(files[i]) : LX_POLLNVAL;
		p[i].revents = (int16_t)(ev & (p[i].events | ALWAYS));
		if (p[i].revents)
			ready++;
	}
	return ready;
}

/* Wait on the n entries of p (kernel memory) until one is ready, timeout_ns passes
 * (FOREVER: never) or the task ends; revents filled. The ready count, or -EINTR,
 * -ENOMEM. */
static long wait_any(struct lx_pollfd *p, size_t n, uint64_t timeout_ns)
{
	struct fdtable *ft = fd_table();
	struct file **files = kzalloc(sizeof *files * (n ? n : 1));
	struct file **socks = kmalloc(sizeof *socks * (n ? n : 1));
	int *sev = kmalloc(sizeof *sev * (n ? n : 1));
	long r = files && socks && sev ? 0 : -ENOMEM;
	int nsocks = 0;
	bool others = false;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (p[i].fd < 0 || !(files[i] = fd_get(ft, p[i].fd)))
			continue;
		if (file_is_sock(files[i])) {
			socks[nsocks] = files[i];
			sev[nsocks++] = p[i].events;
		} else {
			others = true;
		}
	}
	uint64_t start = time_ns();
	while (r == 0) {
		uint64_t gen = fs_wake_gen();
		int ready = scan(p, files, n);
		if (ready) {
			r = ready;
			break;
		}
		uint64_t now = time_ns();
		if (timeout_ns != FOREVER && now - start >= timeout_ns)
			break;
		if (fs_stop()) {
			r = -EINTR;
			break;
		}
		uint64_t slice = FS_WAIT_SLICE_NS;
		if (timeout_ns != FOREVER && timeout_ns - (now - start) < slice)
			slice = timeout_ns - (now - start);
		if (nsocks && others && slice > MIXED_SLICE_NS)
			slice = MIXED_SLICE_NS;
		if (nsocks)
			sock_wait(socks, sev, nsocks, slice);
		else
			fs_wait_gen(gen, slice);
	}
	for (size_t i = 0; files && i < n; i++)
		if (files[i])
			file_put(files[i]);
	kfree(files);
	kfree(socks);
	kfree(sev);
	return r;
}

static long do_poll(long ufds, long nfds, uint64_t timeout_ns)
{
	if (nfds < 0 || nfds > POLL_MAX)
		return -EINVAL;
	size_t n = (size_t)nfds;
	struct lx_pollfd *p = kmalloc(sizeof *p * (n ? n : 1));
	if (!p)
		return -ENOMEM;
	long r = copy_from_user(p, uptr(ufds), sizeof *p * n);
	if (r == 0)
		r = wait_any(p, n, timeout_ns);
	/* Write back revents only, as Linux does. */
	for (size_t i = 0; r >= 0 && i < n; i++) {
		int e = copy_to_user(&((struct lx_pollfd *)uptr(ufds))[i].revents, &p[i].revents,
				     sizeof p[i].revents);
		if (e < 0)
			r = e;
	}
	kfree(p);
	return r;
}

static long sys_poll(long fds, long nfds, long timeout_ms, long a3, long a4, long a5)
{
	int t = (int)timeout_ms;
	return do_poll(fds, nfds, t < 0 ? FOREVER : (uint64_t)t * NS_PER_MS);
}
SYSCALL_DEFINE(NR_poll, sys_poll);

/* A timespec timeout from the task: 0 and *ns, or -EFAULT/-EINVAL. */
static int get_timespec(long uts, uint64_t *ns)
{
	struct lx_timespec ts;
	int r = copy_from_user(&ts, uptr(uts), sizeof ts);
	if (r < 0)
		return r;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NS_PER_S)
		return -EINVAL;
	*ns = ts.tv_sec >= (int64_t)(FOREVER / NS_PER_S / 2)
		      ? FOREVER
		      : (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
	return 0;
}

static long sys_ppoll(long fds, long nfds, long uts, long sigmask, long sigsetsize, long a5)
{
	uint64_t timeout = FOREVER;
	if (uts) {
		int r = get_timespec(uts, &timeout);
		if (r < 0)
			return r;
	}
	return do_poll(fds, nfds, timeout);
}
SYSCALL_DEFINE(NR_ppoll, sys_ppoll);

/* select and pselect6: the fd sets become poll entries (readable: POLLIN, writable:
 * POLLOUT, exceptional: POLLPRI) and back; a set fd that is not open is -EBADF. */
#define SET_WORDS (FS_FDS_MAX / 64)
#define SEL_IN (LX_POLLIN | LX_POLLRDNORM | LX_POLLHUP | LX_POLLERR)
#define SEL_OUT (LX_POLLOUT | LX_POLLWRNORM | LX_POLLERR)
#define SEL_EX LX_POLLPRI

static long do_select(long nfds, long urd, long uwr, long uex, uint64_t timeout_ns)
{
	if (nfds < 0)
		return -EINVAL;
	if (nfds > FS_FDS_MAX)
		nfds = FS_FDS_MAX; /* no fd above the table's size can be open */
	uint64_t sets[3][SET_WORDS] = {{0}};
	long uset[3] = {urd, uwr, uex};
	size_t words = ((size_t)nfds + 63) / 64;
	for (int k = 0; k < 3; k++) {
		if (!uset[k])
			continue;
		int r = copy_from_user(sets[k], uptr(uset[k]), words * sizeof(uint64_t));
		if (r < 0)
			return r;
	}
	struct lx_pollfd *p = kmalloc(sizeof *p * (size_t)(nfds ? nfds : 1));
	if (!p)
		return -ENOMEM;
	size_t n = 0;
	long r = 0;
	struct fdtable *ft = fd_table();
	for (int fd = 0; fd < nfds; fd++) {
		uint64_t bit = 1ULL << (fd % 64);
		bool rd = sets[0][fd / 64] & bit, wr = sets[1][fd / 64] & bit,
		     ex = sets[2][fd / 64] & bit;
		if (!rd && !wr && !ex)
			continue;
		struct file *f = fd_get(ft, fd);
		if (!f) {
			r = -EBADF;
			break;
		}
		file_put(f);
		p[n].fd = fd;
		p[n].events = (int16_t)((rd ? LX_POLLIN : 0) | (wr ? LX_POLLOUT : 0) |
					(ex ? LX_POLLPRI : 0));
		n++;
	}
	if (r == 0)
		r = wait_any(p, n, timeout_ns);
	if (r >= 0) {
		long count = 0;
		memset(sets, 0, sizeof sets);
		for (size_t i = 0; i < n; i++) {
			int fd = p[i].fd, ev = p[i].revents;
			uint64_t bit = 1ULL << (fd % 64);
			const int want[3] = {SEL_IN, SEL_OUT, SEL_EX};
			const int asked[3] = {LX_POLLIN, LX_POLLOUT, LX_POLLPRI};
			for (int k = 0; k < 3; k++) {
				if ((p[i].events & asked[k]) && (ev & want[k])) {
					sets[k][fd / 64] |= bit;
					count++;
				}
			}
		}
		r = count;
		for (int k = 0; k < 3; k++) {
			if (!uset[k])
				continue;
			int e = copy_to_user(uptr(uset[k]), sets[k], words * sizeof(uint64_t));
			if (e < 0) {
				r = e;
				break;
			}
		}
	}
	kfree(p);
	return r;
}

static long sys_select(long nfds, long rd, long wr, long ex, long utv, long a5)
{
	uint64_t timeout = FOREVER;
	if (utv) {
		struct lx_timeval tv;
		int r = copy_from_user(&tv, uptr(utv), sizeof tv);
		if (r < 0)
			return r;
		if (tv.tv_sec < 0 || tv.tv_usec < 0)
			return -EINVAL;
		/* Linux folds excess microseconds into seconds. */
		timeout =
			tv.tv_sec >= (int64_t)(FOREVER / NS_PER_S / 2)
				? FOREVER
				: (uint64_t)tv.tv_sec * NS_PER_S + (uint64_t)tv.tv_usec * NS_PER_US;
	}
	return do_select(nfds, rd, wr, ex, timeout);
}
SYSCALL_DEFINE(NR_select, sys_select);

static long sys_pselect6(long nfds, long rd, long wr, long ex, long uts, long usig)
{
	uint64_t timeout = FOREVER;
	if (uts) {
		int r = get_timespec(uts, &timeout);
		if (r < 0)
			return r;
	}
	return do_select(nfds, rd, wr, ex, timeout);
}
SYSCALL_DEFINE(NR_pselect6, sys_pselect6);
