/* sources: net/gossip/swim.c net/gossip/members.c net/gossip/bcast.c net/gossip/susp.c net/gossip/sync.c net/gossip/out.c net/gossip/app.c net/gossip/probe.c net/gossip/config.c net/gossip/wire.c net/gossip/keyring.c tests/host/gossip_port.c */
/* test_app.c: the application channel on real cores (test_swim_net.h): a broadcast
 * reaches every member exactly once, a newer message with the same key replaces the
 * queued one, a direct send reaches its one member, the application state crosses every
 * push-pull both ways (and a node without a state function sends none), oversized and
 * misaddressed messages are refused, data from strangers and the dead is dropped and
 * counted, and keyring rotation never partitions the cluster while a node left with the
 * old key alone is shut out. Also the digest exchange: a converged cluster exchanges
 * digests only, and a difference is repaired both ways. */
#include <stdlib.h>

#include "test_swim_net.h"

#define MSGS_MAX 64

static struct net T;

/* What a node's application received. */
struct got {
	int n;
	int kind[MSGS_MAX];
	char from[MSGS_MAX][GOSSIP_NAME_MAX + 1];
	char data[MSGS_MAX][GOSSIP_APP_MAX + 1];
	size_t len[MSGS_MAX];
};
static struct got G[NET_MAX];

static int teardown(void **state)
{
	net_free(&T);
	memset(G, 0, sizeof G);
	return 0;
}

static void cluster(int n)
{
	static const char *const names[] = {"alpha", "bravo", "charlie", "delta",
					    "echo",  "fox",   "golf",	 "hotel"};
	int i;

	net_init(&T, GOSSIP_PROFILE_FAST);
	memset(G, 0, sizeof G);
	for (i = 0; i < n; i++)
		net_add(&T, names[i]);
}

static void converge(void)
{
	net_join_all(&T);
	net_run(&T, 2000);
	assert_true(net_converged(&T));
}

/* Drain every live node's application input into G. */
static void collect(void)
{
	struct gossip_app_in in;
	int i, k;

	for (i = 0; i < T.n; i++) {
		if (T.down[i])
			continue;
		while (gossip_next_app(T.g[i], &in)) {
			k = G[i].n++;
			if (k >= MSGS_MAX)
				continue; /* counted only */
			assert_true(in.len <= GOSSIP_APP_MAX);
			G[i].kind[k] = in.kind;
			snprintf(G[i].from[k], sizeof G[i].from[k], "%s", in.from);
			memcpy(G[i].data[k], in.data, in.len);
			G[i].len[k] = in.len;
		}
	}
}

static void run(uint64_t ms)
{
	uint64_t end = T.now + ms;

	while (T.now < end) {
		net_run(&T, 100);
		collect();
	}
}

/* How many messages node i got with this kind, sender and text. */
static int count(int i, int kind, const char *from, const char *text)
{
	int k, c = 0;

	for (k = 0; k < G[i].n; k++)
		if (G[i].kind[k] == kind && strcmp(G[i].from[k], from) == 0 &&
		    G[i].len[k] == strlen(text) && memcmp(G[i].data[k], text, G[i].len[k]) == 0)
			c++;
	return c;
}

static int bcast(int i, uint64_t key, const char *text)
{
	return gossip_app_broadcast(T.g[i], key, (const uint8_t *)text, strlen(text));
}

static void broadcast_reaches_all(void **state)
{
	int i;

	cluster(8);
	converge();
	assert_int_equal(bcast(0, 1, "one"), 0);
	assert_int_equal(bcast(0, 2, "two"), 0);
	assert_int_equal(bcast(3, 0, "three"), 0);
	run(2000);
	for (i = 0; i < T.n; i++) {
		assert_int_equal(count(i, GOSSIP_APP_MSG, "alpha", "one"), i != 0);
		assert_int_equal(count(i, GOSSIP_APP_MSG, "alpha", "two"), i != 0);
		assert_int_equal(count(i, GOSSIP_APP_MSG, "delta", "three"), i != 3);
		assert_int_equal(G[i].n, i == 0 ? 1 : i == 3 ? 2 : 3); /* once each, none its own */
	}
	assert_int_equal(gossip_stats(T.g[0])->app_out, 2);
	assert_int_equal(gossip_stats(T.g[1])->app_in, 3);
	assert_int_equal(NET_SUM(&T, app_dropped), 0);
}

