/* susp.c: suspicion timers (Lifeguard's dynamic suspicion) and the integer logarithms.
 *
 * A suspicion of a member in a cluster of n lives between
 *   min = suspicion_mult x max(1, log10 n) x probe_interval  and  max = suspicion_max_mult x min.
 * It starts at max when k independent confirmations can be hoped for (k =
 * suspicion_mult - 2, as memberlist, and 0 when fewer than k + 2 members exist) and
 * shrinks with each new accuser c to  max - (max - min) x log(c + 1) / log(k + 1),  which
 * reaches min at the k-th. The more members agree, the sooner the declaration; one lone
 * accuser (maybe the unhealthy one) waits longest. All of it in integers: the kernel
 * builds without floating point. Timers sit in a binary min-heap by deadline, so the
 * next one is found in O(1) and a confirmation moves one in O(log s). */
#include <errno.h>
#include <string.h>

#include "net/gossip/core.h"
#include "net/gossip/port.h"

#define MILLI 1000
#define FRAC_BITS 10		/* fractional bits of swim_log2_milli */
#define LOG10_2_E5 30103	/* log10(2) x 10^5 */
#define Q30 (UINT64_C(1) << 30) /* fixed point for the squaring loop */

/* 1000 x log2(x) for x >= 1, to within 1/1000: the integer part from the top bit, the
 * fraction bit by bit by squaring the mantissa. */
uint32_t swim_log2_milli(uint64_t x)
{
	uint32_t ip = 0, frac = 0, i;
	uint64_t y;

	if (x <= 1)
		return 0;
	while ((x >> ip) > 1)
		ip++;
	/* mantissa in [1, 2) as Q30 */
	y = ip >= 30 ? x >> (ip - 30) : x << (30 - ip);
	for (i = 0; i < FRAC_BITS; i++) {
		y = (y * y) >> 30;
		frac <<= 1;
		if (y >= 2 * Q30) {
			y >>= 1;
			frac |= 1;
		}
	}
	return ip * MILLI + (frac * MILLI + (1u << (FRAC_BITS - 1))) / (1u << FRAC_BITS);
}

static uint32_t log10_milli(uint64_t x)
{
	return (uint32_t)((uint64_t)swim_log2_milli(x) * LOG10_2_E5 / 100000);
}

/* Remaining time after c confirmations of k wanted (memberlist's formula). */
static uint32_t timeout(const struct susp *s)
{
	uint64_t lc, lk, cut;

	if (s->k < 1)
		return s->min;
	lc = swim_log2_milli((uint64_t)s->n + 1);
	lk = swim_log2_milli((uint64_t)s->k + 1);
	cut = (uint64_t)(s->max - s->min) * lc / lk;
	if (cut >= s->max - s->min)
		return s->min;
	return s->max - (uint32_t)cut;
}

/* The heap, keyed by deadline. */
static bool before(const struct gossip *g, uint32_t a, uint32_t b)
{
	return g->susp[g->heap[a]].deadline < g->susp[g->heap[b]].deadline;
}

static void swap(struct gossip *g, uint32_t a, uint32_t b)
{
	uint32_t t = g->heap[a];

	g->heap[a] = g->heap[b];
	g->heap[b] = t;
	g->susp[g->heap[a]].pos = a;
	g->susp[g->heap[b]].pos = b;
}

