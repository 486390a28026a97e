/* cluster_sim.c: many nodes, each running the real sched/cluster core, in one process.
 *
 * The simulator stands in for everything around the core: membership (a crashed node is
 * seen down by each member after a detection delay, a restarted one up after a join
 * delay, and a partition makes each side see the other down), replication (a broadcast
 * reaches each member on the sender's side after a random delay unless lost; a send
 * reaches its one member the same way; every member exchanges its whole state with a
 * random peer every push-pull interval, and with the other side right after a heal) and
 * the tasks (a START runs a task for a random while, a KILL ends it). Time is simulated
 * (tests/sim/queue.c orders the events), so a run is a pure function of its seed.
 *
 * A run has a fault phase (jobs submitted, node crashes and restarts, one partition that
 * heals, services exiting now and then) and a settle phase (no more faults); while some
 * replica's table still differs, it runs on in 30 s steps (push-pull repairing what loss
 * dropped; up to --converge-max-s, the time taken printed as converge_extra_s); then checks:
 *   every service has exactly its count of instances running (the table says so and the
 *   simulated tasks agree), every batch job completed or failed with each slot counted
 *   once, no node ever started an instance beyond its cpus or memory, and every
 *   replica's table is the same (cluster_digest).
 * It prints key=value lines (figures and verdicts); the exit status is 0 when the run
 * itself worked (the verdicts are for tests/sim/cluster.sh to judge). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sched/cluster/cluster.h"
#include "sched/cluster/internal.h"
#include "tests/sim/queue.h"

enum {
	E_TICK = 100, /* node's timers */
	E_MSG,	      /* a broadcast reaches node (data) or a send (peer == 1) */
	E_MEMBER,     /* node re-checks whether it sees member `peer` */
	E_PUSHPULL,   /* node exchanges states with a random peer (or with `peer` + 1) */
	E_STARTED,    /* node's task `peer` has started */
	E_EXIT,	      /* node's task `peer` exits by itself */
	E_KILLED,     /* node's task `peer` was killed */
	E_CRASH,      /* node crashes */
	E_RESTART,    /* node boots again */
	E_SUBMIT,     /* node takes job number `peer` */
	E_PARTITION,
	E_HEAL,
	E_PHASE_END, /* faults stop */
	E_OBSERVE,   /* note the outcome of batch jobs that ended (before they are collected) */
};

#define OBSERVE_MS 5000 /* at most; a quarter of the ended-job minimum age when that is less */

struct task {
	bool used, started;
	struct cluster_inst inst;
	uint16_t cpu;
	uint32_t mem;
	uint32_t gen;
};

struct node {
	struct cluster *c;
	char name[16];
	char tags[48];
	uint16_t cpus;
	uint32_t mem;
	bool up;
	uint32_t epoch;
	int side;
	struct task *tasks;
	uint32_t ntasks, tcap;
	uint32_t cpu_used, mem_used;
};

struct sjob {
	char id[CLUSTER_JOB_ID_LEN + 1];
	struct cluster_job_spec spec;
	uint64_t submit_at;
	uint32_t *ok_exits; /* per slot: successful exits seen (ground truth) */
	bool observed;	    /* its ended state, as some replica showed it before collection */
	struct cluster_job seen;
};

static struct {
	uint32_t nodes, jobs, crashes;
	uint64_t seed, fault_ms, settle_ms, pp_ms, detect_ms, join_ms, tick_ms, converge_max_ms;
	double loss, part_frac;
	bool partition;
	uint32_t ended_keep;   /* cluster_config.ended_jobs_keep */
	uint64_t ended_min_ms; /* cluster_config.ended_min_keep_ms */
} o = {200,
       2000,
       10,
       1,
       300000,
       120000,
       20000,
       2000,
       500,
       250,
       600000,
       0.01,
       0.5,
       true,
       CLUSTER_ENDED_JOBS_KEEP,
       CLUSTER_ENDED_MIN_KEEP_MS};

