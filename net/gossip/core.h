/* core.h: the gossip core's private state, shared by its .c files; not a public API.
 *
 * Layout, chosen for the simulator (10,000 cores each knowing 10,000 members):
 * - members live in one array (self at 0) of 64-byte records; names and tags are interned
 *   through port.h so equal strings are stored once; an open-addressing table of indices
 *   finds a member by name in O(1); removal swaps the last record into the hole.
 * - the probe order is an array of member indices, reshuffled once per round; records
 *   that moved or vanished meanwhile are skipped or probed once late, never lost for good.
 * - broadcasts wait in a bounded queue bucketed by transmit count (least sent first);
 *   suspicions sit in a min-heap by deadline; dead members in a FIFO by time of death
 *   (dead_reclaim_ms is one constant, so the FIFO is also sorted by reclaim time). */
#ifndef NET_GOSSIP_CORE_H
#define NET_GOSSIP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/gossip/gossip.h"
#include "net/gossip/wire.h"

#define NONE UINT32_MAX
#define NEVER UINT64_MAX

#define BCAST_MAX 512		 /* queued broadcasts; beyond, the most-sent one is dropped */
#define BCAST_TX_MAX 63		 /* retransmit limits are clamped to this */
#define BCAST_SKIP_MAX 16	 /* queued messages passed over per packet before giving up */
#define INDIRECT_MAX 16		 /* indirect_checks at most */
#define RELAY_MAX 32		 /* ping-reqs relayed at once; more are ignored */
#define SUSP_K_MAX 16		 /* confirmations a suspicion counts at most */
#define OUT_MAX 4096		 /* undrained outputs kept; more are dropped */
#define EV_MIN 16		 /* event ring capacity it shrinks back to when drained */
#define PICK_TRIES 8		 /* random draws per wanted member before giving up */
#define DISCOVER_ANSWERERS 3	 /* members expected to answer one discovery broadcast */
#define GOSSIP_TO_DEAD_MS 30000	 /* dead members still get gossip this long (memberlist) */
#define BROADCAST_IP 0xffffffffu /* GOSSIP_OUT_BROADCAST's address, for the record */
#define PLAIN_OVERHEAD 2	 /* envelope of a plaintext datagram: version and mode */
#define BCAST_APP_MAX 256	 /* queued application messages, of the BCAST_MAX */
#define APP_IN_MAX 512		 /* undrained application input kept; more is dropped */
#define APP_SEEN_SLOTS 2048	 /* duplicate filter: slots per generation (a power of two) */
#define DIGEST_PER_BUCKET 2	 /* a digest has about members / this buckets, */
#define DIGEST_BUCKETS_MAX 64	 /* ... at most this many (a power of two) */
#define SYNC_STATES_MAX 1024	 /* member states in one digest-driven frame at most */

/* One member. 64 bytes on LP64: keep it that way (see the layout note above). */
struct member {
	const char *name; /* interned */
	const char *tags; /* interned, NULL when empty */
	uint32_t ip;
	uint16_t port;
	uint8_t state; /* enum gossip_state */
	uint8_t pad;
	uint32_t hash; /* of the name, for the index */
	uint32_t inc;
	uint32_t meta_version;
	struct gossip_resources res;
	uint32_t susp;	/* suspicion pool slot, or NONE */
	uint16_t bcast; /* broadcast queue slot, 0 when none queued */
	uint16_t pad2;
	uint64_t since; /* when this node saw the state begin */
};

struct rng {
	uint64_t s[4];
};

struct bentry {
	uint8_t *msg;	 /* one encoded message (wire_encode) */
	uint64_t key;	 /* application message: its replacement key (0: none) */
	uint32_t origin; /* application message: its origin's name hash */
	uint32_t seq;	 /* application message: its number */
	uint32_t member; /* the member it is about, or NONE for an application message */
	uint16_t len;
	uint16_t prev, next; /* slot numbers, 0 = none */
	uint8_t tx;	     /* times sent */
};

struct bqueue {
	struct bentry e[BCAST_MAX + 1]; /* slot 0 unused: 0 means none */
	uint16_t head[BCAST_TX_MAX + 1], tail[BCAST_TX_MAX + 1];
	uint16_t free; /* free slots, linked by next */
	uint32_t len;
};

struct susp {
	uint32_t member;
	uint32_t pos; /* in the heap */
	uint64_t start, deadline;
	uint32_t min, max;	       /* ms */
	uint8_t k, n;		       /* confirmations wanted, seen */
	uint32_t from[SUSP_K_MAX + 1]; /* hashes of the accusers seen */
};

