/* test_cluster_net.h: a few cluster cores wired together in one process for the unit
 * tests: broadcasts reach every other core of the same side of a partition at once, tasks
 * start as soon as the core asks (unless held) and end when the test says. */
#ifndef TEST_CLUSTER_NET_H
#define TEST_CLUSTER_NET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/cluster/cluster.h"
#include "sched/cluster/internal.h"

#define NET_MAX 8
#define TASKS_MAX 256

struct task {
	int core;
	struct cluster_inst inst;
	bool started;
};

struct net {
	int n;
	struct cluster *c[NET_MAX];
	char name[NET_MAX][16];
	char tags[NET_MAX][64];
	uint16_t cpus[NET_MAX];
	uint32_t mem[NET_MAX];
	bool up[NET_MAX];
	int side[NET_MAX]; /* partition: cores talk only within one side */
	bool hold;	   /* START effects wait for net_start_all */
	uint64_t now;
	struct task task[TASKS_MAX];
	int ntasks;
	int starts, kills, sends;
	int over;		   /* admissions beyond a node's capacity */
	bool record;		   /* keep a copy of every broadcast in log[] */
	bool mute[NET_MAX];	   /* messages to these cores are lost */
	bool sends_on;		   /* deliver SEND effects too (else broadcasts carry everything) */
	struct cluster_config cfg; /* with cfg_set: instead of net_cfg() */
	bool cfg_set;
	uint8_t *log[4096];
	size_t loglen[4096];
	int nlog;
};

static inline struct cluster_config net_cfg(void)
{
	struct cluster_config cfg;
	cluster_config_default(&cfg);
	cfg.assign_timeout_ms = 5000;
	cfg.restart_backoff_ms = 1000;
	return cfg;
}

static inline void net_announce(struct net *w, int to, int who)
{
	struct cluster_node m;
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "%s", w->name[who]);
	m.tags = w->tags[who];
	m.cpus = w->cpus[who];
	m.mem_mib = w->mem[who];
	cluster_node_up(w->c[to], &m, w->now);
}

static inline void net_boot(struct net *w, int i)
{
	struct cluster_config cfg = w->cfg_set ? w->cfg : net_cfg();
	uint8_t seed[32] = {0};
	seed[0] = (uint8_t)i;
	seed[1] = (uint8_t)(w->now >> 8);
	w->c[i] = cluster_new(&cfg, w->name[i], seed, w->now);
	w->up[i] = true;
	for (int k = 0; k < w->n; k++)
		if (w->up[k] && w->side[k] == w->side[i]) {
			net_announce(w, i, k);
			if (k != i)
				net_announce(w, k, i);
		}
}

/* cfg: NULL for net_cfg(). */
static inline void net_init_cfg(struct net *w, int n, uint16_t cpus, uint32_t mem,
				const struct cluster_config *cfg)
{
	memset(w, 0, sizeof *w);
	if (cfg) {
		w->cfg = *cfg;
		w->cfg_set = true;
	}
	w->n = n;
	w->now = 1000;
	for (int i = 0; i < n; i++) {
		snprintf(w->name[i], sizeof w->name[i], "n%d", i);
		w->cpus[i] = cpus;
		w->mem[i] = mem;
	}
	for (int i = 0; i < n; i++)
		net_boot(w, i);
}

static inline void net_init(struct net *w, int n, uint16_t cpus, uint32_t mem)
{
	net_init_cfg(w, n, cpus, mem, NULL);
}

static inline int net_find(struct net *w, const char *name)
{
	for (int i = 0; i < w->n; i++)
		if (!strcmp(w->name[i], name))
			return i;
	return -1;
}

static inline int task_find(struct net *w, const struct cluster_inst *in)
{
	for (int t = 0; t < w->ntasks; t++)
		if (!strcmp(w->task[t].inst.job, in->job) && w->task[t].inst.slot == in->slot &&
		    w->task[t].inst.attempt == in->attempt &&
		    !strcmp(w->task[t].inst.node, in->node))
			return t;
	return -1;
}

