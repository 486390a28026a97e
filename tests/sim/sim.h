/* sim.h: the simulated world of tests/sim: N instances of the real gossip core on one
 * simulated segment, driven by a seeded discrete-event loop.
 *
 * Time is a simulated millisecond clock. Each node's timers run when gossip_deadline
 * says; after every call into a core its datagrams, stream frames and membership events
 * are drained. Datagrams arrive after latency + jitter unless lost or blocked by a
 * partition (each direction between the two groups blocked on its own). A stream frame
 * reaches its target after the latency; the target's reply comes back the same way; a
 * stream to a node that is down or cut off fails after the connect timeout, and a reply
 * later than the stream timeout counts as failed. Faults: crash (the instance is freed,
 * what reaches it vanishes), restart (a new instance under the same name at incarnation
 * 0, maybe at a new address), pause (nothing runs on the node for a while: its input
 * waits, its timers run late) and partition/heal.
 *
 * Every random choice comes from the run's seed, and events at equal times run in the
 * order they were scheduled, so one seed always gives the same run. */
#ifndef TESTS_SIM_SIM_H
#define TESTS_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "net/gossip/gossip.h"
#include "tests/sim/queue.h"

#define SIM_NAME_LEN 16		/* "n" and up to 6 digits */
#define SIM_GROUPS 2		/* partition groups */
#define SIM_BASE_IP 0x0a000001u /* 10.0.0.1: node addresses count up from here */
#define SIM_CLUSTER "sim"

struct sim_opts {
	uint32_t nodes; /* nodes the scenario starts with */
	uint32_t spare; /* extra slots (late joiners) */
	uint64_t seed;
	struct gossip_config gc;
	bool plain;			     /* no keyring: faster, skips the crypto path */
	uint32_t latency_ms, jitter_ms;	     /* one way: latency + uniform [0, jitter] */
	double loss[SIM_GROUPS][SIM_GROUPS]; /* datagram loss from group a to group b */
	uint32_t connect_timeout_ms; /* a stream to a dead or cut-off node fails after this */
	uint32_t stream_timeout_ms;  /* a reply later than this counts as a failure */
	uint32_t seeds;		     /* seeds each joiner is given */
};

struct sim_node {
	struct gossip *g; /* NULL before start and while crashed */
	char name[SIM_NAME_LEN];
	struct gossip_addr addr;
	uint32_t epoch;	   /* bumped by crash and restart: in-flight input for the old
			      instance is dropped */
	uint32_t tick_gen; /* only the tick event with this generation is live */
	uint64_t tick_at;
	uint64_t paused_until;	/* input and timers wait until then */
	uint64_t excused_until; /* a DEAD about it until then is not a false positive: */
	bool excuse_all;	/* from anyone (paused), or only across groups (partition) */
	int64_t prev_inc;	/* its incarnation when it last crashed, or -1 */
	uint32_t alive_seen;	/* gossip_count(ALIVE) after its last event */
	uint8_t group;		/* the first half of the nodes is group 0, the rest group 1 */
	bool full;		/* up, and counts every up node alive */
	uint64_t udp_pkts, udp_bytes, frames, frame_bytes; /* sent in the window */
};

/* Detection of one crash: which up nodes have declared the target dead or left. */
struct sim_watch {
	bool on;
	uint32_t target;
	uint64_t at;
	uint64_t first_suspect, first_dead, last_dead; /* absolute, UINT64_MAX until seen */
	uint32_t detected;
	uint8_t *seen; /* per node */
};

struct sim_counts {
	uint64_t events;       /* simulator events processed */
	uint64_t false_pos;    /* a live, running node declared dead */
	uint64_t dead_excused; /* declared dead while (just) paused */
	uint64_t dead_stale;   /* old-life rumours about a restarted node */
	uint64_t suspect_live; /* SUSPECT events about up nodes, summed over observers */
	uint64_t udp_lost, udp_blocked, udp_nowhere;
	uint64_t streams, streams_failed;
	uint64_t bad_frames;	/* a stream frame whose prefix disagrees with its length */
	uint64_t late_deadline; /* gossip_deadline at or before now after a tick */
};

struct sim {
	struct sim_opts o;
	struct queue q;
	uint64_t now;
	struct sim_node *node;
	uint32_t cap, n; /* slots, nodes created so far */
	uint32_t up, n_full;
	uint32_t booting; /* added, not yet booted */
	bool conv;	  /* sim_converged() as of the last change */
	uint64_t conv_at; /* when it last became true */
	uint32_t *owner;  /* address index -> node + 1 (0: nobody) */
	uint32_t owner_cap, next_ip;
	bool block[SIM_GROUPS][SIM_GROUPS];
	struct gossip_keyring kr;
	uint64_t rng;
	uint64_t win_start;
	struct sim_watch w;
	struct sim_counts c;
	bool verbose;
};

int sim_init(struct sim *s, const struct sim_opts *o);
void sim_free(struct sim *s);
uint64_t sim_rand(struct sim *s);
uint32_t sim_below(struct sim *s, uint32_t n); /* uniform in [0, n) */

/* Create node i (i == s->n) booting at `at`, joining `seeds` random already-created
 * nodes among the first `pool`. 0 or -ENOMEM. */
int sim_add(struct sim *s, uint64_t at, uint32_t pool);
/* Instead of a mass join: create o.nodes nodes now, alone, and hand each one push-pull
 * reply carrying every node's own state (as a seed that knows everyone would send it),
 * so the cluster starts converged. Far cheaper than a join at 10,000 nodes, where the
 * join itself is not what is measured. 0, -ENOMEM, or the codec's error. */
int sim_warm(struct sim *s);
void sim_crash(struct sim *s, uint32_t i);
/* A new instance of node i, now, at a new address when new_addr. 0 or -ENOMEM. */
int sim_restart(struct sim *s, uint32_t i, bool new_addr);
void sim_pause(struct sim *s, uint32_t i, uint32_t ms, uint32_t excuse_ms);
/* Declarations of node i dead by the other group are not false positives until `until`. */
void sim_excuse_across(struct sim *s, uint32_t i, uint64_t until);
void sim_block(struct sim *s, uint8_t from, uint8_t to, bool on);

/* Process events up to and including time t; the clock ends at t. */
void sim_run_until(struct sim *s, uint64_t t);
/* Process events until done(s) holds (checked after each event) or the clock passes t.
 * true when done held. */
bool sim_run_while(struct sim *s, bool (*done)(struct sim *), uint64_t t);

bool sim_converged(struct sim *s); /* every up node counts every up node alive */
/* Start watching for the crash of node i (call just before sim_crash). */
void sim_watch(struct sim *s, uint32_t i);
bool sim_watch_done(struct sim *s);
void sim_unwatch(struct sim *s);
/* Zero the per-node traffic counters. */
void sim_window(struct sim *s);
/* The node's own incarnation (0 when down). */
uint32_t sim_incarnation(struct sim *s, uint32_t i);
/* How node `viewer` sees node i: its state and incarnation; false when unknown. */
bool sim_view(struct sim *s, uint32_t viewer, uint32_t i, enum gossip_state *st, uint32_t *inc);

#endif
