/* smp.h: starting the application processors (INIT-SIPI-SIPI through a real-mode
 * trampoline below 1 MiB). Each AP loads the kernel's tables, its own GDT/TSS/GS,
 * starts its LAPIC timer and enters the scheduler. smp= limits how many start. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

/* Start every CPU the MADT lists (up to smp=); returns when all have come online or
 * timed out (a CPU that does not answer is logged and skipped). */
void smp_start_aps(void);
int smp_online(void);
/* Highest id among online CPUs (0 with one CPU): tests use it to reach "another" CPU. */
int smp_last_online(void);
/* Run fn(arg) on every other online CPU and wait for all of them (e.g. TLB flush).
 * fn runs in interrupt context on the targets; hold no spinlock across the call. */
void smp_call_others(void (*fn)(void *), void *arg);

#endif
