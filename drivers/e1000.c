/* e1000.c: driver for the Intel 8254x gigabit NICs (82540EM, 82545EM and relatives) and
 * the 82574L that QEMU, VMware and many PCs present, behind drivers/netdev.h.
 *
 * Design. One receive and one transmit ring of legacy descriptors, each descriptor
 * owning a fixed 2 KiB buffer in one physically contiguous block, so no frame ever
 * spans descriptors (long-packet mode stays off) and nothing is allocated per frame.
 *
 * Receive: the device owns the descriptors from RDH up to RDT - 1 and sets DD in each it
 * fills. The driver walks from rx_next while DD is set, hands each frame up with
 * netdev_rx (which copies it), clears the descriptor and gives it back by writing its
 * index to RDT. One descriptor always stays with the driver, so RDH == RDT means "ring
 * empty" to the device rather than "full".
 *
 * Transmit: xmit copies the frame into the buffer of descriptor tx_tail and moves TDT
 * past it; every descriptor asks for status write-back (RS), and descriptors between
 * tx_clean and tx_tail whose DD is set are recycled (counted, freed) by xmit itself
 * and by the worker. The ring is full when advancing tx_tail would reach tx_clean.
 *
 * Interrupts: the handler only reads ICR (which acknowledges every cause at once; the
 * 82574 under MSI-X needs the causes written back to clear them), ORs the causes into
 * e->events and signals the worker's semaphore: no netdev or stack code
 * ever runs in interrupt context. The worker thread then drains receive, recycles
 * transmit and, on a link change, reports STATUS.LU with netdev_link. Causes that
 * arrive while the worker runs raise a new interrupt and a new signal, so none is lost.
 *
 * Descriptor and buffer memory is ordinary write-back RAM that the device reads and
 * writes coherently; the barriers below only keep the compiler from moving descriptor
 * accesses across the register writes that hand descriptors over (x86 keeps stores in
 * order). */
#include "drivers/e1000.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/trap.h"
#include "drivers/netdev.h"
#include "drivers/pci.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/pmm.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/vmm.h"

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy RX descriptor is 16 bytes");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy TX descriptor is 16 bytes");

#define RESET_WAIT_US 10	/* before the first poll of CTRL.RST */
#define RESET_TIMEOUT_US 100000 /* CTRL.RST self-clears within microseconds */
#define EERD_TIMEOUT_US 10000
#define EEPROM_MAC_WORDS 3 /* the MAC is EEPROM words 0..2, little-endian */
/* The worker also runs this often without an interrupt: a lost interrupt (a misrouted
 * INTx line, say) then slows the device down instead of stopping it. */
#define WORKER_POLL_NS 1000000000UL
#define RX_GIVE_BACK 32 /* descriptors returned to the device per RDT write while draining */
#define ETH_HLEN 14	/* Ethernet header: no frame is shorter */

/* Every device id here has an entry in `families`. */
static const struct pci_id ids[] = {
	{0x8086, 0x100c}, {0x8086, 0x100e}, {0x8086, 0x100f}, {0x8086, 0x1010}, {0x8086, 0x1011},
	{0x8086, 0x1015}, {0x8086, 0x1016}, {0x8086, 0x1017}, {0x8086, 0x101e}, {0x8086, 0x1026},
	{0x8086, 0x1079}, {0x8086, 0x10d3}, {0, 0},
};

static const struct {
	uint16_t device;
	enum e1000_family family;
} families[] = {
	{0x100c, E1000_8254X}, /* 82544GC copper (QEMU e1000-82544gc) */
	{0x100e, E1000_8254X}, /* 82540EM (QEMU's default e1000) */
	{0x100f, E1000_8254X}, /* 82545EM copper (QEMU e1000-82545em, VMware e1000) */
	{0x1010, E1000_8254X}, /* 82546EB copper */
	{0x1011, E1000_8254X}, /* 82545EM fiber */
	{0x1015, E1000_8254X}, /* 82540EM LOM */
	{0x1016, E1000_8254X}, /* 82540EP LOM */
	{0x1017, E1000_8254X}, /* 82540EP */
	{0x101e, E1000_8254X}, /* 82540EP LP */
	{0x1026, E1000_8254X}, /* 82545GM copper */
	{0x1079, E1000_8254X}, /* 82546GB copper */
	{0x10d3, E1000_82574}, /* 82574L (QEMU e1000e, VMware e1000e) */
};

