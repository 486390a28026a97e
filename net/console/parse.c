/* parse.c: one console line into a struct console_cmd (console.h), and the help text.
 *
 * Tokens: spaces and tabs separate; double quotes group ("a b" is one token, and
 * a"b c"d is the token `ab cd`); inside quotes a backslash takes the next byte as it is
 * (\" and \\); outside quotes a backslash is an ordinary byte. "" is an empty token. An
 * unterminated quote is a usage error. A token is at most CONSOLE_TOKEN_MAX bytes.
 *
 * `--json` anywhere after the command word asks for JSON, except among submit's program
 * arguments: everything after PROGRAM (or after `--`) belongs to the program as written.
 * Options take their value as the next token or after '=' (`--count 3`, `--count=3`).
 * Numbers are decimal digits only, range-checked. Every error names what was wrong and,
 * for usage errors, shows the command's usage. A line that holds nothing but spaces is a
 * usage error too ("empty line"), so that every line gets exactly one reply. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/hex.h"
#include "net/console/console.h"

#define CONSOLE_TOKEN_MAX CLUSTER_ARGV_BYTES /* one token, bytes */
#define CONSOLE_CPU_MAX 1024		     /* --cpu */
#define CONSOLE_MEM_MAX (1u << 20)	     /* --mem, MiB (1 TiB) */
#define CONSOLE_RETRIES_MAX 1000	     /* --retries */
#define CONSOLE_LOG_DEFAULT 100		     /* log [N] */
#define CONSOLE_LOG_MAX 2000		     /* server.h's CONSOLE_LOG_LINES_MAX */
#define CONSOLE_MEM_DEFAULT 32		     /* MiB per instance when --mem is not given */

/* Usage lines, shared by console_usage and console_help. */
#define U_HELP "help [COMMAND]"
#define U_MEMBERS "members"
#define U_NODES "nodes"
#define U_SUBMIT                                                                                   \
	"submit [--batch|--service] [--count N] [--cpu C] [--mem MIB] [--constraint K=V]... "      \
	"[--distinct] [--binpack] [--retries N] [--env K=V]... [--name NAME] [--wait] "            \
	"PROGRAM [ARG...]"
#define U_JOBS "jobs"
#define U_STATUS "status JOB"
#define U_PS "ps"
#define U_LOGS "logs INSTANCE [-f]"
#define U_STOP "stop JOB"
#define U_SCALE "scale JOB N"
#define U_UPLOAD "upload SIZE SHA256HEX"
#define U_DRAIN "drain NODE [--off]"
#define U_KEYS "keys list|install KEY|use KEY|remove KEY"
#define U_STATS "stats"
#define U_LOG "log [N]"
#define U_SHUTDOWN "shutdown"
#define U_REBOOT "reboot"
#define U_QUIT "quit"

static const struct {
	const char *name;
	enum console_cmd_kind kind;
	const char *usage;
} cmds[] = {
	{"help", CONSOLE_HELP, U_HELP},
	{"members", CONSOLE_MEMBERS, U_MEMBERS},
	{"nodes", CONSOLE_NODES, U_NODES},
	{"submit", CONSOLE_SUBMIT, U_SUBMIT},
	{"jobs", CONSOLE_JOBS, U_JOBS},
	{"status", CONSOLE_STATUS, U_STATUS},
	{"ps", CONSOLE_PS, U_PS},
	{"logs", CONSOLE_LOGS, U_LOGS},
	{"stop", CONSOLE_STOP, U_STOP},
	{"scale", CONSOLE_SCALE, U_SCALE},
	{"upload", CONSOLE_UPLOAD, U_UPLOAD},
	{"drain", CONSOLE_DRAIN, U_DRAIN},
	{"keys", CONSOLE_KEYS, U_KEYS},
	{"stats", CONSOLE_STATS, U_STATS},
	{"log", CONSOLE_LOG, U_LOG},
	{"shutdown", CONSOLE_SHUTDOWN, U_SHUTDOWN},
	{"reboot", CONSOLE_REBOOT, U_REBOOT},
	{"quit", CONSOLE_QUIT, U_QUIT},
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static const char help_text[] =
	"commands (add --json after the command word for JSON):\n"
	"  " U_HELP "  this text, or one command's usage\n"
	"  " U_MEMBERS "  the cluster's members and their state\n"
	"  " U_NODES "  each node's resources and load\n"
	"  " U_SUBMIT "\n"
	"      run a job; answers its id. PROGRAM: /path, NAME for /bin/NAME, or sha256:HEX\n"
	"  " U_JOBS "  every job and its state\n"
	"  " U_STATUS "  a job's instances: node, state, exit status\n"
	"  " U_PS "  instances and where they run\n"
	"  " U_LOGS "  an instance's output (-f: follow until it ends)\n"
	"  " U_STOP "  stop a job's instances\n"
	"  " U_SCALE "  change a job's instance count\n"
	"  " U_UPLOAD "  then SIZE raw bytes: store an ELF blob\n"
	"  " U_DRAIN "  move work off a node (--off: take it back)\n"
	"  " U_KEYS "  the gossip keyring\n"
	"  " U_STATS "  counters\n"
	"  " U_LOG "  the last N lines of the kernel log (100)\n"
	"  " U_SHUTDOWN "  power this node off\n"
	"  " U_REBOOT "  restart this node\n"
	"  " U_QUIT "  end the session\n";

const char *console_usage(enum console_cmd_kind k)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (cmds[i].kind == k)
			return cmds[i].usage;
	return "";
}

