/* netif.c: the glue between NIC drivers (drivers/netdev.h) and lwIP: one lwIP netif
 * per netdev.
 *
 * Receive: the driver's receive thread calls nd->rx, which posts the frame to the
 * tcpip thread's mailbox (tcpip_input) as a pbuf chain: over the driver's own buffers
 * when it lends them (custom pbufs, one per piece, whose last pbuf_free hands the
 * buffer back through rx_return, from whichever thread frees it), or else copied into
 * PBUF_POOL buffers. Neither step blocks: when the pool or the mailbox is exhausted the
 * frame is dropped and counted (lwIP's LINK_STATS and port_rx_nobuf), and TCP recovers
 * it. A driver lends only while it keeps enough buffers for the device, so a reader
 * that holds data for long slows nothing but itself.
 *
 * Transmit: lwIP calls linkoutput with the core lock held. A driver with xmit_frags gets
 * the pbuf chain as pieces and copies them straight into its ring; for one with only
 * xmit, one staging buffer per interface flattens a chain (a single pbuf goes without
 * the copy). A full ring is reported to lwIP as ERR_MEM, which leaves a TCP segment
 * queued for the next try.
 *
 * Large segments (a device with TSO and receive coalescing, i.e. virtio-net on a host
 * tap): per-segment work, not bytes, is what a node spends its time on, so both
 * directions move up to 64 KiB per trip through lwIP, as Linux does with TSO and GRO.
 *   - Receive: the device hands up TCP segments coalesced by the host; lwIP takes a
 *     segment of any size that fits its window (TCP_WND, scaled). port_tcp_inpacket
 *     acknowledges each at once, as for the two full-sized segments it stands for.
 *   - Transmit: port_tcp_inpacket raises an established IPv4 connection's segment size
 *     (pcb->mss) from TCP_MSS to TSO_SEGS * TCP_MSS when the peer's MSS allowed the
 *     full TCP_MSS. lwIP then queues, sends and retransmits 64 KiB segments, and
 *     tso_meta tells the device to cut each into frames of TCP_MSS payload bytes, which
 *     is exactly what the connection would have sent: the wire sees ordinary
 *     1500-byte frames. The interface's MTU is the device's largest segment, so that
 *     lwIP's IP layer does not fragment them; ip4_out fragments everything else at the
 *     real MTU, and IPv6 keeps the real MTU (mtu6).
 *   Connections over other devices (e1000), IPv6, and peers with a smaller MSS are
 *   left as they are.
 *
 * Checksums (NETIF_CHECKSUM_CTRL per interface): when the device verified receive
 * checksums (rx_csum_checked) lwIP skips its TCP/UDP checks. When the device fills in
 * transmit checksums (tx_csum_offload) lwIP leaves TCP's to it, and linkoutput puts the
 * pseudo-header sum (over the whole segment, which is what a device that segments
 * expects too) in the field and tells the driver where the segment starts, as virtio
 * and Intel NICs require. UDP checksums stay in software: IP fragments a large datagram
 * after the checksum, and a device cannot sum a datagram split over frames. (TCP is
 * never fragmented: MSS fits the MTU, or the device segments.) lwIP zeroes a segment's
 * checksum field each time it sends it, so rewriting the field in the pbuf is safe on
 * retransmission. */
#include "lwip/netif.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "drivers/netdev.h"
#include "kernel/config.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/selftest.h"
#include "kernel/time.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip4_frag.h"
#include "lwip/pbuf.h"
#include "lwip/snmp.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "net/lwip/hooks.h"
#include "net/lwip/port.h"
#include "netif/ethernet.h"

#define NS_PER_MS 1000000ULL
#define IP4_BITS 32
#define IP4_PROTO_OFF 9	     /* protocol byte in the IPv4 header */
#define IP4_LEN_OFF 2	     /* total length */
#define IP4_FRAG_OFF 6	     /* flags and fragment offset */
#define IP4_FRAG_MASK 0x3fff /* more-fragments flag and offset: a fragment */
#define IP4_ADDRS_OFF 12     /* source, then destination address */
#define IP4_ADDRS_LEN 8
#define IP6_NEXT_OFF 6 /* next header in the IPv6 header (TCP: no extension headers) */
#define IP6_PLEN_OFF 4 /* payload length */
#define IP6_ADDRS_OFF 8
#define IP6_ADDRS_LEN 32
#define TCP_CSUM_OFF 16 /* checksum field in the TCP header */
#define TCP_MIN_HLEN 20
#define TCP_DOFF_OFF 12 /* data offset (header length in words) */
#define IP4_VHL_V4 4	/* version nibble of an IPv4 header */
/* Pieces of a frame handed to xmit_frags: a 64 KiB segment of lwiperf's 1460-byte
 * writes is 46 pbufs. A longer chain is copied into one pbuf first. */
