/* bcast.c: the broadcast queue: state changes waiting to be piggybacked or gossiped.
 *
 * At most one message per member is queued: a newer one about the same member replaces
 * the older (it carries everything the older said that still matters). Messages sit in
 * buckets by how often they were sent, and packets take the least-sent first, so a fresh
 * change overtakes old ones. After retransmit_mult x ceil(log10(N + 1)) sends a message
 * is done. The queue holds BCAST_MAX messages; a new one beyond that evicts the most-sent
 * message (counted in broadcasts_dropped): anti-entropy repairs what is lost that way. */
#include <errno.h>
#include <string.h>

#include "net/gossip/core.h"
#include "net/gossip/port.h"

#define PICKED_MAX (GOSSIP_UDP_MAX / 4) /* a message is at least 4 bytes on the wire */
#define MSG_MIN 4

void swim_bq_init(struct bqueue *q)
{
	uint16_t i;

	memset(q, 0, sizeof *q);
	for (i = 1; i <= BCAST_MAX; i++)
		q->e[i].next = i < BCAST_MAX ? i + 1 : 0;
	q->free = 1;
}

/* ceil(log10(n + 1)) by comparison: no floating point in the kernel. */
static uint32_t ceil_log10(uint32_t n)
{
	uint64_t p = 1;
	uint32_t d = 0;

	while (p < (uint64_t)n + 1) {
		p *= 10;
		d++;
	}
	return d;
}

uint32_t swim_retransmit_limit(const struct gossip *g)
{
	uint32_t n = g->count[GOSSIP_ALIVE] + g->count[GOSSIP_SUSPECT];
	uint32_t l = g->cfg.retransmit_mult * ceil_log10(n);

	if (l < 1)
		l = 1;
	return l > BCAST_TX_MAX ? BCAST_TX_MAX : l;
}

static void detach(struct bqueue *q, uint16_t s)
{
	struct bentry *e = &q->e[s];

	if (e->prev)
		q->e[e->prev].next = e->next;
	else
		q->head[e->tx] = e->next;
	if (e->next)
		q->e[e->next].prev = e->prev;
	else
		q->tail[e->tx] = e->prev;
	e->prev = e->next = 0;
}

static void link_head(struct bqueue *q, uint16_t s)
{
	struct bentry *e = &q->e[s];

	e->prev = 0;
	e->next = q->head[e->tx];
	if (e->next)
		q->e[e->next].prev = s;
	else
		q->tail[e->tx] = s;
	q->head[e->tx] = s;
}

static void link_tail(struct bqueue *q, uint16_t s)
{
	struct bentry *e = &q->e[s];

	e->next = 0;
	e->prev = q->tail[e->tx];
	if (e->prev)
		q->e[e->prev].next = s;
	else
		q->head[e->tx] = s;
	q->tail[e->tx] = s;
}

void swim_bq_del(struct gossip *g, uint32_t slot)
{
	struct bqueue *q = &g->bq;
	struct bentry *e = &q->e[slot];

	detach(q, slot);
	g->m[e->member].bcast = 0;
	gossip_port_free(e->msg);
	e->msg = NULL;
	e->next = q->free;
	q->free = slot;
	q->len--;
}

/* Evict the most-sent message, the least useful one left. Rumours lost here were likely
 * lost elsewhere too (a mass join floods every queue), so anti-entropy comes sooner: the
 * next push-pull at most one unscaled interval away. */
static void evict(struct gossip *g)
{
	int t;

	for (t = BCAST_TX_MAX; t >= 0; t--)
		if (g->bq.tail[t]) {
			swim_bq_del(g, g->bq.tail[t]);
			g->st.broadcasts_dropped++;
			if (g->cfg.pushpull_interval_ms)
				g->next_pushpull = min64(g->next_pushpull,
							 g->now + g->cfg.pushpull_interval_ms);
			return;
		}
}

void swim_bq_put(struct gossip *g, uint32_t member, const struct wire_msg *msg)
{
	struct bqueue *q = &g->bq;
	struct member *m = &g->m[member];
	long len = wire_size(msg);
	uint16_t s;
	uint8_t *buf;

	if (len < 0 || len > (long)GOSSIP_UDP_MAX)
		return;
	if (m->bcast)
		swim_bq_del(g, m->bcast);
	if (!q->free)
		evict(g);
	buf = gossip_port_alloc(len);
	if (!buf || wire_encode(msg, buf, len) != len) {
		gossip_port_free(buf);
		g->st.broadcasts_dropped++;
		return;
	}
	s = q->free;
	q->free = q->e[s].next;
	q->e[s].msg = buf;
	q->e[s].len = len;
	q->e[s].member = member;
	q->e[s].tx = 0;
	link_head(q, s);
	m->bcast = s;
	q->len++;
}

/* Append what fits of the queue to w, least-sent first; each message taken counts one
 * send and retires at the retransmit limit. */
void swim_bq_fill(struct gossip *g, struct wire_writer *w)
{
	struct bqueue *q = &g->bq;
	uint16_t picked[PICKED_MAX], s;
	uint32_t n = 0, skipped = 0, limit, i;
	int t;

	for (t = 0; t <= BCAST_TX_MAX && n < PICKED_MAX; t++) {
		for (s = q->head[t]; s && n < PICKED_MAX; s = q->e[s].next) {
			if (w->cap - w->len < MSG_MIN)
				goto done;
			if (wire_put_raw(w, q->e[s].msg, q->e[s].len) < 0) {
				if (++skipped > BCAST_SKIP_MAX)
					goto done;
				continue;
			}
			picked[n++] = s;
		}
	}
done:
	limit = swim_retransmit_limit(g);
	for (i = 0; i < n; i++) {
		s = picked[i];
		if (q->e[s].tx + 1u >= limit) {
			swim_bq_del(g, s);
			continue;
		}
		detach(q, s);
		q->e[s].tx++;
		link_tail(q, s);
	}
}

void swim_bq_free(struct gossip *g)
{
	uint32_t s;

	for (s = 1; s <= BCAST_MAX; s++)
		gossip_port_free(g->bq.e[s].msg);
}
