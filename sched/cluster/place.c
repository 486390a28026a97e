/* place.c: reconciliation of the jobs this node coordinates, and placement (a heap of
 * feasible nodes ordered by score). */
#include <errno.h>
#include <string.h>

#include "sched/cluster/core.h"

bool cl_inst_less(const struct cluster *c, uint32_t a, uint32_t b)
{
	const struct inst *x = &c->insts[a], *y = &c->insts[b];
	if (x->attempt != y->attempt)
		return x->attempt < y->attempt;
	return strcmp(c->nodes[x->node].name, c->nodes[y->node].name) < 0;
}

uint32_t cl_max_failures(const struct job *j) { return j->max_retries ? j->max_retries : 1; }

void cl_summarize(const struct cluster *c, const struct job *j, struct slot *sl, uint32_t n)
{
	for (uint32_t s = 0; s < n; s++)
		sl[s] = (struct slot){NONE, 0, 0, false, false, false, 0, false};
	for (uint32_t k = 0; k < j->ninsts; k++) {
		uint32_t i = j->insts[k];
		const struct inst *x = &c->insts[i];
		struct slot *s;
		if (x->slot >= n)
			continue;
		s = &sl[x->slot];
		if (x->attempt + 1 >= s->next_attempt)
			s->restart = x->state == CLUSTER_EXITED || x->state == CLUSTER_FAILED;
		if (x->attempt + 1 > s->next_attempt)
			s->next_attempt = x->attempt + 1;
		if (active(x->state) && !(x->flags & CL_F_STOP) &&
		    (s->best == NONE || cl_inst_less(c, i, s->best)))
			s->best = i;
		if (x->state == CLUSTER_EXITED || x->state == CLUSTER_FAILED) {
			s->ended = true;
			if (x->seen > s->last_end)
				s->last_end = x->seen;
			if (j->kind == CLUSTER_BATCH) {
				if (x->state == CLUSTER_EXITED && x->status == 0)
					s->completed = true;
				else
					s->failures++;
			}
		}
	}
	for (uint32_t s = 0; s < n; s++)
		sl[s].running = sl[s].best != NONE && c->insts[sl[s].best].state == CLUSTER_RUNNING;
}

static bool slot_wanted(const struct job *j, const struct slot *s, uint32_t slot)
{
	if (j->stopped || slot >= cl_job_count_now(j))
		return false;
	return !(j->kind == CLUSTER_BATCH && (s->completed || s->failures >= cl_max_failures(j)));
}