static struct e1000 *devs[NETDEV_MAX];
static int ndevs;

int e1000_count(void) { return __atomic_load_n(&ndevs, __ATOMIC_ACQUIRE); }

struct e1000 *e1000_get(int i) { return i >= 0 && i < e1000_count() ? devs[i] : NULL; }

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

static int reset(struct e1000 *e)
{
	e1000_wr(e, E1000_IMC, ~0u);
	e1000_wr(e, E1000_CTRL, e1000_rd(e, E1000_CTRL) | E1000_CTRL_RST);
	udelay(RESET_WAIT_US);
	for (int t = 0; e1000_rd(e, E1000_CTRL) & E1000_CTRL_RST; t += RESET_WAIT_US) {
		if (t >= RESET_TIMEOUT_US)
			return -ETIMEDOUT;
		udelay(RESET_WAIT_US);
	}
	/* Reset re-enables nothing, but mask again and clear what may be pending. */
	e1000_wr(e, E1000_IMC, ~0u);
	(void)e1000_rd(e, E1000_ICR);
	return 0;
}

int e1000_eeprom_read(struct e1000 *e, unsigned word, uint16_t *out)
{
	bool e574 = e->family == E1000_82574;
	uint32_t done = e574 ? E1000_EERD_DONE_82574 : E1000_EERD_DONE_8254X;
	unsigned shift = e574 ? E1000_EERD_ADDR_SHIFT_82574 : E1000_EERD_ADDR_SHIFT_8254X;
	e1000_wr(e, E1000_EERD, E1000_EERD_START | word << shift);
	for (int t = 0; t < EERD_TIMEOUT_US; t++) {
		uint32_t v = e1000_rd(e, E1000_EERD);
		if (v & done) {
			*out = v >> E1000_EERD_DATA_SHIFT;
			return 0;
		}
		udelay(1);
	}
	return -ETIMEDOUT;
}

/* The MAC the firmware loaded into receive address 0, or from the EEPROM when that is
 * empty (then written to RAL/RAH so the device filters on it). */
static int read_mac(struct e1000 *e)
{
	uint32_t lo = e1000_rd(e, E1000_RAL0), hi = e1000_rd(e, E1000_RAH0);
	if (lo == 0) {
		uint16_t w[EEPROM_MAC_WORDS];
		for (int i = 0; i < EEPROM_MAC_WORDS; i++) {
			int err = e1000_eeprom_read(e, i, &w[i]);
			if (err)
				return err;
		}
		lo = w[0] | (uint32_t)w[1] << 16;
		hi = w[2];
	}
	for (int i = 0; i < 4; i++)
		e->nd.mac[i] = lo >> (8 * i);
	e->nd.mac[4] = hi;
	e->nd.mac[5] = hi >> 8;
	if (lo == 0 && (hi & 0xffff) == 0)
		return -ENODEV;
	e1000_wr(e, E1000_RAL0, lo);
	e1000_wr(e, E1000_RAH0, (hi & 0xffff) | E1000_RAH_AV);
	return 0;
}

static void free_rings(struct e1000 *e)
{
	if (e->rx)
		pmm_free_kva((void *)e->rx, E1000_RX_RING * sizeof(struct e1000_rx_desc));
	if (e->tx)
		pmm_free_kva((void *)e->tx, E1000_TX_RING * sizeof(struct e1000_tx_desc));
	if (e->rx_buf)
		pmm_free_kva(e->rx_buf, E1000_RX_RING * E1000_BUF_SIZE);
	if (e->tx_buf)
		pmm_free_kva(e->tx_buf, E1000_TX_RING * E1000_BUF_SIZE);
}

static int alloc_rings(struct e1000 *e)
{
	e->rx = pmm_alloc_kva(E1000_RX_RING * sizeof(struct e1000_rx_desc));
	e->tx = pmm_alloc_kva(E1000_TX_RING * sizeof(struct e1000_tx_desc));
	e->rx_buf = pmm_alloc_kva(E1000_RX_RING * E1000_BUF_SIZE);
	e->tx_buf = pmm_alloc_kva(E1000_TX_RING * E1000_BUF_SIZE);
	if (e->rx && e->tx && e->rx_buf && e->tx_buf)
		return 0;
	free_rings(e);
	return -ENOMEM;
}

