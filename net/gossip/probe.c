/* probe.c: SWIM's failure detector: one probe per (stretched) interval, indirect probes
 * through other members with Lifeguard's nacks, and relaying for others.
 *
 * Health (Lifeguard's local awareness) moves here: an ack lowers the score by one; a
 * failed probe raises it by the nacks that did not come back, or by one when no relay was
 * asked. A relay that cannot reach the target within 4/5 of its probe timeout answers
 * with a nack, early enough to arrive before the asker judges, so the asker can tell
 * "the target is gone" (relays heard us) from "we are deaf". */
#include <errno.h>
#include <string.h>

#include "net/gossip/core.h"
#include "net/gossip/port.h"

#define NACK_NUM 4 /* a relay nacks after 4/5 of its own probe timeout */
#define NACK_DEN 5

static bool ok_alive(const struct gossip *g, const struct member *m)
{
	return m->state == GOSSIP_ALIVE;
}

/* Every round while members are dead, tell one of them that it is dead: one that was
 * only cut off (or missed a refutation, or had its own missed) refutes and tells us, so
 * a healed partition meets again before dead_reclaim_ms forgets it; a crashed one costs
 * one datagram a round until it is forgotten. The dead are drawn from the graves, so it
 * is O(1) in any table. */
static void probe_dead(struct gossip *g)
{
	uint32_t t, i;
	struct wire_msg msg;

	if (!g->count[GOSSIP_DEAD] || !g->grave_len)
		return;
	for (t = 0; t < PICK_TRIES && g->grave_len; t++) {
		i = swim_grave_pick(g);
		if (i == NONE || g->m[i].state != GOSSIP_DEAD)
			continue;
		swim_accuse_msg(&msg, WIRE_DEAD, &g->m[i], g->m[0].name);
		swim_send_msg(g, GOSSIP_OUT_UDP, swim_addr_of(&g->m[i]), &msg, NULL, true);
		return;
	}
}

void swim_probe_end(struct gossip *g)
{
	gossip_port_release(g->probe.target);
	g->probe.target = NULL;
	g->probe.active = false;
}

void swim_probe_start(struct gossip *g)
{
	struct probe *p = &g->probe;
	struct wire_msg ping, susp;
	uint32_t i = swim_member_next_probe(g);
	struct member *m;

	g->next_probe = g->now + swim_scaled(g, g->cfg.probe_interval_ms);
	probe_dead(g);
	if (i == NONE)
		return;
	m = &g->m[i];
	p->target = gossip_port_intern(m->name, strlen(m->name));
	if (!p->target)
		return;
	p->active = true;
	p->acked = p->indirect = false;
	p->seq = ++g->seq;
	p->nacks = p->nacks_wanted = 0;
	p->t_timeout = g->now + swim_scaled(g, g->cfg.probe_timeout_ms);
	ping.type = WIRE_PING;
	ping.u.ping.seq = p->seq;
	scopy(ping.u.ping.target, m->name, sizeof ping.u.ping.target);
	swim_self_node(g, &ping.u.ping.source);
	g->st.probes++;
	if (m->state == GOSSIP_SUSPECT) {
		swim_accuse_msg(&susp, WIRE_SUSPECT, m, g->m[0].name);
		swim_send_msg(g, GOSSIP_OUT_UDP, swim_addr_of(m), &susp, &ping, true);
	} else {
		swim_send_msg(g, GOSSIP_OUT_UDP, swim_addr_of(m), &ping, NULL, true);
	}
}

void swim_probe_indirect(struct gossip *g)
{
	struct probe *p = &g->probe;
	uint32_t via[INDIRECT_MAX], t = swim_member_find(g, p->target), n, i;
	struct wire_msg req;

	p->indirect = true;
	if (t == NONE)
		return;
	n = swim_member_pick(g, via, g->cfg.indirect_checks, t, ok_alive);
	if (!n)
		return;
	g->st.probe_indirect++;
	req.type = WIRE_PING_REQ;
	req.u.ping_req.seq = p->seq;
	scopy(req.u.ping_req.target.name, g->m[t].name, sizeof req.u.ping_req.target.name);
	req.u.ping_req.target.addr = swim_addr_of(&g->m[t]);
	swim_self_node(g, &req.u.ping_req.source);
	req.u.ping_req.want_nack = true;
	for (i = 0; i < n; i++)
		swim_send_msg(g, GOSSIP_OUT_UDP, swim_addr_of(&g->m[via[i]]), &req, NULL, true);
	p->nacks_wanted = n;
}

