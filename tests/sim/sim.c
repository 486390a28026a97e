/* sim.c: the simulated world: nodes running the real gossip core, the network between
 * them, faults, and what the run observes (sim.h has the model). */
#include "tests/sim/sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/gossip/wire.h"

#define FP_SHOWN 5 /* false positives described on stderr (the rest are only counted) */

static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t sim_rand(struct sim *s) { return mix(&s->rng); }

uint32_t sim_below(struct sim *s, uint32_t n) { return n ? (uint32_t)(sim_rand(s) % n) : 0; }

static bool chance(struct sim *s, double p)
{
	return p > 0 && (double)(sim_rand(s) >> 11) * (1.0 / 9007199254740992.0) < p;
}

static uint64_t latency(struct sim *s)
{
	return s->o.latency_ms + (s->o.jitter_ms ? sim_below(s, s->o.jitter_ms + 1) : 0);
}

/* The node at an address, or -1. */
static int64_t owner(const struct sim *s, struct gossip_addr a)
{
	uint32_t k = a.ip - SIM_BASE_IP;

	if (a.port != GOSSIP_PORT || k >= s->owner_cap || !s->owner[k])
		return -1;
	return (int64_t)s->owner[k] - 1;
}

static int new_addr(struct sim *s, uint32_t i)
{
	if (s->next_ip == s->owner_cap) {
		uint32_t cap = s->owner_cap ? s->owner_cap * 2 : 1024;
		uint32_t *o = realloc(s->owner, cap * sizeof *o);

		if (!o)
			return -ENOMEM;
		memset(o + s->owner_cap, 0, (cap - s->owner_cap) * sizeof *o);
		s->owner = o;
		s->owner_cap = cap;
	}
	s->node[i].addr.ip = SIM_BASE_IP + s->next_ip;
	s->node[i].addr.port = GOSSIP_PORT;
	s->owner[s->next_ip++] = i + 1;
	return 0;
}

/* The node a member name belongs to ("n" and its index), or -1. */
static int64_t name_index(const struct sim *s, const char *name)
{
	char *end;
	unsigned long v;

	if (name[0] != 'n')
		return -1;
	v = strtoul(name + 1, &end, 10);
	if (*end || v >= s->n)
		return -1;
	return (int64_t)v;
}

int sim_init(struct sim *s, const struct sim_opts *o)
{
	uint8_t key[32];
	unsigned i;

	memset(s, 0, sizeof *s);
	s->o = *o;
	s->rng = o->seed;
	s->cap = o->nodes + o->spare;
	s->node = calloc(s->cap, sizeof *s->node);
	s->w.seen = calloc(s->cap, 1);
	if (!s->node || !s->w.seen)
		return -ENOMEM;
	if (!o->plain) {
		for (i = 0; i < sizeof key; i += 8) {
			uint64_t r = sim_rand(s);
			memcpy(key + i, &r, 8);
		}
		s->kr.n = 1;
		s->kr.len[0] = sizeof key;
		memcpy(s->kr.key[0], key, sizeof key);
	}
	return 0;
}

void sim_free(struct sim *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		gossip_free(s->node[i].g);
	queue_free(&s->q);
	free(s->node);
	free(s->owner);
	free(s->w.seen);
	memset(s, 0, sizeof *s);
}

static void push(struct sim *s, const struct ev *e)
{
	if (queue_push(&s->q, e) < 0) {
		fprintf(stderr, "gossip_sim: out of memory for events\n");
		exit(2);
	}
}

static void note_conv(struct sim *s)
{
	bool c = sim_converged(s);

	if (c && !s->conv)
		s->conv_at = s->now;
	s->conv = c;
}

static void recount_full(struct sim *s)
{
	uint32_t i;

	s->n_full = 0;
	for (i = 0; i < s->n; i++) {
		struct sim_node *n = &s->node[i];

		n->full = n->g && n->alive_seen == s->up;
		s->n_full += n->full;
	}
	note_conv(s);
}

