/* assert.h: for third-party code. A failed assertion is a broken invariant: it panics
 * (kernel code itself uses KASSERT from kernel/panic.h). NDEBUG turns it off, as in C. */
#undef assert
#ifdef NDEBUG
#define assert(c) ((void)0)
#else
__attribute__((noreturn)) void __assert_fail(const char *expr, const char *file, int line,
					     const char *func);
#define assert(c) ((c) ? (void)0 : __assert_fail(#c, __FILE__, __LINE__, __func__))
#endif
