/* serial.c: polled 16550 UART on COM1. */
#include "drivers/serial.h"

#include "arch/cpu.h"

#define COM1 0x3f8
enum { DATA = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5 };
#define LSR_RX 0x01
#define LSR_THRE 0x20

static int present;

void serial_init(void)
{
	outb(COM1 + IER, 0x00);
	outb(COM1 + LCR, 0x80); /* divisor latch */
	outb(COM1 + DATA, 1);	/* 115200 baud */
	outb(COM1 + IER, 0);
	outb(COM1 + LCR, 0x03); /* 8N1 */
	outb(COM1 + FCR, 0xc7); /* FIFO on, cleared, 14-byte threshold */
	outb(COM1 + MCR, 0x0b);
	/* A missing UART reads back 0xff; then writes go nowhere instead of spinning. */
	present = inb(COM1 + LSR) != 0xff;
}

static void putc_raw(char c)
{
	for (int spins = 0; !(inb(COM1 + LSR) & LSR_THRE) && spins < 100000; spins++)
		cpu_relax();
	outb(COM1 + DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
	if (!present)
		return;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			putc_raw('\r');
		putc_raw(s[i]);
	}
}

int serial_getc(void)
{
	if (!present || !(inb(COM1 + LSR) & LSR_RX))
		return -1;
	return inb(COM1 + DATA);
}
