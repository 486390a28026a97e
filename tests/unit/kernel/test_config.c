/* sources: kernel/config.c kernel/printf.c net/gossip/config.c net/gossip/keyring.c */
/* test_config.c: the kernel command-line parser against every malformed form: each
 * error is reported naming its key, the key keeps its value, and the rest of the line
 * is still applied. The gossip keys are checked with the core's own parsers
 * (gossip_keyring_parse, gossip_config_set), which are linked in. */
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
	assert_int_equal(c.gossip, d.gossip);
	assert_string_equal(c.cluster, d.cluster);
	assert_string_equal(c.cluster_key, d.cluster_key);
	assert_int_equal(c.gossip_plaintext, d.gossip_plaintext);
	assert_int_equal(c.nseeds, d.nseeds);
	assert_string_equal(c.tags, d.tags);
	assert_int_equal(c.gossip_profile, d.gossip_profile);
	assert_memory_equal(&c.gossip_cfg, &d.gossip_cfg, sizeof c.gossip_cfg);
}

/* Base64 keys: 32, 16 and 24 bytes, and one of 15 bytes (no AES key size). */
#define KEY32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY16 "ZGVmZ2hpamtsbW5vcHFycw=="
#define KEY24 "MjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJ"
#define KEY15 "AAECAwQFBgcICQoLDA0O"

/* Every field of struct gossip_config, as gossip.FIELD names it. */
static const char *const fields[] = {
	"probe_interval_ms",	"probe_timeout_ms",
	"indirect_checks",	"suspicion_mult",
	"suspicion_max_mult",	"gossip_interval_ms",
	"gossip_nodes",		"retransmit_mult",
	"pushpull_interval_ms", "awareness_max",
	"dead_reclaim_ms",	"join_retry_ms",
	"meta_min_interval_ms", "udp_max",
};
#define NFIELDS (sizeof fields / sizeof fields[0])
_Static_assert(NFIELDS * sizeof(uint32_t) == sizeof(struct gossip_config),
	       "a field of struct gossip_config is missing from fields[]");

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
	assert_true(c.gossip);
	assert_string_equal(c.cluster, CONFIG_DEFAULT_CLUSTER);
	assert_string_equal(c.cluster_key, "");
	assert_false(c.gossip_plaintext);
	assert_int_equal(c.nseeds, 0);
	assert_string_equal(c.tags, "");
	assert_int_equal(c.gossip_profile, GOSSIP_PROFILE_FAST);
	struct gossip_config fast;
	gossip_profile(&fast, GOSSIP_PROFILE_FAST);
	assert_memory_equal(&c.gossip_cfg, &fast, sizeof fast);
	assert_int_equal(c.task_mem, 0);
	assert_int_equal(c.task_max, CONFIG_DEFAULT_TASK_MAX);
	assert_int_equal(c.task_keep, CONFIG_DEFAULT_TASK_KEEP);
	assert_int_equal(c.nrun, 0);
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

