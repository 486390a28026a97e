/* table.c: the cluster core's tables (nodes, jobs and instances in arrays found through
 * open-addressing hash tables of indices), coordinator choice, and the effect queue. */
#include <errno.h>
#include <string.h>

#include "sched/cluster/core.h"

const char *cluster_inst_state_name(enum cluster_inst_state s)
{
	static const char *const n[] = {"assigned", "running", "exited", "failed",
					"rejected", "lost",    "stopped"};
	return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}

const char *cluster_job_state_name(enum cluster_job_state s)
{
	static const char *const n[] = {"pending", "running", "complete", "failed", "stopped"};
	return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}

void cluster_config_default(struct cluster_config *c)
{
	c->tick_ms = 100;
	c->assign_timeout_ms = 10000;
	c->restart_backoff_ms = CLUSTER_RESTART_BACKOFF_MS;
	c->ended_jobs_keep = CLUSTER_ENDED_JOBS_KEEP;
	c->rebroadcast_ms = 2000;
	c->ended_min_keep_ms = CLUSTER_ENDED_MIN_KEEP_MS;
	c->tombstone_keep_ms = CLUSTER_TOMBSTONE_KEEP_MS;
}

/* Arrays. */
int cl_grow_array(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t n = *cap > 8 ? *cap : 8; /* compaction may leave any capacity, even 1 */
	if (need <= *cap)
		return 0;
	while (n < need)
		n += n / 2; /* 1.5x: every replica holds every table, so slack costs */
	if (cl_grow(p, (size_t)*cap * elem, (size_t)n * elem))
		return -ENOMEM;
	*cap = n;
	return 0;
}

char *cl_dupstr(const char *s)
{
	size_t n = strlen(s);
	char *d = cl_alloc(n + 1);
	if (d)
		memcpy(d, s, n + 1);
	return d;
}

/* Open-addressing tables of indices; NONE marks a free bucket; sizes are powers of two
 * kept at least twice the entries. */
int cl_map_resize(uint32_t **map, uint32_t *size, uint32_t n, uint64_t (*hash)(void *, uint32_t),
		  void *ctx)
{
	uint32_t sz = 64, *m;
	while (sz < 2 * (n + 1))
		sz *= 2;
	if (sz <= *size)
		return 0;
	m = cl_alloc((size_t)sz * sizeof *m);
	if (!m)
		return -ENOMEM;
	memset(m, 0xff, (size_t)sz * sizeof *m);
	for (uint32_t b = 0; b < *size; b++) {
		uint32_t v = (*map)[b], k;
		if (v == NONE)
			continue;
		for (k = hash(ctx, v) & (sz - 1); m[k] != NONE; k = (k + 1) & (sz - 1))
			;
		m[k] = v;
	}
	cl_free(*map);
	*map = m;
	*size = sz;
	return 0;
}

static uint64_t node_hash(void *ctx, uint32_t i) { return ((struct cluster *)ctx)->nodes[i].h; }
static uint64_t job_hash(void *ctx, uint32_t i) { return ((struct cluster *)ctx)->jobs[i].h; }

static uint64_t inst_key(uint32_t job, uint32_t slot, uint32_t attempt, uint32_t node)
{
	return cl_mix(((uint64_t)job << 32 | slot) ^ cl_mix((uint64_t)attempt << 32 | node));
}

uint64_t cl_inst_hash(void *ctx, uint32_t i)
{
	const struct inst *x = &((struct cluster *)ctx)->insts[i];
	return inst_key(x->job, x->slot, x->attempt, x->node);
}

/* Nodes. */
uint32_t cl_node_find(const struct cluster *c, const char *name)
{
	uint64_t h = cl_hash(name, strlen(name));
	if (!c->nodemap_size)
		return NONE;
	for (uint32_t k = h & (c->nodemap_size - 1);; k = (k + 1) & (c->nodemap_size - 1)) {
		uint32_t v = c->nodemap[k];
		if (v == NONE)
			return NONE;
		if (c->nodes[v].h == h && !strcmp(c->nodes[v].name, name))
			return v;
	}
}

uint32_t cl_node_get(struct cluster *c, const char *name)
{
	uint32_t i = cl_node_find(c, name), k;
	struct node *n;
	if (i != NONE)
		return i;
	if (strlen(name) > CLUSTER_NAME_MAX || !name[0])
		return NONE;
	if (cl_grow_array((void **)&c->nodes, &c->ncap, c->nnodes + 1, sizeof *c->nodes) ||
	    cl_map_resize(&c->nodemap, &c->nodemap_size, c->nnodes + 1, node_hash, c))
		return NONE;
	i = c->nnodes++;
	n = &c->nodes[i];
	memset(n, 0, sizeof *n);
	scpy(n->name, name, sizeof n->name);
	n->h = cl_hash(name, strlen(name));
	n->alive_pos = NONE;
	n->drain_writer = NONE;
	for (k = n->h & (c->nodemap_size - 1); c->nodemap[k] != NONE;
	     k = (k + 1) & (c->nodemap_size - 1))
		;
	c->nodemap[k] = i;
	return i;
}

