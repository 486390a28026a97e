/* wire.h: the gossip messages and their binary codec (the bytes are in PROTOCOL.md).
 *
 * A datagram, once opened (keyring.h), is a protocol version byte followed by one or
 * more messages; each message is a type byte, a 16-bit length and its body, so a reader
 * can check every length before it reads and skip nothing silently. A stream frame has
 * the same layout: a push-pull header message followed by `count` state messages.
 * All integers are big-endian. Names and tags are length-prefixed, never NUL-terminated
 * on the wire; decoding copies them into the message's arrays with a NUL added. */
#ifndef NET_GOSSIP_WIRE_H
#define NET_GOSSIP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/gossip/gossip.h"

#define WIRE_VERSION 1

enum wire_type {
	WIRE_PING = 1,	   /* direct probe */
	WIRE_PING_REQ = 2, /* please probe target for me */
	WIRE_ACK = 3,	   /* answer to a ping (also relayed for a ping-req) */
	WIRE_NACK = 4,	   /* relay could not reach the target in time (Lifeguard) */
	WIRE_ALIVE = 5,
	WIRE_SUSPECT = 6,
	WIRE_DEAD = 7,	     /* from == name: the member left */
	WIRE_DISCOVER = 8,   /* broadcast by a node with no seeds */
	WIRE_PUSHPULL = 9,   /* stream: header of a full-state exchange */
	WIRE_STATE = 10,     /* stream: one member's full state */
	WIRE_APP = 11,	     /* application message (gossip_app_broadcast, gossip_app_send) */
	WIRE_APP_STATE = 12, /* stream: a piece of the sender's application state */
	WIRE_DIGEST = 13,    /* stream: per-bucket hashes of the member table */
};

#define WIRE_DIGEST_MAX 256 /* buckets a digest may have */

struct wire_node {
	char name[GOSSIP_NAME_MAX + 1];
	struct gossip_addr addr;
};

struct wire_ping {
	uint32_t seq;
	char target[GOSSIP_NAME_MAX + 1]; /* a node acks only pings meant for its own name */
	struct wire_node source;	  /* where the ack goes */
};

struct wire_ping_req {
	uint32_t seq;
	struct wire_node target;
	struct wire_node source; /* whom to relay the ack (or nack) to */
	bool want_nack;
};

struct wire_ack {
	uint32_t seq;
};

struct wire_nack {
	uint32_t seq;
};

/* ALIVE and STATE: everything known about one member. */
struct wire_alive {
	uint32_t incarnation;
	struct wire_node node;
	uint32_t meta_version;
	struct gossip_resources res;
	char tags[GOSSIP_TAGS_MAX + 1];
	enum gossip_state state; /* STATE only; ALIVE is always alive */
};

/* SUSPECT and DEAD. */
struct wire_accuse {
	uint32_t incarnation;
	char name[GOSSIP_NAME_MAX + 1];
	char from[GOSSIP_NAME_MAX + 1];
};

struct wire_discover {
	struct wire_node node;
};

struct wire_pushpull {
	bool join;	/* sent by a joining node */
	bool reply;	/* the answer to a request */
	bool push;	/* states only: answer with an empty reply */
	uint32_t count; /* STATE messages that follow */
};

/* APP and APP_STATE: data points into the buffer decoded (or the caller's, to encode). */
struct wire_app {
	char origin[GOSSIP_NAME_MAX + 1]; /* APP: who made it; APP_STATE: the frame's sender */
	bool direct;			  /* APP: sent to one member, not to be relayed */
	uint32_t seq;			  /* APP: the origin's message number */
	uint64_t key;			  /* APP: replacement key, 0 = none */
	const uint8_t *data;
	size_t len;
};

/* DIGEST: n bucket hashes as n big-endian u32 at h (into the buffer decoded, or the
 * caller's, to encode); wire_digest_at reads one. */
struct wire_digest {
	uint16_t n; /* buckets, 1..WIRE_DIGEST_MAX */
	const uint8_t *h;
};

struct wire_msg {
	enum wire_type type;
	union {
		struct wire_ping ping;
		struct wire_ping_req ping_req;
		struct wire_ack ack;
		struct wire_nack nack;
		struct wire_alive alive;   /* ALIVE and STATE */
		struct wire_accuse accuse; /* SUSPECT and DEAD */
		struct wire_discover discover;
		struct wire_pushpull pushpull;
		struct wire_app app; /* APP and APP_STATE */
		struct wire_digest digest;
	} u;
};

/* Encoding into a caller's buffer. */
struct wire_writer {
	uint8_t *buf;
	size_t cap, len;
};

/* Start a datagram or frame body: writes the version byte. -ENOSPC if cap < 1. */
int wire_begin(struct wire_writer *w, uint8_t *buf, size_t cap);
/* Append one message: 0, -ENOSPC (writer unchanged), or -EINVAL (a name or tags string
 * too long, an unknown type or state). */
int wire_put(struct wire_writer *w, const struct wire_msg *m);
/* Append a message already encoded by wire_encode (broadcast queues keep those). */
int wire_put_raw(struct wire_writer *w, const uint8_t *msg, size_t len);
/* Encode one message on its own (type, length, body): its length, -ENOSPC or -EINVAL. */
long wire_encode(const struct wire_msg *m, uint8_t *buf, size_t cap);
/* Exact encoded length of a message (type, length and body), or -EINVAL. */
long wire_size(const struct wire_msg *m);

/* Decoding. */
struct wire_reader {
	const uint8_t *p;
	size_t left;
};

/* Check the version byte: 0, -EMSGSIZE (empty) or -EPROTONOSUPPORT. */
int wire_open(struct wire_reader *r, const uint8_t *buf, size_t len);
/* The next message: 1 with *m filled in, 0 at the end, or a negative errno for the rest
 * of the input: -EMSGSIZE (truncated, or a length that disagrees with the body),
 * -EINVAL (an out-of-range field: a name too long or empty, a NUL byte in a name or
 * tags, an unknown state or flag bit), -EPROTO (an unknown message type). On an error the
 * reader does not advance: the rest of the input is to be dropped. */
int wire_get(struct wire_reader *r, struct wire_msg *m);

/* Bucket i of a digest, and the bytes to encode one from values (out may be h). */
uint32_t wire_digest_at(const struct wire_digest *d, uint16_t i);
void wire_digest_pack(uint8_t *out, const uint32_t *h, uint16_t n);

#endif
