/* gc.c: collection of ended jobs through tombstones, tombstone expiry, and compaction of
 * the index-based tables once collected jobs are gone.
 *
 * Why tombstones: push-pull re-sends whole tables, so a node cannot just forget a job; a
 * peer that still holds it would send it back. A job's coordinator collects an ended job
 * by writing a tombstone record (CL_REC_GONE: job id, writer, age). The tombstone beats
 * every other record of its job: when it merges, the job leaves the views and the state,
 * and records of the job that arrive later are dropped (counted in gone_ignored) instead
 * of re-creating it. Two tombstones of one job merge to the greater writer name and the
 * greater age, so the set of tombstones converges like the rest of the table.
 *
 * Policy (on the coordinator, every CL_GC_EVERY_MS): a job is ended when it has a spec,
 * no active instance, and is stopped, or is a batch job whose slots all completed or
 * failed (cl_job_state). Its end time is when its records last changed here. The newest
 * `ended_jobs_keep` ended jobs (ties by id) are kept, and so is any that ended less than
 * `ended_min_keep_ms` ago; the coordinator tombstones the rest of its own. Coordinators
 * may disagree for a while on which jobs are newest; each decision is still safe, since
 * it only ever collects an ended job.
 *
 * Expiry: a tombstone carries its age (how long ago it was written, as each holder
 * reckons from when it merged there); clocks are not compared across nodes. A holder drops
 * it once the age reaches `tombstone_keep_ms`, and ignores an arriving one that old, so
 * an expired tombstone is not brought back. Ages are left out of cluster_digest.
 *
 * Compaction: a tombstoned job is only marked (`gone`, its load taken off its nodes, its
 * tasks here killed); once an eighth of the jobs are gone (or of the instances are
 * superseded attempts), at a GC pass with an empty effect queue (effects name instances
 * by index), every gone job that no task of this node still runs is removed:
 * the job and instance arrays are compacted in place, the tails array rebuilt, every
 * index that points into them (a job's instances, the mine list, the local list, the
 * LOST ring) renumbered, and the hash tables rebuilt. All new memory is taken before
 * anything moves, so a failed allocation leaves the tables as they were. */
#include <errno.h>
#include <string.h>

#include "sched/cluster/core.h"

void cl_job_changed(struct cluster *c, uint32_t ji)
{
	c->jobs[ji].chg++;
	c->jobs[ji].changed = c->now;
}

/* Tombstones. */
static uint64_t tomb_hash(void *ctx, uint32_t i)
{
	return cl_hash(((struct cluster *)ctx)->tombs[i].id, CLUSTER_JOB_ID_LEN);
}

uint32_t cl_tomb_find(const struct cluster *c, const char *id)
{
	uint64_t h;
	if (!c->tombmap_size)
		return NONE;
	h = cl_hash(id, CLUSTER_JOB_ID_LEN);
	for (uint32_t k = h & (c->tombmap_size - 1);; k = (k + 1) & (c->tombmap_size - 1)) {
		uint32_t v = c->tombmap[k];
		if (v == NONE)
			return NONE;
		if (!memcmp(c->tombs[v].id, id, CLUSTER_JOB_ID_LEN))
			return v;
	}
}

bool cl_is_gone(const struct cluster *c, const char *id) { return cl_tomb_find(c, id) != NONE; }

static void map_insert(uint32_t *map, uint32_t size, uint64_t h, uint32_t v)
{
	uint32_t k;
	for (k = h & (size - 1); map[k] != NONE; k = (k + 1) & (size - 1))
		;
	map[k] = v;
}

/* A fresh map for n entries (the caller fills it), or NULL. */
static uint32_t *map_new(uint32_t n, uint32_t *size)
{
	uint32_t *m = NULL;
	*size = 0;
	if (cl_map_resize(&m, size, n, NULL, NULL))
		return NULL;
	return m;
}

/* Job ji's tombstone merged: out of views, state and placement from now on. */
static void mark_gone(struct cluster *c, uint32_t ji)
{
	struct job *j = &c->jobs[ji];
	if (j->gone)
		return;
	for (uint32_t k = 0; k < j->ninsts; k++)
		if (active(c->insts[j->insts[k]].state))
			cl_load(c, &c->insts[j->insts[k]], -1);
	j->gone = true;
	j->dirty = j->pending = false;
	j->wake = UINT64_MAX;
	if (j->have_spec)
		c->nspecs--;
	c->order_ok = false;
	c->ngone++;
	/* A task of it still running here (placed where the collector never saw): kill it;
	 * one not yet started is killed when it reports started. */
	for (uint32_t k = 0; k < c->nlocal; k++) {
		struct local *l = &c->local[k];
		if (c->insts[l->inst].job == ji && l->started && !l->killing) {
			l->killing = true;
			cl_push_eff(c, CLUSTER_EFFECT_KILL, 0, NONE, l->inst, NULL);
		}
	}
}

