/* time.h: only the type. The kernel's clock is kernel/time.h; mbedTLS's time hook
 * (MBEDTLS_PLATFORM_TIME_ALT) and lwIP's SNTP need time_t to exist. */
#ifndef _TIME_H
#define _TIME_H

typedef long time_t;

#endif
