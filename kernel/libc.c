/* libc.c: the few symbols musl's pure functions expect from the rest of a C library. */
#include <stdarg.h>
#include <stddef.h>

#include "kernel/printf.h"

/* strtol and friends report ERANGE through errno; the kernel checks end pointers and
 * ranges itself, so one shared slot is enough. */
static int kernel_errno;
int *___errno_location(void) { return &kernel_errno; }

/* musl's stdio reading code links this in for its exit-time flush; the kernel has none. */
void __stdio_exit_needed(void) {}
