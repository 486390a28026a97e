/* out.c: building one reply block (console.h's reply format).
 *
 * The block is text lines, each ending in LF, the last one the status line. The buffer
 * always holds a NUL after its text. A line is "open" while the text does not end in LF:
 * console_out_raw appends to it, and console_out_line, _ok and _err close it first.
 *
 * The framing invariant, kept here rather than by every caller: no body line reads as a
 * status line. When a body line closes, if it is "ok" or "err" or starts with "ok " or
 * "err ", it gets the prefix "> ". A body line never holds a control byte: LF in
 * console_out_line's text splits it into lines, other control bytes (CR, ESC, ...) and
 * DEL become '?'; in console_out_raw they become spaces (raw text is JSON, whose own
 * strings are escaped by console_out_json_str). The error message is one line too.
 *
 * Out of memory: the buffer is marked (oom), later appends do nothing, and the status
 * call returns `err internal out of memory`: in the buffer when there is room, or a
 * static string (always use the returned pointer, and strlen of it, to send). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "net/console/console.h"
#include "net/console/port.h"

#define OUT_MIN 256	    /* first allocation: room for an error line when memory runs out */
#define OUT_MAX (64u << 20) /* a reply never grows past this (marked oom) */
static const char oom_reply[] = "err internal out of memory\n";

void console_out_init(struct console_out *o, bool json)
{
	memset(o, 0, sizeof *o);
	o->json = json;
}

void console_out_free(struct console_out *o)
{
	console_port_free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}

/* Room for n more bytes plus the NUL. */
static bool grow(struct console_out *o, size_t n)
{
	if (o->oom)
		return false;
	if (n > OUT_MAX || o->len + n + 1 > OUT_MAX) {
		o->oom = true;
		return false;
	}
	if (o->len + n + 1 <= o->cap)
		return true;
	size_t cap = o->cap ? o->cap : OUT_MIN;
	while (cap < o->len + n + 1)
		cap *= 2;
	char *b = console_port_alloc(cap);
	if (!b) {
		o->oom = true;
		return false;
	}
	if (o->buf)
		memcpy(b, o->buf, o->len + 1);
	else
		b[0] = '\0';
	console_port_free(o->buf);
	o->buf = b;
	o->cap = cap;
	return true;
}

static void put(struct console_out *o, const char *s, size_t n)
{
	if (o->ended || !grow(o, n))
		return;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Format into a fresh allocation (NUL-terminated); NULL when out of memory. */
static char *vformat(struct console_out *o, size_t *len, const char *fmt, va_list ap)
{
	va_list aq;
	char probe[1];

	va_copy(aq, ap);
	int n = vsnprintf(probe, sizeof probe, fmt, aq);
	va_end(aq);
	if (n < 0 || (size_t)n >= OUT_MAX) {
		o->oom = true;
		return NULL;
	}
	char *t = console_port_alloc((size_t)n + 1);
	if (!t) {
		o->oom = true;
		return NULL;
	}
	vsnprintf(t, (size_t)n + 1, fmt, ap);
	*len = (size_t)n;
	return t;
}

static bool reads_as_status(const char *s, size_t n)
{
	return (n == 2 && !memcmp(s, "ok", 2)) || (n >= 3 && !memcmp(s, "ok ", 3)) ||
	       (n == 3 && !memcmp(s, "err", 3)) || (n >= 4 && !memcmp(s, "err ", 4));
}

static size_t line_start(const struct console_out *o)
{
	size_t i = o->len;
	while (i > 0 && o->buf[i - 1] != '\n')
		i--;
	return i;
}

static bool line_open(const struct console_out *o)
{
	return o->len > 0 && o->buf[o->len - 1] != '\n';
}

/* End the current line (empty if none is open), escaping it when it reads as a status
 * line. */
static void close_line_force(struct console_out *o)
{
	if (o->oom || o->ended)
		return;
	size_t s = o->buf ? line_start(o) : 0;
	if (o->buf && reads_as_status(o->buf + s, o->len - s)) {
		if (!grow(o, 2))
			return;
		memmove(o->buf + s + 2, o->buf + s, o->len - s + 1);
		memcpy(o->buf + s, "> ", 2);
		o->len += 2;
	}
	put(o, "\n", 1);
}

static void close_line(struct console_out *o)
{
	if (line_open(o))
		close_line_force(o);
}

/* Append text, each control byte but tab replaced by `ctl`, and LF (when split) closing
 * the line instead. */
static void put_clean(struct console_out *o, const char *s, size_t n, char ctl, bool split)
{
	size_t i = 0;
	while (i < n && !o->oom) {
		size_t j = i;
		while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != 0x7f)
			j++;
		put(o, s + i, j - i);
		if (j == n)
			break;
		if (s[j] == '\n' && split) {
			close_line_force(o);
		} else {
			put(o, s[j] == '\t' ? "\t" : &ctl, 1);
		}
		i = j + 1;
	}
}

