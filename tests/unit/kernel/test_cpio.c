/* sources: kernel/fs/cpio.c */
/* test_cpio.c: the newc walk on well-formed archives (names, modes, data, padding, what
 * follows the trailer) and on every malformed form it must refuse without reporting a
 * single entry; random corruption and truncation never crash it (ASan); and path
 * normalization. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/fs/cpio.h"

#define ARCHIVE_MAX 65536
#define ENTRIES_MAX 16
#define CORRUPT_ROUNDS 20000

struct ar {
	char buf[ARCHIVE_MAX];
	size_t len;
};

static void pad(struct ar *a)
{
	while (a->len % 4)
		a->buf[a->len++] = 0;
}

/* Append an entry with an explicit name size (namesize 0: strlen + 1). */
static void add_raw(struct ar *a, const char *name, unsigned mode, const void *data, size_t size,
		    unsigned namesize)
{
	size_t nl = strlen(name) + 1;
	if (!namesize)
		namesize = (unsigned)nl;
	a->len += (size_t)sprintf(a->buf + a->len,
				  "070701%08x%08x%08x%08x%08x%08x%08zx%08x%08x%08x%08x%08x%08x", 1u,
				  mode, 0u, 0u, 1u, 1234u, size, 0u, 0u, 0u, 0u, namesize, 0u);
	memcpy(a->buf + a->len, name, nl);
	a->len += nl;
	pad(a);
	if (size)
		memcpy(a->buf + a->len, data, size);
	a->len += size;
	pad(a);
}

static void add(struct ar *a, const char *name, unsigned mode, const char *data)
{
	add_raw(a, name, mode, data, data ? strlen(data) : 0, 0);
}

static void trailer(struct ar *a) { add(a, "TRAILER!!!", 0, 0); }

struct seen {
	int n;
	char name[ENTRIES_MAX][64];
	unsigned mode[ENTRIES_MAX];
	char data[ENTRIES_MAX][64];
};

static int collect(void *arg, const struct cpio_entry *e)
{
	struct seen *s = arg;
	if (s->n == ENTRIES_MAX)
		return -E2BIG;
	snprintf(s->name[s->n], sizeof s->name[0], "%s", e->name);
	s->mode[s->n] = e->mode;
	snprintf(s->data[s->n], sizeof s->data[0], "%.*s", (int)e->size, (const char *)e->data);
	s->n++;
	return 0;
}

static struct ar *good(void)
{
	struct ar *a = calloc(1, sizeof *a);
	add(a, ".", CPIO_S_IFDIR | 0755, 0);
	add(a, "./bin", CPIO_S_IFDIR | 0755, 0);
	add(a, "./bin/hello", CPIO_S_IFREG | 0755, "ELFhello");
	add(a, "etc/motd", CPIO_S_IFREG | 0644, "hi\n");
	add(a, "/abs", CPIO_S_IFREG | 0600, "");
	trailer(a);
	return a;
}

static void test_good(void **state)
{
	struct ar *a = good();
	struct seen s = {0};
	const char *why = "unset";
	assert_int_equal(cpio_walk(a->buf, a->len, collect, &s, &why, 0), 4);
	assert_null(why);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.name[0], "bin");
	assert_int_equal(s.mode[0], CPIO_S_IFDIR | 0755);
	assert_string_equal(s.name[1], "bin/hello");
	assert_string_equal(s.data[1], "ELFhello");
	assert_string_equal(s.name[2], "etc/motd");
	assert_string_equal(s.data[2], "hi\n");
	assert_string_equal(s.name[3], "abs");
	assert_string_equal(s.data[3], "");
	/* Validation only, and zero padding after the trailer (cpio pads to 512 bytes). */
	memset(a->buf + a->len, 0, 512);
	assert_int_equal(cpio_walk(a->buf, a->len + 512, 0, 0, 0, 0), 4);
	free(a);
}

static void test_stop(void **state)
{
	struct ar *a = good();
	struct seen s = {.n = ENTRIES_MAX - 1};
	assert_int_equal(cpio_walk(a->buf, a->len, collect, &s, 0, 0), -E2BIG);
	free(a);
}

/* Each malformed archive: -EINVAL, a reason, and not one entry reported. */
static void refused(struct ar *a, size_t len, const char *expect)
{
	struct seen s = {0};
	const char *why = 0;
	size_t at = 999999;
	assert_int_equal(cpio_walk(a->buf, len, collect, &s, &why, &at), -EINVAL);
	assert_non_null(why);
	if (expect && !strstr(why, expect))
		fail_msg("reason '%s', expected '%s'", why, expect);
	assert_true(at <= len);
	assert_int_equal(s.n, 0);
}

