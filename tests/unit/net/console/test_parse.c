/* sources: net/console/parse.c */
/* test_parse.c: the command language: every command in its good forms and its bad ones
 * (missing, extra and malformed arguments, out-of-range numbers, over-long names), the
 * tokenizer (quotes, backslashes, empty tokens), --json anywhere, submit's defaults and
 * every option, and the error codes (usage, unknown, toolong, binary, toobig). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/console/console.h"

static struct console_cmd cmd;
static char err[256];

#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static int parse(const char *line)
{
	memset(err, 'X', sizeof err);
	return console_parse(line, strlen(line), &cmd, err, sizeof err);
}

static void ok(const char *line)
{
	if (parse(line) != 0)
		fail_msg("'%s' refused: %s", line, err);
}

/* Refused with this code; the message mentions `what` (when given). */
static void bad(const char *line, const char *code, const char *what)
{
	if (parse(line) == 0)
		fail_msg("'%s' accepted", line);
	assert_true(strnlen(err, sizeof err) < sizeof err);
	size_t n = strlen(code);
	if (strncmp(err, code, n) || err[n] != ' ')
		fail_msg("'%s': '%s' is not code %s", line, err, code);
	if (what && !strstr(err, what))
		fail_msg("'%s': '%s' does not say '%s'", line, err, what);
}

static void test_simple_commands(void **state)
{
	static const struct {
		const char *word;
		enum console_cmd_kind kind;
	} t[] = {
		{"members", CONSOLE_MEMBERS}, {"nodes", CONSOLE_NODES},
		{"jobs", CONSOLE_JOBS},	      {"ps", CONSOLE_PS},
		{"stats", CONSOLE_STATS},     {"shutdown", CONSOLE_SHUTDOWN},
		{"reboot", CONSOLE_REBOOT},   {"quit", CONSOLE_QUIT},
		{"help", CONSOLE_HELP},
	};
	char line[64];
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		ok(t[i].word);
		assert_int_equal(cmd.kind, t[i].kind);
		assert_false(cmd.json);
		snprintf(line, sizeof line, "  %s\t--json ", t[i].word);
		ok(line);
		assert_int_equal(cmd.kind, t[i].kind);
		assert_true(cmd.json);
		snprintf(line, sizeof line, "%s extra", t[i].word);
		if (t[i].kind != CONSOLE_HELP)
			bad(line, "usage", "unexpected argument 'extra'");
	}
}

static void test_unknown_and_empty(void **state)
{
	bad("frobnicate", "unknown", "frobnicate");
	bad("HELP", "unknown", NULL); /* command words are lower case */
	bad("", "usage", "empty line");
	bad("   \t ", "usage", "empty line");
	bad("--json", "unknown", NULL);
}

static void test_help(void **state)
{
	ok("help");
	assert_string_equal(cmd.u.topic, "");
	ok("help submit");
	assert_string_equal(cmd.u.topic, "submit");
	ok("help --json logs");
	assert_true(cmd.json);
	assert_string_equal(cmd.u.topic, "logs");
	bad("help nosuch", "unknown", "nosuch");
	bad("help jobs ps", "usage", "unexpected");
	/* help lists every command, and each usage starts with its word. */
	for (int k = CONSOLE_HELP; k <= CONSOLE_QUIT; k++) {
		const char *u = console_usage((enum console_cmd_kind)k);
		assert_true(strlen(u) > 0);
		assert_non_null(strstr(console_help(), u));
	}
	assert_int_equal(strncmp(console_usage(CONSOLE_SUBMIT), "submit ", 7), 0);
}

