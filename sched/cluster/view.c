/* view.c: the views (copies of jobs and instances for the console) and the effect
 * queue's reader. */
#include <errno.h>
#include <string.h>

#include "sched/cluster/core.h"

/* Views. */
static void inst_fill(const struct cluster *c, uint32_t i, struct cluster_inst *o)
{
	const struct inst *x = &c->insts[i];
	const char *t;
	uint16_t tl;
	memset(o, 0, sizeof *o);
	memcpy(o->job, c->jobs[x->job].id, sizeof o->job);
	o->slot = x->slot;
	o->attempt = x->attempt;
	scpy(o->node, c->nodes[x->node].name, sizeof o->node);
	o->state = x->state;
	o->stop_requested = x->flags & CL_F_STOP;
	o->duplicate = x->flags & CL_F_DUP;
	o->status = x->status;
	o->placed_ms = x->placed;
	o->started_ms = x->started;
	o->ended_ms = x->ended;
	t = cl_tail_of(c, x, &tl);
	o->tail_len = tl;
	memcpy(o->tail, t, tl);
}

bool cluster_next_effect(struct cluster *c, struct cluster_effect *e)
{
	struct eff *f;
	cl_flush_last(c);
	if (c->ehead >= c->neff) {
		c->ehead = c->neff = 0;
		return false;
	}
	f = &c->effs[c->ehead++];
	memset(e, 0, sizeof *e);
	e->kind = f->kind;
	e->key = f->key;
	if (f->node != NONE)
		scpy(e->node, c->nodes[f->node].name, sizeof e->node);
	e->data = f->data;
	e->len = f->len;
	c->eff_last = f->data;
	if (f->inst != NONE) {
		inst_fill(c, f->inst, &e->inst);
		scpy(e->node, c->nodes[c->insts[f->inst].node].name, sizeof e->node);
		if (f->kind == CLUSTER_EFFECT_START) {
			cluster_job_find(c, c->jobs[c->insts[f->inst].job].id, &c->eff_job);
			e->job = &c->eff_job;
		}
	}
	return true;
}

enum cluster_job_state cl_job_state(const struct cluster *c, uint32_t ji, struct cluster_job *o)
{
	const struct job *j = &c->jobs[ji];
	uint32_t count = cl_job_count_now(j), n = count > j->slots ? count : j->slots;
	uint32_t running = 0, completed = 0, failed = 0, pending = 0, placed = 0;
	struct slot *sl = cl_alloc((size_t)(n + 1) * sizeof *sl);
	enum cluster_job_state st;
	if (!sl)
		return j->stopped ? CLUSTER_JOB_STOPPED : CLUSTER_JOB_PENDING;
	cl_summarize(c, j, sl, n);
	for (uint32_t s = 0; s < count; s++) {
		if (sl[s].completed) {
			completed++;
		} else if (j->kind == CLUSTER_BATCH && sl[s].failures >= cl_max_failures(j)) {
			failed++;
		} else {
			if (sl[s].running)
				running++;
			else
				pending++;
			if (sl[s].best != NONE)
				placed++;
		}
	}
	cl_free(sl);
	if (j->stopped)
		st = CLUSTER_JOB_STOPPED;
	else if (j->kind == CLUSTER_BATCH && completed + failed == count)
		st = failed ? CLUSTER_JOB_FAILED : CLUSTER_JOB_COMPLETE;
	else if (placed + completed + failed == count)
		st = CLUSTER_JOB_RUNNING;
	else
		st = CLUSTER_JOB_PENDING;
	if (o) {
		o->running = running;
		o->completed = completed;
		o->failed = failed;
		o->pending = pending;
		o->state = st;
	}
	return st;
}

