/* config.c: the table-driven command-line parser. Pure code, unit-tested on the host. */
#include "kernel/config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "kernel/hex.h"
#include "kernel/printf.h"
#include "net/gossip/keyring.h"

struct config config;

enum kind { K_STRING, K_INT, K_BOOL, K_ENUM, K_FN };

#define WHY_MAX 128 /* a K_FN parser's explanation */

/* K_FN: parse v into c, or return -1 with why saying what was expected. */
typedef int (*parse_fn)(struct config *c, const char *v, char *why, size_t n);

struct key {
	const char *name;
	enum kind kind;
	size_t offset;
	size_t size;		    /* K_STRING: buffer size */
	long min, max;		    /* K_INT */
	const char *const *choices; /* K_ENUM: NULL-terminated */
	parse_fn fn;		    /* K_FN */
	bool secret;		    /* never echo the value */
};

#define GOSSIP_PREFIX "gossip."
#define IP4_OCTETS 4
#define OCTET_MAX 255
#define PORT_MAX 65535

static int parse_key(struct config *c, const char *v, char *why, size_t n);
static int parse_seeds(struct config *c, const char *v, char *why, size_t n);
static int parse_tags(struct config *c, const char *v, char *why, size_t n);
static int parse_run(struct config *c, const char *v, char *why, size_t n);
static int parse_mem(struct config *c, const char *v, char *why, size_t n);
static int parse_psk(struct config *c, const char *v, char *why, size_t n);
static int parse_dec(const char *s, const char **end, long max, long *out);

static const char *const levels[] = {"debug", "info", "warn", "error", 0};
static const char *const panics[] = {"halt", "reboot", "poweroff", 0};
static const char *const fpu_modes[] = {"auto", "fxsave", "off", 0};
static const char *const crashes[] = {"none", "panic", "pagefault", "ud", "stack", 0};
/* In enum gossip_profile's order. */
static const char *const profiles[] = {"fast", "lan", 0};
_Static_assert(GOSSIP_PROFILE_FAST == 0 && GOSSIP_PROFILE_LAN == 1, "profiles[] order");

/* One row: name, kind, the field it sets, then the kind's own members (.min/.max,
 * .choices, .fn, .secret). */
#define KEY(n, k, field, ...)                                                                      \
	{                                                                                          \
		.name = n, .kind = k, .offset = offsetof(struct config, field),                    \
		.size = sizeof(((struct config *)0)->field), __VA_ARGS__                           \
	}
static const struct key keys[] = {
	KEY("name", K_STRING, name),
	KEY("log", K_ENUM, log_level, .choices = levels),
	KEY("selftest", K_BOOL, selftest),
	KEY("smp", K_INT, smp, .min = 0, .max = 64),
	KEY("panic", K_ENUM, panic, .choices = panics),
	KEY("debug.exit", K_BOOL, debug_exit),
	KEY("debug.crash", K_ENUM, debug_crash, .choices = crashes),
	KEY("tick", K_INT, tick_hz, .min = CONFIG_MIN_TICK_HZ, .max = CONFIG_MAX_TICK_HZ),
	KEY("slice", K_INT, slice_ms, .min = CONFIG_MIN_SLICE_MS, .max = CONFIG_MAX_SLICE_MS),
	KEY("fpu", K_ENUM, fpu, .choices = fpu_modes),
	KEY("ip", K_STRING, ip),
	KEY("dns", K_STRING, dns),
	KEY("gossip", K_BOOL, gossip),
	KEY("net.diag", K_BOOL, net_diag),
	KEY("cluster", K_STRING, cluster),
	KEY("cluster.key", K_FN, cluster_key, .fn = parse_key, .secret = true),
	KEY("gossip.plaintext", K_BOOL, gossip_plaintext),
	KEY("seeds", K_FN, seeds, .fn = parse_seeds),
	KEY("tags", K_FN, tags, .fn = parse_tags),
	KEY("gossip.profile", K_ENUM, gossip_profile, .choices = profiles),
	KEY("run", K_FN, run, .fn = parse_run),
	KEY("task.mem", K_FN, task_mem, .fn = parse_mem),
	KEY("task.max", K_INT, task_max, .min = 1, .max = CONFIG_MAX_TASK_MAX),
	KEY("task.keep", K_INT, task_keep, .min = 0, .max = CONFIG_MAX_TASK_KEEP),
	KEY("console.psk", K_FN, console_psk, .fn = parse_psk, .secret = true),
	KEY("console.insecure", K_BOOL, console_insecure),
	KEY("console.idle", K_INT, console_idle, .min = CONFIG_MIN_CONSOLE_IDLE,
	    .max = CONFIG_MAX_CONSOLE_IDLE),
	KEY("console.max", K_INT, console_max, .min = 1, .max = CONFIG_MAX_CONSOLE_MAX),
	KEY("metrics", K_BOOL, metrics),
};

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	strncpy(c->name, CONFIG_DEFAULT_NAME, sizeof c->name - 1);
	c->log_level = CONFIG_DEFAULT_LOG;
	c->smp = CONFIG_DEFAULT_SMP;
	c->panic = PANIC_HALT;
	c->tick_hz = CONFIG_DEFAULT_TICK_HZ;
	c->slice_ms = CONFIG_DEFAULT_SLICE_MS;
	c->fpu = CONFIG_DEFAULT_FPU;
	c->gossip = CONFIG_DEFAULT_GOSSIP;
	c->net_diag = false;
	strncpy(c->cluster, CONFIG_DEFAULT_CLUSTER, sizeof c->cluster - 1);
	c->gossip_plaintext = CONFIG_DEFAULT_PLAINTEXT;
	c->gossip_profile = CONFIG_DEFAULT_PROFILE;
	gossip_profile(&c->gossip_cfg, (enum gossip_profile)c->gossip_profile);
	c->task_max = CONFIG_DEFAULT_TASK_MAX;
	c->task_keep = CONFIG_DEFAULT_TASK_KEEP;
	c->console_insecure = CONFIG_DEFAULT_CONSOLE_INSECURE;
	c->console_idle = CONFIG_DEFAULT_CONSOLE_IDLE;
	c->console_max = CONFIG_DEFAULT_CONSOLE_MAX;
	c->metrics = CONFIG_DEFAULT_METRICS;
}

