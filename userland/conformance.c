/* conformance.c: checks the results of each system call shoal serves against what Linux
 * does, from inside a task. Calls go through syscall() where musl's wrapper would hide
 * the raw result. One line per failed check ("FAIL group: what (got ...)"), then
 * "conformance: N passed, M failed"; the exit status is the number of failures (capped
 * at 125). It runs unchanged on Linux, where it must pass too. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define STATUS_MAX 125	     /* exit statuses above this mean signals to a shell */
#define SYS_UNKNOWN 1000     /* no Linux call has this number */
#define ARCH_GET_FS 0x1003   /* arch_prctl code (asm/prctl.h) */
#define SLEEP_NS 20000000ull /* 20 ms */
#define SLEEP_SLACK_NS (5 * NS_PER_SEC)
#define TMP_FILE "/tmp/conformance.txt"
#define PROGRAM "/bin/hello" /* a file every shoal archive has; argv[1] overrides */

static int passed, failed;
static const char *group;
static const char *program = PROGRAM;

/* check(cond, what, fmt, ...): count cond; on failure print what and the detail. */
static void check(int ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s: %s", group, what);
	if (fmt) {
		printf(" (");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf(")");
	}
	printf("\n");
}

/* A call that must succeed (r >= 0), and one that must fail with errno e; each takes
 * the call's result, so the call runs once. */
static void ok(long r, const char *what)
{
	check(r >= 0, what, "returned %ld, errno %d %s", r, errno, strerror(errno));
}

static void err(long r, int e, const char *ename, const char *what)
{
	int got = errno;
	check(r == -1 && got == e, what, "returned %ld, errno %d %s, want %s", r, got,
	      strerror(got), ename);
}

#define OK(r, what) ok((long)(r), what)
#define ERR(r, e, what) err((long)(r), e, #e, what)

static void files(void)
{
	char buf[64];
	struct stat st, st2;
	long r;
	int fd;

	group = "files";
	r = write(1, "conformance: start\n", 19);
	check(r == 19, "write to stdout", "returned %ld", r);
	fd = openat(AT_FDCWD, program, O_RDONLY | O_CLOEXEC);
	OK(fd, "openat the program");
	if (fd >= 0) {
		r = read(fd, buf, 4);
		check(r == 4 && !memcmp(buf, "\177ELF", 4), "read the ELF magic", "returned %ld",
		      r);
		OK(fstat(fd, &st), "fstat");
		check(S_ISREG(st.st_mode) && st.st_size > 4, "fstat: a regular file with a size",
		      "mode %o size %ld", st.st_mode, (long)st.st_size);
		r = lseek(fd, 0, SEEK_END);
		check(r == st.st_size, "lseek SEEK_END gives the size", "returned %ld", r);
		r = lseek(fd, 1, SEEK_SET);
		check(r == 1, "lseek SEEK_SET", "returned %ld", r);
		r = read(fd, buf, 3);
		check(r == 3 && !memcmp(buf, "ELF", 3), "read after lseek", "returned %ld", r);
		r = lseek(fd, 0, SEEK_END);
		r = read(fd, buf, sizeof(buf));
		check(r == 0, "read at the end gives 0", "returned %ld", r);
		ERR(lseek(fd, -1, SEEK_SET), EINVAL, "lseek before the start");
		OK(fstatat(AT_FDCWD, program, &st2, 0), "newfstatat the program");
		check(st2.st_size == st.st_size, "newfstatat and fstat agree", "%ld vs %ld",
		      (long)st2.st_size, (long)st.st_size);
		OK(close(fd), "close");
	}
	ERR(close(fd), EBADF, "close twice");
	ERR(read(-1, buf, 1), EBADF, "read from fd -1");
	ERR(open("/no/such/file", O_RDONLY), ENOENT, "open a missing file");
	fd = open(program, O_WRONLY);
	check(fd < 0 && (errno == EROFS || errno == EACCES), "the tree is read-only",
	      "open O_WRONLY returned %d, errno %d", fd, errno);
	if (fd >= 0)
		close(fd);
	OK(stat("/bin", &st), "stat /bin");
	check(S_ISDIR(st.st_mode), "/bin is a directory", "mode %o", st.st_mode);
	char *cwd = getcwd(buf, sizeof(buf));
	check(cwd && !strcmp(cwd, "/"), "getcwd is /", "got %s", cwd ? cwd : strerror(errno));

	/* A writable /tmp: write, read back, size. */
	char data[100];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	fd = open(TMP_FILE, O_CREAT | O_RDWR | O_TRUNC, 0644);
	OK(fd, "create " TMP_FILE);
	if (fd >= 0) {
		r = write(fd, data, sizeof(data));
		check(r == sizeof(data), "write to /tmp", "returned %ld", r);
		check(lseek(fd, 0, SEEK_SET) == 0, "lseek /tmp file", NULL);
		char back[sizeof(data)];
		r = read(fd, back, sizeof(back));
		check(r == sizeof(back) && !memcmp(back, data, sizeof(data)), "read back from /tmp",
		      "returned %ld", r);
		OK(fstat(fd, &st), "fstat /tmp file");
		check(st.st_size == sizeof(data), "/tmp file size", "%ld", (long)st.st_size);
		close(fd);
		fd = open(TMP_FILE, O_RDONLY);
		r = fd >= 0 ? read(fd, back, sizeof(back)) : -1;
		check(r == sizeof(back) && !memcmp(back, data, sizeof(data)), "reopen /tmp file",
		      "returned %ld", r);
		if (fd >= 0)
			close(fd);
	}
}