static void test_malformed(void **state)
{
	struct ar *a = calloc(1, sizeof *a);

	refused(a, 0, "truncated");
	add(a, "bin", CPIO_S_IFDIR, 0); /* no trailer */
	refused(a, a->len, "no trailer");

	memset(a, 0, sizeof *a);
	add(a, "a", CPIO_S_IFREG, "x");
	trailer(a);
	a->buf[0] = '8';
	refused(a, a->len, "magic");

	memset(a, 0, sizeof *a);
	add(a, "a", CPIO_S_IFREG, "x");
	trailer(a);
	a->buf[20] = 'g'; /* inside the mode field */
	refused(a, a->len, "hex");

	memset(a, 0, sizeof *a);
	add_raw(a, "a", CPIO_S_IFREG, "x", 1, 1); /* name size without room for a name */
	trailer(a);
	refused(a, a->len, "name size");

	memset(a, 0, sizeof *a);
	add_raw(a, "a", CPIO_S_IFREG, "x", 1, CPIO_NAME_MAX + 1);
	refused(a, a->len, "name size");

	memset(a, 0, sizeof *a);
	add_raw(a, "abc", CPIO_S_IFREG, "x", 1, 3); /* size stops before the NUL */
	trailer(a);
	refused(a, a->len, "NUL");

	memset(a, 0, sizeof *a);
	add_raw(a, "ab", CPIO_S_IFREG, "x", 1, 5); /* name runs into padding: holds a NUL */
	trailer(a);
	refused(a, a->len, "NUL");

	const char *bad[] = {"a/../b", "..", "a//b", "a/", "a/./b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(a, 0, sizeof *a);
		add(a, "ok", CPIO_S_IFREG, "1");
		add(a, bad[i], CPIO_S_IFREG, "x");
		trailer(a);
		refused(a, a->len, "component");
	}

	/* File size beyond the archive, at the end and in the middle. */
	memset(a, 0, sizeof *a);
	add(a, "a", CPIO_S_IFREG, "abcdefgh");
	refused(a, a->len - 8, "data past");
	memset(a, 0, sizeof *a);
	add(a, "a", CPIO_S_IFREG, "x");
	trailer(a);
	memcpy(a->buf + 6 + 6 * 8, "ffffffff", 8);
	refused(a, a->len, "data past");

	memset(a, 0, sizeof *a);
	add(a, "TRAILER!!!", 0, "junk");
	refused(a, a->len, "trailer");

	/* Name past the end. */
	memset(a, 0, sizeof *a);
	add(a, "a-long-name", CPIO_S_IFREG, 0);
	refused(a, CPIO_HDR_LEN + 3, "name past");
	free(a);
}

/* Truncation anywhere and random byte corruption: refused or walked, never a crash,
 * never a reported entry outside the buffer. */
static int inside(void *arg, const struct cpio_entry *e)
{
	struct ar *a = arg;
	const char *d = e->data;
	assert_true(d >= a->buf && d + e->size <= a->buf + a->len);
	assert_true(e->name >= a->buf && e->name + strlen(e->name) < a->buf + a->len);
	return 0;
}

static void test_corrupt(void **state)
{
	struct ar *g = good();
	for (size_t l = 0; l < g->len; l++) {
		char *copy = malloc(l ? l : 1);
		memcpy(copy, g->buf, l);
		long r = cpio_walk(copy, l, 0, 0, 0, 0);
		assert_true(r == -EINVAL);
		free(copy);
	}
	srand(5);
	int ok = 0, bad = 0;
	for (int round = 0; round < CORRUPT_ROUNDS; round++) {
		struct ar *a = malloc(sizeof *a);
		memcpy(a, g, sizeof *a);
		int flips = 1 + rand() % 4;
		for (int i = 0; i < flips; i++)
			a->buf[rand() % a->len] =
				(char)(rand() % 3 == 0 ? rand()
						       : "0123456789abcdef\0"[rand() % 17]);
		char *copy = malloc(a->len); /* exact size: ASan sees any overread */
		memcpy(copy, a->buf, a->len);
		long r = cpio_walk(copy, a->len, 0, 0, 0, 0);
		if (r >= 0) {
			struct ar *b = malloc(sizeof *b);
			memcpy(b->buf, copy, a->len);
			b->len = a->len;
			assert_int_equal(cpio_walk(b->buf, b->len, inside, b, 0, 0), r);
			free(b);
			ok++;
		} else {
			assert_int_equal(r, -EINVAL);
			bad++;
		}
		free(copy);
		free(a);
	}
	assert_true(ok > 0 && bad > 0);
	free(g);
}

static void norm(const char *cwd, const char *p, const char *want)
{
	char out[64];
	long r = path_normalize(cwd, p, out, sizeof out);
	assert_int_equal(r, (long)strlen(want));
	assert_string_equal(out, want);
}

static void test_path(void **state)
{
	norm("/", "/", "/");
	norm("/", ".", "/");
	norm("/", "..", "/");
	norm("/", "/../../..", "/");
	norm("/", "bin/hello", "/bin/hello");
	norm("/tmp", "x", "/tmp/x");
	norm("/tmp/d", "../y/./z//", "/tmp/y/z");
	norm("/a/b", "/c/./d/../e", "/c/e");
	norm("/a/b", "..", "/a");
	norm("/a/b", "../..", "/");
	norm("/", "tmp/", "/tmp");
	norm("/", "///tmp", "/tmp");

	char out[64];
	assert_int_equal(path_normalize("/", "", out, sizeof out), -ENOENT);
	char small[8];
	assert_int_equal(path_normalize("/", "/abcdef", small, sizeof small), 7);
	assert_int_equal(path_normalize("/", "/abcdefg", small, sizeof small), -ENAMETOOLONG);
	assert_int_equal(path_normalize("/abcd", "efgh", small, sizeof small), -ENAMETOOLONG);
	/* Long but collapsing back within bounds. */
	assert_int_equal(path_normalize("/", "/ab/../cd/../ef", small, sizeof small), 3);
	assert_string_equal(small, "/ef");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),	  cmocka_unit_test(test_stop),
		cmocka_unit_test(test_malformed), cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_path),
	};
	return cmocka_run_group_tests(tests, 0, 0);
}