int cl_apply_gone(struct cluster *c, const struct rec_gone *r)
{
	uint32_t t = cl_tomb_find(c, r->job), w, ji;
	uint64_t born;
	struct tomb *tb;
	if (r->age_ms >= c->cfg.tombstone_keep_ms)
		return 0; /* expired: holders have dropped it, or are about to */
	born = c->now > r->age_ms ? c->now - r->age_ms : 0;
	w = cl_node_get(c, r->writer);
	if (w == NONE)
		return -ENOMEM;
	if (t != NONE) {
		tb = &c->tombs[t];
		if (born < tb->born)
			tb->born = born; /* the greater age: not part of the digest */
		if (strcmp(r->writer, c->nodes[tb->writer].name) <= 0)
			return 0;
		tb->writer = w;
		return 1;
	}
	if (cl_grow_array((void **)&c->tombs, &c->tbcap, c->ntombs + 1, sizeof *c->tombs) ||
	    cl_map_resize(&c->tombmap, &c->tombmap_size, c->ntombs + 1, tomb_hash, c))
		return -ENOMEM;
	t = c->ntombs++;
	tb = &c->tombs[t];
	memcpy(tb->id, r->job, sizeof tb->id);
	tb->writer = w;
	tb->born = born;
	map_insert(c->tombmap, c->tombmap_size, tomb_hash(c, t), t);
	c->st.tombstones = c->ntombs;
	ji = cl_job_find(c, r->job);
	if (ji != NONE)
		mark_gone(c, ji);
	return 1;
}

bool cl_tomb_expired(const struct cluster *c, const struct tomb *t)
{
	return c->now >= t->born && c->now - t->born >= c->cfg.tombstone_keep_ms;
}

static void expire_tombs(struct cluster *c)
{
	uint32_t n = 0, *map, size;
	for (uint32_t t = 0; t < c->ntombs; t++)
		if (!cl_tomb_expired(c, &c->tombs[t]))
			n++;
	if (n == c->ntombs)
		return;
	map = map_new(n, &size);
	if (!map)
		return;
	c->st.tombstones_expired += c->ntombs - n;
	n = 0;
	for (uint32_t t = 0; t < c->ntombs; t++) {
		if (cl_tomb_expired(c, &c->tombs[t]))
			continue;
		c->tombs[n] = c->tombs[t];
		map_insert(map, size, tomb_hash(c, n), n);
		n++;
	}
	cl_free(c->tombmap);
	c->tombmap = map;
	c->tombmap_size = size;
	c->ntombs = n;
	c->st.tombstones = n;
}

/* Collection. */
static bool job_ended(struct cluster *c, uint32_t ji)
{
	struct job *j = &c->jobs[ji];
	if (j->ended_chg != j->chg) {
		enum cluster_job_state s = cl_job_state(c, ji, NULL);
		bool e = s == CLUSTER_JOB_COMPLETE || s == CLUSTER_JOB_FAILED ||
			 s == CLUSTER_JOB_STOPPED;
		for (uint32_t k = 0; e && k < j->ninsts; k++)
			if (active(c->insts[j->insts[k]].state))
				e = false;
		j = &c->jobs[ji];
		j->ended = e;
		j->ended_chg = j->chg;
	}
	return j->ended;
}

/* a ended after b (later change, then greater id) */
static bool ended_after(const struct job *a, const struct job *b)
{
	if (a->changed != b->changed)
		return a->changed > b->changed;
	return strcmp(a->id, b->id) > 0;
}

static void write_gone(struct cluster *c, uint32_t ji)
{
	struct rec_gone r;
	struct buf b = {0};
	memcpy(r.job, c->jobs[ji].id, sizeof r.job);
	r.age_ms = 0;
	scpy(r.writer, c->nodes[c->self].name, sizeof r.writer);
	if (cl_apply_gone(c, &r) <= 0)
		return;
	c->st.tombstones_written++;
	clw_put_hdr(&b, CL_REC_GONE);
	clw_put_gone(&b, &r);
	cl_emit(c, &b, cl_rec_key(CL_REC_GONE, r.job, 0, 0, NULL), NONE);
	clw_buf_free(&b);
}

