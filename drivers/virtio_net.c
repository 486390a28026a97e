/* virtio_net.c: the virtio network device (PCI 1af4:1000 transitional, 1af4:1041 modern)
 * behind the netdev interface.
 *
 * Two queues, receive (0) and transmit (1). Every descriptor owns one pre-allocated
 * buffer (its number names the buffer), so no allocation happens per frame. Each frame
 * starts with the 12-byte virtio_net_hdr (VERSION_1 always has num_buffers).
 *
 * Receive: with VIRTIO_NET_F_MRG_RXBUF a frame may fill several buffers (4 KiB each
 * when frames can be big): the header's num_buffers says how many used entries it
 * takes, and the frame goes up as that many pieces (netdev_rx_frags). That lets the device
 * hand over TCP segments coalesced up to 64 KiB (VIRTIO_NET_F_GUEST_TSO4: QEMU passes
 * on what the host's stack built, instead of cutting it into 1500-byte frames), which
 * the stack takes as one segment: one trip through it per 64 KiB instead of per 1.5.
 * Otherwise the buffers are 2 KiB, one frame each; without MRG_RXBUF, GUEST_TSO4 is not
 * asked for (it would need 64 KiB buffers). A frame's buffers are lent to the stack
 * rather than copied from (loans in netdev.h): they come back through rx_return, from
 * whichever thread frees the data, and go straight back on the ring; the ring's
 * available side is under rxlock for that. A quarter of the ring is never lent, so the
 * device always has buffers to fill however long a reader holds data; past that the
 * stack copies.
 *
 * Transmit: the frame is copied into as many 2 KiB buffers as it needs, chained by
 * their descriptors' NEXT links; the free descriptors are a stack. With
 * VIRTIO_NET_F_HOST_TSO4 a frame may be one IPv4 TCP segment of up to 64 KiB with a
 * gso_size, which the device (QEMU, then the host's tap) cuts into wire-sized frames.
 *
 * Interrupts (MSI-X: one entry for configuration changes, one per queue; or a single
 * MSI-X/INTx vector for all) only note what happened and wake the device's kernel
 * thread. That thread hands received frames to netdev_rx and re-posts their buffers,
 * recycles transmit buffers the device has finished with, and follows link changes.
 * xmit runs on the caller's thread under the transmit lock: it recycles too, so a
 * sender never waits for the thread, and returns -EAGAIN when too few buffers are free.
 * Transmit completions raise no interrupt (VIRTQ_AVAIL_F_NO_INTERRUPT): xmit's own
 * recycling is enough, and the interrupt cost a thread wake-up per frame sent.
 *
 * Checksums: with VIRTIO_NET_F_CSUM the stack may leave TCP/UDP checksums to the device
 * (it must then put the pseudo-header sum in the checksum field, as virtio requires).
 * With VIRTIO_NET_F_GUEST_CSUM a received frame is either DATA_VALID (the device checked
 * it), NEEDS_CSUM (a partial checksum from a local sender: completed here for single
 * frames; a coalesced segment is taken as it is, its data never having left memory, as
 * the Linux driver does), or neither (e.g. from QEMU's user network), in which case the
 * TCP/UDP checksum is verified here; so every frame handed up can be trusted, which is
 * what rx_csum_checked promises. The IP header checksum is never covered. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drivers/netdev.h"
#include "drivers/pci.h"
#include "drivers/virtio.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/pmm.h"
#include "kernel/selftest.h"
#include "kernel/spinlock.h"
#include "kernel/sync.h"
#include "kernel/thread.h"
#include "kernel/vmm.h"

/* Feature bits */
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_MAC 5
#define F_GUEST_TSO4 7
#define F_HOST_TSO4 11
#define F_MRG_RXBUF 15
#define F_STATUS 16

/* Device configuration */
#define CFG_MAC 0
#define CFG_STATUS 6
#define S_LINK_UP 1

/* virtio_net_hdr */
#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define HDR_GSO_NONE 0
#define HDR_GSO_TCPV4 1

struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

#define QUEUE_RX 0
#define QUEUE_TX 1
#define RING_MAX 256
#define TX_BUF 2048	  /* one transmit descriptor's buffer */
#define RX_BUF_SMALL 2048 /* a receive buffer: one whole frame (no MRG_RXBUF) */
#define RX_BUF_MRG 4096	  /* a receive buffer when frames may span several */
/* Pieces of one received frame: a 64 KiB segment in 4 KiB buffers, with room. */
#define RX_FRAGS_MAX 20
/* Receive buffers never lent (a quarter of the ring): the device always has these to
 * fill, however long the stack holds the rest; past that, frames are copied. */
#define RX_KEEP_DIV 4
#define MTU 1500
#define MAX_VNETS NETDEV_MAX
#define IRQ_CPU 0 /* pci_irq_setup aims every interrupt at the boot CPU */

