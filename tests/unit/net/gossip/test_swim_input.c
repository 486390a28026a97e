/* sources: net/gossip/swim.c net/gossip/members.c net/gossip/bcast.c net/gossip/susp.c net/gossip/sync.c net/gossip/out.c net/gossip/app.c net/gossip/probe.c net/gossip/config.c net/gossip/wire.c net/gossip/keyring.c tests/host/gossip_port.c */
/* test_swim_input.c: the gossip core fed crafted datagrams and frames: precedence of
 * rumours by incarnation, stale and replayed ones, address changes, self-refutation,
 * dynamic suspicion timing, reclaim of the dead, push-pull merge rules, the broadcast
 * queue's bound, and bad input dropped and counted under exactly one reason. */
#include "test_swim_net.h"

static struct net T;

static int teardown(void **state)
{
	net_free(&T);
	return 0;
}

/* One core, "self", with the given profile; members are injected. */
static void solo(enum gossip_profile p)
{
	net_init(&T, p);
	net_add(&T, "self");
}

static uint32_t ip_of(int k) { return NET_IP + 100 + (uint32_t)k; }

static void drain(void)
{
	struct gossip_out o;

	while (gossip_next_out(T.g[0], &o))
		;
	net_events(&T, 0);
}

static void alive_precedence_and_address_change(void **state)
{
	struct gossip_member m;

	solo(GOSSIP_PROFILE_FAST);
	inject1(&T, 0, msg_alive("bravo", 5, ip_of(1)));
	drain();
	assert_true(gossip_member_find(T.g[0], "bravo", &m));
	assert_int_equal(m.state, GOSSIP_ALIVE);
	assert_int_equal(m.incarnation, 5);
	assert_int_equal(T.ev[0][GOSSIP_EV_ALIVE], 1);
	/* Same incarnation, other address: not news (an impostor or a stale echo). */
	inject1(&T, 0, msg_alive("bravo", 5, ip_of(2)));
	/* Older incarnation: stale. */
	inject1(&T, 0, msg_alive("bravo", 4, ip_of(3)));
	drain();
	assert_true(gossip_member_find(T.g[0], "bravo", &m));
	assert_int_equal(m.addr.ip, ip_of(1));
	assert_int_equal(T.ev[0][GOSSIP_EV_UPDATE], 0);
	/* Higher incarnation with a new address: the node moved. */
	inject1(&T, 0, msg_alive("bravo", 6, ip_of(4)));
	drain();
	assert_true(gossip_member_find(T.g[0], "bravo", &m));
	assert_int_equal(m.addr.ip, ip_of(4));
	assert_int_equal(m.incarnation, 6);
	assert_int_equal(T.ev[0][GOSSIP_EV_UPDATE], 1);
	assert_int_equal(T.ev[0][GOSSIP_EV_ALIVE], 1);
	assert_int_equal(gossip_member_count(T.g[0]), 2);
}

static void suspect_dead_precedence(void **state)
{
	uint64_t t0;

	solo(GOSSIP_PROFILE_FAST);
	inject1(&T, 0, msg_alive("bravo", 5, ip_of(1)));
	inject1(&T, 0, msg_alive("charlie", 0, ip_of(2)));
	/* Stale accusations change nothing. */
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "bravo", 4, "charlie"));
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "bravo", 4, "charlie"));
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_ALIVE);
	/* Accusations about strangers are ignored. */
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "nobody", 9, "charlie"));
	assert_int_equal(state_of(&T, 0, "nobody"), -1);
	/* Suspect at the current incarnation, then alive at the same one: suspect wins. */
	t0 = T.now;
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "bravo", 5, "charlie"));
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_SUSPECT);
	inject1(&T, 0, msg_alive("bravo", 5, ip_of(1)));
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_SUSPECT);
	/* Another member's verdict only confirms the suspicion: our own timer (the fast
	 * profile's minimum, 2 x 1 x 100 ms here) declares. */
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "bravo", 5, "charlie"));
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_SUSPECT);
	gossip_tick(T.g[0], t0 + 2 * T.cfg.probe_interval_ms - 1);
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_SUSPECT);
	gossip_tick(T.g[0], t0 + 2 * T.cfg.probe_interval_ms);
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_DEAD);
	T.now = t0 + 2 * T.cfg.probe_interval_ms;
	/* Dead beats alive and suspect at the same incarnation. */
	inject1(&T, 0, msg_alive("bravo", 5, ip_of(1)));
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "bravo", 5, "delta"));
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_DEAD);
	/* A leave (DEAD from itself) still turns dead into left. */
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "bravo", 5, "bravo"));
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_LEFT);
	/* A higher incarnation brings it back. */
	inject1(&T, 0, msg_alive("bravo", 6, ip_of(1)));
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_ALIVE);
	/* A verdict about a member held alive starts a suspicion, not a death. */
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "charlie", 0, "bravo"));
	assert_int_equal(state_of(&T, 0, "charlie"), GOSSIP_SUSPECT);
	/* A leave is the member's own word: final at once. */
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "charlie", 0, "charlie"));
	assert_int_equal(state_of(&T, 0, "charlie"), GOSSIP_LEFT);
	drain();
	assert_int_equal(T.ev[0][GOSSIP_EV_SUSPECT], 2);
	assert_int_equal(T.ev[0][GOSSIP_EV_DEAD], 1);
	assert_int_equal(T.ev[0][GOSSIP_EV_LEFT], 2);
	assert_int_equal(T.ev[0][GOSSIP_EV_ALIVE], 3);
	assert_int_equal(gossip_count(T.g[0], GOSSIP_ALIVE), 2);
	assert_int_equal(gossip_stats(T.g[0])->declared_dead, 1);
}

