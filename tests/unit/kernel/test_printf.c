/* sources: kernel/printf.c */
/* test_printf.c: the kernel's ksnprintf against the host C library's snprintf (glibc)
 * over a large table of formats and values: every flag combination, widths, precisions
 * (digits and '*'), length modifiers, %c %s %p and %%, at several buffer sizes to check
 * truncation, NUL termination, the bytes left alone past the end, and the C99 return
 * value. A few behaviours the C library leaves undefined are checked against the
 * kernel's own documented rules instead (printf.h). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "kernel/printf.h"

#define BUF 600	       /* bigger than any output below */
#define FILL 0x5a      /* marks bytes the formatter must not touch */
#define MAX_REPORTS 25 /* mismatches printed in full before just counting */

static long checked, mismatches;

/* Buffer sizes each case is formatted at: nothing, the NUL only, truncations, whole. */
static const size_t sizes[] = {0, 1, 2, 3, 7, 16, BUF};

static void report(const char *what, size_t size, const char *want, int rw, const char *got, int rg)
{
	/* At most size bytes are meaningful (none at size 0: no NUL there either). */
	int n = (int)(size < BUF ? size : BUF);
	if (++mismatches <= MAX_REPORTS)
		print_error("mismatch: %s size %zu: libc \"%.*s\" (%d), kernel \"%.*s\" (%d)\n",
			    what, size, n, want, rw, n, got, rg);
}

/* Compare one formatting at every size. FMT_CALL(buf, size) expands to the call with the
 * case's arguments, so both formatters see exactly the same arguments. */
#define COMPARE(what, ...)                                                                         \
	do {                                                                                       \
		for (size_t i_ = 0; i_ < sizeof sizes / sizeof sizes[0]; i_++) {                   \
			size_t sz_ = sizes[i_];                                                    \
			char want_[BUF + 8], got_[BUF + 8];                                        \
			memset(want_, FILL, sizeof want_);                                         \
			memset(got_, FILL, sizeof got_);                                           \
			int rw_ = snprintf(sz_ ? want_ : NULL, sz_, __VA_ARGS__);                  \
			int rg_ = ksnprintf(sz_ ? got_ : NULL, sz_, __VA_ARGS__);                  \
			checked++;                                                                 \
			if (rw_ != rg_ || memcmp(want_, got_, sizeof want_))                       \
				report(what, sz_, want_, rw_, got_, rg_);                          \
		}                                                                                  \
	} while (0)

/* A case whose format is a literal: gcc checks it against the arguments. */
#define CMP(fmt, ...) COMPARE(fmt, fmt, ##__VA_ARGS__)

static void finish(void)
{
	if (mismatches)
		fail_msg("%ld of %ld formattings differ from the C library", mismatches, checked);
}

static void start(void) { checked = mismatches = 0; }

static void test_literals(void **state)
{
	start();
	const char *empty = ""; /* a variable: gcc warns about a literal empty format */
	COMPARE("(empty)", empty);
	CMP("plain text");
	CMP("%%");
	CMP("100%% sure %%%%");
	CMP("a%cb", 'x');
	CMP("%c", 0); /* a NUL in the middle of the output counts */
	CMP("%c%c%c", 'a', 0, 'b');
	CMP("%5c|%-5c|", 'q', 'r');
	CMP("%1c%2c", 'q', 'r');
	CMP("%c", 255);
	CMP("%c", 'a' + 256);
	char longs[BUF * 2];
	memset(longs, 'L', sizeof longs - 1);
	longs[sizeof longs - 1] = 0;
	CMP("%s", longs); /* far longer than the buffer: truncated, full length returned */
	CMP("head %s tail", longs);
	finish();
}

static void test_strings(void **state)
{
	static const char *const strs[] = {
		"", "a", "hello", "exactly16chars!!", "with space", "tab\tand\nnewline"};
	static const char *const flags[] = {"", "-"};
	static const char *const widths[] = {"", "0", "1", "5", "16", "40"};
	static const char *const precs[] = {"", ".", ".0", ".1", ".3", ".5", ".16", ".100"};
	char fmt[64];
	start();
	for (size_t s = 0; s < sizeof strs / sizeof strs[0]; s++)
		for (size_t f = 0; f < 2; f++)
			for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++)
				for (size_t p = 0; p < sizeof precs / sizeof precs[0]; p++) {
					snprintf(fmt, sizeof fmt, "[%%%s%s%ss]", flags[f],
						 widths[w], precs[p]);
					COMPARE(fmt, fmt, strs[s]);
				}
	/* '*' widths and precisions, negative ones included. */
	for (int w = -12; w <= 12; w += 3)
		for (int p = -2; p <= 8; p += 2) {
			CMP("%*.*s|", w, p, "abcdef");
			CMP("%-*.*s|", w, p, "abcdef");
			CMP("%*s|", w, "xy");
			CMP("%.*s|", p, "xyz");
		}
	finish();
}