/* Jobs. */
/* id: a well-formed job id (records are checked when decoded). */
static uint32_t job_find_raw(const struct cluster *c, const char *id)
{
	uint64_t h;
	if (!c->jobmap_size)
		return NONE;
	h = cl_hash(id, CLUSTER_JOB_ID_LEN);
	for (uint32_t k = h & (c->jobmap_size - 1);; k = (k + 1) & (c->jobmap_size - 1)) {
		uint32_t v = c->jobmap[k];
		if (v == NONE)
			return NONE;
		if (c->jobs[v].h == h && !strcmp(c->jobs[v].id, id))
			return v;
	}
}

uint32_t cl_job_find(const struct cluster *c, const char *id)
{
	return clw_job_id_ok(id) ? job_find_raw(c, id) : NONE;
}

uint64_t cl_rv(const struct cluster *c, const struct job *j, uint32_t n)
{
	return cl_mix(j->h ^ c->nodes[n].h);
}

/* a beats b as the coordinator of j (hash, then name) */
bool cl_rv_beats(const struct cluster *c, uint64_t ha, uint32_t a, uint64_t hb, uint32_t b)
{
	if (b == NONE)
		return true;
	if (ha != hb)
		return ha > hb;
	return strcmp(c->nodes[a].name, c->nodes[b].name) > 0;
}

void cl_set_coord(struct cluster *c, uint32_t ji, uint32_t n, uint64_t h)
{
	struct job *j = &c->jobs[ji];
	bool mine = c->coord_all || (n != NONE && n == c->self);
	j->coord = n;
	j->coord_h = h;
	if (mine && !j->mine)
		j->dirty = true;
	j->mine = mine;
	if (mine && !j->in_mine &&
	    !cl_grow_array((void **)&c->mine, &c->mcap, c->nmine + 1, sizeof *c->mine)) {
		c->mine[c->nmine++] = ji;
		j->in_mine = true;
	}
}

void cl_coord_full(struct cluster *c, uint32_t ji)
{
	uint32_t best = NONE;
	uint64_t bh = 0;
	for (uint32_t k = 0; k < c->nalive; k++) {
		uint32_t n = c->alive[k];
		uint64_t h = cl_rv(c, &c->jobs[ji], n);
		if (cl_rv_beats(c, h, n, bh, best)) {
			best = n;
			bh = h;
		}
	}
	cl_set_coord(c, ji, best, bh);
}

uint32_t cl_job_get(struct cluster *c, const char *id)
{
	uint32_t i = job_find_raw(c, id), k;
	struct job *j;
	if (i != NONE)
		return i;
	if (cl_grow_array((void **)&c->jobs, &c->jcap, c->njobs + 1, sizeof *c->jobs) ||
	    cl_map_resize(&c->jobmap, &c->jobmap_size, c->njobs + 1, job_hash, c))
		return NONE;
	i = c->njobs++;
	j = &c->jobs[i];
	memset(j, 0, sizeof *j);
	memcpy(j->id, id, CLUSTER_JOB_ID_LEN + 1);
	j->h = cl_hash(id, CLUSTER_JOB_ID_LEN);
	j->coord = NONE;
	j->origin = NONE;
	j->ctl_writer = NONE;
	for (k = j->h & (c->jobmap_size - 1); c->jobmap[k] != NONE;
	     k = (k + 1) & (c->jobmap_size - 1))
		;
	c->jobmap[k] = i;
	cl_coord_full(c, i);
	return i;
}

uint32_t cl_job_count_now(const struct job *j) { return j->ctl_ver ? j->ctl_count : j->spec_count; }

/* Instances. */
uint32_t cl_inst_find(const struct cluster *c, uint32_t job, uint32_t slot, uint32_t attempt,
		      uint32_t node)
{
	uint64_t h = inst_key(job, slot, attempt, node);
	if (!c->instmap_size)
		return NONE;
	for (uint32_t k = h & (c->instmap_size - 1);; k = (k + 1) & (c->instmap_size - 1)) {
		uint32_t v = c->instmap[k];
		const struct inst *x;
		if (v == NONE)
			return NONE;
		x = &c->insts[v];
		if (x->job == job && x->slot == slot && x->attempt == attempt && x->node == node)
			return v;
	}
}

/* Add (sign 1) or remove (-1) an active instance's share of its node. */
void cl_load(struct cluster *c, const struct inst *x, int sign)
{
	const struct job *j = &c->jobs[x->job];
	struct node *n = &c->nodes[x->node];
	if (!j->have_spec)
		return;
	if (sign > 0) {
		n->insts++;
		n->cpu_used += j->cpu;
		n->mem_used += j->mem;
	} else {
		n->insts--;
		n->cpu_used -= j->cpu;
		n->mem_used -= j->mem;
		c->cap_epoch++;
	}
}

