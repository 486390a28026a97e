/* cluster.c: the leaderless scheduler's core (the contract and the design are in
 * sched/cluster/cluster.h; the records' bytes in sched/cluster/README.md). This file has
 * the lifecycle, membership, replication, commands and task reports; the tables are in
 * table.c, merging and this node's side in merge.c, reconciliation and placement in
 * place.c, the views in view.c, the codec in wire.c.
 *
 * Tables. Nodes, jobs and instances live in three arrays, found through open-addressing
 * hash tables of indices (node by name, job by id, instance by (job, slot, attempt,
 * node)); an instance names its job and node by index, so one instance takes 64 bytes
 * and a million fit in a host simulator. Each job keeps the indices of its instances, and
 * each node the count, cpu and memory of the active (ASSIGNED or RUNNING) instances the
 * table places on it, kept up to date as states move; reconciling a job is therefore
 * O(its instances) and placing is O(alive nodes) per reconciliation, not per instance.
 * Output tails are stored apart, for ended instances that have one.
 *
 * Merging. Every record (from the wire, or written here) goes through one apply function
 * per type: job specs are immutable (a conflicting copy, which only a forged id makes,
 * resolves to the smaller encoding); job control and node drain records are LWW by
 * (version, writer, value) with `stopped` sticky; instance states move up a rank lattice
 * (ASSIGNED < RUNNING < LOST < REJECTED < FAILED < EXITED < STOPPED, so the running
 * node's report beats the coordinator's LOST), flags are or-ed, times take the maximum,
 * and equal ranks take the larger status and tail. Each of these is commutative,
 * associative and idempotent.
 *
 * Coordination. Each job caches its coordinator and that member's rendezvous hash: a
 * member that comes up takes the jobs whose hash it beats (O(jobs)), a member that goes
 * down hands over only its own jobs (O(its jobs x members)). The jobs this node
 * coordinates are listed apart; a tick reconciles those that changed, whose timers are
 * due, or that wait for room that was freed since.
 *
 * The node's side. Records about instances on this node are checked as they merge: an
 * ASSIGNED one is admitted against what this node itself runs (the `local` list), else
 * answered REJECTED; a stop request or a LOST mark on one it runs becomes a KILL effect;
 * one the table says RUNNING here that this node does not run (it restarted) is LOST. */
#include <errno.h>
#include <string.h>

#include "sched/cluster/core.h"

/* Lifecycle. */
struct cluster *cluster_new(const struct cluster_config *cfg, const char *self,
			    const uint8_t seed[32], uint64_t now_ms)
{
	struct cluster *c;
	if (!self || !self[0] || strlen(self) > CLUSTER_NAME_MAX || !seed)
		return NULL;
	c = cl_zalloc(sizeof *c);
	if (!c)
		return NULL;
	if (cfg)
		c->cfg = *cfg;
	else
		cluster_config_default(&c->cfg);
	if (!c->cfg.tick_ms)
		c->cfg.tick_ms = 100;
	c->now = now_ms;
	c->rng = cl_hash(seed, 32);
	c->self = cl_node_get(c, self);
	if (c->self == NONE) {
		cluster_free(c);
		return NULL;
	}
	return c;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < c->nnodes; i++)
		cl_free(c->nodes[i].tags);
	for (uint32_t i = 0; i < c->njobs; i++) {
		cl_free(c->jobs[i].spec_enc);
		cl_free(c->jobs[i].name);
		cl_free(c->jobs[i].cons);
		cl_free(c->jobs[i].insts);
		cl_free(c->jobs[i].top);
	}
	for (uint32_t i = 0; i < c->ntails; i++)
		cl_free(c->tails[i]);
	cl_free(c->tombs);
	cl_free(c->tombmap);
	for (uint32_t i = c->ehead; i < c->neff; i++)
		cl_free(c->effs[i].data);
	cl_free(c->eff_last);
	cl_free(c->nodes);
	cl_free(c->nodemap);
	cl_free(c->alive);
	cl_free(c->jobs);
	cl_free(c->jobmap);
	cl_free(c->insts);
	cl_free(c->instmap);
	cl_free(c->tails);
	cl_free(c->mine);
	cl_free(c->local);
	cl_free(c->effs);
	cl_free(c->order);
	cl_free(c->scratch);
	cl_free(c);
}