static bool job_fill(const struct cluster *c, uint32_t ji, struct cluster_job *o)
{
	const struct job *j = &c->jobs[ji];
	struct rec_spec r;
	union rec u;
	if (!j->have_spec || j->gone)
		return false;
	memset(o, 0, sizeof *o);
	u.spec.spec = &o->spec;
	if (clw_get_rec(CL_REC_SPEC, j->spec_enc, j->spec_len, &u))
		return false;
	r = u.spec;
	memcpy(o->id, j->id, sizeof o->id);
	scpy(o->submitted_by, r.by, sizeof o->submitted_by);
	scpy(o->submitted_on, r.on, sizeof o->submitted_on);
	o->submitted_ms = j->submitted_ms;
	o->count = cl_job_count_now(j);
	o->stopped = j->stopped;
	if (j->coord != NONE)
		scpy(o->coordinator, c->nodes[j->coord].name, sizeof o->coordinator);
	cl_job_state(c, ji, o);
	return true;
}

size_t cluster_job_count(const struct cluster *c) { return c->nspecs; }

/* Sorting indices with a context (the kernel's qsort has none): a shell sort. */
static void sort_idx(const struct cluster *c, uint32_t *a, size_t n,
		     bool (*lt)(const struct cluster *, uint32_t, uint32_t))
{
	static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
	for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
		size_t gap = gaps[g];
		for (size_t i = gap; i < n; i++) {
			uint32_t v = a[i];
			size_t k = i;
			for (; k >= gap && lt(c, v, a[k - gap]); k -= gap)
				a[k] = a[k - gap];
			a[k] = v;
		}
	}
}

static bool newer(const struct cluster *c, uint32_t a, uint32_t b)
{
	const struct job *x = &c->jobs[a], *y = &c->jobs[b];
	if (x->submitted_ms != y->submitted_ms)
		return x->submitted_ms > y->submitted_ms;
	return strcmp(x->id, y->id) > 0;
}

bool cluster_job_at(const struct cluster *c, size_t i, struct cluster_job *out)
{
	struct cluster *m = (struct cluster *)c; /* the order is a cache */
	if (!m->order_ok) {
		uint32_t cap = 0;
		cl_free(m->order);
		m->order = NULL;
		m->norder = 0;
		if (cl_grow_array((void **)&m->order, &cap, c->njobs + 1, sizeof *m->order))
			return false;
		for (uint32_t ji = 0; ji < c->njobs; ji++)
			if (c->jobs[ji].have_spec && !c->jobs[ji].gone)
				m->order[m->norder++] = ji;
		sort_idx(c, m->order, m->norder, newer);
		m->order_ok = true;
	}
	if (i >= m->norder)
		return false;
	return job_fill(c, m->order[i], out);
}

uint32_t cl_job_by_ref(const struct cluster *c, const char *ref)
{
	uint32_t ji = cl_job_find(c, ref), best = NONE;
	if (ji != NONE)
		return c->jobs[ji].have_spec && !c->jobs[ji].gone ? ji : NONE;
	for (ji = 0; ji < c->njobs; ji++) {
		const struct job *j = &c->jobs[ji];
		if (!j->have_spec || j->gone || !j->name || strcmp(j->name, ref))
			continue;
		if (best == NONE || (cl_job_live(c, ji) && !cl_job_live(c, best)) ||
		    (cl_job_live(c, ji) == cl_job_live(c, best) && newer(c, ji, best)))
			best = ji;
	}
	return best;
}

bool cluster_job_find(const struct cluster *c, const char *job, struct cluster_job *out)
{
	uint32_t ji = job ? cl_job_by_ref(c, job) : NONE;
	return ji != NONE && job_fill(c, ji, out);
}

static bool by_attempt(const struct cluster *c, uint32_t a, uint32_t b)
{
	const struct inst *x = &c->insts[a], *y = &c->insts[b];
	if (x->slot != y->slot)
		return x->slot < y->slot;
	return cl_inst_less(c, a, b);
}

/* The current instance of a slot first: the active one kept (not asked to stop), else the
 * latest attempt. */
