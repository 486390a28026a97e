/* mbedtls_config.h: the kernel's complete mbedTLS 2.28 configuration (replaces config.h).
 *
 * Only what shoal uses is on: AES-GCM and ChaCha20-Poly1305 for gossip and TLS records,
 * SHA-256/384/512, HKDF, the CTR-DRBG behind kernel/random.c, and a TLS 1.2 server with
 * the plain PSK key exchange for the network console (net/console/server.c). No public-key
 * crypto and no X.509: the console authenticates by pre-shared key only, and nothing in
 * the kernel is a TLS client. There is no OS below: no sockets, files, clocks, threads or
 * stdio. Entropy comes from mbedtls_hardware_poll (kernel/random.c), memory from the kernel
 * heap and the other platform hooks from kernel/crypto/mbedtls_glue.c. See README.md beside
 * this file. */
#ifndef SHOAL_MBEDTLS_CONFIG_H
#define SHOAL_MBEDTLS_CONFIG_H

#include <stddef.h>
#include <stdio.h> /* snprintf, vsnprintf: the macros below name them */
#include <time.h>

/* --- System support ------------------------------------------------------------------ */
#define MBEDTLS_HAVE_ASM /* bignum multiply in general-purpose registers only */
/* 128-by-64-bit division would call libgcc's __udivti3, built for user space (red zone,
 * no -mcmodel=kernel guarantee); mbedTLS's portable fallback costs one loop in mpi_div. */
#define MBEDTLS_NO_UDBL_DIVISION
#define MBEDTLS_HAVE_TIME /* seconds since boot: session cache ageing, ServerHello.random */

/* --- Platform: everything routed to the kernel ---------------------------------------- */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_EXIT_ALT
#define MBEDTLS_PLATFORM_TIME_ALT
#define MBEDTLS_PLATFORM_PRINTF_ALT
/* The defaults behind the function pointers above, so that no init call is needed
 * (lwIP's altcp_tls may still swap calloc/free with mbedtls_platform_set_calloc_free). */
#define MBEDTLS_PLATFORM_STD_CALLOC crypto_calloc
#define MBEDTLS_PLATFORM_STD_FREE crypto_free
#define MBEDTLS_PLATFORM_STD_EXIT crypto_exit
#define MBEDTLS_PLATFORM_STD_TIME crypto_time
#define MBEDTLS_PLATFORM_STD_PRINTF crypto_printf
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO snprintf
#define MBEDTLS_PLATFORM_VSNPRINTF_MACRO vsnprintf
void *crypto_calloc(size_t n, size_t size);
void crypto_free(void *p);
void crypto_exit(int status);
time_t crypto_time(time_t *t);
int crypto_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- Entropy: no OS sources; the CPU's RDSEED/RDRAND and TSC jitter ------------------ */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C /* AES-256 (MBEDTLS_CTR_DRBG_USE_128_BIT_KEY stays off) */
#define MBEDTLS_HMAC_DRBG_C

/* --- Symmetric crypto and hashes ------------------------------------------------------ */
#define MBEDTLS_AES_C
/* Tables in .rodata: the runtime-generated ones are built lazily without a lock, which
 * two CPUs could race on. */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C /* and SHA-384; also the entropy accumulator */
#define MBEDTLS_HKDF_C

/* --- Encodings ---------------------------------------------------------------------- */
#define MBEDTLS_BASE64_C /* cluster.key= */

/* --- TLS 1.2 ---------------------------------------------------------------------------- */
/* The console's server: PSK only (ECDHE-PSK would pull in the elliptic-curve code). */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_PSK_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#define MBEDTLS_PSK_MAX_LEN 64 /* CONFIG_PSK_KEY_MAX */
/* Records up to 16 KiB each way (the protocol's maximum: clients do not all negotiate
 * smaller ones); each session holds both buffers. */
#define MBEDTLS_SSL_MAX_CONTENT_LEN 16384

/* --- Diagnostics ------------------------------------------------------------------------ */
#define MBEDTLS_ERROR_C /* mbedtls_strerror for log messages */

/* Deliberately absent (see /work/shared notes and README.md): NET_C, TIMING_C, FS_IO,
 * HAVE_TIME_DATE, THREADING_C, PSA_CRYPTO_C, SELF_TEST, PADLOCK_C, AESNI_C (SSE state is
 * not saved in kernel code) and DEPRECATED_REMOVED (lwIP's altcp_tls includes net.h). */

#include "mbedtls/check_config.h"

#endif
