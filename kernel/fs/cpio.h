/* cpio.h: a validating reader of cpio "newc" archives (the format of `cpio -H newc`,
 * used for the image's userland archive), and the path arithmetic the file tree uses.
 * Both are pure (no kernel state), so they build unchanged on the host for unit tests.
 *
 * newc: each entry is a 110-byte ASCII header ("070701" then 13 fields of 8 hex digits:
 * ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
 * namesize, check), then namesize bytes of name including its NUL, padded so that header
 * and name end on a 4-byte boundary, then filesize bytes of data padded to 4 bytes. The
 * entry named "TRAILER!!!" ends the archive; whatever follows it is ignored. */
#ifndef KERNEL_FS_CPIO_H
#define KERNEL_FS_CPIO_H

#include <stddef.h>
#include <stdint.h>

#define CPIO_HDR_LEN 110
#define CPIO_NAME_MAX 1024 /* longest name accepted, NUL included */

/* File types as the mode field carries them (the same as Linux's st_mode). */
#define CPIO_S_IFMT 0170000
#define CPIO_S_IFDIR 0040000
#define CPIO_S_IFREG 0100000
#define CPIO_S_IFLNK 0120000

struct cpio_entry {
	const char *name; /* in the archive, after any leading "./" or "/"; NUL-terminated */
	uint32_t mode;
	uint32_t mtime;
	const void *data;
	size_t size;
};

/* Called for each entry but "." and the trailer, in archive order; a negative return
 * stops the walk and is returned by cpio_walk. */
typedef int (*cpio_fn)(void *arg, const struct cpio_entry *e);

/* Walk the archive buf[0..len). Every header is checked before any entry is reported:
 * a malformed archive (bad magic, non-hex field, name size under 2 or over
 * CPIO_NAME_MAX, name not NUL-terminated or holding a NUL, an empty, "." or ".."
 * component, a trailing "/", data past the end, a trailer with data, no trailer) gives
 * -EINVAL with *why naming the fault and *at its byte offset (either may be NULL), and
 * fn is never called. On success the number of entries reported. fn may be NULL
 * (validation only). */
long cpio_walk(const void *buf, size_t len, cpio_fn fn, void *arg, const char **why, size_t *at);

/* Normalize path into out (size max): relative paths are taken from cwd (absolute,
 * normalized); "." and empty components vanish, ".." removes the previous one (never
 * above "/"). The result is absolute with no trailing "/" (except "/" itself). Returns
 * its length, -ENOENT for an empty path, -ENAMETOOLONG if it does not fit. */
long path_normalize(const char *cwd, const char *path, char *out, size_t max);

#endif