static void update_full(struct sim *s, uint32_t i)
{
	struct sim_node *n = &s->node[i];
	bool full;

	n->alive_seen = (uint32_t)gossip_count(n->g, GOSSIP_ALIVE);
	full = n->alive_seen == s->up;
	s->n_full += (uint32_t)full - (uint32_t)n->full;
	n->full = full;
	note_conv(s);
}

/* A membership event from node i: detection, false positives, suspicions. */
static void observe(struct sim *s, uint32_t i, const struct gossip_event *e)
{
	int64_t j = name_index(s, e->name);
	struct sim_watch *w = &s->w;
	struct sim_node *t;

	if (j < 0)
		return;
	t = &s->node[j];
	switch (e->kind) {
	case GOSSIP_EV_SUSPECT:
		if (t->g)
			s->c.suspect_live++;
		if (w->on && (uint32_t)j == w->target && w->first_suspect == UINT64_MAX)
			w->first_suspect = s->now;
		break;
	case GOSSIP_EV_DEAD:
	case GOSSIP_EV_LEFT:
		if (w->on && (uint32_t)j == w->target) {
			if (!w->seen[i]) {
				w->seen[i] = 1;
				w->detected++;
				if (w->first_dead == UINT64_MAX)
					w->first_dead = s->now;
				w->last_dead = s->now;
			}
		} else if (t->g) {
			if (s->now < t->excused_until &&
			    (t->excuse_all || s->node[i].group != t->group)) {
				s->c.dead_excused++;
			} else if ((int64_t)e->incarnation <= t->prev_inc) {
				s->c.dead_stale++;
			} else {
				if (s->c.false_pos < FP_SHOWN)
					fprintf(stderr,
						"gossip_sim: false positive at %llu ms: %s declared "
						"%s %s (incarnation %u, its own %u)\n",
						(unsigned long long)s->now, s->node[i].name,
						t->name,
						gossip_state_name(e->kind == GOSSIP_EV_DEAD
									  ? GOSSIP_DEAD
									  : GOSSIP_LEFT),
						e->incarnation, sim_incarnation(s, (uint32_t)j));
				s->c.false_pos++;
			}
		}
		break;
	default:
		break;
	}
}

static void fail_stream(struct sim *s, uint32_t i, uint32_t epoch, struct gossip_addr to,
			uint64_t at)
{
	struct ev e = {.at = at, .node = i, .epoch = epoch, .from = to, .kind = EV_STREAM_FAIL};

	s->c.streams_failed++;
	push(s, &e);
}

static uint8_t *copy(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (!d) {
		fprintf(stderr, "gossip_sim: out of memory for a packet\n");
		exit(2);
	}
	memcpy(d, p, n);
	return d;
}

/* A datagram from node i to node j (its current address). */
static void datagram(struct sim *s, uint32_t i, uint32_t j, const struct gossip_out *o)
{
	struct sim_node *a = &s->node[i], *b = &s->node[j];
	struct ev e;

	if (s->block[a->group][b->group]) {
		s->c.udp_blocked++;
		return;
	}
	if (chance(s, s->o.loss[a->group][b->group])) {
		s->c.udp_lost++;
		return;
	}
	memset(&e, 0, sizeof e);
	e.at = s->now + latency(s);
	e.node = j;
	e.epoch = b->epoch;
	e.from = a->addr;
	e.kind = EV_UDP;
	e.len = (uint32_t)o->len;
	e.data = copy(o->data, o->len);
	push(s, &e);
}