void console_out_line(struct console_out *o, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (o->ended || o->oom)
		return;
	close_line(o);
	va_start(ap, fmt);
	char *t = vformat(o, &n, fmt, ap);
	va_end(ap);
	if (!t)
		return;
	if (n > 0 && t[n - 1] == '\n')
		n--; /* "text\n" is one line, as a caller used to printf may write it */
	put_clean(o, t, n, '?', true);
	console_port_free(t);
	close_line_force(o);
}

void console_out_raw(struct console_out *o, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (o->ended || o->oom)
		return;
	va_start(ap, fmt);
	char *t = vformat(o, &n, fmt, ap);
	va_end(ap);
	if (!t)
		return;
	put_clean(o, t, n, ' ', false);
	console_port_free(t);
}

/* JSON wants UTF-8: the length of a well-formed sequence at s (1..4), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t want;
	unsigned min;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		want = 2, min = 0x80, cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		want = 3, min = 0x800, cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		want = 4, min = 0x10000, cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < want)
		return 0;
	for (size_t i = 1; i < want; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return want;
}

void console_out_json_str(struct console_out *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;

	if (o->ended || o->oom)
		return;
	put(o, "\"", 1);
	size_t i = 0;
	while (i < len && !o->oom) {
		size_t j = i;
		/* The run of bytes that go out as they are. */
		while (j < len && u[j] >= 0x20 && u[j] != '"' && u[j] != '\\' && u[j] != 0x7f) {
			size_t k = utf8_len(u + j, len - j);
			if (k == 0)
				break;
			j += k;
		}
		put(o, s + i, j - i);
		if (j == len)
			break;
		char e[7];
		size_t k = 1;
		switch (u[j]) {
		case '"':
			put(o, "\\\"", 2);
			break;
		case '\\':
			put(o, "\\\\", 2);
			break;
		case '\n':
			put(o, "\\n", 2);
			break;
		case '\r':
			put(o, "\\r", 2);
			break;
		case '\t':
			put(o, "\\t", 2);
			break;
		default:
			if (u[j] < 0x20 || u[j] == 0x7f) {
				memcpy(e, "\\u00", 4);
				e[4] = hex[u[j] >> 4];
				e[5] = hex[u[j] & 15];
				put(o, e, 6);
			} else {
				put(o, "\\ufffd", 6); /* not UTF-8: the replacement character */
			}
		}
		i = j + k;
	}
	put(o, "\"", 1);
}

/* Close the block: the body's open line, then the status line. */
static const char *finish(struct console_out *o)
{
	o->ended = true;
	if (!o->oom)
		return o->buf;
	/* Out of memory: the whole reply becomes one error line. */
	if (o->buf && o->cap >= sizeof oom_reply) {
		memcpy(o->buf, oom_reply, sizeof oom_reply);
		o->len = sizeof oom_reply - 1;
		return o->buf;
	}
	return oom_reply;
}

const char *console_out_ok(struct console_out *o)
{
	if (o->ended)
		return o->oom ? finish(o) : o->buf;
	close_line(o);
	put(o, "ok\n", 3);
	return finish(o);
}

const char *console_out_err(struct console_out *o, const char *code, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (o->ended)
		return o->oom ? finish(o) : o->buf;
	/* An unfinished line (a JSON body cut short by the error) is dropped. */
	if (line_open(o)) {
		o->len = line_start(o);
		o->buf[o->len] = '\0';
	}
	put(o, "err ", 4);
	put_clean(o, code, strlen(code), '?', false);
	va_start(ap, fmt);
	char *t = vformat(o, &n, fmt, ap);
	va_end(ap);
	if (t) {
		if (n > 0)
			put(o, " ", 1);
		put_clean(o, t, n, ' ', false);
		console_port_free(t);
	}
	put(o, "\n", 1);
	return finish(o);
}
