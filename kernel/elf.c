/* elf.c: the ELF64 parser behind the task loader (contract in elf.h).
 *
 * Every field is read with memcpy from an untrusted buffer of any length and alignment,
 * and every sum of two file-controlled numbers is checked for overflow before it is
 * compared, so a hostile file can only earn a refusal. What an accepted image promises
 * the loader:
 *   - each PT_LOAD segment has filesz <= memsz, its file bytes inside the buffer, and
 *     [vaddr, vaddr + memsz) below ELF_USER_TOP (and, for ET_EXEC, at or above
 *     ELF_EXEC_MIN, so that NULL and small offsets from it always fault);
 *   - the segments come in ascending address order and no two share a page, so each
 *     page of [lo, hi) belongs to at most one segment and takes that segment's
 *     permissions; no segment is both writable and executable (W^X: a task never gets
 *     a page it can both write and run; static musl programs never ask for one);
 *   - the entry point lies inside an executable segment;
 *   - for ET_DYN, the loader adds a page-aligned bias to every address (vaddr, entry,
 *     phdr_vaddr, lo, hi); hi - lo is at most ELF_USER_TOP.
 * Section headers are ignored: nothing in them matters for running the program. */
#include "kernel/elf.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* File layout (System V ABI, ELF-64 object file format, and its x86-64 supplement). */
#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define EI_OSABI 7
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ELFOSABI_SYSV 0
#define ELFOSABI_LINUX 3
#define ET_EXEC 2
#define ET_DYN 3
#define EM_X86_64 62
#define PN_XNUM 0xffff /* "the real count is in section 0": not for us */

#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_STACK 0x6474e551
#define PF_X 1
#define PF_W 2
#define PF_R 4

#define PAGE 4096ull
/* Segments live below the canonical hole; a fixed-address program keeps the first
 * 64 KiB unmapped so that NULL-pointer accesses (even with an offset) fault. */
#define ELF_USER_TOP 0x0000800000000000ull
#define ELF_EXEC_MIN 0x10000ull
/* Like Linux, all program headers must fit in one page (that is 73 of them). */
#define PHDRS_MAX_BYTES PAGE

struct ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

_Static_assert(sizeof(struct ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(struct phdr) == 56, "ELF64 program header is 56 bytes");

static uint64_t page_down(uint64_t a) { return a & ~(PAGE - 1); }

/* Only called on addresses below ELF_USER_TOP, so it cannot wrap. */
static uint64_t page_up(uint64_t a) { return (a + PAGE - 1) & ~(PAGE - 1); }

/* [off, off + n) lies inside a buffer of len bytes, without overflow. */
static bool in_file(uint64_t off, uint64_t n, size_t len) { return off <= len && n <= len - off; }

static int refuse(const char **why, const char *reason)
{
	*why = reason;
	return -ENOEXEC;
}

static const char *check_header(const struct ehdr *h, size_t len)
{
	static const uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};

	if (memcmp(h->ident, magic, sizeof(magic)) != 0)
		return "not an ELF file";
	if (h->ident[EI_CLASS] != ELFCLASS64)
		return "not a 64-bit ELF file";
	if (h->ident[EI_DATA] != ELFDATA2LSB)
		return "not little-endian";
	if (h->ident[EI_VERSION] != EV_CURRENT || h->version != EV_CURRENT)
		return "unknown ELF version";
	if (h->ident[EI_OSABI] != ELFOSABI_SYSV && h->ident[EI_OSABI] != ELFOSABI_LINUX)
		return "not a System V or Linux program (OS ABI)";
	if (h->machine != EM_X86_64)
		return "not an x86-64 program";
	if (h->type != ET_EXEC && h->type != ET_DYN)
		return "not an executable (ELF type is neither EXEC nor DYN)";
	if (h->ehsize != sizeof(struct ehdr))
		return "bad ELF header size";
	if (h->phentsize != sizeof(struct phdr))
		return "bad program header size";
	if (h->phnum == 0)
		return "no program headers";
	if (h->phnum == PN_XNUM || (uint64_t)h->phnum * sizeof(struct phdr) > PHDRS_MAX_BYTES)
		return "too many program headers";
	if (!in_file(h->phoff, (uint64_t)h->phnum * sizeof(struct phdr), len))
		return "program headers extend past the end of the file";
	return NULL;
}

/* Check one PT_LOAD and append it to img (empty ones are skipped). */
static const char *add_load(struct elf_image *img, const struct phdr *p, size_t len)
{
	struct elf_segment *s;

	if (p->memsz == 0)
		return NULL; /* maps nothing; Linux skips these too */
	if (p->filesz > p->memsz)
		return "a segment's file size exceeds its memory size";
	if (!in_file(p->offset, p->filesz, len))
		return "a segment extends past the end of the file";
	if (p->align > 1) {
		if (p->align & (p->align - 1))
			return "a segment's alignment is not a power of two";
		if (p->vaddr % p->align != p->offset % p->align)
			return "a segment's address and file offset disagree modulo its alignment";
	}
	if (p->vaddr >= ELF_USER_TOP || p->memsz > ELF_USER_TOP - p->vaddr)
		return "a segment lies outside the user address space";
	if ((p->flags & PF_W) && (p->flags & PF_X))
		return "segment is writable and executable";
	if (img->nseg > 0) {
		const struct elf_segment *prev = &img->seg[img->nseg - 1];
		if (p->vaddr < prev->vaddr)
			return "segments are not in address order";
		if (page_down(p->vaddr) < page_up(prev->vaddr + prev->memsz))
			return "two segments overlap or share a page";
	}
	if (img->nseg == ELF_SEGMENTS_MAX)
		return "too many loadable segments";
	s = &img->seg[img->nseg++];
	s->vaddr = p->vaddr;
	s->memsz = p->memsz;
	s->offset = p->offset;
	s->filesz = p->filesz;
	s->read = p->flags & PF_R;
	s->write = p->flags & PF_W;
	s->exec = p->flags & PF_X;
	return NULL;
}

