/* config.c: the table-driven command-line parser. Pure code, unit-tested on the host. */
#include "kernel/config.h"

#include <stddef.h>
#include <string.h>

#include "kernel/printf.h"

struct config config;

enum kind { K_STRING, K_INT, K_BOOL, K_ENUM };

struct key {
	const char *name;
	enum kind kind;
	size_t offset;
	size_t size;		    /* K_STRING: buffer size */
	long min, max;		    /* K_INT */
	const char *const *choices; /* K_ENUM: NULL-terminated */
};

static const char *const levels[] = {"debug", "info", "warn", "error", 0};
static const char *const panics[] = {"halt", "reboot", "poweroff", 0};
static const char *const fpu_modes[] = {"auto", "fxsave", "off", 0};
static const char *const crashes[] = {"none", "panic", "pagefault", "ud", "stack", 0};

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
static const struct key keys[] = {
	{"name", K_STRING, F(name), 0, 0, 0},
	{"log", K_ENUM, F(log_level), 0, 0, levels},
	{"selftest", K_BOOL, F(selftest), 0, 0, 0},
	{"smp", K_INT, F(smp), 0, 64, 0},
	{"panic", K_ENUM, F(panic), 0, 0, panics},
	{"debug.exit", K_BOOL, F(debug_exit), 0, 0, 0},
	{"debug.crash", K_ENUM, F(debug_crash), 0, 0, crashes},
	{"tick", K_INT, F(tick_hz), CONFIG_MIN_TICK_HZ, CONFIG_MAX_TICK_HZ, 0},
	{"slice", K_INT, F(slice_ms), CONFIG_MIN_SLICE_MS, CONFIG_MAX_SLICE_MS, 0},
	{"fpu", K_ENUM, F(fpu), 0, 0, fpu_modes},
	{"ip", K_STRING, F(ip), 0, 0, 0},
	{"dns", K_STRING, F(dns), 0, 0, 0},
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

/* Apply one KEY=VALUE; value is NULL for a bare flag. Returns 0 or 1 error. */
static int apply(struct config *c, const char *k, const char *v, config_error_fn err, void *ctx)
{
	const struct key *key = 0;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(keys[i].name, k))
			key = &keys[i];
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
			word[32] = 0;
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
	return errors;
}