static void test_submit_defaults(void **state)
{
	ok("submit hello");
	assert_int_equal(cmd.kind, CONSOLE_SUBMIT);
	const struct cluster_job_spec *j = &cmd.u.submit.spec;
	assert_string_equal(j->name, "");
	assert_int_equal(j->kind, CLUSTER_BATCH);
	assert_int_equal(j->count, 1);
	assert_int_equal(j->cpu, 1);
	assert_int_equal(j->mem_mib, 32);
	assert_int_equal(j->max_retries, CLUSTER_RETRIES_DEFAULT);
	assert_int_equal(j->score, CLUSTER_SPREAD);
	assert_false(j->distinct);
	assert_int_equal(j->nconstraints, 0);
	assert_string_equal(j->program, "/bin/hello");
	assert_false(j->has_blob);
	assert_int_equal(j->argv_len, sizeof "/bin/hello");
	assert_memory_equal(j->argv, "/bin/hello", sizeof "/bin/hello");
	assert_int_equal(j->env_len, 0);
	assert_false(cmd.u.submit.wait);
	assert_false(cmd.json);
}

static void test_submit_everything(void **state)
{
	ok("submit --service --count 3 --cpu=2 --mem 128 --constraint zone=a "
	   "--constraint=disk=ssd --distinct --binpack --retries 0 --env A=1 --env=B_2= "
	   "--name web-1 --wait --json /bin/echo-server --port 7 \"two words\" --json");
	const struct cluster_job_spec *j = &cmd.u.submit.spec;
	assert_true(cmd.json);
	assert_true(cmd.u.submit.wait);
	assert_int_equal(j->kind, CLUSTER_SERVICE);
	assert_int_equal(j->count, 3);
	assert_int_equal(j->cpu, 2);
	assert_int_equal(j->mem_mib, 128);
	assert_int_equal(j->nconstraints, 2);
	assert_string_equal(j->constraints[0], "zone=a");
	assert_string_equal(j->constraints[1], "disk=ssd");
	assert_true(j->distinct);
	assert_int_equal(j->score, CLUSTER_BINPACK);
	assert_int_equal(j->max_retries, 0);
	assert_int_equal(j->env_len, sizeof "A=1" + sizeof "B_2=");
	assert_memory_equal(j->env, "A=1\0B_2=", j->env_len);
	assert_string_equal(j->name, "web-1");
	assert_string_equal(j->program, "/bin/echo-server");
	static const char argv[] = "/bin/echo-server\0--port\0"
				   "7\0two words\0--json";
	assert_int_equal(j->argv_len, sizeof argv);
	assert_memory_equal(j->argv, argv, sizeof argv);
}