#define TX_FRAGS_MAX 64
/* A TCP connection whose every segment may go out as one 64 KiB segment for the device
 * to cut (see port_tcp_inpacket): this many wire segments. 44 x 1460 bytes plus headers
 * stays below a pbuf's 65535 bytes. */
#define TSO_SEGS 44

/* A receive buffer the driver lent, wrapped as a pbuf whose last free hands it back. */
struct loan {
	struct pbuf_custom pc;
	struct netdev *nd;
	uint32_t loan;
};

struct nd_if {
	struct netif netif;
	struct loan *loans; /* one per loan number the driver may use (nd->rx_loans) */
	struct netdev *nd;
	bool dhcp;
	bool has_dns;
	struct net_ip4 dns;
	uint64_t up_ns;				/* when the interface was brought up */
	volatile bool bound;			/* its IPv4 address is set (and logged) */
	uint8_t tx[ETH_FRAME_MAX];		/* linkoutput's staging buffer (core lock held) */
	struct netdev_frag frags[TX_FRAGS_MAX]; /* linkoutput's, for xmit_frags */
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

static void loan_free(struct pbuf *p)
{
	struct loan *l = (struct loan *)p;
	l->nd->ops->rx_return(l->nd, l->loan);
}

/* The frame as a chain of pbufs over the driver's own buffers: no copy. */
static struct pbuf *borrow(struct nd_if *ni, const struct netdev_frag *f, int n)
{
	struct pbuf *head = NULL;
	for (int i = 0; i < n; i++) {
		struct loan *l = &ni->loans[f[i].loan - 1];
		l->nd = ni->nd;
		l->loan = f[i].loan;
		l->pc.custom_free_function = loan_free;
		struct pbuf *q = pbuf_alloced_custom(PBUF_RAW, (u16_t)f[i].len, PBUF_REF, &l->pc,
						     (void *)f[i].data, (u16_t)f[i].len);
		if (!head)
			head = q;
		else
			pbuf_cat(head, q);
	}
	return head;
}

static bool lendable(struct nd_if *ni, const struct netdev_frag *f, int n)
{
	if (!ni->loans)
		return false;
	for (int i = 0; i < n; i++)
		if (f[i].loan == 0 || f[i].loan > ni->nd->rx_loans || f[i].len > NETDEV_FRAME_BIG)
			return false;
	return true;
}

/* nd->rx, from the driver's receive thread. */
static bool rx_frame(struct netdev *nd, const struct netdev_frag *f, int n, size_t len)
{
	struct nd_if *ni = nd->stack;
	size_t max = nd->rx_max ? nd->rx_max : ETH_FRAME_MAX;
	if (len > max || len > NETDEV_FRAME_BIG || len < SIZEOF_ETH_HDR || n < 1 ||
	    f[0].len < SIZEOF_ETH_HDR) {
		count_rx_drop(false);
		return false;
	}
	bool kept = lendable(ni, f, n);
	struct pbuf *p;
	if (kept) {
		p = borrow(ni, f, n);
	} else {
		p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
		if (!p) {
			count_rx_drop(true);
			return false;
		}
		size_t off = 0;
		for (int i = 0; i < n; i++) {
			pbuf_take_at(p, f[i].data, (u16_t)f[i].len, (u16_t)off);
			off += f[i].len;
		}
	}
	if (ni->netif.input(p, &ni->netif) != ERR_OK) {
		pbuf_free(p); /* hands lent buffers back */
		count_rx_drop(true);
	}
	return kept;
}

static uint16_t be16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }

/* For a TCP segment the device will checksum: store the folded pseudo-header sum in its
 * checksum field, and where the device sums from (the TCP header) and where it puts
 * the result (relative to that). False when the frame is not TCP over IP. */
