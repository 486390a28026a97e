/* sync.c: push-pull anti-entropy over streams, joining (seeds or discovery), frames.
 *
 * A push-pull sends this node's whole table (every member, dead and left included, self
 * too) in one sealed frame; the receiver answers with its own table and both merge what
 * they got as if it were rumours: alive by incarnation, left as a leave, and dead or
 * suspect only as a suspicion (memberlist's rule: one node's verdict is not taken on
 * trust; the accused, if alive, gets the chance to refute). A node that hears itself
 * called dead this way, typically because it restarted at incarnation 0 under an old
 * name, refutes above the old incarnation.
 *
 * Merged news is re-broadcast like any rumour (as memberlist does: during a mass join the
 * joiners are the epidemic's carriers), except what a node alone learns from a big
 * table (over QUIET_FRAME_MIN members): a joiner that pulls in a cluster of 10,000 would
 * otherwise queue 10,000 stale announcements that everybody already knows.
 *
 * Joining: push-pull (join flag) to every seed, again every join_retry_ms while alone.
 * With no seeds: a DISCOVER broadcast instead, at the same pace; a member that hears one
 * from a node it does not know alive pulls it in. In a big cluster only about
 * DISCOVER_ANSWERERS members answer (each with that probability over its member count);
 * one that is alone itself always answers, so a rack booted at once forms one cluster. */
#include <errno.h>
#include <string.h>

#include "net/gossip/core.h"
#include "net/gossip/port.h"

#define PREFIX_LEN 4
#define QUIET_FRAME_MIN (BCAST_MAX / 4)

static bool ok_alive(const struct gossip *g, const struct member *m)
{
	return m->state == GOSSIP_ALIVE;
}

static uint32_t ceil_log2(uint32_t n)
{
	uint32_t l = 0;

	while (l < 32 && (UINT64_C(1) << l) < n)
		l++;
	return l;
}

/* memberlist's scaling: x (ceil(log2 n - log2 32) + 1) above 32 members. */
uint64_t swim_pushpull_interval(const struct gossip *g)
{
	uint32_t n = g->count[GOSSIP_ALIVE] + g->count[GOSSIP_SUSPECT];
	uint64_t base = g->cfg.pushpull_interval_ms;

	if (n <= PUSHPULL_SCALE_FROM)
		return base;
	return base * (ceil_log2(n) - ceil_log2(PUSHPULL_SCALE_FROM) + 1);
}

static void state_msg(const struct gossip *g, uint32_t i, struct wire_msg *msg)
{
	msg->type = WIRE_STATE;
	swim_fill_alive(g, &g->m[i], &msg->u.alive);
}

/* This node's table as one frame, length prefix included; NULL when out of memory or
 * over GOSSIP_FRAME_MAX. */
static uint8_t *frame_build(struct gossip *g, bool join, bool reply, size_t *len)
{
	struct wire_msg hdr, msg;
	struct wire_writer w;
	size_t total = 1, cap;
	uint8_t nonce[GOSSIP_NONCE_LEN], *plain, *frame;
	uint32_t i;
	long n;

	hdr.type = WIRE_PUSHPULL;
	hdr.u.pushpull.join = join;
	hdr.u.pushpull.reply = reply;
	hdr.u.pushpull.count = g->n;
	n = wire_size(&hdr);
	if (n < 0)
		return NULL;
	total += (size_t)n;
	for (i = 0; i < g->n; i++) {
		state_msg(g, i, &msg);
		n = wire_size(&msg);
		if (n < 0)
			return NULL;
		total += (size_t)n;
	}
	cap = total + GOSSIP_SEAL_OVERHEAD;
	if (cap > GOSSIP_FRAME_MAX)
		return NULL;
	plain = gossip_port_alloc(total);
	frame = gossip_port_alloc(PREFIX_LEN + cap);
	if (!plain || !frame || wire_begin(&w, plain, total) < 0 || wire_put(&w, &hdr) < 0)
		goto fail;
	for (i = 0; i < g->n; i++) {
		state_msg(g, i, &msg);
		if (wire_put(&w, &msg) < 0)
			goto fail;
	}
	swim_make_nonce(g, nonce);
	n = gossip_seal(&g->kr, g->cluster, nonce, plain, w.len, frame + PREFIX_LEN, cap);
	if (n < 0)
		goto fail;
	gossip_port_free(plain);
	gossip_frame_put_len(frame, (uint32_t)n);
	*len = PREFIX_LEN + (size_t)n;
	return frame;
fail:
	gossip_port_free(plain);
	gossip_port_free(frame);
	return NULL;
}