/* MSI-X table entries when there are enough of them */
enum { ENTRY_CONFIG, ENTRY_RX, ENTRY_TX, NENTRIES };

struct vnet {
	struct netdev nd;
	struct virtio_dev vd;
	struct virtq rx, tx;
	uint8_t *rxbuf, *txbuf;
	uint64_t rxbuf_size, txbuf_size;
	struct spinlock rxlock; /* the receive ring's available side (buffers come back
				 * from any thread, rx_return) */
	int lent;		/* receive buffers the stack holds */
	uint32_t rx_buf;	/* bytes per receive buffer */
	bool mrg;		/* MRG_RXBUF: frames may span receive buffers */
	uint16_t *txfree;	/* stack of free transmit descriptors */
	int ntxfree;
	struct spinlock txlock;
	struct sem wake;
	int pending;	 /* an interrupt came since the thread last looked */
	int cfg_pending; /* configuration may have changed */
	int irq_mode, nvec;
	int vectors[NENTRIES];
};

static struct vnet *vnets[MAX_VNETS];
static int nvnets;

/* ---- checksums (RFC 1071 ones' complement sums, big-endian words) ---- */

#define ETH_HLEN 14
#define ETH_TYPE_OFF 12
#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_VLAN 0x8100
#define VLAN_HLEN 4
#define IPV4_MIN_HLEN 20
#define IPV4_TOTLEN 2
#define IPV4_FRAG 6
#define IPV4_FRAG_MASK 0x3fff /* more-fragments flag and offset */
#define IPV4_PROTO 9
#define IPV4_SRC 12
#define IPV6_HLEN 40
#define IPV6_PLEN 4
#define IPV6_NEXT 6
#define IPV6_SRC 8
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define UDP_CSUM_OFF 6

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (; n > 1; p += 2, n -= 2)
		acc += be16(p);
	if (n)
		acc += (uint32_t)p[0] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* Finish a partial checksum: the sum from start to the end goes into start + offset. */
static bool complete_csum(uint8_t *f, size_t len, uint16_t start, uint16_t offset)
{
	if (start >= len || (size_t)start + offset + 2 > len)
		return false;
	uint16_t c = (uint16_t)~fold(sum16(f + start, len - start, 0));
	f[start + offset] = (uint8_t)(c >> 8);
	f[start + offset + 1] = (uint8_t)c;
	return true;
}

/* Whether a frame's TCP or UDP checksum is right. Frames this cannot judge (not IP,
 * fragments, IPv6 extension headers, malformed lengths) pass: the stack sorts those. */
static bool l4_csum_ok(const uint8_t *f, size_t len)
{
	size_t off = ETH_HLEN;
	if (len < ETH_HLEN)
		return true;
	uint16_t type = be16(f + ETH_TYPE_OFF);
	if (type == ETH_P_VLAN && len >= ETH_HLEN + VLAN_HLEN) {
		type = be16(f + ETH_TYPE_OFF + VLAN_HLEN);
		off += VLAN_HLEN;
	}
	const uint8_t *ip = f + off;
	uint32_t acc;
	size_t l4len;
	uint8_t proto;
	if (type == ETH_P_IPV4) {
		if (len < off + IPV4_MIN_HLEN)
			return true;
		size_t ihl = (ip[0] & 0xf) * 4u, tot = be16(ip + IPV4_TOTLEN);
		if (ihl < IPV4_MIN_HLEN || tot < ihl || off + tot > len ||
		    (be16(ip + IPV4_FRAG) & IPV4_FRAG_MASK))
			return true;
		proto = ip[IPV4_PROTO];
		l4len = tot - ihl;
		acc = sum16(ip + IPV4_SRC, 8, 0);
		ip += ihl;
	} else if (type == ETH_P_IPV6) {
		if (len < off + IPV6_HLEN)
			return true;
		l4len = be16(ip + IPV6_PLEN);
		proto = ip[IPV6_NEXT];
		if (off + IPV6_HLEN + l4len > len)
			return true;
		acc = sum16(ip + IPV6_SRC, 32, 0);
		acc += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
		ip += IPV6_HLEN;
	} else {
		return true;
	}
	if (proto != IP_PROTO_TCP && proto != IP_PROTO_UDP)
		return true;
	if (proto == IP_PROTO_UDP && type == ETH_P_IPV4 && l4len >= UDP_CSUM_OFF + 2 &&
	    be16(ip + UDP_CSUM_OFF) == 0)
		return true; /* IPv4 UDP without a checksum */
	acc += proto + (uint32_t)l4len;
	return fold(sum16(ip, l4len, acc)) == 0xffff;
}

/* ---- receive and transmit ---- */

static void post_rx(struct vnet *v, uint16_t id) { virtq_push(&v->rx, id); }

