/* serial.h: the 16550 UART on COM1 at 115200 8N1, the kernel's console. Callers
 * serialize writes (the log does); reads never block. */
#ifndef DRIVERS_SERIAL_H
#define DRIVERS_SERIAL_H

#include <stddef.h>

void serial_init(void);
void serial_write(const char *s, size_t n);
/* Next received byte, or -1 if none is waiting. */
int serial_getc(void);

#endif