static void pipes(void)
{
	int p[2], q[2], d;
	char buf[16];
	long r;

	group = "pipes";
	OK(pipe2(p, O_CLOEXEC), "pipe2");
	r = write(p[1], "hello", 5);
	check(r == 5, "write to a pipe", "returned %ld", r);
	r = read(p[0], buf, sizeof(buf));
	check(r == 5 && !memcmp(buf, "hello", 5), "read from a pipe", "returned %ld", r);

	d = dup(p[1]);
	check(d > 2 && d != p[0] && d != p[1], "dup gives a new fd", "got %d", d);
	r = write(d, "x", 1);
	check(r == 1 && read(p[0], buf, 1) == 1 && buf[0] == 'x', "write through a dup", NULL);
	r = dup2(d, 100);
	check(r == 100, "dup2 to 100", "returned %ld", r);
	r = dup3(100, 100, 0);
	check(r == -1 && errno == EINVAL, "dup3 to itself is EINVAL", "returned %ld", r);
	OK(close(100), "close the dup2");
	OK(close(d), "close the dup");

	struct iovec iov[2] = {{.iov_base = "ab", .iov_len = 2}, {.iov_base = "cde", .iov_len = 3}};
	r = writev(p[1], iov, 2);
	check(r == 5, "writev", "returned %ld", r);
	char x[2], y[3];
	struct iovec in[2] = {{.iov_base = x, .iov_len = 2}, {.iov_base = y, .iov_len = 3}};
	r = readv(p[0], in, 2);
	check(r == 5 && !memcmp(x, "ab", 2) && !memcmp(y, "cde", 3), "readv", "returned %ld", r);

	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	r = poll(&pf, 1, 0);
	check(r == 0, "poll on an empty pipe times out", "returned %ld", r);
	r = write(p[1], "z", 1);
	pf.revents = 0;
	r = poll(&pf, 1, 1000);
	check(r == 1 && (pf.revents & POLLIN), "poll sees data", "returned %ld revents %x", r,
	      pf.revents);
	struct timespec ts = {0, 0};
	pf.revents = 0;
	r = ppoll(&pf, 1, &ts, NULL);
	check(r == 1 && (pf.revents & POLLIN), "ppoll sees data", "returned %ld", r);
	read(p[0], buf, 1);
	close(p[1]);
	r = read(p[0], buf, 1);
	check(r == 0, "read after the writer closed gives EOF", "returned %ld", r);
	close(p[0]);

	/* Linux would also send SIGPIPE; ignoring it leaves just the EPIPE to check. */
	signal(SIGPIPE, SIG_IGN);
	OK(pipe2(q, O_NONBLOCK), "pipe2 O_NONBLOCK");
	ERR(read(q[0], buf, 1), EAGAIN, "empty non-blocking pipe");
	close(q[0]);
	r = write(q[1], "x", 1);
	check(r == -1 && errno == EPIPE, "write with no reader is EPIPE", "returned %ld errno %d",
	      r, errno);
	close(q[1]);
	ERR(ioctl(1, TIOCGWINSZ, &(struct winsize){0}), ENOTTY, "ioctl TIOCGWINSZ");
}

