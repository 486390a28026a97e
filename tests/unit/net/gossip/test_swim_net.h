/* test_swim_net.h: a tiny network of gossip cores for the swim tests: it shuttles every
 * output of every core to its destination at once (zero latency), with links that can be
 * cut one direction at a time, nodes that can be crashed, and seeded random loss, and it
 * runs the cores' timers exactly when gossip_deadline says. Included by test_swim*.c. */
#ifndef TEST_SWIM_NET_H
#define TEST_SWIM_NET_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net/gossip/gossip.h"
#include "net/gossip/keyring.h"
#include "net/gossip/wire.h"

#define NET_MAX 8
#define NET_IP 0x0a000001u	/* node i is 10.0.0.(i + 1) */
#define STRANGER_IP 0x0a0000c8u /* where injected datagrams come from */
#define CLUSTER "test"
#define PUMP_MAX 1000000 /* deliveries per pump: more means a loop */

struct net {
	struct gossip *g[NET_MAX];
	char name[NET_MAX][16];
	uint16_t port[NET_MAX];
	struct gossip_config cfg;
	struct gossip_keyring kr;
	int n;
	uint64_t now;
	bool down[NET_MAX];
	bool cut[NET_MAX][NET_MAX];  /* datagrams i -> j are lost */
	bool scut[NET_MAX][NET_MAX]; /* streams i -> j fail */
	unsigned loss_pct;
	uint64_t lcg;
	unsigned ev[NET_MAX][GOSSIP_EV_UPDATE + 1];
	unsigned seeds_made;
	size_t udp_max_seen;
};

static inline void net_key(struct gossip_keyring *kr, uint8_t fill)
{
	memset(kr, 0, sizeof *kr);
	kr->n = 1;
	kr->len[0] = 32;
	memset(kr->key[0], fill, 32);
}

static inline void net_init(struct net *t, enum gossip_profile p)
{
	memset(t, 0, sizeof *t);
	gossip_profile(&t->cfg, p);
	net_key(&t->kr, 0x5a);
	t->now = 1000;
	t->lcg = 12345;
}

static inline struct gossip_addr net_addr(const struct net *t, int i)
{
	struct gossip_addr a = {.ip = NET_IP + (uint32_t)i, .port = t->port[i]};

	return a;
}

static inline int net_who(const struct net *t, struct gossip_addr a)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (a.ip == NET_IP + (uint32_t)i && a.port == t->port[i])
			return i;
	return -1;
}

/* (Re)create node i under its name; a new port models a new address. */
static inline void net_boot(struct net *t, int i, uint16_t port)
{
	struct gossip_self self = {.name = t->name[i], .cluster = CLUSTER};
	uint8_t seed[32];

	memset(seed, 0, sizeof seed);
	seed[0] = (uint8_t)i;
	seed[1] = (uint8_t)++t->seeds_made;
	t->port[i] = port;
	self.addr = net_addr(t, i);
	self.res.cpus = 1;
	gossip_free(t->g[i]);
	t->g[i] = gossip_new(&t->cfg, &self, &t->kr, seed, t->now);
	assert_non_null(t->g[i]);
	t->down[i] = false;
}

static inline int net_add(struct net *t, const char *name)
{
	int i = t->n++;

	assert_true(i < NET_MAX);
	snprintf(t->name[i], sizeof t->name[i], "%s", name);
	net_boot(t, i, GOSSIP_PORT);
	return i;
}

static inline void net_free(struct net *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		gossip_free(t->g[i]);
	t->n = 0;
}

static inline bool net_lost(struct net *t)
{
	if (!t->loss_pct)
		return false;
	t->lcg = t->lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (t->lcg >> 33) % 100 < t->loss_pct;
}

static inline void net_events(struct net *t, int i)
{
	struct gossip_event ev;

	while (gossip_next_event(t->g[i], &ev)) {
		assert_true(ev.kind <= GOSSIP_EV_UPDATE);
		t->ev[i][ev.kind]++;
	}
}