/* The segment whose file-backed bytes hold [vaddr, vaddr + n), or NULL. */
static const struct elf_segment *backing(const struct elf_image *img, uint64_t vaddr, uint64_t n)
{
	for (int i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];
		if (vaddr >= s->vaddr && vaddr - s->vaddr <= s->filesz &&
		    n <= s->filesz - (vaddr - s->vaddr))
			return s;
	}
	return NULL;
}

/* Where the program headers are mapped: PT_PHDR's word for it, checked against the
 * segment that really carries them, else the segment covering them in the file. */
static const char *find_phdrs(struct elf_image *img, bool has_phdr, uint64_t phdr_vaddr)
{
	uint64_t size = (uint64_t)img->phnum * sizeof(struct phdr);
	const struct elf_segment *s;

	if (has_phdr) {
		s = backing(img, phdr_vaddr, size);
		if (!s || s->offset + (phdr_vaddr - s->vaddr) != img->phoff)
			return "PT_PHDR does not match a loaded copy of the program headers";
		img->phdr_vaddr = phdr_vaddr;
		return NULL;
	}
	img->phdr_vaddr = 0;
	for (int i = 0; i < img->nseg; i++) {
		s = &img->seg[i];
		if (img->phoff >= s->offset && img->phoff - s->offset <= s->filesz &&
		    size <= s->filesz - (img->phoff - s->offset)) {
			img->phdr_vaddr = s->vaddr + (img->phoff - s->offset);
			break;
		}
	}
	return NULL;
}

static const char *check_entry(const struct elf_image *img)
{
	for (int i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];
		if (img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
			return s->exec ? NULL : "entry point is not in an executable segment";
	}
	return "entry point is outside every segment";
}

/* PT_TLS: musl copies the initialisation image from memory, so it must be loaded. */
static const char *check_tls(const struct elf_image *img, const struct phdr *p, size_t len)
{
	if (p->filesz > p->memsz)
		return "TLS segment's file size exceeds its memory size";
	if (!in_file(p->offset, p->filesz, len))
		return "TLS segment extends past the end of the file";
	if (p->align & (p->align - 1))
		return "TLS segment's alignment is not a power of two";
	if (p->filesz && !backing(img, p->vaddr, p->filesz))
		return "TLS image is not inside a loaded segment";
	return NULL;
}

int elf_parse(const void *buf, size_t len, struct elf_image *img, const char **why)
{
	const uint8_t *b = buf;
	struct ehdr h;
	struct phdr p, tls = {0};
	bool has_phdr = false, has_tls = false;
	uint64_t phdr_vaddr = 0;
	const char *bad;

	memset(img, 0, sizeof(*img));
	*why = NULL;
	if (len < sizeof(h))
		return refuse(why, len >= 4 && memcmp(b, "\177ELF", 4) == 0 ? "truncated ELF header"
									    : "not an ELF file");
	memcpy(&h, b, sizeof(h));
	bad = check_header(&h, len);
	if (bad)
		return refuse(why, bad);
	img->pie = h.type == ET_DYN;
	img->entry = h.entry;
	img->phoff = h.phoff;
	img->phnum = h.phnum;

	for (unsigned i = 0; i < h.phnum; i++) {
		memcpy(&p, b + h.phoff + (uint64_t)i * sizeof(p), sizeof(p));
		switch (p.type) {
		case PT_INTERP:
			return refuse(why, "dynamically linked (has an interpreter)");
		case PT_LOAD:
			bad = add_load(img, &p, len);
			if (bad)
				return refuse(why, bad);
			break;
		case PT_PHDR:
			if (has_phdr)
				return refuse(why, "more than one PT_PHDR");
			has_phdr = true;
			phdr_vaddr = p.vaddr;
			break;
		case PT_TLS:
			if (has_tls)
				return refuse(why, "more than one TLS segment");
			has_tls = true;
			tls = p;
			break;
		case PT_GNU_STACK:
			img->exec_stack = p.flags & PF_X;
			break;
		default: /* PT_DYNAMIC (static PIE relocates itself), notes, GNU_RELRO, ... */
			break;
		}
	}
	if (img->nseg == 0)
		return refuse(why, "no loadable segments");
	img->lo = page_down(img->seg[0].vaddr);
	img->hi = page_up(img->seg[img->nseg - 1].vaddr + img->seg[img->nseg - 1].memsz);
	if (!img->pie && img->lo < ELF_EXEC_MIN)
		return refuse(why, "a fixed-address segment lies in the first 64 KiB");
	if (has_tls) {
		bad = check_tls(img, &tls, len);
		if (bad)
			return refuse(why, bad);
		img->tls_align = tls.align;
	}
	bad = check_entry(img);
	if (!bad)
		bad = find_phdrs(img, has_phdr, phdr_vaddr);
	if (bad)
		return refuse(why, bad);
	return 0;
}