static void memory(void)
{
	long page = sysconf(_SC_PAGESIZE);
	long r;

	group = "memory";
	check(page == 4096, "page size 4096", "got %ld", page);
	char *cur = (char *)syscall(SYS_brk, 0);
	check(cur != NULL, "brk(0) gives the break", NULL);
	char *want = cur + 16 * page;
	char *got = (char *)syscall(SYS_brk, want);
	check(got == want, "brk grows", "asked %p got %p", (void *)want, (void *)got);
	if (got == want) {
		memset(cur, 0x5a, (size_t)(want - cur));
		check(cur[16 * page - 1] == 0x5a, "the new break is usable", NULL);
		got = (char *)syscall(SYS_brk, cur);
		check(got == cur, "brk shrinks", "got %p", (void *)got);
	}

	size_t len = 64 * (size_t)page;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(m != MAP_FAILED, "mmap anonymous", "errno %d", errno);
	if (m != MAP_FAILED) {
		check((unsigned long)m % (unsigned long)page == 0, "mmap is page aligned", NULL);
		int zero = 1;
		for (size_t i = 0; i < len; i += (size_t)page)
			zero &= m[i] == 0;
		check(zero, "anonymous memory starts zeroed", NULL);
		memset(m, 1, len);
		OK(mprotect(m, len, PROT_READ), "mprotect read-only");
		check(m[len - 1] == 1, "read after mprotect", NULL);
		OK(madvise(m, len, MADV_DONTNEED), "madvise");
		OK(munmap(m, len), "munmap");
	}
	ERR(munmap((char *)page + 1, (size_t)page), EINVAL, "munmap unaligned");
	r = (long)mmap(NULL, (size_t)page, PROT_READ, MAP_ANONYMOUS, -1, 0);
	ERR(r, EINVAL, "mmap without MAP_PRIVATE or MAP_SHARED");
	/* A fixed mapping lands where asked. */
	char *fix = (char *)0x200000000ul;
	m = mmap(fix, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0);
	check(m == fix, "mmap MAP_FIXED", "got %p", (void *)m);
	if (m == fix) {
		m[0] = 7;
		munmap(m, (size_t)page);
	}
	void *big = malloc(8 << 20);
	check(big != NULL, "malloc 8 MiB", NULL);
	if (big)
		memset(big, 3, 8 << 20);
	free(big);
}

