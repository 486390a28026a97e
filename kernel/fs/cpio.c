/* cpio.c: the newc archive walk and path normalization (pure; see cpio.h). */
#include "kernel/fs/cpio.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "kernel/hex.h"

#define MAGIC "070701"
#define MAGIC_LEN 6
#define FIELD_LEN 8
#define ALIGN 4
#define TRAILER "TRAILER!!!"

/* Field numbers after the magic. */
enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE, F_NAMESIZE = 11, F_COUNT = 13 };

static size_t align_up(size_t x) { return (x + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

/* Field i of the header at h: 0 and *v, or -1 when a digit is not hex. */
static int field(const char *h, int i, uint32_t *v)
{
	const char *p = h + MAGIC_LEN + i * FIELD_LEN;
	uint32_t x = 0;
	for (int k = 0; k < FIELD_LEN; k++) {
		int d = hex_digit(p[k]);
		if (d < 0)
			return -1;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return 0;
}

/* Strip leading "./" and "/" ("." itself becomes ""). */
static const char *strip(const char *n)
{
	for (;;) {
		if (n[0] == '/')
			n++;
		else if (n[0] == '.' && n[1] == '/')
			n += 2;
		else if (n[0] == '.' && n[1] == 0)
			n++;
		else
			return n;
	}
}

/* A stripped name is acceptable: non-empty components, none "." or "..", no
 * trailing "/". ("" is the root itself, accepted and skipped by the caller.) */
static bool name_ok(const char *n)
{
	if (!*n)
		return true;
	const char *c = n;
	for (;;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!e)
			return true;
		c = e + 1;
	}
}

/* One pass over the archive; fn NULL validates only. */
static long walk(const char *buf, size_t len, cpio_fn fn, void *arg, const char **why, size_t *at)
{
	size_t off = 0;
	long n = 0;
	for (;;) {
		*at = off;
		if (off > len || len - off < CPIO_HDR_LEN) {
			*why = "truncated header (no trailer)";
			return -EINVAL;
		}
		const char *h = buf + off;
		if (memcmp(h, MAGIC, MAGIC_LEN) != 0) {
			*why = "bad magic (not a newc archive)";
			return -EINVAL;
		}
		uint32_t f[F_COUNT];
		for (int i = 0; i < F_COUNT; i++) {
			if (field(h, i, &f[i]) < 0) {
				*why = "non-hex header field";
				return -EINVAL;
			}
		}
		uint32_t nsz = f[F_NAMESIZE];
		if (nsz < 2 || nsz > CPIO_NAME_MAX) {
			*why = "name size out of range";
			return -EINVAL;
		}
		size_t name_off = off + CPIO_HDR_LEN;
		if (len - name_off < nsz) {
			*why = "name past the end";
			return -EINVAL;
		}
		const char *name = buf + name_off;
		if (name[nsz - 1] != 0 || memchr(name, 0, nsz - 1)) {
			*why = "name not NUL-terminated or holding a NUL";
			return -EINVAL;
		}
		size_t data_off = align_up(name_off + nsz);
		size_t size = f[F_FILESIZE];
		if (data_off > len || len - data_off < size) {
			*why = "data past the end";
			return -EINVAL;
		}
		if (strcmp(name, TRAILER) == 0) {
			if (size != 0) {
				*why = "trailer with data";
				return -EINVAL;
			}
			return n;
		}
		const char *sn = strip(name);
		if (!name_ok(sn)) {
			*why = "bad path component";
			return -EINVAL;
		}
		if (*sn) {
			struct cpio_entry e = {sn, f[F_MODE], f[F_MTIME], buf + data_off, size};
			if (fn) {
				int r = fn(arg, &e);
				if (r < 0)
					return r;
			}
			n++;
		}
		off = align_up(data_off + size);
	}
}

long cpio_walk(const void *buf, size_t len, cpio_fn fn, void *arg, const char **why, size_t *at)
{
	const char *w = 0;
	size_t a = 0;
	if (!why)
		why = &w;
	if (!at)
		at = &a;
	*why = 0;
	long r = walk(buf, len, 0, 0, why, at);
	if (r < 0 || !fn)
		return r;
	return walk(buf, len, fn, arg, why, at);
}

/* Append component c (l bytes) to out (length *n), handling "." and "..". */
static int push(char *out, size_t max, size_t *n, const char *c, size_t l)
{
	if (l == 0 || (l == 1 && c[0] == '.'))
		return 0;
	if (l == 2 && c[0] == '.' && c[1] == '.') {
		while (*n > 0 && out[*n - 1] != '/')
			(*n)--;
		if (*n > 0)
			(*n)--; /* the "/" before it */
		return 0;
	}
	if (*n + 1 + l + 1 > max)
		return -ENAMETOOLONG;
	out[(*n)++] = '/';
	memcpy(out + *n, c, l);
	*n += l;
	return 0;
}

static int push_all(char *out, size_t max, size_t *n, const char *p)
{
	while (*p) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		int r = push(out, max, n, p, l);
		if (r < 0)
			return r;
		p += l;
		if (*p == '/')
			p++;
	}
	return 0;
}

long path_normalize(const char *cwd, const char *path, char *out, size_t max)
{
	if (!path[0])
		return -ENOENT;
	if (max < 2)
		return -ENAMETOOLONG;
	size_t n = 0; /* out holds n bytes, "" meaning "/" */
	if (path[0] != '/') {
		int r = push_all(out, max, &n, cwd);
		if (r < 0)
			return r;
	}
	int r = push_all(out, max, &n, path);
	if (r < 0)
		return r;
	if (n == 0)
		out[n++] = '/';
	out[n] = 0;
	return (long)n;
}
