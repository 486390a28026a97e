/* members.c: the member table (records, name index, probe order), events, graves, views.
 *
 * Every operation here is O(1) amortized except the probe-order reshuffle, once per
 * probe round, and the growth of the arrays, which double. */
#include <errno.h>
#include <string.h>

#include "net/gossip/core.h"
#include "net/gossip/port.h"

#define GROW_MIN 8

_Static_assert(sizeof(struct member) <= 64, "a member record is 64 bytes: see core.h");

/* FNV-1a over the name's bytes. */
uint32_t swim_name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* Grow an array of `size`-byte items to hold at least `need`; 0 or -ENOMEM. */
static int grow(void **a, uint32_t *cap, uint32_t need, size_t size)
{
	uint32_t c = *cap ? *cap : GROW_MIN;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = gossip_port_alloc((size_t)c * size);
	if (!p)
		return -ENOMEM;
	if (*a)
		memcpy(p, *a, (size_t)*cap * size);
	gossip_port_free(*a);
	*a = p;
	*cap = c;
	return 0;
}

/* The index slot holding member i (which must be indexed). */
static uint32_t slot_of(const struct gossip *g, uint32_t i)
{
	uint32_t mask = g->index_cap - 1, s = g->m[i].hash & mask;

	while (g->index[s] != i + 1)
		s = (s + 1) & mask;
	return s;
}

static void index_insert(struct gossip *g, uint32_t i)
{
	uint32_t mask = g->index_cap - 1, s = g->m[i].hash & mask;

	while (g->index[s])
		s = (s + 1) & mask;
	g->index[s] = i + 1;
}

/* Keep the load at most one half; rebuilding is O(n), done each time n doubles. */
static int index_grow(struct gossip *g, uint32_t need)
{
	uint32_t c = g->index_cap ? g->index_cap : 2 * GROW_MIN, i, *old = g->index;

	if (need * 2 <= g->index_cap)
		return 0;
	while (c < need * 2)
		c *= 2;
	g->index = gossip_port_alloc((size_t)c * sizeof *g->index);
	if (!g->index) {
		g->index = old;
		return -ENOMEM;
	}
	memset(g->index, 0, (size_t)c * sizeof *g->index);
	g->index_cap = c;
	for (i = 0; i < g->n; i++)
		index_insert(g, i);
	gossip_port_free(old);
	return 0;
}

/* Linear probing with backward-shift deletion: no tombstones to pile up. */
static void index_delete(struct gossip *g, uint32_t s)
{
	uint32_t mask = g->index_cap - 1, j = s, home;

	for (;;) {
		j = (j + 1) & mask;
		if (!g->index[j])
			break;
		home = g->m[g->index[j] - 1].hash & mask;
		/* j's entry may fill the hole at s unless its home lies in (s, j]. */
		if (((j - home) & mask) >= ((j - s) & mask)) {
			g->index[s] = g->index[j];
			s = j;
		}
	}
	g->index[s] = 0;
}

uint32_t swim_member_find(const struct gossip *g, const char *name)
{
	uint32_t h = swim_name_hash(name), mask = g->index_cap - 1, s = h & mask, i;

	while (g->index[s]) {
		i = g->index[s] - 1;
		if (g->m[i].hash == h && strcmp(g->m[i].name, name) == 0)
			return i;
		s = (s + 1) & mask;
	}
	return NONE;
}

/* A new record, dead at incarnation 0 until the caller fills it in; NONE when out of
 * memory. It joins the probe order at a random place in the rest of this round, so a
 * batch of newcomers is not probed in arrival order (memberlist does the same). */
uint32_t swim_member_add(struct gossip *g, const char *name, uint64_t now)
{
	size_t len = strlen(name);
	uint32_t i = g->n, j;
	struct member *m;
	const char *in;

	if (grow((void **)&g->m, &g->cap, g->n + 1, sizeof *g->m) < 0 ||
	    grow((void **)&g->order, &g->order_cap, g->order_len + 1, sizeof *g->order) < 0 ||
	    index_grow(g, g->n + 1) < 0)
		return NONE;
	in = gossip_port_intern(name, len);
	if (!in)
		return NONE;
	m = &g->m[i];
	memset(m, 0, sizeof *m);
	m->name = in;
	m->hash = swim_name_hash(name);
	m->state = GOSSIP_DEAD;
	m->susp = NONE;
	m->since = now;
	g->n++;
	g->count[GOSSIP_DEAD]++;
	index_insert(g, i);
	if (i) {
		g->order[g->order_len++] = i;
		j = g->order_pos + rng_below(&g->rng, g->order_len - g->order_pos);
		g->order[g->order_len - 1] = g->order[j];
		g->order[j] = i;
	}
	return i;
}

