/* sources: net/gossip/wire.c */
/* test_wire.c: the gossip codec: every message type round-trips, the bytes match
 * PROTOCOL.md, and every truncated, oversized or unknown input is refused with its error
 * without a read past the input (each input sits in a heap block of its exact size, so
 * ASan catches any overread). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/gossip/wire.h"

#define BUF_MAX 4096
#define NSAMPLES 13

static void fill(char *dst, size_t n, char c)
{
	memset(dst, c, n);
	dst[n] = 0;
}

static void node(struct wire_node *nd, const char *name, uint32_t ip, uint16_t port)
{
	strcpy(nd->name, name);
	nd->addr.ip = ip;
	nd->addr.port = port;
}

/* One message of each type (STATE in each state), with the longest names and tags and
 * values that exercise every byte of every integer. */
static void samples(struct wire_msg *s)
{
	char longname[GOSSIP_NAME_MAX + 1];
	int i;

	fill(longname, GOSSIP_NAME_MAX, 'n');
	memset(s, 0, NSAMPLES * sizeof *s);

	s[0].type = WIRE_PING;
	s[0].u.ping.seq = 0xdeadbeef;
	strcpy(s[0].u.ping.target, longname);
	node(&s[0].u.ping.source, "node-a", 0x0a000001, 7946);

	s[1].type = WIRE_PING_REQ;
	s[1].u.ping_req.seq = 0x01020304;
	node(&s[1].u.ping_req.target, longname, 0xffffffff, 0xffff);
	node(&s[1].u.ping_req.source, "\xff\x01z", 0, 0);
	s[1].u.ping_req.want_nack = true;

	s[2].type = WIRE_ACK;
	s[2].u.ack.seq = 0xfffffffe;
	s[3].type = WIRE_NACK;
	s[3].u.nack.seq = 7;

	s[4].type = WIRE_ALIVE;
	s[4].u.alive.incarnation = 0x80000001;
	node(&s[4].u.alive.node, longname, 0xc0a80102, 1);
	s[4].u.alive.meta_version = 0x11223344;
	s[4].u.alive.res.cpus = 0x1234;
	s[4].u.alive.res.tasks = 0xfedc;
	s[4].u.alive.res.mem_total_mib = 0xa1b2c3d4;
	s[4].u.alive.res.mem_free_mib = 0x0badf00d;
	fill(s[4].u.alive.tags, GOSSIP_TAGS_MAX, 't');

	s[5].type = WIRE_SUSPECT;
	s[5].u.accuse.incarnation = 42;
	strcpy(s[5].u.accuse.name, "victim");
	strcpy(s[5].u.accuse.from, longname);
	s[6].type = WIRE_DEAD;
	s[6].u.accuse.incarnation = 0xffffffff;
	strcpy(s[6].u.accuse.name, "x");
	strcpy(s[6].u.accuse.from, "x");

	s[7].type = WIRE_DISCOVER;
	node(&s[7].u.discover.node, "fresh", 0x0a0000ff, 7946);

	s[8].type = WIRE_PUSHPULL;
	s[8].u.pushpull.join = true; /* fields one by one: padding stays zero for memcmp */
	s[8].u.pushpull.count = 0x00abcdef;

	for (i = 0; i < 4; i++) {
		struct wire_alive *a = &s[9 + i].u.alive;
		s[9 + i].type = WIRE_STATE;
		a->incarnation = i;
		node(&a->node, i % 2 ? longname : "s", 0x7f000001 + i, 7946 + i);
		a->meta_version = 3;
		a->res.cpus = 4;
		strcpy(a->tags, i ? "role=web,dc=a" : "");
		a->state = (enum gossip_state)i;
	}
}

/* A heap copy of exactly n bytes, so ASan sees any read past n. */
static uint8_t *exact(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	assert_non_null(q);
	memcpy(q, p, n);
	return q;
}

/* Decode buf[0..n) as a datagram holding one message: wire_get's result. */
static int decode1(const uint8_t *buf, size_t n, struct wire_msg *m)
{
	struct wire_reader r;
	uint8_t *q = exact(buf, n);
	int rc = wire_open(&r, q, n);

	if (rc == 0)
		rc = wire_get(&r, m);
	free(q);
	return rc;
}