/* console.psk=IDENTITY:HEXKEY: appended. The identity is printable, without ':' (it is
 * logged with every command and names the submitter); the key is an even number of hex
 * digits. The reason never quotes the value (it holds a secret). */
static int parse_psk(struct config *c, const char *v, char *why, size_t n)
{
	const char *colon = strchr(v, ':');
	size_t idlen = colon ? (size_t)(colon - v) : 0;
	if (c->npsk == CONFIG_PSK_MAX) {
		ksnprintf(why, n, "more than %d console.psk= keys", CONFIG_PSK_MAX);
		return -1;
	}
	if (!colon || idlen == 0) {
		ksnprintf(why, n, "expected IDENTITY:HEXKEY");
		return -1;
	}
	if (idlen > CONFIG_PSK_ID_MAX) {
		ksnprintf(why, n, "identity longer than %d bytes", CONFIG_PSK_ID_MAX);
		return -1;
	}
	for (size_t i = 0; i < idlen; i++) {
		if (v[i] <= ' ' || v[i] > '~') {
			ksnprintf(why, n, "identity holds a space or a non-printable byte");
			return -1;
		}
	}
	const char *hex = colon + 1;
	size_t hexlen = strlen(hex);
	if (hexlen % 2 || hexlen < 2 * CONFIG_PSK_KEY_MIN || hexlen > 2 * CONFIG_PSK_KEY_MAX) {
		ksnprintf(why, n, "key must be %d to %d bytes as an even number of hex digits",
			  CONFIG_PSK_KEY_MIN, CONFIG_PSK_KEY_MAX);
		return -1;
	}
	for (size_t i = 0; i < hexlen; i++) {
		if (hex_digit(hex[i]) < 0) {
			ksnprintf(why, n, "key holds a character that is not a hex digit");
			return -1;
		}
	}
	for (int i = 0; i < c->npsk; i++) {
		if (strlen(c->console_psk[i].identity) == idlen &&
		    !memcmp(c->console_psk[i].identity, v, idlen)) {
			ksnprintf(why, n, "identity '%.*s' given twice", (int)idlen, v);
			return -1;
		}
	}
	struct config_psk *p = &c->console_psk[c->npsk++];
	memcpy(p->identity, v, idlen);
	p->identity[idlen] = 0;
	hex_bytes(hex, hexlen / 2, p->key); /* checked above */
	p->key_len = (uint8_t)(hexlen / 2);
	return 0;
}

