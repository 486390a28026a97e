/* fuzz_gossip.c: libFuzzer target over the gossip packet decoder and envelope.
 *
 * The first input byte picks what the rest is:
 *   0  a body: wire_open, then wire_get until the end or an error;
 *   1  an envelope: gossip_open under a fixed keyring (and under an empty one), then the
 *      opened body decoded as in 0;
 *   2  a body the harness seals itself with the fixed key and a nonce from the input, so
 *      mutations reach the decoder behind the tag: sealing then opening must give the
 *      input back, and the sealed packet with any one bit flipped must not open.
 * Beyond "no crash, no out-of-bounds read" (ASan, UBSan), every message that decodes
 * must encode back to exactly its input bytes: the format has one encoding per message,
 * so any asymmetry between wire_get and wire_put shows. Violations abort(). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/gossip/keyring.h"
#include "net/gossip/wire.h"

#define KEY "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=" /* also in seeds.c */
#define CLUSTER "fuzz"
#define BUF_MAX (64 * 1024)

enum { MODE_BODY, MODE_ENVELOPE, MODE_SEALED, MODES };

static struct gossip_keyring kr, none;
static uint8_t opened[BUF_MAX], sealed[BUF_MAX + GOSSIP_SEAL_OVERHEAD], again[BUF_MAX];

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_gossip: %s\n", what);
		abort();
	}
}

/* Decode a body; each message decoded must re-encode to its own bytes. */
static void decode(const uint8_t *p, size_t n)
{
	struct wire_reader r;
	struct wire_msg m;
	static uint8_t out[(1 << 16) + 8]; /* the largest message: 3 + 65535 bytes */
	const uint8_t *at;
	long len;
	int rc;

	if (wire_open(&r, p, n) < 0)
		return;
	for (;;) {
		at = r.p;
		rc = wire_get(&r, &m);
		if (rc <= 0) {
			check(rc == 0 || r.p == at, "a failed wire_get moved the reader");
			return;
		}
		len = wire_encode(&m, out, sizeof out);
		check(len > 0, "a decoded message does not encode");
		check(len == wire_size(&m), "wire_size differs from wire_encode");
		check((size_t)len == (size_t)(r.p - at), "re-encoded length differs");
		check(memcmp(out, at, len) == 0, "re-encoded bytes differ");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	uint8_t nonce[GOSSIP_NONCE_LEN] = {0};
	long n, s;
	size_t bit;

	if (!init) {
		check(gossip_keyring_parse(&kr, KEY) == 0, "fixed key does not parse");
		init = 1;
	}
	if (size < 1 || size - 1 > BUF_MAX)
		return 0;
	switch (data[0] % MODES) {
	case MODE_BODY:
		decode(data + 1, size - 1);
		break;
	case MODE_ENVELOPE:
		n = gossip_open(&kr, CLUSTER, data + 1, size - 1, opened, sizeof opened);
		if (n >= 0)
			decode(opened, n);
		n = gossip_open(&none, CLUSTER, data + 1, size - 1, opened, sizeof opened);
		if (n >= 0)
			decode(opened, n);
		break;
	case MODE_SEALED:
		memcpy(nonce, data + 1, size - 1 < sizeof nonce ? size - 1 : sizeof nonce);
		s = gossip_seal(&kr, CLUSTER, nonce, data + 1, size - 1, sealed, sizeof sealed);
		check(s == (long)(size - 1 + GOSSIP_SEAL_OVERHEAD), "seal length");
		n = gossip_open(&kr, CLUSTER, sealed, s, again, sizeof again);
		check(n == (long)(size - 1) && memcmp(again, data + 1, n) == 0,
		      "open(seal(x)) != x");
		decode(again, n);
		bit = (size * 131u + data[size - 1]) % ((size_t)s * 8);
		sealed[bit / 8] ^= 1u << bit % 8;
		check(gossip_open(&kr, CLUSTER, sealed, s, again, sizeof again) < 0,
		      "a tampered packet opened");
		break;
	}
	return 0;
}
