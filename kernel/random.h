/* random.h: the kernel's random numbers. Entropy from RDSEED/RDRAND, with timer
 * jitter mixed in (and used alone when the CPU has neither), seeds a CSPRNG (mbedTLS
 * CTR-DRBG, AES-256). Reseeds on its own. */
#ifndef KERNEL_RANDOM_H
#define KERNEL_RANDOM_H

#include <stddef.h>
#include <stdint.h>

void random_init(void);
/* Fill buf with n cryptographically secure random bytes; 0 or a negative error. */
int random_bytes(void *buf, size_t n);
uint64_t random_u64(void);

/* The raw entropy source (also mbedTLS's hardware poll): bytes written to buf. */
size_t entropy_gather(void *buf, size_t n);

#endif
