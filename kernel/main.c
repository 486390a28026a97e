/* main.c: the boot CPU's path from the loader to a running kernel, in init order. */
#include <stdint.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "drivers/pci.h"
#include "drivers/serial.h"
#include "kernel/bootinfo.h"
#include "kernel/config.h"
#include "kernel/cpu.h"
#include "kernel/crashtest.h"
#include "kernel/fpu.h"
#include "kernel/fs.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/power.h"
#include "kernel/random.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/task.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "kernel/version.h"
#include "kernel/vmm.h"
#include "net/console/server.h"
#include "net/members.h"
#include "net/metrics.h"
#include "net/net.h"
#include "sched/agent.h"

#define MIN_MEMORY (6UL << 20)

/* The file layer links separately (kernel/fs/); a kernel without it runs image-only tasks. */
extern __typeof__(fs_init) fs_init __attribute__((weak));

uint64_t boot_tsc;

static void config_error(void *ctx, const char *msg)
{
	(void)ctx;
	kwarn("%s", msg);
}

static __attribute__((noreturn)) void halt_forever(void)
{
	for (;;) {
		irq_disable();
		cpu_halt();
	}
}

/* The rest of boot runs as a kernel thread so that it can sleep and be preempted. */
static void init_thread(void *arg)
{
	(void)arg;
	smp_start_aps();
	random_init();
	/* "ready" is the kernel core: devices and the network come up after it (and say so
	 * in their own lines), so the figure does not depend on what is plugged in. */
	uint64_t ready_ns = tsc_to_ns(rdtsc() - boot_tsc);
	kinfo("shoal: ready in %lu.%03lu ms (%d cpus online)", ready_ns / 1000000,
	      (ready_ns / 1000) % 1000, smp_online());
	pci_init();
	net_init(); /* after random_init: lwIP draws TCP ports and DHCP ids */
	if (fs_init)
		fs_init(); /* the userland archive among the boot modules */
	task_init();
	if (!config.selftest) {
		agent_init();	   /* the scheduler's gossip callbacks, before members start */
		members_start();   /* its own thread: waits for the address, then joins */
		agent_start();	   /* its own thread: waits for membership, then schedules */
		console_start();   /* TCP 7373 (TLS-PSK) and COM1 input */
		metrics_start();   /* TCP 9100: GET /metrics */
		task_start_boot(); /* run= tasks, once the network has its address */
	}

	crashtest_run(config.debug_crash);
	if (config.selftest) {
		int failed = selftest_run();
		power_debug_exit(failed ? 2 : 1);
		power_off();
	}
}

void kmain(uint32_t magic, uint32_t info)
{
	boot_tsc = rdtsc();
	serial_init();
	trap_init_cpu(0);

	if (bootinfo_parse(magic, info) < 0) {
		log_emergency("shoal: not started by a multiboot or PVH loader (magic 0x%x); "
			      "boot with GRUB (multiboot2), QEMU -kernel or iPXE. Halting.\n",
			      magic);
		halt_forever();
	}
	/* Read the command line once silently, since early code (fpu=, log=) needs it; its
	 * errors are reported after the banner, when it is read again. */
	config_defaults(&config);
	config_parse(&config, boot_info.cmdline, 0, 0);
	fpu_init_cpu();
	if (boot_info.usable_bytes < MIN_MEMORY) {
		log_emergency("shoal: only %lu KiB of usable memory, need at least %lu KiB. "
			      "Halting.\n",
			      boot_info.usable_bytes >> 10, MIN_MEMORY >> 10);
		halt_forever();
	}

	pmm_init();
	vmm_init();
	heap_init();
	acpi_init();
	kinfo("shoal " SHOAL_VERSION " booting: %d cpus, %lu MiB", ncpus,
	      (unsigned long)(pmm_total_bytes() >> 20));

	config_defaults(&config);
	config_parse(&config, boot_info.cmdline, config_error, 0);
	log_set_console_level((enum log_level)config.log_level);

	time_init();
	lapic_init_cpu();
	timer_init();
	sched_init();
	thread_start(thread_create("init", init_thread, 0, THREAD_ANY_CPU));
	sched_run(); /* becomes this CPU's idle thread */
	panic("sched_run returned");
}
