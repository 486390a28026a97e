/* sync.c: push-pull anti-entropy over streams, joining (seeds or discovery), frames.
 *
 * Two kinds of exchange (PROTOCOL.md has the frames):
 * - Full, on join and to pull in a node that announced itself by DISCOVER: each side
 *   sends its whole table (every member, dead and left included, self too).
 * - Digest, every push-pull interval with one random alive member (and now and then with
 *   a dead one): the initiator sends a digest, the sum per bucket of a hash of each
 *   member's (name, incarnation, state, address), members put in buckets by name hash.
 *   The receiver computes its own digest with the same bucket count and answers with the
 *   states of its members in the buckets that differ, plus its digest. The initiator
 *   merges them, compares again, and pushes its states of the buckets that still differ
 *   in a second stream (push flag; answered by an empty reply). A converged cluster thus
 *   exchanges two digests of at most DIGEST_BUCKETS_MAX x 4 bytes, whatever its size, and
 *   the push-pull interval no longer needs to grow with the cluster (memberlist scales
 *   it because its frames carry the whole table). A digest-driven frame carries at most
 *   SYNC_STATES_MAX states, starting at a random member, so even a large difference
 *   (after a partition heals) costs a bounded frame; further exchanges carry the rest.
 * Both kinds carry the application's state (gossip_set_app_state) whole, both ways.
 *
 * Merging: both sides merge what they got as if it were rumours: alive by incarnation,
 * left as a leave, and dead or suspect only as a suspicion (memberlist's rule: one node's
 * verdict is not taken on trust; the accused, if alive, gets the chance to refute). A node
 * that hears itself called dead this way, typically because it restarted at incarnation 0
 * under an old name, refutes above the old incarnation.
 *
 * Merged news is re-broadcast like any rumour (as memberlist does: during a mass join the
 * joiners are the epidemic's carriers), except what a node alone learns from a big
 * table (over QUIET_FRAME_MIN members): a joiner that pulls in a cluster of 10,000 would
 * otherwise queue 10,000 stale announcements that everybody already knows.
 *
 * Joining: push-pull (join flag) to every seed, again every join_retry_ms while alone.
 * With no seeds: a DISCOVER broadcast instead, at the same pace; a member that hears one
 * from a node it does not know alive pulls it in. In a big cluster only about
 * DISCOVER_ANSWERERS members answer (each with that probability over its member count);
 * one that is alone itself always answers, so a rack booted at once forms one cluster. */
#include <errno.h>
#include <string.h>

#include "net/gossip/core.h"
#include "net/gossip/port.h"

#define PREFIX_LEN 4
#define QUIET_FRAME_MIN (BCAST_MAX / 4)
#define HDR_LEN 3				      /* a message's type and length */
#define APP_CHUNK_MAX (0xffffu - 1 - GOSSIP_NAME_MAX) /* state bytes per APP_STATE */

/* Which members a frame lists: all, or those in the marked buckets of n. */
struct sel {
	bool all;
	uint16_t n;
	uint8_t bits[WIRE_DIGEST_MAX / 8];
};

/* What goes into a frame besides its members. */
struct frame {
	struct wire_msg hdr;
	struct sel sel;
	const uint8_t *digest; /* packed, or NULL */
	uint16_t digest_n;
	bool app; /* ask the application for its state */
};

static bool ok_alive(const struct gossip *g, const struct member *m)
{
	return m->state == GOSSIP_ALIVE;
}

/* The push-pull interval. It used to grow with the cluster (memberlist's scaling, as its
 * frames carry the whole table); digests make a converged exchange cost the same at any
 * size, so it stays as configured. */
uint64_t swim_pushpull_interval(const struct gossip *g) { return g->cfg.pushpull_interval_ms; }

/* Digests. */

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	return x ^ (x >> 16);
}

static uint32_t bucket_of(const struct member *m, uint16_t n)
{
	return (uint32_t)(((uint64_t)mix32(m->hash) * n) >> 32);
}

/* What a member adds to its bucket: everything a STATE decides on. Metadata changes
 * raise the incarnation, so they count too. */
static uint32_t entry_hash(const struct member *m)
{
	uint32_t h = mix32(m->hash ^ 0x9e3779b9u);

	h = mix32(h ^ m->inc);
	h = mix32(h ^ m->state);
	h = mix32(h ^ m->ip);
	return mix32(h ^ m->port);
}

