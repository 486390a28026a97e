/* mbedtls_glue.c: the platform hooks mbedTLS calls (the MBEDTLS_PLATFORM_STD_* names in
 * mbedtls_config.h): memory from the kernel heap, seconds since boot, printf into the
 * kernel log, and exit as a panic. Entropy is kernel/random.c's mbedtls_hardware_poll. */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/time.h"
#include "mbedtls/platform.h"

#define NS_PER_SEC 1000000000ull

void *crypto_calloc(size_t n, size_t size)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	/* calloc(0) must give a pointer that free accepts; one byte keeps it unique. */
	return kzalloc(bytes ? bytes : 1);
}

void crypto_free(void *p) { kfree(p); }

/* Only mbedTLS's self-test programs exit; reaching this in the kernel is a bug. */
void crypto_exit(int status) { panic("mbedtls: exit(%d)", status); }

/* No wall clock yet: seconds since boot are what TLS needs (session-cache ageing; the
 * ServerHello time field is not interpreted by peers). */
time_t crypto_time(time_t *t)
{
	time_t now = (time_t)(time_ns() / NS_PER_SEC);
	if (t)
		*t = now;
	return now;
}

/* One log line per call; mbedTLS's messages end in a newline the log adds itself. */
int crypto_printf(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	size_t len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		line[len - 1] = '\0';
	kinfo("mbedtls: %s", line);
	return n;
}