/* Whether a received frame may go up: its checksum can be trusted (see the top). */
static bool rx_csum_ok(struct vnet *v, struct net_hdr *h, uint8_t *frame, size_t flen, int n)
{
	if (!v->nd.rx_csum_checked || (h->flags & HDR_F_DATA_VALID))
		return true;
	if (h->flags & HDR_F_NEEDS_CSUM)
		return n > 1 || h->gso_type != HDR_GSO_NONE ||
		       complete_csum(frame, flen, h->csum_start, h->csum_offset);
	/* Only a coalesced segment spans buffers, and the device marks every one. */
	return n == 1 && l4_csum_ok(frame, flen);
}

static void receive(struct vnet *v)
{
	uint32_t id, len;
	int posted = 0;
	while (virtq_pop(&v->rx, &id, &len)) {
		if (id >= v->rx.size)
			continue; /* a device bug: nothing sensible to re-post */
		uint8_t *buf = v->rxbuf + (size_t)id * v->rx_buf;
		struct net_hdr *h = (struct net_hdr *)buf;
		uint16_t ids[RX_FRAGS_MAX];
		struct netdev_frag f[RX_FRAGS_MAX];
		bool ok = len > sizeof *h && len <= v->rx_buf;
		int want = v->mrg && ok ? h->num_buffers : 1, n = 1;
		size_t flen = ok ? len - sizeof *h : 0;
		ids[0] = (uint16_t)id;
		f[0].data = buf + sizeof *h;
		f[0].len = flen;
		if (want < 1 || want > RX_FRAGS_MAX) {
			ok = false; /* a device bug: the frame's other buffers look like frames */
			want = 1;
		}
		/* The rest of the frame's buffers are in the used ring already: the device
		 * publishes a frame's entries together. */
		for (; n < want; n++) {
			if (!virtq_pop(&v->rx, &id, &len) || id >= v->rx.size) {
				ok = false;
				break;
			}
			if (len > v->rx_buf) {
				ok = false;
				len = 0;
			}
			ids[n] = (uint16_t)id;
			f[n].data = v->rxbuf + (size_t)id * v->rx_buf;
			f[n].len = len;
			flen += len;
		}
		if (ok && flen > (v->nd.rx_max ? v->nd.rx_max : ETH_FRAME_MAX))
			ok = false;
		if (ok)
			ok = rx_csum_ok(v, h, buf + sizeof *h, f[0].len, n);
		bool kept = false;
		if (ok) {
			v->nd.stats.rx_packets++;
			v->nd.stats.rx_bytes += flen;
			/* Lend the buffers while enough stay with the device; counted as
			 * lent first, since they may come back before netdev_rx_frags
			 * returns. */
			bool lend = v->nd.rx_loans &&
				    __atomic_add_fetch(&v->lent, n, __ATOMIC_RELAXED) <=
					    v->rx.size - v->rx.size / RX_KEEP_DIV;
			for (int i = 0; i < n; i++)
				f[i].loan = lend ? ids[i] + 1u : 0;
			kept = netdev_rx_frags(&v->nd, f, n, flen);
			if (!kept && v->nd.rx_loans)
				__atomic_sub_fetch(&v->lent, n, __ATOMIC_RELAXED);
		} else {
			v->nd.stats.rx_errors++;
		}
		if (!kept) {
			spin_lock(&v->rxlock);
			for (int i = 0; i < n; i++)
				post_rx(v, ids[i]);
			spin_unlock(&v->rxlock);
			posted += n;
		}
	}
	if (posted) {
		spin_lock(&v->rxlock);
		virtq_publish(&v->rx);
		virtq_kick(&v->rx);
		spin_unlock(&v->rxlock);
	}
}

/* ops->rx_return: the stack is done with a lent receive buffer; the device gets it
 * back at once. */
static void vnet_rx_return(struct netdev *nd, uint32_t loan)
{
	struct vnet *v = nd->priv;
	if (loan == 0 || loan > v->rx.size)
		return;
	spin_lock(&v->rxlock);
	post_rx(v, (uint16_t)(loan - 1));
	virtq_publish(&v->rx);
	virtq_kick(&v->rx);
	spin_unlock(&v->rxlock);
	__atomic_sub_fetch(&v->lent, 1, __ATOMIC_RELAXED);
}

/* Take back transmit buffers the device is done with: each used head starts a chain.
 * Caller holds txlock. */
static void reclaim_tx(struct vnet *v)
{
	uint32_t id, len;
	while (virtq_pop(&v->tx, &id, &len)) {
		/* The chain is ours (the device never writes descriptors): bounded by the
		 * ring size all the same. */
		for (int i = 0; id < v->tx.size && v->ntxfree < v->tx.size && i < v->tx.size; i++) {
			v->txfree[v->ntxfree++] = (uint16_t)id;
			if (!(v->tx.desc[id].flags & VIRTQ_DESC_F_NEXT))
				break;
			id = v->tx.desc[id].next;
		}
	}
}

