/* pci_test.c: self-tests of PCI enumeration, configuration access, BAR sizing and, when a
 * virtio-net NIC is attached, a frame sent and answered through it. Tests that need a
 * device QEMU does not have by default (make test boots with -nic none) log and pass. */
#include <string.h>

#include "drivers/acpi.h"
#include "drivers/netdev.h"
#include "drivers/pci.h"
#include "drivers/virtio.h"
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
	       (d->device == 0x1000 || d->device == VIRTIO_MODERN_BASE + 1);
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

SELFTEST(pci_bar_sizing)
{
	int seen = 0;
	for (int i = 0; i < pci_count(); i++) {
		struct pci_dev *d = pci_get(i);
		if (!is_virtio_net(d))
			continue;
		seen++;
		bool mem = false;
		for (int b = 0; b < 6; b++) {
			struct pci_bar *bar = &d->bar[b];
			if (!bar->size)
				continue;
			/* A power of two, naturally aligned, and the register restored. */
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
			if (!bar->io && bar->size >= 4096)
				mem = true;
		}
		CHECK(mem); /* the modern interface and the MSI-X table live in memory BARs */
		CHECK(pci_find_cap(d, PCI_CAP_VENDOR, 0) != 0);
		uint8_t msix = pci_find_cap(d, PCI_CAP_MSIX, 0);
		CHECK(msix == 0 || pci_read8(d, msix) == PCI_CAP_MSIX); /* none with vectors=0 */
		CHECK(pci_find_cap(d, 0xfe, 0) == 0);
		CHECK(d->driver && strcmp(d->driver, "virtio_net") == 0);
	}
	if (!seen)
		kinfo("selftest: pci_bar_sizing: no virtio-net device, nothing to size");
	return 0;
}

/* A DHCPDISCOVER, which both QEMU's user network and dnsmasq answer. */
#define DHCP_FRAME_LEN 342
#define BOOTP_LEN 300
#define IP_OFF 14
#define UDP_OFF 34
#define BOOTP_OFF 42

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
	put16(f + 12, 0x0800);
	uint8_t *ip = f + IP_OFF;
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + BOOTP_LEN);
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, (uint16_t)~sum);
	uint8_t *udp = f + UDP_OFF;
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, 8 + BOOTP_LEN);
	uint8_t *b = f + BOOTP_OFF;
	b[0] = 1; /* BOOTREQUEST */
	b[1] = 1; /* Ethernet */
	b[2] = ETH_ALEN;
	memcpy(b + 4, &xid, 4);
	put16(b + 10, 0x8000); /* reply by broadcast: we have no address */
	memcpy(b + 28, mac, ETH_ALEN);
	static const uint8_t opts[] = {99, 130, 83, 99, 53, 1, 1, 255}; /* cookie, DISCOVER */
	memcpy(b + 236, opts, sizeof opts);
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
