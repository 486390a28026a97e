/* metrics_test.c: self-tests of the Prometheus endpoint: request routing, and the text's
 * shape (every sample after its family's HELP and TYPE lines, names and values well
 * formed, real figures in it). The HTTP path itself is checked from the host with
 * promtool by tests/qemu/console.sh. */
#include <stdbool.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/pmm.h"
#include "kernel/printf.h"
#include "kernel/selftest.h"
#include "net/metrics.h"

#define NAME_MAX_LEN 96

SELFTEST(metrics_route)
{
	CHECK(metrics_route("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") == 200);
	CHECK(metrics_route("GET /metrics HTTP/1.0\r\n\r\n") == 200);
	CHECK(metrics_route("GET /metrics?name[]=x HTTP/1.1\n\n") == 200);
	CHECK(metrics_route("GET / HTTP/1.1\r\n\r\n") == 404);
	CHECK(metrics_route("GET /metricsx HTTP/1.1\r\n\r\n") == 404);
	CHECK(metrics_route("POST /metrics HTTP/1.1\r\n\r\n") == 405);
	CHECK(metrics_route("HEAD /metrics HTTP/1.1\r\n\r\n") == 405);
	CHECK(metrics_route("BLAH\r\n\r\n") == 400);
	CHECK(metrics_route("get /metrics HTTP/1.1\r\n\r\n") == 400);
	CHECK(metrics_route("GET /metrics HTTP/2.0\r\n\r\n") == 400);
	CHECK(metrics_route("GET  /metrics HTTP/1.1\r\n\r\n") == 400);
	CHECK(metrics_route("GET metrics HTTP/1.1\r\n\r\n") == 400);
	CHECK(metrics_route("GET /metrics\r\n\r\n") == 400);
	CHECK(metrics_route("") == 400);
	return 0;
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* One sample line: NAME[{...}] VALUE; the family name (NAME without a summary's _sum or
 * _count) copied to fam. */
static bool sample_ok(const char *l, size_t n, char fam[NAME_MAX_LEN])
{
	size_t i = 0;
	while (i < n && name_char(l[i], i == 0))
		i++;
	if (i == 0 || i >= NAME_MAX_LEN)
		return false;
	memcpy(fam, l, i);
	fam[i] = 0;
	if (i < n && l[i] == '{') {
		while (i < n && l[i] != '}')
			i++;
		i++;
	}
	if (i >= n || l[i] != ' ')
		return false;
	i++;
	if (i == n)
		return false;
	for (; i < n; i++)
		if (!((l[i] >= '0' && l[i] <= '9') || l[i] == '.'))
			return false;
	return true;
}

SELFTEST(metrics_text)
{
	size_t len;
	char *t = metrics_render(&len);
	CHECK(t != NULL);
	CHECK(len > 0 && t[len - 1] == '\n' && strlen(t) == len);
	char type_of[NAME_MAX_LEN] = "", fam[NAME_MAX_LEN];
	int samples = 0, bad = 0;
	for (char *l = t; *l;) {
		char *e = strchr(l, '\n');
		size_t n = (size_t)(e - l);
		if (!strncmp(l, "# TYPE ", 7)) {
			size_t k = strcspn(l + 7, " ");
			if (k < NAME_MAX_LEN) {
				memcpy(type_of, l + 7, k);
				type_of[k] = 0;
			}
		} else if (strncmp(l, "# HELP ", 7)) {
			/* A sample of the family the last TYPE line named (a summary's _sum and
			 * _count belong to it). */
			bool ok = sample_ok(l, n, fam);
			size_t tl = strlen(type_of);
			ok = ok && !strncmp(fam, type_of, tl) &&
			     (!fam[tl] || !strcmp(fam + tl, "_sum") || !strcmp(fam + tl, "_count"));
			if (!ok && bad++ < 3)
				kerror("selftest: metrics line '%.*s' (family %s)", (int)n, l,
				       type_of);
			samples++;
		}
		l = e + 1;
	}
	char want[64];
	ksnprintf(want, sizeof want, "\nshoal_memory_total_bytes %lu\n", pmm_total_bytes());
	bool mem = strstr(t, want) != NULL;
	bool console = strstr(t, "\nshoal_console_handshakes_failed_total ") != NULL;
	kfree(t);
	CHECK(bad == 0);
	CHECK(samples > 40);
	CHECK(mem);
	CHECK(console);
	return 0;
}
