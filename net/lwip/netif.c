/* netif.c: the glue between NIC drivers (drivers/netdev.h) and lwIP: one lwIP netif
 * per netdev.
 *
 * Receive: the driver's receive thread calls nd->rx, which copies the frame into a
 * chain of PBUF_POOL buffers and posts it to the tcpip thread's mailbox (tcpip_input).
 * Neither step blocks: when the pool or the mailbox is exhausted the frame is dropped
 * and counted (lwIP's LINK_STATS and port_rx_nobuf), and TCP recovers it.
 *
 * Transmit: lwIP calls linkoutput with the core lock held, so one staging buffer per
 * interface is enough to flatten a pbuf chain into the single frame xmit takes; a
 * single pbuf goes to the driver without the copy. A full ring is reported to lwIP as
 * ERR_MEM, which leaves a TCP segment queued for the next try.
 *
 * Checksums (NETIF_CHECKSUM_CTRL per interface): when the device verified receive
 * checksums (rx_csum_checked) lwIP skips its TCP/UDP checks. When the device fills in
 * transmit checksums (tx_csum_offload) lwIP leaves TCP's to it, and linkoutput puts the
 * pseudo-header sum in the field and tells the driver where the segment starts, as
 * virtio and Intel NICs require. UDP checksums stay in software: lwIP fragments large
 * datagrams after the checksum, and a device cannot sum a datagram split over frames.
 * (TCP is never fragmented: MSS fits the MTU.) lwIP zeroes a segment's checksum field
 * each time it sends it, so rewriting the field in the pbuf is safe on retransmission. */
#include "lwip/netif.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "drivers/netdev.h"
#include "kernel/config.h"
#include "kernel/log.h"
#include "kernel/selftest.h"
#include "kernel/time.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/inet_chksum.h"
#include "lwip/pbuf.h"
#include "lwip/snmp.h"
#include "lwip/stats.h"
#include "lwip/tcpip.h"
#include "net/lwip/port.h"
#include "netif/ethernet.h"

#define NS_PER_MS 1000000ULL
#define IP4_BITS 32
#define IP4_PROTO_OFF 9	 /* protocol byte in the IPv4 header */
#define IP4_LEN_OFF 2	 /* total length */
#define IP4_ADDRS_OFF 12 /* source, then destination address */
#define IP4_ADDRS_LEN 8
#define IP6_NEXT_OFF 6 /* next header in the IPv6 header (TCP: no extension headers) */
#define IP6_PLEN_OFF 4 /* payload length */
#define IP6_ADDRS_OFF 8
#define IP6_ADDRS_LEN 32
#define TCP_CSUM_OFF 16 /* checksum field in the TCP header */
#define TCP_MIN_HLEN 20

struct nd_if {
	struct netif netif;
	struct netdev *nd;
	bool dhcp;
	bool has_dns;
	struct net_ip4 dns;
	uint64_t up_ns;		   /* when the interface was brought up */
	volatile bool bound;	   /* its IPv4 address is set (and logged) */
	uint8_t tx[ETH_FRAME_MAX]; /* linkoutput's staging buffer (core lock held) */
};

static struct nd_if ifs[NETDEV_MAX];
static int nifs;
static uint64_t rx_nobuf;
static netif_ext_callback_t ext_cb;

int port_netif_count(void) { return __atomic_load_n(&nifs, __ATOMIC_ACQUIRE); }

int port_netif_bound(void)
{
	int n = 0;
	for (int i = 0; i < port_netif_count(); i++)
		n += ifs[i].bound;
	return n;
}

uint64_t port_rx_nobuf(void) { return __atomic_load_n(&rx_nobuf, __ATOMIC_RELAXED); }

static void count_rx_drop(bool nobuf)
{
	SYS_ARCH_DECL_PROTECT(lev);
	SYS_ARCH_PROTECT(lev);
	LINK_STATS_INC(link.drop);
	if (nobuf)
		LINK_STATS_INC(link.memerr);
	SYS_ARCH_UNPROTECT(lev);
	if (nobuf)
		__atomic_fetch_add(&rx_nobuf, 1, __ATOMIC_RELAXED);
}

/* nd->rx, from the driver's receive thread. */
static void rx_frame(struct netdev *nd, const void *frame, size_t len)
{
	struct nd_if *ni = nd->stack;
	if (len > ETH_FRAME_MAX || len < SIZEOF_ETH_HDR) {
		count_rx_drop(false);
		return;
	}
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (!p) {
		count_rx_drop(true);
		return;
	}
	pbuf_take(p, frame, (u16_t)len);
	if (ni->netif.input(p, &ni->netif) != ERR_OK) {
		pbuf_free(p);
		count_rx_drop(true);
	}
}

