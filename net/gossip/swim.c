/* swim.c: the SWIM + Lifeguard state machine: rumours, refutation, timers, life cycle
 * (probing is in probe.c, anti-entropy and joining in sync.c, sending in out.c).
 *
 * Design note (gossip.h states the protocol; this is how the core runs it).
 *
 * Time. The core keeps a handful of absolute deadlines (next probe, this probe's timeout,
 * next gossip, next push-pull, next join attempt, the metadata rate limit, the earliest
 * suspicion, relayed pings, the oldest grave) and gossip_deadline returns the earliest
 * that has work behind it: the gossip timer only counts while broadcasts wait, joining
 * only while alone. A caller (kernel thread or simulator) sleeps until then or until
 * input arrives; the core never needs a periodic tick.
 *
 * A probe. At t0 the node pings the next member of its shuffled round (a suspect gets the
 * SUSPECT message first in the same packet, so it can refute before it acks). At
 * t0 + probe_timeout x (health + 1) without an ack it sends PING_REQ to indirect_checks
 * random alive members, asking for a nack if they fail too. At t0 + probe_interval x
 * (health + 1) it judges: no ack means the target is suspected, and the health score
 * rises by the nacks that did not come (by one when no relay was asked): if the relays
 * heard us but not the target, we are fine and the target is not. An ack lowers the
 * score by one. Then the next probe starts.
 *
 * Rumours (ALIVE, SUSPECT, DEAD) are applied by precedence (gossip.h) and, when they
 * changed something, queued for re-broadcast; one queued message per member. Suspicion
 * timers follow susp.c. Where this differs from memberlist, it is to keep healthy nodes
 * from being declared dead, above all when a partition heals and a flood of stale
 * verdicts crosses it (tests/sim's partition scenario measures it):
 * - Only our own suspicion timer declares a member dead. A DEAD from another member is
 *   an accusation: it starts our suspicion or confirms it (a leave, DEAD from the member
 *   itself, is final). A crash costs no time for it: every member suspects the dead one
 *   within a gossip round or two of the first accuser, and the confirmations bring every
 *   timer to its minimum.
 * - The node that starts a suspicion sends the SUSPECT straight to the suspect (the
 *   buddy system, not waiting for the next probe of it); a node refuting sends its new
 *   ALIVE straight to the accuser as well as into the queue.
 * - An accusation older than what we know (someone missed a refutation) is answered to
 *   the datagram's sender with the newer ALIVE; about ourselves we also requeue it.
 * - A ping from a member we hold dead is acked with the verdict attached, and each probe
 *   round also tells one dead member it is dead (probe.c): a live one refutes.
 *
 * Metadata (tags, resources) changes raise the incarnation and meta_version together,
 * so they travel and win like any refutation; at most one announcement per
 * meta_min_interval_ms, later changes folded into the next.
 *
 * Input is opened, then decoded whole, then acted on: a datagram with one bad message is
 * dropped entirely and counted once. A node that left answers nothing. */
#include <errno.h>
#include <string.h>

#include "net/gossip/core.h"
#include "net/gossip/port.h"

#define NONCE_TWEAK 0x6e6f6e6365ULL /* separates the nonce stream from the protocol one */
#define UDP_MIN 512		    /* smallest udp_max that fits every message */
#define GOSSIP_NODES_MAX 64	    /* gossip_nodes at most (a round's targets sit on the stack) */

/* splitmix64, to spread the seed over a generator's state. */
static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, const uint8_t seed[32], uint64_t tweak)
{
	uint64_t w, x;
	int i, j;

	for (i = 0; i < 4; i++) {
		w = 0;
		for (j = 0; j < 8; j++)
			w = (w << 8) | seed[i * 8 + j];
		x = w ^ tweak ^ (uint64_t)i;
		r->s[i] = splitmix(&x);
	}
}