struct probe {
	bool active, acked, indirect;
	uint32_t seq;
	const char *target; /* interned reference of our own */
	uint64_t t_timeout;
	uint32_t nacks_wanted, nacks;
};

struct relay {
	bool used, want_nack;
	uint32_t seq, orig_seq;
	struct gossip_addr to;
	uint64_t deadline;
};

struct grave {
	const char *name; /* interned reference of our own */
	uint64_t since;
};

struct qout {
	enum gossip_out_kind kind;
	struct gossip_addr to;
	uint8_t *data;
	size_t len;
};

struct appin {
	uint8_t kind; /* enum gossip_app_kind */
	char from[GOSSIP_NAME_MAX + 1];
	uint8_t *data;
	size_t len;
};

struct qev {
	const char *name; /* interned reference of our own */
	struct gossip_addr addr;
	uint32_t inc;
	uint8_t kind;
	uint64_t at;
};

struct gossip {
	struct gossip_config cfg;
	struct gossip_keyring kr;
	char cluster[GOSSIP_CLUSTER_MAX + 1];
	struct rng rng, nonce;
	uint64_t now;
	bool left;
	bool rx; /* handling a datagram from rx_from */
	struct gossip_addr rx_from;

	/* members */
	struct member *m;
	uint32_t n, cap;
	uint32_t *index; /* member + 1, 0 = empty; index_cap is a power of two */
	uint32_t index_cap;
	uint32_t count[GOSSIP_LEFT + 1];

	/* probing */
	uint32_t *order;
	uint32_t order_len, order_pos, order_cap;
	struct probe probe;
	uint64_t next_probe;
	uint32_t seq;
	uint32_t health;
	struct relay relay[RELAY_MAX];
	uint32_t nrelay;

	/* dissemination */
	struct bqueue bq;
	uint64_t next_gossip;

	/* suspicion */
	struct susp *susp;
	uint32_t *heap; /* susp slots ordered by deadline */
	uint32_t nheap, susp_cap, susp_free;

	/* anti-entropy and joining */
	uint64_t next_pushpull;
	struct gossip_addr *seeds;
	size_t nseeds;
	bool joining, discover;
	uint64_t next_join;

	/* metadata */
	bool meta_pending, meta_sent;
	uint64_t meta_last;

	/* application data (app.c) */
	gossip_app_state_fn app_state;
	void *app_ctx;
	uint32_t app_seq;    /* this node's next message number */
	uint32_t app_queued; /* application messages in the broadcast queue */
	struct appin *inbox; /* APP_IN_MAX entries once used */
	uint32_t in_head, in_len;
	uint8_t *app_last; /* data handed out by gossip_next_app */
	uint64_t *seen;	   /* two generations of APP_SEEN_SLOTS ids, once used */
	uint32_t seen_cur, seen_n;

	/* dead and left members, oldest first */
	struct grave *graves;
	uint32_t grave_head, grave_len, grave_cap;

	/* outputs */
	struct qout *out;
	uint32_t out_len, out_rd, out_cap;
	uint8_t *reply; /* the last stream reply handed out */
	struct qev *ev;
	uint32_t ev_head, ev_len, ev_cap;

	struct gossip_stats st;
	uint8_t pkt[GOSSIP_UDP_MAX];  /* an incoming datagram's plaintext */
	uint8_t opkt[GOSSIP_UDP_MAX]; /* an outgoing one's, while it is built */
};

/* Randomness: xoshiro256** (Blackman and Vigna), seeded by splitmix64 in swim.c. */
static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, out = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return out;
}

/* Uniform in [0, n) for n > 0 (multiply-shift; the bias is below 2^-32). */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Copy a string, truncating to n - 1 bytes and always terminating (the host's libc may
 * lack strlcpy). */
static inline void scopy(char *d, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && s[i]; i++)
		d[i] = s[i];
	d[i] = 0;
}

static inline uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static inline struct gossip_addr swim_addr_of(const struct member *m)
{
	struct gossip_addr a = {.ip = m->ip, .port = m->port};

	return a;
}

/* A period stretched by Lifeguard's health score. */
static inline uint64_t swim_scaled(const struct gossip *g, uint32_t ms)
{
	return (uint64_t)ms * (g->health + 1);
}