/* Membership. */

/* A node is back (a partition healed, or it was slow): tell it at once which of its
 * instances this node marked LOST meanwhile, so that it stops them now rather than after
 * the next push-pull (until then it would reject work for want of the room they hold). */
static void tell_lost(struct cluster *c, uint32_t ni)
{
	for (uint32_t k = 0; k < c->nlost; k++) {
		uint32_t i = c->lost[k];
		if (i == NONE || c->insts[i].node != ni)
			continue;
		c->lost[k] = NONE;
		cl_send_inst(c, i, ni);
	}
}

void cluster_node_up(struct cluster *c, const struct cluster_node *m, uint64_t now_ms)
{
	uint32_t ni;
	struct node *n;
	char *tags;
	c->now = now_ms;
	if (!m || !m->name[0] || strnlen(m->name, sizeof m->name) > CLUSTER_NAME_MAX)
		return;
	ni = cl_node_get(c, m->name);
	tags = cl_dupstr(m->tags ? m->tags : "");
	if (ni == NONE || !tags) {
		cl_free(tags);
		return;
	}
	n = &c->nodes[ni];
	cl_free(n->tags);
	n->tags = tags;
	n->cpus = m->cpus;
	n->mem = m->mem_mib;
	n->announced = true;
	c->cap_epoch++;
	if (!n->alive) {
		if (cl_grow_array((void **)&c->alive, &c->acap, c->nalive + 1, sizeof *c->alive))
			return;
		n->alive = true;
		n->alive_pos = c->nalive;
		c->alive[c->nalive++] = ni;
		tell_lost(c, ni);
		for (uint32_t ji = 0; ji < c->njobs; ji++) {
			struct job *j = &c->jobs[ji];
			uint64_t h = cl_rv(c, j, ni);
			if (cl_rv_beats(c, h, ni, j->coord_h, j->coord))
				cl_set_coord(c, ji, ni, h);
		}
	}
	cl_mark_mine_dirty(c);
}

void cluster_node_down(struct cluster *c, const char *name, uint64_t now_ms)
{
	uint32_t ni, last;
	struct node *n;
	c->now = now_ms;
	if (!name)
		return;
	ni = cl_node_find(c, name);
	if (ni == NONE || !c->nodes[ni].alive)
		return;
	n = &c->nodes[ni];
	last = c->alive[--c->nalive];
	c->alive[n->alive_pos] = last;
	c->nodes[last].alive_pos = n->alive_pos;
	n->alive = false;
	n->alive_pos = NONE;
	for (uint32_t ji = 0; ji < c->njobs; ji++)
		if (c->jobs[ji].coord == ni)
			cl_coord_full(c, ji);
	cl_mark_mine_dirty(c);
}

/* Replication input. */
static bool hdr_ok(const uint8_t *p, size_t n)
{
	return n >= CL_HDR_LEN && p[0] == CL_MAGIC0 && p[1] == CL_MAGIC1 && p[2] == CL_VERSION;
}

void cl_flush_last(struct cluster *c)
{
	cl_free(c->eff_last);
	c->eff_last = NULL;
}

int cluster_msg_in(struct cluster *c, const uint8_t *data, size_t len, uint64_t now_ms)
{
	union rec r;
	int e;
	c->now = now_ms;
	c->st.msgs_in++;
	if (!data || len > CL_MSG_MAX || !hdr_ok(data, len)) {
		c->st.msgs_bad++;
		return -EBADMSG;
	}
	r.spec.spec = &c->tmp_spec;
	if (clw_get_rec(data[3], data + CL_HDR_LEN, len - CL_HDR_LEN, &r)) {
		c->st.msgs_bad++;
		return -EBADMSG;
	}
	e = cl_apply(c, data[3], &r, data + CL_HDR_LEN, len - CL_HDR_LEN);
	return e < 0 ? e : 0;
}