static void test_submit_blob(void **state)
{
	ok("submit sha256:" HEX64 " a");
	const struct cluster_job_spec *j = &cmd.u.submit.spec;
	assert_true(j->has_blob);
	assert_int_equal(j->blob_sha256[0], 0x00);
	assert_int_equal(j->blob_sha256[1], 0x11);
	assert_int_equal(j->blob_sha256[31], 0xff);
	assert_string_equal(
		j->program,
		"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	assert_string_equal(j->argv, j->program);
	assert_string_equal(j->argv + strlen(j->argv) + 1, "a");
	bad("submit sha256:abc", "usage", "64 hex");
	bad("submit sha256:" HEX64 "0", "usage", "64 hex");
	bad("submit sha256:g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	    "usage", "64 hex");
}

static void test_submit_end_of_options(void **state)
{
	ok("submit --count 2 -- hello -x --json");
	assert_false(cmd.json);
	assert_int_equal(cmd.u.submit.spec.count, 2);
	assert_memory_equal(cmd.u.submit.spec.argv, "/bin/hello\0-x\0--json\0", 21);
	bad("submit --", "usage", "missing PROGRAM");
}

static void test_submit_bad(void **state)
{
	bad("submit", "usage", "missing PROGRAM");
	bad("submit --count 2", "usage", "missing PROGRAM");
	bad("submit --count", "usage", "--count needs a value");
	bad("submit --count 0 hello", "usage", "--count wants a number in 1..100000, got '0'");
	bad("submit --count 100001 hello", "usage", "--count");
	bad("submit --count 99999999999999999999999 hello", "usage", "--count");
	bad("submit --count -1 hello", "usage", "--count");
	bad("submit --count 3x hello", "usage", "--count");
	bad("submit --count= hello", "usage", "--count");
	bad("submit --cpu 0 hello", "usage", "--cpu");
	bad("submit --cpu 1025 hello", "usage", "--cpu");
	bad("submit --mem 0 hello", "usage", "--mem");
	bad("submit --mem 1048577 hello", "usage", "--mem");
	bad("submit --retries 1001 hello", "usage", "--retries");
	bad("submit --batch --service hello", "usage", "together");
	bad("submit --frob hello", "usage", "unknown option '--frob'");
	bad("submit --constraint zone hello", "usage", "TAG=VALUE");
	bad("submit --constraint =a hello", "usage", "TAG=VALUE");
	bad("submit --constraint a= hello", "usage", "TAG=VALUE");
	bad("submit --constraint a=b,c=d hello", "usage", "TAG=VALUE");
	bad("submit --constraint a=b=c hello", "usage", "TAG=VALUE");
	bad("submit --constraint \"a b=c\" hello", "usage", "TAG=VALUE");
	bad("submit --constraint a=1 --constraint b=2 --constraint c=3 --constraint d=4 "
	    "--constraint e=5 hello",
	    "usage", "more than 4");
	bad("submit --constraint "
	    "k=vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv hello",
	    "usage", "over 63");
	bad("submit --env X hello", "usage", "NAME=VALUE");
	bad("submit --env 1X=2 hello", "usage", "NAME=VALUE");
	bad("submit --env X-Y=2 hello", "usage", "NAME=VALUE");
	bad("submit --name \"\" hello", "usage", "--name");
	bad("submit --name \"a b\" hello", "usage", "--name");
	bad("submit --name .hidden hello", "usage", "--name");
	bad("submit --name j0123abcde hello", "usage", "job id");
	bad("submit ./prog", "usage", "absolute");
	bad("submit bin/prog", "usage", "absolute");
	bad("submit \"\"", "usage", "PROGRAM");
	bad("submit \"he llo\"", "usage", "PROGRAM");
	bad("submit he$llo", "usage", "PROGRAM");
	bad("submit \"unterminated", "usage", "unterminated quote");
	/* the usage line is in the message */
	bad("submit", "usage", "usage: submit [--batch|--service]");
}

static void test_submit_limits(void **state)
{
	char line[CONSOLE_LINE_MAX + 64];
	char name[CLUSTER_NAME_MAX + 2];

	/* --name: 63 bytes pass, 64 do not. */
	memset(name, 'n', sizeof name);
	name[CLUSTER_NAME_MAX] = '\0';
	snprintf(line, sizeof line, "submit --name %s hello", name);
	ok(line);
	assert_string_equal(cmd.u.submit.spec.name, name);
	name[CLUSTER_NAME_MAX] = 'n';
	name[CLUSTER_NAME_MAX + 1] = '\0';
	snprintf(line, sizeof line, "submit --name %s hello", name);
	bad(line, "usage", "--name must be 1..63 bytes");

	/* PROGRAM: 127 bytes pass, 128 do not; a bare name counts with its /bin/. */
	char prog[CLUSTER_PROGRAM_MAX + 2];
	memset(prog, 'p', sizeof prog);
	prog[0] = '/';
	prog[CLUSTER_PROGRAM_MAX] = '\0';
	snprintf(line, sizeof line, "submit %s", prog);
	ok(line);
	prog[CLUSTER_PROGRAM_MAX] = 'p';
	prog[CLUSTER_PROGRAM_MAX + 1] = '\0';
	snprintf(line, sizeof line, "submit %s", prog);
	bad(line, "usage", "over 127");
	snprintf(line, sizeof line, "submit %s", prog + 5);
	bad(line, "usage", "over 127");

	/* argv: "/bin/x" + NUL = 7 bytes, then args of 9 bytes + NUL each; 512 in all. */
	size_t n = (size_t)snprintf(line, sizeof line, "submit x");
	size_t used = 7;
	while (used + 10 <= CLUSTER_ARGV_BYTES) {
		n += (size_t)snprintf(line + n, sizeof line - n, " 123456789");
		used += 10;
	}
	/* fill to exactly 512 */
	size_t rest = CLUSTER_ARGV_BYTES - used - 1;
	line[n++] = ' ';
	memset(line + n, 'a', rest);
	n += rest;
	line[n] = '\0';
	ok(line);
	assert_int_equal(cmd.u.submit.spec.argv_len, CLUSTER_ARGV_BYTES);
	line[n++] = 'a';
	line[n] = '\0';
	bad(line, "usage", "arguments are over 512 bytes");

	/* one token over the tokenizer's bound */
	memset(line, 'z', sizeof line);
	memcpy(line, "submit x ", 9);
	line[9 + CLUSTER_ARGV_BYTES + 1] = '\0';
	bad(line, "usage", "over 512 bytes");

	/* env: 256 bytes */
	n = (size_t)snprintf(line, sizeof line, "submit");
	for (int i = 0; i < 26; i++)
		n += (size_t)snprintf(line + n, sizeof line - n, " --env V%c=1234567", 'A' + i);
	n += (size_t)snprintf(line + n, sizeof line - n, " x");
	bad(line, "usage", "environment is over 256 bytes");
}

static void test_tokenizer(void **state)
{
	ok("submit echo \"a b\" a\"b c\"d \"\" \"q\\\"uote\" \"back\\\\slash\" out\\side");
	static const char argv[] = "/bin/echo\0a b\0ab cd\0\0q\"uote\0back\\slash\0out\\side";
	assert_int_equal(cmd.u.submit.spec.argv_len, sizeof argv);
	assert_memory_equal(cmd.u.submit.spec.argv, argv, sizeof argv);
	ok("\"status\" \"j1\"");
	assert_int_equal(cmd.kind, CONSOLE_STATUS);
	bad("status \"j1", "usage", "unterminated");
	bad("status \"j1\\\"", "usage", "unterminated");
	bad("status \"j1\\", "usage", "unterminated");
}

static void test_status_stop(void **state)
{
	ok("status j0123456789");
	assert_int_equal(cmd.kind, CONSOLE_STATUS);
	assert_string_equal(cmd.u.job, "j0123456789");
	ok("stop --json web-1");
	assert_int_equal(cmd.kind, CONSOLE_STOP);
	assert_true(cmd.json);
	assert_string_equal(cmd.u.job, "web-1");
	bad("status", "usage", "missing JOB");
	bad("stop", "usage", "missing JOB");
	bad("status a b", "usage", "unexpected argument 'b'");
	bad("status \"a b\"", "usage", "not allowed");
	bad("status \"\"", "usage", "1..64");
	bad("status \xc3\xa9", "usage", "not allowed");
	char line[128];
	snprintf(line, sizeof line, "stop %064d", 0);
	ok(line);
	snprintf(line, sizeof line, "stop %065d", 0);
	bad(line, "usage", "JOB must be 1..64 bytes");
}

static void test_scale(void **state)
{
	ok("scale web 5");
	assert_int_equal(cmd.kind, CONSOLE_SCALE);
	assert_string_equal(cmd.u.scale.job, "web");
	assert_int_equal(cmd.u.scale.count, 5);
	ok("scale web 0");
	assert_int_equal(cmd.u.scale.count, 0);
	ok("scale web 100000 --json");
	assert_true(cmd.json);
	bad("scale web", "usage", "missing N");
	bad("scale", "usage", "missing JOB");
	bad("scale web 100001", "usage", "0..100000");
	bad("scale web five", "usage", "got 'five'");
	bad("scale web 5 6", "usage", "unexpected");
}

static void test_logs(void **state)
{
	ok("logs j0123456789.3");
	assert_int_equal(cmd.kind, CONSOLE_LOGS);
	assert_string_equal(cmd.u.logs.inst, "j0123456789.3");
	assert_false(cmd.u.logs.follow);
	ok("logs j0123456789.3#2 -f");
	assert_true(cmd.u.logs.follow);
	assert_string_equal(cmd.u.logs.inst, "j0123456789.3#2");
	ok("logs -f --json x.0");
	assert_true(cmd.u.logs.follow);
	assert_true(cmd.json);
	ok("logs --follow x.0");
	assert_true(cmd.u.logs.follow);
	bad("logs", "usage", "missing INSTANCE");
	bad("logs -f", "usage", "missing INSTANCE");
	bad("logs a b", "usage", "unexpected");
	bad("logs a -x", "usage", "unknown option '-x'");
}

static void test_upload(void **state)
{
	ok("upload 1234 " HEX64);
	assert_int_equal(cmd.kind, CONSOLE_UPLOAD);
	assert_int_equal(cmd.u.upload.size, 1234);
	assert_int_equal(cmd.u.upload.sha256[0], 0);
	assert_int_equal(cmd.u.upload.sha256[31], 0xff);
	char line[200];
	snprintf(line, sizeof line, "upload %u " HEX64, CONSOLE_UPLOAD_MAX);
	ok(line);
	assert_int_equal(cmd.u.upload.size, CONSOLE_UPLOAD_MAX);
	snprintf(line, sizeof line, "upload %u " HEX64, CONSOLE_UPLOAD_MAX + 1);
	bad(line, "toobig", "over the limit");
	bad("upload 99999999999999999999999999 " HEX64, "toobig", NULL);
	bad("upload 0 " HEX64, "usage", "SIZE");
	bad("upload -5 " HEX64, "usage", "SIZE");
	bad("upload", "usage", "missing SIZE");
	bad("upload 10", "usage", "missing SHA256HEX");
	bad("upload 10 abcd", "usage", "64 hex");
	bad("upload 10 " HEX64 " x", "usage", "unexpected");
}

static void test_drain(void **state)
{
	ok("drain node-3");
	assert_int_equal(cmd.kind, CONSOLE_DRAIN);
	assert_string_equal(cmd.u.drain.node, "node-3");
	assert_false(cmd.u.drain.off);
	ok("drain --off node-3");
	assert_true(cmd.u.drain.off);
	ok("drain node-3 --off");
	assert_true(cmd.u.drain.off);
	bad("drain", "usage", "missing NODE");
	bad("drain a b", "usage", "unexpected");
	bad("drain a --on", "usage", "unknown option");
}

static void test_keys(void **state)
{
	ok("keys list");
	assert_int_equal(cmd.kind, CONSOLE_KEYS);
	assert_int_equal(cmd.u.keys.op, CONSOLE_KEYS_LIST);
	assert_false(cmd.json);
	ok("keys --json list"); /* where shoalctl --json puts it */
	assert_int_equal(cmd.u.keys.op, CONSOLE_KEYS_LIST);
	assert_true(cmd.json);
	ok("keys install AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	assert_int_equal(cmd.u.keys.op, CONSOLE_KEYS_INSTALL);
	assert_string_equal(cmd.u.keys.key, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	ok("keys use abc+/=");
	assert_int_equal(cmd.u.keys.op, CONSOLE_KEYS_USE);
	ok("keys remove abc --json");
	assert_int_equal(cmd.u.keys.op, CONSOLE_KEYS_REMOVE);
	assert_true(cmd.json);
	bad("keys", "usage", "missing list");
	bad("keys rotate", "usage", "unknown keys action");
	bad("keys install", "usage", "missing KEY");
	bad("keys install a-b", "usage", "base64");
	bad("keys list x", "usage", "unexpected");
	bad("keys use a b", "usage", "unexpected");
}

static void test_log(void **state)
{
	ok("log");
	assert_int_equal(cmd.kind, CONSOLE_LOG);
	assert_int_equal(cmd.u.lines, 100);
	ok("log 5");
	assert_int_equal(cmd.u.lines, 5);
	bad("log 0", "usage", "1..2000");
	bad("log 2001", "usage", "1..2000");
	bad("log x", "usage", "got 'x'");
	bad("log 1 2", "usage", "unexpected");
}

static void test_toolong_binary(void **state)
{
	static char line[CONSOLE_LINE_MAX + 2];
	memset(line, ' ', sizeof line);
	memcpy(line, "ps", 2);
	assert_int_equal(console_parse(line, CONSOLE_LINE_MAX, &cmd, err, sizeof err), 0);
	line[CONSOLE_LINE_MAX] = '\r';
	assert_int_equal(console_parse(line, CONSOLE_LINE_MAX + 1, &cmd, err, sizeof err), 0);
	line[CONSOLE_LINE_MAX] = ' ';
	assert_int_equal(console_parse(line, CONSOLE_LINE_MAX + 1, &cmd, err, sizeof err), -1);
	assert_int_equal(strncmp(err, "toolong ", 8), 0);
	assert_int_equal(console_parse("ps\0x", 4, &cmd, err, sizeof err), -1);
	assert_int_equal(strncmp(err, "binary ", 7), 0);
	bad("ps\x1b", "binary", NULL);
	bad("ps\x7f", "binary", NULL);
	bad("p\rs", "binary", NULL);
	ok("ps\r");
	/* not NUL-terminated: only len bytes are read */
	assert_int_equal(console_parse("jobsXXXX", 4, &cmd, err, sizeof err), 0);
	assert_int_equal(cmd.kind, CONSOLE_JOBS);
}

static void test_small_err_buffer(void **state)
{
	char small[8];
	assert_int_equal(console_parse("frob", 4, &cmd, small, sizeof small), -1);
	assert_string_equal(small, "unknown");
	assert_int_equal(console_parse("frob", 4, &cmd, small, 0), -1);
	assert_int_equal(console_parse("submit", 6, &cmd, small, 3), -1);
	assert_string_equal(small, "us");
}

static void test_random_lines(void **state)
{
	/* Random text from the language's own alphabet: never a crash, always a verdict, a
	 * NUL-terminated message that starts with a known code when refused. */
	static const char *words[] = {"submit", "--count", "3",	     "\"",	"\\",
				      "--json", "logs",	   "-f",     "sha256:", "=",
				      "--env",	"A=1",	   "keys",   "use",	"--name",
				      "x",	" ",	   "upload", "--",	"--constraint"};
	static const char *codes[] = {"usage ", "unknown ", "toobig ", "toolong ", "binary "};
	char line[256];
	srand(11);
	for (int i = 0; i < 20000; i++) {
		size_t n = 0;
		int w = rand() % 12;
		for (int k = 0; k < w; k++)
			n += (size_t)snprintf(line + n, sizeof line - n, "%s ",
					      words[rand() % (sizeof words / sizeof words[0])]);
		int r = console_parse(line, n, &cmd, err, sizeof err);
		if (r == 0)
			continue;
		assert_int_equal(r, -1);
		bool known = false;
		for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++)
			known |= !strncmp(err, codes[c], strlen(codes[c]));
		if (!known)
			fail_msg("'%s' -> '%s'", line, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_commands),
		cmocka_unit_test(test_unknown_and_empty),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_submit_defaults),
		cmocka_unit_test(test_submit_everything),
		cmocka_unit_test(test_submit_blob),
		cmocka_unit_test(test_submit_end_of_options),
		cmocka_unit_test(test_submit_bad),
		cmocka_unit_test(test_submit_limits),
		cmocka_unit_test(test_tokenizer),
		cmocka_unit_test(test_status_stop),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_logs),
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_toolong_binary),
		cmocka_unit_test(test_small_err_buffer),
		cmocka_unit_test(test_random_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