static inline void net_stream(struct net *t, int src, const struct gossip_out *o)
{
	struct gossip_out reply, back;
	int dst = net_who(t, o->to), rc;

	assert_true(o->len > 4);
	assert_int_equal(gossip_frame_len(o->data), (long)(o->len - 4));
	if (dst < 0 || t->down[dst] || t->scut[src][dst]) {
		gossip_stream_failed(t->g[src], o->to, t->now);
		return;
	}
	rc = gossip_stream_in(t->g[dst], net_addr(t, src), o->data + 4, o->len - 4, t->now, &reply);
	if (rc < 0 || !reply.len) {
		gossip_stream_failed(t->g[src], o->to, t->now);
		return;
	}
	assert_int_equal(gossip_frame_len(reply.data), (long)(reply.len - 4));
	rc = gossip_stream_in(t->g[src], net_addr(t, dst), reply.data + 4, reply.len - 4, t->now,
			      &back);
	assert_int_equal(rc, 0);
	assert_int_equal(back.len, 0);
}

static inline void net_udp(struct net *t, int src, int dst, const struct gossip_out *o)
{
	uint8_t copy[GOSSIP_UDP_MAX];

	if (dst < 0 || t->down[dst] || t->cut[src][dst] || net_lost(t))
		return;
	/* A real receive buffer is never the sender's: the call frees the original. */
	memcpy(copy, o->data, o->len);
	gossip_udp_in(t->g[dst], net_addr(t, src), copy, o->len, t->now);
}

/* Deliver everything every live core wants sent, until all are quiet. */
static inline void net_pump(struct net *t)
{
	struct gossip_out o;
	unsigned moved = 0;
	bool busy = true;
	int i, j;

	while (busy) {
		busy = false;
		for (i = 0; i < t->n; i++) {
			if (t->down[i])
				continue;
			while (gossip_next_out(t->g[i], &o)) {
				busy = true;
				assert_true(++moved < PUMP_MAX);
				if (o.kind == GOSSIP_OUT_STREAM) {
					net_stream(t, i, &o);
					continue;
				}
				assert_true(o.len <= t->cfg.udp_max);
				if (o.len > t->udp_max_seen)
					t->udp_max_seen = o.len;
				if (o.kind == GOSSIP_OUT_UDP) {
					net_udp(t, i, net_who(t, o.to), &o);
					continue;
				}
				assert_int_equal(o.kind, GOSSIP_OUT_BROADCAST);
				/* Everyone on the port, the sender last: handing it
				 * its own datagram is a call into it, which ends the
				 * datagram's life. */
				for (j = 0; j < t->n; j++)
					if (j != i && o.to.port == t->port[j])
						net_udp(t, i, j, &o);
				if (o.to.port == t->port[i])
					net_udp(t, i, i, &o);
			}
			net_events(t, i);
		}
	}
}

/* Run every timer due up to `until` (absolute ms). A core never asks to be woken at or
 * before the time it was last run: no busy ticking. */
static inline void net_run_until(struct net *t, uint64_t until)
{
	uint64_t d, next;
	int i;

	for (;;) {
		net_pump(t);
		next = UINT64_MAX;
		for (i = 0; i < t->n; i++)
			if (!t->down[i]) {
				d = gossip_deadline(t->g[i]);
				next = d < next ? d : next;
			}
		if (next > until) {
			t->now = until;
			return;
		}
		if (next > t->now)
			t->now = next;
		for (i = 0; i < t->n; i++)
			if (!t->down[i] && gossip_deadline(t->g[i]) <= t->now) {
				gossip_tick(t->g[i], t->now);
				assert_true(gossip_deadline(t->g[i]) > t->now);
			}
	}
}

static inline void net_run(struct net *t, uint64_t ms) { net_run_until(t, t->now + ms); }

/* Nodes 1.. join through node 0. */
static inline void net_join_all(struct net *t)
{
	struct gossip_addr seed = net_addr(t, 0);
	int i;

	for (i = 1; i < t->n; i++)
		assert_int_equal(gossip_join(t->g[i], &seed, 1, t->now), 0);
}