static inline void task_drop(struct net *w, int t) { w->task[t] = w->task[--w->ntasks]; }

/* Deliver effects until none are left. */
static inline void net_pump(struct net *w)
{
	bool any = true;
	while (any) {
		any = false;
		for (int i = 0; i < w->n; i++) {
			struct cluster_effect e;
			if (!w->up[i])
				continue;
			while (cluster_next_effect(w->c[i], &e)) {
				any = true;
				if (e.kind == CLUSTER_EFFECT_BROADCAST) {
					uint8_t *copy = malloc(e.len);
					size_t len = e.len;
					memcpy(copy, e.data, len);
					if (w->record && w->nlog < 4096) {
						w->log[w->nlog] = malloc(len);
						memcpy(w->log[w->nlog], e.data, len);
						w->loglen[w->nlog++] = len;
					}
					for (int k = 0; k < w->n; k++)
						if (k != i && w->up[k] &&
						    w->side[k] == w->side[i] && !w->mute[k])
							cluster_msg_in(w->c[k], copy, len, w->now);
					free(copy);
				} else if (e.kind == CLUSTER_EFFECT_SEND) {
					int to = net_find(w, e.node);
					w->sends++;
					if (w->sends_on && to >= 0 && w->up[to] && !w->mute[to] &&
					    w->side[to] == w->side[i]) {
						uint8_t *copy = malloc(e.len);
						size_t len = e.len;
						memcpy(copy, e.data, len);
						cluster_msg_in(w->c[to], copy, len, w->now);
						free(copy);
					}
				} else if (e.kind == CLUSTER_EFFECT_START) {
					uint32_t cpu = 0, mem = 0;
					struct cluster_inst in = e.inst;
					for (int t = 0; t < w->ntasks; t++)
						if (w->task[t].core == i) {
							cpu += e.job->spec
								       .cpu; /* same job sizes in tests */
							mem += e.job->spec.mem_mib;
						}
					if (cpu + e.job->spec.cpu > w->cpus[i] ||
					    mem + e.job->spec.mem_mib > w->mem[i])
						w->over++;
					w->starts++;
					w->task[w->ntasks++] = (struct task){i, in, !w->hold};
					if (!w->hold)
						cluster_inst_started(w->c[i], &in, w->now);
				} else if (e.kind == CLUSTER_EFFECT_KILL) {
					struct cluster_inst in = e.inst;
					int t = task_find(w, &in);
					w->kills++;
					if (t >= 0)
						task_drop(w, t);
					cluster_inst_ended(w->c[i], &in, CLUSTER_EXITED, 137,
							   "killed", 6, w->now);
				}
			}
		}
	}
}

static inline void net_tick(struct net *w)
{
	for (int r = 0; r < 4; r++) {
		for (int i = 0; i < w->n; i++)
			if (w->up[i])
				cluster_tick(w->c[i], w->now);
		net_pump(w);
	}
}

/* Advance the clock by ms in steps of 100 ms. */
static inline void net_run(struct net *w, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 100) {
		w->now += 100;
		net_tick(w);
	}
}

/* Start every held task. */
static inline void net_start_all(struct net *w)
{
	for (int t = 0; t < w->ntasks; t++)
		if (!w->task[t].started) {
			w->task[t].started = true;
			cluster_inst_started(w->c[w->task[t].core], &w->task[t].inst, w->now);
		}
	net_pump(w);
}

/* End task t with an exit status. */
static inline void net_exit(struct net *w, int t, int status)
{
	struct task k = w->task[t];
	task_drop(w, t);
	cluster_inst_ended(w->c[k.core], &k.inst, CLUSTER_EXITED, status, "bye\n", 4, w->now);
	net_pump(w);
}

/* End every task of job with status. */
static inline void net_exit_job(struct net *w, const char *job, int status)
{
	for (int t = w->ntasks - 1; t >= 0; t--)
		if (t < w->ntasks && !strcmp(w->task[t].inst.job, job))
			net_exit(w, t, status);
}

