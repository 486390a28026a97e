/* sources: net/gossip/swim.c net/gossip/members.c net/gossip/bcast.c net/gossip/susp.c net/gossip/sync.c net/gossip/out.c net/gossip/app.c net/gossip/probe.c net/gossip/config.c net/gossip/wire.c net/gossip/keyring.c tests/host/gossip_port.c */
/* test_swim.c: the gossip core's state machine end to end: several real cores on a tiny
 * in-test network (test_swim_net.h) joining, probing, suspecting, declaring, refuting,
 * restarting, leaving and healing, with links cut and nodes crashed by hand. */
#include "test_swim_net.h"

static struct net T;

static int teardown(void **state)
{
	net_free(&T);
	return 0;
}

static void cluster(int n, enum gossip_profile p)
{
	static const char *const names[] = {"alpha", "bravo", "charlie", "delta",
					    "echo",  "fox",   "golf",	 "hotel"};
	int i;

	net_init(&T, p);
	for (i = 0; i < n; i++)
		net_add(&T, names[i]);
}

static void join_via_seed(void **state)
{
	int i;

	cluster(3, GOSSIP_PROFILE_FAST);
	assert_int_equal(gossip_count(T.g[1], GOSSIP_ALIVE), 1);
	net_join_all(&T);
	net_run(&T, 1000);
	assert_true(net_converged(&T));
	for (i = 0; i < 3; i++) {
		assert_int_equal(gossip_count(T.g[i], GOSSIP_ALIVE), 3);
		assert_int_equal(gossip_member_count(T.g[i]), 3);
		assert_int_equal(T.ev[i][GOSSIP_EV_ALIVE], 2); /* the two others, once each */
	}
	/* Joined: no more join attempts once not alone. */
	uint64_t frames = NET_SUM(&T, frames_out);
	net_run(&T, 5000);
	assert_true(NET_SUM(&T, frames_out) - frames < 4); /* periodic push-pull only */
}

static void join_retries_until_seed_is_up(void **state)
{
	cluster(2, GOSSIP_PROFILE_FAST);
	T.down[0] = true;
	net_join_all(&T);
	net_run(&T, 2000);
	/* One attempt, then one per join_retry_ms, each a failed stream. */
	assert_int_equal(gossip_stats(T.g[1])->streams_failed, 2000 / T.cfg.join_retry_ms + 1);
	T.down[0] = false;
	net_run(&T, 1000);
	assert_true(net_converged(&T));
}

static void join_via_discover(void **state)
{
	int i;

	cluster(4, GOSSIP_PROFILE_FAST);
	for (i = 0; i < 4; i++)
		assert_int_equal(gossip_join(T.g[i], NULL, 0, T.now), 0);
	net_run(&T, 2000);
	assert_true(net_converged(&T));
	/* A fifth node discovers the formed cluster. */
	net_add(&T, "echo");
	assert_int_equal(gossip_join(T.g[4], NULL, 0, T.now), 0);
	net_run(&T, 2000);
	assert_true(net_converged(&T));
}

static void probes_are_acked(void **state)
{
	const struct gossip_stats *s;

	cluster(2, GOSSIP_PROFILE_FAST);
	net_join_all(&T);
	net_run(&T, 10000);
	s = gossip_stats(T.g[0]);
	assert_true(s->probes >= 10000 / T.cfg.probe_interval_ms - 1);
	assert_true(s->probe_acks + 1 >= s->probes);
	assert_int_equal(s->probe_failed, 0);
	assert_int_equal(s->probe_indirect, 0);
	assert_int_equal(NET_SUM(&T, suspicions), 0);
	assert_int_equal(gossip_health(T.g[0]), 0);
}

static void indirect_probe_succeeds(void **state)
{
	cluster(3, GOSSIP_PROFILE_FAST);
	net_join_all(&T);
	net_run(&T, 1000);
	assert_true(net_converged(&T));
	/* alpha and bravo cannot hear each other; charlie relays. */
	T.cut[0][1] = T.cut[1][0] = true;
	net_run(&T, 5000);
	assert_true(gossip_stats(T.g[0])->probe_indirect > 0);
	assert_true(gossip_stats(T.g[1])->probe_indirect > 0);
	assert_int_equal(NET_SUM(&T, probe_failed), 0);
	assert_int_equal(NET_SUM(&T, suspicions), 0);
	assert_true(net_converged(&T));
}

