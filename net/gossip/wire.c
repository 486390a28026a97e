/* wire.c: the gossip messages' binary codec (the bytes are laid out in PROTOCOL.md).
 *
 * Encoding walks a message once to size and validate it and once more to write it; both
 * walks are the same code (body() with a counting or a writing cursor), so wire_size
 * always equals what wire_encode writes, and a message that does not fit changes nothing.
 *
 * Decoding reads through a cursor over exactly one message body whose first error sticks:
 * every read checks the bytes left before touching them, a short read yields zeros and
 * -EMSGSIZE, and the message is only accepted when the body is consumed exactly. Strings
 * are checked for their length bounds and for NUL bytes before they are copied. */
#include "net/gossip/wire.h"

#include <errno.h>
#include <string.h>

#define HDR_LEN 3	   /* type u8, body length u16 */
#define BODY_MAX 0xffffu   /* what the u16 length can say */
#define PING_REQ_NACK 0x01 /* PING_REQ flags */
#define PUSHPULL_JOIN 0x01 /* PUSHPULL flags */
#define PUSHPULL_REPLY 0x02
#define PUSHPULL_PUSH 0x04
#define APP_DIRECT 0x01 /* APP flags */

/* Encoding. p == NULL only counts; otherwise the caller has checked there is room. */
struct out {
	uint8_t *p;
	size_t n;
};

static void put(struct out *o, const void *v, size_t n)
{
	if (o->p && n)
		memcpy(o->p + o->n, v, n);
	o->n += n;
}

static void put8(struct out *o, uint8_t v) { put(o, &v, 1); }

static void put16(struct out *o, uint16_t v)
{
	uint8_t b[2] = {v >> 8, v};
	put(o, b, sizeof b);
}

static void put32(struct out *o, uint32_t v)
{
	uint8_t b[4] = {v >> 24, v >> 16, v >> 8, v};
	put(o, b, sizeof b);
}

static void put64(struct out *o, uint64_t v)
{
	put32(o, (uint32_t)(v >> 32));
	put32(o, (uint32_t)v);
}

/* A length-prefixed string of min..max bytes (max < 256). */
static int putstr(struct out *o, const char *s, size_t min, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n < min || n > max)
		return -EINVAL;
	put8(o, n);
	put(o, s, n);
	return 0;
}

static int putname(struct out *o, const char *s) { return putstr(o, s, 1, GOSSIP_NAME_MAX); }

static int putnode(struct out *o, const struct wire_node *nd)
{
	if (putname(o, nd->name) < 0)
		return -EINVAL;
	put32(o, nd->addr.ip);
	put16(o, nd->addr.port);
	return 0;
}

static int putalive(struct out *o, const struct wire_alive *a, bool state)
{
	put32(o, a->incarnation);
	if (putnode(o, &a->node) < 0)
		return -EINVAL;
	put32(o, a->meta_version);
	put16(o, a->res.cpus);
	put16(o, a->res.tasks);
	put32(o, a->res.mem_total_mib);
	put32(o, a->res.mem_free_mib);
	if (putstr(o, a->tags, 0, GOSSIP_TAGS_MAX) < 0)
		return -EINVAL;
	if (state) {
		if ((unsigned)a->state > GOSSIP_LEFT)
			return -EINVAL;
		put8(o, a->state);
	}
	return 0;
}

static int body(struct out *o, const struct wire_msg *m)
{
	const struct wire_ping_req *pr = &m->u.ping_req;
	const struct wire_pushpull *pp = &m->u.pushpull;
	const struct wire_app *ap = &m->u.app;

	switch (m->type) {
	case WIRE_PING:
		put32(o, m->u.ping.seq);
		if (putname(o, m->u.ping.target) < 0)
			return -EINVAL;
		return putnode(o, &m->u.ping.source);
	case WIRE_PING_REQ:
		put32(o, pr->seq);
		if (putnode(o, &pr->target) < 0 || putnode(o, &pr->source) < 0)
			return -EINVAL;
		put8(o, pr->want_nack ? PING_REQ_NACK : 0);
		return 0;
	case WIRE_ACK:
		put32(o, m->u.ack.seq);
		return 0;
	case WIRE_NACK:
		put32(o, m->u.nack.seq);
		return 0;
	case WIRE_ALIVE:
		return putalive(o, &m->u.alive, false);
	case WIRE_STATE:
		return putalive(o, &m->u.alive, true);
	case WIRE_SUSPECT:
	case WIRE_DEAD:
		put32(o, m->u.accuse.incarnation);
		if (putname(o, m->u.accuse.name) < 0)
			return -EINVAL;
		return putname(o, m->u.accuse.from);
	case WIRE_DISCOVER:
		return putnode(o, &m->u.discover.node);
	case WIRE_PUSHPULL:
		put8(o, (pp->join ? PUSHPULL_JOIN : 0) | (pp->reply ? PUSHPULL_REPLY : 0) |
				(pp->push ? PUSHPULL_PUSH : 0));
		put32(o, pp->count);
		return 0;
	case WIRE_APP:
		if (putname(o, ap->origin) < 0 || ap->len > GOSSIP_APP_MAX)
			return -EINVAL;
		put8(o, ap->direct ? APP_DIRECT : 0);
		put32(o, ap->seq);
		put64(o, ap->key);
		put(o, ap->data, ap->len);
		return 0;
	case WIRE_APP_STATE:
		if (putname(o, ap->origin) < 0 || (ap->len && !ap->data))
			return -EINVAL;
		put(o, ap->data, ap->len); /* enc() refuses more than a u16 length says */
		return 0;
	case WIRE_DIGEST:
		if (m->u.digest.n < 1 || m->u.digest.n > WIRE_DIGEST_MAX || !m->u.digest.h)
			return -EINVAL;
		put16(o, m->u.digest.n);
		put(o, m->u.digest.h, (size_t)m->u.digest.n * 4);
		return 0;
	}
	return -EINVAL;
}