static void time_calls(void)
{
	struct timespec a, b, req = {0, (long)SLEEP_NS};
	struct timeval tv;
	long r;

	group = "time";
	OK(clock_gettime(CLOCK_MONOTONIC, &a), "clock_gettime MONOTONIC");
	OK(clock_gettime(CLOCK_MONOTONIC, &b), "clock_gettime again");
	check(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec),
	      "the monotonic clock does not go back", NULL);
	check(a.tv_nsec >= 0 && a.tv_nsec < (long)NS_PER_SEC, "tv_nsec in range", "%ld", a.tv_nsec);
	OK(clock_gettime(CLOCK_REALTIME, &a), "clock_gettime REALTIME");
	OK(gettimeofday(&tv, NULL), "gettimeofday");
	ERR(syscall(SYS_clock_gettime, 12345, &a), EINVAL, "clock_gettime of a bad clock");
	uint64_t t0 = now_ns();
	OK(nanosleep(&req, NULL), "nanosleep");
	uint64_t took = now_ns() - t0;
	check(took >= SLEEP_NS && took < SLEEP_NS + SLEEP_SLACK_NS, "nanosleep 20 ms",
	      "took %llu ns", (unsigned long long)took);
	t0 = now_ns();
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
	took = now_ns() - t0;
	check(r == 0 && took >= SLEEP_NS, "clock_nanosleep 20 ms", "returned %ld, took %llu ns", r,
	      (unsigned long long)took);
	req.tv_nsec = -1;
	ERR(nanosleep(&req, NULL), EINVAL, "nanosleep with a bad time");
}

static void process(void)
{
	struct utsname u;
	unsigned char r1[32], r2[32];
	cpu_set_t set;
	long r;

	group = "process";
	pid_t pid = getpid();
	check(pid > 0, "getpid", "got %d", pid);
	r = syscall(SYS_gettid);
	check(r == pid, "gettid is getpid in the first thread", "got %ld, pid %d", r, pid);
	check(getppid() >= 0, "getppid", NULL);
	r = syscall(SYS_set_tid_address, &(int){0});
	check(r == pid, "set_tid_address gives the tid", "got %ld", r);
	unsigned long fs = 0;
	r = syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	check(r == 0 && fs == (unsigned long)pthread_self(), "arch_prctl ARCH_GET_FS",
	      "returned %ld fs %lx self %lx", r, fs, (unsigned long)pthread_self());
	OK(uname(&u), "uname");
	check(!strcmp(u.machine, "x86_64") && u.sysname[0], "uname machine x86_64",
	      "sysname %s machine %s", u.sysname, u.machine);
	r = syscall(SYS_getrandom, r1, sizeof(r1), 0);
	check(r == sizeof(r1), "getrandom 32 bytes", "returned %ld", r);
	r = syscall(SYS_getrandom, r2, sizeof(r2), 0);
	check(r == sizeof(r2) && memcmp(r1, r2, sizeof(r1)), "getrandom differs each time", NULL);
	CPU_ZERO(&set);
	r = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
	check(r > 0 && r % 8 == 0 && CPU_COUNT(&set) >= 1, "sched_getaffinity",
	      "returned %ld, %d cpus", r, CPU_COUNT(&set));
	OK(sched_yield(), "sched_yield");
	errno = 0;
	r = syscall(SYS_UNKNOWN);
	check(r == -1 && errno == ENOSYS, "an unknown call is ENOSYS", "returned %ld errno %d", r,
	      errno);
}

static void on_usr1(int sig) { (void)sig; }

static void signals(void)
{
	struct sigaction sa = {.sa_handler = on_usr1}, old;
	sigset_t set, cur;
	stack_t ss, oss;
	static char alt[16384];

	group = "signals";
	sigemptyset(&sa.sa_mask);
	OK(sigaction(SIGUSR1, &sa, NULL), "rt_sigaction set");
	OK(sigaction(SIGUSR1, NULL, &old), "rt_sigaction get");
	check(old.sa_handler == on_usr1, "rt_sigaction keeps the handler", NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	OK(sigprocmask(SIG_BLOCK, &set, NULL), "rt_sigprocmask block");
	OK(sigprocmask(SIG_BLOCK, NULL, &cur), "rt_sigprocmask get");
	check(sigismember(&cur, SIGUSR1) == 1, "the mask holds SIGUSR1", NULL);
	OK(sigprocmask(SIG_UNBLOCK, &set, NULL), "rt_sigprocmask unblock");
	ss = (stack_t){.ss_sp = alt, .ss_size = sizeof(alt)};
	OK(sigaltstack(&ss, NULL), "sigaltstack set");
	OK(sigaltstack(NULL, &oss), "sigaltstack get");
	check(oss.ss_sp == alt && oss.ss_size == sizeof(alt), "sigaltstack keeps the stack", NULL);
}

static void futexes(void)
{
	int word = 1;
	struct timespec t = {0, 1000000};
	long r;

	group = "futex";
	r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	check(r == -1 && errno == EAGAIN, "FUTEX_WAIT on a changed value is EAGAIN",
	      "returned %ld errno %d", r, errno);
	r = syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	check(r == 0, "FUTEX_WAKE with no waiter wakes 0", "returned %ld", r);
	r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, &t, NULL, 0);
	check(r == -1 && errno == ETIMEDOUT, "FUTEX_WAIT times out", "returned %ld errno %d", r,
	      errno);
}

