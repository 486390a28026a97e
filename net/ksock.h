/* ksock.h: the TCP chores every kernel service repeats over lwIP's socket API (the
 * console, metrics, gossip's push-pull and the agent's peer service). Tasks' sockets are
 * kernel/fs/sock.c's; these are for kernel threads.
 *
 * Addresses and ports are host order. Waits are bounded two ways: each blocking call by
 * the socket's SO_RCVTIMEO/SO_SNDTIMEO (ksock_timeout), and a whole transfer by a
 * deadline in milliseconds of kernel time (time_ns() / 1e6), so a peer that trickles a
 * byte at a time cannot hold a thread past it. */
#ifndef NET_KSOCK_H
#define NET_KSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/sockets.h"

#define KSOCK_NO_DEADLINE UINT64_MAX /* only the socket's own timeouts bound a transfer */

/* The IPv4 socket address of ip:port. */
struct sockaddr_in ksock_addr(uint32_t ip, uint16_t port);

/* Set the socket's receive (SO_RCVTIMEO) or send (SO_SNDTIMEO) timeout to ms; 0 is no
 * timeout. On a listening socket SO_RCVTIMEO bounds accept. */
void ksock_timeout(int s, int opt, uint64_t ms);

/* A TCP socket listening on ip:port (SO_REUSEADDR, queue of backlog), or -ENFILE when
 * no socket is left, -EADDRINUSE when bind or listen fails. */
int ksock_listen(uint32_t ip, uint16_t port, int backlog);

/* A blocking TCP socket connected to ip:port within timeout_ms, with both timeouts set
 * to timeout_ms; or -ENFILE (no socket) or -ECONNREFUSED (refused, failed or too slow). */
int ksock_connect(uint32_t ip, uint16_t port, uint64_t timeout_ms);

/* Send or receive exactly len bytes before deadline (ms): 0, or -EIO when the peer
 * closed, a call failed or timed out, or the deadline passed. */
int ksock_send_all(int s, const void *p, size_t len, uint64_t deadline);
int ksock_recv_all(int s, void *p, size_t len, uint64_t deadline);

#endif
