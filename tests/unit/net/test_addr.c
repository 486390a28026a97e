/* sources: net/addr.c kernel/printf.c */
/* test_addr.c: the ip= and dns= parsers: the accepted forms, and every malformed form
 * rejected with a message that names its key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net/addr.h"

static void ip_static_with_gateway(void **state)
{
	struct net_ip_config c;
	char err[NET_ADDR_ERR_MAX] = "";
	assert_int_equal(net_addr_parse_ip("10.0.2.15/24,10.0.2.2", &c, err, sizeof err), 0);
	assert_false(c.dhcp);
	assert_int_equal(net_ip4_u32(&c.addr), 0x0a00020f);
	assert_int_equal(c.prefix, 24);
	assert_true(c.has_gw);
	assert_int_equal(net_ip4_u32(&c.gw), 0x0a000202);
	assert_string_equal(err, "");
}

static void ip_static_without_gateway(void **state)
{
	struct net_ip_config c;
	char err[NET_ADDR_ERR_MAX];
	assert_int_equal(net_addr_parse_ip("192.168.1.7/16", &c, err, sizeof err), 0);
	assert_int_equal(c.prefix, 16);
	assert_false(c.has_gw);
	/* /31 and /32 have no network or broadcast address to avoid. */
	assert_int_equal(net_addr_parse_ip("10.0.0.0/31", &c, err, sizeof err), 0);
	assert_int_equal(net_addr_parse_ip("10.0.0.255/32", &c, err, sizeof err), 0);
	assert_int_equal(net_addr_parse_ip("255.0.0.1/0", &c, err, sizeof err), -EINVAL);
}

static void ip_dhcp(void **state)
{
	struct net_ip_config c;
	char err[NET_ADDR_ERR_MAX];
	assert_int_equal(net_addr_parse_ip("dhcp", &c, err, sizeof err), 0);
	assert_true(c.dhcp);
}

static void ip_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"dhcp6",
		"10.0.2.15",
		"10.0.2.15/",
		"10.0.2.15/33",
		"10.0.2.15/-1",
		"10.0.2.15/024",
		"10.0.2.15/24x",
		"10.0.2/24",
		"10.0.2.15.1/24",
		"10.0.2.256/24",
		"10.0.02.15/24",
		"10..2.15/24",
		".10.0.2/24",
		"10.0.2.15./24",
		"a.b.c.d/24",
		" 10.0.2.15/24",
		"10.0.2.15 /24",
		"/24",
		"10.0.2.15/24,",
		"10.0.2.15/24,10.0.2",
		"10.0.2.15/24,10.0.3.2",
		"10.0.2.15/24,10.0.2.15",
		"10.0.2.15/24,10.0.2.2,10.0.2.3",
		"10.0.2.0/24",
		"10.0.2.255/24",
		"0.0.0.0/8",
		"127.0.0.1/8",
		"224.0.0.5/24",
		"255.255.255.255/32",
		"10.0.2.15/24/8",
		"1000.0.2.15/24",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct net_ip_config c;
		char err[NET_ADDR_ERR_MAX] = "";
		int rc = net_addr_parse_ip(bad[i], &c, err, sizeof err);
		if (rc != -EINVAL || strncmp(err, "ip: ", 4) != 0)
			fail_msg("ip=%s: rc %d, message '%s'", bad[i], rc, err);
	}
}

static void dns_values(void **state)
{
	struct net_ip4 d;
	char err[NET_ADDR_ERR_MAX] = "";
	assert_int_equal(net_addr_parse_dns("10.0.2.3", &d, err, sizeof err), 0);
	assert_int_equal(net_ip4_u32(&d), 0x0a000203);
	static const char *const bad[] = {"",	     "10.0.2",	  "10.0.2.3.4",	 "10.0.2.300", "x",
					  "0.0.0.0", "239.1.1.1", "10.0.2.3/24", "10.0.2.3,1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		int rc = net_addr_parse_dns(bad[i], &d, err, sizeof err);
		if (rc != -EINVAL || strncmp(err, "dns: ", 5) != 0)
			fail_msg("dns=%s: rc %d, message '%s'", bad[i], rc, err);
	}
}

static void long_values_truncated_in_messages(void **state)
{
	char v[600];
	memset(v, '9', sizeof v - 1);
	v[sizeof v - 1] = 0;
	struct net_ip_config c;
	char err[NET_ADDR_ERR_MAX] = "";
	assert_int_equal(net_addr_parse_ip(v, &c, err, sizeof err), -EINVAL);
	assert_true(strlen(err) < sizeof err);
	assert_int_equal(strncmp(err, "ip: ", 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ip_static_with_gateway),
		cmocka_unit_test(ip_static_without_gateway),
		cmocka_unit_test(ip_dhcp),
		cmocka_unit_test(ip_malformed),
		cmocka_unit_test(dns_values),
		cmocka_unit_test(long_values_truncated_in_messages),
	};
	return cmocka_run_group_tests(tests, 0, 0);
}