static void send(struct sim *s, uint32_t i, const struct gossip_out *o)
{
	struct sim_node *a = &s->node[i];
	int64_t j = owner(s, o->to);
	uint32_t k;
	struct ev e;

	switch (o->kind) {
	case GOSSIP_OUT_UDP:
		a->udp_pkts++;
		a->udp_bytes += o->len;
		if (j < 0)
			s->c.udp_nowhere++;
		else
			datagram(s, i, (uint32_t)j, o);
		break;
	case GOSSIP_OUT_BROADCAST:
		a->udp_pkts++;
		a->udp_bytes += o->len;
		for (k = 0; k < s->n; k++)
			if (k != i && s->node[k].g)
				datagram(s, i, k, o);
		break;
	case GOSSIP_OUT_STREAM:
		a->frames++;
		a->frame_bytes += o->len;
		s->c.streams++;
		if (j < 0 || !s->node[j].g || s->block[a->group][s->node[j].group]) {
			fail_stream(s, i, a->epoch, o->to, s->now + s->o.connect_timeout_ms);
			break;
		}
		memset(&e, 0, sizeof e);
		e.at = s->now + latency(s);
		e.sent_at = s->now;
		e.node = (uint32_t)j;
		e.epoch = s->node[j].epoch;
		e.peer = i;
		e.peer_epoch = a->epoch;
		e.from = a->addr;
		e.to = o->to;
		e.kind = EV_STREAM_REQ;
		e.len = (uint32_t)o->len;
		e.data = copy(o->data, o->len);
		push(s, &e);
		break;
	}
}

/* After any call into node i's core: send its output, observe its events, and put its
 * next tick on the queue. */
static void settle(struct sim *s, uint32_t i, bool ticked)
{
	struct sim_node *n = &s->node[i];
	struct gossip_out o;
	struct gossip_event e;
	bool events = false;
	uint64_t d;

	while (gossip_next_out(n->g, &o))
		send(s, i, &o);
	while (gossip_next_event(n->g, &e)) {
		observe(s, i, &e);
		events = true;
	}
	if (events)
		update_full(s, i);
	d = gossip_deadline(n->g);
	if (d <= s->now) {
		if (ticked) {
			/* A tick that leaves itself due would spin the clock in place. */
			s->c.late_deadline++;
			d = s->now + 1;
		} else {
			d = s->now;
		}
	}
	if (d != n->tick_at) {
		struct ev t = {.at = d,
			       .node = i,
			       .epoch = n->epoch,
			       .peer = ++n->tick_gen,
			       .kind = EV_TICK};

		n->tick_at = d;
		push(s, &t);
	}
}

static void node_seed(struct sim *s, uint32_t i, uint8_t out[32])
{
	uint64_t x = s->o.seed ^ ((uint64_t)i << 32) ^ s->node[i].epoch, r;
	unsigned k;

	for (k = 0; k < 32; k += 8) {
		r = mix(&x);
		memcpy(out + k, &r, 8);
	}
}

/* Boot node i now and join through up to o.seeds seeds from [0, pool) (not itself).
 * Up nodes are preferred; without any, the first ones of the pool are dialed anyway. */
static int boot(struct sim *s, uint32_t i, uint32_t pool)
{
	struct sim_node *n = &s->node[i];
	struct gossip_self self = {.name = n->name,
				   .cluster = SIM_CLUSTER,
				   .addr = n->addr,
				   .res = {.cpus = 1, .mem_total_mib = 128, .mem_free_mib = 96}};
	struct gossip_addr seeds[8];
	uint8_t seed[32];
	uint32_t want = s->o.seeds < 8 ? s->o.seeds : 8, ns = 0, k, tries;

	node_seed(s, i, seed);
	n->g = gossip_new(&s->o.gc, &self, &s->kr, seed, s->now);
	if (!n->g)
		return -ENOMEM;
	n->tick_at = UINT64_MAX;
	s->up++;
	if (pool > s->n)
		pool = s->n;
	if (pool <= want + 1) {
		for (k = 0; k < pool && ns < want; k++)
			if (k != i)
				seeds[ns++] = s->node[k].addr;
	} else {
		/* Random distinct seeds, up ones first. */
		for (tries = 0; ns < want && tries < 64 * want; tries++) {
			uint32_t c = sim_below(s, pool), m;

			if (c == i || (!s->node[c].g && tries < 32 * want))
				continue;
			for (m = 0; m < ns && seeds[m].ip != s->node[c].addr.ip; m++)
				;
			if (m == ns)
				seeds[ns++] = s->node[c].addr;
		}
	}
	if (ns && gossip_join(n->g, seeds, ns, s->now) < 0)
		fprintf(stderr, "gossip_sim: %s: gossip_join refused its seeds\n", n->name);
	n->alive_seen = (uint32_t)gossip_count(n->g, GOSSIP_ALIVE);
	recount_full(s);
	settle(s, i, false);
	return 0;
}

