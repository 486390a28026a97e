/* addr.h: parsing of the network command-line values: `ip=ADDR/PREFIX[,GW]` (or
 * `ip=dhcp`) and `dns=ADDR`. Pure code, unit-tested on the host.
 *
 * Addresses are dotted-quad IPv4, four decimal numbers 0..255 without leading zeros
 * (so that 010 is never read as octal by one tool and decimal by another). The prefix
 * is 0..32; the host address must be neither the network nor the broadcast address of
 * its prefix (for prefixes up to /30), and the gateway must lie inside it. Every
 * rejected value is described in a message that names the key. */
#ifndef NET_ADDR_H
#define NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_ADDR_ERR_MAX 160 /* room for any message net_addr_* writes */

/* An IPv4 address in network byte order: a[0] is the first number written. */
struct net_ip4 {
	uint8_t a[4];
};

struct net_ip_config {
	bool dhcp; /* ip=dhcp, or no ip= at all */
	struct net_ip4 addr;
	int prefix;
	bool has_gw;
	struct net_ip4 gw;
};

/* Parse one dotted quad; 0, or -1 when s is not exactly one (no message). */
int net_addr_parse_ip4(const char *s, size_t len, struct net_ip4 *out);
/* Parse the value of ip= into out; 0, or -EINVAL with a message in err naming `ip`. */
int net_addr_parse_ip(const char *value, struct net_ip_config *out, char *err, size_t errlen);
/* Parse the value of dns= into out; 0, or -EINVAL with a message naming `dns`. */
int net_addr_parse_dns(const char *value, struct net_ip4 *out, char *err, size_t errlen);
/* The address as a 32-bit number in host order (a[0] in the top byte). */
uint32_t net_ip4_u32(const struct net_ip4 *ip);

#endif
