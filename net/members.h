/* members.h: this node's cluster membership, as the rest of the kernel sees it. The
 * gossip core (net/gossip, sans-IO) runs here on a kernel thread over lwIP: UDP and TCP
 * port GOSSIP_PORT, metadata refreshed from the kernel's live counts, every membership
 * change printed on the serial console.
 *
 * Serial lines (ARCHITECTURE.md's contract; the fields after the state are extra):
 *   gossip: NAME on ADDR:PORT, cluster C, profile P, seeds S|discovery, encrypted|plaintext
 *   gossip: joined as NAME, N members            (once, when it first hears of others)
 *   gossip: member NAME ADDR alive|suspect|dead|left inc I
 *   gossip: member NAME ADDR updated inc I       (metadata or address; debug level)
 *   gossip: N packets failed authentication (wrong key or cluster), last from ADDR
 *                                                (warn, at most every MEMBERS_DROP_LOG_MS)
 * The core is single-threaded: every call into it holds one mutex, so the snapshot
 * functions below may be called from any thread. */
#ifndef NET_MEMBERS_H
#define NET_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/config_defaults.h"
#include "net/gossip/gossip.h"

#define MEMBERS_NET_WAIT_MS (60 * 1000) /* for eth0's address, then give up */
#define MEMBERS_META_MS 3000		/* resources re-read this often */
#define MEMBERS_STATS_LOG_MS 10000	/* a debug line of counters this often */
#define MEMBERS_DROP_LOG_MS 10000	/* authentication failures reported at most this often */
#define MEMBERS_STREAM_TIMEOUT_MS 2000	/* connect, and each send or receive of a stream */
#define MEMBERS_STREAM_TOTAL_MS 5000	/* a whole frame each way */
#define MEMBERS_FRAME_MAX (4u << 20)	/* largest stream frame read (<= GOSSIP_FRAME_MAX) */
#define MEMBERS_STREAM_QUEUE 8		/* outgoing streams waiting for the stream thread */
#define MEMBERS_LEAVE_INTERVALS 2	/* gossip intervals given to a leave to go out */
#define MEMBERS_LEAVE_MAX_MS 2000	/* and never more than this */

/* One member as the console and the scheduler see it: a copy, valid forever. */
struct members_entry {
	char name[GOSSIP_NAME_MAX + 1];
	char tags[GOSSIP_TAGS_MAX + 1];
	struct gossip_addr addr;
	enum gossip_state state;
	uint32_t incarnation;
	struct gossip_resources res;
	uint64_t since_ms; /* when this node saw the state begin (ms since boot) */
};

/* This node's own view. */
struct members_local {
	char name[GOSSIP_NAME_MAX + 1];
	char cluster[GOSSIP_CLUSTER_MAX + 1];
	struct gossip_addr addr;
	enum gossip_profile profile;
	bool encrypted;
	bool joined;	 /* has heard of another member since it started */
	uint32_t health; /* Lifeguard score, 0 = healthy */
	struct gossip_stats stats;
};

/* Start membership from the command line (config.c's gossip keys) on a thread of its
 * own: it waits for eth0's address (at most MEMBERS_NET_WAIT_MS), then joins. Logs one
 * line and does nothing when gossip=0, when there is no network interface, or when there
 * is no key and no gossip.plaintext. Call once, after net_init. */
void members_start(void);
/* True once the gossip thread runs. */
bool members_running(void);

/* Leave gracefully: announce it and give it MEMBERS_LEAVE_INTERVALS gossip intervals
 * (at most MEMBERS_LEAVE_MAX_MS) to go out, then stop answering. Returns at once when
 * membership is not running. For power_shutdown; never from panic. */
void members_leave(void);

/* Copy up to max members (self first) into out; returns how many there are in all
 * (maybe more than max), or -ENODEV when membership is not running. */
int members_snapshot(struct members_entry *out, size_t max);
/* Members in state s, self included; 0 when not running. */
size_t members_count(enum gossip_state s);
/* This node's view: 0, or -ENODEV when not running. */
int members_local(struct members_local *l);

/* The task layer (issue 5) reports how many tasks run here; announced with the next
 * metadata refresh. */
void members_set_tasks(unsigned n);

/* The cluster scheduler's side of gossip (gossip.h's application data), on the command
 * line's node. The callbacks run on the gossip thread with the core's lock held: they
 * must copy what they keep, return quickly and call no members_ function. `in` sees every
 * application message and push-pull state received; `state` supplies this node's state
 * for push-pull (as gossip_app_state_fn); `event` sees every membership event (after the
 * serial line is printed). Set them before members_start; NULL members are skipped. */
struct members_app_ops {
	void *ctx;
	void (*in)(void *ctx, const struct gossip_app_in *in);
	uint8_t *(*state)(void *ctx, size_t *len);
	void (*event)(void *ctx, const struct gossip_event *ev);
};
void members_set_app(const struct members_app_ops *ops);
/* As gossip_app_broadcast and gossip_app_send; -ENODEV when membership is not running. */
int members_app_broadcast(uint64_t key, const void *data, size_t len);
int members_app_send(const char *name, const void *data, size_t len);
/* Keyring rotation (the console's `keys`): as gossip_set_keyring; -ENODEV when not
 * running. members_keyring copies the keyring in use. */
int members_set_keyring(const struct gossip_keyring *kr);
int members_keyring(struct gossip_keyring *kr);

/* Nodes of their own, beside the command line's (the self-test runs several over the
 * loopback interface). The functions above are these on the command line's node. */
struct members_opts {
	char name[GOSSIP_NAME_MAX + 1];
	char cluster[GOSSIP_CLUSTER_MAX + 1];
	char tags[GOSSIP_TAGS_MAX + 1];
	struct gossip_addr self; /* announced; its port is bound for UDP and TCP */
	uint32_t bind_ip;	 /* host order; 0 = any (broadcasts reach only that) */
	uint32_t bcast;		 /* where discovery goes; 0 = 255.255.255.255 */
	enum gossip_profile profile;
	struct gossip_config cfg;
	struct gossip_keyring keyring; /* n == 0: plaintext */
	struct gossip_addr seeds[CONFIG_SEEDS_MAX];
	int nseeds; /* 0: discovery by broadcast */
};
struct members_node;
/* Start a node and join (copies o): NULL, logged, when it cannot start. */
struct members_node *members_node_start(const struct members_opts *o);
/* Stop its threads (within about LOOP_WAIT_MAX_MS), close its sockets, free it. */
void members_node_stop(struct members_node *n);
void members_node_leave(struct members_node *n);
int members_node_snapshot(struct members_node *n, struct members_entry *out, size_t max);
size_t members_node_count(struct members_node *n, enum gossip_state s);
void members_node_local(struct members_node *n, struct members_local *l);
/* The application side on a node of its own (the self-test's): started with ops (copied;
 * as members_set_app), then as members_app_broadcast and members_app_send. */
struct members_node *members_node_start_app(const struct members_opts *o,
					    const struct members_app_ops *ops);
int members_node_app_broadcast(struct members_node *n, uint64_t key, const void *data, size_t len);
int members_node_app_send(struct members_node *n, const char *name, const void *data, size_t len);

#endif
