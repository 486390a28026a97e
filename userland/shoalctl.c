/* shoalctl.c: the host's client for shoal's network console (net/console/README.md).
 *
 *   shoalctl -n HOST[:PORT] -k KEYFILE [--json] [-t SECS] COMMAND [ARG...]
 *   shoalctl -n HOST[:PORT] -k KEYFILE [--json] [-t SECS]        (a session on stdin)
 *
 * TLS 1.2 with a pre-shared key (Debian's libmbedtls-dev, 2.28): KEYFILE holds one line
 * `IDENTITY:HEXKEY`, the text the node takes as console.psk=; `-k -` reads it from the
 * environment variable SHOAL_PSK. One command per connection when COMMAND is given: the
 * reply's body goes to stdout as the node sends it, its status line is dropped (ok) or
 * goes to stderr (err). `submit ... ./prog ...` uploads the local file first and submits
 * it by SHA-256. `logs INST -f` prints lines as they come.
 *
 * Exit status: 0 on ok, 1 on err, 2 on a usage, connection, handshake or protocol
 * failure (with a message on stderr). Every wait is bounded: the connection by
 * CONNECT_TIMEOUT_S, the handshake and each read by -t (default READ_TIMEOUT_S;
 * FOLLOW_TIMEOUT_S for logs -f, WAIT_TIMEOUT_S for submit --wait). */
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/hex.h"

#define DEFAULT_PORT "7373"
#define CONNECT_TIMEOUT_S 5
#define READ_TIMEOUT_S 30
#define FOLLOW_TIMEOUT_S 3600
#define WAIT_TIMEOUT_S 90	    /* submit --wait: the node answers within 60 s */
#define LINE_MAX_BYTES 4096	    /* the console's CONSOLE_LINE_MAX */
#define UPLOAD_MAX_BYTES (4u << 20) /* the console's CONSOLE_UPLOAD_MAX */
#define REPLY_LINE_MAX (1u << 20)   /* one line of a reply (a JSON body may be long) */
#define PSK_MAX 64
#define IDENTITY_MAX 128
#define ARGS_MAX 512

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_FAIL = 2 };

static const char *prog = "shoalctl";

static void usage_exit(void)
{
	fprintf(stderr,
		"usage: %s -n HOST[:PORT] -k KEYFILE|- [--json] [-t SECS] [COMMAND [ARG...]]\n"
		"  -n HOST[:PORT]  the node (port %s by default)\n"
		"  -k KEYFILE      a file with one line IDENTITY:HEXKEY (console.psk= of the node);\n"
		"                  - reads it from $SHOAL_PSK\n"
		"  --json          ask for JSON replies\n"
		"  -t SECS         handshake and read timeout (default %d; %d for logs -f,\n"
		"                  %d for submit --wait)\n"
		"  COMMAND         one console command (try: help); without one, commands are\n"
		"                  read from stdin, one per line\n"
		"  submit [OPTIONS] ./PROG [ARG...] uploads the local file PROG first\n",
		prog, DEFAULT_PORT, READ_TIMEOUT_S, FOLLOW_TIMEOUT_S, WAIT_TIMEOUT_S);
	exit(EXIT_FAIL);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAIL);
}

static const char *tls_error(int rc)
{
	static char buf[160];
	mbedtls_strerror(rc, buf, sizeof buf);
	return buf;
}

/* ---- the key ---- */

struct psk {
	char identity[IDENTITY_MAX + 1];
	unsigned char key[PSK_MAX];
	size_t key_len;
};

/* "IDENTITY:HEXKEY", surrounding white space ignored. */
static void parse_psk(const char *text, const char *from, struct psk *p)
{
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\n' ||
			 text[n - 1] == '\r'))
		n--;
	const char *colon = memchr(text, ':', n);
	if (!colon || colon == text)
		die("%s: wants one line IDENTITY:HEXKEY", from);
	size_t id_len = (size_t)(colon - text);
	if (id_len > IDENTITY_MAX)
		die("%s: identity over %d bytes", from, IDENTITY_MAX);
	memcpy(p->identity, text, id_len);
	p->identity[id_len] = '\0';
	const char *hex = colon + 1;
	size_t hex_len = n - id_len - 1;
	if (hex_len == 0 || hex_len % 2 || hex_len / 2 > PSK_MAX)
		die("%s: the key wants an even number of hex digits, 2..%d", from, 2 * PSK_MAX);
	if (!hex_bytes(hex, hex_len / 2, p->key))
		die("%s: the key is not hex", from);
	p->key_len = hex_len / 2;
}