/* Whoever hears an accusation older than what it knows answers its sender with the
 * newer ALIVE: stale rumours are corrected where they travel. */
static void stale_rumour_answered(void **state)
{
	struct gossip_out o;
	struct wire_reader r;
	struct wire_msg m;
	uint8_t plain[GOSSIP_UDP_MAX];
	long n;

	solo(GOSSIP_PROFILE_FAST);
	inject1(&T, 0, msg_alive("bravo", 3, ip_of(1)));
	drain();
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "bravo", 2, "charlie"));
	assert_true(gossip_next_out(T.g[0], &o));
	assert_int_equal(o.to.ip, STRANGER_IP);
	n = gossip_open(&T.kr, CLUSTER, o.data, o.len, plain, sizeof plain);
	assert_true(n > 0);
	assert_int_equal(wire_open(&r, plain, (size_t)n), 0);
	assert_int_equal(wire_get(&r, &m), 1);
	assert_int_equal(m.type, WIRE_ALIVE);
	assert_string_equal(m.u.alive.node.name, "bravo");
	assert_int_equal(m.u.alive.incarnation, 3);
	assert_false(gossip_next_out(T.g[0], &o));
}

static void replayed_datagram_is_harmless(void **state)
{
	struct wire_msg susp = msg_accuse(WIRE_SUSPECT, "bravo", 1, "charlie");
	uint8_t body[256], sealed[512], nonce[GOSSIP_NONCE_LEN] = {9};
	struct gossip_addr from = {.ip = STRANGER_IP, .port = GOSSIP_PORT};
	struct wire_writer w;
	long n;

	solo(GOSSIP_PROFILE_FAST);
	inject1(&T, 0, msg_alive("bravo", 1, ip_of(1)));
	assert_int_equal(wire_begin(&w, body, sizeof body), 0);
	assert_int_equal(wire_put(&w, &susp), 0);
	n = gossip_seal(&T.kr, CLUSTER, nonce, body, w.len, sealed, sizeof sealed);
	assert_true(n > 0);
	gossip_udp_in(T.g[0], from, sealed, (size_t)n, T.now);
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_SUSPECT);
	inject1(&T, 0, msg_alive("bravo", 2, ip_of(1)));       /* it refuted */
	gossip_udp_in(T.g[0], from, sealed, (size_t)n, T.now); /* the replay */
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_ALIVE);
	assert_int_equal(gossip_stats(T.g[0])->suspicions, 1);
	drain();
	assert_int_equal(T.ev[0][GOSSIP_EV_SUSPECT], 1);
}

