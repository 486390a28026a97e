/* queue.h: the simulator's event queue, a binary min-heap ordered by time, then by the
 * order events were pushed, so equal-time events run first in, first out and a run is a
 * pure function of its seed. */
#ifndef TESTS_SIM_QUEUE_H
#define TESTS_SIM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/gossip/gossip.h"

enum ev_kind {
	EV_START,	 /* a node boots and joins */
	EV_TICK,	 /* a node's timers are due (valid while gen matches the node's) */
	EV_UDP,		 /* a datagram reaches node's address */
	EV_STREAM_REQ,	 /* a stream frame reaches node; peer/peer_epoch wait for the reply */
	EV_STREAM_REPLY, /* the reply frame reaches node (the requester) */
	EV_STREAM_FAIL,	 /* node's stream to `from` failed */
};

struct ev {
	uint64_t at, seq;
	uint64_t sent_at; /* streams: when the requester opened it */
	uint32_t node;	  /* whom it happens to */
	uint32_t epoch;	  /* the node's instance it is meant for (streams, ticks) */
	uint32_t peer;	  /* streams: the other end, and its instance */
	uint32_t peer_epoch;
	struct gossip_addr from; /* datagrams: the source; streams: the other end */
	struct gossip_addr to;	 /* stream requests: the address the requester dialed */
	uint8_t kind;
	uint32_t len;
	uint8_t *data; /* owned by the event: freed by whoever pops it */
};

struct queue {
	struct ev *v;
	size_t n, cap;
	uint64_t seq;
};

/* Push a copy of *e (its seq is assigned here). 0 or -ENOMEM. */
int queue_push(struct queue *q, const struct ev *e);
/* Pop the earliest event into *e: false when empty. */
bool queue_pop(struct queue *q, struct ev *e);
/* The earliest event's time, or UINT64_MAX when empty. */
uint64_t queue_next(const struct queue *q);
/* Free every pending event's data and the heap. */
void queue_free(struct queue *q);

#endif
