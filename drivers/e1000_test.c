/* e1000_test.c: self-test of the e1000 driver on the first e1000 present (none: skipped).
 *
 * Checks that the registers read back what probe programmed (and the EEPROM the MAC),
 * that the link is up, and that real frames make the round trip: an ARP request for
 * 10.0.2.2 must bring an ARP reply within a second, and 512 of them (twice around both
 * rings) 512 replies. That address is the gateway of QEMU's user networking
 * (`-netdev user`), which answers ARP itself; on any other network the ARP checks fail,
 * so boot `selftest` with an e1000 only on user networking. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "drivers/e1000.h"
#include "drivers/netdev.h"
#include "kernel/selftest.h"
#include "kernel/sync.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/vmm.h"

#define NS_PER_MS 1000000UL
#define LINK_WAIT_MS 2000
#define ARP_WAIT_MS 1000
#define XMIT_RETRY_MS 1
#define LAPS 2	 /* times around the rings */
#define CHUNK 64 /* requests in flight: well under a receive ring */
/* QEMU's e1000 model holds received frames back for one second after each RCTL write. */
#define QEMU_RCTL_HOLD_MS 1000

#define ETH_HLEN 14
#define ETH_P_ARP 0x0806
#define ETH_P_IP 0x0800
#define ARP_HTYPE_ETHER 1
#define ARP_REQUEST 1
#define ARP_REPLY 2
#define ARP_LEN 28
#define ETH_ZLEN 60 /* minimum frame without FCS */

/* QEMU user networking: the gateway, and the address its DHCP gives the first guest. */
static const uint8_t gw_ip[4] = {10, 0, 2, 2};
static const uint8_t my_ip[4] = {10, 0, 2, 15};

static struct sem got_reply;
static volatile bool replied;
static volatile int nreplies;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static size_t arp_request(uint8_t *f, const uint8_t *mac)
{
	memset(f, 0, ETH_ZLEN);
	memset(f, 0xff, ETH_ALEN);
	memcpy(f + ETH_ALEN, mac, ETH_ALEN);
	put16(f + 2 * ETH_ALEN, ETH_P_ARP);
	uint8_t *a = f + ETH_HLEN;
	put16(a, ARP_HTYPE_ETHER);
	put16(a + 2, ETH_P_IP);
	a[4] = ETH_ALEN;
	a[5] = sizeof(my_ip);
	put16(a + 6, ARP_REQUEST);
	memcpy(a + 8, mac, ETH_ALEN);
	memcpy(a + 14, my_ip, sizeof(my_ip));
	memcpy(a + 24, gw_ip, sizeof(gw_ip)); /* target hardware address (18..23) stays 0 */
	return ETH_ZLEN;
}

/* Runs in the driver's worker thread for every received frame. */
static void tap(struct e1000 *e, const void *frame, size_t len)
{
	const uint8_t *f = frame;
	if (len < ETH_HLEN + ARP_LEN || get16(f + 2 * ETH_ALEN) != ETH_P_ARP)
		return;
	const uint8_t *a = f + ETH_HLEN;
	if (get16(a + 6) != ARP_REPLY || memcmp(a + 14, gw_ip, sizeof(gw_ip)) ||
	    memcmp(a + 18, e->nd.mac, ETH_ALEN) || memcmp(f, e->nd.mac, ETH_ALEN))
		return;
	nreplies++;
	if (!replied) {
		replied = true;
		sem_signal(&got_reply);
	}
}

