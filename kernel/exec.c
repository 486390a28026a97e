/* exec.c: loading a static ELF program into a fresh address space and building its
 * initial stack as the System V x86-64 ABI (and musl's start code) expect:
 *
 *   rsp -> argc, argv[0..argc-1], NULL, envp[0..], NULL, auxv pairs ..., AT_NULL
 *          ... then, higher up, the strings, AT_RANDOM's 16 bytes and the platform name.
 *
 * The parser (elf.c) has checked every header field and bound before anything is mapped
 * here. Segments are copied in at once (their pages are the image, resident from the
 * start); bss and the rest of the address space are demand-zero. */
#include <errno.h>
#include <string.h>

#include "arch/cpu.h"
#include "kernel/elf.h"
#include "kernel/heap.h"
#include "kernel/pmm.h"
#include "kernel/proc.h"
#include "kernel/random.h"
#include "kernel/sync.h"
#include "kernel/uspace.h"
#include "kernel/vmm.h"

#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_EXECFN 31
#define AUX_MAX 20

#define PHDR_SIZE 56	/* sizeof(Elf64_Phdr) */
#define CLOCK_TICKS 100 /* AT_CLKTCK: times() units, as Linux reports */
#define RANDOM_BYTES 16
#define PLATFORM "x86_64"
#define STACK_ALIGN 16
#define CPUID_FEATURES 1

