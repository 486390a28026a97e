/* pic.c: remap the two 8259 PICs to vectors 32..47 and mask all their lines (the
 * LAPIC and IOAPIC deliver every interrupt instead). */
#include "drivers/pic.h"

#include "arch/cpu.h"
#include "arch/trap.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define ICW1_INIT_ICW4 0x11 /* edge triggered, cascade, ICW4 follows */
#define ICW3_MASTER_SLAVE_AT_IRQ2 0x04
#define ICW3_SLAVE_ID 0x02
#define ICW4_8086 0x01
#define PIC_MASK_ALL 0xff
#define PIC_LEGACY_BASE 32 /* vectors 32..47, reserved by arch/trap.h */
#define PORT_DELAY 0x80	   /* POST code port: a write gives the PIC time */

static void out(uint16_t port, uint8_t v)
{
	outb(port, v);
	outb(PORT_DELAY, 0);
}

void pic_disable(void)
{
	out(PIC1_CMD, ICW1_INIT_ICW4);
	out(PIC2_CMD, ICW1_INIT_ICW4);
	out(PIC1_DATA, PIC_LEGACY_BASE);
	out(PIC2_DATA, PIC_LEGACY_BASE + 8);
	out(PIC1_DATA, ICW3_MASTER_SLAVE_AT_IRQ2);
	out(PIC2_DATA, ICW3_SLAVE_ID);
	out(PIC1_DATA, ICW4_8086);
	out(PIC2_DATA, ICW4_8086);
	out(PIC1_DATA, PIC_MASK_ALL);
	out(PIC2_DATA, PIC_MASK_ALL);
}
