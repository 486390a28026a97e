/* sources: net/console/out.c tests/host/console_port.c */
/* test_out.c: reply blocks: body lines and the status line, escaping of body lines that
 * would read as a status line, LF splitting and control bytes, JSON bodies and JSON
 * string escaping (quotes, backslashes, control bytes, bad UTF-8), errors dropping an
 * unfinished JSON line, and out of memory turning the reply into `err internal`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/console/console.h"

extern int console_port_fail_after;

static struct console_out o;

static int setup(void **state)
{
	console_port_fail_after = 0;
	console_out_init(&o, false);
	return 0;
}

static int teardown(void **state)
{
	console_out_free(&o);
	console_port_fail_after = 0;
	return 0;
}

static void test_ok_empty(void **state) { assert_string_equal(console_out_ok(&o), "ok\n"); }

static void test_lines_then_ok(void **state)
{
	console_out_line(&o, "job %s %u", "j0123456789", 3u);
	console_out_line(&o, "%s", "");
	console_out_line(&o, "tab\there");
	const char *r = console_out_ok(&o);
	assert_string_equal(r, "job j0123456789 3\n\ntab\there\nok\n");
	assert_int_equal(o.len, strlen(r));
	/* Ending twice gives the same reply; nothing is added after the end. */
	console_out_line(&o, "late");
	assert_string_equal(console_out_ok(&o), "job j0123456789 3\n\ntab\there\nok\n");
}

static void test_err(void **state)
{
	console_out_line(&o, "partial result");
	assert_string_equal(console_out_err(&o, "notfound", "no job %s", "x"),
			    "partial result\nerr notfound no job x\n");
}

static void test_err_message_one_line(void **state)
{
	assert_string_equal(console_out_err(&o, "internal", "a\nok\r\nb"),
			    "err internal a ok  b\n");
}

static void test_err_no_message(void **state)
{
	assert_string_equal(console_out_err(&o, "denied", "%s", ""), "err denied\n");
}

static void test_escape_status_like(void **state)
{
	console_out_line(&o, "ok");
	console_out_line(&o, "ok fine");
	console_out_line(&o, "err");
	console_out_line(&o, "err nope");
	console_out_line(&o, "okay");  /* not a status line */
	console_out_line(&o, "error"); /* not either */
	console_out_line(&o, " ok");   /* not either */
	console_out_line(&o, "> quoted");
	assert_string_equal(console_out_ok(&o), "> ok\n> ok fine\n> err\n> err nope\nokay\nerror\n"
						" ok\n> quoted\nok\n");
}

/* Output of a task (logs): several lines at once, some status-like, control bytes. */
static void test_split_and_control(void **state)
{
	console_out_line(&o, "%s", "hello\nok\nerr 1 2\n\x1b[31mred\x7f\rx\n");
	assert_string_equal(console_out_ok(&o), "hello\n> ok\n> err 1 2\n?[31mred??x\nok\n");
}

static void test_split_keeps_blank(void **state)
{
	console_out_line(&o, "a\n\nb");
	assert_string_equal(console_out_ok(&o), "a\n\nb\nok\n");
}

static void test_every_line_framed(void **state)
{
	/* Whatever goes in, exactly one line of the reply is a status line: the last. */
	char junk[512];
	srand(3);
	for (int round = 0; round < 200; round++) {
		console_out_init(&o, round & 1);
		for (int l = 0; l < 5; l++) {
			size_t n = (size_t)(rand() % 40);
			for (size_t i = 0; i < n; i++) {
				static const char pick[] = "ok err\n\r\t\x01x>\"\\";
				junk[i] = pick[rand() % (sizeof pick - 1)];
			}
			junk[n] = '\0';
			if (rand() % 2)
				console_out_line(&o, "%s", junk);
			else
				console_out_raw(&o, "%s", junk);
		}
		const char *r = rand() % 2 ? console_out_ok(&o) : console_out_err(&o, "usage", "x");
		int status = 0;
		const char *p = r;
		while (*p) {
			const char *nl = strchr(p, '\n');
			assert_non_null(nl);
			size_t n = (size_t)(nl - p);
			bool st = (n == 2 && !memcmp(p, "ok", 2)) ||
				  (n >= 3 && !memcmp(p, "ok ", 3)) ||
				  (n == 3 && !memcmp(p, "err", 3)) ||
				  (n >= 4 && !memcmp(p, "err ", 4));
			for (size_t i = 0; i < n; i++)
				assert_true((unsigned char)p[i] >= 0x20 || p[i] == '\t');
			if (st) {
				status++;
				assert_int_equal(nl[1], '\0');
			}
			p = nl + 1;
		}
		assert_int_equal(status, 1);
		console_out_free(&o);
	}
}

