/* net_test.c: self-tests of the network stack over the loopback interface: the lwIP
 * OS layer's timeouts, and the echo services through the sockets API. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/selftest.h"
#include "kernel/time.h"
#include "lwip/sockets.h"
#include "lwip/sys.h"
#include "net/net.h"

#define ECHO_BYTES (64 * 1024)
#define ECHO_CHUNK 4096
#define SOCK_TIMEOUT_S 10
#define MBOX_WAIT_MS 30
#define NS_PER_MS 1000000ULL

/* sys_arch: a timed wait on an empty mailbox times out after about its timeout, and a
 * message posted is fetched with the time waited. */
SELFTEST(lwip_sys_arch_mbox)
{
	sys_mbox_t mb;
	CHECK(sys_mbox_new(&mb, 2) == ERR_OK);
	CHECK(sys_mbox_valid(&mb));
	void *msg = 0;
	uint64_t t0 = time_ns();
	CHECK(sys_arch_mbox_fetch(&mb, &msg, MBOX_WAIT_MS) == SYS_ARCH_TIMEOUT);
	CHECK(time_ns() - t0 >= (MBOX_WAIT_MS - 1) * NS_PER_MS);
	CHECK(sys_mbox_trypost(&mb, &mb) == ERR_OK);
	CHECK(sys_mbox_trypost(&mb, &mb) == ERR_OK);
	CHECK(sys_mbox_trypost(&mb, &mb) == ERR_MEM); /* full */
	u32_t waited = sys_arch_mbox_fetch(&mb, &msg, MBOX_WAIT_MS);
	CHECK(waited != SYS_ARCH_TIMEOUT && waited < MBOX_WAIT_MS && msg == &mb);
	CHECK(sys_arch_mbox_tryfetch(&mb, &msg) == 0);
	CHECK(sys_arch_mbox_tryfetch(&mb, &msg) == SYS_MBOX_EMPTY);
	sys_mbox_free(&mb);
	CHECK(!sys_mbox_valid(&mb));
	return 0;
}

static int open_loopback(int type)
{
	int s = lwip_socket(AF_INET, type, 0);
	if (s < 0)
		return s;
	struct timeval tv = {.tv_sec = SOCK_TIMEOUT_S};
	struct sockaddr_in sa = {
		.sin_len = sizeof sa, .sin_family = AF_INET, .sin_port = lwip_htons(NET_ECHO_PORT)};
	sa.sin_addr.s_addr = lwip_htonl(INADDR_LOOPBACK);
	if (lwip_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    lwip_setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    lwip_connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		lwip_close(s);
		return -1;
	}
	return s;
}

static uint8_t pattern(size_t i) { return (uint8_t)(i * 7 + (i >> 8)); }

/* 64 KiB through the TCP echo service on 127.0.0.1, in chunks, each read back whole
 * before the next is sent, compared byte for byte. */
SELFTEST(net_loopback_tcp_echo)
{
	CHECK(net_start() == 0);
	uint8_t *out = kmalloc(ECHO_CHUNK), *in = kmalloc(ECHO_CHUNK);
	CHECK(out && in);
	int s = open_loopback(SOCK_STREAM);
	bool ok = s >= 0;
	for (size_t off = 0; ok && off < ECHO_BYTES; off += ECHO_CHUNK) {
		for (size_t i = 0; i < ECHO_CHUNK; i++)
			out[i] = pattern(off + i);
		ok = lwip_send(s, out, ECHO_CHUNK, 0) == ECHO_CHUNK;
		size_t got = 0;
		while (ok && got < ECHO_CHUNK) {
			ssize_t n = lwip_recv(s, in + got, ECHO_CHUNK - got, 0);
			ok = n > 0;
			if (ok)
				got += (size_t)n;
		}
		ok = ok && !memcmp(in, out, ECHO_CHUNK);
	}
	if (s >= 0)
		lwip_close(s);
	kfree(out);
	kfree(in);
	CHECK(s >= 0);
	CHECK(ok);
	return 0;
}

/* One datagram through the UDP echo service on 127.0.0.1. */
SELFTEST(net_loopback_udp_echo)
{
	CHECK(net_start() == 0);
	int s = open_loopback(SOCK_DGRAM);
	CHECK(s >= 0);
	static const char msg[] = "shoal udp echo";
	char in[sizeof msg] = "";
	bool sent = lwip_send(s, msg, sizeof msg, 0) == (ssize_t)sizeof msg;
	ssize_t n = lwip_recv(s, in, sizeof in, 0);
	lwip_close(s);
	CHECK(sent);
	CHECK(n == (ssize_t)sizeof msg && !memcmp(in, msg, sizeof msg));
	return 0;
}
