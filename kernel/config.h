/* config.h: the kernel command line, parsed into one typed struct.
 *
 * The command line is words separated by spaces; a word is KEY=VALUE or a bare KEY
 * (a flag, meaning KEY=1). Every key has a documented default (config_defaults.h).
 * An unknown key, or a value that does not parse or is out of range, is reported
 * through the error callback with the key named, and the key keeps its default; the
 * rest of the line is still parsed. Later issues add their keys to the table.
 *
 * Gossip keys: gossip=0|1, cluster=NAME, cluster.key=B64[,B64...] (checked with
 * gossip_keyring_parse; its value is never echoed in a message), gossip.plaintext,
 * seeds=IP[:PORT],..., tags=k=v,..., gossip.profile=fast|lan, and gossip.FIELD=N for
 * every field of struct gossip_config (checked with gossip_config_set).
 *
 * Task keys: run=PROGRAM[:ARG:ARG...] (repeatable, up to CONFIG_RUN_MAX: tasks started
 * at boot once the network is up), task.mem=SIZE (bytes, or with a K, M or G suffix),
 * task.max=N, task.keep=N.
 *
 * Console keys: console.psk=IDENTITY:HEXKEY (repeatable, up to CONFIG_PSK_MAX, one per
 * user; the key as `openssl s_client -psk` takes it, CONFIG_PSK_KEY_MIN..MAX bytes; an
 * identity given twice is refused; never echoed), console.insecure, console.idle=S,
 * console.max=N, and metrics=0|1. */
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/config_defaults.h"
#include "net/gossip/gossip.h"

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
	int tick_hz;	 /* tick=HZ: timer backstop (timers and slices are one-shot) */
	int slice_ms;	 /* slice=MS: time slice of a thread */
	int fpu;	 /* fpu=auto|fxsave|off: XSAVE when present, FXSAVE, or no SSE */
	char ip[CONFIG_NET_VALUE_MAX];	/* ip=ADDR/PREFIX[,GW] or dhcp (net/addr.c parses it) */
	char dns[CONFIG_NET_VALUE_MAX]; /* dns=ADDR: DNS server (else DHCP's) */

	/* Gossip membership. The profile and the gossip.FIELD=N overrides are folded into
	 * `gossip_cfg` at the end of config_parse, whatever their order on the line. */
	bool gossip;   /* gossip=0: membership off */
	bool net_diag; /* net.diag=1: echo (7) and iperf (5001), unauthenticated */
	char cluster[GOSSIP_CLUSTER_MAX + 1];	    /* cluster=NAME */
	char cluster_key[CONFIG_KEYS_TEXT_MAX];	    /* cluster.key=B64[,B64...] (validated text) */
	bool gossip_plaintext;			    /* gossip.plaintext: no key is acceptable */
	struct gossip_addr seeds[CONFIG_SEEDS_MAX]; /* seeds=IP[:PORT],... */
	int nseeds;
	char tags[GOSSIP_TAGS_MAX + 1];	 /* tags=k=v,... */
	int gossip_profile;		 /* gossip.profile=fast|lan (enum gossip_profile) */
	struct gossip_config gossip_cfg; /* the profile with the overrides applied */
	struct config_gossip_set {	 /* gossip.FIELD=N as given, replayed over the profile */
		char field[24];
		char value[12];
	} gossip_sets[CONFIG_GOSSIP_SETS_MAX];
	int ngossip_sets;

	/* Tasks. */
	uint64_t task_mem; /* task.mem=SIZE[K|M|G]: memory limit per task; 0: the default */
	int task_max;	   /* task.max=N: tasks running at once */
	int task_keep;	   /* task.keep=N: ended tasks remembered */
	char run[CONFIG_RUN_MAX][CONFIG_RUN_LEN]; /* run=PROGRAM[:ARG...], repeatable */
	int nrun;

	/* Network console and metrics. */
	struct config_psk {
		char identity[CONFIG_PSK_ID_MAX + 1];
		uint8_t key[CONFIG_PSK_KEY_MAX];
		uint8_t key_len;
	} console_psk[CONFIG_PSK_MAX]; /* console.psk=IDENTITY:HEXKEY, repeatable */
	int npsk;
	bool console_insecure; /* console.insecure: plain TCP when there is no key */
	int console_idle;      /* console.idle=S: seconds before an idle session ends */
	int console_max;       /* console.max=N: sessions at once */
	bool metrics;	       /* metrics=0: no /metrics listener */
};

typedef void (*config_error_fn)(void *ctx, const char *msg);

void config_defaults(struct config *c);
/* Parse cmdline into c (which holds defaults); returns the number of errors reported. */
int config_parse(struct config *c, const char *cmdline, config_error_fn err, void *ctx);

extern struct config config;

#endif