/* About DIGEST_PER_BUCKET members a bucket, a power of two up to DIGEST_BUCKETS_MAX. */
static uint16_t digest_buckets(const struct gossip *g)
{
	uint32_t want = (g->n + DIGEST_PER_BUCKET - 1) / DIGEST_PER_BUCKET;
	uint16_t b = 1;

	while (b < want && b < DIGEST_BUCKETS_MAX)
		b <<= 1;
	return b;
}

/* Our digest over n buckets, packed as on the wire, in a new buffer (NULL: no memory). */
static uint8_t *digest_make(const struct gossip *g, uint16_t n)
{
	uint32_t *h = gossip_port_alloc((size_t)n * sizeof *h), i;

	if (!h)
		return NULL;
	memset(h, 0, (size_t)n * sizeof *h);
	for (i = 0; i < g->n; i++)
		h[bucket_of(&g->m[i], n)] += entry_hash(&g->m[i]);
	for (i = 0; i < n; i++)
		wire_digest_pack((uint8_t *)&h[i], &h[i], 1); /* in place, one at a time */
	return (uint8_t *)h;
}

/* Mark the buckets where our table differs from theirs: true when any does. Out of
 * memory: none (the next exchange tries again). */
static bool digest_diff(const struct gossip *g, const struct wire_digest *theirs, struct sel *s)
{
	uint8_t *mine = digest_make(g, theirs->n);
	bool any = false;
	uint16_t b;

	memset(s, 0, sizeof *s);
	s->n = theirs->n;
	for (b = 0; mine && b < theirs->n; b++)
		if (memcmp(mine + 4 * b, theirs->h + 4 * b, 4) != 0) {
			s->bits[b / 8] |= (uint8_t)(1u << (b % 8));
			any = true;
		}
	gossip_port_free(mine);
	return any;
}

static bool picked(const struct sel *s, const struct member *m)
{
	uint32_t b;

	if (s->all)
		return true;
	if (!s->n)
		return false;
	b = bucket_of(m, s->n);
	return s->bits[b / 8] & (1u << (b % 8));
}

/* Frames. */

static void state_msg(const struct gossip *g, uint32_t i, struct wire_msg *msg)
{
	msg->type = WIRE_STATE;
	swim_fill_alive(g, &g->m[i], &msg->u.alive);
}

/* Size (buf == NULL) or write the member states a frame lists, beginning at member
 * start: the bytes, or -1. *count is how many. */
static long states_put(struct gossip *g, const struct sel *s, uint32_t start, struct wire_writer *w,
		       uint32_t *count)
{
	uint32_t lim = s->all ? UINT32_MAX : SYNC_STATES_MAX, k, i;
	struct wire_msg msg;
	long n, total = 0;

	*count = 0;
	for (k = 0; k < g->n && *count < lim; k++) {
		i = (start + k) % g->n;
		if (!picked(s, &g->m[i]))
			continue;
		state_msg(g, i, &msg);
		n = w ? (wire_put(w, &msg) < 0 ? -1 : 0) : wire_size(&msg);
		if (n < 0)
			return -1;
		total += n;
		(*count)++;
	}
	return total;
}

/* The application state as APP_STATE messages: their encoded size. */
static size_t app_size(const struct gossip *g, size_t len)
{
	size_t chunks = (len + APP_CHUNK_MAX - 1) / APP_CHUNK_MAX;

	return len + chunks * (HDR_LEN + 1 + strlen(g->m[0].name));
}

static int app_put(struct gossip *g, struct wire_writer *w, const uint8_t *data, size_t len)
{
	struct wire_msg msg;
	size_t off, n;

	memset(&msg, 0, sizeof msg);
	msg.type = WIRE_APP_STATE;
	scopy(msg.u.app.origin, g->m[0].name, sizeof msg.u.app.origin);
	for (off = 0; off < len; off += n) {
		n = len - off < APP_CHUNK_MAX ? len - off : APP_CHUNK_MAX;
		msg.u.app.data = data + off;
		msg.u.app.len = n;
		if (wire_put(w, &msg) < 0)
			return -1;
	}
	return 0;
}