static void setup_rx(struct e1000 *e)
{
	for (int i = 0; i < E1000_RX_RING; i++) {
		e->rx[i].addr = V2P(e->rx_buf + (size_t)i * E1000_BUF_SIZE);
		e->rx[i].status = 0;
	}
	uint64_t ring = V2P((const void *)e->rx);
	e1000_wr(e, E1000_RDBAL, (uint32_t)ring);
	e1000_wr(e, E1000_RDBAH, ring >> 32);
	e1000_wr(e, E1000_RDLEN, E1000_RX_RING * sizeof(struct e1000_rx_desc));
	e1000_wr(e, E1000_RDH, 0);
	e1000_wr(e, E1000_RDT, E1000_RX_RING - 1);
	e->rx_next = 0;
	e1000_wr(e, E1000_RDTR, 0); /* interrupt on every frame: latency over batching */
	e1000_wr(e, E1000_RXCSUM, 0);
	/* The stack has no multicast filter hook, and IPv6 neighbour discovery and mDNS
	 * need multicast: take all of it (MPE) rather than program the hash table. */
	for (int i = 0; i < E1000_MTA_WORDS; i++)
		e1000_wr(e, E1000_MTA + 4 * i, 0);
	e1000_wr(e, E1000_RCTL,
		 E1000_RCTL_EN | E1000_RCTL_MPE | E1000_RCTL_BAM | E1000_RCTL_BSIZE_2048 |
			 E1000_RCTL_SECRC);
	e->rx_on_ns = time_ns();
}

static void setup_tx(struct e1000 *e)
{
	for (int i = 0; i < E1000_TX_RING; i++) {
		e->tx[i].addr = V2P(e->tx_buf + (size_t)i * E1000_BUF_SIZE);
		e->tx[i].cmd = 0;
		e->tx[i].status = E1000_TXD_STAT_DD;
	}
	uint64_t ring = V2P((const void *)e->tx);
	e1000_wr(e, E1000_TDBAL, (uint32_t)ring);
	e1000_wr(e, E1000_TDBAH, ring >> 32);
	e1000_wr(e, E1000_TDLEN, E1000_TX_RING * sizeof(struct e1000_tx_desc));
	e1000_wr(e, E1000_TDH, 0);
	e1000_wr(e, E1000_TDT, 0);
	e->tx_tail = e->tx_clean = 0;
	e1000_wr(e, E1000_TIDV, 0);
	if (e->family == E1000_82574) {
		uint32_t c = e1000_rd(e, E1000_TXDCTL) & ~E1000_TXDCTL_WTHRESH_MASK;
		e1000_wr(e, E1000_TXDCTL,
			 c | E1000_TXDCTL_FULL_TX_DESC_WB | E1000_TXDCTL_COUNT_DESC);
	}
	e1000_wr(e, E1000_TIPG,
		 E1000_TIPG_IPGT | E1000_TIPG_IPGR1 << E1000_TIPG_IPGR1_SHIFT |
			 E1000_TIPG_IPGR2 << E1000_TIPG_IPGR2_SHIFT);
	e1000_wr(e, E1000_TCTL,
		 E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT << E1000_TCTL_CT_SHIFT |
			 E1000_TCTL_COLD << E1000_TCTL_COLD_SHIFT | E1000_TCTL_RTLC);
}

/* Recycle transmitted descriptors; called with tx_lock held. */
static void tx_reclaim(struct e1000 *e)
{
	while (e->tx_clean != e->tx_tail) {
		volatile struct e1000_tx_desc *d = &e->tx[e->tx_clean];
		uint8_t st = d->status;
		if (!(st & E1000_TXD_STAT_DD))
			break;
		if (st & (E1000_TXD_STAT_EC | E1000_TXD_STAT_LC)) {
			e->nd.stats.tx_errors++;
		} else {
			e->nd.stats.tx_packets++;
			e->nd.stats.tx_bytes += d->length;
		}
		e->tx_clean = (e->tx_clean + 1) % E1000_TX_RING;
	}
}

static int xmit(struct netdev *nd, const void *frame, size_t len, uint16_t csum_start,
		uint16_t csum_offset)
{
	struct e1000 *e = nd->priv;
	(void)csum_start; /* tx_csum_offload is off: the stack fills in checksums */
	(void)csum_offset;
	if (len < ETH_HLEN || len > ETH_FRAME_MAX) {
		spin_lock(&e->tx_lock);
		nd->stats.tx_errors++;
		spin_unlock(&e->tx_lock);
		return -EINVAL;
	}
	spin_lock(&e->tx_lock);
	unsigned next = (e->tx_tail + 1) % E1000_TX_RING;
	if (next == e->tx_clean) {
		tx_reclaim(e);
		if (next == e->tx_clean) {
			nd->stats.tx_dropped++;
			spin_unlock(&e->tx_lock);
			return -EAGAIN;
		}
	}
	volatile struct e1000_tx_desc *d = &e->tx[e->tx_tail];
	memcpy(e->tx_buf + (size_t)e->tx_tail * E1000_BUF_SIZE, frame, len);
	d->length = len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	e->tx_tail = next;
	barrier();
	e1000_wr(e, E1000_TDT, next);
	spin_unlock(&e->tx_lock);
	return 0;
}