static void broadcast_survives_loss(void **state)
{
	int i;

	cluster(8);
	converge();
	T.loss_pct = 10;
	assert_int_equal(bcast(5, 9, "lossy"), 0);
	run(3000);
	for (i = 0; i < T.n; i++)
		assert_int_equal(count(i, GOSSIP_APP_MSG, "fox", "lossy"), i != 5);
}

static void key_replaces_queued(void **state)
{
	int i;

	cluster(5);
	converge();
	/* Queued before any gossip round: the second replaces the first, key 0 never. */
	assert_int_equal(bcast(0, 7, "v1"), 0);
	assert_int_equal(bcast(0, 7, "v2"), 0);
	assert_int_equal(bcast(0, 0, "a"), 0);
	assert_int_equal(bcast(0, 0, "b"), 0);
	assert_int_equal(bcast(1, 7, "other origin"), 0); /* same key, other origin: kept */
	run(2000);
	for (i = 1; i < T.n; i++) {
		assert_int_equal(count(i, GOSSIP_APP_MSG, "alpha", "v1"), 0);
		assert_int_equal(count(i, GOSSIP_APP_MSG, "alpha", "v2"), 1);
		assert_int_equal(count(i, GOSSIP_APP_MSG, "alpha", "a"), 1);
		assert_int_equal(count(i, GOSSIP_APP_MSG, "alpha", "b"), 1);
	}
	for (i = 0; i < T.n; i++)
		assert_int_equal(count(i, GOSSIP_APP_MSG, "bravo", "other origin"), i != 1);
}

static void send_to_one(void **state)
{
	const uint8_t hi[] = "hi";
	int i;

	cluster(4);
	converge();
	assert_int_equal(gossip_app_send(T.g[0], "charlie", hi, 2, T.now), 0);
	net_pump(&T);
	collect();
	for (i = 0; i < T.n; i++)
		assert_int_equal(G[i].n, i == 2);
	assert_int_equal(count(2, GOSSIP_APP_MSG, "alpha", "hi"), 1);
	run(2000); /* not relayed later either */
	for (i = 0; i < T.n; i++)
		assert_int_equal(G[i].n, i == 2);

	assert_int_equal(gossip_app_send(T.g[0], "nobody", hi, 2, T.now), -ENOENT);
	assert_int_equal(gossip_app_send(T.g[0], "alpha", hi, 2, T.now), -EINVAL);
	assert_int_equal(gossip_app_send(T.g[0], NULL, hi, 2, T.now), -EINVAL);
	assert_int_equal(gossip_app_send(T.g[0], "bravo", NULL, 2, T.now), -EINVAL);
	assert_int_equal(gossip_app_send(T.g[0], "bravo", NULL, 0, T.now), 0); /* empty is fine */
	/* A member declared dead is no longer sent to. */
	T.down[3] = true;
	net_run(&T, 10000);
	assert_int_equal(net_state(&T, 0, 3), GOSSIP_DEAD);
	assert_int_equal(gossip_app_send(T.g[0], "delta", hi, 2, T.now), -ENOENT);
}

/* Application states: "state of NAME" from the node's name. */
static uint8_t *state_fn(void *ctx, size_t *len)
{
	char *s = malloc(64);

	assert_non_null(s);
	*len = (size_t)snprintf(s, 64, "state of %s", (const char *)ctx);
	return (uint8_t *)s;
}

static uint8_t *no_state_fn(void *ctx, size_t *len)
{
	*len = 0;
	return NULL;
}

static void state_both_ways(void **state)
{
	int i, k;

	cluster(3);
	gossip_set_app_state(T.g[0], state_fn, T.name[0]);
	gossip_set_app_state(T.g[1], state_fn, T.name[1]);
	gossip_set_app_state(T.g[2], no_state_fn, NULL); /* says it has none */
	converge();
	collect();
	/* The joins: bravo and charlie push-pulled with alpha, both ways. */
	assert_true(count(0, GOSSIP_APP_STATE, "bravo", "state of bravo") >= 1);
	assert_true(count(1, GOSSIP_APP_STATE, "alpha", "state of alpha") >= 1);
	assert_true(count(2, GOSSIP_APP_STATE, "alpha", "state of alpha") >= 1);
	/* Periodic push-pulls carry it too (fast: every 15 s). */
	memset(G, 0, sizeof G);
	run(40000);
	assert_true(count(0, GOSSIP_APP_STATE, "bravo", "state of bravo") >= 1);
	assert_true(count(1, GOSSIP_APP_STATE, "alpha", "state of alpha") >= 1);
	assert_true(count(2, GOSSIP_APP_STATE, "alpha", "state of alpha") +
			    count(2, GOSSIP_APP_STATE, "bravo", "state of bravo") >=
		    1);
	/* Nobody ever got a state from charlie. */
	for (i = 0; i < T.n; i++)
		for (k = 0; k < G[i].n; k++)
			if (G[i].kind[k] == GOSSIP_APP_STATE)
				assert_string_not_equal(G[i].from[k], "charlie");
	assert_int_equal(NET_SUM(&T, app_dropped), 0);
}