/* run=PROGRAM[:ARG:ARG...]: appended; a program path and at most CONFIG_RUN_ARGS words. */
static int parse_run(struct config *c, const char *v, char *why, size_t n)
{
	size_t words = 1;
	for (const char *p = v; *p; p++)
		words += *p == ':';
	if (c->nrun == CONFIG_RUN_MAX)
		ksnprintf(why, n, "more than %d run= keys", CONFIG_RUN_MAX);
	else if (!*v || *v == ':')
		ksnprintf(why, n, "expected PROGRAM[:ARG:ARG...]");
	else if (strlen(v) >= CONFIG_RUN_LEN)
		ksnprintf(why, n, "longer than %d bytes", CONFIG_RUN_LEN - 1);
	else if (words > CONFIG_RUN_ARGS)
		ksnprintf(why, n, "more than %d words", CONFIG_RUN_ARGS);
	else {
		memcpy(c->run[c->nrun++], v, strlen(v) + 1);
		return 0;
	}
	return -1;
}

/* task.mem=SIZE: bytes, or a number with a K, M or G suffix (binary units). */
static int parse_mem(struct config *c, const char *v, char *why, size_t n)
{
	const char *end;
	long num;
	unsigned shift = 0;
	if (parse_dec(v, &end, __LONG_MAX__ >> 30, &num) == 0) {
		if (*end == 'K' || *end == 'k')
			shift = 10, end++;
		else if (*end == 'M' || *end == 'm')
			shift = 20, end++;
		else if (*end == 'G' || *end == 'g')
			shift = 30, end++;
		uint64_t bytes = (uint64_t)num << shift;
		if (!*end && bytes >= CONFIG_MIN_TASK_MEM) {
			c->task_mem = bytes;
			return 0;
		}
	}
	ksnprintf(why, n, "expected a size of at least 1M, in bytes or with K, M or G");
	return -1;
}

/* cluster.key=: the keyring must parse; the text is kept (net/members.c parses it again
 * into the keyring it hands the core), the parsed keys are wiped. */
static int parse_key(struct config *c, const char *v, char *why, size_t n)
{
	struct gossip_keyring kr;
	int rc = -1;
	if (!*v)
		ksnprintf(why, n, "empty; expected up to %d base64 keys", GOSSIP_KEYS_MAX);
	else if (strlen(v) >= sizeof c->cluster_key)
		ksnprintf(why, n, "longer than %zu bytes", sizeof c->cluster_key - 1);
	else if (gossip_keyring_parse(&kr, v) < 0)
		ksnprintf(why, n,
			  "expected up to %d comma-separated base64 keys of 16, 24 or 32 bytes",
			  GOSSIP_KEYS_MAX);
	else
		rc = 0;
	memset(&kr, 0, sizeof kr);
	__asm__ volatile("" ::"r"(&kr) : "memory"); /* the wipe is not optimized away */
	if (rc == 0)
		memcpy(c->cluster_key, v, strlen(v) + 1);
	return rc;
}

/* Decimal digits only, at most max; *end past them. */
static int parse_dec(const char *s, const char **end, long max, long *out)
{
	long v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > max)
			return -1;
	}
	if (p == s)
		return -1;
	*end = p;
	*out = v;
	return 0;
}

/* One seed, s[0..len): A.B.C.D or A.B.C.D:PORT. */
static int parse_seed(const char *s, size_t len, struct gossip_addr *a)
{
	char buf[sizeof "255.255.255.255:65535"];
	if (len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	const char *p = buf;
	uint32_t ip = 0;
	for (int i = 0; i < IP4_OCTETS; i++) {
		long o;
		if (i && *p++ != '.')
			return -1;
		if (parse_dec(p, &p, OCTET_MAX, &o))
			return -1;
		ip = ip << 8 | (uint32_t)o;
	}
	long port = GOSSIP_PORT;
	if (*p == ':' && (parse_dec(p + 1, &p, PORT_MAX, &port) || port == 0))
		return -1;
	if (*p || ip == 0)
		return -1;
	a->ip = ip;
	a->port = (uint16_t)port;
	return 0;
}

/* seeds=IP[:PORT],...: all entries or none; empty means discovery by broadcast. */
static int parse_seeds(struct config *c, const char *v, char *why, size_t n)
{
	struct gossip_addr seeds[CONFIG_SEEDS_MAX];
	int count = 0;
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ",");
		if (count == CONFIG_SEEDS_MAX) {
			ksnprintf(why, n, "more than %d seeds", CONFIG_SEEDS_MAX);
			return -1;
		}
		if (parse_seed(p, len, &seeds[count]) < 0) {
			ksnprintf(why, n, "entry '%.*s' is not IP[:PORT]", (int)len, p);
			return -1;
		}
		count++;
		p += len;
		if (*p == ',' && !*++p) {
			ksnprintf(why, n, "empty entry after the last ','");
			return -1;
		}
	}
	memcpy(c->seeds, seeds, sizeof seeds[0] * (size_t)count);
	c->nseeds = count;
	return 0;
}

