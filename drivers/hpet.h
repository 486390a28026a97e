/* hpet.h: the HPET's main counter, used as the reference clock that the TSC and the
 * LAPIC timer are calibrated against (no HPET interrupts are used). */
#ifndef DRIVERS_HPET_H
#define DRIVERS_HPET_H

#include <stdint.h>

/* Map and start the counter the ACPI HPET table names; 0, or -ENODEV when there is
 * none (or it looks broken), -ENOMEM when it cannot be mapped. Idempotent. */
int hpet_init(void);
/* Whether hpet_init succeeded. */
int hpet_present(void);
/* The main counter. A 32-bit HPET wraps after 2^32 ticks (about 7 minutes at the
 * spec's slowest rate, 42 s at QEMU's 100 MHz), so measure with hpet_ticks_since. */
uint64_t hpet_read(void);
/* Counter ticks from `then` (an hpet_read value) until now, across one wrap. */
uint64_t hpet_ticks_since(uint64_t then);
/* Nanoseconds in `ticks` counter ticks (exact for intervals up to hours). */
uint64_t hpet_ticks_to_ns(uint64_t ticks);

#endif
