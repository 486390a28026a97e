/* power.h: leaving: ACPI power-off and reset, QEMU's isa-debug-exit for tests, and
 * stopping the other CPUs (panic). The orderly way out (power_shutdown) first leaves the
 * cluster; panic uses power_off and power_reboot directly and never does. */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

#include <stdbool.h>
#include <stdint.h>

__attribute__((noreturn)) void power_off(void);
__attribute__((noreturn)) void power_reboot(void);
/* Leave the cluster gracefully (bounded: net/members.h), then power off or reboot. */
__attribute__((noreturn)) void power_shutdown(bool reboot);
/* Exit QEMU with status (code << 1) | 1 when the isa-debug-exit device is present;
 * returns if it is not. */
void power_debug_exit(uint8_t code);
/* Halt every other online CPU (NMI IPI); safe from panic. */
void power_stop_others(void);

#endif