void swim_health_add(struct gossip *g, int d)
{
	int h = (int)g->health + d;

	if (h < 0)
		h = 0;
	if (h > (int)g->cfg.awareness_max - 1)
		h = (int)g->cfg.awareness_max - 1;
	g->health = (uint32_t)h;
}

/* Gossip goes to the living and, for a while, to the recently dead: if they are only
 * cut off, they learn of their death once the cut heals and refute it. */
static bool ok_gossip(const struct gossip *g, const struct member *m)
{
	if (m->state <= GOSSIP_SUSPECT)
		return true;
	return m->state == GOSSIP_DEAD &&
	       g->now - m->since < min64(GOSSIP_TO_DEAD_MS, g->cfg.dead_reclaim_ms);
}

/* Alive and suspect members other than self. */
uint32_t swim_alive_others(const struct gossip *g)
{
	uint32_t n = g->count[GOSSIP_ALIVE] + g->count[GOSSIP_SUSPECT];

	return g->m[0].state <= GOSSIP_SUSPECT ? n - 1 : n;
}

void swim_self_node(const struct gossip *g, struct wire_node *n)
{
	scopy(n->name, g->m[0].name, sizeof n->name);
	n->addr = swim_addr_of(&g->m[0]);
}

/* Rumours. */

void swim_fill_alive(const struct gossip *g, const struct member *m, struct wire_alive *a)
{
	a->incarnation = m->inc;
	scopy(a->node.name, m->name, sizeof a->node.name);
	a->node.addr = swim_addr_of(m);
	a->meta_version = m->meta_version;
	a->res = m->res;
	scopy(a->tags, m->tags ? m->tags : "", sizeof a->tags);
	a->state = m->state;
}

static void bcast_alive(struct gossip *g, uint32_t i)
{
	struct wire_msg msg;

	msg.type = WIRE_ALIVE;
	swim_fill_alive(g, &g->m[i], &msg.u.alive);
	msg.u.alive.state = GOSSIP_ALIVE;
	swim_bq_put(g, i, &msg);
}

void swim_accuse_msg(struct wire_msg *msg, enum wire_type t, const struct member *m,
		     const char *from)
{
	msg->type = t;
	msg->u.accuse.incarnation = m->inc;
	scopy(msg->u.accuse.name, m->name, sizeof msg->u.accuse.name);
	scopy(msg->u.accuse.from, from, sizeof msg->u.accuse.from);
}

/* Send our current ALIVE straight to the member who accused us, if we know where: even
 * one we hold dead, since across a healed partition that is how the two sides meet. */
static void tell(struct gossip *g, const char *accuser)
{
	struct wire_msg msg;
	uint32_t j;

	if (!accuser)
		return;
	j = swim_member_find(g, accuser);
	if (j == NONE || j == 0 || g->m[j].state == GOSSIP_LEFT)
		return;
	msg.type = WIRE_ALIVE;
	swim_fill_alive(g, &g->m[0], &msg.u.alive);
	msg.u.alive.state = GOSSIP_ALIVE;
	swim_send_msg(g, GOSSIP_OUT_UDP, swim_addr_of(&g->m[j]), &msg, NULL, false);
}

/* An accusation older than what we know still goes round: somebody missed a
 * refutation (an epidemic reaches each member only with high probability), and keeps
 * retelling it. Whoever hears it answers the datagram's sender with the newer ALIVE, so
 * stale rumours are corrected where they travel; about ourselves we also catch the
 * accuser up and put our ALIVE back into the queue for a fresh round of sends. */
static void stale(struct gossip *g, uint32_t i, const char *accuser)
{
	struct wire_msg msg;

	if (g->left || g->m[i].state != GOSSIP_ALIVE)
		return;
	if (g->rx) {
		msg.type = WIRE_ALIVE;
		swim_fill_alive(g, &g->m[i], &msg.u.alive);
		swim_send_msg(g, GOSSIP_OUT_UDP, g->rx_from, &msg, NULL, false);
	}
	if (i != 0)
		return;
	tell(g, accuser);
	bcast_alive(g, 0);
}

