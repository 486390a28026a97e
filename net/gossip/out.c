/* out.c: what the core sends: sealing datagrams, the output queue, drop accounting.
 *
 * Every datagram body is built with wire_begin/wire_put, filled up with queued broadcasts
 * while they fit (cfg.udp_max, sealed), then sealed under the keyring's first key with a
 * fresh nonce from a generator of its own (seeded from gossip_new's seed, apart from the
 * protocol's randomness). Outputs own their buffers until the next call into the core. */
#include <errno.h>
#include <string.h>

#include "net/gossip/core.h"
#include "net/gossip/port.h"

void swim_count_open_error(struct gossip *g, long err)
{
	if (err == -EBADMSG)
		g->st.drop_auth++;
	else if (err == -EPROTONOSUPPORT)
		g->st.drop_version++;
	else if (err == -EPROTO)
		g->st.drop_plaintext++;
	else
		g->st.drop_malformed++;
}

/* Queue one output; it owns data from now on. 0 or -ENOSPC (dropped). */
int swim_out_push(struct gossip *g, enum gossip_out_kind kind, struct gossip_addr to, uint8_t *data,
		  size_t len)
{
	struct qout *q;
	uint32_t cap;

	if (g->out_len - g->out_rd >= OUT_MAX) {
		gossip_port_free(data);
		return -ENOSPC;
	}
	if (g->out_len == g->out_cap) {
		cap = g->out_cap ? g->out_cap * 2 : 16;
		q = gossip_port_alloc((size_t)cap * sizeof *q);
		if (!q) {
			gossip_port_free(data);
			return -ENOMEM;
		}
		if (g->out_len)
			memcpy(q, g->out, (size_t)g->out_len * sizeof *q);
		gossip_port_free(g->out);
		g->out = q;
		g->out_cap = cap;
	}
	q = &g->out[g->out_len++];
	q->kind = kind;
	q->to = to;
	q->data = data;
	q->len = len;
	if (kind == GOSSIP_OUT_STREAM) {
		g->st.frames_out++;
		g->st.frame_bytes_out += len;
	} else {
		g->st.udp_out++;
		g->st.udp_bytes_out += len;
	}
	return 0;
}

bool gossip_next_out(struct gossip *g, struct gossip_out *out)
{
	struct qout *q;

	if (g->out_rd >= g->out_len)
		return false;
	q = &g->out[g->out_rd++];
	out->kind = q->kind;
	out->to = q->to;
	out->data = q->data;
	out->len = q->len;
	return true;
}

/* Every entry point starts here: outputs already handed out are freed, the clock moves
 * (never backwards). */
void swim_enter(struct gossip *g, uint64_t now)
{
	uint32_t i;

	if (now > g->now)
		g->now = now;
	for (i = 0; i < g->out_rd; i++)
		gossip_port_free(g->out[i].data);
	if (g->out_rd) {
		memmove(g->out, g->out + g->out_rd,
			(size_t)(g->out_len - g->out_rd) * sizeof *g->out);
		g->out_len -= g->out_rd;
		g->out_rd = 0;
	}
	gossip_port_free(g->reply);
	g->reply = NULL;
	swim_app_release(g);
}

/* Plaintext room in one datagram. */
size_t swim_seal_room(const struct gossip *g)
{
	return g->cfg.udp_max - (g->kr.n ? GOSSIP_SEAL_OVERHEAD : PLAIN_OVERHEAD);
}

void swim_make_nonce(struct gossip *g, uint8_t nonce[GOSSIP_NONCE_LEN])
{
	uint64_t a = rng_next(&g->nonce), b = rng_next(&g->nonce);

	memcpy(nonce, &a, sizeof a);
	memcpy(nonce + sizeof a, &b, GOSSIP_NONCE_LEN - sizeof a);
}

void swim_seal_send(struct gossip *g, enum gossip_out_kind kind, struct gossip_addr to,
		    const struct wire_writer *w)
{
	uint8_t nonce[GOSSIP_NONCE_LEN], *buf;
	size_t cap = w->len + GOSSIP_SEAL_OVERHEAD;
	long n;

	buf = gossip_port_alloc(cap);
	if (!buf)
		return;
	swim_make_nonce(g, nonce);
	n = gossip_seal(&g->kr, g->cluster, nonce, w->buf, w->len, buf, cap);
	if (n < 0) {
		gossip_port_free(buf);
		return;
	}
	swim_out_push(g, kind, to, buf, (size_t)n);
}

/* One datagram: up to two messages, then (when asked) what fits of the broadcast queue. */
void swim_send_msg(struct gossip *g, enum gossip_out_kind kind, struct gossip_addr to,
		   const struct wire_msg *first, const struct wire_msg *second, bool piggyback)
{
	struct wire_writer w;

	if (wire_begin(&w, g->opkt, swim_seal_room(g)) < 0 || (first && wire_put(&w, first) < 0) ||
	    (second && wire_put(&w, second) < 0))
		return;
	if (piggyback)
		swim_bq_fill(g, &w);
	swim_seal_send(g, kind, to, &w);
}
