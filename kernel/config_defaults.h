/* config_defaults.h: the default of every kernel command-line key, and its limits. */
#ifndef KERNEL_CONFIG_DEFAULTS_H
#define KERNEL_CONFIG_DEFAULTS_H

#define CONFIG_NAME_MAX 64
#define CONFIG_WORD_MAX 512    /* longest KEY=VALUE word accepted */
#define CONFIG_DEFAULT_NAME "" /* empty: derived from the MAC address once a NIC is up */
#define CONFIG_DEFAULT_LOG 1   /* info */
#define CONFIG_DEFAULT_SMP 0   /* all CPUs */
/* tick=: the timer backstop, the fewest timer interrupts per second (kernel/timer.h) */
#define CONFIG_DEFAULT_TICK_HZ 100
#define CONFIG_MIN_TICK_HZ 10
#define CONFIG_MAX_TICK_HZ 10000
#define CONFIG_DEFAULT_SLICE_MS 10
#define CONFIG_MIN_SLICE_MS 1
#define CONFIG_MAX_SLICE_MS 1000
#define CONFIG_DEFAULT_FPU 0 /* auto: XSAVE when the CPU has it (nested hypervisors: fpu=fxsave) */
#define CONFIG_NET_VALUE_MAX 48 /* ip= and dns= values; empty: DHCP, DHCP's server */

/* Gossip membership (net/members.c, net/gossip). */
#define CONFIG_DEFAULT_GOSSIP 1	       /* gossip=0: no membership at all */
#define CONFIG_DEFAULT_CLUSTER "shoal" /* cluster=: bound into every packet */
/* cluster.key=: up to GOSSIP_KEYS_MAX base64 keys of 32 bytes (44 characters each),
 * comma-separated, plus the NUL. */
#define CONFIG_KEYS_TEXT_MAX (8 * 45)
#define CONFIG_DEFAULT_PLAINTEXT 0 /* gossip.plaintext: allow running without a key */
#define CONFIG_SEEDS_MAX 16	   /* seeds=IP[:PORT],...; none: discovery by broadcast */
#define CONFIG_DEFAULT_PROFILE 0   /* gossip.profile=fast (GOSSIP_PROFILE_FAST) */
#define CONFIG_GOSSIP_SETS_MAX 16  /* gossip.FIELD=N overrides kept (one per field) */

/* Tasks (kernel/task.c). */
#define CONFIG_RUN_MAX 8		     /* run= keys kept */
#define CONFIG_RUN_LEN 256		     /* one run=PROGRAM[:ARG...] value, NUL included */
#define CONFIG_RUN_ARGS 16		     /* argv entries of one run= */
#define CONFIG_DEFAULT_TASK_MEM (64UL << 20) /* task.mem= unset: this much per task ... */
#define CONFIG_TASK_MEM_FRACTION 8	     /* ... or an eighth of memory if that is less */
#define CONFIG_MIN_TASK_MEM (1UL << 20)
#define CONFIG_DEFAULT_TASK_MAX 64 /* task.max=: tasks running at once */
#define CONFIG_MAX_TASK_MAX 4096
#define CONFIG_DEFAULT_TASK_KEEP 32 /* task.keep=: ended tasks kept for task_info/logs */
#define CONFIG_MAX_TASK_KEEP 4096

/* Network console and metrics (net/console, net/metrics.c). */
#define CONFIG_PSK_MAX 8      /* console.psk=IDENTITY:HEXKEY keys kept (one per user) */
#define CONFIG_PSK_ID_MAX 31  /* bytes of an identity (CLUSTER_IDENTITY_MAX) */
#define CONFIG_PSK_KEY_MIN 16 /* bytes of a key: at least 128 bits ... */
#define CONFIG_PSK_KEY_MAX 64 /* ... and at most what mbedTLS takes (MBEDTLS_PSK_MAX_LEN) */
#define CONFIG_DEFAULT_CONSOLE_INSECURE 0 /* console.insecure=1: plain TCP without keys */
#define CONFIG_DEFAULT_CONSOLE_IDLE 600	  /* console.idle=S: an idle session ends after S s */
#define CONFIG_MIN_CONSOLE_IDLE 5
#define CONFIG_MAX_CONSOLE_IDLE 86400
#define CONFIG_DEFAULT_CONSOLE_MAX 8 /* console.max=N: sessions at once */
#define CONFIG_MAX_CONSOLE_MAX 64
#define CONFIG_DEFAULT_METRICS 1 /* metrics=0: no /metrics listener */

#endif
