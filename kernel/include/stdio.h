/* stdio.h: formatted output into memory only (no streams in the kernel); these are thin
 * wrappers over kvsnprintf (kernel/printf.h) for third-party code: mbedTLS, lwIP. */
#ifndef _STDIO_H
#define _STDIO_H
#include <stdarg.h>
#include <stddef.h>

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
