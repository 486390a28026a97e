/* netdev.c: the registry of network interfaces and the hand-off of frames and link
 * changes from drivers to whichever stack has attached itself (nd->rx, nd->link_changed).
 * Devices register during PCI probing and are never removed, so readers need no lock. */
#include "drivers/netdev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/selftest.h"
#include "kernel/spinlock.h"

static struct netdev *devs[NETDEV_MAX];
static int ndev;
static struct spinlock lock = SPINLOCK_INIT("netdev");

int netdev_register(struct netdev *nd)
{
	spin_lock(&lock);
	if (ndev == NETDEV_MAX) {
		spin_unlock(&lock);
		return -ENOSPC;
	}
	snprintf(nd->name, sizeof nd->name, "eth%d", ndev);
	/* Published last: a reader that sees the count sees a named device. */
	devs[ndev] = nd;
	__atomic_store_n(&ndev, ndev + 1, __ATOMIC_RELEASE);
	spin_unlock(&lock);
	return 0;
}

int netdev_count(void) { return __atomic_load_n(&ndev, __ATOMIC_ACQUIRE); }

struct netdev *netdev_get(int i) { return i >= 0 && i < netdev_count() ? devs[i] : NULL; }

bool netdev_rx_frags(struct netdev *nd, const struct netdev_frag *f, int n, size_t len)
{
	if (nd->rx)
		return nd->rx(nd, f, n, len);
	nd->stats.rx_dropped++; /* no stack attached yet */
	return false;
}

void netdev_rx(struct netdev *nd, const void *frame, size_t len)
{
	const struct netdev_frag f = {frame, len, 0};
	netdev_rx_frags(nd, &f, 1, len);
}

void netdev_link(struct netdev *nd, bool up)
{
	nd->link_up = up;
	if (nd->link_changed)
		nd->link_changed(nd);
}

static size_t test_rx_len;
static int test_links;

static bool test_rx(struct netdev *nd, const struct netdev_frag *f, int n, size_t len)
{
	test_rx_len = n == 1 && f[0].len == len && !f[0].loan ? len : 0;
	return false;
}
static void test_link(struct netdev *nd) { test_links++; }

SELFTEST(netdev_handoff)
{
	/* A device no stack has attached to counts what it cannot deliver. */
	struct netdev nd;
	memset(&nd, 0, sizeof nd);
	static const uint8_t frame[60];
	netdev_rx(&nd, frame, sizeof frame);
	CHECK(nd.stats.rx_dropped == 1);
	nd.rx = test_rx;
	nd.link_changed = test_link;
	test_rx_len = 0;
	test_links = 0;
	netdev_rx(&nd, frame, sizeof frame);
	CHECK(test_rx_len == sizeof frame && nd.stats.rx_dropped == 1);
	netdev_link(&nd, true);
	CHECK(nd.link_up && test_links == 1);
	netdev_link(&nd, false);
	CHECK(!nd.link_up && test_links == 2);
	for (int i = 0; i < netdev_count(); i++)
		CHECK(netdev_get(i) && strncmp(netdev_get(i)->name, "eth", 3) == 0);
	CHECK(netdev_get(netdev_count()) == NULL);
	return 0;
}
