/* sources: net/gossip/keyring.c */
/* test_keyring.c: the keyring parser and the sealed envelope: keys of each size and lists
 * of them, every malformed key list refused, seal/open round trips, and every wrongly
 * keyed, wrongly named, tampered, truncated or mismatched packet refused with its error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/gossip/gossip.h"
#include "net/gossip/keyring.h"

/* Bytes 0, 1, 2, ... and 100, 101, 102, ... of each length, in base64 (as `serf keygen`
 * prints them). */
#define K16 "AAECAwQFBgcICQoLDA0ODw=="
#define K24 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
#define K32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define J32 "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM="
#define K15 "AAECAwQFBgcICQoLDA0O"
#define K20 "AAECAwQFBgcICQoLDA0ODxAREhM="
#define K33 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"

#define CLUSTER "prod"
#define BUF_MAX 2048

static const uint8_t nonce1[GOSSIP_NONCE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t nonce2[GOSSIP_NONCE_LEN] = {9, 9, 9};
static const uint8_t msg[] = "\x01\x03\x00\x04\x00\x00\x00\x2a some gossip, any bytes";

static void is_seq(const uint8_t *k, size_t n, uint8_t first)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(k[i], (uint8_t)(first + i));
}

static void parse_sizes(void **state)
{
	struct gossip_keyring kr;

	assert_int_equal(gossip_keyring_parse(&kr, K16), 0);
	assert_int_equal(kr.n, 1);
	assert_int_equal(kr.len[0], 16);
	is_seq(kr.key[0], 16, 0);
	assert_int_equal(gossip_keyring_parse(&kr, K24), 0);
	assert_int_equal(kr.len[0], 24);
	is_seq(kr.key[0], 24, 0);
	assert_int_equal(gossip_keyring_parse(&kr, K32), 0);
	assert_int_equal(kr.len[0], 32);
	is_seq(kr.key[0], 32, 0);
}

static void parse_lists(void **state)
{
	struct gossip_keyring kr;
	char text[1024] = "";
	int i;

	assert_int_equal(gossip_keyring_parse(&kr, J32 "," K16 "," K24), 0);
	assert_int_equal(kr.n, 3);
	assert_int_equal(kr.len[0], 32);
	is_seq(kr.key[0], 32, 100); /* the first listed seals */
	assert_int_equal(kr.len[1], 16);
	assert_int_equal(kr.len[2], 24);

	for (i = 0; i < GOSSIP_KEYS_MAX; i++)
		strcat(strcat(text, i ? "," : ""), K32);
	assert_int_equal(gossip_keyring_parse(&kr, text), 0);
	assert_int_equal(kr.n, GOSSIP_KEYS_MAX);
	strcat(text, "," K16);
	assert_int_equal(gossip_keyring_parse(&kr, text), -EINVAL);
	assert_int_equal(kr.n, 0);
}

static void parse_bad(void **state)
{
	static const char *bad[] = {
		"",			     /* no key at all */
		K15,			     /* 15 bytes */
		K20,			     /* 20 bytes */
		K33,			     /* 33 bytes */
		"AAECAwQFBgcICQoLDA0ODw",    /* unpadded */
		"AAECAwQFBgcICQoLDA0OD!==",  /* not base64 */
		"AAECAwQFBgcI CQoLDA0ODw=",  /* a space */
		"AAECAwQFBgcI\nCQoLDA0ODw=", /* a line break mbedTLS would skip */
		"AAECAwQFBgcICQ=oLDA0ODw=",  /* padding inside */
		K16 ",",		     /* an empty item */
		"," K16,
		K16 ",," K32,
		K16 "," K15, /* one good, one bad: nothing installed */
		K32 K32,     /* 64 bytes */
	};
	struct gossip_keyring kr;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&kr, 0xff, sizeof kr);
		assert_int_equal(gossip_keyring_parse(&kr, bad[i]), -EINVAL);
		assert_int_equal(kr.n, 0);
		assert_int_equal(kr.key[0][0], 0); /* no key bytes left behind */
	}
}

/* Seal msg under kr: the sealed length (checked) into out. */
static size_t seal(const struct gossip_keyring *kr, const char *cluster, uint8_t *out)
{
	long n = gossip_seal(kr, cluster, nonce1, msg, sizeof msg, out, BUF_MAX);

	assert_int_equal(n, sizeof msg + (kr->n ? GOSSIP_SEAL_OVERHEAD : 2));
	return n;
}

/* Open in[0..n) from an exact-size heap copy (ASan sees any overread). */
static long open1(const struct gossip_keyring *kr, const char *cluster, const uint8_t *in, size_t n,
		  uint8_t *out, size_t cap)
{
	uint8_t *q = malloc(n ? n : 1);
	long rc;

	assert_non_null(q);
	memcpy(q, in, n);
	rc = gossip_open(kr, cluster, q, n, out, cap);
	free(q);
	return rc;
}

