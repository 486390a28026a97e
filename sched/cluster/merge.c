/* merge.c: every record change goes through here: local writes and received records
 * merge by the same rules (cluster.c's note), and changes to instances on this node run
 * this node's side (admission, kills, LOST after a restart). */
#include <errno.h>
#include <string.h>

#include "sched/cluster/core.h"

static void inst_hook(struct cluster *c, uint32_t i);

/* Write a change to instance i (state, flags added, status, tail) here and send it. */
void cl_write_inst(struct cluster *c, uint32_t i, uint8_t state, uint8_t flags, int32_t status,
		   const char *tail, uint16_t tail_len, uint32_t to)
{
	struct rec_inst r;
	if (c->jobs[c->insts[i].job].gone || c->insts[i].state == CL_DEAD)
		return; /* collected: nothing more is written about it */
	cl_rec_from_inst(c, &c->insts[i], &r);
	r.flags |= flags;
	if (state != r.state) {
		r.state = state;
		r.status = status;
		r.tail = tail;
		r.tail_len = tail_len;
		if (state == CLUSTER_RUNNING)
			r.started = c->now;
		else if (!active(state))
			r.ended = c->now;
	}
	if (cl_apply_inst(c, &r, NULL) > 0)
		cl_emit_inst(c, i, to);
}

/* Merge one instance record; 1 when the table changed, 0 when not, -ENOMEM. */
int cl_apply_inst(struct cluster *c, const struct rec_inst *r, uint32_t *out)
{
	uint32_t ji = cl_job_get(c, r->job), ni = cl_node_get(c, r->node), i, k;
	struct inst *x;
	struct job *j;
	bool changed = false, was_active, state_moved = false;
	if (ji == NONE || ni == NONE)
		return -ENOMEM;
	i = cl_inst_find(c, ji, r->slot, r->attempt, ni);
	j = &c->jobs[ji];
	if (i == NONE && j->have_spec && j->kind == CLUSTER_SERVICE && r->slot < j->topcap &&
	    r->attempt + CL_ATTEMPTS_KEEP <= j->top[r->slot]) {
		c->st.attempts_ignored++; /* superseded, dropped here already (or about to be) */
		return 0;
	}
	if (i != NONE && c->insts[i].state == CL_DEAD) {
		c->st.attempts_ignored++;
		return 0;
	}
	if (i == NONE) {
		if (cl_grow_array((void **)&j->top, &j->topcap, r->slot + 1, sizeof *j->top) ||
		    cl_grow_array((void **)&c->insts, &c->icap, c->ninsts + 1, sizeof *c->insts) ||
		    cl_map_resize(&c->instmap, &c->instmap_size, c->ninsts + 1, cl_inst_hash, c) ||
		    cl_grow_array((void **)&j->insts, &j->icap, j->ninsts + 1, sizeof *j->insts))
			return -ENOMEM;
		i = c->ninsts++;
		x = &c->insts[i];
		memset(x, 0, sizeof *x);
		x->job = ji;
		x->slot = r->slot;
		x->attempt = r->attempt;
		x->node = ni;
		x->state = r->state;
		x->flags = r->flags;
		x->status = r->status;
		x->placed = r->placed;
		x->started = r->started;
		x->ended = r->ended;
		x->seen = c->now;
		if (r->tail_len)
			cl_set_tail(c, x, r->tail, r->tail_len);
		for (k = cl_inst_hash(c, i) & (c->instmap_size - 1); c->instmap[k] != NONE;
		     k = (k + 1) & (c->instmap_size - 1))
			;
		c->instmap[k] = i;
		j->insts[j->ninsts++] = i;
		if (r->slot + 1 > j->slots)
			j->slots = r->slot + 1;
		if (active(x->state))
			cl_load(c, x, 1);
		changed = state_moved = true;
		if (r->attempt > j->top[r->slot]) {
			j->top[r->slot] = (uint16_t)r->attempt;
			cl_trim_slot(c, ji, r->slot);
		}
	} else {
		uint16_t tl;
		const char *t;
		x = &c->insts[i];
		was_active = active(x->state);
		t = cl_tail_of(c, x, &tl);
		if (rank_of[r->state] > rank_of[x->state]) {
			x->state = r->state;
			x->status = r->status;
			x->seen = c->now;
			if (r->tail_len || tl)
				cl_set_tail(c, x, r->tail, r->tail_len);
			changed = state_moved = true;
		} else if (rank_of[r->state] == rank_of[x->state]) {
			if (r->status > x->status) {
				x->status = r->status;
				changed = true;
			}
			if (r->tail_len > tl ||
			    (r->tail_len == tl && tl && memcmp(r->tail, t, tl) > 0)) {
				cl_set_tail(c, x, r->tail, r->tail_len);
				changed = true;
			}
		}
		if ((x->flags | r->flags) != x->flags) {
			x->flags |= r->flags;
			changed = true;
		}
#define TMAX(f)                                                                                    \
	if (r->f > x->f) {                                                                         \
		x->f = r->f;                                                                       \
		changed = true;                                                                    \
	}
		TMAX(placed)
		TMAX(started)
		TMAX(ended)
#undef TMAX
		if (was_active && !active(x->state))
			cl_load(c, x, -1);
	}
	if (out)
		*out = i;
	if (!changed)
		return 0;
	j = &c->jobs[ji];
	j->dirty = true;
	cl_job_changed(c, ji);
	x = &c->insts[i];
	if (state_moved && x->state == CLUSTER_RUNNING && x->attempt == 0 && j->mine &&
	    j->seen_ms && c->now >= j->seen_ms) {
		c->st.place_latency_ms_sum += c->now - j->seen_ms;
		c->st.place_latency_n++;
	}
	if (ni == c->self)
		inst_hook(c, i);
	return 1;
}