static void test_gossip_keys_valid(void **state)
{
	assert_int_equal(parse("gossip=1 cluster=rack-7 cluster.key=" KEY32 "," KEY16 "," KEY24
			       " gossip.plaintext seeds=10.0.0.1,10.0.0.2:8000,192.168.255.254:1 "
			       "tags=dc=east,role=db,empty= gossip.profile=lan"),
			 0);
	assert_true(c.gossip);
	assert_string_equal(c.cluster, "rack-7");
	assert_string_equal(c.cluster_key, KEY32 "," KEY16 "," KEY24);
	assert_true(c.gossip_plaintext);
	assert_int_equal(c.nseeds, 3);
	assert_int_equal(c.seeds[0].ip, 0x0a000001);
	assert_int_equal(c.seeds[0].port, GOSSIP_PORT);
	assert_int_equal(c.seeds[1].ip, 0x0a000002);
	assert_int_equal(c.seeds[1].port, 8000);
	assert_int_equal(c.seeds[2].ip, 0xc0a8fffe);
	assert_int_equal(c.seeds[2].port, 1);
	assert_string_equal(c.tags, "dc=east,role=db,empty=");
	assert_int_equal(c.gossip_profile, GOSSIP_PROFILE_LAN);
	struct gossip_config lan;
	gossip_profile(&lan, GOSSIP_PROFILE_LAN);
	assert_memory_equal(&c.gossip_cfg, &lan, sizeof lan);

	assert_int_equal(parse("gossip=0"), 0);
	assert_false(c.gossip);
	/* The unauthenticated diagnostic services are off unless asked for. */
	assert_false(c.net_diag);
	assert_int_equal(parse("net.diag=1"), 0);
	assert_true(c.net_diag);
	/* Empty lists: no seeds (discovery), no tags. */
	assert_int_equal(parse("seeds= tags="), 0);
	assert_int_equal(c.nseeds, 0);
	assert_string_equal(c.tags, "");
	/* Every key of the keyring's size fits a word and the buffer. */
	char line[CONFIG_WORD_MAX];
	int n = snprintf(line, sizeof line, "cluster.key=%s", KEY32);
	for (int i = 1; i < GOSSIP_KEYS_MAX; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, ",%s", KEY32);
	assert_int_equal(parse(line), 0);
	assert_string_equal(c.cluster_key, line + strlen("cluster.key="));
	/* The longest seed list. */
	n = snprintf(line, sizeof line, "seeds=10.0.0.1");
	for (int i = 1; i < CONFIG_SEEDS_MAX; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, ",10.0.0.%d:%d", i + 1, 7000 + i);
	assert_int_equal(parse(line), 0);
	assert_int_equal(c.nseeds, CONFIG_SEEDS_MAX);
	assert_int_equal(c.seeds[CONFIG_SEEDS_MAX - 1].port, 7000 + CONFIG_SEEDS_MAX - 1);
}

static void test_bad_seeds(void **state)
{
	static const char *const bad[] = {
		"seeds=10.0.0",	     "seeds=10.0.0.1.2",
		"seeds=10.0.0.256",  "seeds=10.0.0.1:",
		"seeds=10.0.0.1:0",  "seeds=10.0.0.1:65536",
		"seeds=10.0.0.1:x",  "seeds=host.local",
		"seeds=10.0.0.1,",   "seeds=,10.0.0.1",
		"seeds=10.0.0.1,,2", "seeds=0.0.0.0",
		"seeds=-1.0.0.1",    "seeds=10.0.0.1:80:1",
		"seeds=10..0.1",     "seeds=1.2.3.4:99999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i]) != 1 ||
		    (!msg_has("'seeds'", "IP[:PORT]") && !msg_has("'seeds'", "empty entry")))
			fail_msg("\"%s\" accepted or error without the key: %s", bad[i], e.msg[0]);
		assert_defaults();
	}
	/* A bad entry keeps an earlier valid list whole. */
	assert_int_equal(parse("seeds=10.0.0.9 seeds=10.0.0.1,nope"), 1);
	assert_int_equal(c.nseeds, 1);
	assert_int_equal(c.seeds[0].ip, 0x0a000009);
	assert_true(msg_has("'nope'", "'seeds'"));
	/* One seed too many. */
	char line[CONFIG_WORD_MAX];
	int n = snprintf(line, sizeof line, "seeds=10.0.0.1");
	for (int i = 1; i <= CONFIG_SEEDS_MAX; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, ",10.0.0.%d", i + 1);
	assert_int_equal(parse(line), 1);
	assert_true(msg_has("'seeds'", "more than"));
	assert_defaults();
}

