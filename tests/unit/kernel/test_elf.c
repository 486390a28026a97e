/* sources: kernel/elf.c */
/* test_elf.c: the ELF parser against a good image built here, every refusal reason it
 * has (each produced by one change to the good image), truncation at every length, and
 * the real musl programs of build/userland/bin when they have been built. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/elf.h"

#define FILE_SIZE 0x4000
#define BASE 0x400000ull
#define NPH 5 /* PHDR, LOAD r-x, LOAD rw-, TLS, GNU_STACK */

/* A small static executable: headers, a text page at 0x401000 and a data page. */
struct image {
	uint8_t b[FILE_SIZE];
};

static Elf64_Ehdr *eh(struct image *m) { return (Elf64_Ehdr *)m->b; }

static Elf64_Phdr *ph(struct image *m, int i)
{
	return (Elf64_Phdr *)(m->b + sizeof(Elf64_Ehdr)) + i;
}

static void good(struct image *m)
{
	memset(m, 0, sizeof(*m));
	Elf64_Ehdr *h = eh(m);
	memcpy(h->e_ident, ELFMAG, SELFMAG);
	h->e_ident[EI_CLASS] = ELFCLASS64;
	h->e_ident[EI_DATA] = ELFDATA2LSB;
	h->e_ident[EI_VERSION] = EV_CURRENT;
	h->e_ident[EI_OSABI] = ELFOSABI_SYSV;
	h->e_type = ET_EXEC;
	h->e_machine = EM_X86_64;
	h->e_version = EV_CURRENT;
	h->e_entry = BASE + 0x1010;
	h->e_phoff = sizeof(Elf64_Ehdr);
	h->e_ehsize = sizeof(Elf64_Ehdr);
	h->e_phentsize = sizeof(Elf64_Phdr);
	h->e_phnum = NPH;
	/* The first LOAD covers the headers (offset 0), so PT_PHDR has a loaded copy. */
	*ph(m, 0) = (Elf64_Phdr){.p_type = PT_PHDR,
				 .p_flags = PF_R,
				 .p_offset = sizeof(Elf64_Ehdr),
				 .p_vaddr = BASE + sizeof(Elf64_Ehdr),
				 .p_filesz = NPH * sizeof(Elf64_Phdr),
				 .p_memsz = NPH * sizeof(Elf64_Phdr),
				 .p_align = 8};
	*ph(m, 1) = (Elf64_Phdr){.p_type = PT_LOAD,
				 .p_flags = PF_R | PF_X,
				 .p_offset = 0,
				 .p_vaddr = BASE,
				 .p_filesz = 0x2000,
				 .p_memsz = 0x2000,
				 .p_align = 0x1000};
	*ph(m, 2) = (Elf64_Phdr){.p_type = PT_LOAD,
				 .p_flags = PF_R | PF_W,
				 .p_offset = 0x2f00,
				 .p_vaddr = BASE + 0x3f00,
				 .p_filesz = 0x100,
				 .p_memsz = 0x5000,
				 .p_align = 0x1000};
	*ph(m, 3) = (Elf64_Phdr){.p_type = PT_TLS,
				 .p_flags = PF_R,
				 .p_offset = 0x2f00,
				 .p_vaddr = BASE + 0x3f00,
				 .p_filesz = 0x10,
				 .p_memsz = 0x40,
				 .p_align = 16};
	*ph(m, 4) = (Elf64_Phdr){.p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W, .p_align = 16};
}

static struct image m;

static const char *parse(const struct image *im, size_t len, struct elf_image *img)
{
	const char *why = "untouched";
	int rc = elf_parse(im->b, len, img, &why);
	if (rc == 0) {
		assert_null(why);
		return NULL;
	}
	assert_int_equal(rc, -ENOEXEC);
	assert_non_null(why);
	return why;
}

/* The reason the parser gives for m (which must be refused). */
static const char *refused(void)
{
	struct elf_image img;
	const char *why = parse(&m, sizeof(m.b), &img);
	assert_non_null(why);
	return why;
}