int sim_add(struct sim *s, uint64_t at, uint32_t pool)
{
	uint32_t i = s->n;
	struct sim_node *n;
	struct ev e = {.at = at, .kind = EV_START};

	if (i == s->cap)
		return -ENOMEM;
	n = &s->node[i];
	snprintf(n->name, sizeof n->name, "n%05u", i);
	n->prev_inc = -1;
	n->group = i >= s->o.nodes / 2;
	if (new_addr(s, i) < 0)
		return -ENOMEM;
	s->n++;
	s->booting++;
	e.node = i;
	e.peer = pool;
	push(s, &e);
	return 0;
}

/* Every node's own state as one sealed push-pull reply frame, length prefix included. */
static uint8_t *warm_frame(struct sim *s, size_t *len)
{
	struct wire_msg hdr = {.type = WIRE_PUSHPULL}, msg = {.type = WIRE_STATE};
	struct wire_alive *a = &msg.u.alive;
	struct gossip_member m;
	struct wire_writer w;
	size_t total = 1, cap = 0;
	uint8_t nonce[GOSSIP_NONCE_LEN], *plain = NULL, *frame = NULL;
	uint32_t i, k;
	long n;
	int rc = 0;

	hdr.u.pushpull.reply = true;
	hdr.u.pushpull.count = s->n;
	for (k = 0; k < 2; k++) { /* measure, then write */
		if (k == 1) {
			cap = total + GOSSIP_SEAL_OVERHEAD;
			plain = malloc(total);
			frame = malloc(4 + cap);
			if (!plain || !frame || wire_begin(&w, plain, total) < 0 ||
			    wire_put(&w, &hdr) < 0)
				goto fail;
		} else if ((n = wire_size(&hdr)) < 0) {
			return NULL;
		} else {
			total += (size_t)n;
		}
		for (i = 0; i < s->n; i++) {
			gossip_member_at(s->node[i].g, 0, &m);
			memset(a, 0, sizeof *a);
			a->incarnation = m.incarnation;
			snprintf(a->node.name, sizeof a->node.name, "%s", m.name);
			a->node.addr = m.addr;
			a->meta_version = m.meta_version;
			a->res = m.res;
			snprintf(a->tags, sizeof a->tags, "%s", m.tags);
			a->state = GOSSIP_ALIVE;
			if (k == 0) {
				if ((n = wire_size(&msg)) < 0)
					return NULL;
				total += (size_t)n;
			} else if ((rc = wire_put(&w, &msg)) < 0) {
				goto fail;
			}
		}
	}
	for (k = 0; k < GOSSIP_NONCE_LEN; k++)
		nonce[k] = (uint8_t)sim_rand(s);
	n = gossip_seal(&s->kr, SIM_CLUSTER, nonce, plain, w.len, frame + 4, cap);
	if (n < 0)
		goto fail;
	free(plain);
	gossip_frame_put_len(frame, (uint32_t)n);
	*len = 4 + (size_t)n;
	return frame;
fail:
	fprintf(stderr, "gossip_sim: cannot build the warm-start frame (%d)\n", rc);
	free(plain);
	free(frame);
	return NULL;
}

uint32_t sim_incarnation(struct sim *s, uint32_t i)
{
	struct gossip_member m;

	if (!s->node[i].g)
		return 0;
	gossip_member_at(s->node[i].g, 0, &m);
	return m.incarnation;
}