static int vnet_xmit_frags(struct netdev *nd, const struct netdev_frag *f, int nf, size_t len,
			   const struct netdev_tx_meta *meta)
{
	struct vnet *v = nd->priv;
	bool gso = meta && meta->gso_size;
	size_t sum = 0;
	for (int i = 0; i < nf; i++)
		sum += f[i].len;
	if (len == 0 || sum != len || len > (gso ? nd->gso_max : ETH_FRAME_MAX) ||
	    (gso && (!meta->csum_offset || meta->hdr_len >= len))) {
		nd->stats.tx_errors++;
		return -EINVAL;
	}
	size_t total = sizeof(struct net_hdr) + len;
	int need = (int)((total + TX_BUF - 1) / TX_BUF);
	spin_lock(&v->txlock);
	if (v->ntxfree < need)
		reclaim_tx(v);
	if (v->ntxfree < need) {
		nd->stats.tx_dropped++;
		spin_unlock(&v->txlock);
		return -EAGAIN;
	}
	uint16_t head = v->txfree[v->ntxfree - 1];
	struct net_hdr *h = (struct net_hdr *)(v->txbuf + (size_t)head * TX_BUF);
	memset(h, 0, sizeof *h);
	h->gso_type = HDR_GSO_NONE;
	if (nd->tx_csum_offload && meta && meta->csum_offset) {
		h->flags = HDR_F_NEEDS_CSUM;
		h->csum_start = meta->csum_start;
		h->csum_offset = meta->csum_offset;
	}
	if (gso) {
		h->gso_type = HDR_GSO_TCPV4;
		h->gso_size = meta->gso_size;
		h->hdr_len = meta->hdr_len;
	}
	/* Fill the chain buffer by buffer; the header already sits in the first. */
	uint16_t prev = 0;
	int fi = 0;
	size_t foff = 0;
	for (int k = 0; k < need; k++) {
		uint16_t id = v->txfree[--v->ntxfree];
		uint8_t *dst = v->txbuf + (size_t)id * TX_BUF;
		size_t used = k == 0 ? sizeof *h : 0, room = TX_BUF - used;
		while (room && fi < nf) {
			size_t c = f[fi].len - foff < room ? f[fi].len - foff : room;
			memcpy(dst + used, (const uint8_t *)f[fi].data + foff, c);
			used += c;
			room -= c;
			foff += c;
			if (foff == f[fi].len) {
				fi++;
				foff = 0;
			}
		}
		v->tx.desc[id].len = (uint32_t)used;
		v->tx.desc[id].flags = 0;
		if (k > 0) {
			v->tx.desc[prev].flags = VIRTQ_DESC_F_NEXT;
			v->tx.desc[prev].next = id;
		}
		prev = id;
	}
	virtq_push(&v->tx, head);
	virtq_publish(&v->tx);
	virtq_kick(&v->tx);
	nd->stats.tx_packets++;
	nd->stats.tx_bytes += len;
	spin_unlock(&v->txlock);
	return 0;
}

static int vnet_xmit(struct netdev *nd, const void *frame, size_t len, uint16_t csum_start,
		     uint16_t csum_offset)
{
	const struct netdev_frag f = {frame, len, 0};
	const struct netdev_tx_meta m = {.csum_start = csum_start, .csum_offset = csum_offset};
	return vnet_xmit_frags(nd, &f, 1, len, &m);
}

static const struct netdev_ops vnet_ops = {
	.xmit = vnet_xmit, .xmit_frags = vnet_xmit_frags, .rx_return = vnet_rx_return};

static bool link_status(struct vnet *v)
{
	if (!virtio_has(&v->vd, F_STATUS))
		return true;
	uint16_t s;
	virtio_cfg_read(&v->vd, CFG_STATUS, &s, sizeof s);
	return s & S_LINK_UP;
}

static void worker(void *arg)
{
	struct vnet *v = arg;
	for (;;) {
		sem_wait(&v->wake, 0);
		__atomic_store_n(&v->pending, 0, __ATOMIC_SEQ_CST);
		if (__atomic_exchange_n(&v->cfg_pending, 0, __ATOMIC_SEQ_CST)) {
			bool up = link_status(v);
			if (up != v->nd.link_up) {
				kinfo("net: %s link %s", v->nd.name, up ? "up" : "down");
				netdev_link(&v->nd, up);
			}
		}
		receive(v);
		spin_lock(&v->txlock);
		reclaim_tx(v);
		spin_unlock(&v->txlock);
	}
}

static void wake(struct vnet *v, bool cfg)
{
	if (cfg)
		__atomic_store_n(&v->cfg_pending, 1, __ATOMIC_SEQ_CST);
	/* One signal per batch: the thread clears pending before it drains. */
	if (!__atomic_exchange_n(&v->pending, 1, __ATOMIC_SEQ_CST))
		sem_signal(&v->wake);
}