/* A frame, length prefix included; NULL when out of memory or over GOSSIP_FRAME_MAX. */
static uint8_t *frame_build(struct gossip *g, struct frame *f, size_t *len)
{
	struct wire_msg dig;
	struct wire_writer w;
	size_t total, cap, app_len = 0, app_bytes = 0;
	uint8_t nonce[GOSSIP_NONCE_LEN], *plain = NULL, *frame = NULL, *app = NULL;
	uint32_t start = f->sel.all || !f->sel.n ? 0 : rng_below(&g->rng, g->n), count;
	long n, hn, dn = 0, sn;

	sn = states_put(g, &f->sel, start, NULL, &count);
	f->hdr.type = WIRE_PUSHPULL;
	f->hdr.u.pushpull.count = count;
	hn = wire_size(&f->hdr);
	if (f->digest) {
		dig.type = WIRE_DIGEST;
		dig.u.digest.n = f->digest_n;
		dig.u.digest.h = f->digest;
		dn = wire_size(&dig);
	}
	if (sn < 0 || hn < 0 || dn < 0)
		return NULL;
	total = 1 + (size_t)hn + (size_t)sn + (size_t)dn;
	if (f->app && g->app_state) {
		app = g->app_state(g->app_ctx, &app_len);
		if (app && app_len) {
			app_bytes = app_size(g, app_len);
			if (total + app_bytes + GOSSIP_SEAL_OVERHEAD > GOSSIP_FRAME_MAX) {
				g->st.app_dropped++; /* the members go anyway */
				app_bytes = 0;
			}
		}
	}
	total += app_bytes;
	cap = total + GOSSIP_SEAL_OVERHEAD;
	if (cap > GOSSIP_FRAME_MAX)
		goto fail;
	plain = gossip_port_alloc(total);
	frame = gossip_port_alloc(PREFIX_LEN + cap);
	if (!plain || !frame || wire_begin(&w, plain, total) < 0 || wire_put(&w, &f->hdr) < 0 ||
	    states_put(g, &f->sel, start, &w, &count) < 0 ||
	    (f->digest && wire_put(&w, &dig) < 0) ||
	    (app_bytes && app_put(g, &w, app, app_len) < 0))
		goto fail;
	swim_make_nonce(g, nonce);
	n = gossip_seal(&g->kr, g->cluster, nonce, plain, w.len, frame + PREFIX_LEN, cap);
	if (n < 0)
		goto fail;
	gossip_port_free(plain);
	gossip_port_free(app);
	gossip_frame_put_len(frame, (uint32_t)n);
	*len = PREFIX_LEN + (size_t)n;
	return frame;
fail:
	gossip_port_free(plain);
	gossip_port_free(frame);
	gossip_port_free(app);
	return NULL;
}

static void frame_send(struct gossip *g, struct gossip_addr to, struct frame *f)
{
	size_t len;
	uint8_t *frame = frame_build(g, f, &len);

	if (frame)
		swim_out_push(g, GOSSIP_OUT_STREAM, to, frame, len);
}

/* A full exchange: the whole table (join, or pulling in a discovered node). */
void swim_pushpull_send(struct gossip *g, struct gossip_addr to, bool join)
{
	struct frame f;

	memset(&f, 0, sizeof f);
	f.hdr.u.pushpull.join = join;
	f.sel.all = true;
	f.app = true;
	frame_send(g, to, &f);
}

/* A digest exchange (the periodic one). */
static void digest_send(struct gossip *g, struct gossip_addr to)
{
	uint16_t n = digest_buckets(g);
	uint8_t *d = digest_make(g, n);
	struct frame f;

	if (!d)
		return;
	memset(&f, 0, sizeof f);
	f.digest = d;
	f.digest_n = n;
	f.app = true;
	frame_send(g, to, &f);
	gossip_port_free(d);
}

void gossip_frame_put_len(uint8_t prefix[4], uint32_t len)
{
	prefix[0] = (uint8_t)(len >> 24);
	prefix[1] = (uint8_t)(len >> 16);
	prefix[2] = (uint8_t)(len >> 8);
	prefix[3] = (uint8_t)len;
}

long gossip_frame_len(const uint8_t prefix[4])
{
	uint32_t n = (uint32_t)prefix[0] << 24 | (uint32_t)prefix[1] << 16 |
		     (uint32_t)prefix[2] << 8 | prefix[3];

	return n > GOSSIP_FRAME_MAX ? -EMSGSIZE : (long)n;
}

/* One member's state from a frame; true when it was news (a member or incarnation we
 * did not know alive). */
static bool merge(struct gossip *g, const struct wire_alive *a, bool quiet)
{
	struct wire_accuse acc;

	if (a->state == GOSSIP_ALIVE)
		return swim_on_alive(g, a, quiet);
	acc.incarnation = a->incarnation;
	scopy(acc.name, a->node.name, sizeof acc.name);
	if (a->state == GOSSIP_LEFT) {
		scopy(acc.from, a->node.name, sizeof acc.from);
		swim_on_dead(g, &acc);
	} else {
		scopy(acc.from, g->m[0].name, sizeof acc.from);
		swim_on_suspect(g, &acc);
	}
	return false;
}