static void test_null_and_pointers(void **state)
{
	start();
	/* volatile: keeps gcc from warning about the NULL it would otherwise see. */
	const char *volatile nul = NULL;
	/* glibc prints "(null)" when the precision allows all of it; so does the kernel. */
	CMP("%s", nul);
	CMP("[%10s]", nul);
	CMP("[%-10s]", nul);
	CMP("[%.6s]", nul);
	CMP("[%.10s]", nul);
	CMP("[%3s]", nul);
	void *ptrs[] = {(void *)1,
			(void *)0xdeadbeef,
			(void *)0xffff800000001000UL,
			(void *)0xffffffff80000000UL,
			(void *)UINTPTR_MAX,
			(void *)&checked};
	for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
		CMP("%p", ptrs[i]);
		CMP("[%20p]", ptrs[i]);
		CMP("[%-20p]", ptrs[i]);
		CMP("[%2p]", ptrs[i]);
	}
	void *np = NULL;
	CMP("%p", np);
	CMP("[%10p]", np);
	CMP("[%-10p]", np);
	CMP("[%2p]", np);
	finish();
}

/* Every flag set, width and precision, for every integer conversion and length
 * modifier, over values at the edges of each type. */
static void test_integer_table(void **state)
{
	static const char *const flags[] = {"",	  "-",	"0",   "+",   " ",   "#",    "-0",
					    "-+", "- ", "-#",  "0+",  "0 ",  "0#",   "+ ",
					    "+#", " #", "-0+", "-+#", "0 #", "-0+ #"};
	static const char *const widths[] = {"", "1", "2", "6", "13", "25"};
	static const char *const precs[] = {"", ".", ".0", ".1", ".4", ".12", ".22"};
	static const char convs[] = "diuxXo";
	static const char *const lens[] = {"", "hh", "h", "l", "ll", "z", "t", "j"};
	/* The values: a table kept as written. */
	/* clang-format off */
	static const long long vals[] = {
		0, 1, -1, 7, 8, 9, 10, 15, 16, 42, -42, 100, 127, 128, -128, 255, 256, -129,
		32767, 32768, -32768, 65535, 65536, 123456789, -987654321, INT_MAX, INT_MIN,
		UINT_MAX, LLONG_MAX, LLONG_MIN, 0x7fffffffffLL, -0x100000000LL, 01234567LL
	};
	/* clang-format on */
	char fmt[64];
	start();
	for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
		int wide = l >= 3; /* the argument is 64 bits (l ll z t j on x86-64) */
		for (size_t c = 0; convs[c]; c++)
			for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++)
				for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++)
					for (size_t p = 0; p < sizeof precs / sizeof precs[0];
					     p++) {
						snprintf(fmt, sizeof fmt, "<%%%s%s%s%s%c>",
							 flags[f], widths[w], precs[p], lens[l],
							 convs[c]);
						for (size_t v = 0; v < sizeof vals / sizeof vals[0];
						     v++) {
							if (wide)
								COMPARE(fmt, fmt, vals[v]);
							else
								COMPARE(fmt, fmt, (int)vals[v]);
						}
					}
	}
	finish();
}

