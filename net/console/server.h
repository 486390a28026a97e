/* server.h: the network console (TCP CONSOLE_PORT, TLS 1.2 with pre-shared keys) and the
 * serial console, as the rest of the kernel sees them; and the seam between the
 * transports (server.c: TLS or plain TCP; serial.c: COM1) and the command executor
 * (exec.c), which runs one session over any of them.
 *
 * Serial lines:
 *   console: listening on 7373 (tls-psk)|(insecure)
 *   console: not started: no console.psk= key (console.insecure=1 allows plain TCP)
 *   console: session N from ADDR as IDENTITY          (debug)
 *   console: IDENTITY: COMMAND LINE                     (every state-changing command)
 *   console: N handshakes failed, last from ADDR: WHY   (warn, at most every
 *                                                        CONSOLE_FAIL_LOG_MS)
 *   console: refused ADDR: N sessions already           (warn, rate-limited likewise) */
#ifndef NET_CONSOLE_SERVER_H
#define NET_CONSOLE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_POLL_MS 500	      /* longest block of a session thread between checks */
#define CONSOLE_HANDSHAKE_MS 10000    /* a TLS handshake, from accept to done */
#define CONSOLE_WRITE_MS 10000	      /* one reply written (the peer must read) */
#define CONSOLE_FAIL_LOG_MS 10000     /* handshake failures reported at most this often */
#define CONSOLE_WAIT_MS 60000	      /* submit --wait: at most this long */
#define CONSOLE_FOLLOW_POLL_MS 200    /* logs -f: output polled this often */
#define CONSOLE_LOG_LINES_DEFAULT 100 /* log: lines shown without N */
#define CONSOLE_LOG_LINES_MAX 2000    /* log N: at most this many */
#define CONSOLE_SERIAL_POLL_MS 20     /* COM1 polled this often for input */
#define CONSOLE_SERIAL_IDENTITY "serial"

/* Start the network console from the command line (config.c's console.* keys) on a thread
 * of its own: it waits for the network (as members.c does), then listens. Without a
 * console.psk= key it logs one line and does not start, unless console.insecure=1 (then
 * plain TCP, with a warning). Also starts the serial console (COM1 lines run as commands
 * by the identity "serial"). Call once, after net_init. */
void console_start(void);

struct console_stats {
	uint64_t sessions_total;     /* accepted and handed a thread */
	uint64_t sessions_active;    /* now */
	uint64_t sessions_refused;   /* over console.max */
	uint64_t handshakes_failed;  /* TLS handshakes that did not complete (wrong key...) */
	uint64_t sessions_timed_out; /* ended for idleness */
	uint64_t commands, commands_failed; /* replies ok / err */
	uint64_t bad_lines;		    /* too long, binary or unparsable */
	uint64_t uploads, upload_bytes;
	bool listening, tls;
};
void console_stats(struct console_stats *s);

/* One session's transport. write: all of len bytes, 0 or -EIO. read: up to len bytes,
 * waiting at most timeout_ms: the count, 0 when nothing came in time, or -EIO when the
 * peer is gone. */
struct console_io {
	void *ctx;
	const char *who; /* the identity: PSK identity, "insecure" or "serial" */
	int (*write)(void *ctx, const void *buf, size_t len);
	long (*read)(void *ctx, void *buf, size_t len, uint32_t timeout_ms);
	uint32_t idle_ms;    /* a session with no input this long ends (0: never) */
	volatile bool *stop; /* set when the session must end (NULL: never) */
};

/* exec.c: run a session until the peer leaves, quits, or idles out. */
void console_session_run(struct console_io *io);
/* serial.c: the serial console's thread (from console_start). */
void console_serial_start(void);

/* server.c's counters, which exec.c adds to (with __atomic_fetch_add). */
extern struct console_stats console_counters;

#endif