/* A state bigger than one APP_STATE message goes in pieces and comes out whole. */
static size_t big_len = 200000;
static uint8_t *big_state_fn(void *ctx, size_t *len)
{
	uint8_t *s = malloc(big_len);
	size_t i;

	assert_non_null(s);
	for (i = 0; i < big_len; i++)
		s[i] = (uint8_t)(i * 7 + i / 251);
	*len = big_len;
	return s;
}

static void big_state_in_pieces(void **state)
{
	struct gossip_app_in in;
	bool seen = false;
	size_t i;

	cluster(2);
	gossip_set_app_state(T.g[0], big_state_fn, NULL);
	converge();
	while (gossip_next_app(T.g[1], &in)) {
		assert_int_equal(in.kind, GOSSIP_APP_STATE);
		assert_string_equal(in.from, "alpha");
		assert_int_equal(in.len, big_len);
		for (i = 0; i < big_len; i++)
			assert_int_equal(in.data[i], (uint8_t)(i * 7 + i / 251));
		seen = true;
	}
	assert_true(seen);
}

static void oversize_refused(void **state)
{
	static uint8_t big[GOSSIP_APP_MAX + 1];

	cluster(2);
	converge();
	assert_int_equal(gossip_app_broadcast(T.g[0], 1, big, GOSSIP_APP_MAX + 1), -EMSGSIZE);
	assert_int_equal(gossip_app_send(T.g[0], "bravo", big, GOSSIP_APP_MAX + 1, T.now),
			 -EMSGSIZE);
	assert_int_equal(gossip_app_broadcast(T.g[0], 1, big, GOSSIP_APP_MAX), 0);
	assert_int_equal(gossip_app_send(T.g[0], "bravo", big, GOSSIP_APP_MAX, T.now), 0);
	assert_int_equal(gossip_app_broadcast(T.g[0], 1, NULL, 1), -EINVAL);
	run(1000);
	assert_int_equal(G[1].n, 2);
	assert_int_equal(G[1].len[0], GOSSIP_APP_MAX);
	assert_int_equal(G[1].len[1], GOSSIP_APP_MAX);
	net_free(&T);

	/* A datagram limit too small for the largest message. */
	cluster(2);
	assert_int_equal(gossip_config_set(&T.cfg, "udp_max", "512"), 0);
	net_boot(&T, 0, GOSSIP_PORT);
	net_boot(&T, 1, GOSSIP_PORT);
	converge();
	assert_int_equal(gossip_app_broadcast(T.g[0], 1, big, 600), -EMSGSIZE);
	assert_int_equal(gossip_app_send(T.g[0], "bravo", big, 600, T.now), -EMSGSIZE);
	assert_int_equal(gossip_app_broadcast(T.g[0], 1, big, 400), 0);
}

static void queue_bound(void **state)
{
	uint8_t b[8];
	int i, rc;

	cluster(2);
	converge();
	/* Nothing sent yet: the bound refuses the next one rather than drop an unsent one. */
	for (i = 0; i < 256; i++) {
		memcpy(b, &i, sizeof i);
		assert_int_equal(gossip_app_broadcast(T.g[0], 0, b, sizeof b), 0);
	}
	rc = gossip_app_broadcast(T.g[0], 0, b, sizeof b);
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(gossip_stats(T.g[0])->app_dropped, 1);
	/* Once sent, old ones make room. */
	run(300);
	assert_int_equal(gossip_app_broadcast(T.g[0], 0, b, sizeof b), 0);
	run(2000);
	assert_int_equal(G[1].n, 257);
}

/* Large application messages filling every queue do not hold up membership news: a crash
 * is still known by all in the time the fast profile promises. */