static void test_length_modifiers(void **state)
{
	start();
	CMP("%hhd %hhd %hhd %hhu %hhx", 300, -129, 127, 257, -1);
	CMP("%hd %hd %hu %hx %ho", 70000, -32769, 65537, -1, 65535);
	CMP("%ld %ld %lu %lx %lo", LONG_MAX, LONG_MIN, ULONG_MAX, ULONG_MAX, ULONG_MAX);
	CMP("%lld %lld %llu %llX", LLONG_MAX, LLONG_MIN, ULLONG_MAX, ULLONG_MAX);
	CMP("%zu %zx %zd %zd", SIZE_MAX, SIZE_MAX, (ssize_t)-5, (ssize_t)SSIZE_MAX);
	CMP("%td %tu %tx", (ptrdiff_t)-7, (ptrdiff_t)PTRDIFF_MAX, (ptrdiff_t)-1);
	CMP("%jd %jd %ju %jx", INTMAX_MAX, INTMAX_MIN, UINTMAX_MAX, UINTMAX_MAX);
	CMP("%i %i %i", 0, INT_MIN, INT_MAX);
	CMP("%u %u", 0u, UINT_MAX);
	CMP("%#x %#X %#o %#x %#o", 255u, 255u, 8u, 0u, 0u);
	CMP("%#.0o %#.0x %.0d %.0u|%5.0d|", 0u, 0u, 0, 0u, 0);
	CMP("%#.3o %#.3x %#8.3x %-#8.3x|", 8u, 10u, 10u, 10u);
	/* '0' with a precision is ignored (gcc warns about it in a literal format). */
	const char *zero_prec = "%08.3d|%-8.3d|%+.3d|% .3d";
	COMPARE(zero_prec, zero_prec, -5, -5, 5, 5);
	finish();
}

static void test_star(void **state)
{
	const char *zero_star = "[%0*.*x]"; /* '0' with a precision: see test_length_modifiers */
	start();
	for (int w = -30; w <= 30; w += 7)
		for (int p = -3; p <= 25; p += 4) {
			CMP("[%*d]", w, -12345);
			CMP("[%*.*d]", w, p, -12345);
			COMPARE("[%0*.*x]", zero_star, w, p, 0xbeefu);
			CMP("[%-*.*lo]", w, p, 0777UL);
			CMP("[%+*.*lld]", w, p, 99LL);
			CMP("[%.*u]", p, 0u);
			CMP("[%0*d]", w, -7);
		}
	finish();
}

static void test_mixed(void **state)
{
	start();
	CMP("cpu %d: %s at %p, %lu KiB free (%3d%%)", 3, "idle", (void *)0xffff800000123000UL,
	    123456UL, 42);
	CMP("%s=%d%c%s=%#x", "a", 1, ' ', "b", 2u);
	CMP("[%5s|%-5s|%05d|%-5d|%5x]", "ab", "cd", 12, 34, 0xabu);
	CMP("%016lx %04lx %08lx", 0xffffffff80100000UL, 0x10UL, 0x202UL);
	CMP("config: bad value '%s' for key '%s' (expected an integer %ld..%ld); %d", "abc", "smp",
	    0L, 64L, 0);
	CMP("%d%d%d%d%d%d%d%d%d%d", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	CMP("%s%s%s", "", "", "");
	finish();
}

/* Formats the C library leaves undefined or implementation-defined: the kernel's rules
 * from printf.h. Unknown conversions are copied out as written. */
static void test_kernel_rules(void **state)
{
	char buf[64];
	const char *fmt;

	fmt = "a%yb"; /* built at run time: no compiler warning about the conversion */
	assert_int_equal(ksnprintf(buf, sizeof buf, fmt), 4);
	assert_string_equal(buf, "a%yb");
	fmt = "%-5k|";
	assert_int_equal(ksnprintf(buf, sizeof buf, fmt), 5);
	assert_string_equal(buf, "%-5k|");
	fmt = "end%";
	assert_int_equal(ksnprintf(buf, sizeof buf, fmt), 4);
	assert_string_equal(buf, "end%");
	fmt = "end%5";
	assert_int_equal(ksnprintf(buf, sizeof buf, fmt), 5);
	assert_string_equal(buf, "end%5");
	fmt = "%ld%";
	assert_int_equal(ksnprintf(buf, sizeof buf, fmt, 7L), 2);
	assert_string_equal(buf, "7%");

	/* Truncation: the NUL always lands inside the buffer, nothing is written past it. */
	memset(buf, FILL, sizeof buf);
	assert_int_equal(ksnprintf(buf, 4, "%s", "abcdef"), 6);
	assert_string_equal(buf, "abc");
	assert_int_equal((unsigned char)buf[4], FILL);
	memset(buf, FILL, sizeof buf);
	assert_int_equal(ksnprintf(buf, 0, "%d", 12345), 5);
	assert_int_equal((unsigned char)buf[0], FILL);
	assert_int_equal(ksnprintf(NULL, 0, "%s %d", "abc", -1), 6);
	assert_int_equal(ksnprintf(buf, 1, "xyz"), 3);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_null_and_pointers),
		cmocka_unit_test(test_integer_table),
		cmocka_unit_test(test_length_modifiers),
		cmocka_unit_test(test_star),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_kernel_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
