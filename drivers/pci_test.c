/* pci_test.c: self-tests of PCI enumeration, configuration access, BAR sizing and, when a
 * virtio-net NIC is attached, a frame sent and answered through it. Tests that need a
 * device QEMU does not have by default (make test boots with -nic none) log and pass. */
#include <errno.h>
#include <string.h>

#include "drivers/acpi.h"
#include "drivers/netdev.h"
#include "drivers/pci.h"
#include "drivers/virtio.h"
#include "kernel/cpu.h"
#include "kernel/selftest.h"
#include "kernel/thread.h"
#include "kernel/time.h"

#define CLASS_BRIDGE 0x06
#define SUBCLASS_HOST 0x00
#define CFG_VENDOR_DEVICE 0x00
#define CFG_CLASS_REV 0x08
#define CFG_BAR0 0x10
#define CFG_EXTENDED 0x100
#define BAR_FLAG_BITS 0xfu
#define BAR_IO_FLAG_BITS 0x3u

static bool is_virtio_net(const struct pci_dev *d)
{
	return d->vendor == VIRTIO_VENDOR &&
	       (d->device == VIRTIO_NET_TRANSITIONAL_ID || d->device == VIRTIO_NET_MODERN_ID);
}

SELFTEST(pci_host_bridge)
{
	CHECK(pci_count() > 0);
	bool host = false;
	for (int i = 0; i < pci_count(); i++) {
		struct pci_dev *d = pci_get(i);
		CHECK(d && d->vendor != 0xffff);
		if (d->bus == 0 && d->class_code == CLASS_BRIDGE && d->subclass == SUBCLASS_HOST)
			host = true;
	}
	CHECK(host);
	CHECK(pci_get(pci_count()) == NULL && pci_get(-1) == NULL);
	return 0;
}

SELFTEST(pci_ecam_matches_ports)
{
	struct pci_dev *d0 = NULL;
	for (int i = 0; i < pci_count(); i++) {
		struct pci_dev *d = pci_get(i);
		if (d->segment == 0 && d->bus == 0 && d->dev == 0 && d->fn == 0)
			d0 = d;
	}
	CHECK(d0);
	struct pci_dev ports = *d0;
	ports.ecam = NULL;
	uint32_t id = pci_read32(&ports, CFG_VENDOR_DEVICE);
	CHECK((id & 0xffff) == d0->vendor && id >> 16 == d0->device);
	CHECK(pci_read16(&ports, CFG_VENDOR_DEVICE) == d0->vendor);
	CHECK(pci_read8(&ports, CFG_VENDOR_DEVICE + 1) == d0->vendor >> 8);
	/* Port I/O cannot reach extended configuration space. */
	CHECK(pci_read32(&ports, CFG_EXTENDED) == 0xffffffff);
	if (acpi.nmcfg == 0) {
		kinfo("selftest: pci_ecam_matches_ports: no MCFG (pc machine), ports only");
		CHECK(d0->ecam == NULL);
		return 0;
	}
	CHECK(d0->ecam != NULL);
	CHECK(pci_read32(d0, CFG_VENDOR_DEVICE) == id);
	CHECK(pci_read32(d0, CFG_CLASS_REV) == pci_read32(&ports, CFG_CLASS_REV));
	return 0;
}

/* Every sized BAR is a power of two, naturally aligned, and its register was restored. */
static int check_bars(struct pci_dev *d, int *nmem)
{
	for (int b = 0; b < 6; b++) {
		struct pci_bar *bar = &d->bar[b];
		if (!bar->size)
			continue;
		CHECK((bar->size & (bar->size - 1)) == 0);
		CHECK(bar->addr % bar->size == 0);
		uint32_t reg = pci_read32(d, CFG_BAR0 + 4 * b);
		uint32_t bits = bar->io ? BAR_IO_FLAG_BITS : BAR_FLAG_BITS;
		CHECK((reg & ~bits) == (uint32_t)bar->addr);
		if (bar->mem64) {
			CHECK(b < 5);
			CHECK(pci_read32(d, CFG_BAR0 + 4 * (b + 1)) == bar->addr >> 32);
			b++;
		}
		if (!bar->io)
			(*nmem)++;
	}
	return 0;
}

SELFTEST(pci_bar_sizing)
{
	int sized = 0;
	for (int i = 0; i < pci_count(); i++) {
		int nmem = 0;
		struct pci_dev *d = pci_get(i);
		CHECK(check_bars(d, &nmem) == 0);
		for (int b = 0; b < 6; b++)
			sized += d->bar[b].size != 0;
		if (!is_virtio_net(d))
			continue;
		/* The modern interface and the MSI-X table live in memory BARs. */
		CHECK(nmem > 0);
		CHECK(pci_find_cap(d, PCI_CAP_VENDOR, 0) != 0);
		uint8_t msix = pci_find_cap(d, PCI_CAP_MSIX, 0);
		CHECK(msix == 0 || pci_read8(d, msix) == PCI_CAP_MSIX); /* none with vectors=0 */
		CHECK(pci_find_cap(d, 0xfe, 0) == 0);
		CHECK(d->driver && strcmp(d->driver, "virtio_net") == 0);
	}
	kinfo("selftest: pci_bar_sizing: %d BARs sized", sized);
	CHECK(sized > 0); /* QEMU's pc and q35 always have devices with BARs (IDE/AHCI, VGA) */
	return 0;
}