bool sim_view(struct sim *s, uint32_t viewer, uint32_t i, enum gossip_state *st, uint32_t *inc)
{
	struct gossip_member m;

	if (!s->node[viewer].g || !gossip_member_find(s->node[viewer].g, s->node[i].name, &m))
		return false;
	*st = m.state;
	*inc = m.incarnation;
	return true;
}

void sim_crash(struct sim *s, uint32_t i)
{
	struct sim_node *n = &s->node[i];

	if (!n->g)
		return;
	n->prev_inc = sim_incarnation(s, i);
	gossip_free(n->g);
	n->g = NULL;
	n->epoch++;
	n->paused_until = 0;
	s->up--;
	recount_full(s);
}

int sim_restart(struct sim *s, uint32_t i, bool addr)
{
	struct sim_node *n = &s->node[i];

	if (n->g)
		sim_crash(s, i);
	if (addr) {
		s->owner[n->addr.ip - SIM_BASE_IP] = 0;
		if (new_addr(s, i) < 0)
			return -ENOMEM;
	}
	n->epoch++;
	return boot(s, i, s->n);
}

void sim_pause(struct sim *s, uint32_t i, uint32_t ms, uint32_t excuse_ms)
{
	s->node[i].paused_until = s->now + ms;
	s->node[i].excused_until = s->now + ms + excuse_ms;
	s->node[i].excuse_all = true;
}

void sim_excuse_across(struct sim *s, uint32_t i, uint64_t until)
{
	s->node[i].excused_until = until;
	s->node[i].excuse_all = false;
}

void sim_block(struct sim *s, uint8_t from, uint8_t to, bool on) { s->block[from][to] = on; }

/* Hand a stream frame (length prefix included) to node i's core: 0, or -EBADMSG when
 * its prefix disagrees with its length. */
static int frame_in(struct sim *s, uint32_t i, struct gossip_addr from, const struct ev *e,
		    struct gossip_out *reply)
{
	long len;

	if (e->len < 4 || (len = gossip_frame_len(e->data)) < 0 || (size_t)len != e->len - 4) {
		s->c.bad_frames++;
		return -EBADMSG;
	}
	gossip_stream_in(s->node[i].g, from, e->data + 4, e->len - 4, s->now, reply);
	return 0;
}

static void stream_req(struct sim *s, struct ev *e)
{
	uint32_t j = e->node, i = e->peer;
	struct sim_node *b = &s->node[j];
	struct gossip_out reply = {0};
	uint64_t dead_line = e->sent_at + s->o.connect_timeout_ms;
	uint8_t *data = NULL;
	size_t len = 0;
	struct ev r;

	if (!b->g || b->epoch != e->epoch) {
		fail_stream(s, i, e->peer_epoch, e->to, dead_line > s->now ? dead_line : s->now);
		return;
	}
	if (frame_in(s, j, e->from, e, &reply) == 0 && reply.len) {
		data = copy(reply.data, reply.len);
		len = reply.len;
		b->frames++;
		b->frame_bytes += len;
	}
	settle(s, j, false);
	if (!data) {
		/* Closed without an answer: the requester sees it one trip later. */
		fail_stream(s, i, e->peer_epoch, e->to, s->now + latency(s));
		return;
	}
	if (s->block[b->group][s->node[i].group]) {
		free(data);
		fail_stream(s, i, e->peer_epoch, e->to, e->sent_at + s->o.stream_timeout_ms);
		return;
	}
	memset(&r, 0, sizeof r);
	r.at = s->now + latency(s);
	r.sent_at = e->sent_at;
	r.node = i;
	r.epoch = e->peer_epoch;
	r.from = e->to;
	r.kind = EV_STREAM_REPLY;
	r.len = (uint32_t)len;
	r.data = data;
	push(s, &r);
}

