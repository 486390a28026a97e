/* reader.c: framing of the console's byte stream into lines and raw upload bodies.
 *
 * A line ends at LF; one CR right before the LF is dropped (CRLF clients, telnet-style
 * terminals). A line is text when it holds no byte below 0x20 other than tab and no DEL
 * (bytes from 0x80 up pass: UTF-8). A line longer than CONSOLE_LINE_MAX is not kept: the
 * reader stops storing it and reports TOOLONG once its LF arrives (so every line, good or
 * bad, yields exactly one item, and so one reply). A line with non-text bytes is reported
 * as BINARY at its LF (TOOLONG wins when it is both). Nothing grows without bound: a line
 * that never ends costs the fixed buffer only.
 *
 * Raw bodies: after console_reader_raw(r, n) the next n bytes are handed out as they are,
 * as RAW items pointing into the caller's input (no copy), and then one RAW_END item; line
 * framing resumes after it. raw_left holds the bytes still due plus one while a body is
 * open (so that 1 means "only RAW_END is due"), and 0 in line mode. */
#include <string.h>

#include "net/console/console.h"

void console_reader_init(struct console_reader *r) { memset(r, 0, sizeof *r); }

void console_reader_feed(struct console_reader *r, const uint8_t *data, size_t len)
{
	r->in = data;
	r->in_len = len;
}

void console_reader_raw(struct console_reader *r, uint64_t n) { r->raw_left = n + 1; }

static bool text_byte(uint8_t c) { return (c >= 0x20 && c != 0x7f) || c == '\t'; }

/* A LF ended the line held in r->line: make the item and reset for the next line. */
static void line_end(struct console_reader *r, struct console_item *it)
{
	size_t n = r->have;

	if (!r->discarding && n > 0 && r->line[n - 1] == '\r')
		n--;
	it->data = NULL;
	it->len = 0;
	if (r->discarding || n > CONSOLE_LINE_MAX) {
		it->kind = CONSOLE_ITEM_TOOLONG;
	} else if (r->binary || memchr(r->line, '\r', n)) {
		it->kind = CONSOLE_ITEM_BINARY; /* a CR anywhere but right before the LF */
	} else {
		r->line[n] = '\0';
		it->kind = CONSOLE_ITEM_LINE;
		it->data = r->line;
		it->len = n;
	}
	r->have = 0;
	r->discarding = false;
	r->binary = false;
}

bool console_reader_next(struct console_reader *r, struct console_item *it)
{
	it->kind = CONSOLE_ITEM_NONE;
	it->data = NULL;
	it->len = 0;
	if (r->raw_left == 1) {
		r->raw_left = 0;
		it->kind = CONSOLE_ITEM_RAW_END;
		return true;
	}
	if (r->raw_left > 1) {
		if (r->in_len == 0)
			return false;
		size_t n = r->in_len;
		if (n > r->raw_left - 1)
			n = (size_t)(r->raw_left - 1);
		it->kind = CONSOLE_ITEM_RAW;
		it->data = r->in;
		it->len = n;
		r->in += n;
		r->in_len -= n;
		r->raw_left -= n;
		return true;
	}
	while (r->in_len > 0) {
		uint8_t c = *r->in++;
		r->in_len--;
		if (c == '\n') {
			line_end(r, it);
			return true;
		}
		if (r->discarding)
			continue;
		/* Room for CONSOLE_LINE_MAX bytes, a CR and the NUL added at the end. */
		if (r->have >= CONSOLE_LINE_MAX + 1) {
			r->discarding = true;
			continue;
		}
		if (!text_byte(c) && c != '\r')
			r->binary = true;
		r->line[r->have++] = c;
	}
	r->in = NULL;
	return false;
}
