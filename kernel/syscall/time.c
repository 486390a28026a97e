/* time.c: clocks and sleeping - clock_gettime, clock_getres, gettimeofday, time,
 * nanosleep, clock_nanosleep. The monotonic clocks are kernel/time.h's clock; the
 * realtime clock adds the wall-clock time read once at boot (realtime_epoch_ns); the CPU
 * clocks are the task's and the thread's run time. */
#include "kernel/time.h"

#include <errno.h>
#include <stdbool.h>

#include "arch/rtc.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "kernel/task.h"
#include "kernel/thread.h"

#define NR_NANOSLEEP 35
#define NR_GETTIMEOFDAY 96
#define NR_TIME 201
#define NR_CLOCK_GETTIME 228
#define NR_CLOCK_GETRES 229
#define NR_CLOCK_NANOSLEEP 230

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11
#define TIMER_ABSTIME 1

#define NS_PER_S 1000000000UL
#define NS_PER_US 1000UL

struct ktimespec {
	int64_t sec, nsec;
};

uint64_t realtime_epoch_ns(void);

long timespec_from_user(const void *uts, uint64_t *ns)
{
	struct ktimespec ts;
	int err = copy_from_user(&ts, uts, sizeof ts);
	if (err)
		return err;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NS_PER_S)
		return -EINVAL;
	/* Far futures saturate rather than wrap. */
	if ((uint64_t)ts.sec > (UINT64_MAX - NS_PER_S) / NS_PER_S)
		*ns = UINT64_MAX / 2;
	else
		*ns = (uint64_t)ts.sec * NS_PER_S + (uint64_t)ts.nsec;
	return 0;
}

static int to_user(void *uts, uint64_t ns)
{
	struct ktimespec ts = {(int64_t)(ns / NS_PER_S), (int64_t)(ns % NS_PER_S)};
	return copy_to_user(uts, &ts, sizeof ts);
}

/* Nanoseconds on clock id now: 0, or -EINVAL for a clock that does not exist. */
static int clock_now(long id, uint64_t *ns)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_TAI:
		*ns = realtime_epoch_ns() + time_ns();
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		*ns = time_ns();
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID: {
		struct task_info info;
		if (task_info(task_current()->id, &info))
			return -EINVAL;
		*ns = info.cpu_ns;
		return 0;
	}
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = thread_runtime_ns(thread_current());
		return 0;
	}
	return -EINVAL;
}

static long sys_clock_gettime(long id, long uts, long a2, long a3, long a4, long a5)
{
	uint64_t ns;
	int err = clock_now(id, &ns);
	return err ? err : to_user((void *)uts, ns);
}
SYSCALL_DEFINE(NR_CLOCK_GETTIME, sys_clock_gettime);

static long sys_clock_getres(long id, long uts, long a2, long a3, long a4, long a5)
{
	uint64_t ns;
	int err = clock_now(id, &ns);
	if (err)
		return err;
	return uts ? to_user((void *)uts, 1) : 0;
}
SYSCALL_DEFINE(NR_CLOCK_GETRES, sys_clock_getres);

static long sys_gettimeofday(long utv, long utz, long a2, long a3, long a4, long a5)
{
	uint64_t ns = realtime_epoch_ns() + time_ns();
	struct {
		int64_t sec, usec;
	} tv = {(int64_t)(ns / NS_PER_S), (int64_t)(ns % NS_PER_S / NS_PER_US)};
	if (utv) {
		int err = copy_to_user((void *)utv, &tv, sizeof tv);
		if (err)
			return err;
	}
	if (utz) {
		int32_t tz[2] = {0, 0}; /* UTC, no DST */
		return copy_to_user((void *)utz, tz, sizeof tz);
	}
	return 0;
}
SYSCALL_DEFINE(NR_GETTIMEOFDAY, sys_gettimeofday);

static long sys_time(long ut, long a1, long a2, long a3, long a4, long a5)
{
	int64_t sec = (int64_t)((realtime_epoch_ns() + time_ns()) / NS_PER_S);
	if (ut) {
		int err = copy_to_user((void *)ut, &sec, sizeof sec);
		if (err)
			return err;
	}
	return sec;
}
SYSCALL_DEFINE(NR_TIME, sys_time);

/* Sleep until the monotonic deadline; a dying task's sleep ends at once (the thread
 * then leaves on its way back to user mode, so -EINTR is never seen). */
static long sleep_until(uint64_t deadline)
{
	return task_sleep_until(deadline) == -EINTR ? -EINTR : 0;
}

static long sys_nanosleep(long ureq, long urem, long a2, long a3, long a4, long a5)
{
	uint64_t ns;
	long err = timespec_from_user((const void *)ureq, &ns);
	if (err)
		return err;
	return sleep_until(time_ns() + ns);
}
SYSCALL_DEFINE(NR_NANOSLEEP, sys_nanosleep);

static long sys_clock_nanosleep(long id, long flags, long ureq, long urem, long a4, long a5)
{
	uint64_t ns, now;
	if (id == CLOCK_THREAD_CPUTIME_ID || id == CLOCK_PROCESS_CPUTIME_ID)
		return -EINVAL; /* sleeping on a CPU clock: not supported (as Linux for threads) */
	long err = clock_now(id, &now);
	if (err)
		return err;
	err = timespec_from_user((const void *)ureq, &ns);
	if (err)
		return err;
	uint64_t mono = time_ns();
	if (flags & TIMER_ABSTIME)
		return sleep_until(ns > now ? mono + (ns - now) : mono);
	return sleep_until(mono + ns);
}
SYSCALL_DEFINE(NR_CLOCK_NANOSLEEP, sys_clock_nanosleep);

/* Wall-clock time at time_ns() == 0, from the RTC on first use. */
uint64_t realtime_epoch_ns(void)
{
	static uint64_t epoch;
	static bool known;
	if (!__atomic_load_n(&known, __ATOMIC_ACQUIRE)) {
		uint64_t wall = rtc_read_ns(), now = time_ns();
		epoch = wall > now ? wall - now : 0;
		__atomic_store_n(&known, true, __ATOMIC_RELEASE);
	}
	return epoch;
}