static void up(struct gossip *g, uint32_t i)
{
	while (i && before(g, i, (i - 1) / 2)) {
		swap(g, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void down(struct gossip *g, uint32_t i)
{
	uint32_t l, best;

	for (;;) {
		l = 2 * i + 1;
		best = i;
		if (l < g->nheap && before(g, l, best))
			best = l;
		if (l + 1 < g->nheap && before(g, l + 1, best))
			best = l + 1;
		if (best == i)
			return;
		swap(g, i, best);
		i = best;
	}
}

static int pool_grow(struct gossip *g)
{
	uint32_t cap = g->susp_cap ? g->susp_cap * 2 : 8, i;
	struct susp *s = gossip_port_alloc((size_t)cap * sizeof *s);
	uint32_t *h = gossip_port_alloc((size_t)cap * sizeof *h);

	if (!s || !h) {
		gossip_port_free(s);
		gossip_port_free(h);
		return -ENOMEM;
	}
	if (g->susp_cap) {
		memcpy(s, g->susp, (size_t)g->susp_cap * sizeof *s);
		memcpy(h, g->heap, (size_t)g->nheap * sizeof *h);
	}
	/* New slots join the free list, linked through `member`. */
	for (i = g->susp_cap; i < cap; i++)
		s[i].member = i + 1 < cap ? i + 1 : NONE;
	g->susp_free = g->susp_cap;
	gossip_port_free(g->susp);
	gossip_port_free(g->heap);
	g->susp = s;
	g->heap = h;
	g->susp_cap = cap;
	return 0;
}

/* Start the timer of a member just marked suspect; 0 or -ENOMEM. */
int swim_susp_start(struct gossip *g, uint32_t member, const char *from, uint64_t now)
{
	const struct gossip_config *c = &g->cfg;
	uint32_t n = g->count[GOSSIP_ALIVE] + g->count[GOSSIP_SUSPECT], k, scale, slot;
	struct susp *s;

	if (g->nheap == g->susp_cap && pool_grow(g) < 0)
		return -ENOMEM;
	k = c->suspicion_mult > 2 ? c->suspicion_mult - 2 : 0;
	if (k > SUSP_K_MAX)
		k = SUSP_K_MAX;
	if (n < k + 2)
		k = 0;
	scale = log10_milli(n);
	if (scale < MILLI)
		scale = MILLI;
	slot = g->susp_free;
	s = &g->susp[slot];
	g->susp_free = s->member;
	memset(s, 0, sizeof *s);
	s->member = member;
	s->k = k;
	s->min = (uint32_t)((uint64_t)c->suspicion_mult * scale * c->probe_interval_ms / MILLI);
	s->max = c->suspicion_max_mult > 1 ? s->min * c->suspicion_max_mult : s->min;
	s->from[0] = swim_name_hash(from);
	s->start = now;
	s->deadline = now + (k ? s->max : s->min);
	s->pos = g->nheap;
	g->heap[g->nheap++] = slot;
	up(g, s->pos);
	g->m[member].susp = slot;
	return 0;
}

/* A new accuser: true when it counts (not seen before, fewer than k so far). */
bool swim_susp_confirm(struct gossip *g, uint32_t slot, const char *from, uint64_t now)
{
	struct susp *s = &g->susp[slot];
	uint32_t h = swim_name_hash(from), i;

	if (s->n >= s->k)
		return false;
	for (i = 0; i <= s->n; i++)
		if (s->from[i] == h)
			return false;
	s->from[++s->n] = h;
	s->deadline = s->start + timeout(s);
	up(g, s->pos);
	return true;
}

static void release(struct gossip *g, uint32_t slot)
{
	struct susp *s = &g->susp[slot];
	uint32_t pos = s->pos, last = g->nheap - 1;

	g->m[s->member].susp = NONE;
	if (pos != last) {
		swap(g, pos, last);
		g->nheap--;
		up(g, pos);
		down(g, pos);
	} else {
		g->nheap--;
	}
	s->member = g->susp_free;
	g->susp_free = slot;
}

void swim_susp_stop(struct gossip *g, uint32_t member)
{
	if (g->m[member].susp != NONE)
		release(g, g->m[member].susp);
}

uint32_t swim_susp_expired(struct gossip *g, uint64_t now)
{
	uint32_t member;

	if (!g->nheap || g->susp[g->heap[0]].deadline > now)
		return NONE;
	member = g->susp[g->heap[0]].member;
	release(g, g->heap[0]);
	return member;
}

uint64_t swim_susp_deadline(const struct gossip *g)
{
	return g->nheap ? g->susp[g->heap[0]].deadline : NEVER;
}

void swim_susp_free_all(struct gossip *g)
{
	gossip_port_free(g->susp);
	gossip_port_free(g->heap);
}
