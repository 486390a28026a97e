/* fuzz_core.c: libFuzzer target feeding datagrams, stream frames, clock ticks and local
 * updates into a live gossip core.
 *
 * An input is a sequence of records: u8 kind, u16 length, that many bytes. Each input
 * gets a fresh core (so a crash reproduces from its input alone), joined through one
 * seed. Kinds:
 *   0  a datagram: the bytes sealed under the cluster's key, so they reach the decoder
 *      and the state machine behind the tag
 *   1  a stream frame, sealed likewise (a push-pull request or reply)
 *   2  a datagram of raw bytes, envelope and all
 *   3  time passes: the first two bytes are milliseconds, then gossip_tick
 *   4  local updates: the bytes as tags, their first bytes as resources
 *   5  the application channel: by the first byte, a broadcast (key from the second, the
 *      rest as data), a direct send to a member picked by the second byte, or a keyring
 *      change that keeps our key first (and adds or drops a second one)
 * The core has an application state function (part of the input's first record), so
 * frames carry application state. After every record the outputs are drained and
 * checked: each datagram is at most udp_max bytes, opens under the key and decodes
 * completely into datagram messages; each stream frame's prefix tells its length, and it
 * opens into PUSHPULL, `count` STATEs, at most one DIGEST, then APP_STATEs. Each event
 * names a member; each application input names its sender and fits its bounds.
 * Violations abort(). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/gossip/gossip.h"
#include "net/gossip/keyring.h"
#include "net/gossip/wire.h"

#define KEY "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=" /* as in seeds.c */
#define CLUSTER "fuzz"
#define SELF_IP 0x0a000001
#define PEER_IP 0x0a000002
#define T0 1000000 /* ms; the clock starts here */
#define REC_HDR 3
#define TAGS_TEXT_MAX 300 /* a little over GOSSIP_TAGS_MAX, so too long is tried too */

enum { REC_UDP, REC_STREAM, REC_RAW, REC_TICK, REC_LOCAL, REC_APP, RECS };

static struct gossip_keyring kr;
static struct gossip_config cfg;
static uint8_t buf[(1 << 16) + GOSSIP_SEAL_OVERHEAD], plain[GOSSIP_UDP_MAX];

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_core: %s\n", what);
		abort();
	}
}

/* A datagram the core sent: sealed under our key, every message one a datagram may hold. */
static void check_datagram(const struct gossip_out *o)
{
	struct wire_reader r;
	struct wire_msg m;
	long n;
	int rc;

	check(o->len <= cfg.udp_max, "datagram over udp_max");
	n = gossip_open(&kr, CLUSTER, o->data, o->len, plain, sizeof plain);
	check(n >= 0, "the core's datagram does not open");
	check(wire_open(&r, plain, n) == 0, "the core's datagram has a bad version");
	while ((rc = wire_get(&r, &m)) == 1)
		check(m.type != WIRE_PUSHPULL && m.type != WIRE_STATE && m.type != WIRE_DIGEST &&
			      m.type != WIRE_APP_STATE,
		      "push-pull in a datagram");
	check(rc == 0, "the core's datagram does not decode");
}

/* A frame the core sent: length prefix, then PUSHPULL and exactly `count` STATEs. */
static void check_frame(const struct gossip_out *o)
{
	struct wire_reader r;
	struct wire_msg m;
	uint32_t count, i, digests = 0;
	uint8_t *p;
	long n;
	int rc;

	check(o->len >= 4, "frame without its prefix");
	check(gossip_frame_len(o->data) == (long)(o->len - 4), "frame prefix disagrees");
	p = malloc(o->len);
	check(p != NULL, "out of memory");
	n = gossip_open(&kr, CLUSTER, o->data + 4, o->len - 4, p, o->len);
	check(n >= 0, "the core's frame does not open");
	check(wire_open(&r, p, n) == 0, "the core's frame has a bad version");
	check(wire_get(&r, &m) == 1 && m.type == WIRE_PUSHPULL, "frame without PUSHPULL first");
	count = m.u.pushpull.count;
	for (i = 0; i < count; i++)
		check(wire_get(&r, &m) == 1 && m.type == WIRE_STATE,
		      "frame: fewer STATEs than count");
	while ((rc = wire_get(&r, &m)) == 1 && m.type == WIRE_DIGEST)
		check(!digests++, "frame: two DIGESTs");
	for (; rc == 1; rc = wire_get(&r, &m))
		check(m.type == WIRE_APP_STATE && strcmp(m.u.app.origin, "fuzz-self") == 0,
		      "frame: more after the STATEs than a DIGEST and our APP_STATEs");
	check(rc == 0, "frame: does not decode");
	free(p);
}

static volatile uint8_t sink;

/* The application's state: a few bytes of the input. */
static uint8_t app_state_bytes[64];
static size_t app_state_len;
static uint8_t *app_state(void *ctx, size_t *len)
{
	uint8_t *p = malloc(app_state_len ? app_state_len : 1);

	if (!p)
		return NULL;
	memcpy(p, app_state_bytes, app_state_len);
	*len = app_state_len;
	return p;
}