static void test_bad_key(void **state)
{
	static const char *const bad[] = {
		"cluster.key=" KEY15,	  "cluster.key=not-base64!",
		"cluster.key=" KEY32 ",", "cluster.key=" KEY32 ",," KEY16,
		"cluster.key=",		  "cluster.key=" KEY32 "x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i]) != 1 || !msg_has("'cluster.key'", "base64"))
			fail_msg("\"%s\" accepted or error without the key: %s", bad[i], e.msg[0]);
		/* The value is a secret: never echoed. */
		const char *v = strchr(bad[i], '=') + 1;
		if (*v && msg_has(v, NULL))
			fail_msg("the message echoes the key: %s", e.msg[0]);
		assert_defaults();
	}
	/* More keys than the keyring holds. */
	char line[CONFIG_WORD_MAX];
	int n = snprintf(line, sizeof line, "cluster.key=%s", KEY16);
	for (int i = 0; i < GOSSIP_KEYS_MAX; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, ",%s", KEY16);
	assert_int_equal(parse(line), 1);
	assert_true(msg_has("'cluster.key'", NULL));
	assert_false(msg_has(KEY16, NULL));
	assert_defaults();
	/* A word too long to parse shows none of the key either. */
	char huge[CONFIG_WORD_MAX + 8];
	n = snprintf(huge, sizeof huge, "cluster.key=");
	while ((size_t)n < sizeof huge - 1)
		huge[n++] = 'A';
	huge[n] = 0;
	assert_int_equal(parse(huge), 1);
	assert_true(msg_has("'cluster.key=...'", "longer than"));
	assert_false(msg_has("AAAA", NULL));
	assert_defaults();
	/* A valid key is kept after a bad one. */
	assert_int_equal(parse("cluster.key=" KEY16 " cluster.key=" KEY15), 1);
	assert_string_equal(c.cluster_key, KEY16);
}

static void test_bad_tags_and_cluster(void **state)
{
	static const char *const bad[] = {"tags=role",	   "tags==db",	"tags=a=b,",
					  "tags=a=b,,c=d", "tags=,a=b", "tags=a=b,c"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i]) != 1 || !msg_has("'tags'", NULL))
			fail_msg("\"%s\" accepted or error without the key: %s", bad[i], e.msg[0]);
		assert_defaults();
	}
	/* GOSSIP_TAGS_MAX bytes fit; one more does not. */
	char line[CONFIG_WORD_MAX];
	int n = snprintf(line, sizeof line, "tags=k=");
	while (n < (int)strlen("tags=") + GOSSIP_TAGS_MAX)
		line[n++] = 'v';
	line[n] = 0;
	assert_int_equal(parse(line), 0);
	assert_int_equal(strlen(c.tags), GOSSIP_TAGS_MAX);
	strcat(line, "v");
	assert_int_equal(parse(line), 1);
	assert_true(msg_has("'tags'", "longer than"));
	assert_defaults();
	/* Cluster names up to GOSSIP_CLUSTER_MAX bytes. */
	n = snprintf(line, sizeof line, "cluster=");
	while (n < (int)strlen("cluster=") + GOSSIP_CLUSTER_MAX)
		line[n++] = 'c';
	line[n] = 0;
	assert_int_equal(parse(line), 0);
	assert_int_equal(strlen(c.cluster), GOSSIP_CLUSTER_MAX);
	strcat(line, "c");
	assert_int_equal(parse(line), 1);
	assert_true(msg_has("'cluster'", "longer"));
	assert_defaults();
	/* The profile is an enum; gossip and gossip.plaintext are flags. */
	assert_int_equal(parse("gossip.profile=wan"), 1);
	assert_true(msg_has("'gossip.profile'", "fast|lan"));
	assert_int_equal(parse("gossip=maybe gossip.plaintext=2"), 2);
	assert_true(msg_has("'gossip'", "expected"));
	assert_true(msg_has("'gossip.plaintext'", "expected"));
	assert_defaults();
}

/* Each value as text. */
static uint32_t field_value(const struct gossip_config *g, size_t i)
{
	return ((const uint32_t *)g)[i];
}