const char *console_help(void) { return help_text; }

struct ps {
	const char *p, *end; /* the rest of the line */
	struct console_cmd *cmd;
	char *err;
	size_t errlen;
	const char *name;		 /* the command word, once known */
	bool verbatim;			 /* submit's program arguments: --json is one of them */
	char tok[CONSOLE_TOKEN_MAX + 1]; /* the current token, NUL-terminated */
	size_t toklen;
};

static int verr(struct ps *s, const char *code, const char *fmt, va_list ap)
{
	if (s->errlen == 0)
		return -1;
	int n = snprintf(s->err, s->errlen, "%s ", code);
	if (n >= 0 && (size_t)n < s->errlen)
		vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
	return -1;
}

static int fail(struct ps *s, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ps *s, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(s, code, fmt, ap);
	va_end(ap);
	return -1;
}

/* A usage error: "usage CMD: WHAT; usage: LINE". */
static int usage(struct ps *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage(struct ps *s, const char *fmt, ...)
{
	va_list ap;
	char what[160];

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < NCMDS; i++)
		if (s->name && !strcmp(cmds[i].name, s->name))
			return fail(s, "usage", "%s: %s; usage: %s", s->name, what, cmds[i].usage);
	return fail(s, "usage", "%s", what);
}

/* The next raw token into s->tok: 1, 0 at the end of the line, -1 on error. */
static int lex(struct ps *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
		s->p++;
	if (s->p == s->end)
		return 0;
	size_t n = 0;
	bool quoted = false, over = false;
	while (s->p < s->end) {
		char c = *s->p++;
		if (!quoted && (c == ' ' || c == '\t'))
			break;
		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted && c == '\\') {
			if (s->p == s->end)
				break; /* unterminated: reported below */
			c = *s->p++;
		}
		if (n < CONSOLE_TOKEN_MAX)
			s->tok[n++] = c;
		else
			over = true;
	}
	s->tok[n] = '\0';
	s->toklen = n;
	if (quoted)
		return usage(s, "unterminated quote");
	if (over)
		return usage(s, "an argument is over %d bytes", CONSOLE_TOKEN_MAX);
	return 1;
}

/* The next argument, --json taken out on the way (unless verbatim). */
static int next(struct ps *s)
{
	for (;;) {
		int r = lex(s);
		if (r <= 0)
			return r;
		if (!s->verbatim && !strcmp(s->tok, "--json")) {
			s->cmd->json = true;
			continue;
		}
		return 1;
	}
}

/* No further arguments allowed. */
static int end(struct ps *s)
{
	int r = next(s);
	if (r < 0)
		return -1;
	if (r > 0)
		return usage(s, "unexpected argument '%.40s'", s->tok);
	return 0;
}

static bool digits(const char *t)
{
	if (!*t)
		return false;
	for (; *t; t++)
		if (*t < '0' || *t > '9')
			return false;
	return true;
}

/* A string of digits as a number, saturated at UINT64_MAX / 10. */
static uint64_t dec(const char *t)
{
	uint64_t v = 0;
	for (; *t && v < UINT64_MAX / 100; t++)
		v = v * 10 + (uint64_t)(*t - '0');
	return *t ? UINT64_MAX / 10 : v;
}