/* Crash core i: everyone else sees it down. */
static inline void net_crash(struct net *w, int i)
{
	for (int t = w->ntasks - 1; t >= 0; t--)
		if (w->task[t].core == i)
			task_drop(w, t);
	cluster_free(w->c[i]);
	w->c[i] = NULL;
	w->up[i] = false;
	for (int k = 0; k < w->n; k++)
		if (w->up[k])
			cluster_node_down(w->c[k], w->name[i], w->now);
	net_pump(w);
}

/* Cut the cluster: cores in `mask` on side 1, the rest on side 0. */
static inline void net_partition(struct net *w, unsigned mask)
{
	for (int i = 0; i < w->n; i++)
		w->side[i] = (mask >> i) & 1;
	for (int i = 0; i < w->n; i++)
		for (int k = 0; k < w->n; k++)
			if (w->up[i] && w->up[k] && w->side[i] != w->side[k])
				cluster_node_down(w->c[i], w->name[k], w->now);
	net_pump(w);
}

/* Heal: everyone sees everyone, and full states are exchanged both ways. */
static inline void net_heal(struct net *w)
{
	for (int i = 0; i < w->n; i++)
		w->side[i] = 0;
	for (int i = 0; i < w->n; i++)
		for (int k = 0; k < w->n; k++)
			if (w->up[i] && w->up[k] && i != k)
				net_announce(w, i, k);
	for (int i = 0; i < w->n; i++) {
		size_t len;
		uint8_t *s;
		if (!w->up[i])
			continue;
		s = cluster_state(w->c[i], &len);
		for (int k = 0; k < w->n; k++)
			if (k != i && w->up[k])
				cluster_state_in(w->c[k], s, len, w->now);
		free(s);
	}
	net_pump(w);
}

static inline void net_free(struct net *w)
{
	for (int i = 0; i < w->n; i++)
		cluster_free(w->c[i]);
	for (int i = 0; i < w->nlog; i++)
		free(w->log[i]);
}

static inline void spec_init(struct cluster_job_spec *s, enum cluster_job_kind kind, uint32_t count,
			     uint16_t cpu, uint32_t mem)
{
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->count = count;
	s->cpu = cpu;
	s->mem_mib = mem;
	s->max_retries = CLUSTER_RETRIES_DEFAULT;
	snprintf(s->program, sizeof s->program, "/bin/hello");
	memcpy(s->argv, "hello\0world", 12);
	s->argv_len = 12;
}

/* Submit on core i and let it settle. */
static inline void net_submit(struct net *w, int i, const struct cluster_job_spec *s, char *id)
{
	const char *why = NULL;
	int e = cluster_submit(w->c[i], s, "tester", id, &why, w->now);
	if (e) {
		fprintf(stderr, "submit: %d %s\n", e, why ? why : "");
		abort();
	}
	net_pump(w);
	net_tick(w);
}

/* Instances of job (latest attempt per slot) in `state`, on core i's view. */
static inline int count_state(struct net *w, int i, const char *job, enum cluster_inst_state state)
{
	struct cluster_inst in[64];
	size_t n = cluster_job_insts(w->c[i], job, false, in, 64);
	int k = 0;
	for (size_t j = 0; j < n && j < 64; j++)
		if (in[j].state == state)
			k++;
	return k;
}

/* How many tasks of job each core runs. */
static inline int tasks_on(struct net *w, int core, const char *job)
{
	int k = 0;
	for (int t = 0; t < w->ntasks; t++)
		if (w->task[t].core == core && (!job || !strcmp(w->task[t].inst.job, job)))
			k++;
	return k;
}

static inline bool all_digests_equal(struct net *w)
{
	uint64_t d = 0;
	bool first = true;
	for (int i = 0; i < w->n; i++) {
		if (!w->up[i])
			continue;
		if (first)
			d = cluster_digest(w->c[i]);
		else if (cluster_digest(w->c[i]) != d)
			return false;
		first = false;
	}
	return true;
}

#endif
