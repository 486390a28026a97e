/* gossip.h: cluster membership by SWIM with Lifeguard, as a sans-IO protocol core.
 *
 * The core owns one node's view of its cluster. It does no I/O and reads no clock: the
 * caller hands it datagrams, stream frames, the current time and local updates, and
 * drains the datagrams and frames it wants sent and the membership events it produced.
 * The same files build into the kernel (net/members.c glues them to lwIP and a thread),
 * into host unit tests, the fuzzer and the many-node simulator (tests/sim).
 *
 * Protocol (wire format in PROTOCOL.md):
 * - Members are named; a name is a node's identity. Each member has an address, an
 *   incarnation number that only its owner raises, a state (alive, suspect, dead, left)
 *   and versioned metadata (tags, resources).
 * - Every probe interval the node pings the next member of a shuffled round-robin list.
 *   No ack within the probe timeout: it asks `indirect_checks` other members to ping the
 *   target for it (ping-req). No ack by the end of the interval: the target becomes
 *   suspect.
 * - A suspect is declared dead when its suspicion timer runs out. The timer starts at
 *   suspicion_max_mult x the minimum and shrinks logarithmically towards the minimum
 *   (suspicion_mult x max(1, log10 N) x probe interval) as independent members confirm
 *   the suspicion (Lifeguard's dynamic suspicion). A DEAD heard from another member
 *   counts as one more accusation: only a node's own timer (or the member's own leave)
 *   makes a member dead in its view, so stale verdicts cannot kill a live member.
 * - A node that hears itself suspected or declared dead refutes by raising its
 *   incarnation and announcing itself alive. Whoever holds a suspect pings it with the
 *   suspicion attached (Lifeguard's buddy system), so the suspect learns at once.
 * - Lifeguard's local health: a score from 0 to awareness_max-1 rises when this node's
 *   own probes fail or it must refute, and falls on successful probes; probe interval and
 *   timeout stretch by (score + 1), so a slow node suspects others less.
 * - State changes (alive, suspect, dead, left, metadata) are disseminated by piggybacking
 *   on pings and acks and by gossip every gossip interval to gossip_nodes random members,
 *   each change retransmitted retransmit_mult x ceil(log10(N + 1)) times.
 * - Anti-entropy over a stream (TCP): on join, the node exchanges its full state with a
 *   seed. Every push-pull interval it exchanges a digest with one random member (a hash
 *   per bucket of members, by name hash: at most 64 buckets whatever the cluster's
 *   size), then only the members of buckets that differ, both ways, at most 1024 a frame.
 *   A converged cluster thus pays a few hundred bytes per exchange at any size, and the
 *   interval does not grow with the cluster.
 * - Precedence of updates about one member: higher incarnation wins; at equal incarnation
 *   dead/left > suspect > alive. Left is final for that incarnation. Dead and left
 *   members are kept for dead_reclaim_ms (so late rumours are recognised), then forgotten.
 *   A restarted node starts at incarnation 0, hears it is dead, and refutes above it.
 *
 * Security: every datagram and frame is sealed with AES-256-GCM under the keyring (see
 * keyring.h), with the cluster name bound in as additional data. Input that fails to
 * open or to decode is dropped, counted in gossip_stats, and never parsed further.
 *
 * Failure model: datagrams may be lost, duplicated, reordered or replayed; members may
 * crash, pause or be partitioned, and come back with the same name (and maybe a new
 * address). Incarnation numbers make replayed and stale rumours harmless. */
#ifndef NET_GOSSIP_GOSSIP_H
#define NET_GOSSIP_GOSSIP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/gossip/keyring.h"
#define GOSSIP_PORT 7946
#define GOSSIP_NAME_MAX 63	     /* bytes of a member name, without the NUL */
#define GOSSIP_CLUSTER_MAX 63	     /* bytes of a cluster name */
#define GOSSIP_TAGS_MAX 255	     /* bytes of a tags string "k=v,k=v" */
#define GOSSIP_UDP_MAX 1400	     /* largest datagram sent, sealed */
#define GOSSIP_FRAME_MAX (16u << 20) /* largest stream frame accepted, sealed */

