/* cluster.h: the leaderless cluster scheduler, as a sans-IO core.
 *
 * The core holds one node's replica of the cluster's job table and runs this node's share
 * of the scheduling. It does no I/O and reads no clock: the caller (sched/agent.c in the
 * kernel; tests/sim on the host) hands it membership, replication messages, local task
 * reports, commands and the time, and drains the effects it wants carried out. The same
 * files build into the kernel, the host unit tests, the fuzzer and the simulator.
 *
 * The job table (every node holds all of it):
 * - job records: an immutable spec written once by the node that took the submission,
 *   plus the mutable fields `count` (scale) and `stopped` (stop), merged last-writer-wins
 *   by (version, writer name); `stopped` is sticky.
 * - instance records, one per placement attempt, keyed (job, slot, attempt, node): only
 *   their state moves, along a lattice (ASSIGNED < RUNNING < a terminal state), so merging
 *   is taking the greater; between terminal states the running node's own report wins
 *   over LOST. The coordinator writes ASSIGNED, LOST and stop requests; the node that
 *   runs the instance writes RUNNING, its exit and REJECTED.
 * - node records: `drain` flags, last-writer-wins by (version, writer).
 * Every change is one self-contained record update: sent at once to the node concerned
 * (placement, stop), broadcast through gossip (CLUSTER_EFFECT_BROADCAST, keyed by record
 * so a newer state replaces a queued older one), and the whole table travels in gossip's
 * push-pull (cluster_state / cluster_state_in). Merging is commutative, associative and
 * idempotent, so every replica that has seen the same updates holds the same table.
 *
 * Coordination: each job's coordinator is the alive member with the highest rendezvous
 * hash of (job id, member name). No election: nodes that agree on membership agree on
 * coordinators, and a coordinator's death hands its jobs to the next. On every tick and
 * membership change the coordinator of a job reconciles it:
 * - feasible nodes: alive, not draining, tags satisfy the constraints, with the job's
 *   cpu and mem free after the instances the table already places there (all jobs);
 *   `distinct` forbids two active instances of the job on one node;
 * - score: spread (fewest active instances, then most free memory) by default, bin-pack
 *   (least free after placing) on request; ties broken by rendezvous hash so that
 *   coordinators agree and load does not pile onto one name;
 * - places missing instances (ASSIGNED), marks instances on dead nodes LOST and replaces
 *   them, stops extras (scale down, duplicates after a partition heals: the instance with
 *   the lowest (attempt, node) is kept), restarts exited service instances, retries failed
 *   batch instances up to max_retries.
 * A node accepts an assignment only when its own view of what it runs leaves room
 * (otherwise it answers REJECTED and the coordinator places elsewhere), so a node is never
 * over-committed even when two coordinators place on it at once.
 *
 * Ended jobs are collected: a job is ended when it is stopped with no active instance, or
 * is a batch job whose slots all completed or failed. The table keeps the newest
 * `ended_jobs_keep` ended jobs (by when their last record changed, as each node saw it;
 * ties by id) and never collects one that ended less than `ended_min_keep_ms` ago (so
 * `status JOB` works right after a job ends). A job's coordinator collects it by writing a
 * tombstone (job id, writer, age): the tombstone beats every other record of the job, so
 * push-pull from a replica that still holds the job does not bring it back; every
 * replica frees the job's spec, instances and tails when the tombstone merges. Tombstones
 * are held `tombstone_keep_ms` (their age travels with them, so all replicas drop them at
 * about the same time). A node cut off for longer than that and still holding a collected
 * job would bring the job back when it rejoins: collected again if that node had seen it
 * end, but run again (the slots it did not see complete) if it had not. A service slot keeps
 * the records of its newest 3 attempts (CL_ATTEMPTS_KEEP): older ones are dropped everywhere
 * (and an instance of one still running somewhere is killed by its own node), so a service
 * that restarts for days does not grow the table. Counters: jobs_collected, tombstones,
 * tombstones_written, tombstones_expired, gone_ignored, attempts_dropped, attempts_ignored.
 *
 * Batch: each slot completes once (one attempt EXITED with status 0; a duplicate that
 * also finishes is reported as a duplicate, not a second completion) or is FAILED after
 * max_retries failed attempts. Service: keeps `count` instances running; an exit of any
 * status is restarted (after a back-off), a lost one re-placed. */