/* We are accused (suspect or dead at `accused`, or alive with other metadata): announce
 * ourselves alive above it, and tell the accuser directly. */
static void refute(struct gossip *g, uint32_t accused, const char *accuser)
{
	struct member *me = &g->m[0];
	uint32_t inc = me->inc + 1;

	if (accused >= inc)
		inc = accused + 1;
	me->inc = inc;
	swim_health_add(g, 1);
	g->st.refutations++;
	bcast_alive(g, 0);
	tell(g, accuser);
}

static bool same_meta(const struct member *m, const struct wire_alive *a)
{
	return m->meta_version == a->meta_version && m->res.cpus == a->res.cpus &&
	       m->res.tasks == a->res.tasks && m->res.mem_total_mib == a->res.mem_total_mib &&
	       m->res.mem_free_mib == a->res.mem_free_mib &&
	       strcmp(m->tags ? m->tags : "", a->tags) == 0;
}

/* ALIVE (also a STATE that says alive). quiet: learnt while alone, not worth retelling.
 * True when it was news. */
bool swim_on_alive(struct gossip *g, const struct wire_alive *a, bool quiet)
{
	uint32_t i = swim_member_find(g, a->node.name);
	bool fresh = false, moved, changed;
	enum gossip_state old;
	struct member *m;

	if (i == 0) {
		m = &g->m[0];
		if (g->left || a->incarnation < m->inc)
			return false;
		/* Our own announcement coming back is no accusation, even when a newer
		 * change waits for the rate limit; other metadata at our incarnation is
		 * a previous life's (we restarted) and must be refuted. */
		if (a->incarnation == m->inc && m->ip == a->node.addr.ip &&
		    m->port == a->node.addr.port &&
		    (same_meta(m, a) || (g->meta_pending && a->meta_version == m->meta_version)))
			return false;
		refute(g, a->incarnation, NULL);
		return false;
	}
	if (i == NONE) {
		i = swim_member_add(g, a->node.name, g->now);
		if (i == NONE)
			return false;
		fresh = true;
	}
	m = &g->m[i];
	if (!fresh && a->incarnation <= m->inc)
		return false;
	swim_susp_stop(g, i);
	old = m->state;
	moved = !fresh && (m->ip != a->node.addr.ip || m->port != a->node.addr.port);
	changed = !fresh && !same_meta(m, a);
	swim_member_set_tags(m, a->tags);
	m->inc = a->incarnation;
	m->ip = a->node.addr.ip;
	m->port = a->node.addr.port;
	m->meta_version = a->meta_version;
	m->res = a->res;
	swim_member_set_state(g, m, GOSSIP_ALIVE, g->now);
	if (!quiet)
		bcast_alive(g, i);
	if (fresh || old != GOSSIP_ALIVE)
		swim_event_push(g, GOSSIP_EV_ALIVE, m);
	else if (moved || changed)
		swim_event_push(g, GOSSIP_EV_UPDATE, m);
	return true;
}
void swim_on_suspect(struct gossip *g, const struct wire_accuse *s)
{
	uint32_t i = swim_member_find(g, s->name);
	struct wire_msg msg;
	struct member *m;

	if (i == NONE)
		return;
	m = &g->m[i];
	if (s->incarnation < m->inc) {
		stale(g, i, s->from);
		return;
	}
	if (m->susp != NONE) {
		/* Already suspected: a new accuser shortens the timer and is retold, so
		 * confirmations keep flowing to those who suspect it too. */
		if (swim_susp_confirm(g, m->susp, s->from, g->now)) {
			msg.type = WIRE_SUSPECT;
			msg.u.accuse = *s;
			swim_bq_put(g, i, &msg);
		}
		return;
	}
	if (m->state != GOSSIP_ALIVE)
		return;
	if (i == 0) {
		refute(g, s->incarnation, s->from);
		return;
	}
	msg.type = WIRE_SUSPECT;
	msg.u.accuse = *s;
	swim_bq_put(g, i, &msg);
	m->inc = s->incarnation;
	swim_member_set_state(g, m, GOSSIP_SUSPECT, g->now);
	g->st.suspicions++;
	swim_event_push(g, GOSSIP_EV_SUSPECT, m);
	swim_susp_start(g, i, s->from, g->now);
}