enum gossip_profile {
	GOSSIP_PROFILE_FAST, /* default: a crash known by all within 1.5 s at 50 members */
	GOSSIP_PROFILE_LAN,  /* memberlist's LAN profile, to compare with Serf one-to-one */
};

/* Every timing knob. gossip_profile() fills one in; any field may then be overridden. */
struct gossip_config {
	uint32_t probe_interval_ms;
	uint32_t probe_timeout_ms;
	uint32_t indirect_checks;
	uint32_t suspicion_mult;
	uint32_t suspicion_max_mult;
	uint32_t gossip_interval_ms;
	uint32_t gossip_nodes;
	uint32_t retransmit_mult;
	uint32_t pushpull_interval_ms;
	uint32_t awareness_max;
	uint32_t dead_reclaim_ms;      /* how long dead and left members are remembered */
	uint32_t join_retry_ms;	       /* while alone: retry the seeds or the discovery broadcast */
	uint32_t meta_min_interval_ms; /* metadata changes are announced at most this often */
	uint32_t udp_max;	       /* largest datagram, <= GOSSIP_UDP_MAX */
};

void gossip_profile(struct gossip_config *c, enum gossip_profile p);
/* "fast" or "lan": 0, or -EINVAL. */
int gossip_profile_parse(const char *s, enum gossip_profile *p);
/* Override one field from text: key is the field's name ("probe_interval_ms",
 * "suspicion_mult", ...), value a decimal number within the field's documented range.
 * 0, -ENOENT for an unknown key, -EINVAL for a bad or out-of-range value. */
int gossip_config_set(struct gossip_config *c, const char *key, const char *value);

struct gossip_addr {
	uint32_t ip;   /* IPv4, host byte order */
	uint16_t port; /* host byte order */
};

enum gossip_state { GOSSIP_ALIVE, GOSSIP_SUSPECT, GOSSIP_DEAD, GOSSIP_LEFT };
const char *gossip_state_name(enum gossip_state s); /* "alive", "suspect", "dead", "left" */

/* What a member offers the scheduler; refreshed by its owner, disseminated with its
 * metadata. */
struct gossip_resources {
	uint16_t cpus;
	uint16_t tasks; /* running */
	uint32_t mem_total_mib;
	uint32_t mem_free_mib;
};

/* This node, as it introduces itself. Strings are copied. */
struct gossip_self {
	const char *name;    /* 1..GOSSIP_NAME_MAX bytes */
	const char *cluster; /* 0..GOSSIP_CLUSTER_MAX bytes, bound into every packet */
	const char *tags;    /* "k=v,..." up to GOSSIP_TAGS_MAX bytes, or NULL */
	struct gossip_addr addr;
	struct gossip_resources res;
};

/* A read-only view of one member. Strings stay valid until the next call into the core
 * that takes `now` (tick, input, update) or gossip_free. */
struct gossip_member {
	const char *name;
	const char *tags; /* "" when none */
	struct gossip_addr addr;
	enum gossip_state state;
	uint32_t incarnation;
	uint32_t meta_version;
	struct gossip_resources res;
	uint64_t state_since_ms; /* when this node saw the state begin */
};

enum gossip_event_kind {
	GOSSIP_EV_ALIVE,   /* joined, or came back */
	GOSSIP_EV_SUSPECT, /* suspected by someone */
	GOSSIP_EV_DEAD,	   /* declared dead */
	GOSSIP_EV_LEFT,	   /* left gracefully */
	GOSSIP_EV_UPDATE,  /* metadata or address changed, still alive */
};

struct gossip_event {
	enum gossip_event_kind kind;
	char name[GOSSIP_NAME_MAX + 1];
	struct gossip_addr addr;
	uint32_t incarnation;
	uint64_t at_ms;
};

enum gossip_out_kind {
	GOSSIP_OUT_UDP,	      /* send data as one datagram to `to` */
	GOSSIP_OUT_BROADCAST, /* send data as one datagram to the local segment's broadcast
				 address, port to.port */
	GOSSIP_OUT_STREAM,    /* open a stream to `to`, send data (a whole frame, length
				 prefix included), read one frame back and hand it to
				 gossip_stream_in; on any failure call gossip_stream_failed */
};