static bool by_latest(const struct cluster *c, uint32_t a, uint32_t b)
{
	const struct inst *x = &c->insts[a], *y = &c->insts[b];
	bool ax = active(x->state) && !(x->flags & CL_F_STOP);
	bool ay = active(y->state) && !(y->flags & CL_F_STOP);
	if (x->slot != y->slot)
		return x->slot < y->slot;
	if (ax != ay)
		return ax;
	if (x->attempt != y->attempt)
		return ax ? x->attempt < y->attempt : x->attempt > y->attempt;
	return strcmp(c->nodes[x->node].name, c->nodes[y->node].name) < 0;
}

size_t cluster_job_insts(const struct cluster *c, const char *job_id, bool all,
			 struct cluster_inst *out, size_t max)
{
	uint32_t ji = job_id ? cl_job_by_ref(c, job_id) : NONE, *idx, n = 0;
	const struct job *j;
	size_t cnt = 0;
	if (ji == NONE)
		return 0;
	j = &c->jobs[ji];
	idx = cl_alloc((size_t)(j->ninsts + 1) * sizeof *idx);
	if (!idx)
		return 0;
	for (uint32_t k = 0; k < j->ninsts; k++)
		if (c->insts[j->insts[k]].state != CL_DEAD)
			idx[n++] = j->insts[k];
	sort_idx(c, idx, n, all ? by_attempt : by_latest);
	for (uint32_t k = 0; k < n; k++) {
		if (!all && k && c->insts[idx[k]].slot == c->insts[idx[k - 1]].slot)
			continue;
		if (cnt < max && out)
			inst_fill(c, idx[k], &out[cnt]);
		cnt++;
	}
	cl_free(idx);
	return cnt;
}

bool cluster_inst_find(const struct cluster *c, const char *name, struct cluster_inst *out)
{
	char id[CLUSTER_JOB_ID_LEN + 1];
	const char *p;
	uint32_t slot = 0, attempt = 0, ji, best = NONE;
	bool has_attempt = false;
	if (!name || strnlen(name, 32) < CLUSTER_JOB_ID_LEN + 2 || name[CLUSTER_JOB_ID_LEN] != '.')
		return false;
	memcpy(id, name, CLUSTER_JOB_ID_LEN);
	id[CLUSTER_JOB_ID_LEN] = 0;
	p = name + CLUSTER_JOB_ID_LEN + 1;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		slot = slot * 10 + (uint32_t)(*p - '0');
		if (slot >= CLUSTER_COUNT_MAX)
			return false;
	}
	if (*p == '#') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++) {
			attempt = attempt * 10 + (uint32_t)(*p - '0');
			if (attempt > 0xffff)
				return false;
		}
		has_attempt = true;
	}
	if (*p)
		return false;
	ji = cl_job_find(c, id);
	if (ji == NONE || c->jobs[ji].gone)
		return false;
	for (uint32_t k = 0; k < c->jobs[ji].ninsts; k++) {
		uint32_t i = c->jobs[ji].insts[k];
		const struct inst *x = &c->insts[i];
		if (x->slot != slot || (has_attempt && x->attempt != attempt) ||
		    x->state == CL_DEAD)
			continue;
		if (best == NONE || by_latest(c, i, best))
			best = i;
	}
	if (best == NONE)
		return false;
	if (out)
		inst_fill(c, best, out);
	return true;
}

void cluster_node_load(const struct cluster *c, const char *node, uint32_t *insts, uint32_t *cpu,
		       uint32_t *mem_mib)
{
	uint32_t ni = node ? cl_node_find(c, node) : NONE;
	const struct node *n = ni == NONE ? NULL : &c->nodes[ni];
	if (insts)
		*insts = n ? n->insts : 0;
	if (cpu)
		*cpu = n ? n->cpu_used : 0;
	if (mem_mib)
		*mem_mib = n ? n->mem_used : 0;
}

bool cluster_node_draining(const struct cluster *c, const char *node)
{
	uint32_t ni = node ? cl_node_find(c, node) : NONE;
	return ni != NONE && c->nodes[ni].drain;
}

const struct cluster_stats *cluster_stats(const struct cluster *c) { return &c->st; }
