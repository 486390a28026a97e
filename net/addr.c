/* addr.c: the ip= and dns= value parsers (see addr.h). Pure code: no kernel state. */
#include "net/addr.h"

#include <errno.h>
#include <string.h>

#include "kernel/printf.h"

#define IP4_PARTS 4
#define IP4_PART_MAX 255
#define PREFIX_MAX 32
#define PREFIX_HOSTS_MIN 30	/* /31 and /32 have no network or broadcast address */
#define IP4_MULTICAST_FIRST 224 /* 224.0.0.0/4 multicast, then reserved */
#define IP4_LOOPBACK_NET 127

uint32_t net_ip4_u32(const struct net_ip4 *ip)
{
	return (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 | (uint32_t)ip->a[2] << 8 |
	       ip->a[3];
}

/* A decimal number of at most max, no sign, no leading zero; -1 when not one. */
static long parse_dec(const char *s, size_t len, long max)
{
	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > max ? -1 : v;
}

int net_addr_parse_ip4(const char *s, size_t len, struct net_ip4 *out)
{
	size_t start = 0;
	int part = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (part == IP4_PARTS)
			return -1;
		long v = parse_dec(s + start, i - start, IP4_PART_MAX);
		if (v < 0)
			return -1;
		out->a[part++] = (uint8_t)v;
		start = i + 1;
	}
	return part == IP4_PARTS ? 0 : -1;
}

static uint32_t prefix_mask(int prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (PREFIX_MAX - prefix);
}

int net_addr_parse_ip(const char *v, struct net_ip_config *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!strcmp(v, "dhcp")) {
		out->dhcp = true;
		return 0;
	}
	const char *slash = strchr(v, '/');
	if (!slash) {
		ksnprintf(err, errlen,
			  "ip: '%.32s' has no /PREFIX (expected ADDR/PREFIX[,GW] or dhcp)", v);
		return -EINVAL;
	}
	if (net_addr_parse_ip4(v, (size_t)(slash - v), &out->addr) < 0) {
		ksnprintf(err, errlen, "ip: bad address '%.*s' (expected a.b.c.d)",
			  (int)(slash - v) > 32 ? 32 : (int)(slash - v), v);
		return -EINVAL;
	}
	const char *comma = strchr(slash, ',');
	size_t plen = comma ? (size_t)(comma - slash - 1) : strlen(slash + 1);
	long prefix = parse_dec(slash + 1, plen, PREFIX_MAX);
	if (prefix < 0) {
		ksnprintf(err, errlen, "ip: bad prefix '%.*s' (expected 0..32)",
			  plen > 32 ? 32 : (int)plen, slash + 1);
		return -EINVAL;
	}
	out->prefix = (int)prefix;
	uint32_t a = net_ip4_u32(&out->addr), mask = prefix_mask(out->prefix);
	if (a == 0 || out->addr.a[0] >= IP4_MULTICAST_FIRST || out->addr.a[0] == IP4_LOOPBACK_NET) {
		ksnprintf(err, errlen, "ip: %u.%u.%u.%u is not a usable host address",
			  out->addr.a[0], out->addr.a[1], out->addr.a[2], out->addr.a[3]);
		return -EINVAL;
	}
	if (prefix <= PREFIX_HOSTS_MIN && ((a & ~mask) == 0 || (a & ~mask) == ~mask)) {
		ksnprintf(err, errlen, "ip: %u.%u.%u.%u is the network or broadcast address of /%d",
			  out->addr.a[0], out->addr.a[1], out->addr.a[2], out->addr.a[3],
			  out->prefix);
		return -EINVAL;
	}
	if (!comma)
		return 0;
	if (net_addr_parse_ip4(comma + 1, strlen(comma + 1), &out->gw) < 0) {
		ksnprintf(err, errlen, "ip: bad gateway '%.32s' (expected a.b.c.d)", comma + 1);
		return -EINVAL;
	}
	uint32_t g = net_ip4_u32(&out->gw);
	if ((g & mask) != (a & mask) || g == a) {
		ksnprintf(err, errlen, "ip: gateway %.32s is not another host of %u.%u.%u.%u/%d",
			  comma + 1, out->addr.a[0], out->addr.a[1], out->addr.a[2], out->addr.a[3],
			  out->prefix);
		return -EINVAL;
	}
	out->has_gw = true;
	return 0;
}

int net_addr_parse_dns(const char *v, struct net_ip4 *out, char *err, size_t errlen)
{
	if (net_addr_parse_ip4(v, strlen(v), out) < 0) {
		ksnprintf(err, errlen, "dns: bad address '%.32s' (expected a.b.c.d)", v);
		return -EINVAL;
	}
	if (net_ip4_u32(out) == 0 || out->a[0] >= IP4_MULTICAST_FIRST) {
		ksnprintf(err, errlen, "dns: %.32s is not a usable server address", v);
		return -EINVAL;
	}
	return 0;
}