struct gossip_out {
	enum gossip_out_kind kind;
	struct gossip_addr to;
	const uint8_t *data; /* valid until the next call into the core */
	size_t len;
};

/* Counters; every dropped input is counted under exactly one reason. */
struct gossip_stats {
	uint64_t udp_in, udp_out, udp_bytes_in, udp_bytes_out;
	uint64_t frames_in, frames_out, frame_bytes_in, frame_bytes_out;
	uint64_t drop_auth;	 /* failed to open: wrong key, wrong cluster, tampered */
	uint64_t drop_version;	 /* unknown envelope or protocol version */
	uint64_t drop_malformed; /* opened but did not decode */
	uint64_t drop_plaintext; /* sealed/plain mismatch with this node's keyring */
	uint64_t streams_failed;
	uint64_t probes, probe_acks, probe_indirect, probe_failed;
	uint64_t suspicions, refutations, declared_dead;
	uint64_t broadcasts_dropped; /* queue over its bound */
	uint64_t meta_rate_limited;
	uint64_t app_in, app_out, app_dropped; /* application data (see gossip_next_app) */
};

struct gossip;

/* A new node, alone in its cluster until gossip_join. cfg and kr are copied; seed is 32
 * bytes from a CSPRNG (it also makes the nonces, so never reuse one). NULL on bad
 * arguments or out of memory. now_ms is a monotonic clock in milliseconds. */
struct gossip *gossip_new(const struct gossip_config *cfg, const struct gossip_self *self,
			  const struct gossip_keyring *kr, const uint8_t seed[32], uint64_t now_ms);
void gossip_free(struct gossip *g);

/* Join through these seeds (push-pull to each until one answers; retried every
 * join_retry_ms while alone). With n == 0, announce on the segment by broadcast instead;
 * any member that hears it pulls this node in. 0 or -EINVAL. */
int gossip_join(struct gossip *g, const struct gossip_addr *seeds, size_t n, uint64_t now_ms);
/* Announce a graceful leave. Keep calling gossip_tick and draining output for about a
 * gossip interval or two so it goes out; the node then answers nothing. */
void gossip_leave(struct gossip *g, uint64_t now_ms);

/* Local updates, disseminated as new metadata versions, at most one announcement per
 * meta_min_interval_ms (later changes are folded into the next). 0, or -EINVAL for tags
 * that are too long. */
void gossip_set_resources(struct gossip *g, const struct gossip_resources *r, uint64_t now_ms);
int gossip_set_tags(struct gossip *g, const char *tags, uint64_t now_ms);

/* Inputs. */
void gossip_udp_in(struct gossip *g, struct gossip_addr from, const uint8_t *data, size_t len,
		   uint64_t now_ms);
/* A stream frame received (data excludes the 4-byte length prefix). When it asks for a
 * reply (a push-pull request), *reply is filled in (kind GOSSIP_OUT_STREAM, to = from) and
 * must be written back on the same stream; otherwise reply->len is 0. Returns 0, or a
 * negative errno when the frame was dropped (counted). */
int gossip_stream_in(struct gossip *g, struct gossip_addr from, const uint8_t *data, size_t len,
		     uint64_t now_ms, struct gossip_out *reply);
/* The length a frame's 4-byte prefix announces, or -EMSGSIZE when over GOSSIP_FRAME_MAX. */
long gossip_frame_len(const uint8_t prefix[4]);
/* Write the 4-byte prefix announcing a frame of len bytes. */
void gossip_frame_put_len(uint8_t prefix[4], uint32_t len);
void gossip_stream_failed(struct gossip *g, struct gossip_addr to, uint64_t now_ms);
/* Run the timers due at now_ms. */
void gossip_tick(struct gossip *g, uint64_t now_ms);
/* When gossip_tick is next due (absolute, ms). */
uint64_t gossip_deadline(const struct gossip *g);