/* A received frame, checked whole. */
struct frame_info {
	struct wire_pushpull hdr;
	bool has_digest;
	struct wire_digest digest;
	size_t app_len;
	char app_from[GOSSIP_NAME_MAX + 1];
};

/* Decode and check a whole frame: a PUSHPULL, exactly count STATEs, at most one DIGEST,
 * then APP_STATEs all from one sender. */
static int frame_check(struct wire_reader r, struct frame_info *fi)
{
	struct wire_msg msg;
	uint32_t seen = 0;
	int rc = wire_get(&r, &msg);

	memset(fi, 0, sizeof *fi);
	if (rc <= 0 || msg.type != WIRE_PUSHPULL)
		return -EMSGSIZE;
	fi->hdr = msg.u.pushpull;
	while ((rc = wire_get(&r, &msg)) > 0) {
		switch (msg.type) {
		case WIRE_STATE:
			if (fi->has_digest || fi->app_from[0] || ++seen > fi->hdr.count)
				return -EPROTO;
			break;
		case WIRE_DIGEST:
			if (fi->has_digest || fi->app_from[0])
				return -EPROTO;
			fi->has_digest = true;
			fi->digest = msg.u.digest;
			break;
		case WIRE_APP_STATE:
			if (fi->app_from[0] && strcmp(fi->app_from, msg.u.app.origin) != 0)
				return -EPROTO;
			scopy(fi->app_from, msg.u.app.origin, sizeof fi->app_from);
			fi->app_len += msg.u.app.len;
			break;
		default:
			return -EPROTO;
		}
	}
	return rc < 0 ? rc : seen == fi->hdr.count ? 0 : -EMSGSIZE;
}

/* The answer to a request, as its kind asks. */
static void reply_build(struct gossip *g, const struct frame_info *fi, struct gossip_out *reply)
{
	uint8_t *mine = NULL;
	struct frame f;
	size_t rlen;

	memset(&f, 0, sizeof f);
	f.hdr.u.pushpull.reply = true;
	if (fi->hdr.push) {
		/* states only: an empty answer closes the exchange */
	} else if (fi->has_digest) {
		digest_diff(g, &fi->digest, &f.sel);
		mine = digest_make(g, fi->digest.n);
		f.digest = mine;
		f.digest_n = fi->digest.n;
		f.app = true;
	} else {
		f.sel.all = true;
		f.app = true;
	}
	g->reply = frame_build(g, &f, &rlen);
	if (g->reply) {
		reply->data = g->reply;
		reply->len = rlen;
		g->st.frames_out++;
		g->st.frame_bytes_out += rlen;
	}
	gossip_port_free(mine);
}

/* The application state of a frame, its pieces joined, to the application. */
static void app_state_in(struct gossip *g, struct wire_reader r, const struct frame_info *fi)
{
	struct wire_msg msg;
	uint32_t i = swim_member_find(g, fi->app_from);
	uint8_t *buf;
	size_t off = 0;

	if (i == NONE || i == 0 || g->m[i].state > GOSSIP_SUSPECT) {
		g->st.app_dropped++;
		return;
	}
	buf = gossip_port_alloc(fi->app_len ? fi->app_len : 1);
	if (!buf) {
		g->st.app_dropped++;
		return;
	}
	while (wire_get(&r, &msg) > 0)
		if (msg.type == WIRE_APP_STATE) {
			memcpy(buf + off, msg.u.app.data, msg.u.app.len);
			off += msg.u.app.len;
		}
	swim_app_deliver(g, GOSSIP_APP_STATE, fi->app_from, buf, off);
	gossip_port_free(buf);
}