void swim_on_dead(struct gossip *g, const struct wire_accuse *d)
{
	uint32_t i = swim_member_find(g, d->name);
	bool leave = strcmp(d->name, d->from) == 0;
	struct wire_msg msg;
	struct member *m;

	if (i == NONE)
		return;
	m = &g->m[i];
	if (d->incarnation < m->inc) {
		stale(g, i, d->from);
		return;
	}
	/* A leave heard after a death declaration still says more: the node is gone on
	 * purpose. Anything else about the dead changes nothing. */
	if (m->state == GOSSIP_LEFT || (m->state == GOSSIP_DEAD && !leave))
		return;
	if (i == 0) {
		if (!g->left)
			refute(g, d->incarnation, d->from);
		return;
	}
	/* Someone else's verdict is not final here: it counts as an accusation (starting
	 * our suspicion, or confirming it), and only our own timer declares the member
	 * dead. A healthy member gets its chance to refute even when verdicts arrive
	 * without the suspicion before them: after a partition heals they come in bursts.
	 * A crashed member costs nothing more: everybody suspects it within a gossip round
	 * or two of the first accuser, and confirmations bring every timer to its minimum. */
	if (!leave && strcmp(d->from, g->m[0].name) != 0 &&
	    (m->state == GOSSIP_ALIVE || m->susp != NONE)) {
		swim_on_suspect(g, d);
		return;
	}
	swim_susp_stop(g, i);
	msg.type = WIRE_DEAD;
	msg.u.accuse = *d;
	swim_bq_put(g, i, &msg);
	m->inc = d->incarnation;
	swim_member_set_state(g, m, leave ? GOSSIP_LEFT : GOSSIP_DEAD, g->now);
	swim_event_push(g, leave ? GOSSIP_EV_LEFT : GOSSIP_EV_DEAD, m);
	swim_grave_push(g, m);
}

/* Our own suspicion timer of member i ran out. */
static void declare(struct gossip *g, uint32_t i)
{
	struct wire_msg msg;

	if (g->m[i].state != GOSSIP_SUSPECT)
		return;
	swim_accuse_msg(&msg, WIRE_DEAD, &g->m[i], g->m[0].name);
	g->st.declared_dead++;
	swim_on_dead(g, &msg.u.accuse);
}

/* One gossip round: the queue's least-sent messages to gossip_nodes random members. */
static void gossip_round(struct gossip *g)
{
	uint32_t to[GOSSIP_NODES_MAX], n, i;
	struct wire_writer w;

	if (!g->bq.len)
		return;
	n = swim_member_pick(g, to, g->cfg.gossip_nodes, NONE, ok_gossip);
	for (i = 0; i < n && g->bq.len; i++) {
		if (wire_begin(&w, g->opkt, swim_seal_room(g)) < 0)
			return;
		swim_bq_fill(g, &w);
		if (w.len <= 1)
			return;
		swim_seal_send(g, GOSSIP_OUT_UDP, swim_addr_of(&g->m[to[i]]), &w);
	}
}

/* Metadata. */

static void meta_announce(struct gossip *g)
{
	struct member *me = &g->m[0];

	me->inc++;
	me->meta_version++;
	bcast_alive(g, 0);
	g->meta_last = g->now;
	g->meta_sent = true;
	g->meta_pending = false;
}

static void meta_changed(struct gossip *g)
{
	if (g->left)
		return;
	if (!g->meta_sent || g->now >= g->meta_last + g->cfg.meta_min_interval_ms) {
		meta_announce(g);
		return;
	}
	g->meta_pending = true;
	g->st.meta_rate_limited++;
}

