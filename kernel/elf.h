/* elf.h: the ELF64 parser behind the task loader. Pure: it reads a byte buffer, maps
 * nothing and allocates nothing, so the host's unit tests and fuzzer run the very same
 * code. It accepts static x86-64 executables (ET_EXEC) and static PIE (ET_DYN with no
 * PT_INTERP), and checks every header field and segment bound before the loader uses
 * it: a malformed, truncated, dynamically linked or foreign file is refused with a
 * reason a person can read. */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_SEGMENTS_MAX 16

struct elf_segment {
	uint64_t vaddr;	 /* as in the file (before the PIE load bias) */
	uint64_t memsz;	 /* >= filesz; the rest is zero-filled */
	uint64_t offset; /* of its bytes in the file */
	uint64_t filesz;
	bool read, write, exec;
};

struct elf_image {
	bool pie;	     /* ET_DYN: the loader picks a load bias */
	uint64_t entry;	     /* as in the file */
	uint64_t phoff;	     /* program headers: offset in the file ... */
	uint16_t phnum;	     /* ... and count (for AT_PHDR / AT_PHNUM) */
	uint64_t phdr_vaddr; /* where the program headers are mapped, 0 if not (AT_PHDR) */
	uint64_t lo, hi;     /* page-aligned span of all PT_LOAD segments */
	int nseg;
	struct elf_segment seg[ELF_SEGMENTS_MAX];
	uint64_t tls_align; /* PT_TLS, for information; musl sets up its own TLS */
	bool exec_stack;    /* PT_GNU_STACK with PF_X */
};

/* Parse and validate buf[0..len): 0 with *img filled in, or -ENOEXEC with *why set to
 * a static string saying what is wrong ("not an ELF file", "dynamically linked (has an
 * interpreter)", "a segment extends past the end of the file", ...).
 * An accepted image guarantees: seg[] in ascending vaddr order, no two segments sharing
 * a page (each page of [lo, hi) takes one segment's permissions), none both writable and
 * executable, each one's file bytes inside buf and [vaddr, vaddr + memsz) below
 * 0x0000800000000000 (and, for ET_EXEC, at or above 64 KiB), the entry inside an
 * executable segment, and phdr_vaddr (when not 0) on a loaded copy of the headers. */
int elf_parse(const void *buf, size_t len, struct elf_image *img, const char **why);

#endif
