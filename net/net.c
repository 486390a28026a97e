/* net.c: network bring-up: the lwIP stack, the services, and one interface per NIC
 * with its address configuration from the command line (ip=, dns=). ip= applies to
 * the first interface (eth0); any other interface asks DHCP. */
#include "net/net.h"

#include <errno.h>
#include <stdbool.h>

#include "drivers/netdev.h"
#include "kernel/config.h"
#include "kernel/log.h"
#include "kernel/sync.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lwip/tcpip.h"
#include "net/addr.h"
#include "net/lwip/port.h"

#define WAIT_POLL_NS (10 * 1000 * 1000ULL)

static struct mutex start_lock = {SPINLOCK_INIT("net_start"), 0, {0, 0}};
static bool started;
static int start_error;

static void tcpip_ready(void *arg) { sem_signal(arg); }

int net_start(void)
{
	mutex_lock(&start_lock);
	if (!started) {
		struct sem ready;
		sem_init(&ready, 0);
		tcpip_init(tcpip_ready, &ready);
		sem_wait(&ready, 0);
		start_error = net_services_start();
		if (start_error < 0)
			kerror("net: services failed to start (%d)", start_error);
		started = true;
	}
	mutex_unlock(&start_lock);
	return start_error;
}

void net_init(void)
{
	if (net_start() < 0)
		return;
	int n = netdev_count();
	if (n == 0) {
		kinfo("net: no network interface found");
		return;
	}
	char err[NET_ADDR_ERR_MAX];
	struct net_ip_config ip = {.dhcp = true}, dhcp = {.dhcp = true};
	if (config.ip[0] && net_addr_parse_ip(config.ip, &ip, err, sizeof err) < 0) {
		kwarn("net: %s; using DHCP", err);
		ip = dhcp;
	}
	struct net_ip4 dns;
	bool has_dns = false;
	if (config.dns[0]) {
		if (net_addr_parse_dns(config.dns, &dns, err, sizeof err) < 0)
			kwarn("net: %s; using DHCP's server", err);
		else
			has_dns = true;
	}
	for (int i = 0; i < n; i++) {
		struct netdev *nd = netdev_get(i);
		int rc = port_netif_attach(nd, i == 0 ? &ip : &dhcp, has_dns ? &dns : 0);
		if (rc < 0)
			kerror("net: %s: cannot attach (%d)", nd->name, rc);
	}
}

int net_wait_bound(uint64_t timeout_ns)
{
	if (port_netif_count() == 0)
		return -ENODEV;
	uint64_t deadline = time_ns() + timeout_ns;
	while (port_netif_bound() < port_netif_count()) {
		if (time_ns() >= deadline)
			return -ETIMEDOUT;
		thread_sleep_ns(WAIT_POLL_NS);
	}
	return 0;
}

uint64_t net_rx_nobuf(void) { return port_rx_nobuf(); }