static struct node *nodes;
static struct sjob *jobs;
static struct queue q;
static uint64_t now, rng;
static uint8_t *view; /* view[y * n + x]: y sees x alive */
static bool faults = true;
static uint64_t overcommits, events, starts, kills, msgs, pushpulls, state_bytes, bad_in;
static uint64_t lat_n, *lat;
static struct cluster_stats total;
static uint32_t *jobmap, jobmap_size;
static uint64_t observe_ms;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static uint64_t rndn(uint64_t n) { return n ? rnd() % n : 0; }
static bool chance(double p) { return (double)(rnd() >> 11) / (double)(1ull << 53) < p; }

static void push_from(uint64_t at, uint8_t kind, uint32_t node, uint32_t peer, uint8_t *data,
		      uint32_t len, uint32_t sender)
{
	struct ev e;
	memset(&e, 0, sizeof e);
	e.at = at;
	e.kind = kind;
	e.node = node;
	e.epoch = nodes[node].epoch;
	e.peer = peer;
	e.peer_epoch = sender;
	e.data = data;
	e.len = len;
	if (queue_push(&q, &e)) {
		fprintf(stderr, "cluster_sim: out of memory\n");
		exit(2);
	}
}

static void push(uint64_t at, uint8_t kind, uint32_t node, uint32_t peer, uint8_t *data,
		 uint32_t len)
{
	push_from(at, kind, node, peer, data, len, node);
}

static uint32_t job_index(const char *id)
{
	uint64_t h = cl_hash(id, CLUSTER_JOB_ID_LEN);
	for (uint32_t k = h & (jobmap_size - 1);; k = (k + 1) & (jobmap_size - 1)) {
		if (jobmap[k] == UINT32_MAX)
			return UINT32_MAX;
		if (!strcmp(jobs[jobmap[k]].id, id))
			return jobmap[k];
	}
}

static void job_index_add(uint32_t j)
{
	uint64_t h = cl_hash(jobs[j].id, CLUSTER_JOB_ID_LEN);
	uint32_t k = h & (jobmap_size - 1);
	while (jobmap[k] != UINT32_MAX)
		k = (k + 1) & (jobmap_size - 1);
	jobmap[k] = j;
}

static void announce(uint32_t y, uint32_t x)
{
	struct cluster_node m;
	memset(&m, 0, sizeof m);
	memcpy(m.name, nodes[x].name, sizeof nodes[x].name);
	m.tags = nodes[x].tags;
	m.cpus = nodes[x].cpus;
	m.mem_mib = nodes[x].mem;
	cluster_node_up(nodes[y].c, &m, now);
}

static bool visible(uint32_t y, uint32_t x)
{
	return nodes[x].up && nodes[y].up && nodes[x].side == nodes[y].side;
}

static void add_stats(const struct cluster_stats *s)
{
	total.placements += s->placements;
	total.rejections += s->rejections;
	total.lost += s->lost;
	total.restarts += s->restarts;
	total.retries += s->retries;
	total.duplicates_stopped += s->duplicates_stopped;
	total.msgs_bad += s->msgs_bad;
	total.states_bad += s->states_bad;
	total.jobs_collected += s->jobs_collected;
	total.tombstones_written += s->tombstones_written;
	total.gone_ignored += s->gone_ignored;
}

static void task_end(uint32_t n, uint32_t t, enum cluster_inst_state st, int status)
{
	struct node *nd = &nodes[n];
	struct task *k = &nd->tasks[t];
	uint32_t ji;
	if (!k->used)
		return;
	k->used = false;
	nd->cpu_used -= k->cpu;
	nd->mem_used -= k->mem;
	if (st == CLUSTER_EXITED && status == 0 && (ji = job_index(k->inst.job)) != UINT32_MAX &&
	    jobs[ji].spec.kind == CLUSTER_BATCH)
		jobs[ji].ok_exits[k->inst.slot]++;
	/* output kept only for failures (memory: every replica holds every tail) */
	cluster_inst_ended(nd->c, &k->inst, st, status, status ? "error: failed\n" : NULL,
			   status ? 14 : 0, now);
}