static bool tcp_csum_prepare(uint8_t *f, size_t hlen, size_t len, uint16_t *start, uint16_t *off)
{
	if (hlen < SIZEOF_ETH_HDR + IP_HLEN)
		return false;
	const uint8_t *ip = f + SIZEOF_ETH_HDR;
	uint16_t type = be16(f + SIZEOF_ETH_HDR - 2);
	size_t l4, l4len;
	uint32_t sum = IP_PROTO_TCP;
	const uint8_t *addrs;
	size_t addrs_len;
	if (type == ETHTYPE_IP && ip[IP4_PROTO_OFF] == IP_PROTO_TCP &&
	    !(be16(ip + IP4_FRAG_OFF) & IP4_FRAG_MASK)) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4, total = be16(ip + IP4_LEN_OFF);
		if (total < ihl)
			return false;
		l4 = SIZEOF_ETH_HDR + ihl;
		l4len = total - ihl;
		addrs = ip + IP4_ADDRS_OFF;
		addrs_len = IP4_ADDRS_LEN;
	} else if (type == ETHTYPE_IPV6 && hlen >= SIZEOF_ETH_HDR + IP6_HLEN &&
		   ip[IP6_NEXT_OFF] == IP_PROTO_TCP) {
		l4 = SIZEOF_ETH_HDR + IP6_HLEN;
		l4len = be16(ip + IP6_PLEN_OFF);
		addrs = ip + IP6_ADDRS_OFF;
		addrs_len = IP6_ADDRS_LEN;
	} else {
		return false;
	}
	if (l4len < TCP_MIN_HLEN || l4 + l4len > len || l4 + TCP_MIN_HLEN > hlen)
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

/* A TCP segment too big for one frame (it comes from a connection port_tcp_inpacket
 * enlarged): what the device needs to cut it into frames of the real MTU. The headers
 * are in the first pbuf, as lwIP builds them. False when it is not IPv4 TCP. */
static bool tso_meta(struct netdev *nd, struct pbuf *p, struct netdev_tx_meta *m)
{
	const uint8_t *f = p->payload;
	if (p->len < SIZEOF_ETH_HDR + IP_HLEN || be16(f + SIZEOF_ETH_HDR - 2) != ETHTYPE_IP)
		return false;
	const uint8_t *ip = f + SIZEOF_ETH_HDR;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	if (ip[0] >> 4 != IP4_VHL_V4 || ip[IP4_PROTO_OFF] != IP_PROTO_TCP ||
	    p->len < SIZEOF_ETH_HDR + ihl + TCP_MIN_HLEN)
		return false;
	size_t thl = (size_t)(ip[ihl + TCP_DOFF_OFF] >> 4) * 4;
	size_t hdr = SIZEOF_ETH_HDR + ihl + thl;
	/* Each wire segment carries what a TCP_MSS connection would (the peer accepts
	 * that: only such connections are enlarged), and fits the real MTU. */
	size_t mss = LWIP_MIN(TCP_MSS + TCP_MIN_HLEN, nd->mtu - ihl) - thl;
	if (thl < TCP_MIN_HLEN || p->len < hdr || p->tot_len <= hdr || mss == 0)
		return false;
	m->gso_size = (uint16_t)mss;
	m->hdr_len = (uint16_t)hdr;
	return true;
}