static void round_trip_each(void **state)
{
	struct wire_msg s[NSAMPLES], m;
	uint8_t buf[BUF_MAX];
	struct wire_writer w;
	struct wire_reader r;
	int i;

	samples(s);
	for (i = 0; i < NSAMPLES; i++) {
		long size = wire_size(&s[i]);
		assert_true(size > 3);
		assert_int_equal(wire_begin(&w, buf, sizeof buf), 0);
		assert_int_equal(wire_put(&w, &s[i]), 0);
		assert_int_equal(w.len, 1 + size);
		assert_int_equal(wire_encode(&s[i], buf + BUF_MAX / 2, BUF_MAX / 2), size);
		assert_memory_equal(buf + 1, buf + BUF_MAX / 2, size);

		assert_int_equal(wire_open(&r, buf, w.len), 0);
		memset(&m, 0x5a, sizeof m);
		assert_int_equal(wire_get(&r, &m), 1);
		assert_int_equal(m.type, s[i].type);
		assert_memory_equal(&m, &s[i], sizeof m);
		assert_int_equal(wire_get(&r, &m), 0);
	}
	/* Spot checks, so a codec that loses a field in both directions still fails. */
	assert_int_equal(decode1(buf, w.len, &m), 1);
	assert_int_equal(m.u.alive.state, GOSSIP_LEFT);
	assert_int_equal(m.u.alive.node.addr.port, 7946 + 3);
}

static void many_in_one_datagram(void **state)
{
	struct wire_msg s[NSAMPLES], m;
	uint8_t buf[BUF_MAX], raw[BUF_MAX];
	struct wire_writer w;
	struct wire_reader r;
	long n;
	int i;

	samples(s);
	assert_int_equal(wire_begin(&w, buf, sizeof buf), 0);
	for (i = 0; i < NSAMPLES; i++) {
		if (i % 2) {
			assert_int_equal(wire_put(&w, &s[i]), 0);
			continue;
		}
		n = wire_encode(&s[i], raw, sizeof raw);
		assert_true(n > 0);
		assert_int_equal(wire_put_raw(&w, raw, n), 0);
	}
	assert_int_equal(wire_open(&r, buf, w.len), 0);
	for (i = 0; i < NSAMPLES; i++) {
		assert_int_equal(wire_get(&r, &m), 1);
		assert_memory_equal(&m, &s[i], sizeof m);
	}
	assert_int_equal(wire_get(&r, &m), 0);
	assert_int_equal(wire_get(&r, &m), 0);
}

/* The bytes PROTOCOL.md shows for a PING and an ACK. */
static void golden_bytes(void **state)
{
	static const uint8_t ping[] = {1, 0,   14, 1, 2, 3, 4,	  1,   'b',
				       1, 'a', 10, 0, 0, 1, 0x1f, 0x0a};
	static const uint8_t ack[] = {3, 0, 4, 0x12, 0x34, 0x56, 0x78};
	static const uint8_t pp[] = {9, 0, 5, 3, 0, 0, 1, 0};
	struct wire_msg m = {.type = WIRE_PING};
	uint8_t buf[64];

	m.u.ping.seq = 0x01020304;
	strcpy(m.u.ping.target, "b");
	node(&m.u.ping.source, "a", 0x0a000001, 7946);
	assert_int_equal(wire_encode(&m, buf, sizeof buf), sizeof ping);
	assert_memory_equal(buf, ping, sizeof ping);

	memset(&m, 0, sizeof m);
	m.type = WIRE_ACK;
	m.u.ack.seq = 0x12345678;
	assert_int_equal(wire_encode(&m, buf, sizeof buf), sizeof ack);
	assert_memory_equal(buf, ack, sizeof ack);

	memset(&m, 0, sizeof m);
	m.type = WIRE_PUSHPULL;
	m.u.pushpull = (struct wire_pushpull){.join = true, .reply = true, .count = 256};
	assert_int_equal(wire_encode(&m, buf, sizeof buf), sizeof pp);
	assert_memory_equal(buf, pp, sizeof pp);

	assert_int_equal(wire_begin(&(struct wire_writer){0}, buf, 1), 0);
	assert_int_equal(buf[0], WIRE_VERSION);
}

/* The APP bytes PROTOCOL.md shows; APP, APP_STATE and DIGEST round trips; their bad
 * fields refused. */