#ifndef SCHED_CLUSTER_CLUSTER_H
#define SCHED_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_NAME_MAX 63		 /* node and job names, bytes */
#define CLUSTER_PROGRAM_MAX 127		 /* program path in the image, bytes */
#define CLUSTER_ARGV_BYTES 512		 /* argv strings, NUL-separated, all together */
#define CLUSTER_ENV_BYTES 256		 /* envp "K=V" strings, NUL-separated */
#define CLUSTER_CONSTRAINTS_MAX 4	 /* "tag=value" constraints per job */
#define CLUSTER_CONSTRAINT_MAX 63	 /* bytes of one */
#define CLUSTER_IDENTITY_MAX 31		 /* who submitted (console PSK identity) */
#define CLUSTER_TAIL_MAX 256		 /* output tail kept in an ended instance's record */
#define CLUSTER_JOB_ID_LEN 10		 /* "j" + 9 lowercase hex digits */
#define CLUSTER_COUNT_MAX 100000	 /* instances of one job */
#define CLUSTER_RETRIES_DEFAULT 3	 /* batch: failed attempts before a slot is FAILED */
#define CLUSTER_RESTART_BACKOFF_MS 1000	 /* service: before an exited instance restarts */
#define CLUSTER_ENDED_JOBS_KEEP 1000	 /* ended jobs kept (newest by end); older ones collected */
#define CLUSTER_ENDED_MIN_KEEP_MS 300000 /* no ended job is collected sooner than this */
#define CLUSTER_TOMBSTONE_KEEP_MS 86400000 /* a collected job's tombstone is held this long */

enum cluster_job_kind { CLUSTER_BATCH, CLUSTER_SERVICE };
enum cluster_score { CLUSTER_SPREAD, CLUSTER_BINPACK };

struct cluster_job_spec {
	char name[CLUSTER_NAME_MAX + 1]; /* optional; "" = none. Unique among live jobs */
	enum cluster_job_kind kind;
	uint32_t count;	  /* 1..CLUSTER_COUNT_MAX */
	uint16_t cpu;	  /* CPUs asked per instance, 1.. */
	uint32_t mem_mib; /* memory asked per instance, 1.. */
	uint16_t max_retries;
	enum cluster_score score;
	bool distinct; /* at most one instance per node */
	uint8_t nconstraints;
	char constraints[CLUSTER_CONSTRAINTS_MAX][CLUSTER_CONSTRAINT_MAX + 1]; /* "k=v" */
	/* The program: a path in the image's file tree, or an uploaded blob by SHA-256. */
	char program[CLUSTER_PROGRAM_MAX + 1];
	bool has_blob;
	uint8_t blob_sha256[32];
	uint16_t argv_len; /* argv[0..] as NUL-terminated strings back to back */
	char argv[CLUSTER_ARGV_BYTES];
	uint16_t env_len;
	char env[CLUSTER_ENV_BYTES];
};

enum cluster_inst_state {
	CLUSTER_ASSIGNED, /* placed by the coordinator, not yet started */
	CLUSTER_RUNNING,
	CLUSTER_EXITED,	  /* ended by itself or a signal: status */
	CLUSTER_FAILED,	  /* could not start (no such program, bad ELF, blob unavailable) */
	CLUSTER_REJECTED, /* the node had no room */
	CLUSTER_LOST,	  /* its node died */
	CLUSTER_STOPPED,  /* stopped on request (stop, scale down, duplicate, drain) */
};
const char *cluster_inst_state_name(enum cluster_inst_state s); /* "assigned", ... */

/* An instance as views and effects show it. Its name is "JOBID.SLOT" (the latest attempt
 * of that slot); the attempt number follows when all are listed ("j1a2b3c4d5.3#2"). */