static void drain(uint32_t n)
{
	struct cluster_effect e;
	struct node *nd = &nodes[n];
	while (nd->up && cluster_next_effect(nd->c, &e)) {
		if (e.kind == CLUSTER_EFFECT_BROADCAST || e.kind == CLUSTER_EFFECT_SEND) {
			uint8_t *d = malloc(e.len);
			memcpy(d, e.data, e.len);
			msgs++;
			if (e.kind == CLUSTER_EFFECT_BROADCAST) {
				push(now + 20 + rndn(180), E_MSG, n, 0, d, (uint32_t)e.len);
			} else {
				uint32_t to = (uint32_t)atoi(e.node + 1);
				push_from(now + 5 + rndn(20), E_MSG, to, 1, d, (uint32_t)e.len, n);
			}
		} else if (e.kind == CLUSTER_EFFECT_START) {
			uint32_t t;
			struct task *k;
			uint16_t cpu = e.job->spec.cpu;
			uint32_t mem = e.job->spec.mem_mib;
			starts++;
			if (nd->cpu_used + cpu > nd->cpus || nd->mem_used + mem > nd->mem)
				overcommits++;
			for (t = 0; t < nd->ntasks && nd->tasks[t].used; t++)
				;
			if (t == nd->ntasks) {
				if (nd->ntasks == nd->tcap) {
					nd->tcap = nd->tcap ? nd->tcap * 2 : 16;
					nd->tasks =
						realloc(nd->tasks, nd->tcap * sizeof *nd->tasks);
				}
				nd->ntasks++;
			}
			k = &nd->tasks[t];
			memset(k, 0, sizeof *k);
			k->used = true;
			k->inst = e.inst;
			k->cpu = cpu;
			k->mem = mem;
			k->gen = (uint32_t)rnd();
			nd->cpu_used += cpu;
			nd->mem_used += mem;
			push(now + 10 + rndn(40), E_STARTED, n, t, NULL, k->gen);
		} else if (e.kind == CLUSTER_EFFECT_KILL) {
			for (uint32_t t = 0; t < nd->ntasks; t++) {
				struct task *k = &nd->tasks[t];
				if (k->used && !strcmp(k->inst.job, e.inst.job) &&
				    k->inst.slot == e.inst.slot &&
				    k->inst.attempt == e.inst.attempt) {
					kills++;
					push(now + 5 + rndn(20), E_KILLED, n, t, NULL, k->gen);
				}
			}
		}
	}
}

static void boot(uint32_t n)
{
	struct cluster_config cfg;
	uint8_t seed[32];
	struct node *nd = &nodes[n];
	cluster_config_default(&cfg);
	cfg.tick_ms = (uint32_t)o.tick_ms;
	cfg.ended_jobs_keep = o.ended_keep;
	cfg.ended_min_keep_ms = (uint32_t)o.ended_min_ms;
	for (int k = 0; k < 32; k++)
		seed[k] = (uint8_t)rnd();
	nd->epoch++;
	nd->c = cluster_new(&cfg, nd->name, seed, now);
	nd->up = true;
	nd->ntasks = 0;
	nd->cpu_used = nd->mem_used = 0;
	/* it joins: sees the members of its side at once, they see it after a while */
	announce(n, n);
	view[(size_t)n * o.nodes + n] = 1;
	for (uint32_t x = 0; x < o.nodes; x++) {
		if (x == n)
			continue;
		view[(size_t)n * o.nodes + x] = 0;
		if (visible(n, x)) {
			announce(n, x);
			view[(size_t)n * o.nodes + x] = 1;
		}
	}
	push(now + rndn(o.tick_ms), E_TICK, n, 0, NULL, 0);
	push(now + rndn(o.pp_ms), E_PUSHPULL, n, 0, NULL, 0);
}

static void pushpull(uint32_t a, uint32_t b)
{
	size_t la, lb;
	uint8_t *sa, *sb;
	if (!visible(a, b) || a == b)
		return;
	sa = cluster_state(nodes[a].c, &la);
	sb = cluster_state(nodes[b].c, &lb);
	pushpulls++;
	if (sa) {
		state_bytes += la;
		if (cluster_state_in(nodes[b].c, sa, la, now))
			bad_in++;
	}
	if (sb) {
		state_bytes += lb;
		if (cluster_state_in(nodes[a].c, sb, lb, now))
			bad_in++;
	}
	free(sa);
	free(sb);
	drain(a);
	drain(b);
}