static void app_golden_bytes(void **state)
{
	static const uint8_t app[] = {11, 0, 17, 1, 'a', 0, 0, 0, 0,   5,
				      1,  2, 3,	 4, 5,	 6, 7, 8, 'h', 'i'};
	static const uint8_t h[8] = {0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1};
	static uint8_t big[GOSSIP_APP_MAX + 1];
	struct wire_msg m, back;
	struct wire_reader r;
	uint8_t buf[2048];
	long n;

	memset(&m, 0, sizeof m);
	m.type = WIRE_APP;
	strcpy(m.u.app.origin, "a");
	m.u.app.seq = 5;
	m.u.app.key = 0x0102030405060708ull;
	m.u.app.data = (const uint8_t *)"hi";
	m.u.app.len = 2;
	assert_int_equal(wire_encode(&m, buf, sizeof buf), sizeof app);
	assert_memory_equal(buf, app, sizeof app);
	buf[0] = WIRE_VERSION;
	memcpy(buf + 1, app, sizeof app);
	assert_int_equal(wire_open(&r, buf, 1 + sizeof app), 0);
	assert_int_equal(wire_get(&r, &back), 1);
	assert_string_equal(back.u.app.origin, "a");
	assert_false(back.u.app.direct);
	assert_int_equal(back.u.app.seq, 5);
	assert_true(back.u.app.key == 0x0102030405060708ull);
	assert_int_equal(back.u.app.len, 2);
	assert_memory_equal(back.u.app.data, "hi", 2);
	assert_ptr_equal(back.u.app.data, buf + 1 + sizeof app - 2); /* by reference */
	buf[1 + 5] = 0x02;					     /* an unknown flag */
	assert_int_equal(wire_open(&r, buf, 1 + sizeof app), 0);
	assert_int_equal(wire_get(&r, &back), -EINVAL);

	/* Data over GOSSIP_APP_MAX: refused both ways. */
	m.u.app.data = big;
	m.u.app.len = GOSSIP_APP_MAX + 1;
	assert_int_equal(wire_size(&m), -EINVAL);
	m.u.app.len = GOSSIP_APP_MAX;
	n = wire_encode(&m, buf + 1, sizeof buf - 1);
	assert_int_equal(n, 3 + 14 + 1 + GOSSIP_APP_MAX);
	buf[2] = (uint8_t)((n - 3 + 1) >> 8); /* one byte more of data */
	buf[3] = (uint8_t)(n - 3 + 1);
	assert_int_equal(wire_open(&r, buf, (size_t)n + 2), 0);
	assert_int_equal(wire_get(&r, &back), -EINVAL);

	/* APP_STATE: a sender and bytes. */
	memset(&m, 0, sizeof m);
	m.type = WIRE_APP_STATE;
	strcpy(m.u.app.origin, "node-b");
	m.u.app.data = (const uint8_t *)"table";
	m.u.app.len = 5;
	n = wire_encode(&m, buf + 1, sizeof buf - 1);
	assert_int_equal(n, 3 + 7 + 5);
	assert_int_equal(wire_open(&r, buf, (size_t)n + 1), 0);
	assert_int_equal(wire_get(&r, &back), 1);
	assert_string_equal(back.u.app.origin, "node-b");
	assert_int_equal(back.u.app.len, 5);
	assert_memory_equal(back.u.app.data, "table", 5);
	m.u.app.data = NULL;
	assert_int_equal(wire_size(&m), -EINVAL);

	/* DIGEST: buckets of big-endian u32. */
	memset(&m, 0, sizeof m);
	m.type = WIRE_DIGEST;
	m.u.digest.n = 2;
	m.u.digest.h = h;
	n = wire_encode(&m, buf + 1, sizeof buf - 1);
	assert_int_equal(n, 3 + 2 + 8);
	assert_int_equal(buf[4], 0);
	assert_int_equal(buf[5], 2);
	assert_int_equal(wire_open(&r, buf, (size_t)n + 1), 0);
	assert_int_equal(wire_get(&r, &back), 1);
	assert_int_equal(back.u.digest.n, 2);
	assert_int_equal(wire_digest_at(&back.u.digest, 0), 0xdeadbeef);
	assert_int_equal(wire_digest_at(&back.u.digest, 1), 1);
	buf[5] = 3; /* three buckets promised, two present */
	assert_int_equal(wire_open(&r, buf, (size_t)n + 1), 0);
	assert_int_equal(wire_get(&r, &back), -EMSGSIZE);
	buf[5] = 0; /* none */
	assert_int_equal(wire_get(&r, &back), -EINVAL);
	m.u.digest.n = WIRE_DIGEST_MAX + 1;
	assert_int_equal(wire_size(&m), -EINVAL);
	m.u.digest.n = 0;
	assert_int_equal(wire_size(&m), -EINVAL);
}

/* Cut every datagram at every byte, and every body at every byte with its length field
 * agreeing with the cut (so the body's own fields must notice): always -EMSGSIZE. */
