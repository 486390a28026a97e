/* netdev.h: what a NIC driver offers the network stack, whatever the hardware.
 *
 * A driver fills in a struct netdev (MAC, MTU, ops) and calls netdev_register, which
 * names it eth0, eth1, ... in registration order. Transmit copies the frame into the
 * driver's ring and returns at once: -EAGAIN (and a tx_dropped count) when the ring is
 * full, never blocking. Received frames are handed up by calling netdev_rx (one
 * contiguous frame) or netdev_rx_frags (a frame in pieces) from a kernel thread of the
 * driver (its interrupt handler only wakes that thread), so the stack never runs in
 * interrupt context; the frame is copied before the call returns, unless the driver
 * lends its buffers and the stack keeps them (netdev_rx_frags). Link changes are
 * reported with netdev_link. Counters are kept by the driver in nd->stats (64-bit, only
 * ever increasing).
 *
 * Large frames. A device that segments TCP itself (TSO: gso_max > ETH_FRAME_MAX) takes,
 * through xmit_frags, one IPv4 TCP segment of up to gso_max bytes with the payload size
 * of each wire frame (gso_size); what reaches the wire is ordinary frames of at most
 * mtu + 14 bytes. A device that coalesces received TCP segments (rx_max >
 * ETH_FRAME_MAX) may hand up IPv4 TCP segments of up to rx_max bytes; such a frame's
 * IP total length covers the whole segment and its TCP checksum is vouched for by the
 * device (rx_csum_checked is then set). */
#ifndef DRIVERS_NETDEV_H
#define DRIVERS_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETDEV_MAX 8
#define NETDEV_NAME_MAX 8
#define ETH_ALEN 6
#define ETH_FRAME_MAX 1514     /* without FCS */
#define NETDEV_FRAME_BIG 65535 /* largest segmented or coalesced frame (a pbuf's reach) */

struct netdev;

/* One piece of a frame. */
struct netdev_frag {
	const void *data;
	size_t len;
	uint32_t loan; /* received: 1 + the driver's buffer number if it lends it; 0: not */
};

/* What the device is to do to a transmitted frame. */
struct netdev_tx_meta {
	uint16_t csum_start, csum_offset; /* as for xmit; 0/0 = none */
	uint16_t gso_size;		  /* TCP payload bytes per wire frame; 0 = send as is */
	uint16_t hdr_len;		  /* Ethernet + IP + TCP header bytes (with gso_size) */
};

struct netdev_ops {
	/* Queue one Ethernet frame (len <= ETH_FRAME_MAX); 0 or -EAGAIN when full. When
	 * csum_offload is set the stack may leave TCP/UDP checksums for the device, and
	 * csum_start/csum_offset (from the start of the frame) say where: 0/0 = none. */
	int (*xmit)(struct netdev *nd, const void *frame, size_t len, uint16_t csum_start,
		    uint16_t csum_offset);
	/* Optional: queue one frame of `len` bytes given as n pieces (len <= ETH_FRAME_MAX,
	 * or <= gso_max with meta->gso_size set); 0, -EAGAIN when the ring is full, -EINVAL
	 * for a frame it cannot take. The pieces are copied before it returns. */
	int (*xmit_frags)(struct netdev *nd, const struct netdev_frag *f, int n, size_t len,
			  const struct netdev_tx_meta *meta);
	/* Optional (with rx_loans): the stack is done with a lent receive buffer (the
	 * piece's loan); from any thread, never from interrupt context. */
	void (*rx_return)(struct netdev *nd, uint32_t loan);
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
	uint32_t gso_max;     /* largest TCP segment xmit_frags segments; 0: no TSO */
	uint32_t rx_max;      /* largest frame handed up (0 means ETH_FRAME_MAX) */
	uint32_t rx_loans;    /* loans run from 1 to this (0: the driver never lends) */
	const struct netdev_ops *ops;
	void *priv; /* the driver's */
	struct netdev_stats stats;

	/* Set by the stack before the driver's first netdev_rx: one frame of len bytes in
	 * n pieces. True when it kept lent pieces (see netdev_rx_frags). */
	bool (*rx)(struct netdev *nd, const struct netdev_frag *f, int n, size_t len);
	void (*link_changed)(struct netdev *nd);
	void *stack; /* the stack's */
};

/* Name and record a ready device; -ENOSPC beyond NETDEV_MAX. */
int netdev_register(struct netdev *nd);
int netdev_count(void);
struct netdev *netdev_get(int i);
/* From a driver's receive thread: hand one frame up (copied before it returns). */
void netdev_rx(struct netdev *nd, const void *frame, size_t len);
/* The same for a frame in n pieces of len bytes in all. When the driver lends every
 * piece (loan != 0) the stack may keep them instead of copying: then it returns true,
 * and the driver leaves those buffers alone until rx_return hands each back (which
 * may happen before this returns). False: the pieces were copied, or dropped. */
bool netdev_rx_frags(struct netdev *nd, const struct netdev_frag *f, int n, size_t len);
/* From a driver: the link went up or down. */
void netdev_link(struct netdev *nd, bool up);

#endif