/* Walk a state's records: check only (apply false), or apply them. */
static int state_walk(struct cluster *c, const uint8_t *p, size_t n, bool do_apply)
{
	uint32_t count;
	size_t at = CL_HDR_LEN + 4;
	union rec r;
	if (!hdr_ok(p, n) || p[3] != CL_STATE || n < at)
		return -EBADMSG;
	count = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	for (uint32_t k = 0; k < count; k++) {
		uint8_t type;
		size_t len;
		if (n - at < 3)
			return -EBADMSG;
		type = p[at];
		len = (size_t)p[at + 1] << 8 | p[at + 2];
		at += 3;
		if (n - at < len)
			return -EBADMSG;
		r.spec.spec = &c->tmp_spec;
		if (clw_get_rec(type, p + at, len, &r))
			return -EBADMSG;
		if (do_apply)
			cl_apply(c, type, &r, p + at, len);
		at += len;
	}
	return at == n ? 0 : -EBADMSG;
}

int cluster_state_in(struct cluster *c, const uint8_t *data, size_t len, uint64_t now_ms)
{
	c->now = now_ms;
	c->st.states_in++;
	if (!data || state_walk(c, data, len, false)) {
		c->st.states_bad++;
		return -EBADMSG;
	}
	state_walk(c, data, len, true);
	return 0;
}

static void put_ctl(const struct cluster *c, const struct job *j, struct buf *b)
{
	struct rec_ctl r;
	memcpy(r.job, j->id, sizeof r.job);
	r.count = j->ctl_count;
	r.stopped = j->stopped;
	r.ver = j->ctl_ver;
	scpy(r.writer, c->nodes[j->ctl_writer].name, sizeof r.writer);
	clw_put_ctl(b, &r);
}

static void put_node(const struct cluster *c, const struct node *n, struct buf *b)
{
	struct rec_node r;
	scpy(r.node, n->name, sizeof r.node);
	r.drain = n->drain;
	r.ver = n->drain_ver;
	scpy(r.writer, c->nodes[n->drain_writer].name, sizeof r.writer);
	clw_put_node(b, &r);
}

static void put_gone(const struct cluster *c, const struct tomb *t, bool digest, struct buf *b)
{
	struct rec_gone r;
	memcpy(r.job, t->id, sizeof r.job);
	r.age_ms = digest || c->now < t->born ? 0 : c->now - t->born;
	scpy(r.writer, c->nodes[t->writer].name, sizeof r.writer);
	clw_put_gone(b, &r);
}

/* Each replicated record once: fn(ctx, type, body) for every one (for the digest, with
 * tombstones' ages left out: they differ between replicas). */
static void each_record(const struct cluster *c, bool digest,
			void (*fn)(void *, uint8_t, const struct buf *), void *ctx)
{
	struct buf b = {0};
	for (uint32_t t = 0; t < c->ntombs; t++) {
		if (cl_tomb_expired(c, &c->tombs[t]))
			continue; /* not yet dropped: a receiver would ignore it */
		b.n = 0;
		put_gone(c, &c->tombs[t], digest, &b);
		fn(ctx, CL_REC_GONE, &b);
	}
	for (uint32_t i = 0; i < c->nnodes; i++) {
		if (!c->nodes[i].drain_ver)
			continue;
		b.n = 0;
		put_node(c, &c->nodes[i], &b);
		fn(ctx, CL_REC_NODE, &b);
	}
	for (uint32_t i = 0; i < c->njobs; i++) {
		const struct job *j = &c->jobs[i];
		if (j->gone)
			continue;
		if (j->have_spec) {
			b.n = 0;
			clw_put_raw(&b, j->spec_enc, j->spec_len);
			fn(ctx, CL_REC_SPEC, &b);
		}
		if (j->ctl_ver || j->stopped) {
			b.n = 0;
			put_ctl(c, j, &b);
			fn(ctx, CL_REC_CTL, &b);
		}
	}
	for (uint32_t i = 0; i < c->ninsts; i++) {
		struct rec_inst r;
		if (c->jobs[c->insts[i].job].gone || c->insts[i].state == CL_DEAD)
			continue;
		b.n = 0;
		cl_rec_from_inst(c, &c->insts[i], &r);
		clw_put_inst(&b, &r);
		fn(ctx, CL_REC_INST, &b);
	}
	clw_buf_free(&b);
}