/* tags=k=v,...: each entry a non-empty key, '=', and a value (maybe empty). */
static int parse_tags(struct config *c, const char *v, char *why, size_t n)
{
	if (strlen(v) > GOSSIP_TAGS_MAX) {
		ksnprintf(why, n, "longer than %d bytes", GOSSIP_TAGS_MAX);
		return -1;
	}
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ","), key = strcspn(p, "=,");
		if (key == 0 || key == len) {
			ksnprintf(why, n, "entry '%.*s' is not KEY=VALUE", (int)len, p);
			return -1;
		}
		p += len;
		if (*p == ',' && !*++p) {
			ksnprintf(why, n, "empty entry after the last ','");
			return -1;
		}
	}
	memcpy(c->tags, v, strlen(v) + 1);
	return 0;
}

static void report(config_error_fn err, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(config_error_fn err, void *ctx, const char *fmt, ...)
{
	char msg[CONFIG_WORD_MAX + 128];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (err)
		err(ctx, msg);
}

/* Decimal integer with no sign games: optional '-', digits only, no overflow. */
static int parse_long(const char *s, long *out)
{
	int neg = *s == '-';
	if (neg)
		s++;
	if (!*s)
		return -1;
	long v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (__LONG_MAX__ - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "yes", "on", "true"}, *const no[] = {"0", "no",
										    "off", "false"};
	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, yes[i]))
			return *out = true, 0;
		if (!strcmp(s, no[i]))
			return *out = false, 0;
	}
	return -1;
}

static void choices_str(const char *const *ch, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = 0;
	for (; *ch && len < n; ch++)
		len += (size_t)ksnprintf(buf + len, n - len, "%s%s", len ? "|" : "", *ch);
}

/* gossip.FIELD=N: checked on a scratch copy now, kept, and replayed over the profile at
 * the end of the line (fold_gossip). Returns 0 or 1 error. */
static int apply_gossip_field(struct config *c, const char *k, const char *v, config_error_fn err,
			      void *ctx)
{
	const char *field = k + strlen(GOSSIP_PREFIX);
	struct gossip_config scratch = c->gossip_cfg;
	/* An empty value tells an unknown field (-ENOENT) from a known one (-EINVAL). */
	int rc = gossip_config_set(&scratch, field, v ? v : "");
	if (rc == -ENOENT) {
		report(err, ctx, "config: unknown key '%s' ignored", k);
		return 1;
	}
	if (!v) {
		report(err, ctx, "config: key '%s' needs a value (%s=...); keeping the default", k,
		       k);
		return 1;
	}
	if (rc < 0 || strlen(field) >= sizeof c->gossip_sets[0].field ||
	    strlen(v) >= sizeof c->gossip_sets[0].value) {
		report(err, ctx,
		       "config: bad value '%s' for key '%s' (expected an integer in the field's "
		       "range); keeping the default",
		       v, k);
		return 1;
	}
	int i = 0;
	while (i < c->ngossip_sets && strcmp(c->gossip_sets[i].field, field))
		i++;
	if (i == CONFIG_GOSSIP_SETS_MAX) {
		report(err, ctx, "config: more than %d gossip.FIELD keys; '%s' ignored",
		       CONFIG_GOSSIP_SETS_MAX, k);
		return 1;
	}
	if (i == c->ngossip_sets)
		c->ngossip_sets++;
	memcpy(c->gossip_sets[i].field, field, strlen(field) + 1);
	memcpy(c->gossip_sets[i].value, v, strlen(v) + 1);
	return 0;
}

/* The profile, then every override in the order given. */
static int fold_gossip(struct config *c, config_error_fn err, void *ctx)
{
	int errors = 0;
	gossip_profile(&c->gossip_cfg, (enum gossip_profile)c->gossip_profile);
	for (int i = 0; i < c->ngossip_sets; i++) {
		if (gossip_config_set(&c->gossip_cfg, c->gossip_sets[i].field,
				      c->gossip_sets[i].value) < 0) {
			report(err, ctx, "config: bad value '%s' for key '" GOSSIP_PREFIX "%s'",
			       c->gossip_sets[i].value, c->gossip_sets[i].field);
			errors++;
		}
	}
	/* The one rule between two fields (gossip_new refuses a config that breaks it). */
	struct gossip_config *g = &c->gossip_cfg;
	if (g->probe_timeout_ms > g->probe_interval_ms) {
		report(err, ctx,
		       "config: gossip.probe_timeout_ms (%u) exceeds gossip.probe_interval_ms (%u); "
		       "keeping the profile's values of both",
		       g->probe_timeout_ms, g->probe_interval_ms);
		struct gossip_config p;
		gossip_profile(&p, (enum gossip_profile)c->gossip_profile);
		g->probe_timeout_ms = p.probe_timeout_ms;
		g->probe_interval_ms = p.probe_interval_ms;
		errors++;
	}
	return errors;
}