/* Forget member i (never self): the last record moves into its place. */
void swim_member_remove(struct gossip *g, uint32_t i)
{
	uint32_t last = g->n - 1;
	struct member *m = &g->m[i];

	swim_susp_stop(g, i);
	if (m->bcast)
		swim_bq_del(g, m->bcast);
	index_delete(g, slot_of(g, i));
	g->count[m->state]--;
	gossip_port_release(m->name);
	gossip_port_release(m->tags);
	if (i != last) {
		g->index[slot_of(g, last)] = i + 1;
		*m = g->m[last];
		if (m->bcast)
			g->bq.e[m->bcast].member = i;
		if (m->susp != NONE)
			g->susp[m->susp].member = i;
	}
	g->n--;
}

void swim_member_set_state(struct gossip *g, struct member *m, enum gossip_state s, uint64_t now)
{
	if (m->state == s)
		return;
	g->count[m->state]--;
	g->count[s]++;
	m->state = s;
	m->since = now;
}

/* 0, or -ENOMEM (tags unchanged). */
int swim_member_set_tags(struct member *m, const char *tags)
{
	const char *in = NULL;

	if (m->tags && strcmp(m->tags, tags) == 0)
		return 0;
	if (*tags) {
		in = gossip_port_intern(tags, strlen(tags));
		if (!in)
			return -ENOMEM;
	}
	gossip_port_release(m->tags);
	m->tags = in;
	return 0;
}

/* Up to k distinct random members other than self and `skip` that `ok` accepts, by
 * random draws (k * PICK_TRIES at most, so O(k) whatever the table's size; in a table
 * mostly of unacceptable members it may find fewer). Returns how many. */
uint32_t swim_member_pick(struct gossip *g, uint32_t *out, uint32_t k, uint32_t skip,
			  bool (*ok)(const struct gossip *, const struct member *))
{
	uint32_t got = 0, tries, i, j;

	if (g->n < 2)
		return 0;
	for (tries = 0; got < k && tries < k * PICK_TRIES + PICK_TRIES; tries++) {
		i = 1 + rng_below(&g->rng, g->n - 1);
		if (i == skip || !ok(g, &g->m[i]))
			continue;
		for (j = 0; j < got && out[j] != i; j++)
			;
		if (j == got)
			out[got++] = i;
	}
	return got;
}

static void reshuffle(struct gossip *g)
{
	uint32_t i, j, t;

	g->order_len = 0;
	for (i = 1; i < g->n; i++)
		g->order[g->order_len++] = i;
	for (i = g->order_len; i > 1; i--) {
		j = rng_below(&g->rng, i);
		t = g->order[i - 1];
		g->order[i - 1] = g->order[j];
		g->order[j] = t;
	}
	g->order_pos = 0;
}

/* The next member to probe in the round (alive or suspect), or NONE. */
uint32_t swim_member_next_probe(struct gossip *g)
{
	uint32_t seen, i;
	bool shuffled = false;

	for (seen = 0; seen <= g->n; seen++) {
		if (g->order_pos >= g->order_len) {
			if (shuffled)
				return NONE;
			reshuffle(g);
			shuffled = true;
			if (!g->order_len)
				return NONE;
		}
		i = g->order[g->order_pos++];
		if (i && i < g->n && g->m[i].state <= GOSSIP_SUSPECT)
			return i;
	}
	return NONE;
}

/* Events: a ring that doubles when full and shrinks back once drained. */
void swim_event_push(struct gossip *g, enum gossip_event_kind kind, const struct member *m)
{
	struct qev *e;
	const char *name;
	uint32_t i, cap;

	if (g->ev_len == g->ev_cap) {
		cap = g->ev_cap ? g->ev_cap * 2 : EV_MIN;
		e = gossip_port_alloc((size_t)cap * sizeof *e);
		if (!e)
			return;
		for (i = 0; i < g->ev_len; i++)
			e[i] = g->ev[(g->ev_head + i) % g->ev_cap];
		gossip_port_free(g->ev);
		g->ev = e;
		g->ev_cap = cap;
		g->ev_head = 0;
	}
	name = gossip_port_intern(m->name, strlen(m->name));
	if (!name)
		return;
	e = &g->ev[(g->ev_head + g->ev_len++) % g->ev_cap];
	e->name = name;
	e->kind = kind;
	e->addr.ip = m->ip;
	e->addr.port = m->port;
	e->inc = m->inc;
	e->at = g->now;
}

bool gossip_next_event(struct gossip *g, struct gossip_event *ev)
{
	struct qev *e;

	if (!g->ev_len) {
		if (g->ev_cap > EV_MIN) {
			gossip_port_free(g->ev);
			g->ev = NULL;
			g->ev_cap = 0;
			g->ev_head = 0;
		}
		return false;
	}
	e = &g->ev[g->ev_head];
	memset(ev, 0, sizeof *ev);
	ev->kind = e->kind;
	scopy(ev->name, e->name, sizeof ev->name);
	ev->addr = e->addr;
	ev->incarnation = e->inc;
	ev->at_ms = e->at;
	gossip_port_release(e->name);
	g->ev_head = (g->ev_head + 1) % g->ev_cap;
	g->ev_len--;
	return true;
}