struct state_ctx {
	struct buf out;
	uint32_t n;
	uint64_t digest;
};

static void state_rec(void *ctx, uint8_t type, const struct buf *b)
{
	struct state_ctx *s = ctx;
	size_t at;
	if (b->err) {
		s->out.err = true;
		return;
	}
	at = clw_frame_begin(&s->out, type);
	clw_put_raw(&s->out, b->p, b->n);
	clw_frame_end(&s->out, at);
	s->n++;
}

uint8_t *cluster_state(struct cluster *c, size_t *len)
{
	struct state_ctx s = {{0}, 0, 0};
	clw_put_hdr(&s.out, CL_STATE);
	clw_put32(&s.out, 0);
	each_record(c, false, state_rec, &s);
	if (s.out.err) {
		clw_buf_free(&s.out);
		return NULL;
	}
	s.out.p[4] = (uint8_t)(s.n >> 24);
	s.out.p[5] = (uint8_t)(s.n >> 16);
	s.out.p[6] = (uint8_t)(s.n >> 8);
	s.out.p[7] = (uint8_t)s.n;
	*len = s.out.n;
	return s.out.p;
}

static void digest_rec(void *ctx, uint8_t type, const struct buf *b)
{
	struct state_ctx *s = ctx;
	if (!b->err)
		s->digest += cl_mix(cl_hash(b->p, b->n) ^ type);
}

uint64_t cluster_digest(const struct cluster *c)
{
	struct state_ctx s = {{0}, 0, 0};
	each_record(c, true, digest_rec, &s);
	return s.digest;
}

void cluster_coordinate_all(struct cluster *c, bool on)
{
	c->coord_all = on;
	for (uint32_t ji = 0; ji < c->njobs; ji++)
		cl_coord_full(c, ji);
}

size_t cluster_inst_total(const struct cluster *c) { return c->ninsts; }

/* Commands. */
bool cl_job_live(const struct cluster *c, uint32_t ji)
{
	enum cluster_job_state s = cl_job_state(c, ji, NULL);
	return s == CLUSTER_JOB_PENDING || s == CLUSTER_JOB_RUNNING;
}