static void test_json_body(void **state)
{
	console_out_init(&o, true);
	assert_true(o.json);
	console_out_raw(&o, "{\"id\":");
	console_out_json_str(&o, "j1", 2);
	console_out_raw(&o, ",\"n\":%d}", 3);
	assert_string_equal(console_out_ok(&o), "{\"id\":\"j1\",\"n\":3}\nok\n");
}

static void test_json_escaping(void **state)
{
	const char s[] = "a\"b\\c\nd\re\tf\x01g\x7fh/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	console_out_json_str(&o, s, sizeof s - 1);
	assert_string_equal(console_out_ok(&o), "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u007fh/"
						"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"\nok\n");
}

static void test_json_nul_and_bad_utf8(void **state)
{
	/* NUL inside, a lone continuation byte, a cut sequence, an overlong form, a
	 * surrogate: each bad byte becomes U+FFFD. */
	const char s[] = "x\0y\x80z\xc3\xed\xa0\x80\xc0\xaf";
	console_out_json_str(&o, s, sizeof s - 1);
	assert_string_equal(console_out_ok(&o), "\"x\\u0000y\\ufffdz\\ufffd\\ufffd\\ufffd\\ufffd"
						"\\ufffd\\ufffd\"\nok\n");
}

static void test_json_cut_at_end(void **state)
{
	console_out_json_str(&o, "\xe2\x82", 2);
	assert_string_equal(console_out_ok(&o), "\"\\ufffd\\ufffd\"\nok\n");
}

static void test_err_drops_open_json(void **state)
{
	console_out_init(&o, true);
	console_out_raw(&o, "[{\"a\":1},");
	assert_string_equal(console_out_err(&o, "internal", "table changed"),
			    "err internal table changed\n");
}

static void test_raw_status_like_escaped(void **state)
{
	console_out_raw(&o, "ok");
	assert_string_equal(console_out_ok(&o), "> ok\nok\n");
}

static void test_raw_then_line(void **state)
{
	console_out_raw(&o, "{}");
	console_out_line(&o, "next");
	assert_string_equal(console_out_ok(&o), "{}\nnext\nok\n");
}

/* What exec.c's logs -f does: send the complete lines so far, empty the buffer by hand
 * (len = 0), go on; the rest of the block is still framed. */
static void test_drained_midway(void **state)
{
	console_out_line(&o, "one");
	assert_string_equal(o.buf, "one\n");
	o.len = 0;
	o.buf[0] = '\0';
	console_out_line(&o, "ok");
	assert_string_equal(console_out_ok(&o), "> ok\nok\n");
}

static void test_help_text(void **state)
{
	/* Multi-line text with a final LF, as console_help() is, gives no trailing blank. */
	console_out_line(&o, "%s", "a\nb\n");
	assert_string_equal(console_out_ok(&o), "a\nb\nok\n");
}

static void test_big(void **state)
{
	for (int i = 0; i < 10000; i++)
		console_out_line(&o, "line %05d %s", i, "0123456789abcdef0123456789abcdef");
	const char *r = console_out_ok(&o);
	assert_int_equal(strlen(r), 10000 * 44 + 3);
	assert_memory_equal(r + 9999 * 44, "line 09999 ", 11);
}

static void test_oom_first(void **state)
{
	console_port_fail_after = 1;
	console_out_line(&o, "x");
	assert_string_equal(console_out_ok(&o), "err internal out of memory\n");
}

static void test_oom_later(void **state)
{
	console_out_line(&o, "first");
	console_port_fail_after = 1; /* the next allocation (formatting) fails */
	console_out_line(&o, "second");
	console_port_fail_after = 0;
	console_out_line(&o, "third"); /* ignored: the reply is already lost */
	const char *r = console_out_ok(&o);
	assert_string_equal(r, "err internal out of memory\n");
	assert_int_equal(o.len, strlen(r));
}

static void test_oom_err(void **state)
{
	console_port_fail_after = 1;
	assert_string_equal(console_out_err(&o, "notfound", "x"), "err internal out of memory\n");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ok_empty),
		T(test_lines_then_ok),
		T(test_err),
		T(test_err_message_one_line),
		T(test_err_no_message),
		T(test_escape_status_like),
		T(test_split_and_control),
		T(test_split_keeps_blank),
		T(test_every_line_framed),
		T(test_json_body),
		T(test_json_escaping),
		T(test_json_nul_and_bad_utf8),
		T(test_json_cut_at_end),
		T(test_err_drops_open_json),
		T(test_raw_status_like_escaped),
		T(test_raw_then_line),
		T(test_drained_midway),
		T(test_help_text),
		T(test_big),
		T(test_oom_first),
		T(test_oom_later),
		T(test_oom_err),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
