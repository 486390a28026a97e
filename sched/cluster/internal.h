/* internal.h: what the cluster core's files share, and the hooks its host tools use (the
 * simulator's table digest, the benchmark's single coordinator). Not for the kernel's
 * other code: sched/cluster/cluster.h is the contract. */
#ifndef SCHED_CLUSTER_INTERNAL_H
#define SCHED_CLUSTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/cluster/cluster.h"

/* Memory (sched/cluster/mem.c): malloc on the host, the kernel heap in the kernel. */
void *cl_alloc(size_t n);
void *cl_zalloc(size_t n);
void cl_free(void *p);
/* Grow *p from old to new bytes (contents kept, the rest zeroed). 0 or -ENOMEM. */
int cl_grow(void **p, size_t old, size_t new);

/* Wire format (sched/cluster/wire.c; laid out in sched/cluster/README.md). */
#define CL_MAGIC0 'C'
#define CL_MAGIC1 'L'
#define CL_VERSION 1
#define CL_HDR_LEN 4		  /* magic (2), version, type */
#define CL_MSG_MAX 1024		  /* GOSSIP_APP_MAX: one record update, header included */
#define CL_REJECT_HOLDOFF_MS 2000 /* a node that rejected a job gets none of it for this long */
#define CL_GC_EVERY_MS 5000	  /* how often ended jobs and tombstones are looked at */
/* A service slot keeps the records of its newest CL_ATTEMPTS_KEEP attempts: an attempt that
 * many below the slot's newest is dropped (see gc.c). */
#define CL_ATTEMPTS_KEEP 3
#define CL_GARBAGE_FRACTION 8 /* compact once 1/8 of the jobs or instances are collected */

enum cl_rec_type {
	CL_REC_SPEC = 1, /* a job's immutable spec (and its initial count) */
	CL_REC_CTL = 2,	 /* a job's count and stopped flag, LWW */
	CL_REC_INST = 3, /* an instance's state */
	CL_REC_NODE = 4, /* a node's drain flag, LWW */
	CL_REC_GONE = 5, /* a collected job's tombstone: beats every other record of the job */
	CL_STATE = 0x10, /* the whole table: records back to back */
};

#define CL_F_STOP 0x01 /* inst flags */
#define CL_F_DUP 0x02
#define CL_F_ALL (CL_F_STOP | CL_F_DUP)

struct rec_spec {
	char job[CLUSTER_JOB_ID_LEN + 1];
	uint64_t submitted_ms;
	char by[CLUSTER_IDENTITY_MAX + 1];
	char on[CLUSTER_NAME_MAX + 1];
	struct cluster_job_spec *spec; /* decoded into the caller's */
};

struct rec_ctl {
	char job[CLUSTER_JOB_ID_LEN + 1];
	uint32_t count;
	uint8_t stopped;
	uint64_t ver;
	char writer[CLUSTER_NAME_MAX + 1];
};

struct rec_inst {
	char job[CLUSTER_JOB_ID_LEN + 1];
	uint32_t slot, attempt;
	char node[CLUSTER_NAME_MAX + 1];
	uint8_t state, flags;
	int32_t status;
	uint64_t placed, started, ended;
	uint16_t tail_len;
	const char *tail; /* tail_len bytes; points into the decoded buffer */
};

struct rec_node {
	char node[CLUSTER_NAME_MAX + 1];
	uint8_t drain;
	uint64_t ver;
	char writer[CLUSTER_NAME_MAX + 1];
};

struct rec_gone {
	char job[CLUSTER_JOB_ID_LEN + 1];
	uint64_t age_ms; /* how long ago it was written, as the sender reckons */
	char writer[CLUSTER_NAME_MAX + 1];
};

union rec {
	struct rec_spec spec;
	struct rec_ctl ctl;
	struct rec_inst inst;
	struct rec_node node;
	struct rec_gone gone;
};

/* A growing output buffer; err sticks once an allocation failed. */
struct buf {
	uint8_t *p;
	size_t n, cap;
	bool err;
};
void clw_buf_free(struct buf *b);

/* Record bodies (no header). */
void clw_put_spec(struct buf *b, const struct rec_spec *r);
void clw_put_ctl(struct buf *b, const struct rec_ctl *r);
void clw_put_inst(struct buf *b, const struct rec_inst *r);
void clw_put_node(struct buf *b, const struct rec_node *r);
void clw_put_gone(struct buf *b, const struct rec_gone *r);
/* A message header; a state's header is followed by put32(number of records) and then
 * clw_put_framed records. */
void clw_put_hdr(struct buf *b, uint8_t type);
void clw_put32(struct buf *b, uint32_t v);
void clw_put_raw(struct buf *b, const void *p, size_t n);
/* A state's record: type u8, body length u16, body (written by fn). */
size_t clw_frame_begin(struct buf *b, uint8_t type);
void clw_frame_end(struct buf *b, size_t at);

/* Decode one record body of `type` from exactly p[0..n); spec needs r->spec.spec set.
 * 0 or -EBADMSG. */
int clw_get_rec(uint8_t type, const uint8_t *p, size_t n, union rec *r);
/* Check a spec as submit and decode do (strings terminated, ranges, kinds); NULL when
 * valid, else why not. */
const char *clw_check_spec(const struct cluster_job_spec *s);
bool clw_job_id_ok(const char *id);

/* Host tools only. */
/* An order-independent digest of the replicated table: equal on replicas that hold the
 * same records. */
uint64_t cluster_digest(const struct cluster *c);
/* Benchmark: this node coordinates every job, whatever the rendezvous says. */
void cluster_coordinate_all(struct cluster *c, bool on);
/* Instances in the table (all attempts), and how many this node runs. */
size_t cluster_inst_total(const struct cluster *c);

uint64_t cl_hash(const void *p, size_t n); /* FNV-1a 64, then a splitmix64 finaliser */
uint64_t cl_mix(uint64_t x);		   /* splitmix64's finaliser */

#endif