static uint16_t be16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }

/* For a TCP segment the device will checksum: store the folded pseudo-header sum in its
 * checksum field, and where the device sums from (the TCP header) and where it puts
 * the result (relative to that). False when the frame is not TCP over IP. */
static bool tcp_csum_prepare(uint8_t *f, size_t len, uint16_t *start, uint16_t *off)
{
	if (len < SIZEOF_ETH_HDR + IP_HLEN)
		return false;
	const uint8_t *ip = f + SIZEOF_ETH_HDR;
	uint16_t type = be16(f + SIZEOF_ETH_HDR - 2);
	size_t l4, l4len;
	uint32_t sum = IP_PROTO_TCP;
	const uint8_t *addrs;
	size_t addrs_len;
	if (type == ETHTYPE_IP && ip[IP4_PROTO_OFF] == IP_PROTO_TCP) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4, total = be16(ip + IP4_LEN_OFF);
		if (total < ihl)
			return false;
		l4 = SIZEOF_ETH_HDR + ihl;
		l4len = total - ihl;
		addrs = ip + IP4_ADDRS_OFF;
		addrs_len = IP4_ADDRS_LEN;
	} else if (type == ETHTYPE_IPV6 && len >= SIZEOF_ETH_HDR + IP6_HLEN &&
		   ip[IP6_NEXT_OFF] == IP_PROTO_TCP) {
		l4 = SIZEOF_ETH_HDR + IP6_HLEN;
		l4len = be16(ip + IP6_PLEN_OFF);
		addrs = ip + IP6_ADDRS_OFF;
		addrs_len = IP6_ADDRS_LEN;
	} else {
		return false;
	}
	if (l4len < TCP_MIN_HLEN || l4 + l4len > len)
		return false;
	for (size_t i = 0; i < addrs_len; i += 2)
		sum += be16(addrs + i);
	sum += (uint32_t)l4len;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[l4 + TCP_CSUM_OFF] = (uint8_t)(sum >> 8);
	f[l4 + TCP_CSUM_OFF + 1] = (uint8_t)sum;
	*start = (uint16_t)l4;
	*off = TCP_CSUM_OFF;
	return true;
}

static err_t link_output(struct netif *netif, struct pbuf *p)
{
	struct nd_if *ni = netif->state;
	struct netdev *nd = ni->nd;
	if (p->tot_len > ETH_FRAME_MAX) {
		LINK_STATS_INC(link.lenerr);
		LINK_STATS_INC(link.drop);
		return ERR_IF;
	}
	uint8_t *frame = p->payload;
	if (p->next) {
		pbuf_copy_partial(p, ni->tx, p->tot_len, 0);
		frame = ni->tx;
	}
	uint16_t start = 0, off = 0;
	if (nd->tx_csum_offload && !tcp_csum_prepare(frame, p->tot_len, &start, &off))
		start = off = 0;
	if (nd->ops->xmit(nd, frame, p->tot_len, start, off) < 0) {
		LINK_STATS_INC(link.drop);
		return ERR_MEM;
	}
	LINK_STATS_INC(link.xmit);
	return ERR_OK;
}

static err_t if_init(struct netif *netif)
{
	struct nd_if *ni = netif->state;
	struct netdev *nd = ni->nd;
	netif->name[0] = 'e';
	netif->name[1] = 't';
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, nd->mac, ETH_HWADDR_LEN);
	netif->mtu = nd->mtu;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		       NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = link_output;
	/* DHCP sends it (option 12), so the server's leases name the node. */
	netif_set_hostname(netif, config.name[0] ? config.name : NULL);
	u16_t csum = NETIF_CHECKSUM_ENABLE_ALL;
	if (nd->rx_csum_checked)
		csum &= ~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
	if (nd->tx_csum_offload)
		csum &= ~NETIF_CHECKSUM_GEN_TCP;
	NETIF_SET_CHECKSUM_CTRL(netif, csum);
	return ERR_OK;
}

/* Core lock held (a tcpip callback): log the address line once it is bound, and put a
 * dns= server in place of DHCP's. (A DHCP renewal that lists servers again replaces it;
 * only the first binding is overridden.) */