static err_t link_output(struct netif *netif, struct pbuf *p)
{
	struct nd_if *ni = netif->state;
	struct netdev *nd = ni->nd;
	struct netdev_tx_meta meta = {0};
	bool big = p->tot_len > ETH_FRAME_MAX;
	if (big && !(nd->gso_max && p->tot_len <= nd->gso_max && nd->ops->xmit_frags &&
		     tso_meta(nd, p, &meta))) {
		LINK_STATS_INC(link.lenerr);
		LINK_STATS_INC(link.drop);
		return ERR_IF;
	}
	/* lwIP builds a TCP segment's headers in its first pbuf, so the checksum set-up
	 * works on that alone; any other chain is made one pbuf first (a UDP datagram
	 * behind a header pbuf, say), as the device needs the frame whole to find them. */
	struct pbuf *f = p, *flat = NULL;
	if (nd->tx_csum_offload && !tcp_csum_prepare(f->payload, f->len, f->tot_len,
						     &meta.csum_start, &meta.csum_offset)) {
		meta.csum_start = meta.csum_offset = 0;
		if (p->next && !big) {
			f = flat = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
			if (!flat) {
				LINK_STATS_INC(link.memerr);
				return ERR_MEM;
			}
			if (!tcp_csum_prepare(f->payload, f->len, f->tot_len, &meta.csum_start,
					      &meta.csum_offset))
				meta.csum_start = meta.csum_offset = 0;
		}
	}
	if (big && !meta.csum_offset) {
		LINK_STATS_INC(link.drop);
		return ERR_IF;
	}
	int rc;
	if (nd->ops->xmit_frags) {
		int n = 0;
		for (struct pbuf *q = f; q && n < TX_FRAGS_MAX; q = q->next)
			ni->frags[n++] = (struct netdev_frag){q->payload, q->len, 0};
		if (n == TX_FRAGS_MAX && pbuf_clen(f) > TX_FRAGS_MAX) {
			f = flat = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
			if (!flat) {
				LINK_STATS_INC(link.memerr);
				return ERR_MEM;
			}
			ni->frags[0] = (struct netdev_frag){f->payload, f->len, 0};
			n = 1;
		}
		rc = nd->ops->xmit_frags(nd, ni->frags, n, f->tot_len, &meta);
	} else {
		uint8_t *frame = f->payload;
		if (f->next) {
			pbuf_copy_partial(f, ni->tx, f->tot_len, 0);
			frame = ni->tx;
		}
		rc = nd->ops->xmit(nd, frame, f->tot_len, meta.csum_start, meta.csum_offset);
	}
	if (flat)
		pbuf_free(flat);
	if (rc < 0) {
		LINK_STATS_INC(link.drop);
		return rc == -EAGAIN ? ERR_MEM : ERR_IF;
	}
	LINK_STATS_INC(link.xmit);
	return ERR_OK;
}

/* netif->output for IPv4 on a device that segments TCP: the interface's MTU is the
 * device's largest segment, so that lwIP's IP layer passes big TCP segments down
 * whole; anything else bigger than the real MTU is fragmented here, at the real MTU,
 * by lwIP's own ip4_frag (which comes back through this function with each piece). */
static err_t ip4_out(struct netif *netif, struct pbuf *p, const ip4_addr_t *next)
{
	struct nd_if *ni = netif->state;
	uint16_t mtu = ni->nd->mtu;
	if (p->tot_len <= mtu ||
	    (p->len >= IP_HLEN && IPH_PROTO((struct ip_hdr *)p->payload) == IP_PROTO_TCP))
		return etharp_output(netif, p, next);
	uint16_t big = netif->mtu;
	netif->mtu = mtu;
	err_t err = ip4_frag(p, netif, next);
	netif->mtu = big;
	return err;
}

/* The MTU IPv6 uses: always the real one (lwIP resets it to netif->mtu at times). */
static void set_mtu6(struct nd_if *ni)
{
#if LWIP_ND6_ALLOW_RA_UPDATES
	ni->netif.mtu6 = LWIP_MIN(ni->netif.mtu6, ni->nd->mtu);
#endif
}

/* Is this the interface of a device that segments TCP? */
static bool netif_tso(const struct netif *netif)
{
	return netif && netif->linkoutput == link_output &&
	       ((struct nd_if *)netif->state)->nd->gso_max > ETH_FRAME_MAX;
}