static void busy_app_does_not_starve_membership(void **state)
{
	static uint8_t big[1000];
	uint64_t t0;
	int i, k;

	cluster(6);
	converge();
	for (i = 0; i < 5; i++)
		for (k = 0; k < 200; k++)
			assert_int_equal(gossip_app_broadcast(T.g[i], 0, big, sizeof big), 0);
	T.down[5] = true;
	t0 = T.now;
	while (T.now - t0 < 1500) {
		net_run(&T, 50);
		collect();
	}
	for (i = 0; i < 5; i++)
		assert_int_equal(net_state(&T, i, 5), GOSSIP_DEAD);
}

static struct wire_msg msg_app(const char *origin, uint32_t seq, const char *text)
{
	struct wire_msg m;

	memset(&m, 0, sizeof m);
	m.type = WIRE_APP;
	snprintf(m.u.app.origin, sizeof m.u.app.origin, "%s", origin);
	m.u.app.seq = seq;
	m.u.app.data = (const uint8_t *)text;
	m.u.app.len = strlen(text);
	return m;
}

static void strangers_and_dead_dropped(void **state)
{
	cluster(3);
	converge();
	inject1(&T, 0, msg_app("stranger", 1, "x"));
	collect();
	assert_int_equal(G[0].n, 0);
	assert_int_equal(gossip_stats(T.g[0])->app_dropped, 1);
	/* A member's message, injected twice: delivered once. */
	inject1(&T, 0, msg_app("bravo", 77, "y"));
	inject1(&T, 0, msg_app("bravo", 77, "y"));
	collect();
	assert_int_equal(count(0, GOSSIP_APP_MSG, "bravo", "y"), 1);
	/* Once charlie is dead here, its messages are dropped too. */
	T.down[2] = true;
	net_run(&T, 10000);
	assert_int_equal(net_state(&T, 0, 2), GOSSIP_DEAD);
	inject1(&T, 0, msg_app("charlie", 5, "z"));
	collect();
	assert_int_equal(count(0, GOSSIP_APP_MSG, "charlie", "z"), 0);
	assert_int_equal(gossip_stats(T.g[0])->app_dropped, 2);
}

static void keyring_set(struct gossip_keyring *kr, const uint8_t *fills, unsigned n)
{
	unsigned k;

	memset(kr, 0, sizeof *kr);
	kr->n = n;
	for (k = 0; k < n; k++) {
		kr->len[k] = 32;
		memset(kr->key[k], fills[k], 32);
	}
}

static void rotate(int upto, const uint8_t *fills, unsigned n)
{
	struct gossip_keyring kr, got;
	int i;

	keyring_set(&kr, fills, n);
	for (i = 0; i < upto; i++) {
		assert_int_equal(gossip_set_keyring(T.g[i], &kr), 0);
		gossip_keyring_get(T.g[i], &got);
		assert_memory_equal(&got, &kr, sizeof kr);
	}
}

static void keyring_rotation(void **state)
{
	const uint8_t both[] = {0x5a, 0x77}, newfirst[] = {0x77, 0x5a}, onlynew[] = {0x77};
	struct gossip_keyring kr;
	int i;

	const uint8_t onlyold[] = {0x5a};

	cluster(5);
	converge();
	/* Step by step with time between the steps: nothing fails to open, none is lost. */
	rotate(5, both, 2);
	net_run(&T, 3000);
	rotate(5, newfirst, 2);
	net_run(&T, 3000);
	assert_int_equal(NET_SUM(&T, drop_auth), 0);
	assert_true(net_converged(&T));
	/* Nodes 0-3 remove the old key; node 4 is left with the old key alone. */
	rotate(4, onlynew, 1);
	keyring_set(&kr, onlyold, 1);
	assert_int_equal(gossip_set_keyring(T.g[4], &kr), 0);
	net_run(&T, 500);
	for (i = 0; i < 4; i++)
		assert_int_equal(bcast(i, 0, "after"), 0);
	run(1000);
	for (i = 0; i < 4; i++)
		assert_int_equal(count(i, GOSSIP_APP_MSG, "alpha", "after"), i != 0);
	/* Node 4, with the old key alone, can talk to nobody: its packets fail to open,
	 * it hears nothing, and the others declare it dead. */
	assert_int_equal(count(4, GOSSIP_APP_MSG, "alpha", "after"), 0);
	assert_true(NET_SUM(&T, drop_auth) > 0);
	net_run(&T, 10000);
	for (i = 0; i < 4; i++)
		assert_int_equal(net_state(&T, i, 4), GOSSIP_DEAD);
	for (i = 0; i < 4; i++)
		assert_int_equal(net_state(&T, i, 0), GOSSIP_ALIVE);

	/* Errors: sealed and plaintext do not swap; bad key lengths; too many keys. */
	memset(&kr, 0, sizeof kr);
	assert_int_equal(gossip_set_keyring(T.g[0], &kr), -EINVAL);
	keyring_set(&kr, onlynew, 1);
	kr.len[0] = 20;
	assert_int_equal(gossip_set_keyring(T.g[0], &kr), -EINVAL);
	kr.len[0] = 32;
	kr.n = GOSSIP_KEYS_MAX + 1;
	assert_int_equal(gossip_set_keyring(T.g[0], &kr), -EINVAL);
}