static void load_psk(const char *path, struct psk *p)
{
	if (!strcmp(path, "-")) {
		const char *env = getenv("SHOAL_PSK");
		if (!env)
			die("-k -: SHOAL_PSK is not set");
		parse_psk(env, "SHOAL_PSK", p);
		return;
	}
	FILE *f = fopen(path, "r");
	if (!f)
		die("%s: %s", path, strerror(errno));
	char line[IDENTITY_MAX + 2 * PSK_MAX + 16];
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		die("%s: empty", path);
	}
	fclose(f);
	parse_psk(line, path, p);
}

/* ---- the connection ---- */

struct conn {
	mbedtls_net_context net;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	char in[16384]; /* received, not yet consumed */
	size_t in_start, in_len;
};

static const int suites[] = {
	MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_PSK_WITH_AES_256_GCM_SHA384,
#ifdef MBEDTLS_TLS_PSK_WITH_CHACHA20_POLY1305_SHA256
	MBEDTLS_TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
#endif
	0,
};

/* A TCP connection within CONNECT_TIMEOUT_S, or exit. */
static int tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc)
		die("%s: %s", host, gai_strerror(rc));
	int err = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		int fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int n = poll(&pfd, 1, CONNECT_TIMEOUT_S * 1000);
			socklen_t len = sizeof err;
			if (n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
			    err == 0) {
				fcntl(fd, F_SETFL, fl);
				freeaddrinfo(res);
				return fd;
			}
			if (n == 0)
				err = ETIMEDOUT;
		} else {
			err = errno;
		}
		close(fd);
	}
	freeaddrinfo(res);
	die("cannot connect to %s port %s: %s", host, port, strerror(err ? err : EHOSTUNREACH));
}

static void conn_open(struct conn *c, const char *host, const char *port, const struct psk *p,
		      unsigned timeout_s)
{
	static const char pers[] = "shoalctl";
	int rc;

	memset(c, 0, sizeof *c);
	mbedtls_net_init(&c->net);
	mbedtls_ssl_init(&c->ssl);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_entropy_init(&c->entropy);
	rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
				   (const unsigned char *)pers, sizeof pers - 1);
	if (rc)
		die("random generator: %s", tls_error(rc));
	rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
					 MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc)
		die("TLS configuration: %s", tls_error(rc));
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&c->conf, suites);
	mbedtls_ssl_conf_read_timeout(&c->conf, timeout_s * 1000);
	if (p->key_len > MBEDTLS_PSK_MAX_LEN)
		die("the key has %zu bytes; this libmbedtls takes at most %d (MBEDTLS_PSK_MAX_LEN)",
		    p->key_len, MBEDTLS_PSK_MAX_LEN);
	rc = mbedtls_ssl_conf_psk(&c->conf, p->key, p->key_len, (const unsigned char *)p->identity,
				  strlen(p->identity));
	if (rc)
		die("the key: %s", tls_error(rc));
	rc = mbedtls_ssl_setup(&c->ssl, &c->conf);
	if (rc)
		die("TLS setup: %s", tls_error(rc));
	c->net.fd = tcp_connect(host, port);
	mbedtls_ssl_set_bio(&c->ssl, &c->net, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);
	while ((rc = mbedtls_ssl_handshake(&c->ssl)) != 0) {
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (rc == MBEDTLS_ERR_SSL_TIMEOUT)
			die("TLS handshake with %s: no answer within %u s", host, timeout_s);
		die("TLS handshake with %s failed (wrong key or identity?): %s", host,
		    tls_error(rc));
	}
}