static const struct netdev_ops ops = {.xmit = xmit};

/* Hand up every completed receive descriptor and give it back to the device. */
static void rx_drain(struct e1000 *e)
{
	struct netdev *nd = &e->nd;
	int done = 0;
	for (;;) {
		volatile struct e1000_rx_desc *d = &e->rx[e->rx_next];
		uint8_t st = d->status;
		if (!(st & E1000_RXD_STAT_DD))
			break;
		barrier(); /* read length and errors only after DD */
		size_t len = d->length;
		const uint8_t *buf = e->rx_buf + (size_t)e->rx_next * E1000_BUF_SIZE;
		if (!(st & E1000_RXD_STAT_EOP) || (d->errors & E1000_RXD_ERR_FRAME) ||
		    len < ETH_HLEN || len > E1000_BUF_SIZE) {
			nd->stats.rx_errors++;
		} else {
			nd->stats.rx_packets++;
			nd->stats.rx_bytes += len;
			void (*tap)(struct e1000 *, const void *, size_t) =
				__atomic_load_n(&e->tap, __ATOMIC_ACQUIRE);
			if (tap)
				tap(e, buf, len);
			netdev_rx(nd, buf, len);
		}
		d->status = 0;
		d->errors = 0;
		/* Give the descriptors back in batches: one register write each, yet the
		 * device never waits for the end of a long drain. */
		if (++done % RX_GIVE_BACK == 0) {
			barrier();
			e1000_wr(e, E1000_RDT, e->rx_next);
		}
		e->rx_next = (e->rx_next + 1) % E1000_RX_RING;
	}
	if (done % RX_GIVE_BACK) {
		barrier();
		e1000_wr(e, E1000_RDT, (e->rx_next + E1000_RX_RING - 1) % E1000_RX_RING);
	}
	/* Frames the device had no descriptor for. */
	nd->stats.rx_dropped += e1000_rd(e, E1000_MPC);
}

static void worker(void *arg)
{
	struct e1000 *e = arg;
	for (;;) {
		bool idle = sem_wait(&e->wake, WORKER_POLL_NS) == -ETIMEDOUT;
		uint32_t ev = __atomic_exchange_n(&e->events, 0, __ATOMIC_ACQ_REL);
		if ((ev & E1000_INT_LSC) || idle) {
			bool up = e1000_rd(e, E1000_STATUS) & E1000_STATUS_LU;
			if (up != e->link) {
				e->link = up;
				kinfo("net: %s link %s", e->nd.name, up ? "up" : "down");
				netdev_link(&e->nd, up);
			}
		}
		rx_drain(e);
		spin_lock(&e->tx_lock);
		tx_reclaim(e);
		spin_unlock(&e->tx_lock);
	}
}

/* Runs on the boot CPU. An INTx line may be shared with other devices: a device whose
 * ICR reads 0 did not interrupt. */
static void intr(struct trapframe *tf)
{
	int n = e1000_count();
	for (int i = 0; i < n; i++) {
		struct e1000 *e = devs[i];
		if (e->vector != (int)tf->vector)
			continue;
		uint32_t icr = e1000_rd(e, E1000_ICR);
		if (!icr)
			continue;
		if (e->irq_mode == PCI_IRQ_MSIX)
			e1000_wr(e, E1000_ICR, icr); /* 82574: reading did not clear them */
		e->irqs++;
		__atomic_fetch_or(&e->events, icr, __ATOMIC_RELEASE);
		sem_signal(&e->wake);
	}
	irq_eoi();
}

static const char *mode_name(int mode)
{
	return mode == PCI_IRQ_MSIX ? "msix" : mode == PCI_IRQ_MSI ? "msi" : "intx";
}