static void test_gossip_fields(void **state)
{
	/* Every field can be set, to a value the lan profile itself uses, over fast. */
	struct gossip_config lan, fast;
	gossip_profile(&lan, GOSSIP_PROFILE_LAN);
	gossip_profile(&fast, GOSSIP_PROFILE_FAST);
	char line[CONFIG_WORD_MAX * 2];
	int n = 0;
	for (size_t i = 0; i < NFIELDS; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, "gossip.%s=%u ", fields[i],
			      field_value(&lan, i));
	assert_int_equal(parse(line), 0);
	assert_int_equal(c.gossip_profile, GOSSIP_PROFILE_FAST);
	assert_memory_equal(&c.gossip_cfg, &lan, sizeof lan);

	/* Overrides win over the profile whatever their order on the line. */
	uint32_t probe = lan.probe_interval_ms + 1;
	snprintf(line, sizeof line, "gossip.probe_interval_ms=%u gossip.profile=lan", probe);
	assert_int_equal(parse(line), 0);
	assert_int_equal(c.gossip_cfg.probe_interval_ms, probe);
	assert_int_equal(c.gossip_cfg.gossip_nodes, lan.gossip_nodes);
	assert_int_equal(c.gossip_cfg.pushpull_interval_ms, lan.pushpull_interval_ms);
	snprintf(line, sizeof line, "gossip.profile=lan gossip.probe_interval_ms=%u", probe);
	assert_int_equal(parse(line), 0);
	assert_int_equal(c.gossip_cfg.probe_interval_ms, probe);
	/* The last setting of a field wins. */
	snprintf(line, sizeof line, "gossip.gossip_nodes=%u gossip.gossip_nodes=%u",
		 lan.gossip_nodes, fast.gossip_nodes);
	assert_int_equal(parse(line), 0);
	assert_int_equal(c.gossip_cfg.gossip_nodes, fast.gossip_nodes);
	assert_int_equal(c.ngossip_sets, 1);

	/* A probe timeout longer than the probe interval: both keep the profile's values,
	 * the other overrides stay. */
	snprintf(line, sizeof line,
		 "gossip.profile=lan gossip.probe_interval_ms=%u gossip.gossip_nodes=%u",
		 lan.probe_timeout_ms - 1, lan.gossip_nodes + 1);
	assert_int_equal(parse(line), 1);
	assert_true(msg_has("gossip.probe_timeout_ms", "gossip.probe_interval_ms"));
	assert_int_equal(c.gossip_cfg.probe_interval_ms, lan.probe_interval_ms);
	assert_int_equal(c.gossip_cfg.probe_timeout_ms, lan.probe_timeout_ms);
	assert_int_equal(c.gossip_cfg.gossip_nodes, lan.gossip_nodes + 1);
}

static void test_bad_gossip_fields(void **state)
{
	static const char *const unknown[] = {"gossip.foo=1", "gossip.=1", "gossip.probe=1",
					      "gossip.PROBE_INTERVAL_MS=1", "gossip.foo"};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		char key[48];
		snprintf(key, sizeof key, "'%.*s'", (int)strcspn(unknown[i], "="), unknown[i]);
		if (parse(unknown[i]) != 1 || !msg_has(key, "unknown"))
			fail_msg("\"%s\": no 'unknown' error naming %s: %s", unknown[i], key,
				 e.msg[0]);
		assert_defaults();
	}
	static const char *const bad[] = {
		"gossip.probe_interval_ms=abc", "gossip.probe_interval_ms=-1",
		"gossip.probe_interval_ms=",	"gossip.gossip_nodes=99999999999999999999",
		"gossip.udp_max=1000000",	"gossip.probe_interval_ms=1.5",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char key[48];
		snprintf(key, sizeof key, "'%.*s'", (int)strcspn(bad[i], "="), bad[i]);
		if (parse(bad[i]) != 1 || !msg_has(key, "bad value"))
			fail_msg("\"%s\": no 'bad value' error naming %s: %s", bad[i], key,
				 e.msg[0]);
		assert_defaults();
	}
	assert_int_equal(parse("gossip.probe_interval_ms"), 1);
	assert_true(msg_has("'gossip.probe_interval_ms'", "needs a value"));
	assert_defaults();
	/* The rest of the line still applies. */
	assert_int_equal(parse("gossip.nope=1 gossip.profile=lan gossip.udp_max=x smp=2"), 2);
	assert_int_equal(c.gossip_profile, GOSSIP_PROFILE_LAN);
	assert_int_equal(c.smp, 2);
}