static void conn_close(struct conn *c)
{
	mbedtls_ssl_close_notify(&c->ssl);
	mbedtls_net_free(&c->net);
	mbedtls_ssl_free(&c->ssl);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
}

static void conn_write(struct conn *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len > 0) {
		int rc = mbedtls_ssl_write(&c->ssl, p, len);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (rc < 0)
			die("sending: %s", tls_error(rc));
		p += rc;
		len -= (size_t)rc;
	}
}

/* The next line of the reply (without its LF, NUL-terminated, in a malloc'd buffer the
 * caller frees), or exit when the connection ends first or goes quiet. */
static char *conn_line(struct conn *c, size_t *len_out)
{
	char *line = NULL;
	size_t len = 0;

	for (;;) {
		if (c->in_len > 0) {
			char *s = c->in + c->in_start;
			char *nl = memchr(s, '\n', c->in_len);
			size_t take = nl ? (size_t)(nl - s) + 1 : c->in_len;
			if (len + take > REPLY_LINE_MAX)
				die("protocol: a reply line over %u bytes", REPLY_LINE_MAX);
			char *grown = realloc(line, len + take + 1);
			if (!grown)
				die("out of memory");
			line = grown;
			memcpy(line + len, s, take);
			len += take;
			c->in_start += take;
			c->in_len -= take;
			if (nl) {
				len--; /* the LF */
				if (len > 0 && line[len - 1] == '\r')
					len--;
				line[len] = '\0';
				*len_out = len;
				return line;
			}
			continue;
		}
		int rc = mbedtls_ssl_read(&c->ssl, (unsigned char *)c->in, sizeof c->in);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (rc == MBEDTLS_ERR_SSL_TIMEOUT)
			die("no reply within the read timeout (-t)");
		if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
			die("the node closed the connection%s", len ? " mid-line" : "");
		if (rc < 0)
			die("receiving: %s", tls_error(rc));
		c->in_start = 0;
		c->in_len = (size_t)rc;
	}
}

static bool is_status(const char *s, size_t n)
{
	return (n == 2 && !memcmp(s, "ok", 2)) || (n >= 3 && !memcmp(s, "ok ", 3)) ||
	       (n == 3 && !memcmp(s, "err", 3)) || (n >= 4 && !memcmp(s, "err ", 4));
}

/* Read one reply block: body lines to `body` (if not NULL), flushed as they come; the
 * status line decides the result (EXIT_OK or EXIT_ERR, the err line on stderr). */
static int conn_reply(struct conn *c, FILE *body)
{
	for (;;) {
		size_t n;
		char *line = conn_line(c, &n);
		if (is_status(line, n)) {
			int r = line[0] == 'o' ? EXIT_OK : EXIT_ERR;
			if (r == EXIT_ERR)
				fprintf(stderr, "%s\n", line);
			free(line);
			return r;
		}
		if (body) {
			fwrite(line, 1, n, body);
			fputc('\n', body);
			fflush(body);
		}
		free(line);
	}
}

/* ---- commands ---- */

/* Append one argument to the line, quoted when the console's tokenizer needs it; false
 * (and a message) when it cannot be sent. */
static bool put_arg(char *line, size_t *len, const char *a)
{
	bool quote = *a == '\0' || strpbrk(a, " \t\"") != NULL;
	char buf[2 * LINE_MAX_BYTES + 4];
	size_t n = 0;

	for (const char *p = a; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "%s: an argument holds a control character\n", prog);
			return false;
		}
	if (*len > 0)
		buf[n++] = ' ';
	if (quote)
		buf[n++] = '"';
	for (const char *p = a; *p && n < sizeof buf - 3; p++) {
		if (quote && (*p == '"' || *p == '\\'))
			buf[n++] = '\\';
		buf[n++] = *p;
	}
	if (quote)
		buf[n++] = '"';
	if (*len + n > LINE_MAX_BYTES) {
		fprintf(stderr, "%s: the command is over %d bytes\n", prog, LINE_MAX_BYTES);
		return false;
	}
	memcpy(line + *len, buf, n);
	*len += n;
	line[*len] = '\0';
	return true;
}