static bool has_tag(const char *tags, const char *want)
{
	size_t n = strlen(want);
	for (const char *p = tags; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !memcmp(p, want, n))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

static bool fits(const struct node *n, const struct job *j)
{
	return n->cpu_used + j->cpu <= n->cpus && n->mem_used + j->mem <= n->mem;
}

static bool feasible(const struct cluster *c, const struct job *j, uint32_t ni)
{
	const struct node *n = &c->nodes[ni];
	const char *p = j->cons;
	if (!n->alive || n->drain || !n->announced || !fits(n, j))
		return false;
	if (c->scratch[ni] & REJECTED_LATELY)
		return false; /* it has just said it has no room for this job */
	if (j->distinct && c->scratch[ni])
		return false;
	for (unsigned k = 0; k < j->ncons; k++, p += strlen(p) + 1)
		if (!has_tag(n->tags, p))
			return false;
	return true;
}

/* Does node a score better than node b for job j? */
static bool better(const struct cluster *c, const struct job *j, uint32_t a, uint32_t b)
{
	const struct node *x = &c->nodes[a], *y = &c->nodes[b];
	uint32_t fx = x->mem - x->mem_used, fy = y->mem - y->mem_used;
	if (j->score == CLUSTER_BINPACK) {
		uint32_t cx = x->cpus - x->cpu_used, cy = y->cpus - y->cpu_used;
		if (fx != fy)
			return fx < fy;
		if (cx != cy)
			return cx < cy;
	} else {
		if (c->scratch[a] != c->scratch[b])
			return c->scratch[a] < c->scratch[b];
		if (x->insts != y->insts)
			return x->insts < y->insts;
		if (fx != fy)
			return fx > fy;
	}
	return cl_rv_beats(c, cl_rv(c, j, a), a, cl_rv(c, j, b), b);
}

static void heap_push(const struct cluster *c, const struct job *j, uint32_t *h, uint32_t *n,
		      uint32_t v)
{
	uint32_t k = (*n)++;
	while (k) {
		uint32_t p = (k - 1) / 2;
		if (!better(c, j, v, h[p]))
			break;
		h[k] = h[p];
		k = p;
	}
	h[k] = v;
}

static uint32_t heap_pop(const struct cluster *c, const struct job *j, uint32_t *h, uint32_t *n)
{
	uint32_t top = h[0], v = h[--(*n)], k = 0;
	for (;;) {
		uint32_t l = 2 * k + 1, r = l + 1, m;
		if (l >= *n)
			break;
		m = r < *n && better(c, j, h[r], h[l]) ? r : l;
		if (!better(c, j, h[m], v))
			break;
		h[k] = h[m];
		k = m;
	}
	if (*n)
		h[k] = v;
	return top;
}

/* Place the listed slots of job ji; how many could not be placed. */
static uint32_t place(struct cluster *c, uint32_t ji, const uint32_t *slots,
		      const uint32_t *attempts, uint32_t nslots)
{
	uint32_t *heap, nh = 0, k, left = nslots;
	struct job *j = &c->jobs[ji];
	if (cl_grow_array((void **)&c->scratch, &c->scratch_cap, c->nnodes, sizeof *c->scratch))
		return nslots;
	memset(c->scratch, 0, (size_t)c->nnodes * sizeof *c->scratch);
	for (k = 0; k < j->ninsts; k++) {
		const struct inst *x = &c->insts[j->insts[k]];
		if (active(x->state))
			c->scratch[x->node]++;
		else if (x->state == CLUSTER_REJECTED && c->now < x->seen + CL_REJECT_HOLDOFF_MS)
			c->scratch[x->node] |= REJECTED_LATELY;
	}
	heap = cl_alloc((size_t)(c->nalive + 1) * sizeof *heap);
	if (!heap)
		return nslots;
	for (k = 0; k < c->nalive; k++)
		if (feasible(c, j, c->alive[k]))
			heap_push(c, j, heap, &nh, c->alive[k]);
	for (k = 0; k < nslots && nh; k++) {
		uint32_t ni = heap_pop(c, j, heap, &nh), i;
		struct rec_inst r;
		memset(&r, 0, sizeof r);
		memcpy(r.job, j->id, sizeof r.job);
		r.slot = slots[k];
		r.attempt = attempts[k];
		scpy(r.node, c->nodes[ni].name, sizeof r.node);
		r.state = CLUSTER_ASSIGNED;
		r.placed = c->now;
		r.tail = "";
		if (cl_apply_inst(c, &r, &i) < 0)
			break;
		j = &c->jobs[ji];
		c->st.placements++;
		cl_emit_inst(c, i, ni);
		c->scratch[ni]++;
		left--;
		if (feasible(c, j, ni))
			heap_push(c, j, heap, &nh, ni);
	}
	cl_free(heap);
	return left;
}

/* An assignment not yet started, or a stop not yet done, is sent to its node again every
 * rebroadcast_ms (from when its state merged here) in case the first copies were lost. */
static void resend(struct cluster *c, uint64_t last, uint32_t i, uint64_t *wake)
{
	const struct inst *x = &c->insts[i];
	uint64_t every = c->cfg.rebroadcast_ms, k;
	if (!every || c->now < x->seen)
		return;
	k = (c->now - x->seen) / every;
	if (k && (last < x->seen || (last - x->seen) / every < k))
		cl_send_inst(c, i, x->node);
	if (x->seen + (k + 1) * every < *wake)
		*wake = x->seen + (k + 1) * every;
}

static void reconcile(struct cluster *c, uint32_t ji)
{
	struct job *j = &c->jobs[ji];
	struct slot *sl;
	uint32_t n, count, *need, *att, nneed = 0;
	uint64_t wake = UINT64_MAX, last;
	j->dirty = false;
	j->epoch_seen = c->cap_epoch;
	j->pending = false;
	last = j->reconciled;
	j->reconciled = c->now;
	if (!j->have_spec || j->gone) {
		j->wake =
			UINT64_MAX; /* nothing to do before the spec arrives (it dirties the job) */
		return;
	}
	/* Instances on dead nodes are lost; assignments never started time out; drained
	 * nodes give theirs up. */
	for (uint32_t k = 0; k < j->ninsts; k++) {
		uint32_t i = c->jobs[ji].insts[k];
		struct inst *x = &c->insts[i];
		const struct node *nd = &c->nodes[x->node];
		if (!active(x->state))
			continue;
		if (!nd->alive) {
			c->st.lost++;
			cl_write_inst(c, i, CLUSTER_LOST, 0, 0, NULL, 0, NONE);
			c->lost[c->lost_at] = i;
			c->lost_at = (c->lost_at + 1) % LOST_KEEP;
			if (c->nlost < LOST_KEEP)
				c->nlost++;
		} else if (x->state == CLUSTER_ASSIGNED &&
			   c->now >= x->seen + c->cfg.assign_timeout_ms) {
			c->st.lost++;
			cl_write_inst(c, i, CLUSTER_LOST, 0, -ETIMEDOUT, NULL, 0, x->node);
		} else {
			if (x->state == CLUSTER_ASSIGNED &&
			    x->seen + c->cfg.assign_timeout_ms < wake)
				wake = x->seen + c->cfg.assign_timeout_ms;
			if (nd->drain && !(x->flags & CL_F_STOP))
				cl_write_inst(c, i, x->state, CL_F_STOP, 0, NULL, 0, x->node);
			else if (x->state == CLUSTER_ASSIGNED || (x->flags & CL_F_STOP))
				resend(c, last, i, &wake);
		}
	}
	j = &c->jobs[ji];
	count = cl_job_count_now(j);
	n = count > j->slots ? count : j->slots;
	sl = cl_alloc((size_t)(n + 1) * sizeof *sl);
	need = cl_alloc((size_t)(count + 1) * sizeof *need);
	att = cl_alloc((size_t)(count + 1) * sizeof *att);
	if (!sl || !need || !att)
		goto out;
	cl_summarize(c, j, sl, n);
	/* Stop what is not wanted: extras, duplicates, anything of a stopped job. */
	for (uint32_t k = 0; k < j->ninsts; k++) {
		uint32_t i = c->jobs[ji].insts[k];
		const struct inst *x = &c->insts[i];
		struct slot *s = &sl[x->slot];
		bool dup;
		if (!active(x->state) || (x->flags & CL_F_STOP))
			continue;
		if (slot_wanted(j, s, x->slot) && s->best == i)
			continue;
		dup = slot_wanted(j, s, x->slot) || s->completed;
		if (dup)
			c->st.duplicates_stopped++;
		cl_write_inst(c, i, x->state, CL_F_STOP | (dup ? CL_F_DUP : 0), 0, NULL, 0,
			      x->node);
		j = &c->jobs[ji];
	}
	for (uint32_t s = 0; s < count; s++) {
		if (!slot_wanted(j, &sl[s], s) || sl[s].best != NONE)
			continue;
		if (j->kind == CLUSTER_SERVICE && sl[s].ended &&
		    c->now < sl[s].last_end + c->cfg.restart_backoff_ms) {
			if (sl[s].last_end + c->cfg.restart_backoff_ms < wake)
				wake = sl[s].last_end + c->cfg.restart_backoff_ms;
			continue;
		}
		need[nneed] = s;
		att[nneed++] = sl[s].next_attempt;
	}
	if (nneed) {
		uint32_t placed = nneed - place(c, ji, need, att, nneed);
		j = &c->jobs[ji];
		j->pending = placed < nneed;
		/* Counted once placed: the first `placed` of need[] went out. A restart is a
		 * service slot placed again after its last instance ended by itself (not lost);
		 * a retry a batch slot placed again after a failure. */
		for (uint32_t k = 0; k < placed; k++) {
			const struct slot *t = &sl[need[k]];
			if (j->kind == CLUSTER_SERVICE && t->restart)
				c->st.restarts++;
			else if (j->kind == CLUSTER_BATCH && t->failures)
				c->st.retries++;
		}
	}
out:
	cl_free(sl);
	cl_free(need);
	cl_free(att);
	c->jobs[ji].wake = wake;
}

void cluster_tick(struct cluster *c, uint64_t now_ms)
{
	uint32_t k = 0;
	cl_flush_last(c);
	c->now = now_ms;
	cl_gc(c);
	while (k < c->nmine) {
		uint32_t ji = c->mine[k];
		struct job *j = &c->jobs[ji];
		if (!j->mine) {
			j->in_mine = false;
			c->mine[k] = c->mine[--c->nmine];
			continue;
		}
		if (j->dirty || now_ms >= j->wake || (j->pending && j->epoch_seen != c->cap_epoch))
			reconcile(c, ji);
		k++;
	}
}

uint64_t cluster_deadline(const struct cluster *c)
{
	uint64_t d = c->now + c->cfg.tick_ms;
	for (uint32_t k = 0; k < c->nmine; k++) {
		const struct job *j = &c->jobs[c->mine[k]];
		if (!j->mine || j->gone)
			continue;
		if (j->dirty || (j->pending && j->epoch_seen != c->cap_epoch))
			return c->now;
		if (j->wake < d)
			d = j->wake;
	}
	return d < c->next_gc ? d : c->next_gc;
}