static void test_task_keys(void **state)
{
	assert_int_equal(parse("run=/bin/hello run=/bin/echo-server:7777:-v task.mem=32M "
			       "task.max=5 task.keep=0"),
			 0);
	assert_int_equal(c.nrun, 2);
	assert_string_equal(c.run[0], "/bin/hello");
	assert_string_equal(c.run[1], "/bin/echo-server:7777:-v");
	assert_int_equal(c.task_mem, 32UL << 20);
	assert_int_equal(c.task_max, 5);
	assert_int_equal(c.task_keep, 0);

	assert_int_equal(parse("task.mem=1048576"), 0);
	assert_int_equal(c.task_mem, 1UL << 20);
	assert_int_equal(parse("task.mem=2g"), 0);
	assert_int_equal(c.task_mem, 2UL << 30);
	assert_int_equal(parse("task.mem=512K task.mem=4m"), 1); /* below 1 MiB, then fine */
	assert_int_equal(c.task_mem, 4UL << 20);
	assert_true(msg_has("'task.mem'", "512K"));
}

#define PSK32 "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static void test_console_keys(void **state)
{
	config_defaults(&c);
	assert_int_equal(c.npsk, 0);
	assert_false(c.console_insecure);
	assert_int_equal(c.console_idle, CONFIG_DEFAULT_CONSOLE_IDLE);
	assert_int_equal(c.console_max, CONFIG_DEFAULT_CONSOLE_MAX);
	assert_true(c.metrics);

	assert_int_equal(parse("console.psk=alice:" PSK32
			       " console.psk=bob:000102030405060708090a0b0c0d0e0f "
			       "console.insecure console.idle=30 console.max=2 metrics=0"),
			 0);
	assert_int_equal(c.npsk, 2);
	assert_string_equal(c.console_psk[0].identity, "alice");
	assert_int_equal(c.console_psk[0].key_len, 32);
	assert_int_equal(c.console_psk[0].key[0], 0x00);
	assert_int_equal(c.console_psk[0].key[1], 0x11);
	assert_int_equal(c.console_psk[0].key[31], 0xff); /* upper-case hex */
	assert_string_equal(c.console_psk[1].identity, "bob");
	assert_int_equal(c.console_psk[1].key_len, 16);
	assert_int_equal(c.console_psk[1].key[15], 0x0f);
	assert_true(c.console_insecure);
	assert_int_equal(c.console_idle, 30);
	assert_int_equal(c.console_max, 2);
	assert_false(c.metrics);
}

