/* port.h: what the lwIP port (net/lwip/) offers net.c: one lwIP interface per netdev. */
#ifndef NET_LWIP_PORT_H
#define NET_LWIP_PORT_H

#include <stdint.h>

#include "net/addr.h"

struct netdev;

/* Attach nd to the running stack (call after tcpip_init): a static address from ip, or
 * DHCP when ip->dhcp; dns, when non-NULL, is the DNS server to use whatever DHCP says.
 * The first interface attached becomes the default route. Logs the serial-contract
 * line `net: IFNAME ADDR/PREFIX via dhcp|static in X ms` once the address is bound.
 * 0, or -ENOSPC beyond NETDEV_MAX interfaces. */
int port_netif_attach(struct netdev *nd, const struct net_ip_config *ip, const struct net_ip4 *dns);
/* Interfaces attached, and how many of them have their IPv4 address. */
int port_netif_count(void);
int port_netif_bound(void);
/* Frames dropped on receive because no pbuf was free, over all interfaces. */
uint64_t port_rx_nobuf(void);

#endif
