/* sources: kernel/config.c kernel/printf.c */
/* test_config.c: the kernel command-line parser against every malformed form: each
 * error is reported naming its key, the key keeps its value, and the rest of the line
 * is still applied. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/config.h"

#define MAX_MSGS 16
#define MSG_LEN 1024

/* What the error callback saw. */
struct errs {
	int n;
	char msg[MAX_MSGS][MSG_LEN];
};

static void collect(void *ctx, const char *msg)
{
	struct errs *e = ctx;
	if (e->n < MAX_MSGS) {
		strncpy(e->msg[e->n], msg, MSG_LEN - 1);
		e->msg[e->n][MSG_LEN - 1] = 0;
	}
	e->n++;
}

static struct config c;
static struct errs e;

/* Parse line over fresh defaults; returns config_parse's error count, which must match
 * the number of callback calls. */
static int parse(const char *line)
{
	memset(&e, 0, sizeof e);
	config_defaults(&c);
	int n = config_parse(&c, line, collect, &e);
	assert_int_equal(n, e.n);
	return n;
}

/* Some error message contains every one of the (NULL-terminated) fragments. */
static int msg_has(const char *a, const char *b)
{
	for (int i = 0; i < e.n && i < MAX_MSGS; i++)
		if (strstr(e.msg[i], a) && (!b || strstr(e.msg[i], b)))
			return 1;
	return 0;
}

static void assert_defaults(void)
{
	struct config d;
	config_defaults(&d);
	assert_string_equal(c.name, d.name);
	assert_int_equal(c.log_level, d.log_level);
	assert_int_equal(c.selftest, d.selftest);
	assert_int_equal(c.smp, d.smp);
	assert_int_equal(c.panic, d.panic);
	assert_int_equal(c.debug_exit, d.debug_exit);
	assert_int_equal(c.debug_crash, d.debug_crash);
	assert_int_equal(c.tick_hz, d.tick_hz);
	assert_int_equal(c.slice_ms, d.slice_ms);
	assert_int_equal(c.fpu, d.fpu);
}

static void test_defaults(void **state)
{
	config_defaults(&c);
	assert_string_equal(c.name, CONFIG_DEFAULT_NAME);
	assert_int_equal(c.log_level, CONFIG_DEFAULT_LOG);
	assert_false(c.selftest);
	assert_int_equal(c.smp, CONFIG_DEFAULT_SMP);
	assert_int_equal(c.panic, PANIC_HALT);
	assert_false(c.debug_exit);
	assert_int_equal(c.debug_crash, CRASH_NONE);
	assert_int_equal(c.tick_hz, CONFIG_DEFAULT_TICK_HZ);
	assert_int_equal(c.slice_ms, CONFIG_DEFAULT_SLICE_MS);
	assert_int_equal(c.fpu, FPU_AUTO);
}

static void test_empty_lines(void **state)
{
	static const char *const empty[] = {"", " ", "      ", "\t", "\n", " \t \n  \t"};
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		assert_int_equal(parse(empty[i]), 0);
		assert_defaults();
	}
	memset(&e, 0, sizeof e);
	config_defaults(&c);
	assert_int_equal(config_parse(&c, NULL, collect, &e), 0);
	assert_int_equal(e.n, 0);
	assert_defaults();
}

static void test_every_key_valid(void **state)
{
	assert_int_equal(parse("name=node-7 log=debug selftest smp=3 panic=reboot debug.exit=1 "
			       "debug.crash=pagefault tick=250 slice=20"),
			 0);
	assert_string_equal(c.name, "node-7");
	assert_int_equal(c.log_level, 0);
	assert_true(c.selftest);
	assert_int_equal(c.smp, 3);
	assert_int_equal(c.panic, PANIC_REBOOT);
	assert_true(c.debug_exit);
	assert_int_equal(c.debug_crash, CRASH_PAGEFAULT);
	assert_int_equal(c.tick_hz, 250);
	assert_int_equal(c.slice_ms, 20);
}

static void test_enum_choices(void **state)
{
	static const char *const levels[] = {"debug", "info", "warn", "error"};
	char line[64];
	for (int i = 0; i < 4; i++) {
		snprintf(line, sizeof line, "log=%s", levels[i]);
		assert_int_equal(parse(line), 0);
		assert_int_equal(c.log_level, i);
	}
	assert_int_equal(parse("panic=halt"), 0);
	assert_int_equal(c.panic, PANIC_HALT);
	assert_int_equal(parse("panic=poweroff"), 0);
	assert_int_equal(c.panic, PANIC_POWEROFF);
	assert_int_equal(parse("fpu=fxsave"), 0);
	assert_int_equal(c.fpu, FPU_FXSAVE);
	assert_int_equal(parse("fpu=auto"), 0);
	assert_int_equal(c.fpu, FPU_AUTO);
	static const char *const crashes[] = {"none", "panic", "pagefault", "ud", "stack"};
	for (int i = 0; i < 5; i++) {
		snprintf(line, sizeof line, "debug.crash=%s", crashes[i]);
		assert_int_equal(parse(line), 0);
		assert_int_equal(c.debug_crash, i);
	}
}