static void crash_suspect_then_dead(void **state)
{
	uint64_t crash;
	int i;

	cluster(5, GOSSIP_PROFILE_FAST);
	net_join_all(&T);
	net_run(&T, 2000);
	assert_true(net_converged(&T));
	T.down[4] = true;
	crash = T.now;
	/* The first failed probe: its relays heard the prober but not the target and said
	 * so (nacks), so the prober does not blame itself: its health stays 0. */
	while (!NET_SUM(&T, probe_failed))
		net_run(&T, 1);
	for (i = 0; i < 4; i++)
		if (gossip_stats(T.g[i])->probe_failed)
			assert_int_equal(gossip_health(T.g[i]), 0);
	/* The fast profile's promise: everyone knows within 1.5 s. */
	net_run_until(&T, crash + 1500);
	for (i = 0; i < 4; i++) {
		assert_int_equal(net_state(&T, i, 4), GOSSIP_DEAD);
		assert_int_equal(T.ev[i][GOSSIP_EV_DEAD], 1);
		assert_int_equal(gossip_count(T.g[i], GOSSIP_ALIVE), 4);
	}
	assert_true(NET_SUM(&T, suspicions) >= 1);
	assert_true(NET_SUM(&T, probe_failed) >= 1);
	assert_true(NET_SUM(&T, declared_dead) >= 1);
	/* Nobody else was touched. */
	for (i = 0; i < 4; i++)
		assert_int_equal(T.ev[i][GOSSIP_EV_LEFT], 0);
	assert_true(NET_SUM(&T, probe_indirect) >= 1);
}

static void suspect_refutes(void **state)
{
	int i;

	cluster(3, GOSSIP_PROFILE_LAN);
	net_join_all(&T);
	net_run(&T, 3000);
	assert_true(net_converged(&T));
	/* bravo's word reaches alpha: charlie is suspect. */
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "charlie", 0, "bravo"));
	assert_int_equal(net_state(&T, 0, 2), GOSSIP_SUSPECT);
	net_events(&T, 0);
	assert_int_equal(T.ev[0][GOSSIP_EV_SUSPECT], 1);
	assert_int_equal(gossip_stats(T.g[0])->suspicions, 1);
	/* The rumour reaches charlie with alpha's next gossip; it refutes at once. */
	net_run(&T, 2 * T.cfg.gossip_interval_ms);
	assert_int_equal(gossip_stats(T.g[2])->refutations, 1);
	assert_int_equal(net_inc(&T, 2, 2), 1);
	net_run(&T, 1000);
	assert_true(net_converged(&T));
	for (i = 0; i < 2; i++) {
		assert_int_equal(net_inc(&T, i, 2), 1);
		assert_true(T.ev[i][GOSSIP_EV_ALIVE] >= 2);
	}
	assert_int_equal(NET_SUM(&T, declared_dead), 0);
	/* The old rumour replayed changes nothing now. */
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "charlie", 0, "bravo"));
	assert_int_equal(net_state(&T, 0, 2), GOSSIP_ALIVE);
	assert_int_equal(gossip_stats(T.g[0])->suspicions, 1);
}

static void dead_refutes_after_partition(void **state)
{
	int i;

	cluster(3, GOSSIP_PROFILE_FAST);
	net_join_all(&T);
	net_run(&T, 2000);
	net_isolate(&T, 2, true);
	net_run(&T, 3000);
	assert_int_equal(net_state(&T, 0, 2), GOSSIP_DEAD);
	assert_int_equal(net_state(&T, 1, 2), GOSSIP_DEAD);
	assert_int_equal(net_state(&T, 2, 0), GOSSIP_DEAD);
	net_isolate(&T, 2, false);
	net_run(&T, 5000);
	assert_true(net_converged(&T));
	assert_true(net_inc(&T, 0, 2) >= 1); /* charlie refuted its death */
	assert_true(gossip_stats(T.g[2])->refutations >= 1);
	for (i = 0; i < 2; i++)
		assert_true(T.ev[i][GOSSIP_EV_ALIVE] >= 3); /* joined, then came back */
}