static void step(struct sim *s)
{
	struct ev e;
	struct sim_node *n;
	struct gossip_out reply;

	queue_pop(&s->q, &e);
	s->now = e.at;
	s->c.events++;
	n = &s->node[e.node];
	if (e.kind != EV_START && n->g && s->now < n->paused_until) {
		/* Paused: everything waits, in order, until it runs again. */
		e.at = n->paused_until;
		push(s, &e);
		return;
	}
	switch (e.kind) {
	case EV_START:
		s->booting--;
		if (!n->g && boot(s, e.node, e.peer) < 0) {
			fprintf(stderr, "gossip_sim: %s: gossip_new failed\n", n->name);
			exit(2);
		}
		break;
	case EV_TICK:
		if (!n->g || e.epoch != n->epoch || e.peer != n->tick_gen)
			break;
		n->tick_at = UINT64_MAX;
		gossip_tick(n->g, s->now);
		settle(s, e.node, true);
		break;
	case EV_UDP:
		if (!n->g || e.epoch != n->epoch)
			break;
		gossip_udp_in(n->g, e.from, e.data, e.len, s->now);
		settle(s, e.node, false);
		break;
	case EV_STREAM_REQ:
		stream_req(s, &e);
		break;
	case EV_STREAM_REPLY:
		if (!n->g || e.epoch != n->epoch)
			break;
		if (s->now - e.sent_at > s->o.stream_timeout_ms) {
			s->c.streams_failed++;
			gossip_stream_failed(n->g, e.from, s->now);
		} else if (frame_in(s, e.node, e.from, &e, &reply) < 0) {
			gossip_stream_failed(n->g, e.from, s->now);
		}
		settle(s, e.node, false);
		break;
	case EV_STREAM_FAIL:
		if (!n->g || e.epoch != n->epoch)
			break;
		gossip_stream_failed(n->g, e.from, s->now);
		settle(s, e.node, false);
		break;
	}
	free(e.data);
}

void sim_run_until(struct sim *s, uint64_t t)
{
	while (queue_next(&s->q) <= t)
		step(s);
	if (s->now < t)
		s->now = t;
}

bool sim_run_while(struct sim *s, bool (*done)(struct sim *), uint64_t t)
{
	if (done(s))
		return true;
	while (queue_next(&s->q) <= t) {
		step(s);
		if (done(s))
			return true;
	}
	if (s->now < t)
		s->now = t;
	return false;
}

bool sim_converged(struct sim *s) { return !s->booting && s->up && s->n_full == s->up; }

void sim_watch(struct sim *s, uint32_t i)
{
	struct sim_watch *w = &s->w;

	memset(w->seen, 0, s->cap);
	w->on = true;
	w->target = i;
	w->at = s->now;
	w->first_suspect = w->first_dead = w->last_dead = UINT64_MAX;
	w->detected = 0;
}

bool sim_watch_done(struct sim *s) { return s->w.detected >= s->up; }

void sim_unwatch(struct sim *s) { s->w.on = false; }

void sim_window(struct sim *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		struct sim_node *n = &s->node[i];

		n->udp_pkts = n->udp_bytes = n->frames = n->frame_bytes = 0;
	}
	s->win_start = s->now;
}

int sim_warm(struct sim *s)
{
	struct gossip_out reply;
	struct ev e;
	size_t len = 0;
	uint8_t *frame;
	uint32_t i;

	while (s->n < s->o.nodes)
		if (sim_add(s, s->now, 0) < 0)
			return -ENOMEM;
	/* Their start events are the earliest on the queue: boot them all now. */
	while (s->booting)
		step(s);
	frame = warm_frame(s, &len);
	if (!frame)
		return -ENOMEM;
	memset(&e, 0, sizeof e);
	e.data = frame;
	e.len = (uint32_t)len;
	for (i = 0; i < s->n; i++) {
		if (frame_in(s, i, s->node[0].addr, &e, &reply) < 0) {
			free(frame);
			return -EBADMSG;
		}
		settle(s, i, false);
	}
	free(frame);
	return 0;
}