/* A frame of msgs sealed for the cluster, handed to node i as a stream; the reply's
 * messages decoded into out (at most max): how many, or -1 without a reply. */
static int frame_to(int i, const struct wire_msg *msgs, int n, struct wire_msg *out, int max,
		    uint8_t *plain, size_t cap)
{
	static uint8_t body[1 << 16], sealed[(1 << 16) + 64];
	uint8_t nonce[GOSSIP_NONCE_LEN] = {9};
	struct gossip_addr from = {.ip = STRANGER_IP, .port = GOSSIP_PORT};
	struct gossip_out reply;
	struct wire_writer w;
	struct wire_reader r;
	long len;
	int k;

	assert_int_equal(wire_begin(&w, body, sizeof body), 0);
	for (k = 0; k < n; k++)
		assert_int_equal(wire_put(&w, &msgs[k]), 0);
	len = gossip_seal(&T.kr, CLUSTER, nonce, body, w.len, sealed, sizeof sealed);
	assert_true(len > 0);
	assert_int_equal(gossip_stream_in(T.g[i], from, sealed, (size_t)len, T.now, &reply), 0);
	if (!reply.len)
		return -1;
	len = gossip_open(&T.kr, CLUSTER, reply.data + 4, reply.len - 4, plain, cap);
	assert_true(len > 0);
	assert_int_equal(wire_open(&r, plain, (size_t)len), 0);
	for (k = 0; k < max && wire_get(&r, &out[k]) > 0; k++)
		;
	assert_int_equal(wire_get(&r, &out[k]), 0);
	return k;
}

/* Digest anti-entropy, frame by frame: a digest that differs gets the states of the
 * differing buckets and the node's own digest back; an equal digest gets no states; a
 * push is merged and answered by an empty reply. */
static void digest_frames(void **state)
{
	static uint8_t plain[1 << 16], mine[4 * WIRE_DIGEST_MAX];
	struct wire_msg req[2], out[16];
	const uint8_t zero[4] = {0};
	int n, members;

	cluster(3);
	converge();
	members = (int)gossip_member_count(T.g[0]);
	memset(req, 0, sizeof req);
	req[0].type = WIRE_PUSHPULL;
	req[1].type = WIRE_DIGEST;
	req[1].u.digest.n = 1;
	req[1].u.digest.h = zero;
	n = frame_to(0, req, 2, out, 16, plain, sizeof plain);
	assert_int_equal(n, 1 + members + 1); /* header, every member (one bucket), digest */
	assert_int_equal(out[0].type, WIRE_PUSHPULL);
	assert_true(out[0].u.pushpull.reply);
	assert_int_equal(out[0].u.pushpull.count, members);
	assert_int_equal(out[n - 1].type, WIRE_DIGEST);
	assert_int_equal(out[n - 1].u.digest.n, 1);
	memcpy(mine, out[n - 1].u.digest.h, 4);

	/* Its own digest back: nothing differs, no states. */
	req[1].u.digest.h = mine;
	n = frame_to(0, req, 2, out, 16, plain, sizeof plain);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].u.pushpull.count, 0);
	assert_int_equal(out[1].type, WIRE_DIGEST);

	/* A push: merged, answered with an empty reply. */
	memset(req, 0, sizeof req);
	req[0].type = WIRE_PUSHPULL;
	req[0].u.pushpull.push = true;
	req[0].u.pushpull.count = 1;
	req[1] = msg_alive("ghost", 3, 0x0a0000fe);
	req[1].type = WIRE_STATE;
	n = frame_to(0, req, 2, out, 16, plain, sizeof plain);
	assert_int_equal(n, 1);
	assert_true(out[0].u.pushpull.reply);
	assert_int_equal(out[0].u.pushpull.count, 0);
	assert_int_equal(state_of(&T, 0, "ghost"), GOSSIP_ALIVE);
}

