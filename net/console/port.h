/* port.h: the one thing the console's sans-IO core (parse.c, reader.c, out.c) needs from
 * wherever it runs: memory for console_out's reply buffer. The kernel implements it in
 * net/console/kport.c (kernel heap); host builds (unit tests, fuzzer) in
 * tests/host/console_port.c (malloc). */
#ifndef NET_CONSOLE_PORT_H
#define NET_CONSOLE_PORT_H

#include <stddef.h>

/* NULL when out of memory (console_out then answers `err internal`). */
void *console_port_alloc(size_t size);
void console_port_free(void *p);

#endif
