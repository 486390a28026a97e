/* seeds.c: writes the fuzzers' seed corpora, DIR/gossip for fuzz_gossip and DIR/core for
 * fuzz_core: one valid input per message type (in each of fuzz_gossip's modes), a
 * many-message datagram, a push-pull frame, a digest exchange and application data. Generated at run time, so no binary blobs
 * are kept in the tree. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "net/gossip/keyring.h"
#include "net/gossip/wire.h"

#define KEY "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=" /* as in fuzz_gossip.c */
#define CLUSTER "fuzz"
#define SELF "fuzz-self" /* fuzz_core's node: pings and rumours about it matter */
#define REC_TICK 3	 /* fuzz_core's record kinds: 0 datagram, 1 frame, 3 tick, */
#define REC_APP 5	 /* 5 the application channel */
#define BUF_MAX 4096
#define NMSG 10

static const char *dir;
static int nfile;

static int save(const char *prefix, const uint8_t *hdr, size_t nh, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, prefix);
	mkdir(path, 0755); /* an error shows at fopen */
	snprintf(path, sizeof path, "%s/%s/%03d", dir, prefix, nfile++);
	f = fopen(path, "wb");
	if (!f || fwrite(hdr, 1, nh, f) != nh || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		return -EIO;
	}
	return 0;
}

static void node(struct wire_node *nd, const char *name, uint32_t ip)
{
	strcpy(nd->name, name);
	nd->addr.ip = ip;
	nd->addr.port = 7946;
}

/* One message of each type, as the core would send them. */
static void samples(struct wire_msg *m)
{
	memset(m, 0, NMSG * sizeof *m);
	m[0].type = WIRE_PING;
	m[0].u.ping.seq = 1;
	strcpy(m[0].u.ping.target, SELF);
	node(&m[0].u.ping.source, "node-a", 0x0a000001);
	m[1].type = WIRE_PING_REQ;
	m[1].u.ping_req.seq = 2;
	node(&m[1].u.ping_req.target, "node-c", 0x0a000003);
	node(&m[1].u.ping_req.source, "node-a", 0x0a000001);
	m[1].u.ping_req.want_nack = true;
	m[2].type = WIRE_ACK;
	m[2].u.ack.seq = 1;
	m[3].type = WIRE_NACK;
	m[3].u.nack.seq = 2;
	m[4].type = WIRE_ALIVE;
	m[4].u.alive.incarnation = 3;
	node(&m[4].u.alive.node, "node-d", 0x0a000004);
	m[4].u.alive.meta_version = 1;
	m[4].u.alive.res.cpus = 4;
	m[4].u.alive.res.mem_total_mib = 512;
	strcpy(m[4].u.alive.tags, "role=web,dc=a");
	m[5].type = WIRE_SUSPECT;
	m[5].u.accuse.incarnation = 3;
	strcpy(m[5].u.accuse.name, "node-d");
	strcpy(m[5].u.accuse.from, "node-a");
	m[6] = m[5];
	m[6].type = WIRE_DEAD;
	strcpy(m[6].u.accuse.name, SELF); /* makes the core refute */
	m[7].type = WIRE_DISCOVER;
	node(&m[7].u.discover.node, "node-e", 0x0a000005);
	m[8].type = WIRE_PUSHPULL;
	m[8].u.pushpull.join = true;
	m[8].u.pushpull.count = 1;
	m[9] = m[4];
	m[9].type = WIRE_STATE;
	m[9].u.alive.state = GOSSIP_SUSPECT;
}

/* A body of messages m[0..n) into buf: its length. */
static size_t body(uint8_t *buf, const struct wire_msg *m, size_t n)
{
	struct wire_writer w;
	size_t i;

	wire_begin(&w, buf, BUF_MAX);
	for (i = 0; i < n; i++)
		if (wire_put(&w, &m[i]) < 0)
			return 0;
	return w.len;
}

/* fuzz_gossip's three modes for one body. */
static int gossip_seeds(const struct gossip_keyring *kr, const uint8_t *b, size_t n)
{
	static const uint8_t nonce[GOSSIP_NONCE_LEN] = {1, 2, 3};
	struct gossip_keyring none = {0};
	uint8_t s[BUF_MAX + GOSSIP_SEAL_OVERHEAD];
	long ns = gossip_seal(kr, CLUSTER, nonce, b, n, s, sizeof s);
	long np = ns < 0 ? ns : gossip_seal(&none, CLUSTER, nonce, b, n, s + ns, sizeof s - ns);

	if (ns < 0 || np < 0)
		return -EINVAL;
	return save("gossip", (const uint8_t[]){0}, 1, b, n) ||
	       save("gossip", (const uint8_t[]){2}, 1, b, n) ||
	       save("gossip", (const uint8_t[]){1}, 1, s, ns) ||
	       save("gossip", (const uint8_t[]){1}, 1, s + ns, np);
}

/* A fuzz_core record: kind u8, u16 length, body. Its length. */
static size_t rec(uint8_t *p, int kind, const uint8_t *b, size_t n)
{
	p[0] = kind;
	p[1] = n >> 8;
	p[2] = n;
	memcpy(p + 3, b, n);
	return 3 + n;
}