int cluster_submit(struct cluster *c, const struct cluster_job_spec *spec, const char *who,
		   char id_out[CLUSTER_JOB_ID_LEN + 1], const char **why, uint64_t now_ms)
{
	const char *bad;
	struct rec_spec r;
	struct buf b = {0};
	char id[CLUSTER_JOB_ID_LEN + 1];
	static const char hex[] = "0123456789abcdef";
	const char *dummy;
	int e;
	if (!why)
		why = &dummy;
	*why = NULL;
	cl_flush_last(c);
	c->now = now_ms;
	if (!spec) {
		*why = "no spec";
		return -EINVAL;
	}
	bad = clw_check_spec(spec);
	if (!bad && who && strlen(who) > CLUSTER_IDENTITY_MAX)
		bad = "identity too long";
	if (bad) {
		*why = bad;
		return -EINVAL;
	}
	if (spec->name[0]) {
		for (uint32_t ji = 0; ji < c->njobs; ji++) {
			const struct job *j = &c->jobs[ji];
			if (j->have_spec && !j->gone && j->name && !strcmp(j->name, spec->name) &&
			    cl_job_live(c, ji)) {
				*why = "name taken by a live job";
				return -EEXIST;
			}
		}
	}
	do {
		uint64_t v = cl_mix(c->rng += 0x9e3779b97f4a7c15ull);
		id[0] = 'j';
		for (int k = 1; k < CLUSTER_JOB_ID_LEN; k++, v >>= 4)
			id[k] = hex[v & 15];
		id[CLUSTER_JOB_ID_LEN] = 0;
	} while (cl_job_find(c, id) != NONE || cl_is_gone(c, id));
	memcpy(r.job, id, sizeof r.job);
	r.submitted_ms = now_ms;
	scpy(r.by, who ? who : "", sizeof r.by);
	scpy(r.on, c->nodes[c->self].name, sizeof r.on);
	r.spec = (struct cluster_job_spec *)spec;
	clw_put_hdr(&b, CL_REC_SPEC);
	clw_put_spec(&b, &r);
	if (b.err) {
		clw_buf_free(&b);
		return -ENOSPC;
	}
	if (b.n > CL_MSG_MAX) {
		clw_buf_free(&b);
		*why = "spec too large to replicate (argv, env and constraints over 1 KiB)";
		return -EINVAL;
	}
	e = cl_apply_spec(c, &r, b.p + CL_HDR_LEN, b.n - CL_HDR_LEN);
	if (e < 0) {
		clw_buf_free(&b);
		*why = "out of memory";
		return -ENOSPC;
	}
	/* Broadcast, and sent straight to the coordinator, which should not wait for the
	 * epidemic to bring it (a gossip round or more: submit-to-running). */
	uint32_t ji = cl_job_find(c, id), to = ji == NONE ? NONE : c->jobs[ji].coord;
	cl_emit(c, &b, cl_rec_key(CL_REC_SPEC, id, 0, 0, NULL), to == c->self ? NONE : to);
	clw_buf_free(&b);
	memcpy(id_out, id, sizeof id);
	return 0;
}

static int write_ctl(struct cluster *c, uint32_t ji, uint32_t count, bool stopped)
{
	struct rec_ctl r;
	struct buf b = {0};
	struct job *j = &c->jobs[ji];
	memcpy(r.job, j->id, sizeof r.job);
	r.count = count;
	r.stopped = stopped || j->stopped;
	r.ver = j->ctl_ver + 1;
	scpy(r.writer, c->nodes[c->self].name, sizeof r.writer);
	if (cl_apply_ctl(c, &r) < 0)
		return -ENOMEM;
	clw_put_hdr(&b, CL_REC_CTL);
	put_ctl(c, &c->jobs[ji], &b);
	cl_emit(c, &b, cl_rec_key(CL_REC_CTL, r.job, 0, 0, NULL), NONE);
	clw_buf_free(&b);
	return 0;
}

int cluster_stop(struct cluster *c, const char *job, const char *who, uint64_t now_ms)
{
	uint32_t ji;
	cl_flush_last(c);
	c->now = now_ms;
	ji = job ? cl_job_by_ref(c, job) : NONE;
	if (ji == NONE)
		return -ENOENT;
	if (c->jobs[ji].stopped)
		return -EALREADY;
	return write_ctl(c, ji, cl_job_count_now(&c->jobs[ji]), true);
}

int cluster_scale(struct cluster *c, const char *job, uint32_t count, const char *who,
		  uint64_t now_ms)
{
	uint32_t ji;
	cl_flush_last(c);
	c->now = now_ms;
	ji = job ? cl_job_by_ref(c, job) : NONE;
	if (ji == NONE)
		return -ENOENT;
	if (count < 1 || count > CLUSTER_COUNT_MAX || c->jobs[ji].stopped)
		return -EINVAL;
	if (count == cl_job_count_now(&c->jobs[ji]))
		return -EALREADY;
	return write_ctl(c, ji, count, false);
}