/* Bad pointers are the caller's error, not the kernel's: every call says EFAULT, for
 * NULL, for a page just unmapped, and for kernel and non-canonical addresses. */
static void bad_pointers(void)
{
	void *bad[] = {NULL, (void *)0x10, NULL, (void *)0xffffffff80000000ul,
		       (void *)0x8000000000000000ul};
	int p[2];
	long r;

	group = "efault";
	bad[2] = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bad[2] == MAP_FAILED || munmap(bad[2], 4096) != 0)
		bad[2] = NULL;
	if (pipe(p) != 0) {
		check(0, "pipe", NULL);
		return;
	}
	r = write(p[1], "abc", 3);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		r = write(p[1], bad[i], 3);
		check(r == -1 && errno == EFAULT, "write from a bad pointer", "%p: %ld errno %d",
		      bad[i], r, errno);
		errno = 0;
		r = read(p[0], bad[i], 1);
		check(r == -1 && errno == EFAULT, "read into a bad pointer", "%p: %ld errno %d",
		      bad[i], r, errno);
		errno = 0;
		r = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad[i]);
		check(r == -1 && errno == EFAULT, "clock_gettime into a bad pointer",
		      "%p: %ld errno %d", bad[i], r, errno);
		errno = 0;
		r = syscall(SYS_openat, AT_FDCWD, bad[i], O_RDONLY);
		check(r == -1 && errno == EFAULT, "openat of a bad path pointer",
		      "%p: %ld errno %d", bad[i], r, errno);
		errno = 0;
		r = syscall(SYS_uname, bad[i]);
		check(r == -1 && errno == EFAULT, "uname into a bad pointer", "%p: %ld errno %d",
		      bad[i], r, errno);
	}
	close(p[0]);
	close(p[1]);
}

static void *thread_ids(void *arg)
{
	long *ids = arg;
	ids[0] = getpid();
	ids[1] = syscall(SYS_gettid);
	return NULL;
}

/* A second thread: same process id, its own thread id. */
static void threads(void)
{
	long ids[2] = {0, 0};
	pthread_t t;

	group = "threads";
	int e = pthread_create(&t, NULL, thread_ids, ids);
	check(e == 0, "pthread_create (clone)", "error %d", e);
	if (e)
		return;
	e = pthread_join(t, NULL);
	check(e == 0, "pthread_join (futex wait for the exit)", "error %d", e);
	check(ids[0] == getpid(), "a thread shares the process id", "%ld vs %d", ids[0], getpid());
	check(ids[1] > 0 && ids[1] != getpid(), "a thread has its own id", "%ld", ids[1]);
}

static void *echo_once(void *arg)
{
	int c = accept4(*(int *)arg, NULL, NULL, SOCK_CLOEXEC);
	char buf[16];
	long n = c >= 0 ? read(c, buf, sizeof(buf)) : -1;
	if (n > 0)
		write(c, buf, (size_t)n);
	if (c >= 0)
		close(c);
	return (void *)n;
}

