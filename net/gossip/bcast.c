/* bcast.c: the broadcast queue: state changes waiting to be piggybacked or gossiped.
 *
 * At most one message per member is queued: a newer one about the same member replaces
 * the older (it carries everything the older said that still matters). Messages sit in
 * buckets by how often they were sent, and packets take the least-sent first, so a fresh
 * change overtakes old ones. After retransmit_mult x ceil(log10(N + 1)) sends a message
 * is done. The queue holds BCAST_MAX messages; a new one beyond that evicts the most-sent
 * message (counted in broadcasts_dropped): anti-entropy repairs what is lost that way.
 *
 * Application messages (gossip_app_broadcast, and those relayed for others) share the
 * queue, at most BCAST_APP_MAX of them so membership news always finds room. They are not
 * about a member: one with a non-zero key replaces a queued one of the same origin and key
 * when its number is newer (and is not queued when older); at the bound the most-sent one
 * that went out at least once makes room, else the new one is refused. */
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
	if (e->member == NONE)
		g->app_queued--;
	else
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

/* Encode msg into a free slot at the head of the unsent bucket: the slot, or 0. */
static uint16_t insert(struct gossip *g, const struct wire_msg *msg)
{
	struct bqueue *q = &g->bq;
	long len = wire_size(msg);
	uint16_t s;
	uint8_t *buf;

	if (len < 0 || len > (long)GOSSIP_UDP_MAX)
		return 0;
	if (!q->free)
		evict(g);
	buf = gossip_port_alloc(len);
	if (!buf || wire_encode(msg, buf, len) != len) {
		gossip_port_free(buf);
		g->st.broadcasts_dropped++;
		return 0;
	}
	s = q->free;
	q->free = q->e[s].next;
	memset(&q->e[s], 0, sizeof q->e[s]);
	q->e[s].msg = buf;
	q->e[s].len = len;
	q->e[s].member = NONE;
	link_head(q, s);
	q->len++;
	return s;
}

void swim_bq_put(struct gossip *g, uint32_t member, const struct wire_msg *msg)
{
	struct member *m = &g->m[member];
	uint16_t s;

	if (m->bcast)
		swim_bq_del(g, m->bcast);
	s = insert(g, msg);
	if (!s)
		return;
	g->bq.e[s].member = member;
	m->bcast = s;
}

/* The most-sent queued application message that went out at least once, or 0. */
static uint16_t app_victim(const struct bqueue *q)
{
	uint16_t s;
	int t;

	for (t = BCAST_TX_MAX; t >= 1; t--)
		for (s = q->tail[t]; s; s = q->e[s].prev)
			if (q->e[s].member == NONE)
				return s;
	return 0;
}

/* An application message (type APP) from origin (its name hash): 0, 1 (not queued: a
 * newer one with its key is), or -ENOBUFS (at the bound, or out of memory). */
int swim_bq_put_app(struct gossip *g, const struct wire_msg *msg, uint32_t origin)
{
	struct bqueue *q = &g->bq;
	const struct wire_app *a = &msg->u.app;
	uint16_t s;

	if (a->key)
		for (s = 1; s <= BCAST_MAX; s++) {
			struct bentry *e = &q->e[s];
			if (!e->msg || e->member != NONE || e->origin != origin || e->key != a->key)
				continue;
			if ((int32_t)(a->seq - e->seq) <= 0)
				return 1;
			swim_bq_del(g, s);
			break;
		}
	if (g->app_queued >= BCAST_APP_MAX) {
		s = app_victim(q);
		if (!s)
			return -ENOBUFS;
		swim_bq_del(g, s);
	}
	s = insert(g, msg);
	if (!s)
		return -ENOBUFS;
	q->e[s].key = a->key;
	q->e[s].origin = origin;
	q->e[s].seq = a->seq;
	g->app_queued++;
	return 0;
}

/* Take what fits of one kind (membership or application messages) into picked[]. */
static void fill_pass(struct gossip *g, struct wire_writer *w, bool app, uint16_t *picked,
		      uint32_t *n)
{
	struct bqueue *q = &g->bq;
	uint32_t skipped = 0;
	uint16_t s;
	int t;

	for (t = 0; t <= BCAST_TX_MAX && *n < PICKED_MAX; t++) {
		for (s = q->head[t]; s && *n < PICKED_MAX; s = q->e[s].next) {
			if ((q->e[s].member == NONE) != app)
				continue;
			if (w->cap - w->len < MSG_MIN)
				return;
			if (wire_put_raw(w, q->e[s].msg, q->e[s].len) < 0) {
				if (++skipped > BCAST_SKIP_MAX)
					return;
				continue;
			}
			picked[(*n)++] = s;
		}
	}
}

/* Append what fits of the queue to w, least-sent first, membership news before
 * application messages (so a busy application never crowds out failure detection); each
 * message taken counts one send and retires at the retransmit limit. */
void swim_bq_fill(struct gossip *g, struct wire_writer *w)
{
	struct bqueue *q = &g->bq;
	uint16_t picked[PICKED_MAX], s;
	uint32_t n = 0, limit, i;

	fill_pass(g, w, false, picked, &n);
	if (g->app_queued)
		fill_pass(g, w, true, picked, &n);
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