static void vnet_irq(struct trapframe *tf)
{
	int vec = (int)tf->vector;
	for (int i = 0; i < nvnets; i++) {
		struct vnet *v = vnets[i];
		if (v->irq_mode == PCI_IRQ_MSIX) {
			for (int j = 0; j < v->nvec; j++)
				if (v->vectors[j] == vec)
					wake(v, v->nvec == 1 || j == ENTRY_CONFIG);
		} else if (v->nvec && v->vectors[0] == vec) {
			uint8_t isr = virtio_isr(&v->vd); /* also lowers a level-triggered line */
			if (isr)
				wake(v, isr & VIRTIO_ISR_CONFIG);
		}
	}
	irq_eoi();
}

/* ---- bring-up ---- */

static const char *mode_name(int mode)
{
	return mode == PCI_IRQ_MSIX ? "msi-x" : mode == PCI_IRQ_MSI ? "msi" : "intx";
}

static int setup_irq(struct vnet *v)
{
	int mode = pci_irq_setup(v->vd.pci, NENTRIES, vnet_irq, v->vectors);
	v->nvec = NENTRIES;
	if (mode == -ENOSPC) {
		mode = pci_irq_setup(v->vd.pci, 1, vnet_irq, v->vectors);
		v->nvec = 1;
	}
	if (mode < 0) {
		v->nvec = 0;
		return mode;
	}
	v->irq_mode = mode;
	if (mode != PCI_IRQ_MSIX)
		return 0; /* virtio has no MSI: INTx, read through the ISR */
	bool split = v->nvec == NENTRIES;
	if (virtio_set_config_vector(&v->vd, ENTRY_CONFIG) < 0)
		return -EIO;
	int err = virtio_queue_setup(&v->vd, &v->rx, QUEUE_RX, RING_MAX,
				     split ? ENTRY_RX : ENTRY_CONFIG);
	if (!err)
		err = virtio_queue_setup(&v->vd, &v->tx, QUEUE_TX, RING_MAX,
					 split ? ENTRY_TX : ENTRY_CONFIG);
	return err;
}

static int setup_buffers(struct vnet *v)
{
	/* Small buffers unless frames can be big: MRG_RXBUF alone changes nothing then. */
	v->rx_buf = v->mrg && virtio_has(&v->vd, F_GUEST_TSO4) ? RX_BUF_MRG : RX_BUF_SMALL;
	v->rxbuf_size = (uint64_t)v->rx.size * v->rx_buf;
	v->txbuf_size = (uint64_t)v->tx.size * TX_BUF;
	v->rxbuf = pmm_alloc_kva(v->rxbuf_size);
	v->txbuf = pmm_alloc_kva(v->txbuf_size);
	v->txfree = kmalloc(sizeof *v->txfree * v->tx.size);
	if (!v->rxbuf || !v->txbuf || !v->txfree)
		return -ENOMEM;
	for (uint16_t i = 0; i < v->tx.size; i++) {
		v->tx.desc[i].addr = V2P(v->txbuf + (size_t)i * TX_BUF);
		v->tx.desc[i].flags = 0;
		v->txfree[v->ntxfree++] = (uint16_t)(v->tx.size - 1 - i);
	}
	for (uint16_t i = 0; i < v->rx.size; i++) {
		v->rx.desc[i].addr = V2P(v->rxbuf + (size_t)i * v->rx_buf);
		v->rx.desc[i].len = v->rx_buf;
		v->rx.desc[i].flags = VIRTQ_DESC_F_WRITE;
		post_rx(v, i);
	}
	/* No interrupt when the device is done with a transmit buffer: xmit takes back
	 * what it needs itself (reclaim_tx), so that interrupt would only wake the thread
	 * for nothing, once per frame sent. */
	v->tx.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_publish(&v->rx);
	return 0;
}

/* Undo a bring-up that failed before DRIVER_OK: the device has not started on its
 * queues, so their memory can go. */
static void release(struct vnet *v)
{
	virtio_fail(&v->vd);
	if (v->rx.mem)
		pmm_free_kva(v->rx.mem, v->rx.mem_size);
	if (v->tx.mem)
		pmm_free_kva(v->tx.mem, v->tx.mem_size);
	if (v->rxbuf)
		pmm_free_kva(v->rxbuf, v->rxbuf_size);
	if (v->txbuf)
		pmm_free_kva(v->txbuf, v->txbuf_size);
	kfree(v->txfree);
	memset(&v->rx, 0, sizeof v->rx);
	memset(&v->tx, 0, sizeof v->tx);
}

/* Checksum offload both ways, and segmentation offload both ways where its
 * prerequisites are there too: GUEST_TSO4 needs GUEST_CSUM (and, here, MRG_RXBUF, or
 * 64 KiB receive buffers), HOST_TSO4 needs CSUM. */
static uint64_t wanted_features(struct virtio_dev *vd)
{
	uint64_t offered = virtio_offered(vd);
	uint64_t f = 1UL << F_CSUM | 1UL << F_GUEST_CSUM | 1UL << F_MAC | 1UL << F_STATUS |
		     1UL << F_MRG_RXBUF;
	uint64_t guest_tso = 1UL << F_GUEST_CSUM | 1UL << F_MRG_RXBUF;
	if ((offered & guest_tso) == guest_tso)
		f |= 1UL << F_GUEST_TSO4;
	if (offered >> F_CSUM & 1)
		f |= 1UL << F_HOST_TSO4;
	return f;
}

