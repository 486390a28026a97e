/* time.h: the monotonic clock. Nanoseconds since boot from the TSC (invariant TSC
 * where the CPU has it), calibrated against the HPET or the PIT. Before calibration
 * time_ns() returns 0. */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H

#include <stdint.h>

/* Set up the clock: calibrate the TSC. Call once on the boot CPU after acpi_init. */
void time_init(void);

uint64_t time_ns(void);
/* TSC ticks per millisecond (0 before time_init). */
uint64_t tsc_khz(void);
/* Convert a TSC difference to nanoseconds. */
uint64_t tsc_to_ns(uint64_t ticks);
/* The TSC value at which time_ns() reaches ns (the LAPIC's TSC-deadline mode). */
uint64_t time_ns_to_tsc(uint64_t ns);
/* TSC value read at the first instruction of kmain: boot time is measured from it. */
extern uint64_t boot_tsc;
/* Busy-wait, for early drivers and SMP start (interrupts may be off). */
void udelay(uint64_t us);

#endif
