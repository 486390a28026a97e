/* stubs.c: TEMPORARY placeholders while the modules are written; each goes away when
 * its module lands. */
#include "arch/cpu.h"
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
int selftest_run(void) { return 0; }
void fpu_init_cpu(void) {}