static void test_good(void **state)
{
	struct elf_image img;
	good(&m);
	assert_null(parse(&m, sizeof(m.b), &img));
	assert_false(img.pie);
	assert_int_equal(img.entry, BASE + 0x1010);
	assert_int_equal(img.phoff, 64);
	assert_int_equal(img.phnum, NPH);
	assert_int_equal(img.phdr_vaddr, BASE + 64);
	assert_int_equal(img.nseg, 2);
	assert_int_equal(img.lo, BASE);
	assert_int_equal(img.hi, BASE + 0x9000);
	assert_int_equal(img.seg[0].vaddr, BASE);
	assert_true(img.seg[0].read && img.seg[0].exec && !img.seg[0].write);
	assert_int_equal(img.seg[1].offset, 0x2f00);
	assert_int_equal(img.seg[1].filesz, 0x100);
	assert_int_equal(img.seg[1].memsz, 0x5000);
	assert_true(img.seg[1].read && img.seg[1].write && !img.seg[1].exec);
	assert_int_equal(img.tls_align, 16);
	assert_false(img.exec_stack);
}

/* Without PT_PHDR, the headers are found in the segment that covers them in the file;
 * when no segment does, AT_PHDR is 0. */
static void test_phdr_found(void **state)
{
	struct elf_image img;
	good(&m);
	ph(&m, 0)->p_type = PT_NULL;
	assert_null(parse(&m, sizeof(m.b), &img));
	assert_int_equal(img.phdr_vaddr, BASE + 64);

	ph(&m, 1)->p_offset = 0x1000;
	ph(&m, 1)->p_vaddr = BASE + 0x1000;
	ph(&m, 1)->p_filesz = ph(&m, 1)->p_memsz = 0x1000;
	assert_null(parse(&m, sizeof(m.b), &img));
	assert_int_equal(img.phdr_vaddr, 0);
}

/* Static PIE: ET_DYN with PT_DYNAMIC and no interpreter, segments from address 0. */
static void test_static_pie(void **state)
{
	struct elf_image img;
	good(&m);
	eh(&m)->e_type = ET_DYN;
	eh(&m)->e_entry -= BASE;
	for (int i = 0; i < 4; i++)
		ph(&m, i)->p_vaddr -= BASE;
	ph(&m, 4)->p_type = PT_DYNAMIC;
	ph(&m, 4)->p_offset = 0x2f80;
	ph(&m, 4)->p_vaddr = 0x3f80;
	ph(&m, 4)->p_filesz = ph(&m, 4)->p_memsz = 0x40;
	eh(&m)->e_ident[EI_OSABI] = ELFOSABI_LINUX;
	assert_null(parse(&m, sizeof(m.b), &img));
	assert_true(img.pie);
	assert_int_equal(img.lo, 0);
	assert_int_equal(img.hi, 0x9000);
	assert_int_equal(img.entry, 0x1010);
	assert_int_equal(img.phdr_vaddr, 64);
}

static void test_exec_stack_and_empty_segment(void **state)
{
	struct elf_image img;
	good(&m);
	ph(&m, 4)->p_flags |= PF_X;
	/* An empty PT_LOAD maps nothing and is skipped, wherever it claims to be. */
	ph(&m, 0)->p_type = PT_LOAD;
	ph(&m, 0)->p_vaddr = 0x123;
	ph(&m, 0)->p_offset = 0xffffffffff;
	ph(&m, 0)->p_filesz = ph(&m, 0)->p_memsz = 0;
	assert_null(parse(&m, sizeof(m.b), &img));
	assert_true(img.exec_stack);
	assert_int_equal(img.nseg, 2);
}

/* Each mutation of the good image, and the reason it must produce. */
struct bad {
	const char *name;
	void (*mutate)(struct image *m);
	const char *why;
};

#define MUT(fn, body)                                                                              \
	static void fn(struct image *m) { body; }