struct cluster_inst {
	char job[CLUSTER_JOB_ID_LEN + 1];
	uint32_t slot, attempt;
	char node[CLUSTER_NAME_MAX + 1];
	enum cluster_inst_state state;
	bool stop_requested;
	bool duplicate; /* ended as the loser of a duplicate placement */
	int status;	/* EXITED: 0..255 as task.h reports it; FAILED: -errno */
	uint64_t placed_ms, started_ms, ended_ms; /* on the writer's clock; 0 = not yet */
	uint16_t tail_len;
	char tail[CLUSTER_TAIL_MAX]; /* last output bytes, once ended */
};

enum cluster_job_state {
	CLUSTER_JOB_PENDING, /* not every instance placed */
	CLUSTER_JOB_RUNNING,
	CLUSTER_JOB_COMPLETE, /* batch: every slot completed */
	CLUSTER_JOB_FAILED,   /* batch: some slot out of retries */
	CLUSTER_JOB_STOPPED,
};
const char *cluster_job_state_name(enum cluster_job_state s);

struct cluster_job {
	char id[CLUSTER_JOB_ID_LEN + 1];
	struct cluster_job_spec spec;
	char submitted_by[CLUSTER_IDENTITY_MAX + 1];
	char submitted_on[CLUSTER_NAME_MAX + 1];
	uint64_t submitted_ms;
	uint32_t count; /* current (after scale) */
	bool stopped;
	enum cluster_job_state state;
	uint32_t running, completed, failed, pending; /* slots, by state */
	char coordinator[CLUSTER_NAME_MAX + 1];	      /* in this node's view */
};

/* A member as the scheduler needs it (from gossip's metadata). */
struct cluster_node {
	char name[CLUSTER_NAME_MAX + 1];
	const char *tags; /* "k=v,..." or "" */
	uint16_t cpus;
	uint32_t mem_mib;
};

struct cluster_config {
	uint32_t tick_ms;	     /* how often the caller is expected to tick */
	uint32_t assign_timeout_ms;  /* ASSIGNED but never RUNNING: re-place after this */
	uint32_t restart_backoff_ms; /* CLUSTER_RESTART_BACKOFF_MS */
	uint32_t ended_jobs_keep;    /* CLUSTER_ENDED_JOBS_KEEP */
	uint32_t rebroadcast_ms;     /* own changes not yet confirmed are re-sent this often */
	uint32_t ended_min_keep_ms;  /* CLUSTER_ENDED_MIN_KEEP_MS */
	uint32_t tombstone_keep_ms;  /* CLUSTER_TOMBSTONE_KEEP_MS */
};
void cluster_config_default(struct cluster_config *c);

struct cluster_stats {
	uint64_t placements, rejections, lost, restarts, retries, duplicates_stopped;
	uint64_t msgs_in, msgs_out, msgs_bad, states_in, states_bad;
	uint64_t place_ns_total; /* for a mean placement latency, filled by the caller */
	uint64_t place_latency_ms_sum, place_latency_n; /* submit to RUNNING, on coordinator */
	uint64_t jobs_collected; /* ended jobs whose records were freed here */
	uint64_t tombstones;	 /* tombstones held now (a gauge) */
	uint64_t tombstones_written, tombstones_expired;
	uint64_t gone_ignored;	   /* records of a collected job, dropped on arrival */
	uint64_t attempts_dropped; /* superseded service attempts dropped from the table here */
	uint64_t attempts_ignored; /* records of such attempts, dropped on arrival */
};

enum cluster_effect_kind {
	CLUSTER_EFFECT_BROADCAST, /* gossip_app_broadcast(key, data, len) */
	CLUSTER_EFFECT_SEND,	  /* gossip_app_send(node, data, len): the direct datagram only;
				     the same record is also in a BROADCAST effect */
	CLUSTER_EFFECT_START,	  /* start instance `inst` of job `job` here; report back */
	CLUSTER_EFFECT_KILL,	  /* kill the local task running `inst`; report back */
};

struct cluster_effect {
	enum cluster_effect_kind kind;
	uint64_t key;
	char node[CLUSTER_NAME_MAX + 1];
	const uint8_t *data; /* valid until the next call into the core */
	size_t len;
	struct cluster_inst inst;      /* START, KILL */
	const struct cluster_job *job; /* START: valid until the next call into the core */
};

