/* core.h: the cluster core's private structures and the functions its files share
 * (sched/cluster/cluster.c says how the pieces fit). Only the core's own files include it. */
#ifndef SCHED_CLUSTER_CORE_H
#define SCHED_CLUSTER_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sched/cluster/internal.h"

#define NONE UINT32_MAX
#define CL_DEAD 7 /* inst state, never on the wire: a superseded service attempt (gc.c) */
#define REJECTED_LATELY 0x80000000u /* in scratch[], beside the count */

/* strlcpy, which the host's C library may lack. */
static inline void scpy(char *d, const char *s, size_t n)
{
	size_t k = strnlen(s, n - 1);
	memcpy(d, s, k);
	d[k] = 0;
}

struct node {
	char name[CLUSTER_NAME_MAX + 1];
	char *tags;
	uint64_t h;
	uint16_t cpus;
	uint32_t mem;
	bool alive, drain, announced;
	uint32_t alive_pos;
	uint64_t drain_ver;
	uint32_t drain_writer;
	uint32_t insts, cpu_used, mem_used; /* active instances the table places here */
};

struct job {
	char id[CLUSTER_JOB_ID_LEN + 1];
	bool have_spec, stopped, dirty, mine, in_mine, pending;
	uint8_t kind, score, distinct, ncons;
	uint16_t cpu, max_retries;
	uint32_t mem, spec_count;
	uint64_t h;
	uint8_t *spec_enc; /* the spec record's body */
	uint16_t spec_len;
	char *name; /* NULL: none */
	char *cons; /* ncons NUL-terminated constraints back to back */
	uint64_t submitted_ms, seen_ms;
	uint32_t ctl_count, ctl_writer;
	uint64_t ctl_ver;
	uint32_t coord;
	uint32_t origin; /* the node it was submitted on (its spec's `on`), or NONE */
	uint64_t coord_h;
	uint32_t *insts, ninsts, icap;
	uint32_t slots; /* 1 + the highest slot of any instance */
	uint64_t wake, epoch_seen;
	uint64_t reconciled; /* when it was last reconciled here */
	bool gone;	     /* tombstoned: out of views and state; freed at the next compaction */
	bool ended;	     /* cached cl_job_state: ended (valid while ended_chg == chg) */
	uint32_t chg, ended_chg; /* bumped on every change of its records */
	uint64_t changed;	 /* this node's clock when its records last changed */
	uint16_t *top;		 /* per slot: the highest attempt seen */
	uint32_t topcap;
};

/* A collected job's tombstone. */
struct tomb {
	char id[CLUSTER_JOB_ID_LEN + 1];
	uint32_t writer; /* node index */
	uint64_t born;	 /* this node's clock: now - age when it merged */
};

struct inst {
	uint32_t job, slot, attempt, node;
	uint8_t state, flags;
	int32_t status;
	uint32_t tail; /* 0, or 1 + index into tails */
	uint64_t placed, started, ended;
	uint64_t seen; /* this node's clock when the current state merged here */
};

struct local {
	uint32_t inst;
	uint16_t cpu;
	uint32_t mem;
	bool started, killing;
};

struct eff {
	uint8_t kind;
	uint64_t key;
	uint32_t node, inst;
	uint8_t *data;
	size_t len;
};

#define LOST_KEEP 4096 /* instances this node marked LOST, to tell their node when it is back */

struct cluster {
	struct cluster_config cfg;
	uint32_t self;
	uint64_t now, rng;
	bool coord_all;
	struct cluster_stats st;

	struct node *nodes;
	uint32_t nnodes, ncap;
	uint32_t *nodemap, nodemap_size;
	uint32_t *alive, nalive, acap;

	struct job *jobs;
	uint32_t njobs, jcap, nspecs;
	uint32_t *jobmap, jobmap_size;

	struct inst *insts;
	uint32_t ninsts, icap;
	uint32_t *instmap, instmap_size;
	char **tails; /* u16 length then bytes */
	uint32_t ntails, tcap;

	uint32_t *mine, nmine, mcap;
	struct local *local;
	uint32_t nlocal, lcap;
	uint64_t cap_epoch;			  /* bumped whenever room frees up anywhere */
	uint32_t lost[LOST_KEEP], nlost, lost_at; /* a ring of instance indices */

	struct eff *effs;
	uint32_t neff, ecap, ehead;
	uint8_t *eff_last;
	struct cluster_job eff_job;

	struct tomb *tombs;
	uint32_t ntombs, tbcap;
	uint32_t *tombmap, tombmap_size;
	uint32_t ngone; /* jobs marked gone, not yet compacted away */
	uint32_t ndead; /* instances marked CL_DEAD, not yet compacted away */
	uint64_t next_gc;

	uint32_t *order; /* jobs with a spec, newest first */
	uint32_t norder;
	bool order_ok;
	uint32_t *scratch; /* per node: this job's active instances there */
	uint32_t scratch_cap;
	struct cluster_job_spec tmp_spec;
};