const char *cl_tail_of(const struct cluster *c, const struct inst *x, uint16_t *len)
{
	const char *t;
	if (!x->tail || !c->tails[x->tail - 1]) {
		*len = 0;
		return "";
	}
	t = c->tails[x->tail - 1];
	*len = (uint16_t)((uint8_t)t[0] << 8 | (uint8_t)t[1]);
	return t + 2;
}

void cl_set_tail(struct cluster *c, struct inst *x, const char *p, uint16_t len)
{
	char *t;
	if (x->tail) {
		cl_free(c->tails[x->tail - 1]);
		c->tails[x->tail - 1] = NULL;
	}
	if (!len) {
		if (x->tail) /* keep the slot for this instance */
			c->tails[x->tail - 1] = NULL;
		return;
	}
	t = cl_alloc(len + 2u);
	if (!t)
		return;
	t[0] = (char)(len >> 8);
	t[1] = (char)len;
	memcpy(t + 2, p, len);
	if (!x->tail) {
		if (cl_grow_array((void **)&c->tails, &c->tcap, c->ntails + 1, sizeof *c->tails)) {
			cl_free(t);
			return;
		}
		x->tail = ++c->ntails;
	}
	c->tails[x->tail - 1] = t;
}

void cl_rec_from_inst(const struct cluster *c, const struct inst *x, struct rec_inst *r)
{
	memcpy(r->job, c->jobs[x->job].id, sizeof r->job);
	r->slot = x->slot;
	r->attempt = x->attempt;
	scpy(r->node, c->nodes[x->node].name, sizeof r->node);
	r->state = x->state;
	r->flags = x->flags;
	r->status = x->status;
	r->placed = x->placed;
	r->started = x->started;
	r->ended = x->ended;
	r->tail = cl_tail_of(c, x, &r->tail_len);
}

/* Effects. */
void cl_push_eff(struct cluster *c, uint8_t kind, uint64_t key, uint32_t node, uint32_t inst,
		 const struct buf *b)
{
	struct eff *e;
	uint8_t *d = NULL;
	if (b) {
		if (b->err)
			return;
		d = cl_alloc(b->n);
		if (!d)
			return;
		memcpy(d, b->p, b->n);
	}
	if (cl_grow_array((void **)&c->effs, &c->ecap, c->neff + 1, sizeof *c->effs)) {
		cl_free(d);
		return;
	}
	e = &c->effs[c->neff++];
	e->kind = kind;
	e->key = key;
	e->node = node;
	e->inst = inst;
	e->data = d;
	e->len = b ? b->n : 0;
	if (kind == CLUSTER_EFFECT_BROADCAST || kind == CLUSTER_EFFECT_SEND)
		c->st.msgs_out++;
}

/* Broadcast a record (already encoded with its header in b), and send it to `to`. */
void cl_emit(struct cluster *c, const struct buf *b, uint64_t key, uint32_t to)
{
	cl_push_eff(c, CLUSTER_EFFECT_BROADCAST, key, NONE, NONE, b);
	if (to != NONE && to != c->self)
		cl_push_eff(c, CLUSTER_EFFECT_SEND, key, to, NONE, b);
}

uint64_t cl_rec_key(uint8_t type, const char *a, uint32_t slot, uint32_t attempt, const char *node)
{
	uint64_t h = cl_hash(a, strlen(a)) ^ type;
	if (node)
		h ^= cl_mix(cl_hash(node, strlen(node)) + ((uint64_t)slot << 32 | attempt));
	return cl_mix(h);
}

/* The record of instance i: broadcast (and sent to `to` as well, unless NONE), or sent to
 * `to` alone. */
static void inst_out(struct cluster *c, uint32_t i, uint32_t to, bool broadcast)
{
	struct rec_inst r;
	struct buf b = {0};
	if (c->insts[i].state == CL_DEAD)
		return;
	cl_rec_from_inst(c, &c->insts[i], &r);
	clw_put_hdr(&b, CL_REC_INST);
	clw_put_inst(&b, &r);
	uint64_t key = cl_rec_key(CL_REC_INST, r.job, r.slot, r.attempt, r.node);
	if (broadcast)
		cl_emit(c, &b, key, to);
	else
		cl_push_eff(c, CLUSTER_EFFECT_SEND, key, to, NONE, &b);
	clw_buf_free(&b);
}

void cl_send_inst(struct cluster *c, uint32_t i, uint32_t to) { inst_out(c, i, to, false); }

void cl_emit_inst(struct cluster *c, uint32_t i, uint32_t to) { inst_out(c, i, to, true); }

int cl_local_find(const struct cluster *c, uint32_t i)
{
	for (uint32_t k = 0; k < c->nlocal; k++)
		if (c->local[k].inst == i)
			return (int)k;
	return -1;
}

void cl_local_drop(struct cluster *c, int k) { c->local[k] = c->local[--c->nlocal]; }
