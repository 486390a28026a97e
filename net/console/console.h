/* console.h: the console's command language, as a sans-IO core: framing of the byte
 * stream into lines (and raw upload bodies), parsing a line into a command, and the reply
 * format. No I/O, no kernel: the kernel's TLS and serial consoles (net/console/server.c,
 * exec.c) and the host's unit tests, fuzzer and shoalctl build the same files.
 *
 * Reply format: every command's reply is a block of zero or more lines ending in exactly
 * one status line, `ok` or `err CODE MESSAGE`; no other line of a block starts with "ok"
 * or "err " on its own (console_out escapes them). With --json (anywhere after the
 * command word) the block's body is one line of JSON before the status line.
 *
 * Error codes (stable; MESSAGE is for people):
 *   usage      bad arguments (the message says which and shows the usage)
 *   unknown    no such command
 *   toolong    line over CONSOLE_LINE_MAX (the rest of it is discarded)
 *   binary     a line with bytes that are not text (NUL, control other than tab)
 *   notfound   no such job, instance, node, key or blob
 *   exists     already there (job name, key)
 *   toobig     upload over CONSOLE_UPLOAD_MAX
 *   checksum   upload's SHA-256 does not match
 *   denied     not allowed here (a last key removed, a plaintext console action)
 *   unavailable  the subsystem is not running (no network, no membership)
 *   internal   anything else (out of memory); logged */
#ifndef NET_CONSOLE_CONSOLE_H
#define NET_CONSOLE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/cluster/cluster.h"

#define CONSOLE_PORT 7373
#define CONSOLE_LINE_MAX 4096	      /* bytes of one command line, newline excluded */
#define CONSOLE_UPLOAD_MAX (4u << 20) /* bytes of one uploaded ELF: one heap block */
#define CONSOLE_ARG_MAX 64	      /* bytes of a job, instance, node or key argument */

enum console_cmd_kind {
	CONSOLE_HELP,	  /* help [COMMAND] */
	CONSOLE_MEMBERS,  /* members */
	CONSOLE_NODES,	  /* nodes */
	CONSOLE_SUBMIT,	  /* submit [--batch|--service] [--count N] [--cpu C] [--mem MIB]
			     [--constraint K=V]... [--distinct] [--binpack] [--retries N]
			     [--env K=V]... [--name NAME] [--wait] PROGRAM [ARG...]
			     PROGRAM: an image path ("/bin/hello" or "hello" for /bin/hello)
			     or "sha256:HEX" of an uploaded blob */
	CONSOLE_JOBS,	  /* jobs */
	CONSOLE_STATUS,	  /* status JOB */
	CONSOLE_PS,	  /* ps */
	CONSOLE_LOGS,	  /* logs INSTANCE [-f] */
	CONSOLE_STOP,	  /* stop JOB */
	CONSOLE_SCALE,	  /* scale JOB N */
	CONSOLE_UPLOAD,	  /* upload SIZE SHA256HEX, then SIZE raw bytes */
	CONSOLE_DRAIN,	  /* drain NODE [--off] */
	CONSOLE_KEYS,	  /* keys list | keys install KEY | keys use KEY | keys remove KEY */
	CONSOLE_STATS,	  /* stats */
	CONSOLE_LOG,	  /* log [N]: the last N lines of the kernel log (default 100) */
	CONSOLE_SHUTDOWN, /* shutdown */
	CONSOLE_REBOOT,	  /* reboot */
	CONSOLE_QUIT,	  /* quit: ends the session */
};

enum console_keys_op {
	CONSOLE_KEYS_LIST,
	CONSOLE_KEYS_INSTALL,
	CONSOLE_KEYS_USE,
	CONSOLE_KEYS_REMOVE
};

struct console_cmd {
	enum console_cmd_kind kind;
	bool json;
	union {
		char topic[CONSOLE_ARG_MAX + 1]; /* help */
		struct {
			struct cluster_job_spec spec;
			bool wait; /* reply once every instance runs (or ended) */
		} submit;
		char job[CONSOLE_ARG_MAX + 1]; /* status, stop */
		struct {
			char job[CONSOLE_ARG_MAX + 1];
			uint32_t count;
		} scale;
		struct {
			char inst[CONSOLE_ARG_MAX + 1];
			bool follow;
		} logs;
		struct {
			uint32_t size;
			uint8_t sha256[32];
		} upload;
		struct {
			char node[CONSOLE_ARG_MAX + 1];
			bool off;
		} drain;
		struct {
			enum console_keys_op op;
			char key[CONSOLE_ARG_MAX + 1]; /* base64, as cluster.key= takes it */
		} keys;
		uint32_t lines; /* log */
	} u;
};

/* Parse one line (no newline; len bytes, need not be NUL-terminated). 0 and *cmd filled,
 * or -1 with the reply's error code and message in err (code first: "usage ..."). */
int console_parse(const char *line, size_t len, struct console_cmd *cmd, char *err, size_t errlen);
/* One line of usage per command, for `help` and usage errors. */
const char *console_usage(enum console_cmd_kind k);
/* All of help's text: every command and its usage. */
const char *console_help(void);

/* Framing: bytes in, lines and raw bodies out. */
enum console_item_kind {
	CONSOLE_ITEM_NONE,    /* need more bytes */
	CONSOLE_ITEM_LINE,    /* a complete line (CR stripped) */
	CONSOLE_ITEM_TOOLONG, /* a line went over CONSOLE_LINE_MAX (discarded to its end) */
	CONSOLE_ITEM_BINARY,  /* a line held non-text bytes (discarded) */
	CONSOLE_ITEM_RAW,     /* a piece of a raw body (console_reader_raw) */
	CONSOLE_ITEM_RAW_END, /* the raw body is complete */
};
struct console_item {
	enum console_item_kind kind;
	const uint8_t *data; /* LINE, RAW: valid until the next call */
	size_t len;
};
struct console_reader {
	uint8_t line[CONSOLE_LINE_MAX + 2];
	size_t have;
	bool discarding, binary;
	uint64_t raw_left; /* > 0: the next bytes are a raw body */
	const uint8_t *in; /* pending input */
	size_t in_len;
};
void console_reader_init(struct console_reader *r);
/* Hand in bytes (kept by pointer until console_reader_next returns NONE). */
void console_reader_feed(struct console_reader *r, const uint8_t *data, size_t len);
bool console_reader_next(struct console_reader *r, struct console_item *it);
/* The next n bytes are a raw body (after an accepted upload command). */
void console_reader_raw(struct console_reader *r, uint64_t n);

/* Reply building: a growable buffer. Functions never fail visibly: on out of memory the
 * buffer is marked and console_out_finish turns the reply into `err internal`. */
struct console_out {
	char *buf;
	size_t len, cap;
	bool oom, ended;
	bool json;
};
void console_out_init(struct console_out *o, bool json);
void console_out_free(struct console_out *o);
/* A body line (printf-like); a line that would read as a status line is prefixed "> ". */
void console_out_line(struct console_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Raw appends for JSON bodies: text as is, and a JSON string (quoted and escaped). */
void console_out_raw(struct console_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void console_out_json_str(struct console_out *o, const char *s, size_t len);
/* End the block: `ok`, or `err CODE MESSAGE`. Returns the whole reply (NUL-terminated). */
const char *console_out_ok(struct console_out *o);
const char *console_out_err(struct console_out *o, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