/* A DHCPDISCOVER, which both QEMU's user network and dnsmasq answer. */
#define DHCP_FRAME_LEN 342
#define BOOTP_LEN 300
#define IP_OFF 14
#define UDP_OFF 34
#define BOOTP_OFF 42
#define ETH_P_IPV4 0x0800
#define IPV4_VERSION_IHL 0x45 /* version 4, 20-byte header */
#define IP_TTL 64
#define IP_PROTO_UDP 17
#define DHCP_CLIENT_PORT 68
#define DHCP_SERVER_PORT 67
#define BOOTP_FIXED_LEN 236 /* up to the options */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t dhcp_discover(uint8_t *f, const uint8_t mac[ETH_ALEN], uint32_t xid)
{
	memset(f, 0, DHCP_FRAME_LEN);
	memset(f, 0xff, ETH_ALEN);
	memcpy(f + ETH_ALEN, mac, ETH_ALEN);
	put16(f + 2 * ETH_ALEN, ETH_P_IPV4);
	uint8_t *ip = f + IP_OFF;
	ip[0] = IPV4_VERSION_IHL;
	put16(ip + 2, 20 + 8 + BOOTP_LEN);
	ip[8] = IP_TTL;
	ip[9] = IP_PROTO_UDP;
	memset(ip + 16, 0xff, 4);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, (uint16_t)~sum);
	uint8_t *udp = f + UDP_OFF;
	put16(udp, DHCP_CLIENT_PORT);
	put16(udp + 2, DHCP_SERVER_PORT);
	put16(udp + 4, 8 + BOOTP_LEN);
	uint8_t *b = f + BOOTP_OFF;
	b[0] = 1; /* BOOTREQUEST */
	b[1] = 1; /* Ethernet */
	b[2] = ETH_ALEN;
	memcpy(b + 4, &xid, 4);
	put16(b + 10, 0x8000); /* reply by broadcast: we have no address */
	memcpy(b + 28, mac, ETH_ALEN);
	static const uint8_t opts[] = {99, 130, 83, 99, 53, 1, 1, 255}; /* cookie, DISCOVER */
	memcpy(b + BOOTP_FIXED_LEN, opts, sizeof opts);
	return DHCP_FRAME_LEN;
}

SELFTEST(virtio_net_roundtrip)
{
	int tested = 0;
	for (int i = 0; i < netdev_count(); i++) {
		struct netdev *nd = netdev_get(i);
		if (strcmp(nd->driver, "virtio-net") != 0)
			continue;
		tested++;
		static uint8_t frame[DHCP_FRAME_LEN];
		size_t len = dhcp_discover(frame, nd->mac, 0x5e1f7e57u + (uint32_t)i);
		uint64_t rx0 = nd->stats.rx_packets, tx0 = nd->stats.tx_packets;
		CHECK(nd->ops->xmit(nd, frame, len, 0, 0) == 0);
		CHECK(nd->stats.tx_packets == tx0 + 1);
		CHECK(nd->ops->xmit(nd, frame, ETH_FRAME_MAX + 1, 0, 0) < 0);
		uint64_t t0 = time_ns();
		while (nd->stats.rx_packets == rx0 && time_ns() - t0 < 3000000000UL)
			thread_sleep_ns(1000000);
		kinfo("selftest: %s: rx %lu -> %lu packets, tx %lu, rx_dropped %lu", nd->name,
		      (unsigned long)rx0, (unsigned long)nd->stats.rx_packets,
		      (unsigned long)nd->stats.tx_packets, (unsigned long)nd->stats.rx_dropped);
		CHECK(nd->stats.rx_packets > rx0);
	}
	if (!tested)
		kinfo("selftest: virtio_net_roundtrip: no virtio-net interface, skipped");
	return 0;
}

#define CFG_COMMAND 0x04
#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_DATA_32 8
#define MSI_DATA_64 12
#define MSI_ENABLE 1u
#define MSI_64BIT (1u << 7)
#define MSI_ADDR_BASE 0xfee00000u
#define MSI_DEST_SHIFT 12

static void msi_test_irq(struct trapframe *tf) { irq_eoi(); }

SELFTEST(pci_msi_program)
{
	/* MSI programming on a function no driver took (q35's AHCI controller has MSI and
	 * no MSI-X); the device is left as found, MSI off. Interrupts themselves need the
	 * device to raise one, which only its driver can make it do. */
	struct pci_dev *d = NULL;
	for (int i = 0; i < pci_count() && !d; i++) {
		struct pci_dev *c = pci_get(i);
		if (!c->driver && pci_find_cap(c, PCI_CAP_MSI, 0) &&
		    !pci_find_cap(c, PCI_CAP_MSIX, 0))
			d = c;
	}
	if (!d) {
		kinfo("selftest: pci_msi_program: no idle function with MSI only, skipped");
		return 0;
	}
	uint8_t cap = pci_find_cap(d, PCI_CAP_MSI, 0);
	uint16_t ctrl = pci_read16(d, cap + MSI_CTRL), cmd = pci_read16(d, CFG_COMMAND);
	int v[2];
	CHECK(pci_irq_setup(d, 2, msi_test_irq, v) == -ENOSPC); /* MSI gives one vector */
	int mode = pci_irq_setup(d, 1, msi_test_irq, v);
	uint16_t now = pci_read16(d, cap + MSI_CTRL);
	uint32_t addr = pci_read32(d, cap + MSI_ADDR_LO);
	uint16_t data = pci_read16(d, cap + (ctrl & MSI_64BIT ? MSI_DATA_64 : MSI_DATA_32));
	pci_write16(d, cap + MSI_CTRL, ctrl);
	pci_write16(d, CFG_COMMAND, cmd);
	CHECK(mode == PCI_IRQ_MSI);
	CHECK(now & MSI_ENABLE);
	CHECK(addr == (MSI_ADDR_BASE | cpus[0].apic_id << MSI_DEST_SHIFT));
	CHECK(data == v[0] && v[0] >= VEC_IRQ_BASE);
	return 0;
}
