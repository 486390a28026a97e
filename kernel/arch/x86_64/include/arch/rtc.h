/* rtc.h: the PC's battery-backed clock (CMOS RTC), read for the wall-clock time. */
#ifndef ARCH_RTC_H
#define ARCH_RTC_H

#include <stdint.h>

/* Nanoseconds since 1970-01-01 UTC (the RTC is taken to keep UTC, as QEMU's does by
 * default), to the second; 0 if the clock reads as nonsense. */
uint64_t rtc_read_ns(void);

#endif