static int vnet_probe(struct pci_dev *d)
{
	if (nvnets == MAX_VNETS || netdev_count() == NETDEV_MAX)
		return -ENOSPC;
	struct vnet *v = kzalloc(sizeof *v);
	if (!v)
		return -ENOMEM;
	spin_init(&v->txlock, "virtio-net-tx");
	spin_init(&v->rxlock, "virtio-net-rx");
	sem_init(&v->wake, 0);
	pci_enable(d);
	int err = virtio_pci_init(&v->vd, d);
	if (err == -ENODEV)
		kwarn("virtio-net: %02x:%02x.%x offers no virtio 1.x interface (legacy-only "
		      "devices are not supported)",
		      d->bus, d->dev, d->fn);
	if (!err)
		err = virtio_negotiate(&v->vd, wanted_features(&v->vd));
	bool listed = false;
	if (!err) {
		vnets[nvnets++] = v; /* the handler may run as soon as vectors exist */
		listed = true;
		err = setup_irq(v);
	}
	if (!err && v->irq_mode != PCI_IRQ_MSIX) {
		err = virtio_queue_setup(&v->vd, &v->rx, QUEUE_RX, RING_MAX, VIRTIO_NO_VECTOR);
		if (!err)
			err = virtio_queue_setup(&v->vd, &v->tx, QUEUE_TX, RING_MAX,
						 VIRTIO_NO_VECTOR);
	}
	v->mrg = virtio_has(&v->vd, F_MRG_RXBUF);
	if (!err)
		err = setup_buffers(v);
	if (err) {
		release(v);
		if (!listed) /* once listed, an interrupt handler may look at it: keep it */
			kfree(v);
		return err;
	}

	struct netdev *nd = &v->nd;
	nd->driver = "virtio-net";
	nd->mtu = MTU;
	nd->ops = &vnet_ops;
	nd->priv = v;
	nd->tx_csum_offload = virtio_has(&v->vd, F_CSUM);
	nd->rx_csum_checked = virtio_has(&v->vd, F_GUEST_CSUM);
	/* The largest segment: a pbuf's reach, with the transmit ring holding two. */
	if (virtio_has(&v->vd, F_HOST_TSO4) &&
	    (uint64_t)v->tx.size * TX_BUF >= 2 * (NETDEV_FRAME_BIG + sizeof(struct net_hdr)))
		nd->gso_max = NETDEV_FRAME_BIG;
	if (virtio_has(&v->vd, F_GUEST_TSO4))
		nd->rx_max = NETDEV_FRAME_BIG;
	nd->rx_loans = v->rx.size;
	if (virtio_has(&v->vd, F_MAC)) {
		virtio_cfg_read(&v->vd, CFG_MAC, nd->mac, ETH_ALEN);
	} else {
		/* Locally administered, unique per PCI location. */
		const uint8_t mac[ETH_ALEN] = {0x02, 0, (uint8_t)d->segment, d->bus, d->dev, d->fn};
		memcpy(nd->mac, mac, ETH_ALEN);
	}
	nd->link_up = link_status(v);
	virtio_driver_ok(&v->vd);
	virtq_kick(&v->rx);

	err = netdev_register(nd);
	if (err < 0) {
		virtio_fail(&v->vd);
		return err;
	}
	char tname[THREAD_NAME_MAX];
	snprintf(tname, sizeof tname, "%s-virtio", nd->name);
	/* On the CPU that takes its interrupts, so that waking it needs no IPI: halves the
	 * mean round trip under TCG (0.43 ms against 1.1 ms). */
	struct thread *t = thread_create(tname, worker, v, IRQ_CPU);
	if (!t) {
		kerror("net: %s: no memory for its thread; it will not receive", nd->name);
		return 0; /* registered already: keep it, transmit still works */
	}
	thread_start(t);
	/* Frames and completions that arrived before the thread existed. */
	wake(v, false);
	const uint8_t *m = nd->mac;
	kinfo("net: %s virtio-net %02x:%02x:%02x:%02x:%02x:%02x (%s%s%s%s%s)", nd->name, m[0], m[1],
	      m[2], m[3], m[4], m[5], mode_name(v->irq_mode), nd->link_up ? "" : ", link down",
	      nd->tx_csum_offload ? ", csum offload" : "", nd->gso_max ? ", tso" : "",
	      nd->rx_max ? ", lro" : "");
	return 0;
}

static const struct pci_id vnet_ids[] = {
	{VIRTIO_VENDOR, VIRTIO_NET_TRANSITIONAL_ID},
	{VIRTIO_VENDOR, VIRTIO_NET_MODERN_ID},
	{0, 0},
};