static void test_unknown_key(void **state)
{
	static const char *const unknown[] = {"foo=bar",   "foo",     "sm=1",	  "smpx=1", "SMP=2",
					      "Log=debug", "debug=1", "debug.=1", ".exit=1"};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		assert_int_equal(parse(unknown[i]), 1);
		char key[32];
		snprintf(key, sizeof key, "'%.*s'", (int)strcspn(unknown[i], "="), unknown[i]);
		if (!msg_has(key, "unknown"))
			fail_msg("no 'unknown' error naming %s for \"%s\": %s", key, unknown[i],
				 e.msg[0]);
		assert_defaults();
	}
}

static void test_missing_value(void **state)
{
	/* A bare word is a flag; keys that are not booleans need a value. */
	static const char *const bare[] = {"name",	  "log",  "smp",   "panic",
					   "debug.crash", "tick", "slice", "fpu"};
	for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++) {
		assert_int_equal(parse(bare[i]), 1);
		char key[32];
		snprintf(key, sizeof key, "'%s'", bare[i]);
		if (!msg_has(key, "needs a value"))
			fail_msg("no 'needs a value' error naming %s: %s", key, e.msg[0]);
		assert_defaults();
	}
	/* KEY= with nothing after: an empty value, which no int or enum accepts. */
	static const char *const empty[] = {
		"log=", "smp=", "panic=", "tick=", "selftest=", "debug.exit="};
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		assert_int_equal(parse(empty[i]), 1);
		char key[32];
		snprintf(key, sizeof key, "'%.*s'", (int)strcspn(empty[i], "="), empty[i]);
		if (!msg_has(key, NULL))
			fail_msg("no error naming %s for \"%s\"", key, empty[i]);
		assert_defaults();
	}
	/* An empty string is a valid string value. */
	assert_int_equal(parse("name="), 0);
	assert_string_equal(c.name, "");
}

static void test_bad_int(void **state)
{
	static const char *const bad[] = {
		"smp=abc",
		"smp=1x",
		"smp=x1",
		"smp=-",
		"smp=--1",
		"smp=+1",
		"smp=1.5",
		"smp=0x4",
		"smp= 4",
		"smp=1e3",
		"smp=4,",
		"tick=1k",
		"slice=ms",
		"smp=99999999999999999999",
		"smp=-99999999999999999999",
		"tick=9223372036854775808",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int n = parse(bad[i]);
		char key[32];
		snprintf(key, sizeof key, "'%.*s'", (int)strcspn(bad[i], "="), bad[i]);
		/* "smp= 4" splits into "smp=" (bad) and "4" (unknown key). */
		if (n < 1 || !msg_has(key, "integer"))
			fail_msg("\"%s\": %d errors, none naming %s as a bad integer: %s", bad[i],
				 n, key, e.msg[0]);
		assert_defaults();
	}
}

