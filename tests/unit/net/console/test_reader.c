/* sources: net/console/reader.c */
/* test_reader.c: the console's framing: lines split anywhere across feeds, CRLF, empty
 * lines, lines over CONSOLE_LINE_MAX (and exactly at it), binary garbage, and raw upload
 * bodies that start mid-feed, span several feeds and are followed by more lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/console/console.h"

static struct console_reader rd;

/* Everything the reader yields for the bytes fed so far, as a printable trace:
 * L(text) T B R(n) E, one per item. */
static char trace[1 << 16];
static size_t tlen;

/* Append bytes to the trace, non-printable ones as \xNN. */
static void add(const char *tag, const uint8_t *d, size_t n)
{
	tlen += (size_t)snprintf(trace + tlen, sizeof trace - tlen, "%s(", tag);
	for (size_t i = 0; i < n && tlen + 8 < sizeof trace; i++) {
		if (d[i] >= 0x20 && d[i] < 0x7f)
			trace[tlen++] = (char)d[i];
		else
			tlen += (size_t)snprintf(trace + tlen, sizeof trace - tlen, "\\x%02x",
						 d[i]);
	}
	tlen += (size_t)snprintf(trace + tlen, sizeof trace - tlen, ")");
}

static void drain(void)
{
	struct console_item it;
	while (console_reader_next(&rd, &it)) {
		switch (it.kind) {
		case CONSOLE_ITEM_LINE:
			assert_int_equal(strlen((const char *)it.data), it.len);
			add("L", it.data, it.len);
			break;
		case CONSOLE_ITEM_TOOLONG:
			tlen += (size_t)snprintf(trace + tlen, sizeof trace - tlen, "T");
			break;
		case CONSOLE_ITEM_BINARY:
			tlen += (size_t)snprintf(trace + tlen, sizeof trace - tlen, "B");
			break;
		case CONSOLE_ITEM_RAW:
			assert_true(it.len > 0);
			add("R", it.data, it.len);
			break;
		case CONSOLE_ITEM_RAW_END:
			tlen += (size_t)snprintf(trace + tlen, sizeof trace - tlen, "E");
			break;
		default:
			fail_msg("item kind %d", it.kind);
		}
	}
	assert_int_equal(it.kind, CONSOLE_ITEM_NONE);
}

static void feed(const char *s, size_t n)
{
	console_reader_feed(&rd, (const uint8_t *)s, n);
	drain();
}

static void feeds(const char *s) { feed(s, strlen(s)); }

static int setup(void **state)
{
	console_reader_init(&rd);
	tlen = 0;
	trace[0] = '\0';
	return 0;
}

static void test_lines(void **state)
{
	feeds("help\njobs\n\nstatus j1\n");
	assert_string_equal(trace, "L(help)L(jobs)L()L(status j1)");
}

static void test_crlf(void **state)
{
	feeds("help\r\njobs\r\n\r\n");
	assert_string_equal(trace, "L(help)L(jobs)L()");
}

static void test_split_every_byte(void **state)
{
	const char *s = "submit --count 3 \"a b\"\r\nps\n";
	for (size_t i = 0; s[i]; i++)
		feed(s + i, 1);
	assert_string_equal(trace, "L(submit --count 3 \"a b\")L(ps)");
}

static void test_partial_kept(void **state)
{
	feeds("hel");
	assert_string_equal(trace, "");
	feeds("p\nst");
	assert_string_equal(trace, "L(help)");
	feeds("ats\n");
	assert_string_equal(trace, "L(help)L(stats)");
}

static void test_tab_and_utf8_are_text(void **state)
{
	feeds("a\tb \xc3\xa9\n");
	assert_string_equal(trace, "L(a\\x09b \\xc3\\xa9)");
}

static void test_binary(void **state)
{
	feed("he\0lp\nok\n", 9);
	assert_string_equal(trace, "BL(ok)");
	tlen = 0;
	feeds("\x1b[2J\nx\x7fy\nps\n");
	assert_string_equal(trace, "BBL(ps)");
	tlen = 0;
	feeds("a\rb\n"); /* CR not right before LF */
	assert_string_equal(trace, "B");
}

static void test_random_garbage(void **state)
{
	uint8_t buf[4096];
	srand(7);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rand();
	/* No newline at the end: whatever it held, a fresh line after it is intact. */
	console_reader_feed(&rd, buf, sizeof buf);
	drain();
	tlen = 0;
	feeds("\nstats\n");
	assert_true(strstr(trace, "L(stats)") != NULL);
	assert_int_equal(strlen(trace) - strlen("L(stats)"),
			 (size_t)(strstr(trace, "L(stats)") - trace));
}

