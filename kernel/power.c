/* power.c: leaving the machine: ACPI soft-off (S5) and reset, QEMU's isa-debug-exit,
 * and stopping the other CPUs.
 *
 * Power-off writes SLP_TYPa/b (from the DSDT's \_S5) with SLP_EN to the PM1a/b control
 * blocks, after handing the chipset to ACPI through SMI_CMD if the firmware left it in
 * legacy mode. Then come the ports where QEMU's and Bochs's ACPI blocks answer without
 * tables, and finally a halt. Reset tries the FADT's reset register, the PCI reset
 * control port 0xCF9, the keyboard controller, and last a triple fault (an IDT with no
 * entries). Each step is given a moment to act before the next is tried. */
#include "kernel/power.h"

#include <stdbool.h>

#include "arch/cpu.h"
#include "arch/trap.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/vmm.h"
#include "net/members.h"

#define PM1_SCI_EN 0x0001
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN (1u << 13)
#define ACPI_ENABLE_WAIT_US 300000
#define ACPI_ENABLE_POLL_US 1000
#define SETTLE_US 100000 /* time given to each method before the next */

#define QEMU_PM_PORT 0x604   /* QEMU q35/ICH9 and newer piix: PM1a control */
#define BOCHS_PM_PORT 0xb004 /* Bochs and old QEMU */
#define QEMU_S5_VALUE 0x2000 /* SLP_EN with SLP_TYP 0 */

#define RESET_CF9_PORT 0xcf9
#define CF9_SYS_RST 0x02
#define CF9_RST_CPU 0x04
#define KBC_STATUS 0x64
#define KBC_CMD 0x64
#define KBC_INPUT_FULL 0x02
#define KBC_PULSE_RESET 0xfe
#define KBC_WAIT_LOOPS 100000

#define DEBUG_EXIT_PORT 0xf4
#define NMI_VECTOR 2

static volatile bool stopping;

static __attribute__((noreturn)) void halt(void)
{
	for (;;) {
		irq_disable();
		cpu_halt();
	}
}

static void acpi_enable_mode(void)
{
	if (!acpi.pm1a_cnt || (inw((uint16_t)acpi.pm1a_cnt) & PM1_SCI_EN))
		return;
	if (!acpi.smi_cmd || !acpi.acpi_enable)
		return; /* hardware-reduced or already ACPI: nothing to hand over */
	outb(acpi.smi_cmd, acpi.acpi_enable);
	for (int i = 0; i < ACPI_ENABLE_WAIT_US / ACPI_ENABLE_POLL_US; i++) {
		if (inw((uint16_t)acpi.pm1a_cnt) & PM1_SCI_EN)
			return;
		udelay(ACPI_ENABLE_POLL_US);
	}
	kwarn("power: the firmware did not enter ACPI mode; trying S5 anyway");
}

static void sleep_s5(uint32_t port, uint16_t typ)
{
	if (!port)
		return;
	uint16_t v = inw((uint16_t)port);
	v = (uint16_t)((v & ~PM1_SLP_TYP_MASK) | (typ << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN);
	outw((uint16_t)port, v);
}

void power_off(void)
{
	power_stop_others();
	if (acpi.s5_found && acpi.pm1a_cnt) {
		acpi_enable_mode();
		irq_disable();
		sleep_s5(acpi.pm1a_cnt, acpi.slp_typa);
		sleep_s5(acpi.pm1b_cnt, acpi.slp_typb);
		udelay(SETTLE_US);
	}
	irq_disable();
	outw(QEMU_PM_PORT, QEMU_S5_VALUE);
	udelay(SETTLE_US);
	outw(BOCHS_PM_PORT, QEMU_S5_VALUE);
	udelay(SETTLE_US);
	log_emergency("shoal: power-off failed; halted\n");
	halt();
}

static void triple_fault(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} none = {0, 0};
	__asm__ volatile("lidt %0; int3" ::"m"(none));
}

void power_reboot(void)
{
	power_stop_others();
	irq_disable();
	if (acpi.reset_found) {
		if (acpi.reset_space == 1) {
			outb((uint16_t)acpi.reset_addr, acpi.reset_value);
		} else {
			volatile uint8_t *r = vmm_map_mmio(acpi.reset_addr, 1);
			if (r)
				*r = acpi.reset_value;
		}
		udelay(SETTLE_US);
	}
	outb(RESET_CF9_PORT, CF9_SYS_RST);
	outb(RESET_CF9_PORT, CF9_SYS_RST | CF9_RST_CPU);
	udelay(SETTLE_US);
	for (int i = 0; i < KBC_WAIT_LOOPS && (inb(KBC_STATUS) & KBC_INPUT_FULL); i++)
		cpu_relax();
	outb(KBC_CMD, KBC_PULSE_RESET);
	udelay(SETTLE_US);
	triple_fault();
	halt();
}

void power_shutdown(bool reboot)
{
	kinfo("power: %s", reboot ? "rebooting" : "powering off");
	members_leave(); /* returns at once when gossip does not run */
	if (reboot)
		power_reboot();
	power_off();
}

void power_debug_exit(uint8_t code) { outb(DEBUG_EXIT_PORT, code); }

static void nmi(struct trapframe *tf)
{
	if (stopping)
		halt(); /* NMIs stay blocked until an iret that never comes */
	kwarn("power: unexpected NMI on cpu %d at 0x%lx", this_cpu()->id, tf->rip);
}

void power_stop_others(void)
{
	if (smp_online() < 2)
		return;
	trap_register(NMI_VECTOR, nmi);
	__atomic_store_n(&stopping, true, __ATOMIC_SEQ_CST);
	lapic_send_nmi_all_others();
}