static void self_refutes_accusations(void **state)
{
	struct gossip_member m;
	struct wire_msg other;

	solo(GOSSIP_PROFILE_FAST);
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "self", 0, "bravo"));
	assert_int_equal(net_inc(&T, 0, 0), 1);
	assert_int_equal(gossip_health(T.g[0]), 1);
	assert_int_equal(gossip_stats(T.g[0])->refutations, 1);
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "self", 7, "bravo"));
	assert_int_equal(net_inc(&T, 0, 0), 8);
	assert_int_equal(gossip_health(T.g[0]), 2);
	assert_int_equal(state_of(&T, 0, "self"), GOSSIP_ALIVE);
	/* Stale: nothing to refute. */
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "self", 3, "bravo"));
	assert_int_equal(net_inc(&T, 0, 0), 8);
	/* Our own announcement echoed back: nothing. Another life's metadata at our
	 * incarnation: refuted. */
	assert_true(gossip_member_find(T.g[0], "self", &m));
	other = msg_alive("self", 8, m.addr.ip);
	other.u.alive.res = m.res;
	inject1(&T, 0, other);
	assert_int_equal(net_inc(&T, 0, 0), 8);
	strcpy(other.u.alive.tags, "old=life");
	inject1(&T, 0, other);
	assert_int_equal(net_inc(&T, 0, 0), 9);
	assert_int_equal(gossip_stats(T.g[0])->refutations, 3);
	/* Health is capped at awareness_max - 1. */
	for (int k = 0; k < 20; k++)
		inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "self", net_inc(&T, 0, 0), "bravo"));
	assert_int_equal(gossip_health(T.g[0]), T.cfg.awareness_max - 1);
}

/* lan: suspicion_mult 4 gives k = 2 confirmations wanted; with 6 members log10 N < 1,
 * so min = 4 x 1000 ms and max = 6 x min. */
static void suspicion_shrinks_with_confirmations(void **state)
{
	static const char *const names[] = {"bravo", "charlie", "delta", "echo", "xray"};
	const uint64_t min = 4000, max = 24000;
	uint64_t t0, second;
	int k;

	solo(GOSSIP_PROFILE_LAN);
	for (k = 0; k < 5; k++)
		inject1(&T, 0, msg_alive(names[k], 0, ip_of(k)));
	t0 = T.now;
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "xray", 0, "bravo"));
	assert_true(gossip_deadline(T.g[0]) <= t0 + max);
	/* One accuser: the full max. The same accuser again does not count. */
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "xray", 0, "bravo"));
	gossip_tick(T.g[0], t0 + max - 1);
	assert_int_equal(state_of(&T, 0, "xray"), GOSSIP_SUSPECT);
	gossip_tick(T.g[0], t0 + max);
	assert_int_equal(state_of(&T, 0, "xray"), GOSSIP_DEAD);
	assert_int_equal(gossip_stats(T.g[0])->declared_dead, 1);

	/* Again with a fresh core: a second accuser cuts the timer to
	 * max - (max - min) x log 2 / log 3 = 11,381 ms; a third to min. */
	net_free(&T);
	solo(GOSSIP_PROFILE_LAN);
	for (k = 0; k < 5; k++)
		inject1(&T, 0, msg_alive(names[k], 0, ip_of(k)));
	t0 = T.now;
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "xray", 0, "bravo"));
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "xray", 0, "charlie"));
	second = max - (max - min) * 631 / 1000;
	gossip_tick(T.g[0], t0 + second - 3);
	assert_int_equal(state_of(&T, 0, "xray"), GOSSIP_SUSPECT);
	gossip_tick(T.g[0], t0 + second + 3);
	assert_int_equal(state_of(&T, 0, "xray"), GOSSIP_DEAD);

	net_free(&T);
	solo(GOSSIP_PROFILE_LAN);
	for (k = 0; k < 5; k++)
		inject1(&T, 0, msg_alive(names[k], 0, ip_of(k)));
	t0 = T.now;
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "xray", 0, "bravo"));
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "xray", 0, "charlie"));
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "xray", 0, "delta"));
	inject1(&T, 0, msg_accuse(WIRE_SUSPECT, "xray", 0, "echo")); /* beyond k: no effect */
	gossip_tick(T.g[0], t0 + min - 1);
	assert_int_equal(state_of(&T, 0, "xray"), GOSSIP_SUSPECT);
	gossip_tick(T.g[0], t0 + min);
	assert_int_equal(state_of(&T, 0, "xray"), GOSSIP_DEAD);
}