SELFTEST(e1000)
{
	struct e1000 *e = e1000_get(0);
	if (!e) {
		kinfo("e1000 selftest: no e1000 present, checks skipped");
		return 0;
	}
	struct netdev *nd = &e->nd;

	/* Registers read back what probe wrote. */
	uint32_t status = e1000_rd(e, E1000_STATUS);
	CHECK(status != 0xffffffffu);
	CHECK(e1000_rd(e, E1000_RCTL) & E1000_RCTL_EN);
	CHECK(e1000_rd(e, E1000_TCTL) & E1000_TCTL_EN);
	CHECK(e1000_rd(e, E1000_RDBAL) == (uint32_t)V2P((const void *)e->rx));
	CHECK(e1000_rd(e, E1000_TDLEN) == E1000_TX_RING * sizeof(struct e1000_tx_desc));
	uint32_t ral = e1000_rd(e, E1000_RAL0), rah = e1000_rd(e, E1000_RAH0);
	CHECK(rah & E1000_RAH_AV);
	for (int i = 0; i < 4; i++)
		CHECK(nd->mac[i] == (uint8_t)(ral >> (8 * i)));
	CHECK(nd->mac[4] == (uint8_t)rah && nd->mac[5] == (uint8_t)(rah >> 8));
	CHECK(nd->name[0] != 0 && e->vector >= 0);
	/* The EEPROM holds the MAC in words 0..2 (the fallback when RAL reads 0). */
	for (unsigned i = 0; i < 3; i++) {
		uint16_t w;
		CHECK(e1000_eeprom_read(e, i, &w) == 0);
		CHECK(w == (nd->mac[2 * i] | nd->mac[2 * i + 1] << 8));
	}

	/* Link: QEMU's model reports it up once autonegotiation has finished. */
	uint64_t deadline = time_ns() + LINK_WAIT_MS * NS_PER_MS;
	while (!(e1000_rd(e, E1000_STATUS) & E1000_STATUS_LU) && time_ns() < deadline)
		thread_sleep_ns(NS_PER_MS);
	CHECK(e1000_rd(e, E1000_STATUS) & E1000_STATUS_LU);

	/* A round trip through both rings and the interrupt path. */
	uint64_t hold_end = e->rx_on_ns + QEMU_RCTL_HOLD_MS * NS_PER_MS;
	uint64_t now = time_ns();
	if (now < hold_end)
		thread_sleep_ns(hold_end - now);
	kinfo("e1000 selftest: %s: ARP request to 10.0.2.2, expecting QEMU user networking "
	      "(-netdev user) to answer",
	      nd->name);
	sem_init(&got_reply, 0);
	replied = false;
	uint64_t tx0 = nd->stats.tx_packets, rx0 = nd->stats.rx_packets, irqs0 = e->irqs;
	__atomic_store_n(&e->tap, tap, __ATOMIC_RELEASE);
	uint8_t frame[ETH_ZLEN];
	size_t len = arp_request(frame, nd->mac);
	int err;
	deadline = time_ns() + ARP_WAIT_MS * NS_PER_MS;
	while ((err = nd->ops->xmit(nd, frame, len, 0, 0)) == -EAGAIN && time_ns() < deadline)
		thread_sleep_ns(XMIT_RETRY_MS * NS_PER_MS);
	uint64_t start = time_ns();
	int waited = err ? err : sem_wait(&got_reply, ARP_WAIT_MS * NS_PER_MS);
	uint64_t took = time_ns() - start;
	__atomic_store_n(&e->tap, NULL, __ATOMIC_RELEASE);
	CHECK(err == 0);
	CHECK(waited == 0 && replied);
	kinfo("e1000 selftest: %s: ARP reply from 10.0.2.2 after %lu us", nd->name, took / 1000);
	/* The worker may hand up the reply before it recycles the request's descriptor. */
	deadline = time_ns() + ARP_WAIT_MS * NS_PER_MS;
	while (nd->stats.tx_packets == tx0 && time_ns() < deadline)
		thread_sleep_ns(NS_PER_MS);
	CHECK(nd->stats.tx_packets > tx0);
	CHECK(nd->stats.rx_packets > rx0);
	CHECK(e->irqs > irqs0);

	/* Twice around both rings, in chunks the receive ring can hold: every request is
	 * transmitted and every reply received. A full transmit ring refuses with -EAGAIN
	 * (counted in tx_dropped) rather than blocking. */
	uint64_t drop0 = nd->stats.tx_dropped;
	tx0 = nd->stats.tx_packets;
	nreplies = 0;
	__atomic_store_n(&e->tap, tap, __ATOMIC_RELEASE);
	int sent = 0, refused = 0;
	while (sent < LAPS * E1000_RX_RING) {
		for (int i = 0; i < CHUNK; i++) {
			deadline = time_ns() + ARP_WAIT_MS * NS_PER_MS;
			while ((err = nd->ops->xmit(nd, frame, len, 0, 0)) == -EAGAIN &&
			       time_ns() < deadline) {
				refused++;
				thread_sleep_ns(XMIT_RETRY_MS * NS_PER_MS);
			}
			if (err)
				break;
			sent++;
		}
		deadline = time_ns() + ARP_WAIT_MS * NS_PER_MS;
		while (nreplies < sent && time_ns() < deadline)
			thread_sleep_ns(NS_PER_MS);
		if (err || nreplies < sent)
			break;
	}
	deadline = time_ns() + ARP_WAIT_MS * NS_PER_MS;
	while (nd->stats.tx_packets < tx0 + sent && time_ns() < deadline)
		thread_sleep_ns(NS_PER_MS);
	__atomic_store_n(&e->tap, NULL, __ATOMIC_RELEASE);
	kinfo("e1000 selftest: %s: %d requests (%d refused while full), %lu transmitted, %d "
	      "replies; %lu interrupts since boot",
	      nd->name, sent, refused, nd->stats.tx_packets - tx0, nreplies, e->irqs);
	CHECK(err == 0);
	/* At least: the stack may be sending (and ARPing the gateway) meanwhile. */
	CHECK(sent == LAPS * E1000_RX_RING && nreplies >= sent);
	CHECK(nd->stats.tx_packets >= tx0 + sent);
	CHECK(nd->stats.tx_dropped >= drop0 + refused);
	return 0;
}
