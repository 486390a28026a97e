/* pit.h: the legacy 8254 PIT, channel 2, as a fallback reference clock when there is
 * no HPET: a one-shot countdown whose end is visible in port 0x61 (no interrupts). */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H

#include <stdint.h>

#define PIT_HZ 1193182UL
/* The longest single countdown: 65535 ticks, about 54.9 ms. */
#define PIT_MAX_US 54000

/* Start a countdown of `us` microseconds (1 .. PIT_MAX_US) on channel 2; returns the
 * number of PIT ticks actually programmed. */
uint32_t pit_oneshot_start(uint32_t us);
/* Whether the countdown started last has reached zero. */
int pit_oneshot_done(void);
/* Channel 2's current count (latched, so both bytes belong together). */
uint32_t pit_count(void);
/* Raise ISA IRQ 0 once, `us` microseconds from now (channel 0, mode 0): for testing
 * interrupt routing. Channel 0 then stays quiet until reprogrammed. */
void pit_irq0_oneshot(uint32_t us);
/* Nanoseconds in `ticks` PIT ticks. */
uint64_t pit_ticks_to_ns(uint64_t ticks);

#endif
