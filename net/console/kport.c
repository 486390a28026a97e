/* kport.c: the console core's port (net/console/port.h) in the kernel: the kernel heap. */
#include "kernel/heap.h"
#include "net/console/port.h"

void *console_port_alloc(size_t size) { return kmalloc(size); }

void console_port_free(void *p) { kfree(p); }