/* fuzz_core's input of one record. */
static int core_seed(int kind, const uint8_t *b, size_t n)
{
	uint8_t hdr[3] = {kind, n >> 8, n};
	return save("core", hdr, sizeof hdr, b, n);
}

/* node-b's broadcast and a direct message, as one datagram body. */
static void app_msgs(uint8_t *b, size_t *nb)
{
	static const uint8_t data[] = "job table record";
	struct wire_msg a[2];

	memset(a, 0, sizeof a);
	a[0].type = WIRE_APP;
	strcpy(a[0].u.app.origin, "node-b");
	a[0].u.app.seq = 7;
	a[0].u.app.key = 0x1234;
	a[0].u.app.data = data;
	a[0].u.app.len = sizeof data - 1;
	a[1] = a[0];
	a[1].u.app.direct = true;
	a[1].u.app.seq = 8;
	*nb = body(b, a, 2);
}

/* A digest request with node-c's application state. */
static void digest_frame(uint8_t *b, size_t *nb)
{
	static const uint8_t h[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	static const uint8_t state[] = "whole job table";
	struct wire_msg f[3];

	memset(f, 0, sizeof f);
	f[0].type = WIRE_PUSHPULL;
	f[1].type = WIRE_DIGEST;
	f[1].u.digest.n = 4;
	f[1].u.digest.h = h;
	f[2].type = WIRE_APP_STATE;
	strcpy(f[2].u.app.origin, "node-c");
	f[2].u.app.data = state;
	f[2].u.app.len = sizeof state - 1;
	*nb = body(b, f, 3);
}

/* A life story for fuzz_core: a push-pull brings three members, time passes, one is
 * suspected, then declared dead, then the node itself is declared dead. */
static int core_story(const struct wire_msg *m)
{
	static const uint8_t sec[] = {0x03, 0xe8}, five[] = {0x13, 0x88}; /* 1 s, 5 s */
	static const char *names[] = {"node-b", "node-c", "node-d"};
	struct wire_msg pp[4];
	uint8_t b[BUF_MAX], story[4 * BUF_MAX];
	size_t n = 0, nb, i;

	pp[0] = m[8];
	pp[0].u.pushpull.join = false;
	pp[0].u.pushpull.reply = true;
	pp[0].u.pushpull.count = 3;
	for (i = 0; i < 3; i++) {
		pp[1 + i] = m[9];
		pp[1 + i].u.alive.state = GOSSIP_ALIVE;
		strcpy(pp[1 + i].u.alive.node.name, names[i]);
		pp[1 + i].u.alive.node.addr.ip = 0x0a000002 + i;
	}
	nb = body(b, pp, 4);
	n += rec(story + n, 1, b, nb);
	n += rec(story + n, REC_TICK, sec, sizeof sec);
	n += rec(story + n, REC_TICK, sec, sizeof sec);
	nb = body(b, &m[5], 1); /* node-d suspected */
	n += rec(story + n, 0, b, nb);
	n += rec(story + n, REC_TICK, five, sizeof five);
	app_msgs(b, &nb); /* node-b broadcasts, and so do we */
	n += rec(story + n, 0, b, nb);
	n += rec(story + n, REC_APP, (const uint8_t *)"\0\7hello", 7);
	n += rec(story + n, REC_APP, (const uint8_t *)"\1\1direct", 8);
	digest_frame(b, &nb); /* a digest exchange asked of us */
	n += rec(story + n, 1, b, nb);
	nb = body(b, &m[6], 1); /* this node declared dead */
	n += rec(story + n, 0, b, nb);
	n += rec(story + n, REC_TICK, sec, sizeof sec);
	return save("core", story, 0, story, n);
}

int main(int argc, char **argv)
{
	struct gossip_keyring kr;
	struct wire_msg m[NMSG];
	uint8_t b[BUF_MAX];
	size_t n, i;

	if (argc != 2) {
		fprintf(stderr, "usage: seeds DIR\n");
		return 2;
	}
	dir = argv[1];
	mkdir(dir, 0755);
	if (gossip_keyring_parse(&kr, KEY) < 0)
		return 1;
	samples(m);
	for (i = 0; i < NMSG; i++) {
		n = body(b, &m[i], 1);
		if (!n || gossip_seeds(&kr, b, n) || core_seed(i >= 8, b, n))
			return 1;
	}
	n = body(b, m, 8); /* every datagram message at once */
	if (!n || gossip_seeds(&kr, b, n) || core_seed(0, b, n))
		return 1;
	n = body(b, &m[8], 2); /* a push-pull with one member */
	if (!n || gossip_seeds(&kr, b, n) || core_seed(1, b, n) || core_story(m))
		return 1;
	app_msgs(b, &n);
	if (!n || gossip_seeds(&kr, b, n) || core_seed(0, b, n))
		return 1;
	digest_frame(b, &n);
	if (!n || gossip_seeds(&kr, b, n) || core_seed(1, b, n))
		return 1;
	printf("seeds: %d files in %s\n", nfile, dir);
	return 0;
}
