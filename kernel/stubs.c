/* stubs.c: TEMPORARY placeholders while the modules are written; each goes away when
 * its module lands. */
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "kernel/cpu.h"
#include "kernel/fpu.h"
#include "kernel/heap.h"
#include "kernel/pmm.h"
#include "kernel/power.h"
#include "kernel/random.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "kernel/vmm.h"
#include "arch/cpu.h"

struct acpi_info acpi;
void pmm_init(void) {}
void vmm_init(void) {}
void heap_init(void) {}
void acpi_init(void) {}
uint64_t pmm_total_bytes(void) { return 0; }
void *pmm_alloc_kva(size_t b) { return 0; }
void time_init(void) {}
uint64_t time_ns(void) { return 0; }
uint64_t tsc_to_ns(uint64_t t) { return t; }
void lapic_init_cpu(void) {}
void timer_init(void) {}
void sched_init(void) {}
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu)
{
	fn(arg);
	return 0;
}
void thread_start(struct thread *t) {}
void sched_run(void)
{
	for (;;)
		cpu_halt();
}
void smp_start_aps(void) {}
int smp_online(void) { return 1; }
void random_init(void) {}
int selftest_run(void) { return 0; }
void power_debug_exit(uint8_t code) { outb(0xf4, code); }
void power_off(void)
{
	for (;;)
		cpu_halt();
}
void power_reboot(void)
{
	for (;;)
		cpu_halt();
}
void power_stop_others(void) {}
void fpu_init_cpu(void) {}