static void check_bound(struct nd_if *ni)
{
	const ip4_addr_t *a = netif_ip4_addr(&ni->netif);
	if (ni->bound || ip4_addr_isany(a))
		return;
	if (ni->has_dns) {
		ip_addr_t d;
		IP_ADDR4(&d, ni->dns.a[0], ni->dns.a[1], ni->dns.a[2], ni->dns.a[3]);
		dns_setserver(0, &d);
	}
	uint32_t mask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&ni->netif)));
	int prefix = mask ? IP4_BITS - __builtin_ctz(mask) : 0;
	uint64_t ms = (time_ns() - ni->up_ns) / NS_PER_MS;
	char addr[IP4ADDR_STRLEN_MAX];
	ip4addr_ntoa_r(a, addr, sizeof addr);
	kinfo("net: %s %s/%d via %s in %lu ms", ni->nd->name, addr, prefix,
	      ni->dhcp ? "dhcp" : "static", (unsigned long)ms);
	__atomic_store_n(&ni->bound, true, __ATOMIC_RELEASE);
}

static void ext_status(struct netif *netif, netif_nsc_reason_t reason,
		       const netif_ext_callback_args_t *args)
{
	if (netif->linkoutput != link_output)
		return; /* the loopback interface */
	if (reason & (LWIP_NSC_IPV4_ADDRESS_CHANGED | LWIP_NSC_IPV4_SETTINGS_CHANGED))
		check_bound(netif->state);
}

/* tcpip callback: carry a driver's link change into lwIP. */
static void link_apply(void *arg)
{
	struct nd_if *ni = arg;
	kdebug("net: %s link %s after %lu ms", ni->nd->name, ni->nd->link_up ? "up" : "down",
	       (unsigned long)((time_ns() - ni->up_ns) / NS_PER_MS));
	if (ni->nd->link_up)
		netif_set_link_up(&ni->netif);
	else
		netif_set_link_down(&ni->netif);
}

/* nd->link_changed, from the driver (any context): never blocks. */
static void link_changed(struct netdev *nd)
{
	if (tcpip_try_callback(link_apply, nd->stack) != ERR_OK)
		kwarn("net: %s: link change to %s lost (no memory)", nd->name,
		      nd->link_up ? "up" : "down");
}

int port_netif_attach(struct netdev *nd, const struct net_ip_config *ip, const struct net_ip4 *dns)
{
	if (nifs == NETDEV_MAX)
		return -ENOSPC;
	struct nd_if *ni = &ifs[nifs];
	memset(ni, 0, sizeof *ni);
	ni->nd = nd;
	ni->dhcp = ip->dhcp;
	if (dns) {
		ni->has_dns = true;
		ni->dns = *dns;
	}
	ip4_addr_t addr, mask, gw;
	ip4_addr_set_zero(&addr);
	ip4_addr_set_zero(&mask);
	ip4_addr_set_zero(&gw);
	if (!ip->dhcp) {
		IP4_ADDR(&addr, ip->addr.a[0], ip->addr.a[1], ip->addr.a[2], ip->addr.a[3]);
		ip4_addr_set_u32(
			&mask, lwip_htonl(ip->prefix ? 0xffffffffu << (IP4_BITS - ip->prefix) : 0));
		if (ip->has_gw)
			IP4_ADDR(&gw, ip->gw.a[0], ip->gw.a[1], ip->gw.a[2], ip->gw.a[3]);
	}
	nd->stack = ni;

	LOCK_TCPIP_CORE();
	ni->up_ns = time_ns();
	if (!nifs)
		netif_add_ext_callback(&ext_cb, ext_status);
	struct netif *n = netif_add(&ni->netif, &addr, &mask, &gw, ni, if_init, tcpip_input);
	if (!n) {
		UNLOCK_TCPIP_CORE();
		return -ENOMEM;
	}
	/* Frames and link changes may flow from here on: the netif exists. A link change
	 * from now on queues link_apply, which reads nd->link_up again after this. */
	__atomic_store_n(&nd->link_changed, link_changed, __ATOMIC_RELEASE);
	__atomic_store_n(&nd->rx, rx_frame, __ATOMIC_RELEASE);
	__atomic_store_n(&nifs, nifs + 1, __ATOMIC_RELEASE);
	if (nifs == 1)
		netif_set_default(n);
	netif_set_up(n);
	if (nd->link_up)
		netif_set_link_up(n);
	netif_create_ip6_linklocal_address(n, 1);
	netif_set_ip6_autoconfig_enabled(n, 1);
	if (ip->dhcp)
		dhcp_start(n);
	else
		check_bound(ni);
	UNLOCK_TCPIP_CORE();
	return 0;
}

