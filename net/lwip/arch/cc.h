/* cc.h: lwIP's compiler and platform definitions for the shoal kernel (x86-64, gcc). */
#ifndef SHOAL_LWIP_ARCH_CC_H
#define SHOAL_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define BYTE_ORDER LITTLE_ENDIAN

/* lwIP's own byte swaps are portable C; the compiler's builtins become bswap. */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

/* Format strings for lwIP's debug output (no inttypes.h in the kernel). */
#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

/* Diagnostics go to the kernel log at debug level; a failed assertion is a broken
 * invariant of the stack and panics with lwIP's message. */
void sys_arch_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void sys_arch_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x)                                                                      \
	do {                                                                                       \
		sys_arch_diag x;                                                                   \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x) sys_arch_assert((x), __FILE__, __LINE__)

/* netif_find and getaddrinfo parse numbers with atoi, which the kernel's libc lacks. */
#define atoi(s) ((int)strtol((s), NULL, 10))

/* Random numbers (TCP initial sequence numbers and ports, DHCP and DNS ids). */
uint64_t random_u64(void);
#define LWIP_RAND() ((u32_t)random_u64())

#endif