static void member_check_all(uint32_t x, uint64_t delay)
{
	for (uint32_t y = 0; y < o.nodes; y++)
		if (y != x && nodes[y].up)
			push(now + delay + rndn(1000), E_MEMBER, y, x, NULL, 0);
}

static void make_job(uint32_t j)
{
	struct cluster_job_spec *s = &jobs[j].spec;
	memset(s, 0, sizeof *s);
	s->kind = chance(0.6) ? CLUSTER_BATCH : CLUSTER_SERVICE;
	s->count = (uint32_t)(1 + rndn(chance(0.1) ? 8 : 3));
	s->cpu = (uint16_t)(1 + (chance(0.2) ? 1 : 0));
	s->mem_mib = (uint32_t)(64 << rndn(4));
	s->max_retries = 3;
	s->score = chance(0.2) ? CLUSTER_BINPACK : CLUSTER_SPREAD;
	s->distinct = chance(0.2);
	if (chance(0.2)) {
		s->nconstraints = 1;
		snprintf(s->constraints[0], sizeof s->constraints[0], "zone=z%d", (int)rndn(4));
	}
	snprintf(s->program, sizeof s->program, "/bin/%s",
		 s->kind == CLUSTER_BATCH ? "hello" : "echo-server");
	memcpy(s->argv, "prog\0arg", 9);
	s->argv_len = 9;
	jobs[j].ok_exits = calloc(s->count + 1, sizeof(uint32_t));
}

/* Batch jobs are collected once ended: note each one's outcome while some replica still
 * shows it, so that the checks cover collected jobs too. Asked, on each side of a
 * partition: one replica holding the job, and the replica of the job's coordinator in its
 * view (the one that collects it, so the one sure to see it ended first). */
static bool observe_at(struct sjob *j, uint32_t n, struct cluster_job *v)
{
	if (n >= o.nodes || !nodes[n].up || !cluster_job_find(nodes[n].c, j->id, v))
		return false;
	if (v->state == CLUSTER_JOB_COMPLETE || v->state == CLUSTER_JOB_FAILED) {
		j->observed = true;
		j->seen = *v;
	}
	return true;
}

static void observe(void)
{
	struct cluster_job v;
	for (uint32_t ji = 0; ji < o.jobs; ji++) {
		struct sjob *j = &jobs[ji];
		if (j->observed || !j->id[0] || j->spec.kind != CLUSTER_BATCH)
			continue;
		for (int side = 0; side < 2 && !j->observed; side++) {
			for (uint32_t k = 0; k < o.nodes; k++) {
				uint32_t n = (ji + k) % o.nodes;
				if (nodes[n].side != side || !observe_at(j, n, &v))
					continue;
				if (!j->observed && v.coordinator[0])
					observe_at(j, (uint32_t)atoi(v.coordinator + 1), &v);
				break;
			}
		}
	}
}