/* Transmit checksum offload: the pseudo-header sum tcp_csum_prepare leaves, completed
 * the way a device does (the ones' complement sum from csum_start, stored at
 * csum_offset), must give the checksum lwIP computes in software, for IPv4 and IPv6
 * and an odd-length payload. */
#define CSUM_TEST_PAYLOAD 33

static int csum_case(bool v6)
{
	static uint8_t f[SIZEOF_ETH_HDR + IP6_HLEN + TCP_MIN_HLEN + CSUM_TEST_PAYLOAD];
	size_t iphl = v6 ? IP6_HLEN : IP_HLEN, seg = TCP_MIN_HLEN + CSUM_TEST_PAYLOAD;
	size_t len = SIZEOF_ETH_HDR + iphl + seg, l4 = SIZEOF_ETH_HDR + iphl;
	memset(f, 0, sizeof f);
	uint16_t type = v6 ? ETHTYPE_IPV6 : ETHTYPE_IP;
	f[SIZEOF_ETH_HDR - 2] = (uint8_t)(type >> 8);
	f[SIZEOF_ETH_HDR - 1] = (uint8_t)type;
	uint8_t *ip = f + SIZEOF_ETH_HDR;
	for (size_t i = 0; i < (v6 ? IP6_ADDRS_LEN : IP4_ADDRS_LEN); i++)
		ip[(v6 ? IP6_ADDRS_OFF : IP4_ADDRS_OFF) + i] = (uint8_t)(0xf0 + i * 13);
	if (v6) {
		ip[0] = 0x60;
		ip[IP6_PLEN_OFF + 1] = (uint8_t)seg;
		ip[IP6_NEXT_OFF] = IP_PROTO_TCP;
	} else {
		ip[0] = 0x45;
		ip[IP4_LEN_OFF + 1] = (uint8_t)(iphl + seg);
		ip[IP4_PROTO_OFF] = IP_PROTO_TCP;
	}
	for (size_t i = 0; i < seg; i++)
		f[l4 + i] = (uint8_t)(i * 37 + 11);
	f[l4 + TCP_CSUM_OFF] = f[l4 + TCP_CSUM_OFF + 1] = 0;

	/* What lwIP would have written. */
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)seg, PBUF_RAM);
	CHECK(p);
	pbuf_take(p, f + l4, (u16_t)seg);
	ip_addr_t src, dst;
	if (v6) {
		IP_ADDR6(&src, 0, 0, 0, 0);
		IP_ADDR6(&dst, 0, 0, 0, 0);
		memcpy(ip_2_ip6(&src)->addr, ip + IP6_ADDRS_OFF, IP6_ADDRS_LEN / 2);
		memcpy(ip_2_ip6(&dst)->addr, ip + IP6_ADDRS_OFF + IP6_ADDRS_LEN / 2,
		       IP6_ADDRS_LEN / 2);
	} else {
		IP_ADDR4(&src, 0, 0, 0, 0);
		IP_ADDR4(&dst, 0, 0, 0, 0);
		memcpy(&ip_2_ip4(&src)->addr, ip + IP4_ADDRS_OFF, IP4_ADDRS_LEN / 2);
		memcpy(&ip_2_ip4(&dst)->addr, ip + IP4_ADDRS_OFF + IP4_ADDRS_LEN / 2,
		       IP4_ADDRS_LEN / 2);
	}
	u16_t want = ip_chksum_pseudo(p, IP_PROTO_TCP, (u16_t)seg, &src, &dst);
	pbuf_free(p);

	uint16_t start = 0, off = 0;
	CHECK(tcp_csum_prepare(f, len, &start, &off));
	CHECK(start == l4 && off == TCP_CSUM_OFF);
	u16_t got = inet_chksum(f + start, (u16_t)(len - start)); /* the device's part */
	CHECK(got == want);
	/* Not TCP: left alone. */
	ip[v6 ? IP6_NEXT_OFF : IP4_PROTO_OFF] = IP_PROTO_UDP;
	CHECK(!tcp_csum_prepare(f, len, &start, &off));
	return 0;
}

SELFTEST(netif_tcp_csum_offload)
{
	CHECK(csum_case(false) == 0);
	CHECK(csum_case(true) == 0);
	return 0;
}