/* This node's side of a change to instance i, which the table places here. */
static void inst_hook(struct cluster *c, uint32_t i)
{
	struct inst *x = &c->insts[i];
	struct job *j = &c->jobs[x->job];
	struct node *self = &c->nodes[c->self];
	int k = cl_local_find(c, i);
	uint32_t to = j->coord;
	if (j->gone || x->state == CL_DEAD) {
		/* Collected while it runs here (a placement the collector never saw): stop it. */
		if (k >= 0 && c->local[k].started && !c->local[k].killing) {
			c->local[k].killing = true;
			cl_push_eff(c, CLUSTER_EFFECT_KILL, 0, NONE, i, NULL);
		}
		return;
	}
	if (x->state == CLUSTER_ASSIGNED) {
		uint32_t cpu = 0, mem = 0;
		if (k >= 0 || !j->have_spec)
			return; /* started already, or wait for the spec */
		if (x->flags & CL_F_STOP) {
			cl_write_inst(c, i, CLUSTER_STOPPED, 0, 0, NULL, 0, to);
			return;
		}
		for (uint32_t l = 0; l < c->nlocal; l++) {
			cpu += c->local[l].cpu;
			mem += c->local[l].mem;
		}
		if (!self->announced || cpu + j->cpu > self->cpus || mem + j->mem > self->mem ||
		    cl_grow_array((void **)&c->local, &c->lcap, c->nlocal + 1, sizeof *c->local)) {
			c->st.rejections++;
			cl_write_inst(c, i, CLUSTER_REJECTED, 0, 0, NULL, 0, to);
			return;
		}
		c->local[c->nlocal++] = (struct local){i, j->cpu, j->mem, false, false};
		cl_push_eff(c, CLUSTER_EFFECT_START, 0, NONE, i, NULL);
		return;
	}
	if (k < 0) {
		/* RUNNING here in the table, yet this node does not run it: it restarted. */
		if (x->state == CLUSTER_RUNNING)
			cl_write_inst(c, i, CLUSTER_LOST, 0, -ESRCH, NULL, 0, to);
		return;
	}
	if (!active(x->state) && !(x->flags & CL_F_STOP)) {
		/* Marked LOST while it still runs here (a partition): stop it. */
		cl_write_inst(c, i, x->state, CL_F_STOP, 0, NULL, 0, to);
		return; /* the write came back through this hook */
	}
	if ((x->flags & CL_F_STOP) && c->local[k].started && !c->local[k].killing) {
		c->local[k].killing = true;
		cl_push_eff(c, CLUSTER_EFFECT_KILL, 0, NONE, i, NULL);
	}
}

/* Specs, control and node records. */
static void job_load_all(struct cluster *c, uint32_t ji, int sign)
{
	struct job *j = &c->jobs[ji];
	for (uint32_t k = 0; k < j->ninsts; k++)
		if (active(c->insts[j->insts[k]].state))
			cl_load(c, &c->insts[j->insts[k]], sign);
}