/* The state node i has for node j, or -1 when unknown. */
static inline int net_state(const struct net *t, int i, int j)
{
	struct gossip_member m;

	if (!gossip_member_find(t->g[i], t->name[j], &m))
		return -1;
	return (int)m.state;
}

static inline uint32_t net_inc(const struct net *t, int i, int j)
{
	struct gossip_member m;

	assert_true(gossip_member_find(t->g[i], t->name[j], &m));
	return m.incarnation;
}

/* Every live node sees every live node alive. */
static inline bool net_converged(const struct net *t)
{
	int i, j;

	for (i = 0; i < t->n; i++)
		for (j = 0; j < t->n; j++)
			if (!t->down[i] && !t->down[j] && net_state(t, i, j) != GOSSIP_ALIVE)
				return false;
	return true;
}

static inline void net_isolate(struct net *t, int i, bool on)
{
	int j;

	for (j = 0; j < t->n; j++) {
		t->cut[i][j] = t->cut[j][i] = on && j != i;
		t->scut[i][j] = t->scut[j][i] = on && j != i;
	}
}

static inline uint64_t net_sum(const struct net *t, size_t off)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < t->n; i++)
		if (t->g[i]) {
			uint64_t v;
			memcpy(&v, (const char *)gossip_stats(t->g[i]) + off, sizeof v);
			s += v;
		}
	return s;
}
#define NET_SUM(t, field) net_sum(t, offsetof(struct gossip_stats, field))

/* Seal messages as a member of the cluster would (or under kr/cluster given) and hand
 * them to node i as one datagram. */
static inline void net_inject_as(struct net *t, int i, const struct gossip_keyring *kr,
				 const char *cluster, const struct wire_msg *msgs, int n)
{
	uint8_t body[GOSSIP_UDP_MAX], out[GOSSIP_UDP_MAX], nonce[GOSSIP_NONCE_LEN] = {0};
	struct gossip_addr from = {.ip = STRANGER_IP, .port = GOSSIP_PORT};
	struct wire_writer w;
	long len;
	int k;

	nonce[0] = (uint8_t)++t->seeds_made;
	nonce[1] = (uint8_t)(t->seeds_made >> 8);
	assert_int_equal(wire_begin(&w, body, sizeof body), 0);
	for (k = 0; k < n; k++)
		assert_int_equal(wire_put(&w, &msgs[k]), 0);
	len = gossip_seal(kr, cluster, nonce, body, w.len, out, sizeof out);
	assert_true(len > 0);
	gossip_udp_in(t->g[i], from, out, (size_t)len, t->now);
}

static inline void net_inject(struct net *t, int i, const struct wire_msg *msgs, int n)
{
	net_inject_as(t, i, &t->kr, CLUSTER, msgs, n);
}

/* Messages to inject. */
static inline struct wire_msg msg_alive(const char *name, uint32_t inc, uint32_t ip)
{
	struct wire_msg m;

	memset(&m, 0, sizeof m);
	m.type = WIRE_ALIVE;
	m.u.alive.incarnation = inc;
	snprintf(m.u.alive.node.name, sizeof m.u.alive.node.name, "%s", name);
	m.u.alive.node.addr.ip = ip;
	m.u.alive.node.addr.port = GOSSIP_PORT;
	return m;
}

static inline struct wire_msg msg_accuse(enum wire_type type, const char *name, uint32_t inc,
					 const char *from)
{
	struct wire_msg m;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.u.accuse.incarnation = inc;
	snprintf(m.u.accuse.name, sizeof m.u.accuse.name, "%s", name);
	snprintf(m.u.accuse.from, sizeof m.u.accuse.from, "%s", from);
	return m;
}

static inline void inject1(struct net *t, int i, struct wire_msg m) { net_inject(t, i, &m, 1); }

static inline int state_of(struct net *t, int i, const char *name)
{
	struct gossip_member m;

	if (!gossip_member_find(t->g[i], name, &m))
		return -1;
	return (int)m.state;
}

#endif