static void dead_are_reclaimed(void **state)
{
	uint64_t t0;

	net_init(&T, GOSSIP_PROFILE_FAST);
	assert_int_equal(gossip_config_set(&T.cfg, "dead_reclaim_ms", "5000"), 0);
	net_add(&T, "self");
	inject1(&T, 0, msg_alive("bravo", 0, ip_of(1)));
	inject1(&T, 0, msg_alive("charlie", 0, ip_of(2)));
	t0 = T.now;
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "bravo", 0, "bravo")); /* it left */
	assert_int_equal(gossip_member_count(T.g[0]), 3);
	gossip_tick(T.g[0], t0 + 4999);
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_LEFT);
	gossip_tick(T.g[0], t0 + 5000);
	assert_int_equal(state_of(&T, 0, "bravo"), -1);
	assert_true(gossip_member_count(T.g[0]) <= 2);
	/* The index still finds everybody else after the removal. */
	assert_int_equal(state_of(&T, 0, "self"), GOSSIP_ALIVE);
	/* Forgotten means new: an alive at incarnation 0 brings it back. */
	T.now = t0 + 5001;
	inject1(&T, 0, msg_alive("bravo", 0, ip_of(1)));
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_ALIVE);
}

static void many_members_index_and_removal(void **state)
{
	char name[32];
	int k;

	net_init(&T, GOSSIP_PROFILE_FAST);
	assert_int_equal(gossip_config_set(&T.cfg, "dead_reclaim_ms", "1000"), 0);
	net_add(&T, "self");
	for (k = 0; k < 600; k++) {
		snprintf(name, sizeof name, "m%03d", k);
		inject1(&T, 0, msg_alive(name, 0, ip_of(k)));
	}
	assert_int_equal(gossip_member_count(T.g[0]), 601);
	assert_int_equal(gossip_count(T.g[0], GOSSIP_ALIVE), 601);
	/* The queue held at most its bound: the rest were dropped and counted. */
	assert_true(gossip_stats(T.g[0])->broadcasts_dropped >= 600 - 512);
	/* Every third leaves; reclaim them; everybody else is still found. */
	for (k = 0; k < 600; k += 3) {
		snprintf(name, sizeof name, "m%03d", k);
		inject1(&T, 0, msg_accuse(WIRE_DEAD, name, 0, name));
	}
	drain();
	gossip_tick(T.g[0], T.now + 1000);
	drain();
	assert_int_equal(gossip_member_count(T.g[0]), 401);
	for (k = 0; k < 600; k++) {
		snprintf(name, sizeof name, "m%03d", k);
		assert_int_equal(state_of(&T, 0, name), k % 3 ? GOSSIP_ALIVE : -1);
	}
	/* Datagrams stay within udp_max while the queue is full. */
	for (k = 0; k < 50; k++) {
		struct gossip_out o;
		gossip_tick(T.g[0], gossip_deadline(T.g[0]));
		while (gossip_next_out(T.g[0], &o))
			assert_true(o.len <= T.cfg.udp_max);
	}
}

static void small_udp_max_respected(void **state)
{
	struct gossip_out o;
	char name[GOSSIP_NAME_MAX + 1];
	int k, sent = 0;

	net_init(&T, GOSSIP_PROFILE_FAST);
	assert_int_equal(gossip_config_set(&T.cfg, "udp_max", "512"), 0);
	net_add(&T, "self");
	for (k = 0; k < 40; k++) {
		struct wire_msg m;
		snprintf(name, sizeof name, "member-with-a-longish-name-%02d", k);
		m = msg_alive(name, 0, ip_of(k));
		strcpy(m.u.alive.tags, "role=storage,rack=r17,zone=eu-west-1c,owner=team-x");
		inject1(&T, 0, m);
	}
	for (k = 0; k < 40; k++) {
		gossip_tick(T.g[0], gossip_deadline(T.g[0]));
		while (gossip_next_out(T.g[0], &o)) {
			assert_true(o.len <= 512);
			sent++;
		}
	}
	assert_true(sent > 0);
}