MUT(bad_magic, m->b[1] = 'X')
MUT(bad_class, m->b[EI_CLASS] = ELFCLASS32)
MUT(bad_data, m->b[EI_DATA] = ELFDATA2MSB)
MUT(bad_idversion, m->b[EI_VERSION] = 2)
MUT(bad_version, eh(m)->e_version = 0)
MUT(bad_osabi, m->b[EI_OSABI] = ELFOSABI_FREEBSD)
MUT(bad_machine, eh(m)->e_machine = EM_AARCH64)
MUT(bad_rel, eh(m)->e_type = ET_REL)
MUT(bad_core, eh(m)->e_type = ET_CORE)
MUT(bad_ehsize, eh(m)->e_ehsize = 52)
MUT(bad_phentsize, eh(m)->e_phentsize = 32)
MUT(bad_phnum0, eh(m)->e_phnum = 0)
MUT(bad_phxnum, eh(m)->e_phnum = PN_XNUM)
MUT(bad_phnum_big, eh(m)->e_phnum = 74)
MUT(bad_phoff, eh(m)->e_phoff = FILE_SIZE - 100)
MUT(bad_phoff_wrap, eh(m)->e_phoff = UINT64_MAX - 8)
MUT(bad_interp, ph(m, 4)->p_type = PT_INTERP)
MUT(bad_filesz, ph(m, 2)->p_filesz = 0x6000)
MUT(bad_past_end, ph(m, 2)->p_filesz = 0x1101)
MUT(bad_offset_wrap, ph(m, 2)->p_offset = UINT64_MAX - 0x10ff)
MUT(bad_align_pow2, ph(m, 2)->p_align = 0x1800)
MUT(bad_align, ph(m, 2)->p_vaddr += 8)
MUT(bad_top, ph(m, 2)->p_vaddr = 0x00007ffffffff000ull + 0xf00)
MUT(bad_kernel, ph(m, 2)->p_vaddr = 0xffffffff80000f00ull)
MUT(bad_memsz_wrap, ph(m, 2)->p_memsz = UINT64_MAX - 0x100)
MUT(bad_wx, ph(m, 2)->p_flags |= PF_X)
MUT(bad_order, ph(m, 2)->p_vaddr = BASE - 0x1000 + 0xf00)
MUT(bad_share, ph(m, 2)->p_vaddr = BASE + 0x1f00)
MUT(bad_overlap, ph(m, 2)->p_vaddr = BASE + 0xf00)
MUT(bad_low, {
	ph(m, 1)->p_vaddr = 0x1000;
	ph(m, 0)->p_type = PT_NULL;
	eh(m)->e_entry = 0x1010;
})
MUT(bad_noload, ph(m, 1)->p_type = ph(m, 2)->p_type = PT_NOTE)
MUT(bad_entry_out, eh(m)->e_entry = BASE + 0x2000)
MUT(bad_entry_nx, eh(m)->e_entry = BASE + 0x3f10)
MUT(bad_entry_zero, eh(m)->e_entry = 0)
MUT(bad_phdr_two, ph(m, 4)->p_type = PT_PHDR)
MUT(bad_phdr_where, ph(m, 0)->p_vaddr += 8)
MUT(bad_phdr_unloaded, ph(m, 0)->p_vaddr = BASE + 0x3f00)
MUT(bad_tls_two, *ph(m, 4) = *ph(m, 3))
MUT(bad_tls_filesz, ph(m, 3)->p_filesz = 0x80)
MUT(bad_tls_file, ph(m, 3)->p_offset = FILE_SIZE - 8)
MUT(bad_tls_align, ph(m, 3)->p_align = 12)
MUT(bad_tls_where, ph(m, 3)->p_vaddr = BASE + 0x5000)