static void test_int_range(void **state)
{
	static const struct {
		const char *line;
		int ok;
	} cases[] = {
		{"smp=0", 1},		{"smp=64", 1},	   {"smp=65", 0},     {"smp=-1", 0},
		{"smp=1000000", 0},	{"tick=10", 1},	   {"tick=9", 0},     {"tick=10000", 1},
		{"tick=10001", 0},	{"tick=0", 0},	   {"tick=-1000", 0}, {"slice=1", 1},
		{"slice=0", 0},		{"slice=1000", 1}, {"slice=1001", 0}, {"smp=007", 1},
		{"tick=2147483648", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *line = cases[i].line;
		int n = parse(line);
		char key[32];
		snprintf(key, sizeof key, "'%.*s'", (int)strcspn(line, "="), line);
		if (cases[i].ok) {
			if (n != 0)
				fail_msg("\"%s\" rejected: %s", line, e.msg[0]);
			long want = strtol(strchr(line, '=') + 1, NULL, 10);
			int got = !strncmp(line, "smp", 3)    ? c.smp
				  : !strncmp(line, "tick", 4) ? c.tick_hz
							      : c.slice_ms;
			assert_int_equal(got, want);
		} else {
			if (n != 1 || !msg_has(key, ".."))
				fail_msg("\"%s\" accepted or error without the key and range: %s",
					 line, e.msg[0]);
			assert_defaults();
		}
	}
	/* The message states the allowed range. */
	parse("tick=5");
	assert_true(msg_has("10..10000", "'tick'"));
}

static void test_overlong_string(void **state)
{
	char line[CONFIG_NAME_MAX + 16];
	/* CONFIG_NAME_MAX - 1 characters fit (plus the NUL). */
	snprintf(line, sizeof line, "name=%0*d", CONFIG_NAME_MAX - 1, 7);
	assert_int_equal(parse(line), 0);
	assert_int_equal(strlen(c.name), CONFIG_NAME_MAX - 1);
	assert_string_equal(c.name, line + 5);
	/* One more does not, and the name keeps its previous value. */
	snprintf(line, sizeof line, "name=%0*d", CONFIG_NAME_MAX, 7);
	assert_int_equal(parse(line), 1);
	assert_true(msg_has("'name'", "longer"));
	assert_defaults();
	/* After a valid name, an overlong one keeps the valid one. */
	char two[2 * CONFIG_NAME_MAX + 32];
	snprintf(two, sizeof two, "name=first name=%0*d", CONFIG_NAME_MAX + 5, 1);
	assert_int_equal(parse(two), 1);
	assert_string_equal(c.name, "first");
}

static void test_bad_enum(void **state)
{
	static const char *const bad[] = {"log=verbose",      "log=DEBUG",     "log=0",
					  "log=infoo",	      "panic=explode", "panic=Halt",
					  "debug.crash=boom", "debug.crash=1", "log=info,warn",
					  "fpu=xsave"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(bad[i]), 1);
		char key[32];
		snprintf(key, sizeof key, "'%.*s'", (int)strcspn(bad[i], "="), bad[i]);
		if (!msg_has(key, "expected"))
			fail_msg("no error naming %s for \"%s\": %s", key, bad[i], e.msg[0]);
		assert_defaults();
	}
	/* The message lists the choices and names the value. */
	parse("log=verbose");
	assert_true(msg_has("debug|info|warn|error", "'verbose'"));
}

static void test_bools(void **state)
{
	static const char *const yes[] = {"selftest", "selftest=1", "selftest=yes", "selftest=on",
					  "selftest=true"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		assert_int_equal(parse(yes[i]), 0);
		assert_true(c.selftest);
	}
	static const char *const no[] = {"selftest=0", "selftest=no", "selftest=off",
					 "selftest=false"};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		memset(&e, 0, sizeof e);
		config_defaults(&c);
		c.selftest = true;
		assert_int_equal(config_parse(&c, no[i], collect, &e), 0);
		assert_false(c.selftest);
	}
	assert_int_equal(parse("debug.exit"), 0);
	assert_true(c.debug_exit);
	/* Bare flags among other words. */
	assert_int_equal(parse("smp=2 selftest debug.exit log=warn"), 0);
	assert_true(c.selftest);
	assert_true(c.debug_exit);
	assert_int_equal(c.smp, 2);
	assert_int_equal(c.log_level, 2);
}

static void test_bad_bool(void **state)
{
	static const char *const bad[] = {"selftest=maybe",    "selftest=2",   "selftest=YES",
					  "selftest=-1",       "debug.exit=y", "debug.exit=10",
					  "selftest=truefalse"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(bad[i]), 1);
		char key[32];
		snprintf(key, sizeof key, "'%.*s'", (int)strcspn(bad[i], "="), bad[i]);
		if (!msg_has(key, "expected"))
			fail_msg("no error naming %s for \"%s\": %s", key, bad[i], e.msg[0]);
		assert_defaults();
	}
}

static void test_spaces_and_separators(void **state)
{
	assert_int_equal(parse("    smp=4        log=debug     \t\t  selftest    "), 0);
	assert_int_equal(c.smp, 4);
	assert_int_equal(c.log_level, 0);
	assert_true(c.selftest);
	assert_int_equal(parse("smp=2\tlog=warn\nslice=5"), 0);
	assert_int_equal(c.smp, 2);
	assert_int_equal(c.log_level, 2);
	assert_int_equal(c.slice_ms, 5);
	/* Many spaces, far more than a word's worth. */
	char line[4 * CONFIG_WORD_MAX];
	memset(line, ' ', sizeof line - 1);
	line[sizeof line - 1] = 0;
	memcpy(line + 3 * CONFIG_WORD_MAX, "smp=9", 5);
	assert_int_equal(parse(line), 0);
	assert_int_equal(c.smp, 9);
}