static void restart_rejoins_above_old_incarnation(void **state)
{
	uint32_t dead_inc;
	int i;

	cluster(3, GOSSIP_PROFILE_FAST);
	net_join_all(&T);
	net_run(&T, 2000);
	T.down[2] = true;
	net_run(&T, 2000);
	assert_int_equal(net_state(&T, 0, 2), GOSSIP_DEAD);
	dead_inc = net_inc(&T, 0, 2);
	/* The same name, a new address, incarnation 0. */
	net_boot(&T, 2, GOSSIP_PORT + 1);
	assert_int_equal(net_inc(&T, 2, 2), 0);
	net_join_all(&T);
	net_run(&T, 2000);
	assert_true(net_converged(&T));
	assert_true(net_inc(&T, 2, 2) > dead_inc);
	assert_true(gossip_stats(T.g[2])->refutations >= 1);
	for (i = 0; i < 2; i++) {
		struct gossip_member m;
		assert_true(gossip_member_find(T.g[i], "charlie", &m));
		assert_int_equal(m.addr.port, GOSSIP_PORT + 1);
		assert_int_equal(m.incarnation, net_inc(&T, 2, 2));
	}
}

static void graceful_leave(void **state)
{
	struct wire_msg ping;
	struct gossip_out o;
	int i;

	cluster(3, GOSSIP_PROFILE_FAST);
	net_join_all(&T);
	net_run(&T, 2000);
	gossip_leave(T.g[2], T.now);
	net_run(&T, 500);
	for (i = 0; i < 2; i++) {
		assert_int_equal(net_state(&T, i, 2), GOSSIP_LEFT);
		assert_int_equal(T.ev[i][GOSSIP_EV_LEFT], 1);
		assert_int_equal(T.ev[i][GOSSIP_EV_DEAD], 0);
		assert_int_equal(gossip_count(T.g[i], GOSSIP_LEFT), 1);
	}
	assert_int_equal(net_state(&T, 2, 2), GOSSIP_LEFT);
	/* It answers nothing, and needs no timer once its news is out. */
	memset(&ping, 0, sizeof ping);
	ping.type = WIRE_PING;
	ping.u.ping.seq = 7;
	strcpy(ping.u.ping.target, "charlie");
	strcpy(ping.u.ping.source.name, "alpha");
	ping.u.ping.source.addr = net_addr(&T, 0);
	net_inject(&T, 2, &ping, 1);
	assert_false(gossip_next_out(T.g[2], &o));
	net_run(&T, 5000);
	assert_int_equal(gossip_deadline(T.g[2]), UINT64_MAX);
	assert_int_equal(NET_SUM(&T, suspicions), 0);
}

static void metadata_spreads_rate_limited(void **state)
{
	struct gossip_resources r = {
		.cpus = 4, .tasks = 1, .mem_total_mib = 512, .mem_free_mib = 100};
	struct gossip_member m;
	uint32_t inc;

	cluster(2, GOSSIP_PROFILE_FAST);
	net_join_all(&T);
	net_run(&T, 1000);
	inc = net_inc(&T, 0, 0);
	assert_int_equal(gossip_set_tags(T.g[0], "role=web,rack=3", T.now), 0);
	net_run(&T, 200);
	assert_true(gossip_member_find(T.g[1], "alpha", &m));
	assert_string_equal(m.tags, "role=web,rack=3");
	assert_int_equal(m.incarnation, inc + 1);
	assert_int_equal(m.meta_version, 1);
	assert_int_equal(T.ev[1][GOSSIP_EV_UPDATE], 1);
	/* Three changes within meta_min_interval_ms: the first goes out, the other two
	 * wait and are folded into one announcement. */
	net_run(&T, T.cfg.meta_min_interval_ms);
	gossip_set_resources(T.g[0], &r, T.now);
	r.tasks = 2;
	gossip_set_resources(T.g[0], &r, T.now + 10);
	r.tasks = 3;
	gossip_set_resources(T.g[0], &r, T.now + 20);
	assert_int_equal(gossip_stats(T.g[0])->meta_rate_limited, 2);
	net_run(&T, 100);
	assert_true(gossip_member_find(T.g[1], "alpha", &m));
	assert_int_equal(m.res.tasks, 1);
	net_run(&T, T.cfg.meta_min_interval_ms);
	assert_true(gossip_member_find(T.g[1], "alpha", &m));
	assert_int_equal(m.res.tasks, 3);
	assert_int_equal(m.res.mem_free_mib, 100);
	assert_int_equal(m.meta_version, 3); /* tags, resources, the folded resources */
	assert_int_equal(T.ev[1][GOSSIP_EV_UPDATE], 3);
	/* Unchanged values announce nothing; over-long tags are refused. */
	gossip_set_resources(T.g[0], &r, T.now);
	assert_int_equal(gossip_stats(T.g[0])->meta_rate_limited, 2);
	char big[GOSSIP_TAGS_MAX + 2];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	assert_int_equal(gossip_set_tags(T.g[0], big, T.now), -EINVAL);
}