static void tcp(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in b;
	socklen_t len = sizeof(b);
	int one = 1, type = 0, s, c;
	char buf[16];
	long r;

	group = "tcp";
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	OK(s, "socket");
	if (s < 0)
		return;
	OK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), "setsockopt SO_REUSEADDR");
	socklen_t tl = sizeof(type);
	OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &tl), "getsockopt SO_TYPE");
	check(type == SOCK_STREAM, "SO_TYPE is SOCK_STREAM", "got %d", type);
	OK(bind(s, (struct sockaddr *)&a, sizeof(a)), "bind 127.0.0.1:0");
	OK(listen(s, 1), "listen");
	OK(getsockname(s, (struct sockaddr *)&b, &len), "getsockname");
	check(b.sin_port != 0, "bind picked a port", NULL);

	/* A thread accepts and echoes, so connect and read really cross the stack. */
	pthread_t t;
	if (pthread_create(&t, NULL, echo_once, &s) != 0) {
		check(0, "pthread_create for the accepting side", NULL);
		close(s);
		return;
	}
	c = socket(AF_INET, SOCK_STREAM, 0);
	OK(c, "socket for the client");
	r = connect(c, (struct sockaddr *)&b, sizeof(b));
	OK(r, "connect to itself over 127.0.0.1");
	if (r == 0) {
		struct sockaddr_in peer;
		len = sizeof(peer);
		OK(getpeername(c, (struct sockaddr *)&peer, &len), "getpeername");
		check(peer.sin_port == b.sin_port && peer.sin_addr.s_addr == a.sin_addr.s_addr,
		      "getpeername names the listener", NULL);
		r = send(c, "ping", 4, 0);
		check(r == 4, "send", "returned %ld", r);
		r = recv(c, buf, sizeof(buf), 0);
		check(r == 4 && !memcmp(buf, "ping", 4), "recv the echo", "returned %ld", r);
		OK(shutdown(c, SHUT_WR), "shutdown");
	}
	close(c);
	void *res;
	pthread_join(t, &res);
	check((long)res == 4, "the accepting side read 4 bytes", "got %ld", (long)res);
	close(s);
}

static void udp(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in b, from;
	socklen_t len = sizeof(b);
	char buf[16];
	long r;
	int s;

	group = "udp";
	s = socket(AF_INET, SOCK_DGRAM, 0);
	OK(s, "socket");
	if (s < 0)
		return;
	OK(bind(s, (struct sockaddr *)&a, sizeof(a)), "bind 127.0.0.1:0");
	OK(getsockname(s, (struct sockaddr *)&b, &len), "getsockname");
	r = sendto(s, "dgram", 5, 0, (struct sockaddr *)&b, sizeof(b));
	check(r == 5, "sendto itself", "returned %ld", r);
	struct pollfd pf = {.fd = s, .events = POLLIN};
	r = poll(&pf, 1, 2000);
	check(r == 1, "poll sees the datagram", "returned %ld", r);
	len = sizeof(from);
	r = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	check(r == 5 && !memcmp(buf, "dgram", 5) && from.sin_port == b.sin_port,
	      "recvfrom gets it from itself", "returned %ld", r);

	struct iovec iov = {.iov_base = "msg", .iov_len = 3};
	struct msghdr mh = {
		.msg_name = &b, .msg_namelen = sizeof(b), .msg_iov = &iov, .msg_iovlen = 1};
	r = sendmsg(s, &mh, 0);
	check(r == 3, "sendmsg", "returned %ld", r);
	struct iovec in = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr rh = {
		.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &in, .msg_iovlen = 1};
	r = recvmsg(s, &rh, 0);
	check(r == 3 && !memcmp(buf, "msg", 3), "recvmsg", "returned %ld", r);
	close(s);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		program = argv[1];
	files();
	pipes();
	memory();
	time_calls();
	process();
	signals();
	futexes();
	threads();
	bad_pointers();
	tcp();
	udp();
	printf("conformance: %d passed, %d failed\n", passed, failed);
	return failed > STATUS_MAX ? STATUS_MAX : failed;
}