/* The whole message (header and body) into buf, or only its length when buf is NULL. */
static long enc(const struct wire_msg *m, uint8_t *buf)
{
	struct out o = {buf, HDR_LEN};
	int err = body(&o, m);

	if (err < 0)
		return err;
	if (o.n - HDR_LEN > BODY_MAX)
		return -EINVAL;
	if (buf) {
		buf[0] = m->type;
		buf[1] = (o.n - HDR_LEN) >> 8;
		buf[2] = o.n - HDR_LEN;
	}
	return o.n;
}

long wire_size(const struct wire_msg *m) { return enc(m, NULL); }

long wire_encode(const struct wire_msg *m, uint8_t *buf, size_t cap)
{
	long n = enc(m, NULL);

	if (n < 0)
		return n;
	if ((size_t)n > cap)
		return -ENOSPC;
	return enc(m, buf);
}

int wire_begin(struct wire_writer *w, uint8_t *buf, size_t cap)
{
	if (cap < 1)
		return -ENOSPC;
	w->buf = buf;
	w->cap = cap;
	w->len = 1;
	buf[0] = WIRE_VERSION;
	return 0;
}

int wire_put(struct wire_writer *w, const struct wire_msg *m)
{
	long n = wire_encode(m, w->buf + w->len, w->cap - w->len);

	if (n < 0)
		return n;
	w->len += n;
	return 0;
}

int wire_put_raw(struct wire_writer *w, const uint8_t *msg, size_t len)
{
	if (len > w->cap - w->len)
		return -ENOSPC;
	memcpy(w->buf + w->len, msg, len);
	w->len += len;
	return 0;
}

/* Decoding: a cursor over one message body; err is the first error met. */
struct in {
	const uint8_t *p;
	size_t left;
	int err;
};

static void fail(struct in *in, int err)
{
	if (!in->err)
		in->err = err;
}

/* The next n bytes, or NULL (and -EMSGSIZE) when fewer are left. */
static const uint8_t *take(struct in *in, size_t n)
{
	const uint8_t *p = in->p;

	if (in->err || n > in->left) {
		fail(in, -EMSGSIZE);
		return NULL;
	}
	in->p += n;
	in->left -= n;
	return p;
}

static uint8_t get8(struct in *in)
{
	const uint8_t *p = take(in, 1);
	return p ? p[0] : 0;
}