static void test_toolong(void **state)
{
	static char big[CONSOLE_LINE_MAX * 3];
	memset(big, 'x', sizeof big);
	feed(big, CONSOLE_LINE_MAX + 1);
	assert_string_equal(trace, "");
	feed(big, sizeof big); /* still the same line: discarded */
	feeds("\nps\n");
	assert_string_equal(trace, "TL(ps)");
}

static void test_exactly_max(void **state)
{
	static char big[CONSOLE_LINE_MAX + 2];
	memset(big, 'y', sizeof big);
	feed(big, CONSOLE_LINE_MAX);
	feeds("\r\n");
	assert_int_equal(tlen, CONSOLE_LINE_MAX + 3);
	assert_memory_equal(trace, "L(yyy", 5);
	tlen = 0;
	feed(big, CONSOLE_LINE_MAX + 1);
	feeds("\n");
	assert_string_equal(trace, "T");
	tlen = 0;
	feed(big, CONSOLE_LINE_MAX + 1);
	feeds("\r\n");
	assert_string_equal(trace, "T");
}

static void test_toolong_binary(void **state)
{
	static char big[CONSOLE_LINE_MAX + 10];
	memset(big, 1, sizeof big);
	feed(big, sizeof big);
	feeds("\n");
	assert_string_equal(trace, "T");
}

/* upload: the body starts in the same feed as its command line, spans feeds, and the
 * next line follows the body in the same feed. */
static void test_raw_body(void **state)
{
	struct console_item it;
	const char *a = "upload 10 HEX\nabc";
	console_reader_feed(&rd, (const uint8_t *)a, strlen(a));
	assert_true(console_reader_next(&rd, &it));
	assert_int_equal(it.kind, CONSOLE_ITEM_LINE);
	console_reader_raw(&rd, 10);
	drain();
	assert_string_equal(trace, "R(abc)");
	feeds("\n\nok");
	assert_string_equal(trace, "R(abc)R(\\x0a\\x0aok)");
	feed("\0\xff\r\nps\n", 7);
	assert_string_equal(trace, "R(abc)R(\\x0a\\x0aok)R(\\x00\\xff\\x0d)EL()L(ps)");
}

static void test_raw_binary_exact(void **state)
{
	struct console_item it;
	uint8_t body[300];
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)i;
	console_reader_raw(&rd, sizeof body);
	size_t got = 0;
	int ends = 0;
	/* 7-byte feeds, the last one running into the next command. */
	uint8_t stream[sizeof body + 4];
	memcpy(stream, body, sizeof body);
	memcpy(stream + sizeof body, "ps\r\n", 4);
	char line[16] = "";
	for (size_t off = 0; off < sizeof stream; off += 7) {
		size_t n = sizeof stream - off < 7 ? sizeof stream - off : 7;
		console_reader_feed(&rd, stream + off, n);
		while (console_reader_next(&rd, &it)) {
			if (it.kind == CONSOLE_ITEM_RAW) {
				assert_true(got + it.len <= sizeof body);
				assert_memory_equal(it.data, body + got, it.len);
				got += it.len;
			} else if (it.kind == CONSOLE_ITEM_RAW_END) {
				assert_int_equal(got, sizeof body);
				ends++;
			} else {
				assert_int_equal(it.kind, CONSOLE_ITEM_LINE);
				assert_int_equal(ends, 1);
				memcpy(line, it.data, it.len + 1);
			}
		}
	}
	assert_int_equal(got, sizeof body);
	assert_int_equal(ends, 1);
	assert_string_equal(line, "ps");
}

static void test_raw_end_without_input(void **state)
{
	struct console_item it;
	feeds("x\n");
	console_reader_raw(&rd, 2);
	feed("ab", 2);
	assert_string_equal(trace, "L(x)R(ab)E");
	/* A zero-length body ends at once. */
	console_reader_raw(&rd, 0);
	assert_true(console_reader_next(&rd, &it));
	assert_int_equal(it.kind, CONSOLE_ITEM_RAW_END);
	assert_false(console_reader_next(&rd, &it));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lines, setup),
		cmocka_unit_test_setup(test_crlf, setup),
		cmocka_unit_test_setup(test_split_every_byte, setup),
		cmocka_unit_test_setup(test_partial_kept, setup),
		cmocka_unit_test_setup(test_tab_and_utf8_are_text, setup),
		cmocka_unit_test_setup(test_binary, setup),
		cmocka_unit_test_setup(test_random_garbage, setup),
		cmocka_unit_test_setup(test_toolong, setup),
		cmocka_unit_test_setup(test_exactly_max, setup),
		cmocka_unit_test_setup(test_toolong_binary, setup),
		cmocka_unit_test_setup(test_raw_body, setup),
		cmocka_unit_test_setup(test_raw_binary_exact, setup),
		cmocka_unit_test_setup(test_raw_end_without_input, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