/* Apply one KEY=VALUE; value is NULL for a bare flag. Returns 0 or 1 error. */
static int apply(struct config *c, const char *k, const char *v, config_error_fn err, void *ctx)
{
	const struct key *key = 0;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(keys[i].name, k))
			key = &keys[i];
	if (!key && !strncmp(k, GOSSIP_PREFIX, strlen(GOSSIP_PREFIX)))
		return apply_gossip_field(c, k, v, err, ctx);
	if (!key) {
		report(err, ctx, "config: unknown key '%s' ignored", k);
		return 1;
	}
	char *field = (char *)c + key->offset;
	if (!v && key->kind != K_BOOL) {
		report(err, ctx, "config: key '%s' needs a value (%s=...); keeping the default", k,
		       k);
		return 1;
	}
	switch (key->kind) {
	case K_STRING:
		if (strlen(v) >= key->size) {
			report(err, ctx,
			       "config: value of '%s' longer than %zu bytes; keeping the default",
			       k, key->size - 1);
			return 1;
		}
		strncpy(field, v, key->size - 1);
		field[key->size - 1] = 0;
		return 0;
	case K_INT: {
		long n;
		if (parse_long(v, &n) || n < key->min || n > key->max) {
			report(err, ctx,
			       "config: bad value '%s' for key '%s' (expected an integer %ld..%ld); "
			       "keeping the default %d",
			       v, k, key->min, key->max, *(int *)field);
			return 1;
		}
		*(int *)field = (int)n;
		return 0;
	}
	case K_BOOL: {
		bool b = true;
		if (v && parse_bool(v, &b)) {
			report(err, ctx,
			       "config: bad value '%s' for key '%s' (expected 1|0|yes|no|on|off); "
			       "keeping the default %s",
			       v, k, *(bool *)field ? "on" : "off");
			return 1;
		}
		*(bool *)field = b;
		return 0;
	}
	case K_ENUM:
		for (int i = 0; key->choices[i]; i++) {
			if (!strcmp(v, key->choices[i])) {
				*(int *)field = i;
				return 0;
			}
		}
		char ch[128];
		choices_str(key->choices, ch, sizeof ch);
		report(err, ctx,
		       "config: bad value '%s' for key '%s' (expected %s); keeping the default %s",
		       v, k, ch, key->choices[*(int *)field]);
		return 1;
	case K_FN: {
		char why[WHY_MAX];
		if (key->fn(c, v, why, sizeof why) == 0)
			return 0;
		if (key->secret)
			report(err, ctx, "config: bad value for key '%s' (%s); keeping the default",
			       k, why);
		else
			report(err, ctx,
			       "config: bad value '%s' for key '%s' (%s); keeping the default", v,
			       k, why);
		return 1;
	}
	}
	return 0;
}

int config_parse(struct config *c, const char *s, config_error_fn err, void *ctx)
{
	int errors = 0;
	char word[CONFIG_WORD_MAX];

	while (s && *s) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		size_t n = 0;
		int too_long = 0;
		for (; *s && *s != ' ' && *s != '\t' && *s != '\n'; s++) {
			if (n + 1 < sizeof word)
				word[n++] = *s;
			else
				too_long = 1;
		}
		word[n] = 0;
		if (too_long) {
			/* Name the key, but show no more of the value than its start, and none
			 * of it after a '=' within that start (it may be a secret). */
			word[32] = 0;
			char *eq = strchr(word, '=');
			if (eq)
				eq[1] = 0;
			report(err, ctx,
			       "config: word starting '%s...' longer than %d bytes ignored", word,
			       CONFIG_WORD_MAX - 1);
			errors++;
			continue;
		}
		char *eq = strchr(word, '=');
		if (eq == word) {
			report(err, ctx, "config: '%s' has no key before '=' ignored", word);
			errors++;
			continue;
		}
		if (eq)
			*eq = 0;
		errors += apply(c, word, eq ? eq + 1 : 0, err, ctx);
	}
	return errors + fold_gossip(c, err, ctx);
}