static void collect_ended(struct cluster *c)
{
	uint32_t nended = 0, *cand, ncand = 0;
	for (uint32_t ji = 0; ji < c->njobs; ji++)
		if (c->jobs[ji].have_spec && !c->jobs[ji].gone && job_ended(c, ji))
			nended++;
	if (nended <= c->cfg.ended_jobs_keep)
		return;
	cand = cl_alloc((size_t)c->nmine * sizeof *cand);
	if (!cand)
		return;
	/* This node's own ended jobs old enough to go... */
	for (uint32_t k = 0; k < c->nmine; k++) {
		uint32_t ji = c->mine[k];
		const struct job *j = &c->jobs[ji];
		if (j->mine && j->have_spec && !j->gone && j->ended &&
		    c->now - j->changed >= c->cfg.ended_min_keep_ms)
			cand[ncand++] = ji;
	}
	/* ...that are not among the newest ended_jobs_keep. */
	for (uint32_t k = 0; k < ncand; k++) {
		const struct job *x = &c->jobs[cand[k]];
		uint32_t newer = 0;
		for (uint32_t ji = 0; ji < c->njobs && newer < c->cfg.ended_jobs_keep; ji++) {
			const struct job *y = &c->jobs[ji];
			if (y->have_spec && !y->gone && y->ended && ended_after(y, x))
				newer++;
		}
		if (newer >= c->cfg.ended_jobs_keep)
			write_gone(c, cand[k]);
	}
	cl_free(cand);
}

/* Superseded service attempts. */
static void retire(struct cluster *c, uint32_t i)
{
	struct inst *x = &c->insts[i];
	int k = cl_local_find(c, i);
	if (active(x->state))
		cl_load(c, x, -1);
	x->state = CL_DEAD;
	if (x->tail)
		cl_set_tail(c, x, NULL, 0);
	c->ndead++;
	c->st.attempts_dropped++;
	/* Still running here (this node was cut off while the slot moved on): stop it. */
	if (k >= 0 && c->local[k].started && !c->local[k].killing) {
		c->local[k].killing = true;
		cl_push_eff(c, CLUSTER_EFFECT_KILL, 0, NONE, i, NULL);
	}
}

void cl_trim_slot(struct cluster *c, uint32_t ji, uint32_t slot)
{
	const struct job *j = &c->jobs[ji];
	if (!j->have_spec || j->kind != CLUSTER_SERVICE || slot >= j->topcap ||
	    j->top[slot] < CL_ATTEMPTS_KEEP)
		return;
	for (uint32_t k = 0; k < j->ninsts; k++) {
		const struct inst *x = &c->insts[j->insts[k]];
		if (x->slot == slot && x->state != CL_DEAD &&
		    x->attempt + CL_ATTEMPTS_KEEP <= j->top[slot])
			retire(c, j->insts[k]);
	}
}

/* Compaction. */

/* Give back most of an array's slack once it holds under half its capacity: the
 * partition-heal churn can double a table for a while, and every replica holds one. */
static void shrink(void **p, uint32_t *cap, uint32_t n, size_t elem)
{
	uint32_t want = n + n / 4 + 8;
	void *q;
	if (*cap <= 2 * (size_t)n + 64 || want >= *cap)
		return;
	q = cl_alloc((size_t)want * elem);
	if (!q)
		return; /* keep the larger one */
	memcpy(q, *p, (size_t)n * elem);
	memset((uint8_t *)q + (size_t)n * elem, 0, (size_t)(want - n) * elem);
	cl_free(*p);
	*p = q;
	*cap = want;
}

