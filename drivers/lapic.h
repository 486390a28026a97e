/* lapic.h: the local APIC of each CPU (xAPIC MMIO or x2APIC MSRs) and the IOAPICs:
 * interrupt delivery, end of interrupt, inter-processor interrupts and the per-CPU
 * one-shot timer that drives kernel timers and preemption (kernel/timer.c). */
#ifndef DRIVERS_LAPIC_H
#define DRIVERS_LAPIC_H

#include <stdint.h>

/* Enable this CPU's LAPIC (spurious vector, task priority 0); masks the legacy PIC
 * when called on the boot CPU. */
void lapic_init_cpu(void);
uint32_t lapic_id(void);
/* This CPU's APIC id as CPUID reports it (leaf 0xB, else leaf 1): usable before
 * lapic_init_cpu, e.g. by an AP finding out which CPU it is. */
uint32_t lapic_id_cpuid(void);
void lapic_eoi(void);
void lapic_send_ipi(uint32_t apic_id, int vector);
void lapic_send_nmi_all_others(void);
/* INIT and STARTUP for AP bring-up (page = trampoline physical address >> 12). */
void lapic_send_init(uint32_t apic_id);
void lapic_send_sipi(uint32_t apic_id, uint8_t page);
/* The local timer, one-shot. lapic_timer_init sets it up on the calling CPU to deliver
 * `vector`, unarmed: in TSC-deadline mode when the CPU has it and a probe on the boot
 * CPU sees it fire, else in one-shot count mode (calibrated once against the TSC).
 * lapic_timer_arm makes it fire once at monotonic time deadline_ns (time_ns() is now_ns;
 * a deadline already past fires at once), replacing any earlier arm. Both run with
 * interrupts off, on the CPU whose timer they set. */
void lapic_timer_init(int vector);
void lapic_timer_arm(uint64_t deadline_ns, uint64_t now_ns);
/* "tsc-deadline" or "one-shot", once lapic_timer_init ran on the boot CPU. */
const char *lapic_timer_mode(void);

/* Route ISA IRQ `irq` (after MADT overrides) or a GSI to `vector` on the CPU with
 * `apic_id`; 0 or -ENODEV when no IOAPIC serves it. */
int ioapic_route_isa(uint8_t irq, int vector, uint32_t apic_id);
int ioapic_route_gsi(uint32_t gsi, int vector, uint32_t apic_id, int level, int active_low);

#endif
