/* pit.c: 8254 PIT channel 2 in mode 0 (interrupt on terminal count) as a polled
 * one-shot timer. Channel 2's gate and output are wired to port 0x61 (bits 0 and 5);
 * bit 1 would drive the speaker, and stays off. */
#include "drivers/pit.h"

#include "arch/cpu.h"

#define PIT_CH0_DATA 0x40
#define PIT_CH2_DATA 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH0_MODE0 0x30 /* channel 0, lobyte/hibyte access, mode 0, binary */
#define PIT_CMD_CH2_MODE0 0xb0 /* channel 2, the same */
#define PIT_CMD_CH2_LATCH 0x80 /* channel 2, counter latch command */
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20
#define PIT_MAX_COUNT 0xffffU
#define NS_PER_SEC 1000000000UL
#define US_PER_SEC 1000000UL

static uint32_t ticks_for(uint32_t us)
{
	if (us == 0)
		us = 1;
	if (us > PIT_MAX_US)
		us = PIT_MAX_US;
	uint32_t count = (uint32_t)((PIT_HZ * us + US_PER_SEC - 1) / US_PER_SEC);
	return count > PIT_MAX_COUNT ? PIT_MAX_COUNT : count;
}

uint32_t pit_oneshot_start(uint32_t us)
{
	uint32_t count = ticks_for(us);
	/* Gate low first so that raising it below starts a fresh count. */
	outb(PORT_B, (uint8_t)(inb(PORT_B) & ~(PORT_B_SPEAKER | PORT_B_GATE2)));
	outb(PIT_CMD, PIT_CMD_CH2_MODE0);
	outb(PIT_CH2_DATA, (uint8_t)count);
	outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
	outb(PORT_B, (uint8_t)((inb(PORT_B) & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	return count;
}

void pit_irq0_oneshot(uint32_t us)
{
	uint32_t count = ticks_for(us);
	/* The command drops OUT0 low; it rises (the IRQ edge) when the count runs out. */
	outb(PIT_CMD, PIT_CMD_CH0_MODE0);
	outb(PIT_CH0_DATA, (uint8_t)count);
	outb(PIT_CH0_DATA, (uint8_t)(count >> 8));
}

int pit_oneshot_done(void) { return !!(inb(PORT_B) & PORT_B_OUT2); }

uint32_t pit_count(void)
{
	outb(PIT_CMD, PIT_CMD_CH2_LATCH);
	uint32_t lo = inb(PIT_CH2_DATA);
	return lo | (uint32_t)inb(PIT_CH2_DATA) << 8;
}

uint64_t pit_ticks_to_ns(uint64_t ticks) { return ticks * NS_PER_SEC / PIT_HZ; }