static void health_rises_and_recovers(void **state)
{
	cluster(2, GOSSIP_PROFILE_FAST);
	net_join_all(&T);
	net_run(&T, 1000);
	assert_int_equal(gossip_health(T.g[0]), 0);
	net_isolate(&T, 1, true);
	/* Failed probes with no relay to ask: +1 each. */
	while (gossip_stats(T.g[0])->probe_failed < 1)
		net_run(&T, 10);
	assert_int_equal(gossip_health(T.g[0]), 1);
	net_run(&T, 3000);
	assert_int_equal(net_state(&T, 0, 1), GOSSIP_DEAD);
	/* Heal: bravo is alone and retries its seed; the two refute and probe again. */
	net_isolate(&T, 1, false);
	net_run(&T, 5000);
	assert_true(net_converged(&T));
	assert_int_equal(gossip_health(T.g[0]), 0);
	assert_int_equal(gossip_health(T.g[1]), 0);
}

static void health_stretches_probe_interval(void **state)
{
	uint64_t before, after;

	cluster(3, GOSSIP_PROFILE_LAN);
	net_join_all(&T);
	net_run(&T, 3000);
	before = gossip_stats(T.g[0])->probes;
	net_run(&T, 10000);
	before = gossip_stats(T.g[0])->probes - before;
	/* alpha loses everything it receives: its probes fail, its health sinks. */
	T.cut[1][0] = T.cut[2][0] = true;
	net_run(&T, 6000);
	assert_true(gossip_health(T.g[0]) >= 2);
	after = gossip_stats(T.g[0])->probes;
	net_run(&T, 10000);
	after = gossip_stats(T.g[0])->probes - after;
	assert_true(after * 2 <= before);
}

static void periodic_pushpull(void **state)
{
	uint64_t frames[2];
	int i;

	net_init(&T, GOSSIP_PROFILE_FAST);
	assert_int_equal(gossip_config_set(&T.cfg, "pushpull_interval_ms", "1000"), 0);
	net_add(&T, "alpha");
	net_add(&T, "bravo");
	net_join_all(&T);
	net_run(&T, 1000);
	for (i = 0; i < 2; i++)
		frames[i] = gossip_stats(T.g[i])->frames_out;
	net_run(&T, 10000);
	/* Each starts one exchange a second and answers the other's. */
	for (i = 0; i < 2; i++)
		assert_in_range(gossip_stats(T.g[i])->frames_out - frames[i], 18, 22);
	assert_int_equal(NET_SUM(&T, streams_failed), 0);
}

static void lossy_network_stays_calm(void **state)
{
	int i;

	cluster(8, GOSSIP_PROFILE_FAST);
	net_join_all(&T);
	net_run(&T, 2000);
	assert_true(net_converged(&T));
	T.loss_pct = 1;
	net_run(&T, 60000);
	assert_true(net_converged(&T));
	assert_int_equal(NET_SUM(&T, declared_dead), 0);
	for (i = 0; i < T.n; i++)
		assert_int_equal(T.ev[i][GOSSIP_EV_DEAD], 0);
	assert_true(T.udp_max_seen <= T.cfg.udp_max);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(join_via_seed, teardown),
		cmocka_unit_test_teardown(join_retries_until_seed_is_up, teardown),
		cmocka_unit_test_teardown(join_via_discover, teardown),
		cmocka_unit_test_teardown(probes_are_acked, teardown),
		cmocka_unit_test_teardown(indirect_probe_succeeds, teardown),
		cmocka_unit_test_teardown(crash_suspect_then_dead, teardown),
		cmocka_unit_test_teardown(suspect_refutes, teardown),
		cmocka_unit_test_teardown(dead_refutes_after_partition, teardown),
		cmocka_unit_test_teardown(restart_rejoins_above_old_incarnation, teardown),
		cmocka_unit_test_teardown(graceful_leave, teardown),
		cmocka_unit_test_teardown(metadata_spreads_rate_limited, teardown),
		cmocka_unit_test_teardown(health_rises_and_recovers, teardown),
		cmocka_unit_test_teardown(health_stretches_probe_interval, teardown),
		cmocka_unit_test_teardown(periodic_pushpull, teardown),
		cmocka_unit_test_teardown(lossy_network_stays_calm, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
