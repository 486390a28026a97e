/* console_port.c: the console core's port (net/console/port.h) on the host: malloc, with
 * a switch for tests that want allocation to fail. */
#include <stdlib.h>

#include "net/console/port.h"

/* Tests set this to make the next allocations fail (0: never; n: the nth from now). */
int console_port_fail_after;

void *console_port_alloc(size_t size)
{
	if (console_port_fail_after > 0 && --console_port_fail_after == 0) {
		console_port_fail_after = -1;
		return NULL;
	}
	if (console_port_fail_after < 0)
		return NULL;
	return malloc(size);
}

void console_port_free(void *p) { free(p); }
