/* power.h: leaving: ACPI power-off and reset, QEMU's isa-debug-exit for tests, and
 * stopping the other CPUs (panic). */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

#include <stdint.h>

__attribute__((noreturn)) void power_off(void);
__attribute__((noreturn)) void power_reboot(void);
/* Exit QEMU with status (code << 1) | 1 when the isa-debug-exit device is present;
 * returns if it is not. */
void power_debug_exit(uint8_t code);
/* Halt every other online CPU (NMI IPI); safe from panic. */
void power_stop_others(void);

#endif