/* members.c */
uint32_t swim_name_hash(const char *s);
uint32_t swim_member_find(const struct gossip *g, const char *name);
uint32_t swim_member_add(struct gossip *g, const char *name, uint64_t now);
void swim_member_remove(struct gossip *g, uint32_t i);
void swim_member_set_state(struct gossip *g, struct member *m, enum gossip_state s, uint64_t now);
int swim_member_set_tags(struct member *m, const char *tags);
uint32_t swim_member_pick(struct gossip *g, uint32_t *out, uint32_t k, uint32_t skip,
			  bool (*ok)(const struct gossip *, const struct member *));
uint32_t swim_member_next_probe(struct gossip *g);
void swim_event_push(struct gossip *g, enum gossip_event_kind kind, const struct member *m);
void swim_grave_push(struct gossip *g, const struct member *m);
void swim_graves_reap(struct gossip *g, uint64_t now);
uint64_t swim_graves_deadline(const struct gossip *g);
uint32_t swim_grave_pick(struct gossip *g);
void swim_members_free(struct gossip *g);

/* bcast.c */
void swim_bq_init(struct bqueue *q);
void swim_bq_put(struct gossip *g, uint32_t member, const struct wire_msg *msg);
void swim_bq_del(struct gossip *g, uint32_t slot);
void swim_bq_fill(struct gossip *g, struct wire_writer *w);
void swim_bq_free(struct gossip *g);
int swim_bq_put_app(struct gossip *g, const struct wire_msg *msg, uint32_t origin);
uint32_t swim_retransmit_limit(const struct gossip *g);

/* susp.c */
uint32_t swim_log2_milli(uint64_t x);
int swim_susp_start(struct gossip *g, uint32_t member, const char *from, uint64_t now);
bool swim_susp_confirm(struct gossip *g, uint32_t slot, const char *from, uint64_t now);
void swim_susp_stop(struct gossip *g, uint32_t member);
uint32_t swim_susp_expired(struct gossip *g,
			   uint64_t now); /* a member whose timer ran out, or NONE */
uint64_t swim_susp_deadline(const struct gossip *g);
void swim_susp_free_all(struct gossip *g);

/* out.c */
void swim_seal_send(struct gossip *g, enum gossip_out_kind kind, struct gossip_addr to,
		    const struct wire_writer *w);

/* probe.c */
void swim_probe_start(struct gossip *g);
void swim_probe_indirect(struct gossip *g);
void swim_probe_judge(struct gossip *g);
void swim_probe_end(struct gossip *g);
void swim_on_ack(struct gossip *g, uint32_t seq);
void swim_relay_start(struct gossip *g, const struct wire_ping_req *pr);
void swim_relays_tick(struct gossip *g);

/* swim.c */
void swim_health_add(struct gossip *g, int d);
void swim_self_node(const struct gossip *g, struct wire_node *n);
void swim_accuse_msg(struct wire_msg *msg, enum wire_type t, const struct member *m,
		     const char *from);
uint32_t swim_alive_others(const struct gossip *g);
void swim_fill_alive(const struct gossip *g, const struct member *m, struct wire_alive *a);
bool swim_on_alive(struct gossip *g, const struct wire_alive *a, bool quiet);
void swim_on_suspect(struct gossip *g, const struct wire_accuse *s);
void swim_on_dead(struct gossip *g, const struct wire_accuse *d);
void swim_send_msg(struct gossip *g, enum gossip_out_kind kind, struct gossip_addr to,
		   const struct wire_msg *first, const struct wire_msg *second, bool piggyback);
void swim_enter(struct gossip *g, uint64_t now);
size_t swim_seal_room(const struct gossip *g);
void swim_make_nonce(struct gossip *g, uint8_t nonce[GOSSIP_NONCE_LEN]);
int swim_out_push(struct gossip *g, enum gossip_out_kind kind, struct gossip_addr to, uint8_t *data,
		  size_t len);
void swim_count_open_error(struct gossip *g, long err);

/* app.c */
void swim_on_app(struct gossip *g, const struct wire_app *a);
void swim_app_deliver(struct gossip *g, enum gossip_app_kind kind, const char *from,
		      const uint8_t *data, size_t len);
void swim_app_release(struct gossip *g);
void swim_app_free(struct gossip *g);

/* sync.c */
void swim_pushpull_send(struct gossip *g, struct gossip_addr to, bool join);
void swim_join_tick(struct gossip *g, uint64_t now, bool force);
void swim_pushpull_tick(struct gossip *g, uint64_t now);
uint64_t swim_pushpull_interval(const struct gossip *g);
void swim_on_discover(struct gossip *g, const struct wire_discover *d);

#endif