PCI_DRIVER(virtio_net, vnet_ids, vnet_probe);

SELFTEST(virtio_net_csum)
{
	/* An IPv4/UDP frame whose checksum is left partial, as a local sender with offload
	 * would hand it over: completing it must give a frame the verifier accepts. */
	static uint8_t f[ETH_HLEN + IPV4_MIN_HLEN + 8 + 5];
	const size_t len = sizeof f;
	memset(f, 0, len);
	f[ETH_TYPE_OFF] = ETH_P_IPV4 >> 8;
	uint8_t *ip = f + ETH_HLEN, *udp = ip + IPV4_MIN_HLEN;
	ip[0] = 0x45;
	ip[IPV4_TOTLEN + 1] = IPV4_MIN_HLEN + 8 + 5;
	ip[IPV4_PROTO] = IP_PROTO_UDP;
	const uint8_t addrs[8] = {10, 0, 2, 15, 10, 0, 2, 2};
	memcpy(ip + IPV4_SRC, addrs, sizeof addrs);
	udp[1] = 7;
	udp[3] = 7;
	udp[5] = 8 + 5;
	memcpy(udp + 8, "hello", 5);
	uint16_t pseudo = fold(sum16(addrs, 8, IP_PROTO_UDP + 8 + 5));
	udp[UDP_CSUM_OFF] = (uint8_t)(pseudo >> 8);
	udp[UDP_CSUM_OFF + 1] = (uint8_t)pseudo;
	CHECK(!l4_csum_ok(f, len));
	CHECK(complete_csum(f, len, ETH_HLEN + IPV4_MIN_HLEN, UDP_CSUM_OFF));
	CHECK(l4_csum_ok(f, len));
	udp[8] ^= 1;
	CHECK(!l4_csum_ok(f, len));
	udp[8] ^= 1;
	CHECK(!complete_csum(f, len, (uint16_t)len, 0)); /* out of the frame */
	CHECK(l4_csum_ok(f, 10));			 /* too short to judge: passes */
	return 0;
}

/* ---- rings without a device: what the driver puts on them and takes back ---- */

#define T_RING 8
static struct virtq_desc t_desc[T_RING];
static struct {
	uint16_t flags, idx, ring[T_RING];
} t_avail;
static struct {
	uint16_t flags, idx;
	struct virtq_used_elem ring[T_RING];
} t_used;
static uint16_t t_notify;
static uint8_t t_buf[T_RING * RX_BUF_MRG];
static size_t t_rx_len;
static int t_rx_n;

static void t_queue(struct virtq *q)
{
	memset(q, 0, sizeof *q);
	memset(t_desc, 0, sizeof t_desc);
	memset(&t_avail, 0, sizeof t_avail);
	memset(&t_used, 0, sizeof t_used);
	t_used.flags = VIRTQ_USED_F_NO_NOTIFY; /* no doorbell to ring */
	q->size = T_RING;
	q->desc = t_desc;
	q->avail = (volatile struct virtq_avail *)&t_avail;
	q->used = (volatile struct virtq_used *)&t_used;
	q->notify = &t_notify;
}

/* The device's side: it is done with (or wrote into) descriptor chain `head`. */
static void t_complete(uint16_t head, uint32_t len)
{
	t_used.ring[t_used.idx % T_RING] = (struct virtq_used_elem){head, len};
	t_used.idx++;
}

static bool t_keep;
static uint32_t t_loans[RX_FRAGS_MAX];

static bool t_rx(struct netdev *nd, const struct netdev_frag *f, int n, size_t len)
{
	t_rx_n = n;
	t_rx_len = len;
	for (int i = 0; i < n; i++) { /* the pieces are in order and add up */
		if (((const uint8_t *)f[i].data)[0] != (uint8_t)(0xa0 + i))
			t_rx_n = -1;
		t_loans[i] = f[i].loan;
	}
	return t_keep && f[0].loan;
}