static void truncations(void **state)
{
	struct wire_msg s[NSAMPLES], m;
	uint8_t buf[BUF_MAX], cut[BUF_MAX];
	long n, k;
	int i;

	samples(s);
	for (i = 0; i < NSAMPLES; i++) {
		buf[0] = WIRE_VERSION;
		n = wire_encode(&s[i], buf + 1, sizeof buf - 1);
		assert_true(n > 3);
		for (k = 2; k < 1 + n; k++)
			assert_int_equal(decode1(buf, k, &m), -EMSGSIZE);
		assert_int_equal(decode1(buf, 1, &m), 0); /* just the version: empty */
		assert_int_equal(decode1(buf, 1 + n, &m), 1);

		for (k = 0; k < n - 3; k++) {
			memcpy(cut, buf, 1 + 3 + k);
			cut[2] = k >> 8;
			cut[3] = k;
			assert_int_equal(decode1(cut, 1 + 3 + k, &m), -EMSGSIZE);
		}
		/* One byte too many inside the length is as bad as one too few. */
		memcpy(cut, buf, 1 + n);
		cut[1 + n] = 0;
		cut[2] = (n - 3 + 1) >> 8;
		cut[3] = n - 3 + 1;
		assert_int_equal(decode1(cut, 1 + n + 1, &m), -EMSGSIZE);
	}
}

/* Encoding refuses what decoding would refuse, and leaves the writer as it was. */
static void oversized_fields(void **state)
{
	struct wire_msg s[NSAMPLES], m;
	uint8_t buf[BUF_MAX];
	struct wire_writer w;

	samples(s);
	assert_int_equal(wire_begin(&w, buf, sizeof buf), 0);

	m = s[0];
	fill(m.u.ping.target, GOSSIP_NAME_MAX, 'x');
	m.u.ping.target[GOSSIP_NAME_MAX] = 'x'; /* 64 bytes and no NUL within the array */
	assert_int_equal(wire_size(&m), -EINVAL);
	assert_int_equal(wire_put(&w, &m), -EINVAL);
	assert_int_equal(wire_encode(&m, buf + 100, 100), -EINVAL);

	m = s[7];
	m.u.discover.node.name[0] = 0; /* names are never empty */
	assert_int_equal(wire_put(&w, &m), -EINVAL);

	m = s[4];
	m.u.alive.tags[GOSSIP_TAGS_MAX] = 't'; /* 256 bytes of tags */
	assert_int_equal(wire_put(&w, &m), -EINVAL);

	m = s[9];
	m.u.alive.state = (enum gossip_state)(GOSSIP_LEFT + 1);
	assert_int_equal(wire_put(&w, &m), -EINVAL);

	m = s[2];
	m.type = (enum wire_type)0;
	assert_int_equal(wire_size(&m), -EINVAL);
	m.type = (enum wire_type)(WIRE_DIGEST + 1);
	assert_int_equal(wire_put(&w, &m), -EINVAL);

	assert_int_equal(w.len, 1);
}

/* Hand-made bodies with one bad field each. */
static void bad_fields(void **state)
{
	struct wire_msg m;
	uint8_t buf[BUF_MAX];
	size_t n;

	/* DISCOVER: name length 64. */
	n = 0;
	buf[n++] = WIRE_VERSION;
	buf[n++] = WIRE_DISCOVER;
	buf[n++] = 0;
	buf[n++] = 1 + 64 + 6;
	buf[n++] = 64;
	memset(buf + n, 'a', 64 + 6);
	n += 64 + 6;
	assert_int_equal(decode1(buf, n, &m), -EINVAL);
	buf[4] = 63; /* now the length disagrees by one */
	assert_int_equal(decode1(buf, n, &m), -EMSGSIZE);
	buf[3] = 1 + 63 + 6;
	assert_int_equal(decode1(buf, n - 1, &m), 1);
	assert_int_equal(strlen(m.u.discover.node.name), 63);
	buf[10] = 0; /* a NUL inside the name */
	assert_int_equal(decode1(buf, n - 1, &m), -EINVAL);

	/* DISCOVER: empty name. */
	const uint8_t empty[] = {WIRE_VERSION, WIRE_DISCOVER, 0, 7, 0, 1, 2, 3, 4, 5, 6};
	assert_int_equal(decode1(empty, sizeof empty, &m), -EINVAL);

	/* STATE with state 4, then with a NUL in the tags. */
	struct wire_msg st = {.type = WIRE_STATE};
	strcpy(st.u.alive.node.name, "s");
	strcpy(st.u.alive.tags, "ab");
	st.u.alive.state = GOSSIP_DEAD;
	buf[0] = WIRE_VERSION;
	long len = wire_encode(&st, buf + 1, sizeof buf - 1);
	assert_int_equal(decode1(buf, 1 + len, &m), 1);
	assert_int_equal(m.u.alive.state, GOSSIP_DEAD);
	buf[len] = GOSSIP_LEFT + 1;
	assert_int_equal(decode1(buf, 1 + len, &m), -EINVAL);
	buf[len] = GOSSIP_DEAD;
	buf[len - 1] = 0; /* tags "a\0" */
	assert_int_equal(decode1(buf, 1 + len, &m), -EINVAL);

	/* Flag bits nobody defined. */
	const uint8_t pp[] = {WIRE_VERSION, WIRE_PUSHPULL, 0, 5, 0x08, 0, 0, 0, 1};
	assert_int_equal(decode1(pp, sizeof pp, &m), -EINVAL);
	const uint8_t pr[] = {WIRE_VERSION,
			      WIRE_PING_REQ,
			      0,
			      21,
			      0,
			      0,
			      0,
			      1,
			      1,
			      'a',
			      0,
			      0,
			      0,
			      0,
			      0,
			      0,
			      1,
			      'b',
			      0,
			      0,
			      0,
			      0,
			      0,
			      0,
			      0x80};
	assert_int_equal(decode1(pr, sizeof pr, &m), -EINVAL);
}