err_t port_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
			u8_t *opt2, struct pbuf *p)
{
	/* Listening and TIME-WAIT pcbs come here too, as other structures: only state is
	 * common to all. */
	if (pcb->state != ESTABLISHED && pcb->state != CLOSE_WAIT)
		return ERR_OK;
	/* A segment the device coalesced from several: acknowledge it at once, as for two
	 * full ones (lwIP counts segments, and would otherwise delay the ACK of a lone
	 * 64 KiB segment by up to a timer tick, stalling a sender whose window it fills). */
	if (p->tot_len > TCP_MSS)
		tcp_set_flags(pcb, TF_ACK_DELAY);
	/* Enlarge the segments of a connection whose peer takes full-sized ones over a
	 * device that segments TCP: lwIP then builds (and retransmits) up to 64 KiB per
	 * segment, and the device cuts them into frames of TCP_MSS bytes (tso_meta).
	 * The congestion window is kept at least one such segment, or a segment larger
	 * than it could wait forever with nothing in flight. IPv4 only (HOST_TSO4). */
	if (pcb->mss == TCP_MSS && IP_IS_V4_VAL(pcb->remote_ip) &&
	    netif_tso(ip_current_input_netif())) {
		pcb->mss = TSO_SEGS * TCP_MSS;
		if (pcb->cwnd < pcb->mss)
			pcb->cwnd = pcb->mss;
		if (pcb->ssthresh < pcb->mss)
			pcb->ssthresh = pcb->mss;
	}
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
	/* See ip4_out. */
	if (nd->gso_max > ETH_FRAME_MAX)
		netif->mtu = (u16_t)(nd->gso_max - SIZEOF_ETH_HDR);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		       NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
	netif->output = nd->gso_max > ETH_FRAME_MAX ? ip4_out : etharp_output;
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
	set_mtu6(ni);
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
	if (nd->rx_loans && nd->ops->rx_return) {
		ni->loans = kzalloc(sizeof *ni->loans * nd->rx_loans);
		if (!ni->loans)
			kwarn("net: %s: no memory to borrow receive buffers; copying", nd->name);
	}

	LOCK_TCPIP_CORE();
	ni->up_ns = time_ns();
	if (!nifs)
		netif_add_ext_callback(&ext_cb, ext_status);
	struct netif *n = netif_add(&ni->netif, &addr, &mask, &gw, ni, if_init, tcpip_input);
	if (!n) {
		UNLOCK_TCPIP_CORE();
		return -ENOMEM;
	}
	set_mtu6(ni);
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
	CHECK(tcp_csum_prepare(f, len, len, &start, &off));
	CHECK(start == l4 && off == TCP_CSUM_OFF);
	u16_t got = inet_chksum(f + start, (u16_t)(len - start)); /* the device's part */
	CHECK(got == want);
	/* Not TCP: left alone. */
	ip[v6 ? IP6_NEXT_OFF : IP4_PROTO_OFF] = IP_PROTO_UDP;
	CHECK(!tcp_csum_prepare(f, len, len, &start, &off));
	return 0;
}

SELFTEST(netif_tcp_csum_offload)
{
	CHECK(csum_case(false) == 0);
	CHECK(csum_case(true) == 0);
	return 0;
}

/* A segment of an enlarged connection: tso_meta finds its headers and cuts it into
 * frames that carry what a TCP_MSS connection's would, within the real MTU (less
 * with TCP options); anything else is no segment for the device to cut. */
#define TSO_TEST_DATA 3000
#define TSO_TEST_OPTS 12

static int tso_case(size_t opts, uint8_t proto, bool want, uint16_t want_mss)
{
	size_t hdr = SIZEOF_ETH_HDR + IP_HLEN + TCP_MIN_HLEN + opts;
	struct pbuf *h = pbuf_alloc(PBUF_RAW, (u16_t)hdr, PBUF_RAM);
	struct pbuf *d = pbuf_alloc(PBUF_RAW, TSO_TEST_DATA, PBUF_ROM);
	CHECK(h && d);
	static const uint8_t data[TSO_TEST_DATA];
	d->payload = (void *)data;
	uint8_t *f = h->payload;
	memset(f, 0, hdr);
	f[SIZEOF_ETH_HDR - 2] = ETHTYPE_IP >> 8;
	uint8_t *ip = f + SIZEOF_ETH_HDR;
	ip[0] = 0x45;
	ip[IP4_PROTO_OFF] = proto;
	ip[IP_HLEN + TCP_DOFF_OFF] = (uint8_t)(((TCP_MIN_HLEN + opts) / 4) << 4);
	pbuf_cat(h, d);
	struct netdev nd = {.mtu = 1500};
	struct netdev_tx_meta m = {0};
	bool got = tso_meta(&nd, h, &m);
	pbuf_free(h);
	CHECK(got == want);
	CHECK(!want || (m.gso_size == want_mss && m.hdr_len == hdr));
	return 0;
}

SELFTEST(netif_tso_meta)
{
	CHECK(tso_case(0, IP_PROTO_TCP, true, TCP_MSS) == 0);
	CHECK(tso_case(TSO_TEST_OPTS, IP_PROTO_TCP, true, TCP_MSS - TSO_TEST_OPTS) == 0);
	CHECK(tso_case(0, IP_PROTO_UDP, false, 0) == 0);
	return 0;
}