void gossip_set_resources(struct gossip *g, const struct gossip_resources *r, uint64_t now_ms)
{
	struct gossip_resources *o = &g->m[0].res;

	swim_enter(g, now_ms);
	if (o->cpus == r->cpus && o->tasks == r->tasks && o->mem_total_mib == r->mem_total_mib &&
	    o->mem_free_mib == r->mem_free_mib)
		return;
	*o = *r;
	meta_changed(g);
}

int gossip_set_tags(struct gossip *g, const char *tags, uint64_t now_ms)
{
	const char *old = g->m[0].tags ? g->m[0].tags : "";

	swim_enter(g, now_ms);
	if (!tags)
		tags = "";
	if (strnlen(tags, GOSSIP_TAGS_MAX + 1) > GOSSIP_TAGS_MAX)
		return -EINVAL;
	if (strcmp(old, tags) == 0)
		return 0;
	if (swim_member_set_tags(&g->m[0], tags) < 0)
		return -ENOMEM;
	meta_changed(g);
	return 0;
}

/* Inputs. */

static void handle(struct gossip *g, struct gossip_addr from, const struct wire_msg *msg)
{
	struct wire_msg ack, dead;
	struct gossip_addr to;
	uint32_t j;

	switch (msg->type) {
	case WIRE_PING:
		if (strcmp(msg->u.ping.target, g->m[0].name) != 0)
			return; /* meant for a node that had our address before */
		to = msg->u.ping.source.addr.ip ? msg->u.ping.source.addr : from;
		ack.type = WIRE_ACK;
		ack.u.ack.seq = msg->u.ping.seq;
		/* A ping from a member we hold dead: it lives and does not know. The
		 * verdict goes with the ack, so it refutes at once (to us directly). */
		j = swim_member_find(g, msg->u.ping.source.name);
		if (j != NONE && j != 0 && g->m[j].state == GOSSIP_DEAD) {
			swim_accuse_msg(&dead, WIRE_DEAD, &g->m[j], g->m[0].name);
			swim_send_msg(g, GOSSIP_OUT_UDP, to, &ack, &dead, true);
			return;
		}
		swim_send_msg(g, GOSSIP_OUT_UDP, to, &ack, NULL, true);
		return;
	case WIRE_PING_REQ:
		if (strcmp(msg->u.ping_req.target.name, g->m[0].name) != 0)
			swim_relay_start(g, &msg->u.ping_req);
		return;
	case WIRE_ACK:
		swim_on_ack(g, msg->u.ack.seq);
		return;
	case WIRE_NACK:
		if (g->probe.active && msg->u.nack.seq == g->probe.seq)
			g->probe.nacks++;
		return;
	case WIRE_ALIVE:
		swim_on_alive(g, &msg->u.alive, false);
		return;
	case WIRE_SUSPECT:
		swim_on_suspect(g, &msg->u.accuse);
		return;
	case WIRE_DEAD:
		swim_on_dead(g, &msg->u.accuse);
		return;
	case WIRE_DISCOVER:
		swim_on_discover(g, &msg->u.discover);
		return;
	case WIRE_APP:
		swim_on_app(g, &msg->u.app);
		return;
	default:
		return; /* rejected by the decoding pass */
	}
}

static bool datagram_type(enum wire_type t)
{
	return (t >= WIRE_PING && t <= WIRE_DISCOVER) || t == WIRE_APP;
}