static void test_bad_console_keys(void **state)
{
	/* Each bad psk is refused, counted, named, and its key never echoed. */
	static const char *const bad[] = {
		"console.psk=" PSK32,				      /* no identity */
		"console.psk=:" PSK32,				      /* empty identity */
		"console.psk=alice:",				      /* empty key */
		"console.psk=alice:0011223344556677",		      /* 8 bytes: too short */
		"console.psk=alice:00112233445566778899aabbccddeef",  /* odd digits */
		"console.psk=alice:00112233445566778899aabbccddeeXX", /* not hex */
		"console.psk=a_very_long_identity_over_31_bytes:" PSK32,
		"console.psk=al\x01ice:" PSK32,
		"console.psk=alice:" PSK32 PSK32 "00", /* 65 bytes */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(bad[i]), 1);
		assert_int_equal(c.npsk, 0);
		assert_true(msg_has("'console.psk'", 0));
		assert_false(msg_has("00112233", 0));
	}
	/* A control byte in the identity. */
	assert_int_equal(parse("console.psk=al\x01ice:" PSK32), 1);
	char line[256];
	snprintf(line, sizeof line, "console.psk=al%cice:%s", 1, PSK32);
	assert_int_equal(parse(line), 1);
	assert_int_equal(c.npsk, 0);

	/* The same identity twice: the first stays. */
	assert_int_equal(parse("console.psk=alice:" PSK32 " console.psk=alice:" PSK32), 1);
	assert_int_equal(c.npsk, 1);
	assert_true(msg_has("twice", 0));

	/* More than CONFIG_PSK_MAX. */
	char many[2048] = "";
	for (int i = 0; i < CONFIG_PSK_MAX + 1; i++) {
		char w[128];
		snprintf(w, sizeof w, "console.psk=u%d:%s ", i, PSK32);
		strcat(many, w);
	}
	assert_int_equal(parse(many), 1);
	assert_int_equal(c.npsk, CONFIG_PSK_MAX);
	assert_true(msg_has("more than", 0));

	assert_int_equal(parse("console.idle=4 console.idle=86401 console.idle=x console.max=0 "
			       "console.max=65 console.insecure=maybe metrics=2 console.psk"),
			 8);
	assert_int_equal(c.console_idle, CONFIG_DEFAULT_CONSOLE_IDLE);
	assert_int_equal(c.console_max, CONFIG_DEFAULT_CONSOLE_MAX);
	assert_false(c.console_insecure);
	assert_true(c.metrics);
	assert_true(msg_has("'console.idle'", 0));
	assert_true(msg_has("'console.max'", 0));
	assert_true(msg_has("'metrics'", 0));
}

static void test_bad_task_keys(void **state)
{
	static const char *const bad[] = {
		"task.mem=",	  "task.mem=12Q", "task.mem=-5M", "task.mem=M", "task.max=0",
		"task.max=99999", "task.keep=-1", "run=",	  "run=:x",	"task.mem"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(bad[i]), 1);
		assert_int_equal(c.task_mem, 0);
		assert_int_equal(c.task_max, CONFIG_DEFAULT_TASK_MAX);
		assert_int_equal(c.task_keep, CONFIG_DEFAULT_TASK_KEEP);
		assert_int_equal(c.nrun, 0);
	}

	/* run= is bounded: in count, in length and in words. */
	char line[(CONFIG_RUN_MAX + 1) * 8 + 1] = "";
	for (int i = 0; i <= CONFIG_RUN_MAX; i++)
		strcat(line, "run=/x ");
	assert_int_equal(parse(line), 1);
	assert_int_equal(c.nrun, CONFIG_RUN_MAX);
	assert_true(msg_has("more than", "run="));

	char longrun[CONFIG_RUN_LEN + 8] = "run=/";
	memset(longrun + 5, 'a', CONFIG_RUN_LEN);
	longrun[CONFIG_RUN_LEN + 5] = 0;
	assert_int_equal(parse(longrun), 1);
	assert_int_equal(c.nrun, 0);

	char words[4 + 2 * (CONFIG_RUN_ARGS + 1) + 1] = "run=";
	for (int i = 0; i <= CONFIG_RUN_ARGS; i++)
		strcat(words, i ? ":a" : "a");
	assert_int_equal(parse(words), 1);
	assert_int_equal(c.nrun, 0);
	assert_true(msg_has("words", NULL));
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
		cmocka_unit_test(test_task_keys),
		cmocka_unit_test(test_bad_task_keys),
		cmocka_unit_test(test_console_keys),
		cmocka_unit_test(test_bad_console_keys),
		cmocka_unit_test(test_gossip_keys_valid),
		cmocka_unit_test(test_bad_seeds),
		cmocka_unit_test(test_bad_key),
		cmocka_unit_test(test_bad_tags_and_cluster),
		cmocka_unit_test(test_gossip_fields),
		cmocka_unit_test(test_bad_gossip_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