int cl_apply_spec(struct cluster *c, const struct rec_spec *r, const uint8_t *body, size_t len)
{
	uint32_t ji = cl_job_get(c, r->job);
	const struct cluster_job_spec *s = r->spec;
	struct job *j;
	uint8_t *enc;
	char *name = NULL, *cons = NULL;
	size_t clen = 0;
	if (ji == NONE)
		return -ENOMEM;
	j = &c->jobs[ji];
	if (j->have_spec &&
	    (len > j->spec_len || (len == j->spec_len && memcmp(body, j->spec_enc, len) >= 0)))
		return 0;
	enc = cl_alloc(len);
	for (unsigned k = 0; k < s->nconstraints; k++)
		clen += strlen(s->constraints[k]) + 1;
	cons = clen ? cl_alloc(clen) : NULL;
	name = s->name[0] ? cl_dupstr(s->name) : NULL;
	if (!enc || (clen && !cons) || (s->name[0] && !name)) {
		cl_free(enc);
		cl_free(cons);
		cl_free(name);
		return -ENOMEM;
	}
	memcpy(enc, body, len);
	clen = 0;
	for (unsigned k = 0; k < s->nconstraints; k++) {
		size_t n = strlen(s->constraints[k]) + 1;
		memcpy(cons + clen, s->constraints[k], n);
		clen += n;
	}
	if (j->have_spec) {
		job_load_all(c, ji, -1);
		cl_free(j->spec_enc);
		cl_free(j->name);
		cl_free(j->cons);
	} else {
		j->seen_ms = c->now;
		c->nspecs++;
	}
	j->spec_enc = enc;
	j->spec_len = (uint16_t)len;
	j->name = name;
	j->cons = cons;
	j->ncons = s->nconstraints;
	j->kind = (uint8_t)s->kind;
	j->score = (uint8_t)s->score;
	j->distinct = s->distinct;
	j->cpu = s->cpu;
	j->mem = s->mem_mib;
	j->max_retries = s->max_retries;
	j->spec_count = s->count;
	j->submitted_ms = r->submitted_ms;
	j->origin = cl_node_find(c, r->on);
	j->have_spec = true;
	j->dirty = true;
	cl_job_changed(c, ji);
	c->order_ok = false;
	job_load_all(c, ji, 1);
	for (uint32_t s = 0; s < c->jobs[ji].topcap; s++)
		cl_trim_slot(c, ji, s);
	/* Assignments here that waited for the spec. */
	for (uint32_t k = 0; k < c->jobs[ji].ninsts; k++) {
		uint32_t i = c->jobs[ji].insts[k];
		if (c->insts[i].node == c->self)
			inst_hook(c, i);
	}
	return 1;
}

/* LWW order of (version, writer name, value). */
static int lww_cmp(const struct cluster *c, uint64_t va, const char *wa, uint32_t xa, uint64_t vb,
		   uint32_t wb, uint32_t xb)
{
	int d;
	if (va != vb)
		return va > vb ? 1 : -1;
	if (wb == NONE)
		return 1;
	d = strcmp(wa, c->nodes[wb].name);
	if (d)
		return d;
	return xa > xb ? 1 : xa < xb ? -1 : 0;
}

void cl_mark_mine_dirty(struct cluster *c)
{
	for (uint32_t k = 0; k < c->nmine; k++)
		c->jobs[c->mine[k]].dirty = true;
}

int cl_apply_ctl(struct cluster *c, const struct rec_ctl *r)
{
	uint32_t ji = cl_job_get(c, r->job), w;
	struct job *j;
	bool changed = false;
	if (ji == NONE)
		return -ENOMEM;
	j = &c->jobs[ji];
	if (lww_cmp(c, r->ver, r->writer, r->count, j->ctl_ver, j->ctl_writer, j->ctl_count) > 0) {
		w = cl_node_get(c, r->writer);
		if (w == NONE)
			return -ENOMEM;
		j = &c->jobs[ji];
		j->ctl_ver = r->ver;
		j->ctl_writer = w;
		j->ctl_count = r->count;
		changed = true;
	}
	if (r->stopped && !j->stopped) {
		j->stopped = true;
		changed = true;
	}
	if (changed) {
		j->dirty = true;
		cl_job_changed(c, ji);
	}
	return changed;
}

int cl_apply_node(struct cluster *c, const struct rec_node *r)
{
	uint32_t ni = cl_node_get(c, r->node), w;
	struct node *n;
	if (ni == NONE)
		return -ENOMEM;
	n = &c->nodes[ni];
	if (lww_cmp(c, r->ver, r->writer, r->drain, n->drain_ver, n->drain_writer, n->drain) <= 0)
		return 0;
	w = cl_node_get(c, r->writer);
	if (w == NONE)
		return -ENOMEM;
	n = &c->nodes[ni];
	n->drain_ver = r->ver;
	n->drain_writer = w;
	n->drain = r->drain;
	c->cap_epoch++;
	cl_mark_mine_dirty(c);
	return 1;
}

int cl_apply(struct cluster *c, uint8_t type, union rec *r, const uint8_t *body, size_t len)
{
	const char *job = type == CL_REC_SPEC	? r->spec.job
			  : type == CL_REC_CTL	? r->ctl.job
			  : type == CL_REC_INST ? r->inst.job
						: NULL;
	if (job && c->ntombs && cl_is_gone(c, job)) {
		c->st.gone_ignored++; /* a tombstone beats every other record of its job */
		return 0;
	}
	switch (type) {
	case CL_REC_GONE:
		return cl_apply_gone(c, &r->gone);
	case CL_REC_SPEC:
		return cl_apply_spec(c, &r->spec, body, len);
	case CL_REC_CTL:
		return cl_apply_ctl(c, &r->ctl);
	case CL_REC_INST:
		return cl_apply_inst(c, &r->inst, NULL);
	case CL_REC_NODE:
		return cl_apply_node(c, &r->node);
	}
	return -EBADMSG;
}
