/* serial.c: the serial console: COM1's input runs through the same session loop as the
 * network console (exec.c), as the identity "serial" (whoever holds the serial line holds the node). Nothing else reads COM1, and the
 * UART raises no receive interrupt here, so a kernel thread polls it every
 * CONSOLE_SERIAL_POLL_MS. Replies go straight to the UART rather than through the log, so
 * they show whatever log= says and do not fill the ring `log` reads; a reply may
 * interleave with a log line printed at the same moment. The session never idles out
 * (logs -f still ends after console.idle= seconds without output). */
#include "drivers/serial.h"

#include <stdbool.h>

#include "kernel/log.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "net/console/server.h"

#define NS_PER_MS 1000000ULL

static int serial_out(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	serial_write(buf, len);
	return 0;
}

/* Whatever bytes wait (up to len); if none, poll until some come or timeout_ms passes. */
static long serial_in(void *ctx, void *buf, size_t len, uint32_t timeout_ms)
{
	(void)ctx;
	unsigned char *p = buf;
	uint64_t deadline = time_ns() + (uint64_t)timeout_ms * NS_PER_MS;
	for (;;) {
		size_t n = 0;
		int c;
		while (n < len && (c = serial_getc()) >= 0)
			p[n++] = (unsigned char)c;
		if (n || time_ns() >= deadline)
			return (long)n;
		thread_sleep_ns(CONSOLE_SERIAL_POLL_MS * NS_PER_MS);
	}
}

static void serial_main(void *arg)
{
	(void)arg;
	struct console_io io = {
		.who = CONSOLE_SERIAL_IDENTITY,
		.write = serial_out,
		.read = serial_in,
	};
	for (;;)
		console_session_run(&io); /* ends only on quit: start afresh */
}

void console_serial_start(void)
{
	struct thread *t = thread_create("console-serial", serial_main, NULL, THREAD_ANY_CPU);
	if (!t) {
		kwarn("console: serial console not started: out of memory");
		return;
	}
	thread_start(t);
}
