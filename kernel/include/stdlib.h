/* stdlib.h: the pure parts of the C library the kernel uses (musl's). */
#ifndef _STDLIB_H
#define _STDLIB_H
#include <stddef.h>

long strtol(const char *restrict s, char **restrict end, int base);
unsigned long strtoul(const char *restrict s, char **restrict end, int base);
long long strtoll(const char *restrict s, char **restrict end, int base);
unsigned long long strtoull(const char *restrict s, char **restrict end, int base);
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
int abs(int x);

#endif
