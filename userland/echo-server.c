/* echo-server.c: a TCP echo service on PORT (default 7000): accepts K connections
 * (default 1) one after another, sends back every byte each one sends until it closes,
 * then reports and exits 0. Socket errors exit 1 with the failing call named. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define BACKLOG 4
#define BUF 4096

static int die(const char *what)
{
	printf("echo-server: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Echo one connection until EOF: the bytes echoed, or -1. */
static long serve(int c)
{
	char buf[BUF];
	long total = 0;
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(c, buf + off, (size_t)(n - off));
			if (w < 0)
				return -1;
			off += w;
		}
		total += n;
	}
	return n < 0 ? -1 : total;
}

int main(int argc, char **argv)
{
	long port = arg_num(argc, argv, 1, 7000), k = arg_num(argc, argv, 2, 1);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	int one = 1, s;
	long bytes = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (port <= 0 || port > 65535 || k < 1) {
		fprintf(stderr, "usage: echo-server [PORT] [CONNECTIONS]\n");
		return 2;
	}
	a.sin_port = htons((unsigned short)port);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return die("socket");
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return die("setsockopt");
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return die("bind");
	if (listen(s, BACKLOG) < 0)
		return die("listen");
	printf("echo-server: listening on %ld\n", port);
	for (long i = 0; i < k; i++) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int c = accept(s, (struct sockaddr *)&peer, &len);
		if (c < 0)
			return die("accept");
		char ip[INET_ADDRSTRLEN] = "?";
		inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
		long n = serve(c);
		close(c);
		if (n < 0)
			return die("echo");
		printf("echo-server: connection %ld from %s: %ld bytes\n", i + 1, ip, n);
		bytes += n;
	}
	close(s);
	printf("echo-server: served %ld connections, %ld bytes\n", k, bytes);
	return 0;
}