static void round_trip(void **state)
{
	static const char *keys[] = {K16, K24, K32};
	struct gossip_keyring kr;
	uint8_t sealed[BUF_MAX], sealed2[BUF_MAX], out[BUF_MAX];
	size_t i, n;

	for (i = 0; i < 3; i++) {
		assert_int_equal(gossip_keyring_parse(&kr, keys[i]), 0);
		n = seal(&kr, CLUSTER, sealed);
		assert_int_equal(sealed[0], GOSSIP_ENVELOPE_VERSION);
		assert_int_equal(sealed[1], GOSSIP_MODE_GCM);
		assert_memory_equal(sealed + 2, nonce1, GOSSIP_NONCE_LEN);
		assert_memory_not_equal(sealed + 2 + GOSSIP_NONCE_LEN, msg, sizeof msg);
		memset(out, 0, sizeof out);
		assert_int_equal(open1(&kr, CLUSTER, sealed, n, out, sizeof out), sizeof msg);
		assert_memory_equal(out, msg, sizeof msg);
		assert_int_equal(open1(&kr, CLUSTER, sealed, n, out, sizeof msg), sizeof msg);
		assert_int_equal(open1(&kr, CLUSTER, sealed, n, out, sizeof msg - 1), -EMSGSIZE);

		/* Another nonce, other bytes. */
		assert_int_equal(
			gossip_seal(&kr, CLUSTER, nonce2, msg, sizeof msg, sealed2, sizeof sealed2),
			n);
		assert_memory_not_equal(sealed + 2, sealed2 + 2, n - 2);
	}
	/* An empty body seals and opens too. */
	n = gossip_seal(&kr, CLUSTER, nonce1, NULL, 0, sealed, sizeof sealed);
	assert_int_equal(n, GOSSIP_SEAL_OVERHEAD);
	assert_int_equal(open1(&kr, CLUSTER, sealed, n, out, 0), 0);
	/* No cluster name is the empty one. */
	n = seal(&kr, NULL, sealed);
	assert_int_equal(open1(&kr, "", sealed, n, out, sizeof out), sizeof msg);
}

static void plaintext(void **state)
{
	struct gossip_keyring none = {0};
	uint8_t sealed[BUF_MAX], out[BUF_MAX];
	size_t n = seal(&none, CLUSTER, sealed);

	assert_int_equal(sealed[0], GOSSIP_ENVELOPE_VERSION);
	assert_int_equal(sealed[1], GOSSIP_MODE_PLAIN);
	assert_memory_equal(sealed + 2, msg, sizeof msg);
	assert_int_equal(open1(&none, CLUSTER, sealed, n, out, sizeof out), sizeof msg);
	assert_memory_equal(out, msg, sizeof msg);
	assert_int_equal(open1(&none, CLUSTER, sealed, 2, out, sizeof out), 0);
	assert_int_equal(open1(&none, CLUSTER, sealed, 1, out, sizeof out), -EMSGSIZE);
	assert_int_equal(open1(&none, CLUSTER, sealed, n, out, sizeof msg - 1), -EMSGSIZE);
}

static void wrong_key_and_cluster(void **state)
{
	struct gossip_keyring a, b;
	uint8_t sealed[BUF_MAX], out[BUF_MAX];
	size_t n;

	assert_int_equal(gossip_keyring_parse(&a, K32), 0);
	assert_int_equal(gossip_keyring_parse(&b, J32), 0);
	n = seal(&a, CLUSTER, sealed);
	assert_int_equal(open1(&b, CLUSTER, sealed, n, out, sizeof out), -EBADMSG);
	assert_int_equal(open1(&a, "prod2", sealed, n, out, sizeof out), -EBADMSG);
	assert_int_equal(open1(&a, "", sealed, n, out, sizeof out), -EBADMSG);
	assert_int_equal(open1(&a, "pro", sealed, n, out, sizeof out), -EBADMSG);
	assert_int_equal(open1(&a, CLUSTER, sealed, n, out, sizeof out), sizeof msg);
}

/* Every bit of every byte: the version byte is refused as a version, the mode byte as a
 * mode, everything else (nonce, ciphertext, tag) as unauthentic. */
static void tampered(void **state)
{
	struct gossip_keyring kr;
	uint8_t sealed[BUF_MAX], out[BUF_MAX];
	size_t n, i;
	int bit;
	long want;

	assert_int_equal(gossip_keyring_parse(&kr, K32), 0);
	n = seal(&kr, CLUSTER, sealed);
	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			sealed[i] ^= 1u << bit;
			want = i == 0 ? -EPROTONOSUPPORT : i == 1 ? -EPROTO : -EBADMSG;
			assert_int_equal(open1(&kr, CLUSTER, sealed, n, out, sizeof out), want);
			sealed[i] ^= 1u << bit;
		}
	assert_int_equal(open1(&kr, CLUSTER, sealed, n, out, sizeof out), sizeof msg);
}

/* Every prefix: too short for the envelope is -EMSGSIZE, longer ones fail the tag. */
static void truncated(void **state)
{
	struct gossip_keyring kr;
	uint8_t sealed[BUF_MAX], out[BUF_MAX];
	size_t n, k;

	assert_int_equal(gossip_keyring_parse(&kr, K16), 0);
	n = seal(&kr, CLUSTER, sealed);
	for (k = 0; k < n; k++)
		assert_int_equal(open1(&kr, CLUSTER, sealed, k, out, sizeof out),
				 k < GOSSIP_SEAL_OVERHEAD ? -EMSGSIZE : -EBADMSG);
}

