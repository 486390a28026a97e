/* agent_internal.h: what the agent's files (agent.c, agent_blob.c, agent_peer.c) share;
 * nothing outside sched/ includes it. */
#ifndef SCHED_AGENT_INTERNAL_H
#define SCHED_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/agent.h"

#define AGENT_BLOB_MAX (4u << 20)		      /* one blob (the console's upload bound) */
#define AGENT_OUTPUT_CHUNK 16384		      /* output bytes per GET_OUTPUT answer */
#define AGENT_INST_NAME_MAX (CLUSTER_JOB_ID_LEN + 24) /* "JOBID.SLOT#ATTEMPT" */
#define AGENT_PEER_IO_TIMEOUT_MS 2000		      /* one peer connect, receive or send */

/* Counters of struct agent_stats, bumped atomically from any agent thread. */
extern struct agent_stats agent_counters;
#define AGENT_COUNT(field) __atomic_fetch_add(&agent_counters.field, 1, __ATOMIC_RELAXED)

uint64_t agent_now_ms(void);
/* The agent's locks and queues, before any use (agent_init; the self-test). */
void agent_init_locks(void);

/* Keyring steps announced by members (agent_keys.c): whether an application message is
 * one, and apply it (on the agent thread: it calls members_set_keyring). */
bool agent_keys_is_msg(const uint8_t *data, size_t len);
int agent_keys_in(const uint8_t *data, size_t len);

/* Blob store (agent_blob.c). get pins the blob and gives its bytes until agent_blob_unpin;
 * pinned blobs are never evicted. */
void agent_blob_init(void);
bool agent_blob_pin(const uint8_t sha256[32], const uint8_t **data, size_t *len);
void agent_blob_unpin(const uint8_t sha256[32]);

/* Peer service (agent_peer.c): the server threads, and the client side. start listens
 * and starts the acceptor and the AGENT_PEER_MAX_CONN workers: 0, -EALREADY, -EADDRINUSE,
 * -ENFILE, -ENOMEM. stop (for self-tests) wakes them and waits for any exchange in
 * progress (bounded), then closes the queued connections and the listener. */
int agent_peer_start(void);
void agent_peer_stop(void);
/* For self-tests: seal and open frames under kr and cluster instead of the membership's
 * keyring and name (NULL: the membership's again). Set it before any exchange. */
struct gossip_keyring;
void agent_peer_use_keys(const struct gossip_keyring *kr, const char *cluster);
/* Ask the node at ip (host order) for a blob and put it in the store: 0, the node's
 * -errno (-ENOENT: it has none), -EINVAL (the bytes did not hash to sha256), or
 * -EHOSTUNREACH (no answer within the bounds). */
int agent_peer_fetch_from(uint32_t ip, const uint8_t sha256[32]);
/* Fetch a blob into the store from a node that holds it: `first` (may be NULL or ""),
 * then every other alive member, AGENT_FETCH_ROUNDS rounds. 0 or -EHOSTUNREACH. */
int agent_peer_fetch_blob(const uint8_t sha256[32], const char *first);
/* Output of the instance named inst (canonical "JOBID.SLOT#ATTEMPT") from node: as
 * agent_output. */
/* The server's answer to one request's plaintext: its length and *resp (heap), or
 * -EBADMSG (does not decode), -ENOMEM. Pure but for the store and the local tasks. */
long agent_peer_answer(const uint8_t *req, size_t n, uint8_t **resp);
long agent_peer_output(const char *node, const char *inst, uint64_t off, void *buf, size_t len,
		       uint64_t *next, bool *ended);

/* The output of an instance that runs or ran on this node (agent.c): as agent_output, or
 * -ENOENT when this node has no task for it. inst is canonical. */
long agent_local_output(const char *inst, uint64_t off, void *buf, size_t len, uint64_t *next,
			bool *ended);

#endif