/* Route every cause to MSI-X vector 0 (82574; the 8254x have no MSI-X). */
static void setup_msix(struct e1000 *e)
{
	e1000_wr(e, E1000_IVAR,
		 E1000_IVAR_VALID << E1000_IVAR_RXQ0_SHIFT |
			 E1000_IVAR_VALID << E1000_IVAR_TXQ0_SHIFT |
			 E1000_IVAR_VALID << E1000_IVAR_OTHER_SHIFT);
	e1000_wr(e, E1000_CTRL_EXT, e1000_rd(e, E1000_CTRL_EXT) | E1000_CTRL_EXT_PBA_CLR);
}

static int probe(struct pci_dev *pd)
{
	if (ndevs >= NETDEV_MAX)
		return -ENOSPC;
	if (!pd->bar[0].addr || pd->bar[0].io)
		return -ENODEV;
	int fam = -1;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (families[i].device == pd->device)
			fam = families[i].family;
	if (fam < 0)
		return -ENODEV;
	struct e1000 *e = kzalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->pci = pd;
	e->family = fam;
	pci_enable(pd);
	e->regs = pci_map_bar(pd, 0);
	int err = e->regs ? 0 : -ENOMEM;
	if (!err)
		err = reset(e);
	if (!err)
		err = read_mac(e);
	if (!err)
		err = alloc_rings(e);
	if (err) {
		kfree(e);
		return err;
	}

	/* Link up without forcing speed or duplex: the PHY autonegotiates. */
	uint32_t ctrl = e1000_rd(e, E1000_CTRL);
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_VME);
	e1000_wr(e, E1000_CTRL, ctrl | E1000_CTRL_SLU | E1000_CTRL_ASDE);
	e1000_wr(e, E1000_ITR, 0); /* no interrupt throttling: latency first */
	spin_init(&e->tx_lock, "e1000-tx");
	sem_init(&e->wake, 0);
	setup_rx(e);
	setup_tx(e);

	e->nd.driver = "e1000";
	e->nd.mtu = ETH_FRAME_MAX - ETH_HLEN;
	e->link = e1000_rd(e, E1000_STATUS) & E1000_STATUS_LU;
	e->nd.link_up = e->link;
	e->nd.ops = &ops;
	e->nd.priv = e;

	int vec[1];
	int mode = pci_irq_setup(pd, 1, intr, vec);
	if (mode < 0) {
		kwarn("e1000: %02x:%02x.%x: no interrupt (%d); not used", pd->bus, pd->dev, pd->fn,
		      mode);
		goto fail;
	}
	e->vector = vec[0];
	e->irq_mode = mode;
	uint32_t ims = E1000_INT_RXT0 | E1000_INT_RXO | E1000_INT_LSC | E1000_INT_TXDW;
	if (mode == PCI_IRQ_MSIX) {
		setup_msix(e);
		ims |= E1000_INT_RXQ0 | E1000_INT_TXQ0 | E1000_INT_OTHER;
	}
	err = netdev_register(&e->nd);
	if (err) {
		kwarn("e1000: %02x:%02x.%x: netdev_register: %d", pd->bus, pd->dev, pd->fn, err);
		mode = err;
		goto fail;
	}
	/* Publish for the interrupt handler; the device raises nothing before IMS is set. */
	devs[ndevs] = e;
	__atomic_store_n(&ndevs, ndevs + 1, __ATOMIC_RELEASE);
	char name[THREAD_NAME_MAX];
	snprintf(name, sizeof(name), "%s-e1000", e->nd.name);
	e->worker = thread_create(name, worker, e, THREAD_ANY_CPU);
	if (!e->worker) {
		/* Registered already, so the netdev stays, but it can never receive. */
		kerror("net: %s e1000: no memory for its worker thread", e->nd.name);
		return -ENOMEM;
	}
	thread_start(e->worker);
	e1000_wr(e, E1000_IMS, ims);
	/* Pick up whatever arrived before interrupts were on. */
	sem_signal(&e->wake);
	const uint8_t *m = e->nd.mac;
	kinfo("net: %s %s %02x:%02x:%02x:%02x:%02x:%02x (%s)%s", e->nd.name, e->nd.driver, m[0],
	      m[1], m[2], m[3], m[4], m[5], mode_name(mode), e->link ? "" : " link down");
	return 0;

fail:
	/* A reset stops all DMA and masks every cause, so the rings can go (the vector
	 * stays allocated, but nothing raises it). */
	reset(e);
	free_rings(e);
	kfree(e);
	return mode;
}

PCI_DRIVER(e1000, ids, probe);
