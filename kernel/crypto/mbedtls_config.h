/* mbedtls_config.h: the kernel's complete mbedTLS 2.28 configuration (replaces config.h).
 *
 * Only what shoal uses is on: AES-GCM and ChaCha20-Poly1305 for gossip and TLS records,
 * SHA-256/512, HKDF, the CTR-DRBG behind kernel/random.c, P-256/P-384/X25519 for ECDH and
 * ECDSA, and TLS 1.2 (client and server) with PSK, ECDHE-PSK and ECDHE-ECDSA key
 * exchanges. There is no OS below: no sockets, files, clocks, threads or stdio. Entropy
 * comes from mbedtls_hardware_poll (kernel/random.c), memory from the kernel heap and the
 * other platform hooks from kernel/crypto/mbedtls_glue.c. See README.md beside this file. */
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

/* --- Public key ----------------------------------------------------------------------- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC /* RFC 6979: signatures do not depend on the RNG */
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C

/* --- Encodings and certificates ------------------------------------------------------- */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE

/* --- TLS 1.2 ---------------------------------------------------------------------------- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CACHE_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_PSK_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES

/* --- Diagnostics ------------------------------------------------------------------------ */
#define MBEDTLS_ERROR_C /* mbedtls_strerror for log messages */

/* Deliberately absent (see /work/shared notes and README.md): NET_C, TIMING_C, FS_IO,
 * HAVE_TIME_DATE, THREADING_C, PSA_CRYPTO_C, SELF_TEST, PADLOCK_C, AESNI_C (SSE state is
 * not saved in kernel code) and DEPRECATED_REMOVED (lwIP's altcp_tls includes net.h). */

#include "mbedtls/check_config.h"

#endif