static uint16_t get16(struct in *in)
{
	const uint8_t *p = take(in, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t get32(struct in *in)
{
	const uint8_t *p = take(in, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static uint64_t get64(struct in *in)
{
	uint64_t hi = get32(in);

	return hi << 32 | get32(in);
}

/* The rest of the body, by reference. */
static void getrest(struct in *in, const uint8_t **data, size_t *len)
{
	*len = in->left;
	*data = take(in, in->left);
}

/* A length-prefixed string of min..max bytes without NULs into dst[max + 1]. */
static void getstr(struct in *in, char *dst, size_t min, size_t max)
{
	size_t n = get8(in);
	const uint8_t *p;

	if (in->err)
		return;
	if (n < min || n > max) {
		fail(in, -EINVAL);
		return;
	}
	p = take(in, n);
	if (!p)
		return;
	if (memchr(p, 0, n)) {
		fail(in, -EINVAL);
		return;
	}
	memcpy(dst, p, n);
	dst[n] = 0;
}

static void getname(struct in *in, char *dst) { getstr(in, dst, 1, GOSSIP_NAME_MAX); }

static void getnode(struct in *in, struct wire_node *nd)
{
	getname(in, nd->name);
	nd->addr.ip = get32(in);
	nd->addr.port = get16(in);
}

/* Flag bits outside `known` are an error: a newer sender must raise the version. */
static uint8_t getflags(struct in *in, uint8_t known)
{
	uint8_t f = get8(in);

	if (f & ~known)
		fail(in, -EINVAL);
	return f;
}

static void getalive(struct in *in, struct wire_alive *a, bool state)
{
	a->incarnation = get32(in);
	getnode(in, &a->node);
	a->meta_version = get32(in);
	a->res.cpus = get16(in);
	a->res.tasks = get16(in);
	a->res.mem_total_mib = get32(in);
	a->res.mem_free_mib = get32(in);
	getstr(in, a->tags, 0, GOSSIP_TAGS_MAX);
	a->state = GOSSIP_ALIVE;
	if (state) {
		uint8_t s = get8(in);
		if (s > GOSSIP_LEFT)
			fail(in, -EINVAL);
		a->state = s;
	}
}

int wire_open(struct wire_reader *r, const uint8_t *buf, size_t len)
{
	if (len < 1)
		return -EMSGSIZE;
	if (buf[0] != WIRE_VERSION)
		return -EPROTONOSUPPORT;
	r->p = buf + 1;
	r->left = len - 1;
	return 0;
}

/* On error the reader stays where it was, so the error repeats. */
int wire_get(struct wire_reader *r, struct wire_msg *m)
{
	struct in in = {0};
	size_t len;
	uint8_t f;

	if (r->left == 0)
		return 0;
	if (r->left < HDR_LEN)
		return -EMSGSIZE;
	len = (size_t)r->p[1] << 8 | r->p[2];
	if (len > r->left - HDR_LEN)
		return -EMSGSIZE;
	in.p = r->p + HDR_LEN;
	in.left = len;
	memset(m, 0, sizeof *m);
	m->type = r->p[0];

	switch (m->type) {
	case WIRE_PING:
		m->u.ping.seq = get32(&in);
		getname(&in, m->u.ping.target);
		getnode(&in, &m->u.ping.source);
		break;
	case WIRE_PING_REQ:
		m->u.ping_req.seq = get32(&in);
		getnode(&in, &m->u.ping_req.target);
		getnode(&in, &m->u.ping_req.source);
		m->u.ping_req.want_nack = getflags(&in, PING_REQ_NACK) & PING_REQ_NACK;
		break;
	case WIRE_ACK:
		m->u.ack.seq = get32(&in);
		break;
	case WIRE_NACK:
		m->u.nack.seq = get32(&in);
		break;
	case WIRE_ALIVE:
		getalive(&in, &m->u.alive, false);
		break;
	case WIRE_STATE:
		getalive(&in, &m->u.alive, true);
		break;
	case WIRE_SUSPECT:
	case WIRE_DEAD:
		m->u.accuse.incarnation = get32(&in);
		getname(&in, m->u.accuse.name);
		getname(&in, m->u.accuse.from);
		break;
	case WIRE_DISCOVER:
		getnode(&in, &m->u.discover.node);
		break;
	case WIRE_PUSHPULL:
		f = getflags(&in, PUSHPULL_JOIN | PUSHPULL_REPLY | PUSHPULL_PUSH);
		m->u.pushpull.join = f & PUSHPULL_JOIN;
		m->u.pushpull.reply = f & PUSHPULL_REPLY;
		m->u.pushpull.push = f & PUSHPULL_PUSH;
		m->u.pushpull.count = get32(&in);
		break;
	case WIRE_APP:
		getname(&in, m->u.app.origin);
		m->u.app.direct = getflags(&in, APP_DIRECT) & APP_DIRECT;
		m->u.app.seq = get32(&in);
		m->u.app.key = get64(&in);
		getrest(&in, &m->u.app.data, &m->u.app.len);
		if (m->u.app.len > GOSSIP_APP_MAX)
			fail(&in, -EINVAL);
		break;
	case WIRE_APP_STATE:
		getname(&in, m->u.app.origin);
		getrest(&in, &m->u.app.data, &m->u.app.len);
		break;
	case WIRE_DIGEST:
		m->u.digest.n = get16(&in);
		if (m->u.digest.n < 1 || m->u.digest.n > WIRE_DIGEST_MAX)
			fail(&in, -EINVAL);
		else
			m->u.digest.h = take(&in, (size_t)m->u.digest.n * 4);
		break;
	default:
		return -EPROTO;
	}
	if (in.left)
		fail(&in, -EMSGSIZE); /* the length promised more than the body holds */
	if (in.err)
		return in.err;
	r->p += HDR_LEN + len;
	r->left -= HDR_LEN + len;
	return 1;
}

uint32_t wire_digest_at(const struct wire_digest *d, uint16_t i)
{
	const uint8_t *p = d->h + (size_t)i * 4;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void wire_digest_pack(uint8_t *out, const uint32_t *h, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		uint32_t v = h[i]; /* first: out may be h itself, packed in place */

		out[4 * i] = (uint8_t)(v >> 24);
		out[4 * i + 1] = (uint8_t)(v >> 16);
		out[4 * i + 2] = (uint8_t)(v >> 8);
		out[4 * i + 3] = (uint8_t)v;
	}
}