static void unknown_type_and_version(void **state)
{
	struct wire_msg m;
	struct wire_reader r;
	const uint8_t t0[] = {WIRE_VERSION, 0, 0, 0};
	const uint8_t t11[] = {WIRE_VERSION, WIRE_DIGEST + 1, 0, 1, 0};
	const uint8_t tff[] = {WIRE_VERSION, 0xff, 0, 0};
	const uint8_t v0[] = {0, WIRE_ACK, 0, 4, 0, 0, 0, 1};
	const uint8_t v2[] = {WIRE_VERSION + 1, WIRE_ACK, 0, 4, 0, 0, 0, 1};

	assert_int_equal(decode1(t0, sizeof t0, &m), -EPROTO);
	assert_int_equal(decode1(t11, sizeof t11, &m), -EPROTO);
	assert_int_equal(decode1(tff, sizeof tff, &m), -EPROTO);
	assert_int_equal(decode1(v0, sizeof v0, &m), -EPROTONOSUPPORT);
	assert_int_equal(decode1(v2, sizeof v2, &m), -EPROTONOSUPPORT);
	assert_int_equal(wire_open(&r, v0, 0), -EMSGSIZE);

	/* An error sticks: the reader does not move past a message it refused. */
	const uint8_t two[] = {WIRE_VERSION, WIRE_ACK, 0, 4, 0, 0, 0, 9, 0x42, 0, 0};
	assert_int_equal(wire_open(&r, two, sizeof two), 0);
	assert_int_equal(wire_get(&r, &m), 1);
	assert_int_equal(m.u.ack.seq, 9);
	assert_int_equal(wire_get(&r, &m), -EPROTO);
	assert_int_equal(wire_get(&r, &m), -EPROTO);
}

/* A full writer says -ENOSPC and keeps its bytes and length. */
static void writer_full(void **state)
{
	struct wire_msg s[NSAMPLES];
	uint8_t buf[BUF_MAX], before[BUF_MAX], raw[BUF_MAX];
	struct wire_writer w;
	long n;
	int i;

	samples(s);
	assert_int_equal(wire_begin(&w, buf, 0), -ENOSPC);
	for (i = 0; i < NSAMPLES; i++) {
		n = wire_size(&s[i]);
		memset(buf, 0xaa, sizeof buf);
		assert_int_equal(wire_begin(&w, buf, 1 + n - 1), 0);
		memcpy(before, buf, sizeof buf);
		assert_int_equal(wire_put(&w, &s[i]), -ENOSPC);
		assert_int_equal(w.len, 1);
		assert_memory_equal(buf, before, sizeof buf);
		assert_int_equal(wire_encode(&s[i], raw, n - 1), -ENOSPC);
		assert_int_equal(wire_encode(&s[i], raw, n), n);
		assert_int_equal(wire_put_raw(&w, raw, n), -ENOSPC);
		assert_int_equal(w.len, 1);
		assert_memory_equal(buf, before, sizeof buf);

		w.cap++;
		assert_int_equal(wire_put(&w, &s[i]), 0);
		assert_int_equal(w.len, w.cap);
		assert_int_equal(wire_put(&w, &s[2]), -ENOSPC);
		assert_int_equal(w.len, w.cap);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_each),
		cmocka_unit_test(many_in_one_datagram),
		cmocka_unit_test(golden_bytes),
		cmocka_unit_test(truncations),
		cmocka_unit_test(oversized_fields),
		cmocka_unit_test(bad_fields),
		cmocka_unit_test(unknown_type_and_version),
		cmocka_unit_test(app_golden_bytes),
		cmocka_unit_test(writer_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