void swim_pushpull_send(struct gossip *g, struct gossip_addr to, bool join)
{
	size_t len;
	uint8_t *frame = frame_build(g, join, false, &len);

	if (frame)
		swim_out_push(g, GOSSIP_OUT_STREAM, to, frame, len);
}

void gossip_frame_put_len(uint8_t prefix[4], uint32_t len)
{
	prefix[0] = (uint8_t)(len >> 24);
	prefix[1] = (uint8_t)(len >> 16);
	prefix[2] = (uint8_t)(len >> 8);
	prefix[3] = (uint8_t)len;
}

long gossip_frame_len(const uint8_t prefix[4])
{
	uint32_t n = (uint32_t)prefix[0] << 24 | (uint32_t)prefix[1] << 16 |
		     (uint32_t)prefix[2] << 8 | prefix[3];

	return n > GOSSIP_FRAME_MAX ? -EMSGSIZE : (long)n;
}

/* One member's state from a frame; true when it was news (a member or incarnation we
 * did not know alive). */
static bool merge(struct gossip *g, const struct wire_alive *a, bool quiet)
{
	struct wire_accuse acc;

	if (a->state == GOSSIP_ALIVE)
		return swim_on_alive(g, a, quiet);
	acc.incarnation = a->incarnation;
	scopy(acc.name, a->node.name, sizeof acc.name);
	if (a->state == GOSSIP_LEFT) {
		scopy(acc.from, a->node.name, sizeof acc.from);
		swim_on_dead(g, &acc);
	} else {
		scopy(acc.from, g->m[0].name, sizeof acc.from);
		swim_on_suspect(g, &acc);
	}
	return false;
}

/* Decode and check a whole frame: a PUSHPULL, then exactly count STATEs. */
static int frame_check(struct wire_reader r, struct wire_pushpull *hdr)
{
	struct wire_msg msg;
	uint32_t seen = 0;
	int rc = wire_get(&r, &msg);

	if (rc <= 0 || msg.type != WIRE_PUSHPULL)
		return -EMSGSIZE;
	*hdr = msg.u.pushpull;
	while ((rc = wire_get(&r, &msg)) > 0) {
		if (msg.type != WIRE_STATE || ++seen > hdr->count)
			return -EPROTO;
	}
	return rc < 0 ? rc : seen == hdr->count ? 0 : -EMSGSIZE;
}