static uint64_t page_up(uint64_t v) { return (v + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

static int prot_of(const struct elf_segment *s)
{
	return (s->read ? PROT_READ : 0) | (s->write ? PROT_WRITE : 0) | (s->exec ? PROT_EXEC : 0);
}

/* The read-only segments of the image's own programs, shared by every task that runs
 * them, like a page cache: built on the first spawn (the archive keeps file data only
 * 4-byte aligned, so the bytes are copied once into pages of their own), then only
 * mapped. A spawn copies nothing but its writable data, and under an emulator the
 * program's translated code stays valid from one run to the next. The image tree lives
 * as long as the kernel, so entries are never freed; uploaded images are not cached. */
struct cached_seg {
	const uint8_t *image; /* the key: the file's bytes and the segment's offset */
	uint64_t offset, vaddr, filesz, memsz;
	size_t npages;
	uint64_t *pages;
	struct cached_seg *next;
};

static struct mutex cache_lock; /* a zeroed mutex is an unlocked one */
static struct cached_seg *cache;

static struct cached_seg *build_seg(const uint8_t *image, const struct elf_segment *s)
{
	uint64_t first = s->vaddr & ~(PAGE_SIZE - 1);
	struct cached_seg *c = kzalloc(sizeof *c);
	if (!c)
		return NULL;
	c->npages = (page_up(s->vaddr + s->memsz) - first) / PAGE_SIZE;
	c->pages = kzalloc(c->npages * sizeof *c->pages);
	if (!c->pages) {
		kfree(c);
		return NULL;
	}
	for (size_t i = 0; i < c->npages; i++) {
		uint8_t *p = pmm_alloc_kva(PAGE_SIZE); /* zeroed: what the file lacks is zero */
		if (!p) {
			while (i--) {
				pmm_set_tag(c->pages[i], 0);
				pmm_free_order(c->pages[i], 0);
			}
			kfree(c->pages);
			kfree(c);
			return NULL;
		}
		uint64_t va = first + i * PAGE_SIZE, lo = va > s->vaddr ? va : s->vaddr;
		uint64_t hi = va + PAGE_SIZE < s->vaddr + s->filesz ? va + PAGE_SIZE
								    : s->vaddr + s->filesz;
		if (hi > lo)
			memcpy(p + (lo - va), image + s->offset + (lo - s->vaddr), hi - lo);
		c->pages[i] = V2P(p);
		pmm_set_tag(c->pages[i], USPACE_SHARED_TAG);
	}
	c->image = image;
	c->offset = s->offset;
	c->vaddr = s->vaddr;
	c->filesz = s->filesz;
	c->memsz = s->memsz;
	return c;
}

/* The shared pages of a read-only segment, built on first use; NULL when out of memory. */
static struct cached_seg *cached(const uint8_t *image, const struct elf_segment *s)
{
	mutex_lock(&cache_lock);
	struct cached_seg *c = cache;
	while (c && !(c->image == image && c->offset == s->offset && c->vaddr == s->vaddr &&
		      c->filesz == s->filesz && c->memsz == s->memsz))
		c = c->next;
	if (!c) {
		c = build_seg(image, s);
		if (c) {
			c->next = cache;
			cache = c;
		}
	}
	mutex_unlock(&cache_lock);
	return c;
}

/* Map a cached segment's pages (bias: a PIE's load bias, page-aligned). */
static int map_cached(struct uspace *us, const struct cached_seg *c, uint64_t bias)
{
	uint64_t first = (c->vaddr & ~(PAGE_SIZE - 1)) + bias;
	for (size_t i = 0; i < c->npages; i++) {
		int err = uspace_map_shared(us, first + i * PAGE_SIZE, c->pages[i]);
		if (err)
			return err == -EEXIST || err == -EFAULT ? -ENOEXEC : err;
	}
	return 0;
}

static int load_segments(struct uspace *us, const uint8_t *image, const struct elf_image *img,
			 uint64_t bias, bool share, const char **why)
{
	uint64_t mapped_end = 0; /* end of the pages mapped so far (segments ascend) */
	int mapped_prot = 0;
	for (int i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];
		uint64_t start = (s->vaddr + bias) & ~(PAGE_SIZE - 1);
		uint64_t end = page_up(s->vaddr + bias + s->memsz);
		int prot = prot_of(s);
		if (start < mapped_end) {
			/* Shares its first page with the previous segment: that page gets both
			 * segments' rights. */
			int err = uspace_mprotect(us, start, PAGE_SIZE, prot | mapped_prot);
			if (err)
				return err;
			start = mapped_end;
		}
		if (end > start) {
			int err = uspace_add(us, start, end - start, prot, REGION_IMAGE);
			if (err == -EEXIST || err == -EINVAL) {
				*why = "segments overlap or lie outside user space";
				return -ENOEXEC;
			}
			if (err)
				return err;
			mapped_end = end;
			mapped_prot = prot;
		}
		/* A read-only segment alone on its pages is shared; the others are copied. */
		const struct cached_seg *c =
			share && !s->write && start == ((s->vaddr + bias) & ~(PAGE_SIZE - 1))
				? cached(image, s)
				: NULL;
		int err = c ? map_cached(us, c, bias)
			    : uspace_load(us, s->vaddr + bias, image + s->offset, s->filesz);
		if (err == -ENOEXEC)
			*why = "segments overlap or lie outside user space";
		if (err)
			return err;
	}
	return 0;
}

/* Strings and pointers of the initial stack, built in a kernel buffer whose end is the
 * stack top, then copied out in one go. */
struct stack {
	uint8_t *buf;
	size_t size, used; /* bytes used from the end */
	uint64_t top;	   /* the user address of buf + size */
};

static uint64_t push_bytes(struct stack *st, const void *p, size_t n)
{
	st->used += n;
	memcpy(st->buf + st->size - st->used, p, n);
	return st->top - st->used;
}

static uint64_t push_str(struct stack *st, const char *s)
{
	return push_bytes(st, s, strlen(s) + 1);
}

static int count(const char *const *v, size_t *bytes)
{
	int n = 0;
	for (; v && v[n]; n++)
		*bytes += strlen(v[n]) + 1;
	return n;
}

static int build_stack(struct uspace *us, const uint8_t *image, const struct elf_image *img,
		       uint64_t bias, const char *program, const char *const *argv,
		       const char *const *envp, uint64_t *sp)
{
	size_t strbytes = strlen(program) + 1;
	int argc = count(argv, &strbytes), envc = count(envp, &strbytes);
	if (argc > TASK_ARGS_MAX || envc > TASK_ARGS_MAX || strbytes > TASK_ARGS_BYTES)
		return -E2BIG;
	size_t phdr_bytes = img->phdr_vaddr ? 0 : (size_t)img->phnum * PHDR_SIZE;
	size_t ptrs = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2 * AUX_MAX;
	struct stack st = {.size = strbytes + sizeof PLATFORM + RANDOM_BYTES + phdr_bytes +
				   ptrs * 8 + 4 * STACK_ALIGN,
			   .top = USPACE_STACK_TOP};
	st.buf = kmalloc(st.size);
	if (!st.buf)
		return -ENOMEM;

	uint64_t execfn = push_str(&st, program);
	uint64_t uargv[TASK_ARGS_MAX] = {0}, uenvp[TASK_ARGS_MAX] = {0};
	for (int i = envc - 1; i >= 0; i--)
		uenvp[i] = push_str(&st, envp[i]);
	for (int i = argc - 1; i >= 0; i--)
		uargv[i] = push_str(&st, argv[i]);
	uint64_t platform = push_str(&st, PLATFORM);
	uint8_t rnd[RANDOM_BYTES];
	random_bytes(rnd, sizeof rnd);
	uint64_t random = push_bytes(&st, rnd, sizeof rnd);
	uint64_t phdr = img->phdr_vaddr + bias;
	if (phdr_bytes) { /* not in any segment: give musl a copy (it finds PT_TLS there) */
		st.used = (st.used + 7) & ~7UL;
		phdr = push_bytes(&st, image + img->phoff, phdr_bytes);
	}
	uint32_t a, b, c, d;
	cpuid(CPUID_FEATURES, 0, &a, &b, &c, &d);

	uint64_t aux[][2] = {
		{AT_PHDR, phdr},
		{AT_PHENT, PHDR_SIZE},
		{AT_PHNUM, img->phnum},
		{AT_PAGESZ, PAGE_SIZE},
		{AT_BASE, 0},
		{AT_FLAGS, 0},
		{AT_ENTRY, img->entry + bias},
		{AT_UID, 0},
		{AT_EUID, 0},
		{AT_GID, 0},
		{AT_EGID, 0},
		{AT_SECURE, 0},
		{AT_HWCAP, d},
		{AT_CLKTCK, CLOCK_TICKS},
		{AT_RANDOM, random},
		{AT_PLATFORM, platform},
		{AT_EXECFN, execfn},
		{AT_NULL, 0},
	};
	size_t naux = sizeof aux / sizeof aux[0];
	_Static_assert(sizeof aux / sizeof aux[0] <= AUX_MAX, "AUX_MAX too small");
	size_t words = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2 * naux;
	/* rsp (at argc) must be 16-byte aligned: pad between the strings and the words. */
	st.used = (st.used + words * 8 + STACK_ALIGN - 1) & ~(uint64_t)(STACK_ALIGN - 1);
	uint64_t *w = (uint64_t *)(st.buf + st.size - st.used);
	*w++ = (uint64_t)argc;
	for (int i = 0; i < argc; i++)
		*w++ = uargv[i];
	*w++ = 0;
	for (int i = 0; i < envc; i++)
		*w++ = uenvp[i];
	*w++ = 0;
	memcpy(w, aux, sizeof aux);

	*sp = st.top - st.used;
	int err = uspace_write(us, *sp, st.buf + st.size - st.used, st.used);
	kfree(st.buf);
	return err ? -ENOMEM : 0;
}

int exec_load(struct uspace *us, const void *image, size_t len, bool share, const char *program,
	      const char *const *argv, const char *const *envp, uint64_t *entry, uint64_t *sp,
	      const char **why)
{
	struct elf_image img;
	if (elf_parse(image, len, &img, why) < 0)
		return -ENOEXEC;
	uint64_t bias = img.pie ? USPACE_PIE_BASE - img.lo : 0;
	if (img.lo + bias < USPACE_LOW || img.hi + bias > USPACE_MMAP_TOP ||
	    img.hi + bias < img.lo + bias) {
		*why = "segments lie outside the user address range";
		return -ENOEXEC;
	}
	int err = load_segments(us, image, &img, bias, share, why);
	if (err)
		return err;
	uspace_set_brk(us, img.hi + bias);
	err = uspace_add(us, USPACE_STACK_TOP - USPACE_STACK_SIZE, USPACE_STACK_SIZE,
			 PROT_READ | PROT_WRITE, REGION_STACK);
	if (err)
		return err;
	err = build_stack(us, image, &img, bias, program, argv, envp, sp);
	if (err)
		return err;
	*entry = img.entry + bias;
	return 0;
}