/* A decimal number in lo..hi. */
static int number(struct ps *s, const char *what, const char *t, uint32_t lo, uint32_t hi,
		  uint32_t *out)
{
	uint64_t v = digits(t) ? dec(t) : 0;

	if (!digits(t) || v < lo || v > hi)
		return usage(s, "%s wants a number in %u..%u, got '%.40s'", what, lo, hi, t);
	*out = (uint32_t)v;
	return 0;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* The current token as a job, instance, node or key argument: 1..CONSOLE_ARG_MAX
 * printable ASCII bytes, no spaces. */
static int check_arg(struct ps *s, const char *what, char out[CONSOLE_ARG_MAX + 1])
{
	if (s->toklen == 0 || s->toklen > CONSOLE_ARG_MAX)
		return usage(s, "%s must be 1..%d bytes", what, CONSOLE_ARG_MAX);
	for (size_t i = 0; i < s->toklen; i++)
		if ((unsigned char)s->tok[i] <= 0x20 || (unsigned char)s->tok[i] >= 0x7f)
			return usage(s, "%s '%.40s' has a character that is not allowed", what,
				     s->tok);
	memcpy(out, s->tok, s->toklen + 1);
	return 0;
}

/* The next token as such an argument. */
static int arg(struct ps *s, const char *what, char out[CONSOLE_ARG_MAX + 1])
{
	int r = next(s);
	if (r < 0)
		return -1;
	if (r == 0)
		return usage(s, "missing %s", what);
	return check_arg(s, what, out);
}

/* 64 hex digits into 32 bytes. */
static bool sha256_hex(const char *t, size_t n, uint8_t out[32])
{
	return n == 64 && hex_bytes(t, 32, out);
}

/* The value of option `opt`: after '=' in the same token, or the next token. */
static int optval(struct ps *s, const char *opt, const char **val)
{
	const char *eq = strchr(s->tok, '=');
	if (eq) {
		*val = eq + 1;
		return 0;
	}
	int r = next(s);
	if (r < 0)
		return -1;
	if (r == 0)
		return usage(s, "%s needs a value", opt);
	*val = s->tok;
	return 0;
}

/* Is the token option `opt`, alone or as "opt=value"? */
static bool isopt(const struct ps *s, const char *opt)
{
	size_t n = strlen(opt);
	return !strncmp(s->tok, opt, n) && (s->tok[n] == '\0' || s->tok[n] == '=');
}

/* "k=v" with k of name characters, v non-empty without ',' or '=' or spaces. */
static bool constraint_ok(const char *t)
{
	const char *eq = strchr(t, '=');
	if (!eq || eq == t || !eq[1])
		return false;
	for (const char *c = t; c < eq; c++)
		if (!name_char(*c))
			return false;
	for (const char *c = eq + 1; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == ',' ||
		    *c == '=')
			return false;
	return true;
}

/* "K=V" with K a shell-like variable name. */
static bool env_ok(const char *t)
{
	const char *eq = strchr(t, '=');
	if (!eq || eq == t || (t[0] >= '0' && t[0] <= '9'))
		return false;
	for (const char *c = t; c < eq; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			return false;
	return true;
}

/* "j" and 9 lowercase hex digits: what a job id looks like (a name must not). */
static bool looks_like_id(const char *t)
{
	if (strlen(t) != CLUSTER_JOB_ID_LEN || t[0] != 'j')
		return false;
	for (size_t i = 1; i < CLUSTER_JOB_ID_LEN; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
			return false;
	return true;
}

/* Append one NUL-terminated string to a packed list (argv, env). */
static bool pack(char *buf, uint16_t *len, size_t cap, const char *t, size_t n)
{
	if (*len + n + 1 > cap)
		return false;
	memcpy(buf + *len, t, n);
	buf[*len + n] = '\0';
	*len = (uint16_t)(*len + n + 1);
	return true;
}

/* PROGRAM: "sha256:HEX", "/path" or "NAME" (for /bin/NAME). */
static int program(struct ps *s, struct cluster_job_spec *j)
{
	const char *t = s->tok;
	size_t n = s->toklen;

	if (!strncmp(t, "sha256:", 7)) {
		if (!sha256_hex(t + 7, n - 7, j->blob_sha256))
			return usage(s, "PROGRAM sha256: wants 64 hex digits");
		j->has_blob = true;
		memcpy(j->program, "sha256:", 7);
		for (size_t i = 0; i < 32; i++)
			snprintf(j->program + 7 + 2 * i, 3, "%02x", j->blob_sha256[i]);
		return 0;
	}
	if (n == 0)
		return usage(s, "PROGRAM is empty");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] == 0x7f)
			return usage(s, "PROGRAM has a space or control character");
	if (strchr(t, '/')) {
		if (t[0] != '/')
			return usage(s,
				     "PROGRAM '%.40s' must be an absolute path in the image "
				     "(upload a local file with shoalctl)",
				     t);
		if (n > CLUSTER_PROGRAM_MAX)
			return usage(s, "PROGRAM is over %d bytes", CLUSTER_PROGRAM_MAX);
		memcpy(j->program, t, n + 1);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!name_char(t[i]))
			return usage(s, "PROGRAM '%.40s' is not a program name", t);
	if (n + 5 > CLUSTER_PROGRAM_MAX)
		return usage(s, "PROGRAM is over %d bytes", CLUSTER_PROGRAM_MAX);
	memcpy(j->program, "/bin/", 5);
	memcpy(j->program + 5, t, n + 1);
	return 0;
}

static int submit(struct ps *s)
{
	struct cluster_job_spec *j = &s->cmd->u.submit.spec;
	const char *v;
	uint32_t x;
	bool batch = false, service = false;
	int r;

	j->kind = CLUSTER_BATCH;
	j->count = 1;
	j->cpu = 1;
	j->mem_mib = CONSOLE_MEM_DEFAULT;
	j->max_retries = CLUSTER_RETRIES_DEFAULT;
	j->score = CLUSTER_SPREAD;
	for (;;) {
		r = next(s);
		if (r < 0)
			return -1;
		if (r == 0)
			return usage(s, "missing PROGRAM");
		if (!strcmp(s->tok, "--")) {
			if ((r = next(s)) < 0)
				return -1;
			if (r == 0)
				return usage(s, "missing PROGRAM");
			break;
		}
		if (s->tok[0] != '-' || s->toklen < 2)
			break; /* PROGRAM */
		if (!strcmp(s->tok, "--batch")) {
			batch = true;
			j->kind = CLUSTER_BATCH;
		} else if (!strcmp(s->tok, "--service")) {
			service = true;
			j->kind = CLUSTER_SERVICE;
		} else if (!strcmp(s->tok, "--distinct")) {
			j->distinct = true;
		} else if (!strcmp(s->tok, "--binpack")) {
			j->score = CLUSTER_BINPACK;
		} else if (!strcmp(s->tok, "--wait")) {
			s->cmd->u.submit.wait = true;
		} else if (isopt(s, "--count")) {
			if (optval(s, "--count", &v) ||
			    number(s, "--count", v, 1, CLUSTER_COUNT_MAX, &x))
				return -1;
			j->count = x;
		} else if (isopt(s, "--cpu")) {
			if (optval(s, "--cpu", &v) || number(s, "--cpu", v, 1, CONSOLE_CPU_MAX, &x))
				return -1;
			j->cpu = (uint16_t)x;
		} else if (isopt(s, "--mem")) {
			if (optval(s, "--mem", &v) || number(s, "--mem", v, 1, CONSOLE_MEM_MAX, &x))
				return -1;
			j->mem_mib = x;
		} else if (isopt(s, "--retries")) {
			if (optval(s, "--retries", &v) ||
			    number(s, "--retries", v, 0, CONSOLE_RETRIES_MAX, &x))
				return -1;
			j->max_retries = (uint16_t)x;
		} else if (isopt(s, "--constraint")) {
			if (optval(s, "--constraint", &v))
				return -1;
			if (!constraint_ok(v))
				return usage(s, "--constraint wants TAG=VALUE, got '%.40s'", v);
			if (strlen(v) > CLUSTER_CONSTRAINT_MAX)
				return usage(s, "--constraint is over %d bytes",
					     CLUSTER_CONSTRAINT_MAX);
			if (j->nconstraints == CLUSTER_CONSTRAINTS_MAX)
				return usage(s, "more than %d --constraint",
					     CLUSTER_CONSTRAINTS_MAX);
			memcpy(j->constraints[j->nconstraints++], v, strlen(v) + 1);
		} else if (isopt(s, "--env")) {
			if (optval(s, "--env", &v))
				return -1;
			if (!env_ok(v))
				return usage(s, "--env wants NAME=VALUE, got '%.40s'", v);
			if (!pack(j->env, &j->env_len, CLUSTER_ENV_BYTES, v, strlen(v)))
				return usage(s, "--env: the environment is over %d bytes",
					     CLUSTER_ENV_BYTES);
		} else if (isopt(s, "--name")) {
			if (optval(s, "--name", &v))
				return -1;
			size_t n = strlen(v);
			if (n == 0 || n > CLUSTER_NAME_MAX)
				return usage(s, "--name must be 1..%d bytes", CLUSTER_NAME_MAX);
			for (size_t i = 0; i < n; i++)
				if (!name_char(v[i]))
					return usage(s,
						     "--name '%.40s': letters, digits, '.', '_' "
						     "and '-' only",
						     v);
			if (v[0] == '-' || v[0] == '.')
				return usage(s, "--name must not start with '%c'", v[0]);
			if (looks_like_id(v))
				return usage(s, "--name '%s' looks like a job id", v);
			memcpy(j->name, v, n + 1);
		} else {
			return usage(s, "unknown option '%.40s'", s->tok);
		}
	}
	if (batch && service)
		return usage(s, "--batch and --service together");
	if (program(s, j))
		return -1;
	if (!pack(j->argv, &j->argv_len, CLUSTER_ARGV_BYTES, j->program, strlen(j->program)))
		return usage(s, "arguments are over %d bytes", CLUSTER_ARGV_BYTES);
	s->verbatim = true;
	while ((r = next(s)) > 0)
		if (!pack(j->argv, &j->argv_len, CLUSTER_ARGV_BYTES, s->tok, s->toklen))
			return usage(s, "arguments are over %d bytes", CLUSTER_ARGV_BYTES);
	return r;
}

static bool base64_ok(const char *t)
{
	for (; *t; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9') || *t == '+' || *t == '/' || *t == '='))
			return false;
	return true;
}

static int keys(struct ps *s)
{
	struct console_cmd *c = s->cmd;
	int r = next(s);

	if (r < 0)
		return -1;
	if (r == 0)
		return usage(s, "missing list, install, use or remove");
	if (!strcmp(s->tok, "list")) {
		c->u.keys.op = CONSOLE_KEYS_LIST;
		return end(s);
	}
	if (!strcmp(s->tok, "install"))
		c->u.keys.op = CONSOLE_KEYS_INSTALL;
	else if (!strcmp(s->tok, "use"))
		c->u.keys.op = CONSOLE_KEYS_USE;
	else if (!strcmp(s->tok, "remove"))
		c->u.keys.op = CONSOLE_KEYS_REMOVE;
	else
		return usage(s, "unknown keys action '%.40s'", s->tok);
	if (arg(s, "KEY", c->u.keys.key))
		return -1;
	if (!base64_ok(c->u.keys.key))
		return usage(s, "KEY must be base64");
	return end(s);
}

static int logs(struct ps *s)
{
	struct console_cmd *c = s->cmd;
	bool have = false;
	int r;

	while ((r = next(s)) > 0) {
		if (!strcmp(s->tok, "-f") || !strcmp(s->tok, "--follow")) {
			c->u.logs.follow = true;
			continue;
		}
		if (s->tok[0] == '-')
			return usage(s, "unknown option '%.40s'", s->tok);
		if (have)
			return usage(s, "unexpected argument '%.40s'", s->tok);
		if (check_arg(s, "INSTANCE", c->u.logs.inst))
			return -1;
		have = true;
	}
	if (r < 0)
		return -1;
	if (!have)
		return usage(s, "missing INSTANCE");
	return 0;
}

static int drain(struct ps *s)
{
	struct console_cmd *c = s->cmd;
	bool have = false;
	int r;

	while ((r = next(s)) > 0) {
		if (!strcmp(s->tok, "--off")) {
			c->u.drain.off = true;
			continue;
		}
		if (s->tok[0] == '-')
			return usage(s, "unknown option '%.40s'", s->tok);
		if (have)
			return usage(s, "unexpected argument '%.40s'", s->tok);
		if (check_arg(s, "NODE", c->u.drain.node))
			return -1;
		have = true;
	}
	if (r < 0)
		return -1;
	if (!have)
		return usage(s, "missing NODE");
	return 0;
}

static int upload(struct ps *s)
{
	struct console_cmd *c = s->cmd;
	uint32_t size;
	int r = next(s);

	if (r < 0)
		return -1;
	if (r == 0)
		return usage(s, "missing SIZE");
	if (!digits(s->tok))
		return usage(s, "SIZE wants a number of bytes, got '%.40s'", s->tok);
	/* Over the limit is its own error code (toobig), not a usage error. */
	if (dec(s->tok) > CONSOLE_UPLOAD_MAX)
		return fail(s, "toobig", "upload: SIZE %.20s is over the limit of %u bytes", s->tok,
			    CONSOLE_UPLOAD_MAX);
	if (number(s, "SIZE", s->tok, 1, CONSOLE_UPLOAD_MAX, &size))
		return -1;
	c->u.upload.size = size;
	if ((r = next(s)) < 0)
		return -1;
	if (r == 0)
		return usage(s, "missing SHA256HEX");
	if (!sha256_hex(s->tok, s->toklen, c->u.upload.sha256))
		return usage(s, "SHA256HEX wants 64 hex digits");
	return end(s);
}

int console_parse(const char *line, size_t len, struct console_cmd *cmd, char *err, size_t errlen)
{
	struct ps s;
	int r;

	memset(cmd, 0, sizeof *cmd);
	s.p = line;
	s.end = line + len;
	s.cmd = cmd;
	s.err = err;
	s.errlen = errlen;
	s.name = NULL;
	s.verbatim = false;
	s.toklen = 0;
	if (errlen > 0)
		err[0] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		s.end--;
	if (len > CONSOLE_LINE_MAX + 1 || s.end - s.p > CONSOLE_LINE_MAX)
		return fail(&s, "toolong", "line over %d bytes", CONSOLE_LINE_MAX);
	for (const char *c = s.p; c < s.end; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			return fail(&s, "binary", "line holds non-text bytes");
	if ((r = lex(&s)) < 0)
		return -1;
	if (r == 0)
		return usage(&s, "empty line (try help)");
	size_t i;
	for (i = 0; i < NCMDS; i++)
		if (!strcmp(s.tok, cmds[i].name))
			break;
	if (i == NCMDS)
		return fail(&s, "unknown", "no such command '%.40s' (try help)", s.tok);
	s.name = cmds[i].name;
	cmd->kind = cmds[i].kind;
	switch (cmd->kind) {
	case CONSOLE_HELP:
		if ((r = next(&s)) < 0)
			return -1;
		if (r > 0) {
			size_t k;
			for (k = 0; k < NCMDS; k++)
				if (!strcmp(s.tok, cmds[k].name))
					break;
			if (k == NCMDS)
				return fail(&s, "unknown", "help: no such command '%.40s'", s.tok);
			memcpy(cmd->u.topic, s.tok, s.toklen + 1);
		}
		return end(&s);
	case CONSOLE_SUBMIT:
		return submit(&s);
	case CONSOLE_STATUS:
	case CONSOLE_STOP:
		if (arg(&s, "JOB", cmd->u.job))
			return -1;
		return end(&s);
	case CONSOLE_SCALE:
		if (arg(&s, "JOB", cmd->u.scale.job))
			return -1;
		if ((r = next(&s)) < 0)
			return -1;
		if (r == 0)
			return usage(&s, "missing N");
		if (number(&s, "N", s.tok, 0, CLUSTER_COUNT_MAX, &cmd->u.scale.count))
			return -1;
		return end(&s);
	case CONSOLE_LOGS:
		return logs(&s);
	case CONSOLE_UPLOAD:
		return upload(&s);
	case CONSOLE_DRAIN:
		return drain(&s);
	case CONSOLE_KEYS:
		return keys(&s);
	case CONSOLE_LOG:
		cmd->u.lines = CONSOLE_LOG_DEFAULT;
		if ((r = next(&s)) < 0)
			return -1;
		if (r > 0 && number(&s, "N", s.tok, 1, CONSOLE_LOG_MAX, &cmd->u.lines))
			return -1;
		return end(&s);
	default: /* no arguments */
		return end(&s);
	}
}