int gossip_stream_in(struct gossip *g, struct gossip_addr from, const uint8_t *data, size_t len,
		     uint64_t now_ms, struct gossip_out *reply)
{
	struct wire_pushpull hdr = {0};
	struct wire_reader r;
	struct wire_msg msg;
	uint8_t *plain;
	size_t rlen;
	uint32_t news = 0;
	bool quiet;
	long n;
	int rc;

	memset(reply, 0, sizeof *reply);
	reply->kind = GOSSIP_OUT_STREAM;
	reply->to = from;
	swim_enter(g, now_ms);
	g->st.frames_in++;
	g->st.frame_bytes_in += len;
	if (g->left)
		return -ECANCELED;
	if (len > GOSSIP_FRAME_MAX) {
		g->st.drop_malformed++;
		return -EMSGSIZE;
	}
	plain = gossip_port_alloc(len);
	if (!plain)
		return -ENOMEM;
	n = gossip_open(&g->kr, g->cluster, data, len, plain, len);
	if (n < 0) {
		swim_count_open_error(g, n);
		gossip_port_free(plain);
		return (int)n;
	}
	rc = wire_open(&r, plain, (size_t)n);
	if (rc == 0)
		rc = frame_check(r, &hdr);
	if (rc < 0) {
		swim_count_open_error(g, rc == -EPROTONOSUPPORT ? rc : -EMSGSIZE);
		gossip_port_free(plain);
		return rc;
	}
	/* Answer with the table as it was, then merge. */
	if (!hdr.reply) {
		g->reply = frame_build(g, false, true, &rlen);
		if (g->reply) {
			reply->data = g->reply;
			reply->len = rlen;
			g->st.frames_out++;
			g->st.frame_bytes_out += rlen;
		}
	}
	quiet = swim_alive_others(g) == 0 && hdr.count > QUIET_FRAME_MIN;
	wire_get(&r, &msg); /* the header */
	while (wire_get(&r, &msg) > 0)
		news += merge(g, &msg.u.alive, quiet);
	/* Tables that differed may differ elsewhere too (a mass join overflows the rumour
	 * queues): while exchanges keep bringing news, the next comes after one unscaled
	 * interval. A converged cluster learns nothing and keeps the scaled pace. */
	if (news && g->cfg.pushpull_interval_ms)
		g->next_pushpull = min64(g->next_pushpull, g->now + g->cfg.pushpull_interval_ms);
	gossip_port_free(plain);
	return 0;
}

/* A join attempt: at gossip_join (force), then while alone every join_retry_ms. */
void swim_join_tick(struct gossip *g, uint64_t now, bool force)
{
	struct gossip_addr bcast = {.ip = BROADCAST_IP, .port = g->m[0].port};
	struct wire_msg msg;
	size_t i;

	if (!g->joining || g->left)
		return;
	if (!force && (swim_alive_others(g) || now < g->next_join))
		return;
	g->next_join = now + g->cfg.join_retry_ms;
	if (g->discover) {
		msg.type = WIRE_DISCOVER;
		scopy(msg.u.discover.node.name, g->m[0].name, sizeof msg.u.discover.node.name);
		msg.u.discover.node.addr.ip = g->m[0].ip;
		msg.u.discover.node.addr.port = g->m[0].port;
		swim_send_msg(g, GOSSIP_OUT_BROADCAST, bcast, &msg, NULL, false);
		return;
	}
	for (i = 0; i < g->nseeds; i++)
		if (g->seeds[i].ip != g->m[0].ip || g->seeds[i].port != g->m[0].port)
			swim_pushpull_send(g, g->seeds[i], true);
}

void swim_pushpull_tick(struct gossip *g, uint64_t now)
{
	uint32_t i, dead = g->count[GOSSIP_DEAD];

	if (!g->cfg.pushpull_interval_ms || now < g->next_pushpull)
		return;
	g->next_pushpull = now + swim_pushpull_interval(g);
	if (swim_member_pick(g, &i, 1, NONE, ok_alive))
		swim_pushpull_send(g, (struct gossip_addr){.ip = g->m[i].ip, .port = g->m[i].port},
				   false);
	/* Reconnect: now and then push-pull with a dead member too (more often the more are
	 * dead, as Serf does), so two sides that each forgot a refutation still merge. */
	if (dead && g->grave_len && rng_below(&g->rng, g->count[GOSSIP_ALIVE] + dead) < dead) {
		i = swim_grave_pick(g);
		if (i != NONE && g->m[i].state == GOSSIP_DEAD)
			swim_pushpull_send(g, swim_addr_of(&g->m[i]), false);
	}
}

void swim_on_discover(struct gossip *g, const struct wire_discover *d)
{
	uint32_t i = swim_member_find(g, d->node.name), others = swim_alive_others(g);

	if (i == 0 || (i != NONE && g->m[i].state <= GOSSIP_SUSPECT))
		return;
	if (others && rng_below(&g->rng, others) >= DISCOVER_ANSWERERS)
		return;
	swim_pushpull_send(g, d->node.addr, false);
}