int cluster_drain(struct cluster *c, const char *node, bool on, const char *who, uint64_t now_ms)
{
	uint32_t ni;
	struct rec_node r;
	struct buf b = {0};
	cl_flush_last(c);
	c->now = now_ms;
	ni = node ? cl_node_find(c, node) : NONE;
	if (ni == NONE || !c->nodes[ni].announced)
		return -ENOENT;
	if (c->nodes[ni].drain == on)
		return -EALREADY;
	scpy(r.node, node, sizeof r.node);
	r.drain = on;
	r.ver = c->nodes[ni].drain_ver + 1;
	scpy(r.writer, c->nodes[c->self].name, sizeof r.writer);
	if (cl_apply_node(c, &r) < 0)
		return -ENOMEM;
	clw_put_hdr(&b, CL_REC_NODE);
	put_node(c, &c->nodes[ni], &b);
	cl_emit(c, &b, cl_rec_key(CL_REC_NODE, node, 0, 0, NULL), NONE);
	clw_buf_free(&b);
	return 0;
}

/* Reports from this node's tasks. */
static uint32_t inst_of(const struct cluster *c, const struct cluster_inst *in)
{
	uint32_t ji, ni;
	if (!in)
		return NONE;
	ji = cl_job_find(c, in->job);
	ni = cl_node_find(c, in->node);
	if (ji == NONE || ni == NONE || ni != c->self)
		return NONE;
	return cl_inst_find(c, ji, in->slot, in->attempt, ni);
}

/* An instance's start or end, reported here, also goes straight to the node its job was
 * submitted on (besides the broadcast and the coordinator's copy): that is where a
 * `submit --wait` or a user reading `status` is most likely waiting for it. */
static void tell_origin(struct cluster *c, uint32_t i)
{
	uint32_t o = c->jobs[c->insts[i].job].origin;
	if (o != NONE && o != c->self && o != c->jobs[c->insts[i].job].coord && c->nodes[o].alive)
		cl_send_inst(c, i, o);
}

void cluster_inst_started(struct cluster *c, const struct cluster_inst *inst, uint64_t now_ms)
{
	uint32_t i;
	int k;
	cl_flush_last(c);
	c->now = now_ms;
	i = inst_of(c, inst);
	if (i == NONE || (k = cl_local_find(c, i)) < 0)
		return;
	c->local[k].started = true;
	if (c->jobs[c->insts[i].job].gone) { /* collected meanwhile */
		c->local[k].killing = true;
		cl_push_eff(c, CLUSTER_EFFECT_KILL, 0, NONE, i, NULL);
		return;
	}
	if (c->insts[i].state == CLUSTER_ASSIGNED) {
		cl_write_inst(c, i, CLUSTER_RUNNING, 0, 0, NULL, 0, c->jobs[c->insts[i].job].coord);
		tell_origin(c, i);
	}
	k = cl_local_find(c, i);
	if (k >= 0 && (c->insts[i].flags & CL_F_STOP || !active(c->insts[i].state)) &&
	    !c->local[k].killing) {
		c->local[k].killing = true;
		cl_push_eff(c, CLUSTER_EFFECT_KILL, 0, NONE, i, NULL);
	}
}

void cluster_inst_ended(struct cluster *c, const struct cluster_inst *inst,
			enum cluster_inst_state state, int status, const char *tail,
			size_t tail_len, uint64_t now_ms)
{
	uint32_t i;
	int k;
	uint8_t st;
	cl_flush_last(c);
	c->now = now_ms;
	i = inst_of(c, inst);
	if (i == NONE)
		return;
	k = cl_local_find(c, i);
	if (k >= 0)
		cl_local_drop(c, k);
	if (c->jobs[c->insts[i].job].gone)
		return; /* collected: nothing more is recorded about it */
	if (tail_len > CLUSTER_TAIL_MAX) {
		tail += tail_len - CLUSTER_TAIL_MAX;
		tail_len = CLUSTER_TAIL_MAX;
	}
	if (!tail)
		tail_len = 0;
	st = state == CLUSTER_FAILED ? CLUSTER_FAILED : CLUSTER_EXITED;
	if (c->insts[i].flags & CL_F_STOP)
		st = CLUSTER_STOPPED;
	cl_write_inst(c, i, st, 0, status, tail, (uint16_t)tail_len,
		      c->jobs[c->insts[i].job].coord);
	tell_origin(c, i);
}