static void test_word_too_long(void **state)
{
	/* The longest word accepted is CONFIG_WORD_MAX - 1 bytes: that one reaches the key
	 * lookup (as an unknown key); one byte more is refused as a word. */
	char line[3 * CONFIG_WORD_MAX];
	memset(line, 'k', CONFIG_WORD_MAX - 1);
	line[CONFIG_WORD_MAX - 1] = 0;
	assert_int_equal(parse(line), 1);
	assert_true(msg_has("unknown", NULL));

	for (size_t len = CONFIG_WORD_MAX; len < CONFIG_WORD_MAX + 3; len++) {
		memset(line, 0, sizeof line);
		memcpy(line, "name=", 5);
		memset(line + 5, 'n', len - 5);
		strcat(line, " smp=5");
		assert_int_equal(parse(line), 1);
		char want[32];
		snprintf(want, sizeof want, "longer than %d", CONFIG_WORD_MAX - 1);
		if (!msg_has(want, "name="))
			fail_msg("%zu-byte word: %s", len, e.msg[0]);
		assert_string_equal(c.name, CONFIG_DEFAULT_NAME);
		assert_int_equal(c.smp, 5); /* the next word is still parsed */
	}
	/* A huge word, well past the buffer. */
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = 0;
	assert_int_equal(parse(line), 1);
	assert_defaults();
}

static void test_no_key(void **state)
{
	static const char *const bad[] = {"=5", "=", "==", "=smp=4"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(bad[i]), 1);
		if (!msg_has("no key", NULL))
			fail_msg("\"%s\": %s", bad[i], e.msg[0]);
		assert_defaults();
	}
}

static void test_errors_do_not_stop_parsing(void **state)
{
	int n = parse("foo=bar log=verbose smp=abc =x tick=5 selftest=maybe smp=3 log=warn "
		      "name=after panic=reboot");
	assert_int_equal(n, 6);
	assert_int_equal(c.smp, 3);
	assert_int_equal(c.log_level, 2);
	assert_string_equal(c.name, "after");
	assert_int_equal(c.panic, PANIC_REBOOT);
	assert_int_equal(c.tick_hz, CONFIG_DEFAULT_TICK_HZ);
	assert_false(c.selftest);
	/* One message per bad word, each naming its key, in order. */
	assert_non_null(strstr(e.msg[0], "'foo'"));
	assert_non_null(strstr(e.msg[1], "'log'"));
	assert_non_null(strstr(e.msg[2], "'smp'"));
	assert_non_null(strstr(e.msg[3], "no key"));
	assert_non_null(strstr(e.msg[4], "'tick'"));
	assert_non_null(strstr(e.msg[5], "'selftest'"));
	for (int i = 0; i < n; i++)
		assert_non_null(strstr(e.msg[i], "config: "));
}

static void test_bad_value_keeps_earlier_value(void **state)
{
	/* A bad value leaves the key as it was, which may be an earlier valid setting. */
	assert_int_equal(parse("smp=4 smp=abc log=warn log=loud"), 2);
	assert_int_equal(c.smp, 4);
	assert_int_equal(c.log_level, 2);
	assert_true(msg_has("'smp'", "4"));
	/* The last valid setting wins. */
	assert_int_equal(parse("smp=2 smp=3"), 0);
	assert_int_equal(c.smp, 3);
}

static void test_value_with_equals(void **state)
{
	assert_int_equal(parse("name=a=b"), 0);
	assert_string_equal(c.name, "a=b");
	assert_int_equal(parse("smp=1=2"), 1);
	assert_true(msg_has("'smp'", "1=2"));
}

static void test_null_callback(void **state)
{
	config_defaults(&c);
	assert_int_equal(config_parse(&c, "foo smp=abc =1 smp=2", NULL, NULL), 3);
	assert_int_equal(c.smp, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_lines),
		cmocka_unit_test(test_every_key_valid),
		cmocka_unit_test(test_enum_choices),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_missing_value),
		cmocka_unit_test(test_bad_int),
		cmocka_unit_test(test_int_range),
		cmocka_unit_test(test_overlong_string),
		cmocka_unit_test(test_bad_enum),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_bad_bool),
		cmocka_unit_test(test_spaces_and_separators),
		cmocka_unit_test(test_word_too_long),
		cmocka_unit_test(test_no_key),
		cmocka_unit_test(test_errors_do_not_stop_parsing),
		cmocka_unit_test(test_bad_value_keeps_earlier_value),
		cmocka_unit_test(test_value_with_equals),
		cmocka_unit_test(test_null_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