static void run_event(const struct ev *e)
{
	struct node *nd = &nodes[e->node];
	uint32_t n = e->node;
	events++;
	switch (e->kind) {
	case E_TICK:
		if (!nd->up || e->epoch != nd->epoch)
			return;
		cluster_tick(nd->c, now);
		drain(n);
		push(now + o.tick_ms, E_TICK, n, 0, NULL, 0);
		return;
	case E_MSG:
		if (e->peer == 1) { /* a send */
			if (nd->up && nodes[e->peer_epoch].side == nd->side && !chance(o.loss) &&
			    cluster_msg_in(nd->c, e->data, e->len, now))
				bad_in++;
			drain(n);
			return;
		}
		for (uint32_t y = 0; y < o.nodes; y++) {
			if (y == n || !nodes[y].up || nodes[y].side != nd->side || chance(o.loss))
				continue;
			if (cluster_msg_in(nodes[y].c, e->data, e->len, now))
				bad_in++;
			drain(y);
		}
		return;
	case E_MEMBER: {
		uint32_t x = e->peer;
		uint8_t *v = &view[(size_t)n * o.nodes + x];
		bool vis = visible(n, x);
		if (!nd->up || e->epoch != nd->epoch)
			return;
		if (vis)
			announce(n, x); /* also a restart's new incarnation: metadata again */
		else if (*v)
			cluster_node_down(nd->c, nodes[x].name, now);
		*v = vis;
		drain(n);
		return;
	}
	case E_PUSHPULL:
		if (!nd->up || e->epoch != nd->epoch)
			return;
		if (e->peer)
			pushpull(n, e->peer - 1);
		else
			pushpull(n, (uint32_t)rndn(o.nodes));
		if (!e->peer)
			push(now + o.pp_ms, E_PUSHPULL, n, 0, NULL, 0);
		return;
	case E_STARTED:
	case E_EXIT:
	case E_KILLED: {
		struct task *k;
		uint32_t ji;
		if (!nd->up || e->epoch != nd->epoch || e->peer >= nd->ntasks)
			return;
		k = &nd->tasks[e->peer];
		if (!k->used || k->gen != e->len)
			return;
		if (e->kind == E_KILLED) {
			task_end(n, e->peer, CLUSTER_EXITED, 137);
		} else if (e->kind == E_STARTED) {
			k->started = true;
			cluster_inst_started(nd->c, &k->inst, now);
			ji = job_index(k->inst.job);
			if (ji != UINT32_MAX && k->inst.attempt == 0 && k->inst.slot == 0 &&
			    lat_n < o.jobs)
				lat[lat_n++] = now - jobs[ji].submit_at;
			if (ji != UINT32_MAX && jobs[ji].spec.kind == CLUSTER_BATCH)
				push(now + 1000 + rndn(30000), E_EXIT, n, e->peer, NULL, k->gen);
			else if (faults && chance(0.3))
				push(now + 10000 + rndn(o.fault_ms), E_EXIT, n, e->peer, NULL,
				     k->gen);
		} else {
			ji = job_index(k->inst.job);
			if (ji != UINT32_MAX && jobs[ji].spec.kind == CLUSTER_SERVICE && !faults)
				return; /* services stop exiting once the faults are over */
			task_end(n, e->peer, CLUSTER_EXITED, chance(0.1) ? 1 : 0);
		}
		drain(n);
		return;
	}
	case E_CRASH:
		if (!nd->up)
			return;
		add_stats(cluster_stats(nd->c));
		cluster_free(nd->c);
		nd->c = NULL;
		nd->up = false;
		nd->epoch++;
		member_check_all(n, o.detect_ms);
		push(now + 5000 + rndn(30000), E_RESTART, n, 0, NULL, 0);
		return;
	case E_RESTART:
		boot(n);
		member_check_all(n, o.join_ms);
		push(now + 100, E_PUSHPULL, n, (uint32_t)rndn(o.nodes) + 1, NULL, 0);
		drain(n);
		return;
	case E_SUBMIT: {
		const char *why = NULL;
		struct sjob *j = &jobs[e->peer];
		int r;
		if (!nd->up) { /* try another node */
			push(now + 100, E_SUBMIT, (uint32_t)rndn(o.nodes), e->peer, NULL, 0);
			return;
		}
		r = cluster_submit(nd->c, &j->spec, "sim", j->id, &why, now);
		if (r) {
			fprintf(stderr, "submit: %d %s\n", r, why ? why : "");
			exit(2);
		}
		j->submit_at = now;
		job_index_add(e->peer);
		drain(n);
		return;
	}
	case E_PARTITION:
		for (uint32_t x = 0; x < o.nodes; x++)
			nodes[x].side = chance(o.part_frac);
		for (uint32_t x = 0; x < o.nodes; x++)
			member_check_all(x, o.detect_ms);
		return;
	case E_HEAL:
		for (uint32_t x = 0; x < o.nodes; x++)
			nodes[x].side = 0;
		for (uint32_t x = 0; x < o.nodes; x++) {
			member_check_all(x, o.join_ms);
			if (nodes[x].up)
				push(now + o.join_ms + rndn(2000), E_PUSHPULL, x,
				     (uint32_t)rndn(o.nodes) + 1, NULL, 0);
		}
		return;
	case E_PHASE_END:
		faults = false;
		return;
	case E_OBSERVE:
		observe();
		push(now + observe_ms, E_OBSERVE, 0, 0, NULL, 0);
		return;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void run_until(uint64_t t)
{
	struct ev e;
	while (queue_next(&q) <= t && queue_pop(&q, &e)) {
		now = e.at;
		run_event(&e);
		free(e.data);
	}
	now = t;
}

/* How many live replicas' tables differ from the first's. */
static uint32_t differing(void)
{
	uint32_t ref = UINT32_MAX, n_differ = 0;
	uint64_t d0 = 0;
	for (uint32_t n = 0; n < o.nodes; n++) {
		uint64_t d;
		if (!nodes[n].up)
			continue;
		d = cluster_digest(nodes[n].c);
		if (ref == UINT32_MAX) {
			ref = n;
			d0 = d;
		} else if (d != d0) {
			n_differ++;
		}
	}
	return n_differ;
}

static void check(void)
{
	uint32_t ref = UINT32_MAX, digests_differ = 0, svc_bad = 0, batch_bad = 0, pending = 0;
	uint32_t svc = 0, batch = 0, batch_failed = 0, dup_completions = 0, up = 0;
	uint32_t collected_checked = 0, tombs = 0;
	uint64_t d0 = 0, insts = 0;
	struct cluster_inst *in = malloc(64 * sizeof *in);
	for (uint32_t n = 0; n < o.nodes; n++) {
		uint64_t d;
		if (!nodes[n].up)
			continue;
		up++;
		d = cluster_digest(nodes[n].c);
		if (ref == UINT32_MAX) {
			ref = n;
			d0 = d;
			insts = cluster_inst_total(nodes[n].c);
			tombs = (uint32_t)cluster_stats(nodes[n].c)->tombstones;
		} else if (d != d0) {
			digests_differ++;
		}
	}
	for (uint32_t ji = 0; ji < o.jobs; ji++) {
		struct sjob *j = &jobs[ji];
		struct cluster_job v;
		uint32_t running = 0;
		if (!cluster_job_find(nodes[ref].c, j->id, &v)) {
			if (!j->observed || !j->id[0]) {
				if (pending < 5)
					fprintf(stderr,
						"job %s (%s): not in the table, never seen ended\n",
						j->id,
						j->spec.kind == CLUSTER_BATCH ? "batch"
									      : "service");
				pending++;
				continue;
			}
			v = j->seen; /* collected: its outcome as observed */
			collected_checked++;
		}
		if (j->spec.kind == CLUSTER_SERVICE) {
			size_t ni = cluster_job_insts(nodes[ref].c, j->id, false, in, 64);
			svc++;
			for (uint32_t n = 0; n < o.nodes; n++)
				for (uint32_t t = 0; nodes[n].up && t < nodes[n].ntasks; t++)
					if (nodes[n].tasks[t].used &&
					    !strcmp(nodes[n].tasks[t].inst.job, j->id))
						running++;
			for (size_t k = 0; k < ni && k < 64; k++)
				if (in[k].state != CLUSTER_RUNNING)
					running = UINT32_MAX;
			if (v.running != v.count || running != v.count ||
			    v.state != CLUSTER_JOB_RUNNING) {
				if (svc_bad < 2 && getenv("SIM_DEBUG")) {
					struct cluster_inst all[64];
					size_t na = cluster_job_insts(nodes[ref].c, j->id, true,
								      all, 64);
					for (size_t k = 0; k < na && k < 64; k++)
						fprintf(stderr,
							"  %u#%u %s %s stop=%d dup=%d st=%d\n",
							all[k].slot, all[k].attempt, all[k].node,
							cluster_inst_state_name(all[k].state),
							all[k].stop_requested, all[k].duplicate,
							all[k].status);
				}
				if (svc_bad < 5)
					fprintf(stderr,
						"service %s: table %u/%u running, %u tasks, %s\n",
						j->id, v.running, v.count, running,
						cluster_job_state_name(v.state));
				svc_bad++;
			}
		} else {
			batch++;
			if (v.state == CLUSTER_JOB_FAILED)
				batch_failed++;
			if ((v.state != CLUSTER_JOB_COMPLETE && v.state != CLUSTER_JOB_FAILED) ||
			    v.completed + v.failed != v.count) {
				if (batch_bad < 5)
					fprintf(stderr,
						"batch %s: %s, %u completed %u failed of %u\n",
						j->id, cluster_job_state_name(v.state), v.completed,
						v.failed, v.count);
				batch_bad++;
			}
			for (uint32_t s = 0; s < v.count; s++) {
				if (j->ok_exits[s] > 1)
					dup_completions += j->ok_exits[s] - 1;
				if (v.state == CLUSTER_JOB_COMPLETE && !j->ok_exits[s])
					batch_bad++; /* reported complete, never ran to 0 */
			}
		}
	}
	free(in);
	printf("nodes_up=%u\n", up);
	printf("instances_in_table=%llu\n", (unsigned long long)insts);
	printf("services=%u\nservices_bad=%u\n", svc, svc_bad);
	printf("batch=%u\nbatch_failed=%u\nbatch_bad=%u\n", batch, batch_failed, batch_bad);
	printf("jobs_unknown=%u\n", pending);
	printf("jobs_in_table=%zu\ntombstones=%u\nbatch_collected_checked=%u\n",
	       cluster_job_count(nodes[ref].c), tombs, collected_checked);
	printf("duplicate_completions=%u\n", dup_completions);
	printf("overcommits=%llu\n", (unsigned long long)overcommits);
	printf("digests_differ=%u\n", digests_differ);
	printf("ok=%d\n", !svc_bad && !batch_bad && !pending && !overcommits && !digests_differ);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: cluster_sim [--nodes N] [--jobs J] [--seed S] [--crashes K]\n"
		"  [--fault-s S] [--settle-s S] [--pushpull-s S] [--loss P] [--no-partition]\n"
		"  [--detect-ms MS] [--tick-ms MS] [--converge-max-s S] [--partition-frac F]\n"
		"  [--ended-keep N] [--ended-min-s S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct ev e;
	struct timespec t0, t1;
	uint64_t extra_ms = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--no-partition")) {
			o.partition = false;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--nodes"))
			o.nodes = (uint32_t)atoi(v);
		else if (!strcmp(a, "--jobs"))
			o.jobs = (uint32_t)atoi(v);
		else if (!strcmp(a, "--seed"))
			o.seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--crashes"))
			o.crashes = (uint32_t)atoi(v);
		else if (!strcmp(a, "--fault-s"))
			o.fault_ms = strtoull(v, NULL, 0) * 1000;
		else if (!strcmp(a, "--settle-s"))
			o.settle_ms = strtoull(v, NULL, 0) * 1000;
		else if (!strcmp(a, "--pushpull-s"))
			o.pp_ms = strtoull(v, NULL, 0) * 1000;
		else if (!strcmp(a, "--partition-frac"))
			o.part_frac = atof(v);
		else if (!strcmp(a, "--loss"))
			o.loss = atof(v);
		else if (!strcmp(a, "--detect-ms"))
			o.detect_ms = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--converge-max-s"))
			o.converge_max_ms = strtoull(v, NULL, 0) * 1000;
		else if (!strcmp(a, "--tick-ms"))
			o.tick_ms = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--ended-keep"))
			o.ended_keep = (uint32_t)atoi(v);
		else if (!strcmp(a, "--ended-min-s"))
			o.ended_min_ms = strtoull(v, NULL, 0) * 1000;
		else
			usage();
	}
	if (o.nodes < 4 || o.nodes > 100000 || !o.jobs || !o.tick_ms || !o.pp_ms)
		usage();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rng = o.seed * 0x9e3779b97f4a7c15ull + 1;
	nodes = calloc(o.nodes, sizeof *nodes);
	jobs = calloc(o.jobs, sizeof *jobs);
	lat = calloc(o.jobs, sizeof *lat);
	view = calloc((size_t)o.nodes * o.nodes, 1);
	for (jobmap_size = 64; jobmap_size < 2 * o.jobs; jobmap_size *= 2)
		;
	jobmap = malloc(jobmap_size * sizeof *jobmap);
	memset(jobmap, 0xff, jobmap_size * sizeof *jobmap);
	for (uint32_t n = 0; n < o.nodes; n++) {
		struct node *nd = &nodes[n];
		snprintf(nd->name, sizeof nd->name, "n%u", n);
		nd->cpus = (uint16_t)(8 + 4 * rndn(7));
		nd->mem = (uint32_t)(16384 << rndn(3));
		snprintf(nd->tags, sizeof nd->tags, "zone=z%u%s", n % 4, n % 3 ? "" : ",disk=ssd");
	}
	for (uint32_t n = 0; n < o.nodes; n++)
		nodes[n].up = true; /* all there from the start: each sees all */
	for (uint32_t n = 0; n < o.nodes; n++)
		boot(n);
	/* jobs arrive over the first half of the fault phase */
	for (uint32_t j = 0; j < o.jobs; j++) {
		make_job(j);
		push(1000 + rndn(o.fault_ms / 2), E_SUBMIT, (uint32_t)rndn(o.nodes), j, NULL, 0);
	}
	for (uint32_t k = 0; k < o.crashes; k++)
		push(5000 + rndn(o.fault_ms - 5000), E_CRASH, (uint32_t)rndn(o.nodes), 0, NULL, 0);
	if (o.partition) {
		push(o.fault_ms * 2 / 3, E_PARTITION, 0, 0, NULL, 0);
		push(o.fault_ms * 2 / 3 + 20000, E_HEAL, 0, 0, NULL, 0);
	}
	push(o.fault_ms, E_PHASE_END, 0, 0, NULL, 0);
	observe_ms = o.ended_min_ms / 4 < OBSERVE_MS ? o.ended_min_ms / 4 : OBSERVE_MS;
	if (observe_ms < o.tick_ms)
		observe_ms = o.tick_ms;
	push(observe_ms, E_OBSERVE, 0, 0, NULL, 0);
	run_until(o.fault_ms + o.settle_ms);
	/* Convergence: replicas that still differ (a late update lost on the way to some)
	 * get more push-pull time, in steps, up to converge_max_ms; how much it took is a
	 * figure. */
	while (differing() && extra_ms < o.converge_max_ms) {
		extra_ms += 30000;
		run_until(o.fault_ms + o.settle_ms + extra_ms);
	}
	check();
	printf("converge_extra_s=%llu\n", (unsigned long long)(extra_ms / 1000));
	for (uint32_t n = 0; n < o.nodes; n++)
		if (nodes[n].up)
			add_stats(cluster_stats(nodes[n].c));
	qsort(lat, lat_n, sizeof *lat, cmp_u64);
	printf("events=%llu\nstarts=%llu\nkills=%llu\nmsgs=%llu\npushpulls=%llu\n",
	       (unsigned long long)events, (unsigned long long)starts, (unsigned long long)kills,
	       (unsigned long long)msgs, (unsigned long long)pushpulls);
	printf("state_bytes_mean=%llu\n",
	       (unsigned long long)(pushpulls ? state_bytes / (2 * pushpulls) : 0));
	printf("placements=%llu\nrejections=%llu\nlost=%llu\nrestarts=%llu\nretries=%llu\n"
	       "duplicates_stopped=%llu\nbad_in=%llu\njobs_collected=%llu\n"
	       "tombstones_written=%llu\ngone_ignored=%llu\n",
	       (unsigned long long)total.placements, (unsigned long long)total.rejections,
	       (unsigned long long)total.lost, (unsigned long long)total.restarts,
	       (unsigned long long)total.retries, (unsigned long long)total.duplicates_stopped,
	       (unsigned long long)bad_in, (unsigned long long)total.jobs_collected,
	       (unsigned long long)total.tombstones_written,
	       (unsigned long long)total.gone_ignored);
	printf("submit_to_running_ms_median=%llu\nsubmit_to_running_ms_p99=%llu\n",
	       (unsigned long long)(lat_n ? lat[lat_n / 2] : 0),
	       (unsigned long long)(lat_n ? lat[lat_n * 99 / 100] : 0));
	{
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr, "max_rss_mib=%ld\ncpu_s=%.1f\n", ru.ru_maxrss / 1024,
			(double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
				(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "wall_s=%.1f\n",
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	while (queue_pop(&q, &e))
		free(e.data);
	queue_free(&q);
	for (uint32_t n = 0; n < o.nodes; n++) {
		cluster_free(nodes[n].c);
		free(nodes[n].tasks);
	}
	for (uint32_t j = 0; j < o.jobs; j++)
		free(jobs[j].ok_exits);
	free(nodes);
	free(jobs);
	free(lat);
	free(view);
	free(jobmap);
	return 0;
}