/* The command line for args (PROGRAM at prog_at replaced by ref), LF-terminated. */
static bool build_line(char *line, size_t *len, int argc, char **args, bool json, int prog_at,
		       const char *ref)
{
	*len = 0;
	line[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (!put_arg(line, len, i == prog_at ? ref : args[i]))
			return false;
		if (i == 0 && json && !put_arg(line, len, "--json"))
			return false;
	}
	line[(*len)++] = '\n';
	return true;
}

/* submit's options that take a value in the next argument (unless written OPT=VALUE). */
static bool takes_value(const char *a)
{
	static const char *opts[] = {"--count",	  "--cpu", "--mem",  "--constraint",
				     "--retries", "--env", "--name", NULL};
	for (int i = 0; opts[i]; i++)
		if (!strcmp(a, opts[i]))
			return true;
	return false;
}

/* The index of submit's PROGRAM in args (args[0] is "submit"), or -1. */
static int program_index(int argc, char **args)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(args[i], "--"))
			return i + 1 < argc ? i + 1 : -1;
		if (args[i][0] != '-' || args[i][1] == '\0')
			return i;
		if (takes_value(args[i]))
			i++;
	}
	return -1;
}

/* A local file to upload: a path with '/' naming a regular file here, except /bin/...,
 * which names the image's own programs. */
static bool local_program(const char *a)
{
	struct stat st;
	if (!strchr(a, '/') || !strncmp(a, "/bin/", 5))
		return false;
	return stat(a, &st) == 0 && S_ISREG(st.st_mode);
}

/* Upload a local file; on success its "sha256:HEX" in ref. */
static int upload(struct conn *c, const char *path, char ref[7 + 65])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("%s: %s", path, strerror(errno));
	unsigned char *data = malloc(UPLOAD_MAX_BYTES + 1);
	if (!data)
		die("out of memory");
	size_t n = fread(data, 1, UPLOAD_MAX_BYTES + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad)
		die("%s: read error", path);
	if (n == 0)
		die("%s: empty file", path);
	if (n > UPLOAD_MAX_BYTES)
		die("%s: over the upload limit of %u bytes", path, UPLOAD_MAX_BYTES);
	unsigned char sum[32];
	mbedtls_sha256_ret(data, n, sum, 0);
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	char line[128];
	int len = snprintf(line, sizeof line, "upload %zu %s\n", n, hex);
	conn_write(c, line, (size_t)len);
	conn_write(c, data, n);
	free(data);
	/* Its body (the blob's name) goes to stderr: stdout is the submit's reply. */
	int r = conn_reply(c, stderr);
	if (r == EXIT_OK)
		snprintf(ref, 7 + 65, "sha256:%s", hex);
	return r;
}

static long timeout_opt = -1; /* -t, seconds; -1: per command */

/* How long a reply to this command may take to come. */
static unsigned reply_timeout(int argc, char **args)
{
	if (timeout_opt > 0)
		return (unsigned)timeout_opt;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(args[0], "logs") &&
		    (!strcmp(args[i], "-f") || !strcmp(args[i], "--follow")))
			return FOLLOW_TIMEOUT_S;
		if (!strcmp(args[0], "submit") && !strcmp(args[i], "--wait"))
			return WAIT_TIMEOUT_S;
	}
	return READ_TIMEOUT_S;
}

/* Run one command given as arguments (args[0] is the command word) on an open
 * connection: upload first when it is a submit of a local file. */
static int run(struct conn *c, int argc, char **args, bool json)
{
	char line[LINE_MAX_BYTES + 2];
	size_t len = 0;
	char ref[7 + 65];
	int prog_at = -1;

	mbedtls_ssl_conf_read_timeout(&c->conf, reply_timeout(argc, args) * 1000);
	if (!strcmp(args[0], "submit")) {
		prog_at = program_index(argc, args);
		if (prog_at <= 0 || !local_program(args[prog_at]))
			prog_at = -1;
	}
	/* Check the line before uploading (a blob's name is as long as any other). */
	snprintf(ref, sizeof ref, "sha256:%064d", 0);
	if (!build_line(line, &len, argc, args, json, prog_at, ref))
		return EXIT_FAIL;
	if (prog_at > 0) {
		int r = upload(c, args[prog_at], ref);
		if (r != EXIT_OK)
			return r;
		build_line(line, &len, argc, args, json, prog_at, ref);
	}
	conn_write(c, line, len);
	return conn_reply(c, stdout);
}

