/* fuzz_console.c: libFuzzer target over the console's sans-IO core: the byte stream goes
 * through the reader in pieces whose sizes the input chooses, every line through the
 * parser, an accepted upload switches the reader to a raw body of its size, and every item
 * gets a reply built with console_out (the parse error as `err`, the raw bytes as a body
 * line and as a JSON string). Checked on every reply: exactly one status line, the last,
 * and no control bytes in it; on every parse: a verdict with a NUL-terminated message that
 * starts with one of the documented codes, and an accepted submit whose argv is packed
 * as cluster.h says. ASan and UBSan catch the rest. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/console/console.h"

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_console: broken invariant: %s\n", what);
	abort();
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			broken(#cond);                                                             \
	} while (0)

static bool status_like(const char *p, size_t n)
{
	return (n == 2 && !memcmp(p, "ok", 2)) || (n >= 3 && !memcmp(p, "ok ", 3)) ||
	       (n == 3 && !memcmp(p, "err", 3)) || (n >= 4 && !memcmp(p, "err ", 4));
}

static void check_reply(const char *r)
{
	int status = 0;
	CHECK(r && *r);
	while (*r) {
		const char *nl = strchr(r, '\n');
		CHECK(nl);
		size_t n = (size_t)(nl - r);
		for (size_t i = 0; i < n; i++)
			CHECK((unsigned char)r[i] >= 0x20 || r[i] == '\t');
		if (status_like(r, n)) {
			status++;
			CHECK(nl[1] == '\0');
		}
		r = nl + 1;
	}
	CHECK(status == 1);
}

static void check_cmd(const struct console_cmd *c)
{
	CHECK(c->kind <= CONSOLE_QUIT);
	if (c->kind == CONSOLE_SUBMIT) {
		const struct cluster_job_spec *j = &c->u.submit.spec;
		CHECK(j->argv_len > 0 && j->argv_len <= CLUSTER_ARGV_BYTES);
		CHECK(j->argv[j->argv_len - 1] == '\0');
		CHECK(!strcmp(j->argv, j->program));
		CHECK(j->env_len <= CLUSTER_ENV_BYTES);
		CHECK(j->env_len == 0 || j->env[j->env_len - 1] == '\0');
		CHECK(j->count >= 1 && j->count <= CLUSTER_COUNT_MAX);
		CHECK(j->cpu >= 1 && j->mem_mib >= 1);
		CHECK(j->nconstraints <= CLUSTER_CONSTRAINTS_MAX);
		CHECK(strnlen(j->name, sizeof j->name) < sizeof j->name);
		CHECK(j->program[0] == '/' || j->has_blob);
	}
	if (c->kind == CONSOLE_UPLOAD)
		CHECK(c->u.upload.size >= 1 && c->u.upload.size <= CONSOLE_UPLOAD_MAX);
}

static void reply_line(const char *line, size_t len, bool json)
{
	struct console_cmd cmd;
	char err[200];
	struct console_out o;
	static const char *codes[] = {"usage ", "unknown ", "toobig ", "toolong ", "binary "};

	console_out_init(&o, json);
	if (console_parse(line, len, &cmd, err, sizeof err) == 0) {
		check_cmd(&cmd);
		console_out_line(&o, "%.*s", (int)len, line);
		console_out_raw(&o, "{\"line\":");
		console_out_json_str(&o, line, len);
		console_out_raw(&o, "}");
		check_reply(console_out_ok(&o));
	} else {
		CHECK(strnlen(err, sizeof err) < sizeof err);
		bool known = false;
		for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
			known |= !strncmp(err, codes[i], strlen(codes[i]));
		CHECK(known);
		check_reply(console_out_err(&o, "usage", "%s", err));
	}
	console_out_free(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct console_reader rd;
	struct console_item it;

	if (size < 1)
		return 0;
	/* The first byte: the feed size pattern and the JSON switch. */
	size_t step = (data[0] & 0x3f) + 1;
	bool json = data[0] & 0x40;
	data++, size--;
	console_reader_init(&rd);
	for (size_t off = 0; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;
		console_reader_feed(&rd, data + off, n);
		while (console_reader_next(&rd, &it)) {
			struct console_out o;
			struct console_cmd cmd;
			char err[64];
			switch (it.kind) {
			case CONSOLE_ITEM_LINE:
				CHECK(it.len <= CONSOLE_LINE_MAX);
				CHECK(it.data[it.len] == '\0');
				for (size_t i = 0; i < it.len; i++)
					CHECK(it.data[i] >= 0x20 || it.data[i] == '\t');
				reply_line((const char *)it.data, it.len, json);
				/* An accepted upload: its body follows, raw (bounded for speed). */
				if (console_parse((const char *)it.data, it.len, &cmd, err,
						  sizeof err) == 0 &&
				    cmd.kind == CONSOLE_UPLOAD)
					console_reader_raw(&rd, cmd.u.upload.size % 4096);
				break;
			case CONSOLE_ITEM_RAW:
				CHECK(it.len > 0 && it.data >= data &&
				      it.data + it.len <= data + size);
				console_out_init(&o, json);
				console_out_line(&o, "%.*s", (int)it.len, (const char *)it.data);
				console_out_json_str(&o, (const char *)it.data, it.len);
				check_reply(console_out_ok(&o));
				console_out_free(&o);
				break;
			case CONSOLE_ITEM_TOOLONG:
			case CONSOLE_ITEM_BINARY:
			case CONSOLE_ITEM_RAW_END:
				CHECK(it.data == NULL);
				break;
			default:
				broken("item kind");
			}
		}
	}
	return 0;
}