void gossip_udp_in(struct gossip *g, struct gossip_addr from, const uint8_t *data, size_t len,
		   uint64_t now_ms)
{
	struct wire_reader r, check;
	struct wire_msg msg;
	long n;
	int rc;

	swim_enter(g, now_ms);
	g->st.udp_in++;
	g->st.udp_bytes_in += len;
	if (g->left)
		return;
	n = gossip_open(&g->kr, g->cluster, data, len, g->pkt, sizeof g->pkt);
	if (n < 0) {
		swim_count_open_error(g, n);
		return;
	}
	rc = wire_open(&r, g->pkt, (size_t)n);
	if (rc < 0) {
		swim_count_open_error(g, rc == -EPROTONOSUPPORT ? rc : -EMSGSIZE);
		return;
	}
	check = r;
	while ((rc = wire_get(&check, &msg)) > 0)
		if (!datagram_type(msg.type)) {
			rc = -EPROTO;
			break;
		}
	if (rc < 0) {
		g->st.drop_malformed++;
		return;
	}
	g->rx = true;
	g->rx_from = from;
	while (wire_get(&r, &msg) > 0)
		handle(g, from, &msg);
	g->rx = false;
}

void gossip_stream_failed(struct gossip *g, struct gossip_addr to, uint64_t now_ms)
{
	swim_enter(g, now_ms);
	g->st.streams_failed++;
}

void gossip_tick(struct gossip *g, uint64_t now_ms)
{
	uint32_t i;

	swim_enter(g, now_ms);
	if (!g->left) {
		while ((i = swim_susp_expired(g, g->now)) != NONE)
			declare(g, i);
		swim_relays_tick(g);
		if (g->probe.active && !g->probe.acked && !g->probe.indirect &&
		    g->now >= g->probe.t_timeout)
			swim_probe_indirect(g);
		if (g->now >= g->next_probe) {
			swim_probe_judge(g);
			swim_probe_start(g);
		}
		swim_pushpull_tick(g, g->now);
		swim_join_tick(g, g->now, false);
		if (g->meta_pending && g->now >= g->meta_last + g->cfg.meta_min_interval_ms)
			meta_announce(g);
	}
	if (g->now >= g->next_gossip) {
		g->next_gossip = g->now + g->cfg.gossip_interval_ms;
		gossip_round(g);
	}
	swim_graves_reap(g, g->now);
}

uint64_t gossip_deadline(const struct gossip *g)
{
	uint64_t d = NEVER;
	uint32_t i;

	if (!g->left) {
		d = g->next_probe;
		if (g->probe.active && !g->probe.acked && !g->probe.indirect)
			d = min64(d, g->probe.t_timeout);
		d = min64(d, swim_susp_deadline(g));
		for (i = 0; g->nrelay && i < RELAY_MAX; i++)
			if (g->relay[i].used)
				d = min64(d, g->relay[i].deadline);
		if (g->cfg.pushpull_interval_ms && g->n > 1)
			d = min64(d, g->next_pushpull);
		if (g->joining && !swim_alive_others(g))
			d = min64(d, g->next_join);
		if (g->meta_pending)
			d = min64(d, g->meta_last + g->cfg.meta_min_interval_ms);
	}
	if (g->bq.len)
		d = min64(d, g->next_gossip);
	return min64(d, swim_graves_deadline(g));
}

/* Life cycle. */

static bool config_ok(const struct gossip_config *c)
{
	return c->probe_interval_ms && c->probe_timeout_ms &&
	       c->probe_timeout_ms <= c->probe_interval_ms && c->indirect_checks <= INDIRECT_MAX &&
	       c->suspicion_mult && c->suspicion_max_mult && c->gossip_interval_ms &&
	       c->gossip_nodes && c->gossip_nodes <= GOSSIP_NODES_MAX && c->retransmit_mult &&
	       c->awareness_max && c->join_retry_ms && c->udp_max >= UDP_MIN &&
	       c->udp_max <= GOSSIP_UDP_MAX;
}