int gossip_stream_in(struct gossip *g, struct gossip_addr from, const uint8_t *data, size_t len,
		     uint64_t now_ms, struct gossip_out *reply)
{
	struct frame_info fi;
	struct wire_reader r, body;
	struct wire_msg msg;
	struct frame push;
	uint8_t *plain;
	uint32_t news = 0;
	bool quiet;
	long n;
	int rc;

	memset(reply, 0, sizeof *reply);
	reply->kind = GOSSIP_OUT_STREAM;
	reply->to = from;
	swim_enter(g, now_ms);
	g->st.frames_in++;
	g->st.frame_bytes_in += len;
	if (g->left)
		return -ECANCELED;
	if (len > GOSSIP_FRAME_MAX) {
		g->st.drop_malformed++;
		return -EMSGSIZE;
	}
	plain = gossip_port_alloc(len);
	if (!plain)
		return -ENOMEM;
	n = gossip_open(&g->kr, g->cluster, data, len, plain, len);
	if (n < 0) {
		swim_count_open_error(g, n);
		gossip_port_free(plain);
		return (int)n;
	}
	rc = wire_open(&r, plain, (size_t)n);
	if (rc == 0)
		rc = frame_check(r, &fi);
	if (rc < 0) {
		swim_count_open_error(g, rc == -EPROTONOSUPPORT ? rc : -EMSGSIZE);
		gossip_port_free(plain);
		return rc;
	}
	/* Answer with the table as it was, then merge. */
	if (!fi.hdr.reply)
		reply_build(g, &fi, reply);
	quiet = swim_alive_others(g) == 0 && fi.hdr.count > QUIET_FRAME_MIN;
	body = r;
	wire_get(&r, &msg); /* the header */
	while (wire_get(&r, &msg) > 0 && msg.type == WIRE_STATE)
		news += merge(g, &msg.u.alive, quiet);
	if (fi.app_from[0])
		app_state_in(g, body, &fi);
	/* The answer to our digest: push what the other side still lacks. */
	if (fi.hdr.reply && fi.has_digest) {
		memset(&push, 0, sizeof push);
		push.hdr.u.pushpull.push = true;
		if (digest_diff(g, &fi.digest, &push.sel))
			frame_send(g, from, &push);
	}
	/* Tables that differed may differ elsewhere too (a mass join overflows the rumour
	 * queues): while exchanges keep bringing news, the next comes after one
	 * interval from now at the latest. */
	if (news && g->cfg.pushpull_interval_ms)
		g->next_pushpull = min64(g->next_pushpull, g->now + g->cfg.pushpull_interval_ms);
	gossip_port_free(plain);
	return 0;
}

/* A join attempt: at gossip_join (force), then while alone every join_retry_ms. */
void swim_join_tick(struct gossip *g, uint64_t now, bool force)
{
	struct gossip_addr bcast = {.ip = BROADCAST_IP, .port = g->m[0].port};
	struct wire_msg msg;
	size_t i;

	if (!g->joining || g->left)
		return;
	if (!force && (swim_alive_others(g) || now < g->next_join))
		return;
	g->next_join = now + g->cfg.join_retry_ms;
	if (g->discover) {
		msg.type = WIRE_DISCOVER;
		scopy(msg.u.discover.node.name, g->m[0].name, sizeof msg.u.discover.node.name);
		msg.u.discover.node.addr.ip = g->m[0].ip;
		msg.u.discover.node.addr.port = g->m[0].port;
		swim_send_msg(g, GOSSIP_OUT_BROADCAST, bcast, &msg, NULL, false);
		return;
	}
	for (i = 0; i < g->nseeds; i++)
		if (g->seeds[i].ip != g->m[0].ip || g->seeds[i].port != g->m[0].port)
			swim_pushpull_send(g, g->seeds[i], true);
}

void swim_pushpull_tick(struct gossip *g, uint64_t now)
{
	uint32_t i, dead = g->count[GOSSIP_DEAD];

	if (!g->cfg.pushpull_interval_ms || now < g->next_pushpull)
		return;
	g->next_pushpull = now + swim_pushpull_interval(g);
	if (swim_member_pick(g, &i, 1, NONE, ok_alive))
		digest_send(g, swim_addr_of(&g->m[i]));
	/* Reconnect: now and then push-pull with a dead member too (more often the more are
	 * dead, as Serf does), so two sides that each forgot a refutation still merge. */
	if (dead && g->grave_len && rng_below(&g->rng, g->count[GOSSIP_ALIVE] + dead) < dead) {
		i = swim_grave_pick(g);
		if (i != NONE && g->m[i].state == GOSSIP_DEAD)
			digest_send(g, swim_addr_of(&g->m[i]));
	}
}

void swim_on_discover(struct gossip *g, const struct wire_discover *d)
{
	uint32_t i = swim_member_find(g, d->node.name), others = swim_alive_others(g);

	if (i == 0 || (i != NONE && g->m[i].state <= GOSSIP_SUSPECT))
		return;
	if (others && rng_below(&g->rng, others) >= DISCOVER_ANSWERERS)
		return;
	swim_pushpull_send(g, d->node.addr, false);
}
