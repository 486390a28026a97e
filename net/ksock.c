/* ksock.c: TCP listen, connect and bounded transfers over lwIP's sockets (see ksock.h). */
#include "net/ksock.h"

#include <errno.h>
#include <string.h>

#include "kernel/time.h"

#define NS_PER_MS 1000000ULL

static uint64_t now_ms(void) { return time_ns() / NS_PER_MS; }

struct sockaddr_in ksock_addr(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_len = sizeof a;
	a.sin_family = AF_INET;
	a.sin_port = lwip_htons(port);
	a.sin_addr.s_addr = lwip_htonl(ip);
	return a;
}

void ksock_timeout(int s, int opt, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (long)(ms / 1000), .tv_usec = (long)(ms % 1000) * 1000};
	lwip_setsockopt(s, SOL_SOCKET, opt, &tv, sizeof tv);
}

int ksock_listen(uint32_t ip, uint16_t port, int backlog)
{
	int s = lwip_socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -ENFILE;
	int one = 1;
	/* Cannot fail on a fresh socket (lwipopts.h has SO_REUSE). */
	lwip_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = ksock_addr(ip, port);
	if (lwip_bind(s, (struct sockaddr *)&a, sizeof a) < 0 || lwip_listen(s, backlog) < 0) {
		lwip_close(s);
		return -EADDRINUSE;
	}
	return s;
}

int ksock_connect(uint32_t ip, uint16_t port, uint64_t timeout_ms)
{
	int s = lwip_socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -ENFILE;
	struct sockaddr_in a = ksock_addr(ip, port);
	lwip_fcntl(s, F_SETFL, O_NONBLOCK);
	/* Non-blocking: returns at once; select says when it is done, SO_ERROR how. */
	lwip_connect(s, (struct sockaddr *)&a, sizeof a);
	fd_set w;
	FD_ZERO(&w);
	FD_SET(s, &w);
	struct timeval tv = {.tv_sec = (long)(timeout_ms / 1000),
			     .tv_usec = (long)(timeout_ms % 1000) * 1000};
	int err = -1;
	socklen_t errlen = sizeof err;
	if (lwip_select(s + 1, NULL, &w, NULL, &tv) == 1 &&
	    lwip_getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &errlen) == 0 && err == 0) {
		lwip_fcntl(s, F_SETFL, 0);
		ksock_timeout(s, SO_RCVTIMEO, timeout_ms);
		ksock_timeout(s, SO_SNDTIMEO, timeout_ms);
		return s;
	}
	lwip_close(s);
	return -ECONNREFUSED;
}

int ksock_send_all(int s, const void *p, size_t len, uint64_t deadline)
{
	const uint8_t *b = p;
	while (len) {
		int r = lwip_send(s, b, len, 0);
		if (r <= 0 || now_ms() > deadline)
			return -EIO;
		b += r;
		len -= (size_t)r;
	}
	return 0;
}

int ksock_recv_all(int s, void *p, size_t len, uint64_t deadline)
{
	uint8_t *b = p;
	while (len) {
		int r = lwip_recv(s, b, len, 0);
		if (r <= 0 || now_ms() > deadline)
			return -EIO;
		b += r;
		len -= (size_t)r;
	}
	return 0;
}
