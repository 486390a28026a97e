/* fuzz_elf.c: libFuzzer target over the task loader's ELF parser (kernel/elf.c).
 * Any input must be either refused with -ENOEXEC and a reason, or accepted as an image
 * that keeps every promise elf.h and elf.c make to the loader: segments inside the
 * file, inside [lo, hi) and below the user half, in order and on disjoint pages, never
 * writable and executable, and the entry point inside an executable segment. ASan
 * catches any read past the input. Seeds: the built userland programs (tests/fuzz/run.sh
 * copies build/userland/bin/ into the corpus). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/elf.h"

#define USER_TOP 0x0000800000000000ull
#define EXEC_MIN 0x10000ull
#define PAGE 4096ull
#define PHDR_SIZE 56

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_elf: accepted image breaks an invariant: %s\n", what);
	abort();
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			broken(#cond);                                                             \
	} while (0)

static void check(const uint8_t *d, size_t n, const struct elf_image *img)
{
	CHECK(img->nseg >= 1 && img->nseg <= ELF_SEGMENTS_MAX);
	CHECK(img->lo % PAGE == 0 && img->hi % PAGE == 0);
	CHECK(img->lo < img->hi && img->hi <= USER_TOP);
	CHECK(img->pie || img->lo >= EXEC_MIN);
	CHECK(img->phnum >= 1 && img->phoff <= n && img->phnum * PHDR_SIZE <= n - img->phoff);
	bool entry_ok = false;
	for (int i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];
		CHECK(s->memsz > 0 && s->filesz <= s->memsz);
		CHECK(s->offset <= n && s->filesz <= n - s->offset);
		CHECK(s->vaddr >= img->lo && s->vaddr < img->hi && s->memsz <= img->hi - s->vaddr);
		CHECK(!(s->write && s->exec));
		if (i > 0) {
			const struct elf_segment *p = &img->seg[i - 1];
			uint64_t prev_end = (p->vaddr + p->memsz + PAGE - 1) & ~(PAGE - 1);
			CHECK(s->vaddr / PAGE * PAGE >= prev_end);
		}
		if (img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
			entry_ok = s->exec;
	}
	CHECK(entry_ok);
	/* AT_PHDR, when given, points at a loaded copy of the very headers. */
	if (img->phdr_vaddr) {
		bool found = false;
		for (int i = 0; i < img->nseg; i++) {
			const struct elf_segment *s = &img->seg[i];
			uint64_t at = img->phdr_vaddr - s->vaddr;
			if (img->phdr_vaddr >= s->vaddr && at <= s->filesz &&
			    img->phnum * PHDR_SIZE <= s->filesz - at)
				found = s->offset + at == img->phoff;
		}
		CHECK(found);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct elf_image img;
	const char *why = NULL;
	int rc = elf_parse(d, n, &img, &why);
	if (rc == 0) {
		CHECK(why == NULL);
		check(d, n, &img);
	} else {
		CHECK(rc == -ENOEXEC);
		CHECK(why != NULL && strlen(why) > 0);
	}
	return 0;
}