/* Every kind of bad input lands in exactly one counter and changes nothing else. */
static void bad_input_counted_once(void **state)
{
	struct gossip_addr from = {.ip = STRANGER_IP, .port = GOSSIP_PORT};
	struct wire_msg ok = msg_alive("bravo", 0, ip_of(1)), pp;
	struct gossip_keyring other, plain;
	uint8_t body[64], out[256], nonce[GOSSIP_NONCE_LEN] = {1};
	const struct gossip_stats *s;
	struct gossip_out reply;
	struct wire_writer w;
	long n;

	solo(GOSSIP_PROFILE_FAST);
	s = gossip_stats(T.g[0]);
	net_key(&other, 0x33);
	memset(&plain, 0, sizeof plain);
	net_inject_as(&T, 0, &other, CLUSTER, &ok, 1);
	assert_int_equal(s->drop_auth, 1);
	net_inject_as(&T, 0, &T.kr, "other-cluster", &ok, 1);
	assert_int_equal(s->drop_auth, 2);
	net_inject_as(&T, 0, &plain, CLUSTER, &ok, 1);
	assert_int_equal(s->drop_plaintext, 1);
	/* Unknown envelope version. */
	n = gossip_seal(&T.kr, CLUSTER, nonce, (const uint8_t *)"\1", 1, out, sizeof out);
	assert_true(n > 0);
	out[0] = 9;
	gossip_udp_in(T.g[0], from, out, (size_t)n, T.now);
	assert_int_equal(s->drop_version, 1);
	/* Unknown body version, sealed properly. */
	body[0] = WIRE_VERSION + 1;
	n = gossip_seal(&T.kr, CLUSTER, nonce, body, 1, out, sizeof out);
	gossip_udp_in(T.g[0], from, out, (size_t)n, T.now);
	assert_int_equal(s->drop_version, 2);
	/* Garbage after a good message: the good one is not acted on either. */
	assert_int_equal(wire_begin(&w, body, sizeof body), 0);
	memcpy(body + 1, "\x03\x00\x04\x00\x00\x00\x01\xff\xff", 9);
	w.len = 10;
	n = gossip_seal(&T.kr, CLUSTER, nonce, body, w.len, out, sizeof out);
	gossip_udp_in(T.g[0], from, out, (size_t)n, T.now);
	assert_int_equal(s->drop_malformed, 1);
	/* Too short to be an envelope at all. */
	gossip_udp_in(T.g[0], from, out, 3, T.now);
	assert_int_equal(s->drop_malformed, 2);
	/* A stream-only message in a datagram. */
	memset(&pp, 0, sizeof pp);
	pp.type = WIRE_PUSHPULL;
	net_inject(&T, 0, &pp, 1);
	assert_int_equal(s->drop_malformed, 3);
	/* Frames: wrong key, and a frame that is a datagram's body. */
	net_key(&other, 0x44);
	assert_int_equal(wire_begin(&w, body, sizeof body), 0);
	assert_int_equal(wire_put(&w, &pp), 0);
	n = gossip_seal(&other, CLUSTER, nonce, body, w.len, out, sizeof out);
	assert_int_equal(gossip_stream_in(T.g[0], from, out, (size_t)n, T.now, &reply), -EBADMSG);
	assert_int_equal(reply.len, 0);
	assert_int_equal(s->drop_auth, 3);
	pp.u.pushpull.count = 2; /* promises two states, has none */
	assert_int_equal(wire_begin(&w, body, sizeof body), 0);
	assert_int_equal(wire_put(&w, &pp), 0);
	n = gossip_seal(&T.kr, CLUSTER, nonce, body, w.len, out, sizeof out);
	assert_true(gossip_stream_in(T.g[0], from, out, (size_t)n, T.now, &reply) < 0);
	assert_int_equal(reply.len, 0);
	assert_int_equal(s->drop_malformed, 4);
	/* Totals: nothing else moved, nobody was learnt. */
	assert_int_equal(s->drop_auth, 3);
	assert_int_equal(s->drop_version, 2);
	assert_int_equal(s->drop_plaintext, 1);
	assert_int_equal(gossip_member_count(T.g[0]), 1);
	assert_int_equal(s->udp_in, 8);
	assert_int_equal(s->frames_in, 2);
	/* An oversized frame prefix is refused before anything is read. */
	assert_int_equal(gossip_frame_len((const uint8_t *)"\x01\x00\x00\x01"), -EMSGSIZE);
	assert_int_equal(gossip_frame_len((const uint8_t *)"\x00\x00\x01\x00"), 256);
}