/* PROTOCOL.md's digest, written again from its text. */
static uint32_t spec_mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	return x ^ (x >> 16);
}

static void spec_digest(const struct gossip *g, uint16_t n, uint32_t *h)
{
	struct gossip_member m;
	uint32_t f, e;
	size_t i;
	const char *c;

	memset(h, 0, n * sizeof *h);
	for (i = 0; i < gossip_member_count(g); i++) {
		gossip_member_at(g, i, &m);
		for (f = 2166136261u, c = m.name; *c; c++)
			f = (f ^ (uint8_t)*c) * 16777619u;
		e = spec_mix(spec_mix(spec_mix(spec_mix(spec_mix(f ^ 0x9e3779b9u) ^ m.incarnation) ^
					       m.state) ^
				      m.addr.ip) ^
			     m.addr.port);
		h[((uint64_t)spec_mix(f) * n) >> 32] += e;
	}
}

/* The digest a node sends back is the one PROTOCOL.md defines, for any bucket count. */
static void digest_matches_spec(void **state)
{
	static uint8_t plain[1 << 16], zero[4 * 16];
	struct wire_msg req[2], out[16];
	uint32_t want[16];
	uint16_t nb, b;
	int n;

	cluster(5);
	converge();
	T.down[4] = true; /* a dead member too */
	net_run(&T, 10000);
	for (nb = 1; nb <= 16; nb *= 2) {
		memset(req, 0, sizeof req);
		req[0].type = WIRE_PUSHPULL;
		req[1].type = WIRE_DIGEST;
		req[1].u.digest.n = nb;
		req[1].u.digest.h = zero;
		n = frame_to(0, req, 2, out, 16, plain, sizeof plain);
		assert_true(n >= 2);
		assert_int_equal(out[n - 1].type, WIRE_DIGEST);
		assert_int_equal(out[n - 1].u.digest.n, nb);
		spec_digest(T.g[0], nb, want);
		for (b = 0; b < nb; b++)
			assert_int_equal(wire_digest_at(&out[n - 1].u.digest, b), want[b]);
	}
}

/* A converged cluster's periodic exchanges are digests only: no member states travel. */
static void digest_steady_state_is_small(void **state)
{
	uint64_t before, frames;
	int i;

	net_init(&T, GOSSIP_PROFILE_FAST);
	assert_int_equal(gossip_config_set(&T.cfg, "pushpull_interval_ms", "1000"), 0);
	for (i = 0; i < 8; i++) {
		char name[8] = "node-0";
		name[5] = (char)('0' + i);
		net_add(&T, name);
	}
	converge();
	net_run(&T, 5000);
	before = NET_SUM(&T, frame_bytes_out);
	frames = NET_SUM(&T, frames_out);
	net_run(&T, 10000);
	frames = NET_SUM(&T, frames_out) - frames;
	/* One exchange per node a second, two frames each (no push: nothing differs). */
	assert_in_range(frames, 8 * 10 * 2 - 16, 8 * 10 * 2 + 16);
	/* A frame: prefix, envelope, header, a digest of 4 buckets; far below 8 states. */
	assert_true((NET_SUM(&T, frame_bytes_out) - before) / frames < 80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(broadcast_reaches_all, teardown),
		cmocka_unit_test_teardown(broadcast_survives_loss, teardown),
		cmocka_unit_test_teardown(key_replaces_queued, teardown),
		cmocka_unit_test_teardown(send_to_one, teardown),
		cmocka_unit_test_teardown(state_both_ways, teardown),
		cmocka_unit_test_teardown(big_state_in_pieces, teardown),
		cmocka_unit_test_teardown(oversize_refused, teardown),
		cmocka_unit_test_teardown(queue_bound, teardown),
		cmocka_unit_test_teardown(busy_app_does_not_starve_membership, teardown),
		cmocka_unit_test_teardown(strangers_and_dead_dropped, teardown),
		cmocka_unit_test_teardown(keyring_rotation, teardown),
		cmocka_unit_test_teardown(digest_frames, teardown),
		cmocka_unit_test_teardown(digest_matches_spec, teardown),
		cmocka_unit_test_teardown(digest_steady_state_is_small, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