SELFTEST(virtio_net_tx_chain)
{
	/* A 5000-byte frame in two pieces takes three 2 KiB buffers, chained, header
	 * first; the device's completion of the head returns all three. */
	static struct vnet v;
	memset(&v, 0, sizeof v);
	static uint16_t freel[T_RING];
	spin_init(&v.txlock, "t");
	t_queue(&v.tx);
	v.txbuf = t_buf;
	v.txfree = freel;
	for (uint16_t i = 0; i < T_RING; i++)
		v.txfree[v.ntxfree++] = i;
	v.nd.priv = &v;
	v.nd.gso_max = NETDEV_FRAME_BIG;
	v.nd.tx_csum_offload = true;
	static uint8_t a[3000], b[2000];
	memset(a, 1, sizeof a);
	memset(b, 2, sizeof b);
	const struct netdev_frag f[2] = {{a, sizeof a, 0}, {b, sizeof b, 0}};
	const struct netdev_tx_meta m = {34, 16, 1460, 54};
	CHECK(vnet_xmit_frags(&v.nd, f, 2, 5000, &m) == 0);
	CHECK(v.ntxfree == T_RING - 3 && t_avail.idx == 1);
	uint16_t head = t_avail.ring[0], id = head;
	size_t lens[3];
	for (int i = 0; i < 3; i++) {
		lens[i] = t_desc[id].len;
		CHECK((i < 2) == !!(t_desc[id].flags & VIRTQ_DESC_F_NEXT));
		id = t_desc[id].next;
	}
	CHECK(lens[0] == TX_BUF && lens[1] == TX_BUF &&
	      lens[2] == sizeof(struct net_hdr) + 5000 - 2 * TX_BUF);
	const struct net_hdr *h = (const struct net_hdr *)(t_buf + (size_t)head * TX_BUF);
	CHECK(h->gso_type == HDR_GSO_TCPV4 && h->gso_size == 1460 && h->hdr_len == 54 &&
	      h->flags == HDR_F_NEEDS_CSUM && h->csum_start == 34 && h->csum_offset == 16);
	CHECK(((const uint8_t *)(h + 1))[0] == 1);
	/* Too big for what is free, pieces that do not add up: refused, nothing taken. */
	static uint8_t big[6 * TX_BUF];
	const struct netdev_frag fb = {big, sizeof big, 0};
	CHECK(vnet_xmit_frags(&v.nd, &fb, 1, sizeof big, &m) == -EAGAIN);
	CHECK(vnet_xmit_frags(&v.nd, f, 2, 4000, &m) == -EINVAL);
	CHECK(v.ntxfree == T_RING - 3);
	t_complete(head, 0);
	spin_lock(&v.txlock);
	reclaim_tx(&v);
	spin_unlock(&v.txlock);
	CHECK(v.ntxfree == T_RING);
	return 0;
}

SELFTEST(virtio_net_rx_merge)
{
	/* A frame over three merged 4 KiB buffers goes up as three pieces, and all three
	 * are posted again; a frame whose num_buffers is out of range is an error. */
	static struct vnet v;
	memset(&v, 0, sizeof v);
	spin_init(&v.rxlock, "t");
	t_queue(&v.rx);
	v.rxbuf = t_buf;
	v.rx_buf = RX_BUF_MRG;
	v.mrg = true;
	v.nd.rx_max = NETDEV_FRAME_BIG;
	v.nd.rx_csum_checked = true;
	v.nd.rx = t_rx;
	uint16_t ids[3] = {5, 2, 7};
	for (int i = 0; i < 3; i++)
		t_buf[(size_t)ids[i] * RX_BUF_MRG + (i ? 0 : sizeof(struct net_hdr))] =
			(uint8_t)(0xa0 + i);
	struct net_hdr *h = (struct net_hdr *)(t_buf + (size_t)ids[0] * RX_BUF_MRG);
	memset(h, 0, sizeof *h);
	h->flags = HDR_F_NEEDS_CSUM;
	h->gso_type = HDR_GSO_TCPV4;
	h->num_buffers = 3;
	t_complete(ids[0], RX_BUF_MRG);
	t_complete(ids[1], RX_BUF_MRG);
	t_complete(ids[2], 100);
	t_rx_n = 0;
	receive(&v);
	CHECK(t_rx_n == 3 && t_rx_len == 2 * RX_BUF_MRG - sizeof *h + 100);
	CHECK(v.nd.stats.rx_packets == 1 && v.rx.avail_idx == 3);
	h->num_buffers = RX_FRAGS_MAX + 1;
	t_complete(ids[0], RX_BUF_MRG);
	t_rx_n = 0;
	receive(&v);
	CHECK(t_rx_n == 0 && v.nd.stats.rx_errors == 1 && v.rx.avail_idx == 4);
	/* Lent and kept: the buffers stay out until the stack hands each back. */
	v.nd.rx_loans = T_RING;
	v.nd.priv = &v;
	t_keep = true;
	h->num_buffers = 3;
	t_complete(ids[0], RX_BUF_MRG);
	t_complete(ids[1], RX_BUF_MRG);
	t_complete(ids[2], 100);
	receive(&v);
	t_keep = false;
	CHECK(t_rx_n == 3 && v.lent == 3 && v.rx.avail_idx == 4);
	CHECK(t_loans[0] == ids[0] + 1u && t_loans[2] == ids[2] + 1u);
	for (int i = 0; i < 3; i++)
		vnet_rx_return(&v.nd, t_loans[i]);
	CHECK(v.lent == 0 && v.rx.avail_idx == 7 && t_avail.ring[6 % T_RING] == ids[2]);
	/* Past the buffers kept for the device, nothing is lent. */
	v.lent = T_RING - T_RING / RX_KEEP_DIV;
	t_complete(ids[0], 100);
	h->num_buffers = 1;
	receive(&v);
	CHECK(t_loans[0] == 0 && v.rx.avail_idx == 8);
	return 0;
}
