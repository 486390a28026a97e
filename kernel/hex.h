/* hex.h: hex digits to values, for the kernel's parsers (cpio headers, console.psk= keys)
 * and the console's sha256 arguments. Header-only and pure, so the console's sans-IO core
 * and the host unit tests use it without linking anything from the kernel. */
#ifndef KERNEL_HEX_H
#define KERNEL_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of hex digit c (either case), or -1 when c is not one. */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 2n hex digits at s as n bytes into out (high digit first); false, with out partly
 * written, when one is not a hex digit. */
static inline bool hex_bytes(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

#endif