/* Graves: a ring of (name, time of death), in time order since every death is stamped
 * with the core's clock, which only moves forward. */
void swim_grave_push(struct gossip *g, const struct member *m)
{
	struct grave *a;
	const char *name;
	uint32_t i, cap;

	if (g->grave_len == g->grave_cap) {
		cap = g->grave_cap ? g->grave_cap * 2 : GROW_MIN;
		a = gossip_port_alloc((size_t)cap * sizeof *a);
		if (!a)
			return; /* never reclaimed: harmless, only memory */
		for (i = 0; i < g->grave_len; i++)
			a[i] = g->graves[(g->grave_head + i) % g->grave_cap];
		gossip_port_free(g->graves);
		g->graves = a;
		g->grave_cap = cap;
		g->grave_head = 0;
	}
	name = gossip_port_intern(m->name, strlen(m->name));
	if (!name)
		return;
	a = &g->graves[(g->grave_head + g->grave_len++) % g->grave_cap];
	a->name = name;
	a->since = m->since;
}

/* A random grave's member, still dead or left, or NONE. A grave whose member came back
 * is dropped on the way: swapped with the oldest, which is then popped. That oldest grave
 * now sits later in the ring and is reaped a little late, which only costs memory; it
 * keeps random picks from wading through the stale graves a healed partition leaves. */
uint32_t swim_grave_pick(struct gossip *g)
{
	uint32_t p = (g->grave_head + rng_below(&g->rng, g->grave_len)) % g->grave_cap, i;
	struct grave t;

	i = swim_member_find(g, g->graves[p].name);
	if (i != NONE && i != 0 && g->m[i].state >= GOSSIP_DEAD &&
	    g->m[i].since == g->graves[p].since)
		return i;
	t = g->graves[p];
	g->graves[p] = g->graves[g->grave_head];
	g->graves[g->grave_head] = t;
	gossip_port_release(t.name);
	g->grave_head = (g->grave_head + 1) % g->grave_cap;
	g->grave_len--;
	return NONE;
}

uint64_t swim_graves_deadline(const struct gossip *g)
{
	if (!g->grave_len)
		return NEVER;
	return g->graves[g->grave_head].since + g->cfg.dead_reclaim_ms;
}

/* Forget members dead or left for dead_reclaim_ms. A grave whose member came back (or
 * died again later: another grave follows) is only discarded. */
void swim_graves_reap(struct gossip *g, uint64_t now)
{
	struct grave *a;
	uint32_t i;

	while (g->grave_len && swim_graves_deadline(g) <= now) {
		a = &g->graves[g->grave_head];
		i = swim_member_find(g, a->name);
		if (i != NONE && i != 0 && g->m[i].state >= GOSSIP_DEAD &&
		    g->m[i].since == a->since)
			swim_member_remove(g, i);
		gossip_port_release(a->name);
		g->grave_head = (g->grave_head + 1) % g->grave_cap;
		g->grave_len--;
	}
}

void swim_members_free(struct gossip *g)
{
	uint32_t i;

	for (i = 0; i < g->n; i++) {
		gossip_port_release(g->m[i].name);
		gossip_port_release(g->m[i].tags);
	}
	for (i = 0; i < g->grave_len; i++)
		gossip_port_release(g->graves[(g->grave_head + i) % g->grave_cap].name);
	for (i = 0; i < g->ev_len; i++)
		gossip_port_release(g->ev[(g->ev_head + i) % g->ev_cap].name);
	gossip_port_free(g->m);
	gossip_port_free(g->index);
	gossip_port_free(g->order);
	gossip_port_free(g->graves);
	gossip_port_free(g->ev);
}

/* Views. */
size_t gossip_count(const struct gossip *g, enum gossip_state s)
{
	return (unsigned)s <= GOSSIP_LEFT ? g->count[s] : 0;
}

size_t gossip_member_count(const struct gossip *g) { return g->n; }

static void view(const struct member *m, struct gossip_member *v)
{
	v->name = m->name;
	v->tags = m->tags ? m->tags : "";
	v->addr.ip = m->ip;
	v->addr.port = m->port;
	v->state = m->state;
	v->incarnation = m->inc;
	v->meta_version = m->meta_version;
	v->res = m->res;
	v->state_since_ms = m->since;
}

void gossip_member_at(const struct gossip *g, size_t i, struct gossip_member *m)
{
	if (i < g->n)
		view(&g->m[i], m);
	else
		memset(m, 0, sizeof *m);
}

bool gossip_member_find(const struct gossip *g, const char *name, struct gossip_member *m)
{
	uint32_t i = swim_member_find(g, name);

	if (i == NONE)
		return false;
	view(&g->m[i], m);
	return true;
}