static void drain(struct gossip *g)
{
	struct gossip_out o;
	struct gossip_event ev;
	struct gossip_app_in in;

	while (gossip_next_out(g, &o)) {
		if (o.kind == GOSSIP_OUT_STREAM)
			check_frame(&o);
		else
			check_datagram(&o);
	}
	while (gossip_next_event(g, &ev))
		check(ev.name[0] != 0 && strlen(ev.name) <= GOSSIP_NAME_MAX,
		      "event without a name");
	while (gossip_next_app(g, &in)) {
		check(in.from[0] != 0 && strlen(in.from) <= GOSSIP_NAME_MAX &&
			      strcmp(in.from, "fuzz-self") != 0,
		      "application input without a sender, or from ourselves");
		check(in.kind == GOSSIP_APP_STATE || in.len <= GOSSIP_APP_MAX,
		      "application message over GOSSIP_APP_MAX");
		check(in.len == 0 || in.data != NULL, "application input without its data");
		if (in.len)
			sink ^= in.data[0] ^ in.data[in.len - 1]; /* ASan: all of it is readable */
	}
	check(gossip_member_count(g) >= 1, "self is gone");
}

static void app(struct gossip *g, const uint8_t *p, size_t n, uint64_t now)
{
	struct gossip_keyring two = kr;
	struct gossip_member m;
	int rc;

	if (n < 2)
		return;
	switch (p[0] % 3) {
	case 0:
		rc = gossip_app_broadcast(g, p[1], p + 2, n - 2);
		check(rc == 0 || rc == -ENOBUFS || rc == -EMSGSIZE, "app_broadcast: odd error");
		check(rc != -EMSGSIZE || n - 2 > GOSSIP_APP_MAX, "app_broadcast: fitting refused");
		break;
	case 1:
		gossip_member_at(g, p[1] % gossip_member_count(g), &m);
		rc = gossip_app_send(g, m.name, p + 2, n - 2, now);
		check(rc == 0 || rc == -ENOENT || rc == -EINVAL || rc == -EMSGSIZE,
		      "app_send: odd error");
		break;
	default:
		if (p[1] & 1) {
			two.n = 2;
			two.len[1] = 16;
			memset(two.key[1], p[1], 16);
		}
		check(gossip_set_keyring(g, &two) == 0, "set_keyring refused a good keyring");
		break;
	}
}

static void record(struct gossip *g, int kind, const uint8_t *p, size_t n, uint64_t *now,
		   unsigned k)
{
	static const uint8_t nonce[GOSSIP_NONCE_LEN];
	struct gossip_addr from = {PEER_IP + k % 4, GOSSIP_PORT};
	struct gossip_out reply;
	struct gossip_resources res = {0};
	char tags[TAGS_TEXT_MAX + 1];
	long s;

	switch (kind) {
	case REC_UDP:
	case REC_STREAM:
		s = gossip_seal(&kr, CLUSTER, nonce, p, n, buf, sizeof buf);
		check(s > 0, "harness: seal failed");
		if (kind == REC_UDP) {
			gossip_udp_in(g, from, buf, s, *now);
			break;
		}
		memset(&reply, 0, sizeof reply);
		if (gossip_stream_in(g, from, buf, s, *now, &reply) == 0 && reply.len) {
			check(reply.kind == GOSSIP_OUT_STREAM, "reply is not a stream frame");
			check_frame(&reply);
		}
		break;
	case REC_RAW:
		gossip_udp_in(g, from, p, n, *now);
		break;
	case REC_TICK:
		*now += n >= 2 ? (uint32_t)(p[0] << 8 | p[1]) : 1;
		gossip_tick(g, *now);
		check(gossip_deadline(g) > *now, "deadline not in the future after a tick");
		break;
	case REC_LOCAL:
		n = n < TAGS_TEXT_MAX ? n : TAGS_TEXT_MAX;
		memcpy(tags, p, n);
		tags[n] = 0;
		gossip_set_tags(g, tags, *now);
		if (n >= 4) {
			res.cpus = p[0];
			res.tasks = p[1];
			res.mem_total_mib = p[2] << 8 | p[3];
		}
		gossip_set_resources(g, &res, *now);
		break;
	case REC_APP:
		app(g, p, n, *now);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	static const uint8_t seed[32] = {42};
	struct gossip_self self = {
		.name = "fuzz-self",
		.cluster = CLUSTER,
		.tags = "role=fuzz",
		.addr = {SELF_IP, GOSSIP_PORT},
		.res = {.cpus = 1, .mem_total_mib = 128},
	};
	struct gossip_addr peer = {PEER_IP, GOSSIP_PORT};
	struct gossip *g;
	uint64_t now = T0;
	size_t n;
	unsigned k = 0;

	if (!init) {
		check(gossip_keyring_parse(&kr, KEY) == 0, "fixed key does not parse");
		gossip_profile(&cfg, GOSSIP_PROFILE_FAST);
		init = 1;
	}
	g = gossip_new(&cfg, &self, &kr, seed, now);
	check(g != NULL, "gossip_new failed");
	app_state_len = size >= 1 ? data[0] % sizeof app_state_bytes : 0;
	memcpy(app_state_bytes, data, app_state_len < size ? app_state_len : size);
	gossip_set_app_state(g, app_state, NULL);
	check(gossip_join(g, &peer, 1, now) == 0, "gossip_join failed");
	drain(g);
	while (size >= REC_HDR) {
		n = (size_t)data[1] << 8 | data[2];
		if (n > size - REC_HDR)
			n = size - REC_HDR;
		record(g, data[0] % RECS, data + REC_HDR, n, &now, k++);
		drain(g);
		data += REC_HDR + n;
		size -= REC_HDR + n;
	}
	gossip_leave(g, now);
	gossip_tick(g, now + 1000);
	drain(g);
	gossip_free(g);
	return 0;
}