/* The probe's interval is over: no ack means suspicion. */
void swim_probe_judge(struct gossip *g)
{
	struct probe *p = &g->probe;
	struct wire_msg msg;
	uint32_t t;

	if (!p->active)
		return;
	if (p->acked) {
		swim_probe_end(g);
		return;
	}
	g->st.probe_failed++;
	swim_health_add(g, p->nacks_wanted ? (int)(p->nacks_wanted - p->nacks) : 1);
	t = swim_member_find(g, p->target);
	swim_probe_end(g);
	if (t == NONE || t == 0 || g->m[t].state > GOSSIP_SUSPECT)
		return;
	swim_accuse_msg(&msg, WIRE_SUSPECT, &g->m[t], g->m[0].name);
	swim_on_suspect(g, &msg.u.accuse);
	if (g->m[t].state == GOSSIP_SUSPECT)
		swim_send_msg(g, GOSSIP_OUT_UDP, swim_addr_of(&g->m[t]), &msg, NULL, false);
}

void swim_on_ack(struct gossip *g, uint32_t seq)
{
	struct wire_msg ack;
	struct relay *r;
	uint32_t i;

	if (g->probe.active && seq == g->probe.seq) {
		if (!g->probe.acked) {
			g->probe.acked = true;
			g->st.probe_acks++;
			swim_health_add(g, -1);
		}
		return;
	}
	for (i = 0; g->nrelay && i < RELAY_MAX; i++) {
		r = &g->relay[i];
		if (!r->used || r->seq != seq)
			continue;
		ack.type = WIRE_ACK;
		ack.u.ack.seq = r->orig_seq;
		swim_send_msg(g, GOSSIP_OUT_UDP, r->to, &ack, NULL, true);
		r->used = false;
		g->nrelay--;
		return;
	}
}

/* Ping `target` for someone else; their ack (or nack) is relayed. */
void swim_relay_start(struct gossip *g, const struct wire_ping_req *pr)
{
	struct wire_msg ping;
	struct relay *r = NULL;
	uint32_t i;

	for (i = 0; i < RELAY_MAX && !r; i++)
		if (!g->relay[i].used)
			r = &g->relay[i];
	if (!r)
		return;
	r->used = true;
	r->want_nack = pr->want_nack;
	r->seq = ++g->seq;
	r->orig_seq = pr->seq;
	r->to = pr->source.addr;
	/* The nack must reach the asker before it judges (its probe interval ends about one
	 * probe timeout after it asked us), or a healthy asker blames itself. */
	r->deadline = g->now + g->cfg.probe_timeout_ms * NACK_NUM / NACK_DEN;
	g->nrelay++;
	ping.type = WIRE_PING;
	ping.u.ping.seq = r->seq;
	scopy(ping.u.ping.target, pr->target.name, sizeof ping.u.ping.target);
	swim_self_node(g, &ping.u.ping.source);
	swim_send_msg(g, GOSSIP_OUT_UDP, pr->target.addr, &ping, NULL, true);
}

void swim_relays_tick(struct gossip *g)
{
	struct wire_msg nack;
	struct relay *r;
	uint32_t i;

	for (i = 0; g->nrelay && i < RELAY_MAX; i++) {
		r = &g->relay[i];
		if (!r->used || r->deadline > g->now)
			continue;
		if (r->want_nack) {
			nack.type = WIRE_NACK;
			nack.u.nack.seq = r->orig_seq;
			swim_send_msg(g, GOSSIP_OUT_UDP, r->to, &nack, NULL, true);
		}
		r->used = false;
		g->nrelay--;
	}
}