static void mode_and_version_mismatch(void **state)
{
	struct gossip_keyring kr, none = {0};
	uint8_t sealed[BUF_MAX], plain[BUF_MAX], out[BUF_MAX];
	size_t ns, np;

	assert_int_equal(gossip_keyring_parse(&kr, K32), 0);
	ns = seal(&kr, CLUSTER, sealed);
	np = seal(&none, CLUSTER, plain);
	assert_int_equal(open1(&none, CLUSTER, sealed, ns, out, sizeof out), -EPROTO);
	assert_int_equal(open1(&kr, CLUSTER, plain, np, out, sizeof out), -EPROTO);
	sealed[1] = 7; /* a mode nobody defined */
	assert_int_equal(open1(&kr, CLUSTER, sealed, ns, out, sizeof out), -EPROTO);
	sealed[0] = GOSSIP_ENVELOPE_VERSION + 1;
	assert_int_equal(open1(&kr, CLUSTER, sealed, ns, out, sizeof out), -EPROTONOSUPPORT);
	assert_int_equal(open1(&kr, CLUSTER, sealed, 1, out, sizeof out), -EPROTONOSUPPORT);
	plain[0] = 0;
	assert_int_equal(open1(&none, CLUSTER, plain, np, out, sizeof out), -EPROTONOSUPPORT);
}

/* Rotation: install B beside A everywhere, then make B first, then drop A. */
static void rotation(void **state)
{
	struct gossip_keyring a, ab, ba, b;
	uint8_t sealed[BUF_MAX], out[BUF_MAX];
	size_t n;

	assert_int_equal(gossip_keyring_parse(&a, K32), 0);
	assert_int_equal(gossip_keyring_parse(&ab, K32 "," J32), 0);
	assert_int_equal(gossip_keyring_parse(&ba, J32 "," K32), 0);
	assert_int_equal(gossip_keyring_parse(&b, J32), 0);

	n = seal(&b, CLUSTER, sealed);
	assert_int_equal(open1(&ab, CLUSTER, sealed, n, out, sizeof out), sizeof msg);
	assert_memory_equal(out, msg, sizeof msg);
	assert_int_equal(open1(&a, CLUSTER, sealed, n, out, sizeof out), -EBADMSG);

	n = seal(&ba, CLUSTER, sealed); /* sealed with B */
	assert_int_equal(open1(&b, CLUSTER, sealed, n, out, sizeof out), sizeof msg);
	assert_int_equal(open1(&a, CLUSTER, sealed, n, out, sizeof out), -EBADMSG);

	n = seal(&ab, CLUSTER, sealed); /* sealed with A: B alone cannot open it */
	assert_int_equal(open1(&ba, CLUSTER, sealed, n, out, sizeof out), sizeof msg);
	assert_int_equal(open1(&b, CLUSTER, sealed, n, out, sizeof out), -EBADMSG);
}

static void caller_errors(void **state)
{
	struct gossip_keyring kr, broken;
	uint8_t sealed[BUF_MAX], out[BUF_MAX];
	char longname[GOSSIP_CLUSTER_MAX + 2];
	size_t n;

	assert_int_equal(gossip_keyring_parse(&kr, K32), 0);
	n = seal(&kr, CLUSTER, sealed);
	assert_int_equal(gossip_seal(&kr, CLUSTER, nonce1, msg, sizeof msg, out, n - 1), -ENOSPC);
	assert_int_equal(gossip_seal(&kr, CLUSTER, nonce1, msg, sizeof msg, out, 0), -ENOSPC);

	memset(longname, 'c', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	assert_int_equal(gossip_seal(&kr, longname, nonce1, msg, sizeof msg, out, sizeof out),
			 -EINVAL);
	assert_int_equal(open1(&kr, longname, sealed, n, out, sizeof out), -EINVAL);
	longname[GOSSIP_CLUSTER_MAX] = 0; /* the longest allowed */
	n = seal(&kr, longname, sealed);
	assert_int_equal(open1(&kr, longname, sealed, n, out, sizeof out), sizeof msg);

	broken = kr;
	broken.len[0] = 20;
	assert_int_equal(gossip_seal(&broken, CLUSTER, nonce1, msg, sizeof msg, out, sizeof out),
			 -EINVAL);
	broken.len[0] = 32;
	broken.n = GOSSIP_KEYS_MAX + 1;
	assert_int_equal(open1(&broken, CLUSTER, sealed, n, out, sizeof out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_sizes),
		cmocka_unit_test(parse_lists),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(plaintext),
		cmocka_unit_test(wrong_key_and_cluster),
		cmocka_unit_test(tampered),
		cmocka_unit_test(truncated),
		cmocka_unit_test(mode_and_version_mismatch),
		cmocka_unit_test(rotation),
		cmocka_unit_test(caller_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