static void bad_many(struct image *m)
{
	/* 17 page-separated executable segments: one more than ELF_SEGMENTS_MAX. */
	eh(m)->e_phnum = ELF_SEGMENTS_MAX + 1;
	for (int i = 0; i <= ELF_SEGMENTS_MAX; i++)
		*ph(m, i) = (Elf64_Phdr){.p_type = PT_LOAD,
					 .p_flags = PF_R | PF_X,
					 .p_vaddr = BASE + 0x2000 * (uint64_t)i,
					 .p_filesz = 0x100,
					 .p_memsz = 0x100,
					 .p_align = 0x1000};
}

static const struct bad bads[] = {
	{"magic", bad_magic, "not an ELF file"},
	{"class", bad_class, "not a 64-bit ELF file"},
	{"data", bad_data, "not little-endian"},
	{"ident version", bad_idversion, "unknown ELF version"},
	{"version", bad_version, "unknown ELF version"},
	{"osabi", bad_osabi, "not a System V or Linux program (OS ABI)"},
	{"machine", bad_machine, "not an x86-64 program"},
	{"ET_REL", bad_rel, "not an executable (ELF type is neither EXEC nor DYN)"},
	{"ET_CORE", bad_core, "not an executable (ELF type is neither EXEC nor DYN)"},
	{"ehsize", bad_ehsize, "bad ELF header size"},
	{"phentsize", bad_phentsize, "bad program header size"},
	{"phnum 0", bad_phnum0, "no program headers"},
	{"PN_XNUM", bad_phxnum, "too many program headers"},
	{"phnum 74", bad_phnum_big, "too many program headers"},
	{"phoff", bad_phoff, "program headers extend past the end of the file"},
	{"phoff wraps", bad_phoff_wrap, "program headers extend past the end of the file"},
	{"interp", bad_interp, "dynamically linked (has an interpreter)"},
	{"filesz > memsz", bad_filesz, "a segment's file size exceeds its memory size"},
	{"past end", bad_past_end, "a segment extends past the end of the file"},
	{"offset wraps", bad_offset_wrap, "a segment extends past the end of the file"},
	{"align not 2^n", bad_align_pow2, "a segment's alignment is not a power of two"},
	{"align", bad_align, "a segment's address and file offset disagree modulo its alignment"},
	{"above user half", bad_top, "a segment lies outside the user address space"},
	{"kernel half", bad_kernel, "a segment lies outside the user address space"},
	{"memsz wraps", bad_memsz_wrap, "a segment lies outside the user address space"},
	{"W+X", bad_wx, "segment is writable and executable"},
	{"order", bad_order, "segments are not in address order"},
	{"shared page", bad_share, "two segments overlap or share a page"},
	{"overlap", bad_overlap, "two segments overlap or share a page"},
	{"first 64 KiB", bad_low, "a fixed-address segment lies in the first 64 KiB"},
	{"no PT_LOAD", bad_noload, "no loadable segments"},
	{"entry outside", bad_entry_out, "entry point is outside every segment"},
	{"entry in data", bad_entry_nx, "entry point is not in an executable segment"},
	{"entry 0", bad_entry_zero, "entry point is outside every segment"},
	{"two PT_PHDR", bad_phdr_two, "more than one PT_PHDR"},
	{"PT_PHDR moved", bad_phdr_where,
	 "PT_PHDR does not match a loaded copy of the program headers"},
	{"PT_PHDR in bss", bad_phdr_unloaded,
	 "PT_PHDR does not match a loaded copy of the program headers"},
	{"two TLS", bad_tls_two, "more than one TLS segment"},
	{"TLS filesz", bad_tls_filesz, "TLS segment's file size exceeds its memory size"},
	{"TLS past end", bad_tls_file, "TLS segment extends past the end of the file"},
	{"TLS align", bad_tls_align, "TLS segment's alignment is not a power of two"},
	{"TLS not loaded", bad_tls_where, "TLS image is not inside a loaded segment"},
	{"17 segments", bad_many, "too many loadable segments"},
};

static void test_refusals(void **state)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		good(&m);
		bads[i].mutate(&m);
		const char *why = refused();
		if (strcmp(why, bads[i].why) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", bads[i].name, why, bads[i].why);
	}
}