static const uint8_t rank_of[] __attribute__((unused)) = {
	[CLUSTER_ASSIGNED] = 0, [CLUSTER_RUNNING] = 1, [CLUSTER_LOST] = 2,
	[CLUSTER_REJECTED] = 3, [CLUSTER_FAILED] = 4,  [CLUSTER_EXITED] = 5,
	[CLUSTER_STOPPED] = 6,
};

static inline bool active(uint8_t s) { return s == CLUSTER_ASSIGNED || s == CLUSTER_RUNNING; }

/* A slot of a job as reconciliation and the views see it (place.c). */
struct slot {
	uint32_t best;	       /* the active instance kept, or NONE */
	uint32_t next_attempt; /* 1 + the highest attempt seen */
	uint32_t failures;
	bool completed, ended, running;
	uint64_t last_end; /* this node's clock */
	bool restart;	   /* its latest attempt ended by itself (not lost or rejected) */
};

/* table.c: arrays, the node, job and instance tables, effects */
void cl_coord_full(struct cluster *c, uint32_t ji);
char *cl_dupstr(const char *s);
void cl_emit(struct cluster *c, const struct buf *b, uint64_t key, uint32_t to);
void cl_emit_inst(struct cluster *c, uint32_t i, uint32_t to);
void cl_send_inst(struct cluster *c, uint32_t i, uint32_t to);
int cl_grow_array(void **p, uint32_t *cap, uint32_t need, size_t elem);
uint32_t cl_inst_find(const struct cluster *c, uint32_t job, uint32_t slot, uint32_t attempt,
		      uint32_t node);
uint64_t cl_inst_hash(void *ctx, uint32_t i);
uint32_t cl_job_count_now(const struct job *j);
uint32_t cl_job_find(const struct cluster *c, const char *id);
uint32_t cl_job_get(struct cluster *c, const char *id);
void cl_load(struct cluster *c, const struct inst *x, int sign);
void cl_local_drop(struct cluster *c, int k);
int cl_local_find(const struct cluster *c, uint32_t i);
int cl_map_resize(uint32_t **map, uint32_t *size, uint32_t n, uint64_t (*hash)(void *, uint32_t),
		  void *ctx);
uint32_t cl_node_find(const struct cluster *c, const char *name);
uint32_t cl_node_get(struct cluster *c, const char *name);
void cl_push_eff(struct cluster *c, uint8_t kind, uint64_t key, uint32_t node, uint32_t inst,
		 const struct buf *b);
void cl_rec_from_inst(const struct cluster *c, const struct inst *x, struct rec_inst *r);
uint64_t cl_rec_key(uint8_t type, const char *a, uint32_t slot, uint32_t attempt, const char *node);
uint64_t cl_rv(const struct cluster *c, const struct job *j, uint32_t n);
bool cl_rv_beats(const struct cluster *c, uint64_t ha, uint32_t a, uint64_t hb, uint32_t b);
void cl_set_coord(struct cluster *c, uint32_t ji, uint32_t n, uint64_t h);
void cl_set_tail(struct cluster *c, struct inst *x, const char *p, uint16_t len);
const char *cl_tail_of(const struct cluster *c, const struct inst *x, uint16_t *len);

/* merge.c: writing and merging records, and this node's side */
int cl_apply(struct cluster *c, uint8_t type, union rec *r, const uint8_t *body, size_t len);
int cl_apply_ctl(struct cluster *c, const struct rec_ctl *r);
int cl_apply_inst(struct cluster *c, const struct rec_inst *r, uint32_t *out);
int cl_apply_node(struct cluster *c, const struct rec_node *r);
int cl_apply_spec(struct cluster *c, const struct rec_spec *r, const uint8_t *body, size_t len);
void cl_mark_mine_dirty(struct cluster *c);
void cl_write_inst(struct cluster *c, uint32_t i, uint8_t state, uint8_t flags, int32_t status,
		   const char *tail, uint16_t tail_len, uint32_t to);

/* gc.c: ended jobs, tombstones, compaction */
int cl_apply_gone(struct cluster *c, const struct rec_gone *r);
bool cl_is_gone(const struct cluster *c, const char *id);
bool cl_tomb_expired(const struct cluster *c, const struct tomb *t);
void cl_trim_slot(struct cluster *c, uint32_t ji, uint32_t slot);
void cl_gc(struct cluster *c);
void cl_job_changed(struct cluster *c, uint32_t ji);
uint32_t cl_tomb_find(const struct cluster *c, const char *id);

/* cluster.c: lifecycle, membership, replication, commands, reports */
void cl_flush_last(struct cluster *c);
bool cl_job_live(const struct cluster *c, uint32_t ji);

/* place.c: reconciliation and placement */
bool cl_inst_less(const struct cluster *c, uint32_t a, uint32_t b);
uint32_t cl_max_failures(const struct job *j);
void cl_summarize(const struct cluster *c, const struct job *j, struct slot *sl, uint32_t n);

/* view.c: views */
uint32_t cl_job_by_ref(const struct cluster *c, const char *ref);
enum cluster_job_state cl_job_state(const struct cluster *c, uint32_t ji, struct cluster_job *o);

#endif
