/* printf.c: the kernel's snprintf. Pure code: the host unit tests compare it with the
 * C library's snprintf. */
#include "kernel/printf.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

enum { F_LEFT = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8, F_ALT = 16 };

static void number(struct out *o, uintmax_t v, bool neg, unsigned base, bool upper, int flags,
		   int width, int prec)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	while (v) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	if (prec < 0)
		prec = 1;
	else
		flags &= ~F_ZERO;
	int zeros = prec > n ? prec - n : 0;
	if (base == 8 && (flags & F_ALT) && zeros == 0 && (n == 0 || tmp[n - 1] != '0'))
		zeros = 1;

	char sign = neg ? '-' : (flags & F_PLUS) ? '+' : (flags & F_SPACE) ? ' ' : 0;
	const char *prefix = (base == 16 && (flags & F_ALT) && n > 0) ? (upper ? "0X" : "0x") : "";
	int plen = (sign ? 1 : 0) + (int)__builtin_strlen(prefix);
	int total = plen + zeros + n;

	if (!(flags & F_LEFT) && !(flags & F_ZERO))
		pad(o, ' ', width - total);
	if (sign)
		put(o, sign);
	for (const char *p = prefix; *p; p++)
		put(o, *p);
	if (!(flags & F_LEFT) && (flags & F_ZERO))
		pad(o, '0', width - total);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (flags & F_LEFT)
		pad(o, ' ', width - total);
}

static void string(struct out *o, const char *s, int flags, int width, int prec)
{
	if (!s)
		s = "(null)";
	int n = 0;
	while ((prec < 0 || n < prec) && s[n])
		n++;
	if (!(flags & F_LEFT))
		pad(o, ' ', width - n);
	for (int i = 0; i < n; i++)
		put(o, s[i]);
	if (flags & F_LEFT)
		pad(o, ' ', width - n);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		const char *start = p++;
		int flags = 0;
		for (;; p++) {
			if (*p == '-')
				flags |= F_LEFT;
			else if (*p == '0')
				flags |= F_ZERO;
			else if (*p == '+')
				flags |= F_PLUS;
			else if (*p == ' ')
				flags |= F_SPACE;
			else if (*p == '#')
				flags |= F_ALT;
			else
				break;
		}
		int width = 0;
		if (*p == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = -width;
			}
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				width = width * 10 + (*p++ - '0');
		}
		int prec = -1;
		if (*p == '.') {
			p++;
			prec = 0;
			if (*p == '*') {
				prec = va_arg(ap, int);
				p++;
			} else {
				while (*p >= '0' && *p <= '9')
					prec = prec * 10 + (*p++ - '0');
			}
		}
		int len = 0; /* 0 int, -1 short, -2 char, 1 long, 2 long long */
		if (*p == 'h') {
			len = -1;
			if (*++p == 'h') {
				len = -2;
				p++;
			}
		} else if (*p == 'l') {
			len = 1;
			if (*++p == 'l') {
				len = 2;
				p++;
			}
		} else if (*p == 'z' || *p == 't' || *p == 'j') {
			len = 2;
			p++;
		}

		switch (*p) {
		case 'd':
		case 'i': {
			intmax_t v = len == 2	? va_arg(ap, long long)
				     : len == 1 ? va_arg(ap, long)
						: va_arg(ap, int);
			if (len == -1)
				v = (short)v;
			else if (len == -2)
				v = (signed char)v;
			uintmax_t u = v < 0 ? -(uintmax_t)v : (uintmax_t)v;
			number(&o, u, v < 0, 10, false, flags, width, prec);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			uintmax_t v = len == 2	 ? va_arg(ap, unsigned long long)
				      : len == 1 ? va_arg(ap, unsigned long)
						 : va_arg(ap, unsigned int);
			if (len == -1)
				v = (unsigned short)v;
			else if (len == -2)
				v = (unsigned char)v;
			unsigned base = *p == 'u' ? 10 : *p == 'o' ? 8 : 16;
			number(&o, v, false, base, *p == 'X', flags & ~(F_PLUS | F_SPACE), width,
			       prec);
			break;
		}
		case 'p': {
			void *v = va_arg(ap, void *);
			if (!v)
				string(&o, "(nil)", flags, width, -1);
			else
				number(&o, (uintptr_t)v, false, 16, false, flags | F_ALT, width,
				       prec);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			if (!(flags & F_LEFT))
				pad(&o, ' ', width - 1);
			put(&o, c);
			if (flags & F_LEFT)
				pad(&o, ' ', width - 1);
			break;
		}
		case 's':
			string(&o, va_arg(ap, const char *), flags, width, prec);
			break;
		case '%':
			put(&o, '%');
			break;
		default: /* unknown or truncated: copy it as written */
			for (const char *q = start; q <= p && *q; q++)
				put(&o, *q);
			if (!*p)
				p--;
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