/* ELF_SEGMENTS_MAX segments are fine; the 17-segment image minus one parses. */
static void test_segments_max(void **state)
{
	struct elf_image img;
	good(&m);
	bad_many(&m);
	eh(&m)->e_phnum = ELF_SEGMENTS_MAX;
	eh(&m)->e_entry = BASE + 0x10;
	assert_null(parse(&m, sizeof(m.b), &img));
	assert_int_equal(img.nseg, ELF_SEGMENTS_MAX);
	assert_int_equal(img.hi, BASE + 0x2000 * (ELF_SEGMENTS_MAX - 1) + 0x1000);
}

/* Every prefix of the good image is refused (never read past len: ASan watches), with
 * the header-level reasons for the short ones. */
static void test_truncated(void **state)
{
	struct elf_image img;
	good(&m);
	size_t need = 0x3000; /* end of the last file-backed byte */
	for (size_t len = 0; len < need; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, m.b, len);
		const char *why = NULL;
		assert_int_equal(elf_parse(copy, len, &img, &why), -ENOEXEC);
		assert_non_null(why);
		if (len < 4)
			assert_string_equal(why, "not an ELF file");
		else if (len < 64)
			assert_string_equal(why, "truncated ELF header");
		else if (len < 64 + NPH * 56)
			assert_string_equal(why, "program headers extend past the end of the file");
		free(copy);
	}
	assert_null(parse(&m, need, &img));
}

static void test_garbage(void **state)
{
	struct elf_image img;
	const char *why;
	static const char text[] = "#!/bin/sh\necho hello\n";
	assert_int_equal(elf_parse(text, sizeof(text), &img, &why), -ENOEXEC);
	assert_string_equal(why, "not an ELF file");
	assert_int_equal(elf_parse(NULL, 0, &img, &why), -ENOEXEC);
	assert_string_equal(why, "not an ELF file");
}

/* The programs mk/userland.mk builds, when they exist: the static ones are ET_EXEC, the
 * static-PIE one ET_DYN, and every one's entry lies in its executable segment. */
static void test_real(void **state)
{
	static const struct {
		const char *path;
		bool pie;
	} progs[] = {
		{"build/userland/bin/hello", false},
		{"build/userland/bin/threads", false},
		{"build/userland/bin/conformance", false},
		{"build/userland/bin/hello-pie", true},
	};
	int seen = 0;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		FILE *f = fopen(progs[i].path, "rb");
		if (!f)
			continue;
		static uint8_t buf[4 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		struct elf_image img;
		const char *why = NULL;
		if (elf_parse(buf, n, &img, &why) != 0)
			fail_msg("%s refused: %s", progs[i].path, why);
		assert_int_equal(img.pie, progs[i].pie);
		assert_true(img.nseg >= 2);
		seen++;
	}
	if (!seen)
		skip(); /* `make build/userland.cpio` builds them */
}

/* The broken files mk/userland.mk puts in the archive, each with its reason. */
static void test_real_bad(void **state)
{
	static const struct {
		const char *path, *why;
	} bad[] = {
		{"build/userland/bin/bad-truncated", "a segment extends past the end of the file"},
		{"build/userland/bin/bad-machine", "not an x86-64 program"},
		{"build/userland/bin/bad-dynamic", "dynamically linked (has an interpreter)"},
		{"build/userland/bin/bad-script", "not an ELF file"},
	};
	int seen = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(bad[i].path, "rb");
		if (!f)
			continue;
		static uint8_t buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		struct elf_image img;
		const char *why = NULL;
		assert_int_equal(elf_parse(buf, n, &img, &why), -ENOEXEC);
		if (strcmp(why, bad[i].why) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].path, why, bad[i].why);
		seen++;
	}
	if (!seen)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_phdr_found),
		cmocka_unit_test(test_static_pie),
		cmocka_unit_test(test_exec_stack_and_empty_segment),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_segments_max),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_real_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
