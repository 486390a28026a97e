/* libc.c: the few C library symbols that musl's pure functions and third-party code
 * (mbedTLS, lwIP) expect from the rest of a C library. */
#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "kernel/panic.h"
#include "kernel/printf.h"

/* strtol and friends report ERANGE through errno; the kernel checks end pointers and
 * ranges itself, so one shared slot is enough. */
static int kernel_errno;
int *___errno_location(void) { return &kernel_errno; }

/* musl's stdio reading code links this in for its exit-time flush; the kernel has none. */
void __stdio_exit_needed(void) {}

/* Third-party code (mbedTLS, lwIP) formats with the standard names; the kernel's own
 * formatter has the same C99 return-value semantics. */
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
	return kvsnprintf(buf, size, fmt, ap);
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void __assert_fail(const char *expr, const char *file, int line, const char *func)
{
	panic("assertion '%s' failed at %s:%d (%s)", expr, file, line, func);
}
