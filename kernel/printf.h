/* printf.h: the kernel's formatter. No floating point, no locale, no allocation.
 *
 * Conversions: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '+' ' ' '#', a width and a
 * precision (digits or '*'), length modifiers hh h l ll z t j. Unknown conversions are
 * copied out as written. Output is always NUL-terminated when size > 0; the return
 * value is the length the whole output would have had, as in C99 snprintf. */
#ifndef KERNEL_PRINTF_H
#define KERNEL_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