/* Split an interactive line the way the console does (spaces; "..." with \ escapes). */
static int split(char *s, char **args, int max)
{
	int n = 0;
	char *out = s;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (n == max)
			return -1;
		args[n++] = out;
		bool q = false;
		while (*s && (q || (*s != ' ' && *s != '\t'))) {
			if (*s == '"') {
				q = !q;
				s++;
				continue;
			}
			if (q && *s == '\\' && s[1])
				s++;
			*out++ = *s++;
		}
		if (q)
			return -2;
		if (*s)
			s++;
		*out++ = '\0';
	}
	return n;
}

static int session(struct conn *c, bool json)
{
	char buf[LINE_MAX_BYTES + 2];
	char *args[ARGS_MAX];
	bool tty = isatty(0);
	int last = EXIT_OK;

	for (;;) {
		if (tty)
			fputs("shoal> ", stderr);
		if (!fgets(buf, sizeof buf, stdin))
			break;
		size_t n = strlen(buf);
		if (n > 0 && buf[n - 1] != '\n' && !feof(stdin)) {
			fprintf(stderr, "%s: line over %d bytes, skipped\n", prog, LINE_MAX_BYTES);
			int ch;
			while ((ch = getchar()) != EOF && ch != '\n')
				;
			continue;
		}
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		int argc = split(buf, args, ARGS_MAX);
		if (argc == 0)
			continue;
		if (argc < 0) {
			fprintf(stderr, "%s: %s\n", prog,
				argc == -1 ? "too many arguments" : "unterminated quote");
			continue;
		}
		last = run(c, argc, args, json);
		if (!strcmp(args[0], "quit"))
			break;
	}
	return last;
}

int main(int argc, char **argv)
{
	const char *node = NULL, *keyfile = NULL;
	bool json = false;
	int i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-n") && i + 1 < argc) {
			node = argv[++i];
		} else if (!strcmp(a, "-k") && i + 1 < argc) {
			keyfile = argv[++i];
		} else if (!strcmp(a, "-t") && i + 1 < argc) {
			char *end;
			timeout_opt = strtol(argv[++i], &end, 10);
			if (*end || timeout_opt < 1 || timeout_opt > 86400)
				die("-t wants seconds, 1..86400");
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage_exit();
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "%s: unknown option %s\n", prog, a);
			usage_exit();
		} else {
			break;
		}
	}
	if (!node || !keyfile)
		usage_exit();

	/* HOST, HOST:PORT, [V6], [V6]:PORT */
	char host[256];
	const char *port = DEFAULT_PORT;
	if (strlen(node) >= sizeof host)
		die("-n: host name too long");
	strcpy(host, node);
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (!close)
			die("-n: missing ']'");
		*close = '\0';
		if (close[1] == ':')
			port = node + (close - host) + 2;
		else if (close[1])
			die("-n: junk after ']'");
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else {
		char *colon = strchr(host, ':');
		if (colon && !strchr(colon + 1, ':')) {
			*colon = '\0';
			port = node + (colon - host) + 1;
		}
	}
	if (!*host || !*port)
		die("-n: wants HOST[:PORT]");

	struct psk psk;
	load_psk(keyfile, &psk);
	/* The handshake's bound; each command then sets its own (reply_timeout). */
	unsigned t = timeout_opt > 0 ? (unsigned)timeout_opt : READ_TIMEOUT_S;

	static struct conn c;
	conn_open(&c, host, port, &psk, t);
	int r = i < argc ? run(&c, argc - i, argv + i, json) : session(&c, json);
	conn_close(&c);
	return r;
}
