/* agent.h: this node's part of the cluster scheduler. Runs the sans-IO core
 * (sched/cluster) on a kernel thread: feeds it gossip's membership and application data
 * (net/members.h), starts and kills the tasks it assigns here (kernel/task.h), reports
 * their ends with the tail of their output, keeps uploaded programs (blobs) and fetches
 * the ones it must run from a node that holds them, and serves other nodes' fetches of
 * blobs and of instance output (TCP AGENT_PEER_PORT, frames sealed with the cluster
 * keyring).
 *
 * Serial lines:
 *   cluster: scheduler on NAME, N jobs
 *   cluster: job ID (NAME) submitted by WHO: KIND x COUNT PROGRAM
 *   cluster: instance ID.SLOT running as task T          (on the node that runs it)
 *   cluster: instance ID.SLOT exited with STATUS | failed: REASON | stopped
 *   cluster: job ID first instance running MS ms after submission   (on the submitting node) */
#ifndef SCHED_AGENT_H
#define SCHED_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/gossip/keyring.h"
#include "sched/cluster/cluster.h"

#define AGENT_PEER_PORT 7374
#define AGENT_TICK_MS 100
#define AGENT_BLOBS_MAX_BYTES (64u << 20) /* uploaded programs kept, in all */
#define AGENT_FETCH_TIMEOUT_MS 5000
/* The peer service serves up to AGENT_PEER_MAX_CONN connections at once; up to
 * AGENT_PEER_QUEUE more wait for a worker, and one past that is closed at once (counted
 * in agent_stats.peer_refused) so the asker tries another node. */
#define AGENT_PEER_MAX_CONN 4
#define AGENT_PEER_QUEUE 4

/* Start on its own thread once membership runs (members_set_app before members_start). */
void agent_init(void);
void agent_start(void);
bool agent_running(void);

/* The core, under the agent's lock: for the console's views and commands. Effects the
 * command produced are carried out after agent_unlock. NULL when not running (nothing
 * locked). Keep the lock short: no I/O while holding it. */
struct cluster *agent_lock(void);
void agent_unlock(void);
/* Wake the agent's thread (after a command, so its effects go out now). */
void agent_kick(void);

/* Blobs: uploaded ELF files by SHA-256. put copies data: 0, -EINVAL (checksum differs),
 * -ENOSPC. */
int agent_blob_put(const uint8_t sha256[32], const void *data, size_t len);
bool agent_blob_has(const uint8_t sha256[32]);
size_t agent_blob_count(void);

/* Output of an instance ("JOBID.SLOT[#ATTEMPT]") from byte offset off, wherever it runs or
 * ran: from the local task log, else fetched from its node, else the tail its record
 * keeps. Bytes copied (0 at the end), -ENOENT (no such instance), -EHOSTUNREACH. *next is
 * the offset after them; *ended tells whether the instance has ended. Call it without
 * agent_lock held (it takes the lock, and may wait on the network). */
long agent_output(const char *inst, uint64_t off, void *buf, size_t len, uint64_t *next,
		  bool *ended);

/* Keyring rotation across the cluster (the console's `keys`): apply one step to a keyring
 * (0, -EEXIST, -ENOENT, -EALREADY (use: primary already), -EBUSY (remove: the primary),
 * -ENOSPC, -EINVAL), and announce a step this node took to every member, which applies
 * it to its own keyring (0, or as members_app_broadcast). */
enum agent_key_op { AGENT_KEY_INSTALL, AGENT_KEY_USE, AGENT_KEY_REMOVE };
int agent_keys_apply(struct gossip_keyring *kr, enum agent_key_op op, const uint8_t *key,
		     size_t len);
int agent_keys_announce(enum agent_key_op op, const uint8_t *key, size_t len);

struct agent_stats {
	uint64_t started, ended, start_failed, fetches, fetch_failed, peer_requests;
	uint64_t peer_bad;		 /* peer frames that failed to open or decode */
	uint64_t keys_applied, keys_bad; /* keyring steps announced by members */
	uint64_t peer_refused; /* peer connections closed: every worker busy, queue full */
};
void agent_stats(struct agent_stats *s);

#endif
