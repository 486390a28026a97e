/* services.c: the diagnostic services a node runs when the command line says net.diag=1
 * (they answer anyone, so they are off by default): an iperf 2 compatible TCP server
 * (lwIP's lwiperf, port 5001) and echo (RFC 862) on TCP and UDP port 7.
 *
 * TCP echo: one thread accepts and hands each connection to a fixed pool of worker
 * threads through a mailbox, so the number of connections served at once is bounded
 * (ECHO_WORKERS) and no thread is ever created per connection; a connection that finds
 * every worker busy and the queue full is closed at once. An idle connection is closed
 * after ECHO_IDLE_MS so that it cannot hold a worker forever. */
#include <errno.h>
#include <stdbool.h>

#include "kernel/config.h"
#include "kernel/log.h"
#include "kernel/sync.h"
#include "kernel/thread.h"
#include "lwip/api.h"
#include "lwip/apps/lwiperf.h"
#include "lwip/tcpip.h"
#include "net/net.h"

#define ECHO_WORKERS 4
#define ECHO_QUEUE 4
#define ECHO_IDLE_MS (60 * 1000)

static struct mbox echo_queue;

static void echo_serve(struct netconn *c)
{
	struct netbuf *buf;
	netconn_set_recvtimeout(c, ECHO_IDLE_MS);
	while (netconn_recv(c, &buf) == ERR_OK) {
		err_t err = ERR_OK;
		do {
			void *data;
			u16_t len;
			netbuf_data(buf, &data, &len);
			err = netconn_write(c, data, len, NETCONN_COPY);
		} while (err == ERR_OK && netbuf_next(buf) >= 0);
		netbuf_delete(buf);
		if (err != ERR_OK)
			break;
	}
	netconn_close(c);
	netconn_delete(c);
}

static void echo_worker(void *arg)
{
	for (;;) {
		void *c;
		if (mbox_fetch(&echo_queue, &c, 0) == 0)
			echo_serve(c);
	}
}

static void echo_tcp(void *arg)
{
	struct netconn *l = arg;
	for (;;) {
		struct netconn *c;
		err_t err = netconn_accept(l, &c);
		if (err != ERR_OK) {
			kwarn("net: echo: accept failed (%d)", err);
			thread_sleep_ns(1000 * 1000 * 100ULL); /* 100 ms: out of memory, retry */
			continue;
		}
		if (mbox_trypost(&echo_queue, c) < 0) {
			netconn_close(c);
			netconn_delete(c);
		}
	}
}

static void echo_udp(void *arg)
{
	struct netconn *u = arg;
	for (;;) {
		struct netbuf *buf;
		if (netconn_recv(u, &buf) != ERR_OK)
			continue;
		/* netconn_send answers to the netbuf's own source address and port. */
		netconn_sendto(u, buf, netbuf_fromaddr(buf), netbuf_fromport(buf));
		netbuf_delete(buf);
	}
}

static int start_thread(const char *name, void (*fn)(void *), void *arg)
{
	struct thread *t = thread_create(name, fn, arg, THREAD_ANY_CPU);
	if (!t)
		return -ENOMEM;
	thread_start(t);
	return 0;
}

/* A netconn bound to the echo port on every address, IPv4 and IPv6. */
static struct netconn *echo_bind(enum netconn_type type)
{
	struct netconn *c = netconn_new(type);
	if (!c)
		return 0;
	if (netconn_bind(c, IP_ANY_TYPE, NET_ECHO_PORT) != ERR_OK ||
	    (type == NETCONN_TCP_IPV6 && netconn_listen(c) != ERR_OK)) {
		netconn_delete(c);
		return 0;
	}
	return c;
}

int net_services_start(void)
{
	if (!config.net_diag && !config.selftest) { /* the self-tests use echo */
		kinfo("net: diagnostic services off (net.diag=1: echo on 7, iperf on 5001)");
		return 0;
	}
	kwarn("net: diagnostic services on, unauthenticated: echo on 7 (tcp, udp), iperf on "
	      "5001");
	LOCK_TCPIP_CORE();
	void *iperf = lwiperf_start_tcp_server_default(0, 0);
	UNLOCK_TCPIP_CORE();
	if (!iperf)
		return -ENOMEM;

	int rc = mbox_init(&echo_queue, ECHO_QUEUE);
	if (rc < 0)
		return rc;
	struct netconn *tcp = echo_bind(NETCONN_TCP_IPV6), *udp = echo_bind(NETCONN_UDP_IPV6);
	if (!tcp || !udp)
		return -ENOMEM;
	for (int i = 0; i < ECHO_WORKERS; i++) {
		rc = start_thread("echo-worker", echo_worker, 0);
		if (rc < 0)
			return rc;
	}
	rc = start_thread("echo-tcp", echo_tcp, tcp);
	if (rc < 0)
		return rc;
	return start_thread("echo-udp", echo_udp, udp);
}