/* A push-pull merges alive news, takes left as left, and dead only as suspect. */
static void pushpull_merge_rules(void **state)
{
	net_init(&T, GOSSIP_PROFILE_FAST);
	net_add(&T, "alpha");
	net_add(&T, "bravo");
	/* alpha knows: xray alive 1, yank suspect 0, zulu left 0, whisky dead 0.
	 * bravo knows: xray alive 0, yank alive 0, whisky unknown. */
	inject1(&T, 0, msg_alive("xray", 1, ip_of(1)));
	inject1(&T, 0, msg_alive("yank", 0, ip_of(2)));
	inject1(&T, 0, msg_alive("zulu", 0, ip_of(3)));
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "zulu", 0, "zulu"));
	inject1(&T, 0, msg_alive("whisky", 0, ip_of(4)));
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "whisky", 0, "alpha"));
	inject1(&T, 0, msg_accuse(WIRE_DEAD, "yank", 0, "other"));
	inject1(&T, 1, msg_alive("xray", 0, ip_of(1)));
	inject1(&T, 1, msg_alive("yank", 0, ip_of(2)));
	inject1(&T, 1, msg_alive("zulu", 0, ip_of(3)));
	T.cut[0][1] = T.cut[1][0] = true; /* only the streams carry news */
	assert_int_equal(gossip_join(T.g[1], (struct gossip_addr[]){net_addr(&T, 0)}, 1, T.now), 0);
	net_pump(&T);
	assert_int_equal(state_of(&T, 1, "alpha"), GOSSIP_ALIVE);
	assert_int_equal(state_of(&T, 0, "bravo"), GOSSIP_ALIVE);
	assert_int_equal(net_inc(&T, 1, 0), 0);
	{
		struct gossip_member m;
		assert_true(gossip_member_find(T.g[1], "xray", &m));
		assert_int_equal(m.incarnation, 1);
	}
	assert_int_equal(state_of(&T, 1, "yank"), GOSSIP_SUSPECT); /* dead there: suspect */
	assert_int_equal(state_of(&T, 1, "zulu"), GOSSIP_LEFT);
	assert_int_equal(state_of(&T, 1, "whisky"), -1); /* the dead are not introduced */
	assert_int_equal(gossip_stats(T.g[1])->frames_in, 1);
	assert_int_equal(gossip_stats(T.g[0])->frames_in, 1);
}

static void new_rejects_bad_arguments(void **state)
{
	struct gossip_config c;
	struct gossip_keyring kr;
	struct gossip_self self = {.name = "n", .cluster = "c"};
	uint8_t seed[32] = {0};
	char longname[GOSSIP_NAME_MAX + 2];
	struct gossip *g;

	gossip_profile(&c, GOSSIP_PROFILE_FAST);
	net_key(&kr, 1);
	g = gossip_new(&c, &self, &kr, seed, 0);
	assert_non_null(g);
	assert_int_equal(gossip_count(g, GOSSIP_ALIVE), 1);
	assert_int_equal(gossip_deadline(g) <= c.probe_interval_ms, 1);
	gossip_free(g);
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	self.name = longname;
	assert_null(gossip_new(&c, &self, &kr, seed, 0));
	self.name = "";
	assert_null(gossip_new(&c, &self, &kr, seed, 0));
	self.name = NULL;
	assert_null(gossip_new(&c, &self, &kr, seed, 0));
	self.name = "n";
	c.probe_timeout_ms = c.probe_interval_ms + 1;
	assert_null(gossip_new(&c, &self, &kr, seed, 0));
	gossip_profile(&c, GOSSIP_PROFILE_FAST);
	c.udp_max = 100;
	assert_null(gossip_new(&c, &self, &kr, seed, 0));
	gossip_profile(&c, GOSSIP_PROFILE_FAST);
	assert_null(gossip_new(&c, &self, NULL, seed, 0));
	assert_null(gossip_new(NULL, &self, &kr, seed, 0));
	assert_string_equal(gossip_state_name(GOSSIP_SUSPECT), "suspect");
	assert_string_equal(gossip_state_name(GOSSIP_LEFT), "left");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(alive_precedence_and_address_change, teardown),
		cmocka_unit_test_teardown(suspect_dead_precedence, teardown),
		cmocka_unit_test_teardown(stale_rumour_answered, teardown),
		cmocka_unit_test_teardown(replayed_datagram_is_harmless, teardown),
		cmocka_unit_test_teardown(self_refutes_accusations, teardown),
		cmocka_unit_test_teardown(suspicion_shrinks_with_confirmations, teardown),
		cmocka_unit_test_teardown(dead_are_reclaimed, teardown),
		cmocka_unit_test_teardown(many_members_index_and_removal, teardown),
		cmocka_unit_test_teardown(small_udp_max_respected, teardown),
		cmocka_unit_test_teardown(bad_input_counted_once, teardown),
		cmocka_unit_test_teardown(pushpull_merge_rules, teardown),
		cmocka_unit_test(new_rejects_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
