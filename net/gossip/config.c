/* config.c: the gossip timing profiles and the "field=value" overrides.
 *
 * `lan` is memberlist's DefaultLANConfig, value for value, so shoal and Serf compare
 * one-to-one at equal periods.
 *
 * `fast` (the default) is for a LAN of nodes without GC pauses or a busy host OS, and
 * must make a crash known to every member of 50 within 1.5 s with no false positive at
 * 1% loss. The time from a crash to the last member's DEAD adds up as:
 *   first probe of the dead node    each of the 49 others probes it once per round of
 *                                   49 intervals at a random slot, so about one probe of
 *                                   it starts per interval: the first after ~1 interval,
 *                                   after more than 5 with probability ~e^-5;
 *   that probe failing              one probe interval (timeout, then the ping-reqs);
 *   the suspicion                   min = suspicion_mult x max(1, log10 N) x interval;
 *                                   suspicion_mult 2 means k = 0 confirmations wanted,
 *                                   so min applies at once (max_mult is then unused);
 *   dissemination                   every member that hears the suspicion gossips it at
 *                                   once and every 20 ms to 3 others, so every member's
 *                                   own timer (which alone declares) starts within a
 *                                   few rounds of the first.
 * At 50 members: 100 + 100 + 2 x 1.7 x 100 = 540 ms plus the wait for the first probe
 * and ~30 ms of gossip. Measured (tests/sim, 50 members, 1% loss, 5 seeds x 10
 * crashes): the last member knows 0.46-1.08 s after the crash (the long ones waited
 * 6-7 intervals for a first probe), no false positive in 5 x 600 s; at 1,000 members
 * and 1% loss 0.79-0.87 s, none either.
 * False positives: a probe fails falsely at 1% loss only if the ping or ack and all
 * three indirect paths (four datagrams each) are lost, ~2% x 4%^3 ~ 1e-6 per probe; and
 * the 340 ms minimum suspicion is two orders of magnitude above a LAN round trip: the
 * accuser sends the SUSPECT straight to the suspect, pings of suspects carry it, and the
 * refutation goes straight back to the accuser as well as into gossip.
 * retransmit_mult is 6, not memberlist's 4: during a mass join every member must hear
 * some 50 join rumours, and at 4 x 2 sends per carrier about one member in a 50-node
 * join missed one (e^-8 x 2,500 pairs) and waited for push-pull; at 6 none did.
 * Idle load per node: 10 pings and 10 acks a second, ~1.0 KB/s sent (as much received)
 * and 20 datagrams/s, flat from 50 to 1,000 members, plus push-pull: one exchange per
 * 15 s scaled by log2 N above 32 members (~130 B/s at 50, ~640 B/s at 1,000). lan sends
 * ~100 B/s and 2 datagrams/s (Serf: 216 B/s), and detects a crash at 50 members in
 * 8.0-10.0 s (Serf, measured: 8.3-9.3 s).
 * The probe timeout (40 ms) leaves room for a slow guest's scheduling; indirect probes
 * get the other 60 ms of the interval. Under TCG emulation with several guests on few
 * cores, round trips can exceed that: the kernel may want probe_timeout_ms and
 * probe_interval_ms raised there (gossip.probe_interval_ms=... on the command line). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "net/gossip/gossip.h"

#define MS_MAX 86400000u /* a day: no period of this protocol needs longer */

void gossip_profile(struct gossip_config *c, enum gossip_profile p)
{
	if (p == GOSSIP_PROFILE_LAN) {
		*c = (struct gossip_config){
			.probe_interval_ms = 1000,
			.probe_timeout_ms = 500,
			.indirect_checks = 3,
			.suspicion_mult = 4,
			.suspicion_max_mult = 6,
			.gossip_interval_ms = 200,
			.gossip_nodes = 3,
			.retransmit_mult = 4,
			.pushpull_interval_ms = 30000,
			.awareness_max = 8,
			.dead_reclaim_ms = 30000,
			.join_retry_ms = 1000,
			.meta_min_interval_ms = 1000,
			.udp_max = GOSSIP_UDP_MAX,
		};
		return;
	}
	*c = (struct gossip_config){
		.probe_interval_ms = 100,
		.probe_timeout_ms = 40,
		.indirect_checks = 3,
		.suspicion_mult = 2,
		.suspicion_max_mult = 2,
		.gossip_interval_ms = 20,
		.gossip_nodes = 3,
		.retransmit_mult = 6,
		.pushpull_interval_ms = 15000,
		.awareness_max = 8,
		.dead_reclaim_ms = 30000,
		.join_retry_ms = 500,
		.meta_min_interval_ms = 500,
		.udp_max = GOSSIP_UDP_MAX,
	};
}

int gossip_profile_parse(const char *s, enum gossip_profile *p)
{
	if (!s)
		return -EINVAL;
	if (strcmp(s, "fast") == 0)
		*p = GOSSIP_PROFILE_FAST;
	else if (strcmp(s, "lan") == 0)
		*p = GOSSIP_PROFILE_LAN;
	else
		return -EINVAL;
	return 0;
}

struct field {
	const char *name;
	size_t off;
	uint32_t min, max;
};

#define F(f, lo, hi)                                                                               \
	{                                                                                          \
#f, offsetof(struct gossip_config, f), lo, hi                                      \
	}

/* The ranges gossip_new accepts, and sane ones: a probe timeout must also not exceed
 * the probe interval (checked by gossip_new, as it involves two fields). */
static const struct field fields[] = {
	F(probe_interval_ms, 10, 60000),
	F(probe_timeout_ms, 1, 60000),
	F(indirect_checks, 0, 16),
	F(suspicion_mult, 1, 64),
	F(suspicion_max_mult, 1, 64),
	F(gossip_interval_ms, 1, 60000),
	F(gossip_nodes, 1, 64),
	F(retransmit_mult, 1, 64),
	F(pushpull_interval_ms, 0, MS_MAX), /* 0: no periodic push-pull */
	F(awareness_max, 1, 64),
	F(dead_reclaim_ms, 0, MS_MAX),
	F(join_retry_ms, 10, MS_MAX),
	F(meta_min_interval_ms, 0, MS_MAX),
	F(udp_max, 512, GOSSIP_UDP_MAX),
};

/* A plain decimal: digits only, no sign, no overflow. 0 or -EINVAL. */
static int decimal(const char *s, uint32_t *v)
{
	uint64_t x = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(*s - '0');
		if (x > UINT32_MAX)
			return -EINVAL;
	}
	*v = (uint32_t)x;
	return 0;
}

int gossip_config_set(struct gossip_config *c, const char *key, const char *value)
{
	const struct field *f;
	uint32_t v;

	if (!key)
		return -ENOENT;
	for (f = fields; f < fields + sizeof fields / sizeof fields[0]; f++) {
		if (strcmp(f->name, key) != 0)
			continue;
		if (decimal(value, &v) < 0 || v < f->min || v > f->max)
			return -EINVAL;
		memcpy((char *)c + f->off, &v, sizeof v);
		return 0;
	}
	return -ENOENT;
}

const char *gossip_state_name(enum gossip_state s)
{
	switch (s) {
	case GOSSIP_ALIVE:
		return "alive";
	case GOSSIP_SUSPECT:
		return "suspect";
	case GOSSIP_DEAD:
		return "dead";
	case GOSSIP_LEFT:
		return "left";
	}
	return "?";
}
