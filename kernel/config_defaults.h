/* config_defaults.h: the default of every kernel command-line key, and its limits. */
#ifndef KERNEL_CONFIG_DEFAULTS_H
#define KERNEL_CONFIG_DEFAULTS_H

#define CONFIG_NAME_MAX 64
#define CONFIG_WORD_MAX 512    /* longest KEY=VALUE word accepted */
#define CONFIG_DEFAULT_NAME "" /* empty: derived from the MAC address once a NIC is up */
#define CONFIG_DEFAULT_LOG 1   /* info */
#define CONFIG_DEFAULT_SMP 0   /* all CPUs */
#define CONFIG_DEFAULT_TICK_HZ 1000
#define CONFIG_MIN_TICK_HZ 10
#define CONFIG_MAX_TICK_HZ 10000
#define CONFIG_DEFAULT_SLICE_MS 10
#define CONFIG_MIN_SLICE_MS 1
#define CONFIG_MAX_SLICE_MS 1000
#define CONFIG_DEFAULT_FPU 0 /* auto: XSAVE when the CPU has it (nested hypervisors: fpu=fxsave) */
#define CONFIG_NET_VALUE_MAX 48 /* ip= and dns= values; empty: DHCP, DHCP's server */

#endif
