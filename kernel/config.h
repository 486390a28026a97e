/* config.h: the kernel command line, parsed into one typed struct.
 *
 * The command line is words separated by spaces; a word is KEY=VALUE or a bare KEY
 * (a flag, meaning KEY=1). Every key has a documented default (config_defaults.h).
 * An unknown key, or a value that does not parse or is out of range, is reported
 * through the error callback with the key named, and the key keeps its default; the
 * rest of the line is still parsed. Later issues add their keys to the table. */
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/config_defaults.h"

enum panic_action { PANIC_HALT, PANIC_REBOOT, PANIC_POWEROFF };
enum fpu_mode { FPU_AUTO, FPU_FXSAVE, FPU_OFF };
enum debug_crash { CRASH_NONE, CRASH_PANIC, CRASH_PAGEFAULT, CRASH_UD, CRASH_STACK };

struct config {
	char name[CONFIG_NAME_MAX]; /* name=: node name */
	int log_level;		    /* log=debug|info|warn|error */
	bool selftest;		    /* selftest: run the kernel self-tests, then exit */
	int smp;		    /* smp=N: start at most N CPUs (0 = all) */
	enum panic_action panic;    /* panic=halt|reboot|poweroff */
	bool debug_exit;	    /* debug.exit=1: exit QEMU through isa-debug-exit */
	int debug_crash; /* debug.crash=none|panic|pagefault|ud|stack: test the panic path */
	int tick_hz;	 /* tick=HZ: scheduler tick rate */
	int slice_ms;	 /* slice=MS: time slice of a thread */
	int fpu;	 /* fpu=auto|fxsave|off: XSAVE when present, FXSAVE, or no SSE */
	char ip[CONFIG_NET_VALUE_MAX];	/* ip=ADDR/PREFIX[,GW] or dhcp (net/addr.c parses it) */
	char dns[CONFIG_NET_VALUE_MAX]; /* dns=ADDR: DNS server (else DHCP's) */
};

typedef void (*config_error_fn)(void *ctx, const char *msg);

void config_defaults(struct config *c);
/* Parse cmdline into c (which holds defaults); returns the number of errors reported. */
int config_parse(struct config *c, const char *cmdline, config_error_fn err, void *ctx);

extern struct config config;

#endif
