/* sources: net/gossip/config.c */
/* test_config.c: the gossip timing profiles (lan equals memberlist's LAN defaults), the
 * profile names, and "field=value" overrides with their ranges and errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/gossip/gossip.h"

static void lan_is_memberlist(void **state)
{
	struct gossip_config c;

	gossip_profile(&c, GOSSIP_PROFILE_LAN);
	assert_int_equal(c.probe_interval_ms, 1000);
	assert_int_equal(c.probe_timeout_ms, 500);
	assert_int_equal(c.indirect_checks, 3);
	assert_int_equal(c.suspicion_mult, 4);
	assert_int_equal(c.suspicion_max_mult, 6);
	assert_int_equal(c.gossip_interval_ms, 200);
	assert_int_equal(c.gossip_nodes, 3);
	assert_int_equal(c.retransmit_mult, 4);
	assert_int_equal(c.pushpull_interval_ms, 30000);
	assert_int_equal(c.awareness_max, 8);
	assert_int_equal(c.dead_reclaim_ms, 30000);
	assert_int_equal(c.udp_max, 1400);
}

/* fast must stay within what gossip_new accepts, and faster than lan where it counts. */
static void fast_is_sane(void **state)
{
	struct gossip_config f, l;

	gossip_profile(&f, GOSSIP_PROFILE_FAST);
	gossip_profile(&l, GOSSIP_PROFILE_LAN);
	assert_true(f.probe_timeout_ms < f.probe_interval_ms);
	assert_true(f.probe_interval_ms < l.probe_interval_ms);
	assert_true(f.gossip_interval_ms < l.gossip_interval_ms);
	assert_true(f.indirect_checks >= 1);
	assert_true(f.suspicion_mult >= 1 && f.suspicion_max_mult >= 1);
	assert_true(f.udp_max <= GOSSIP_UDP_MAX);
	assert_true(f.join_retry_ms > 0);
	/* The promise's arithmetic: suspicion minimum at 50 members under 1.5 s with room
	 * for a round of probing and dissemination (log10 50 < 1.7). */
	assert_true(f.suspicion_mult * 17 * f.probe_interval_ms / 10 + 2 * f.probe_interval_ms <
		    1500);
}

static void profile_names(void **state)
{
	enum gossip_profile p = GOSSIP_PROFILE_LAN;

	assert_int_equal(gossip_profile_parse("fast", &p), 0);
	assert_int_equal(p, GOSSIP_PROFILE_FAST);
	assert_int_equal(gossip_profile_parse("lan", &p), 0);
	assert_int_equal(p, GOSSIP_PROFILE_LAN);
	assert_int_equal(gossip_profile_parse("LAN", &p), -EINVAL);
	assert_int_equal(gossip_profile_parse("", &p), -EINVAL);
	assert_int_equal(gossip_profile_parse("wan", &p), -EINVAL);
	assert_int_equal(gossip_profile_parse(NULL, &p), -EINVAL);
	assert_int_equal(p, GOSSIP_PROFILE_LAN);
}

static void set_every_field(void **state)
{
	static const char *const keys[] = {
		"probe_interval_ms",	"probe_timeout_ms",   "indirect_checks", "suspicion_mult",
		"suspicion_max_mult",	"gossip_interval_ms", "gossip_nodes",	 "retransmit_mult",
		"pushpull_interval_ms", "awareness_max",      "dead_reclaim_ms", "join_retry_ms",
		"meta_min_interval_ms",
	};
	struct gossip_config c, before;
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		gossip_profile(&c, GOSSIP_PROFILE_LAN);
		before = c;
		assert_int_equal(gossip_config_set(&c, keys[i], "16"), 0);
		/* exactly one field changed, to 16 */
		assert_memory_not_equal(&c, &before, sizeof c);
		{
			const uint32_t *a = (const uint32_t *)&c, *b = (const uint32_t *)&before;
			size_t k, diff = 0;
			for (k = 0; k < sizeof c / sizeof *a; k++)
				if (a[k] != b[k]) {
					diff++;
					assert_int_equal(a[k], 16);
				}
			assert_int_equal(diff, 1);
		}
	}
	gossip_profile(&c, GOSSIP_PROFILE_FAST);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", "250"), 0);
	assert_int_equal(c.probe_interval_ms, 250);
	assert_int_equal(gossip_config_set(&c, "pushpull_interval_ms", "0"), 0); /* off */
	assert_int_equal(c.pushpull_interval_ms, 0);
	assert_int_equal(gossip_config_set(&c, "udp_max", "600"), 0);
	assert_int_equal(c.udp_max, 600);
}

static void set_errors(void **state)
{
	struct gossip_config c, before;

	gossip_profile(&c, GOSSIP_PROFILE_FAST);
	before = c;
	assert_int_equal(gossip_config_set(&c, "probe_interval", "100"), -ENOENT);
	assert_int_equal(gossip_config_set(&c, "", "100"), -ENOENT);
	assert_int_equal(gossip_config_set(&c, NULL, "100"), -ENOENT);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", ""), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", NULL), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", "-5"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", "+5"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", "12x"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", " 12"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", "1e3"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", "99999999999"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", "4294967296"), -EINVAL);
	/* Out of range, both ends. */
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", "9"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", "60001"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "gossip_nodes", "0"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "gossip_nodes", "65"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "indirect_checks", "17"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "udp_max", "511"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "udp_max", "1401"), -EINVAL);
	assert_int_equal(gossip_config_set(&c, "awareness_max", "0"), -EINVAL);
	assert_memory_equal(&c, &before, sizeof c);
	/* The edges themselves are fine. */
	assert_int_equal(gossip_config_set(&c, "probe_interval_ms", "10"), 0);
	assert_int_equal(gossip_config_set(&c, "indirect_checks", "0"), 0);
	assert_int_equal(gossip_config_set(&c, "udp_max", "512"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lan_is_memberlist), cmocka_unit_test(fast_is_sane),
		cmocka_unit_test(profile_names),     cmocka_unit_test(set_every_field),
		cmocka_unit_test(set_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
