/* net.h: the node's network: lwIP (net/lwip/) on every NIC the drivers registered,
 * addresses from DHCP or the command line (ip=, dns=), and the diagnostic services
 * every node runs: echo on TCP and UDP port 7, an iperf 2 server on TCP port 5001. */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdint.h>

#define NET_ECHO_PORT 7
#define NET_IPERF_PORT 5001

/* Bring the network up: start the stack and the services, attach every netdev. Does
 * not wait for DHCP; each interface logs `net: IFNAME ADDR/PREFIX via dhcp|static in
 * X ms` when its address is bound, and "net: no network interface found" is logged
 * when there is none. Call once, from the init thread, after the drivers. */
void net_init(void);
/* Start the stack and the services only (idempotent; net_init does it too). Self-tests
 * use it to run over the loopback interface. 0 or a negative errno. */
int net_start(void);
/* Wait until every attached interface has its IPv4 address: 0, -ETIMEDOUT, or -ENODEV
 * when there is no interface. */
int net_wait_bound(uint64_t timeout_ns);

/* Received frames dropped because the stack had no free buffer (pbuf pool) or its
 * input queue was full; lwIP's own counters are in lwip_stats (lwip/stats.h). */
uint64_t net_rx_nobuf(void);

/* services.c: start the echo and iperf services (from net_start). */
int net_services_start(void);

#endif