/* Outputs: drain after every input, tick and update. Each returns false when empty. */
bool gossip_next_out(struct gossip *g, struct gossip_out *out);
bool gossip_next_event(struct gossip *g, struct gossip_event *ev);

/* Application data riding on gossip: the cluster scheduler's job table (sched/cluster).
 * - gossip_app_broadcast queues one message for every member. It is disseminated like a
 *   membership change (piggybacked on pings and acks, and gossiped), retransmitted
 *   retransmit_mult x ceil(log10(N + 1)) times by each member that hears it first; a
 *   message with a non-zero key replaces a queued one with the same key from the same
 *   origin (a newer state of one record). At most 256 wait in the queue: beyond, one
 *   already sent at least once makes room, else -ENOBUFS. Best effort: the app's
 *   anti-entropy state repairs what a lossy network drops, and a message may (rarely)
 *   arrive twice.
 * - gossip_app_send sends one message at once, alone in one datagram, to one member that
 *   is alive in this node's view (the direct path that makes placement fast).
 * - Anti-entropy: every push-pull, both ways, also carries the application's state, which
 *   the core asks the gossip_app_state_fn for when it builds the frame.
 *   The state is opaque to gossip and goes whole (in pieces of up to 64 KiB) in every
 *   push-pull, full or digest; a node without a state function sends none.
 * What arrives comes out of gossip_next_app, in arrival order, from alive members only
 * (alive or suspect in this node's view; from anyone else it is dropped and counted in
 * app_dropped); sealed like everything else. 0, -EMSGSIZE (over GOSSIP_APP_MAX, or too
 * big for a datagram of udp_max), -EINVAL (bad arguments, this node's own name, or after
 * gossip_leave), -ENOENT (no such alive member), -ENOBUFS (queue over its bound; counted).
 * Counters: app_out messages this node made, app_in messages and states delivered,
 * app_dropped what was refused or dropped (queue or inbox full, unknown sender). The
 * inbox holds 512 undrained inputs. */
#define GOSSIP_APP_MAX 1024 /* bytes of one message */
int gossip_app_broadcast(struct gossip *g, uint64_t key, const uint8_t *data, size_t len);
int gossip_app_send(struct gossip *g, const char *name, const uint8_t *data, size_t len,
		    uint64_t now_ms);
/* The application's whole state for a push-pull: a buffer from malloc of *len bytes,
 * which the core frees, or NULL for none. Called from within gossip_tick and
 * gossip_stream_in. */
typedef uint8_t *(*gossip_app_state_fn)(void *ctx, size_t *len);
void gossip_set_app_state(struct gossip *g, gossip_app_state_fn fn, void *ctx);

enum gossip_app_kind { GOSSIP_APP_MSG, GOSSIP_APP_STATE };
struct gossip_app_in {
	enum gossip_app_kind kind;
	char from[GOSSIP_NAME_MAX + 1];
	const uint8_t *data; /* valid until the next call into the core */
	size_t len;
};
bool gossip_next_app(struct gossip *g, struct gossip_app_in *in);

/* Replace the keyring (rotation: install a key everywhere, make it first, remove the
 * old). Plaintext and sealed cannot be swapped: -EINVAL when kr->n == 0 differs, and for
 * more than GOSSIP_KEYS_MAX keys or a key not 16, 24 or 32 bytes long. */
int gossip_set_keyring(struct gossip *g, const struct gossip_keyring *kr);
void gossip_keyring_get(const struct gossip *g, struct gossip_keyring *kr);

/* Views. */
size_t gossip_count(const struct gossip *g, enum gossip_state s); /* self included */
size_t gossip_member_count(const struct gossip *g);		  /* all states, self too */
/* The i-th member, 0 <= i < gossip_member_count, in no particular order (self is 0). */
void gossip_member_at(const struct gossip *g, size_t i, struct gossip_member *m);
/* The member with this name: true and *m filled in, or false. */
bool gossip_member_find(const struct gossip *g, const char *name, struct gossip_member *m);
uint32_t gossip_health(const struct gossip *g); /* Lifeguard score, 0 = healthy */
const struct gossip_stats *gossip_stats(const struct gossip *g);

#endif