struct cluster;

/* self: this node's name. seed: 32 random bytes (job ids). NULL on bad arguments. */
struct cluster *cluster_new(const struct cluster_config *cfg, const char *self,
			    const uint8_t seed[32], uint64_t now_ms);
void cluster_free(struct cluster *c);

/* Membership, from gossip: a member alive (new, back, or its metadata changed), or gone
 * (dead or left). This node itself must be announced with cluster_node_up too. */
void cluster_node_up(struct cluster *c, const struct cluster_node *n, uint64_t now_ms);
void cluster_node_down(struct cluster *c, const char *name, uint64_t now_ms);

/* Replication input: one message (as broadcast or sent) or a whole state (push-pull).
 * 0, or -EBADMSG (dropped, counted; never partly applied). */
int cluster_msg_in(struct cluster *c, const uint8_t *data, size_t len, uint64_t now_ms);
int cluster_state_in(struct cluster *c, const uint8_t *data, size_t len, uint64_t now_ms);
/* The whole table encoded for push-pull: a malloc'd buffer of *len bytes, or NULL. */
uint8_t *cluster_state(struct cluster *c, size_t *len);

/* Commands (from the console of this node; `who` is the console identity).
 * submit: 0 and the new id in id_out, or -EINVAL (bad spec: the reason in *why),
 *   -EEXIST (name taken by a live job), -ENOSPC (table full).
 * stop/scale/drain: 0, -ENOENT (no such job or node), -EINVAL (bad count), -EALREADY. A
 *   job is named by id or by name. */
int cluster_submit(struct cluster *c, const struct cluster_job_spec *spec, const char *who,
		   char id_out[CLUSTER_JOB_ID_LEN + 1], const char **why, uint64_t now_ms);
int cluster_stop(struct cluster *c, const char *job, const char *who, uint64_t now_ms);
int cluster_scale(struct cluster *c, const char *job, uint32_t count, const char *who,
		  uint64_t now_ms);
int cluster_drain(struct cluster *c, const char *node, bool on, const char *who, uint64_t now_ms);

/* Reports about instances that this node runs (answers to START and KILL effects).
 * started: the task runs. ended: EXITED with status (tail: its last output bytes), or
 * FAILED with -errno when it could not start. */
void cluster_inst_started(struct cluster *c, const struct cluster_inst *inst, uint64_t now_ms);
void cluster_inst_ended(struct cluster *c, const struct cluster_inst *inst,
			enum cluster_inst_state state, int status, const char *tail,
			size_t tail_len, uint64_t now_ms);

/* Run timers and reconcile the jobs this node coordinates. */
void cluster_tick(struct cluster *c, uint64_t now_ms);
uint64_t cluster_deadline(const struct cluster *c);
bool cluster_next_effect(struct cluster *c, struct cluster_effect *e);

/* Views (copies). Jobs newest first. */
size_t cluster_job_count(const struct cluster *c);
bool cluster_job_at(const struct cluster *c, size_t i, struct cluster_job *out);
/* By id or name. */
bool cluster_job_find(const struct cluster *c, const char *job, struct cluster_job *out);
/* The instances of a job (latest attempt per slot when all == false), by slot: how many
 * there are; up to max copied. */
size_t cluster_job_insts(const struct cluster *c, const char *job_id, bool all,
			 struct cluster_inst *out, size_t max);
/* "JOBID.SLOT" (latest attempt) or "JOBID.SLOT#ATTEMPT". */
bool cluster_inst_find(const struct cluster *c, const char *name, struct cluster_inst *out);
/* Active (ASSIGNED or RUNNING) instances placed on node, and the cpu and mem they take. */
void cluster_node_load(const struct cluster *c, const char *node, uint32_t *insts, uint32_t *cpu,
		       uint32_t *mem_mib);
bool cluster_node_draining(const struct cluster *c, const char *node);
const struct cluster_stats *cluster_stats(const struct cluster *c);

#endif