struct gossip *gossip_new(const struct gossip_config *cfg, const struct gossip_self *self,
			  const struct gossip_keyring *kr, const uint8_t seed[32], uint64_t now_ms)
{
	const char *cluster = self && self->cluster ? self->cluster : "";
	struct gossip *g;
	struct member *me;
	size_t len;

	if (!cfg || !self || !kr || !seed || !self->name || !config_ok(cfg) ||
	    kr->n > GOSSIP_KEYS_MAX)
		return NULL;
	len = strnlen(self->name, GOSSIP_NAME_MAX + 1);
	if (!len || len > GOSSIP_NAME_MAX ||
	    strnlen(cluster, GOSSIP_CLUSTER_MAX + 1) > GOSSIP_CLUSTER_MAX)
		return NULL;
	if (self->tags && strnlen(self->tags, GOSSIP_TAGS_MAX + 1) > GOSSIP_TAGS_MAX)
		return NULL;
	g = gossip_port_alloc(sizeof *g);
	if (!g)
		return NULL;
	memset(g, 0, sizeof *g);
	g->cfg = *cfg;
	g->kr = *kr;
	scopy(g->cluster, cluster, sizeof g->cluster);
	rng_seed(&g->rng, seed, 0);
	rng_seed(&g->nonce, seed, NONCE_TWEAK);
	g->app_seq = (uint32_t)(g->rng.s[0] ^ g->rng.s[3]); /* random, drawing nothing */
	g->now = now_ms;
	swim_bq_init(&g->bq);
	if (swim_member_add(g, self->name, now_ms) != 0) {
		gossip_free(g);
		return NULL;
	}
	me = &g->m[0];
	me->ip = self->addr.ip;
	me->port = self->addr.port;
	me->res = self->res;
	if (self->tags && swim_member_set_tags(me, self->tags) < 0) {
		gossip_free(g);
		return NULL;
	}
	swim_member_set_state(g, me, GOSSIP_ALIVE, now_ms);
	/* Stagger the periodic work so that nodes started together do not act in step. */
	g->next_probe = now_ms + rng_below(&g->rng, cfg->probe_interval_ms);
	g->next_gossip = now_ms + rng_below(&g->rng, cfg->gossip_interval_ms);
	if (cfg->pushpull_interval_ms)
		g->next_pushpull = now_ms + rng_below(&g->rng, cfg->pushpull_interval_ms);
	return g;
}

void gossip_free(struct gossip *g)
{
	uint32_t i;

	if (!g)
		return;
	for (i = 0; i < g->out_len; i++)
		gossip_port_free(g->out[i].data);
	gossip_port_free(g->out);
	gossip_port_free(g->reply);
	gossip_port_release(g->probe.target);
	if (g->n)
		swim_bq_free(g);
	swim_susp_free_all(g);
	swim_app_free(g);
	swim_members_free(g);
	gossip_port_free(g->seeds);
	gossip_port_free(g);
}

int gossip_join(struct gossip *g, const struct gossip_addr *seeds, size_t n, uint64_t now_ms)
{
	struct gossip_addr *copy = NULL;

	swim_enter(g, now_ms);
	if (g->left || (n && !seeds))
		return -EINVAL;
	if (n) {
		copy = gossip_port_alloc(n * sizeof *copy);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, seeds, n * sizeof *copy);
	}
	gossip_port_free(g->seeds);
	g->seeds = copy;
	g->nseeds = n;
	g->joining = true;
	g->discover = n == 0;
	g->next_join = g->now;
	swim_join_tick(g, g->now, true);
	return 0;
}

void gossip_leave(struct gossip *g, uint64_t now_ms)
{
	struct wire_msg msg;

	swim_enter(g, now_ms);
	if (g->left)
		return;
	swim_accuse_msg(&msg, WIRE_DEAD, &g->m[0], g->m[0].name);
	swim_bq_put(g, 0, &msg);
	swim_member_set_state(g, &g->m[0], GOSSIP_LEFT, g->now);
	g->left = true;
	if (g->probe.active)
		swim_probe_end(g);
	gossip_round(g);
	g->next_gossip = g->now + g->cfg.gossip_interval_ms;
}

uint32_t gossip_health(const struct gossip *g) { return g->health; }

const struct gossip_stats *gossip_stats(const struct gossip *g) { return &g->st; }
