/* netdev.h: what a NIC driver offers the network stack, whatever the hardware.
 *
 * A driver fills in a struct netdev (MAC, MTU, ops) and calls netdev_register, which
 * names it eth0, eth1, ... in registration order. Transmit copies the frame into the
 * driver's ring and returns at once: -EAGAIN (and a tx_dropped count) when the ring is
 * full, never blocking. Received frames are handed up by calling netdev_rx from a
 * kernel thread of the driver (its interrupt handler only wakes that thread), so the
 * stack never runs in interrupt context; the frame is copied before netdev_rx returns.
 * Link changes are reported with netdev_link. Counters are kept by the driver in
 * nd->stats (64-bit, only ever increasing). */
#ifndef DRIVERS_NETDEV_H
#define DRIVERS_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETDEV_MAX 8
#define NETDEV_NAME_MAX 8
#define ETH_ALEN 6
#define ETH_FRAME_MAX 1514 /* without FCS */

struct netdev;

struct netdev_ops {
	/* Queue one Ethernet frame (len <= ETH_FRAME_MAX); 0 or -EAGAIN when full. When
	 * csum_offload is set the stack may leave TCP/UDP checksums for the device, and
	 * csum_start/csum_offset (from the start of the frame) say where: 0/0 = none. */
	int (*xmit)(struct netdev *nd, const void *frame, size_t len, uint16_t csum_start,
		    uint16_t csum_offset);
};

struct netdev_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_dropped, tx_dropped; /* ring full, or no memory for the frame */
	uint64_t rx_errors, tx_errors;	 /* device-reported errors, bad frames */
};

struct netdev {
	char name[NETDEV_NAME_MAX];
	const char *driver;
	uint8_t mac[ETH_ALEN];
	uint16_t mtu;
	bool link_up;
	bool tx_csum_offload; /* the device fills in TCP/UDP checksums */
	bool rx_csum_checked; /* the device verified receive checksums */
	const struct netdev_ops *ops;
	void *priv; /* the driver's */
	struct netdev_stats stats;

	/* Set by the stack before the driver's first netdev_rx. */
	void (*rx)(struct netdev *nd, const void *frame, size_t len);
	void (*link_changed)(struct netdev *nd);
	void *stack; /* the stack's */
};

/* Name and record a ready device; -ENOSPC beyond NETDEV_MAX. */
int netdev_register(struct netdev *nd);
int netdev_count(void);
struct netdev *netdev_get(int i);
/* From a driver's receive thread: hand one frame up (copied before it returns). */
void netdev_rx(struct netdev *nd, const void *frame, size_t len);
/* From a driver: the link went up or down. */
void netdev_link(struct netdev *nd, bool up);

#endif