static void compact(struct cluster *c)
{
	uint32_t *jnew, *inew, *jmap, *imap, jsize, isize, nj = 0, ni = 0, nt = 0, ngone = 0;
	uint32_t ndead = 0;
	char **tails = NULL;
	jnew = cl_alloc(((size_t)c->njobs + 1) * sizeof *jnew);
	inew = cl_alloc(((size_t)c->ninsts + 1) * sizeof *inew);
	if (!jnew || !inew)
		goto out;
	/* Which jobs stay: the live ones, and gone ones with a task still here. */
	for (uint32_t ji = 0; ji < c->njobs; ji++)
		jnew[ji] = c->jobs[ji].gone ? NONE : 0;
	for (uint32_t k = 0; k < c->nlocal; k++)
		jnew[c->insts[c->local[k].inst].job] = 0;
	for (uint32_t ji = 0; ji < c->njobs; ji++)
		if (jnew[ji] != NONE)
			nj++;
	/* Which instances: those of the jobs that stay, but for superseded attempts that no
	 * task here still runs. */
	for (uint32_t i = 0; i < c->ninsts; i++)
		inew[i] = jnew[c->insts[i].job] == NONE || c->insts[i].state == CL_DEAD ? NONE : 0;
	for (uint32_t k = 0; k < c->nlocal; k++)
		inew[c->local[k].inst] = 0;
	for (uint32_t i = 0; i < c->ninsts; i++) {
		if (inew[i] == NONE)
			continue;
		ni++;
		ndead += c->insts[i].state == CL_DEAD;
		if (c->insts[i].tail)
			nt++;
	}
	jmap = map_new(nj, &jsize);
	imap = map_new(ni, &isize);
	if (nt)
		tails = cl_alloc((size_t)nt * sizeof *tails);
	if (!jmap || !imap || (nt && !tails)) {
		cl_free(jmap);
		cl_free(imap);
		cl_free(tails);
		goto out;
	}
	/* Jobs. */
	nj = 0;
	for (uint32_t ji = 0; ji < c->njobs; ji++) {
		struct job *j = &c->jobs[ji];
		if (jnew[ji] == NONE) {
			cl_free(j->spec_enc);
			cl_free(j->name);
			cl_free(j->cons);
			cl_free(j->insts);
			cl_free(j->top);
			c->st.jobs_collected++;
			continue;
		}
		jnew[ji] = nj;
		if (nj != ji)
			c->jobs[nj] = *j;
		ngone += c->jobs[nj].gone;
		map_insert(jmap, jsize, c->jobs[nj].h, nj);
		nj++;
	}
	/* Instances, and their tails. */
	ni = nt = 0;
	for (uint32_t i = 0; i < c->ninsts; i++) {
		struct inst x = c->insts[i];
		if (inew[i] == NONE) {
			if (x.tail)
				cl_free(c->tails[x.tail - 1]);
			inew[i] = NONE;
			continue;
		}
		x.job = jnew[x.job];
		if (x.tail) {
			tails[nt] = c->tails[x.tail - 1];
			x.tail = ++nt;
		}
		inew[i] = ni;
		c->insts[ni] = x;
		ni++;
	}
	c->njobs = nj;
	c->ninsts = ni;
	for (uint32_t i = 0; i < ni; i++)
		map_insert(imap, isize, cl_inst_hash(c, i), i);
	/* Every index into them. */
	for (uint32_t ji = 0; ji < nj; ji++) {
		struct job *j = &c->jobs[ji];
		uint32_t m = 0;
		for (uint32_t k = 0; k < j->ninsts; k++)
			if (inew[j->insts[k]] != NONE)
				j->insts[m++] = inew[j->insts[k]];
		j->ninsts = m;
	}
	{
		uint32_t m = 0;
		for (uint32_t k = 0; k < c->nmine; k++)
			if (jnew[c->mine[k]] != NONE)
				c->mine[m++] = jnew[c->mine[k]];
		c->nmine = m;
	}
	for (uint32_t k = 0; k < c->nlocal; k++)
		c->local[k].inst = inew[c->local[k].inst];
	for (uint32_t k = 0; k < LOST_KEEP; k++)
		if (k < c->nlost && c->lost[k] != NONE)
			c->lost[k] = inew[c->lost[k]];
	cl_free(c->tails);
	c->tails = tails;
	c->ntails = c->tcap = nt;
	cl_free(c->jobmap);
	c->jobmap = jmap;
	c->jobmap_size = jsize;
	cl_free(c->instmap);
	c->instmap = imap;
	c->instmap_size = isize;
	c->ngone = ngone;
	c->ndead = ndead;
	c->order_ok = false;
	shrink((void **)&c->jobs, &c->jcap, nj, sizeof *c->jobs);
	shrink((void **)&c->insts, &c->icap, ni, sizeof *c->insts);
out:
	cl_free(jnew);
	cl_free(inew);
}

void cl_gc(struct cluster *c)
{
	if (c->now < c->next_gc)
		return;
	c->next_gc = c->now + CL_GC_EVERY_MS;
	expire_tombs(c);
	/* Compaction rebuilds every table: only once an eighth of them is garbage (so that
	 * is the most they hold), and only with no effect queued (effects name instances
	 * by index). */
	if ((c->ngone && (uint64_t)c->ngone * CL_GARBAGE_FRACTION >= c->njobs) ||
	    (c->ndead && (uint64_t)c->ndead * CL_GARBAGE_FRACTION >= c->ninsts)) {
		if (c->ehead >= c->neff)
			compact(c);
	}
	collect_ended(c);
}
