/* keyring.c: the cluster keyring and the envelope every gossip packet travels in.
 *
 * Envelope (PROTOCOL.md has the bytes):
 *   sealed:    version, GOSSIP_MODE_GCM, nonce[12], ciphertext, tag[16]
 *   plaintext: version, GOSSIP_MODE_PLAIN, body
 * AES-GCM's additional data is the version and mode bytes followed by the cluster name,
 * so a packet of another cluster, or one whose header was altered, fails the tag. The
 * mode is fixed by the keyring (empty = plaintext) and a node never accepts the other
 * one, so an attacker cannot downgrade a sealed cluster to plaintext.
 *
 * A GCM context is set up per call: AES key expansion and GCM's table take a couple of
 * microseconds, small beside a packet's own cost, and keep the keyring a plain value that
 * callers copy freely. */
#include "net/gossip/keyring.h"

#include <errno.h>
#include <mbedtls/base64.h>
#include <mbedtls/gcm.h>
#include <string.h>

#include "net/gossip/gossip.h"

#define HDR_LEN 2	 /* version, mode */
#define KEY_TEXT_MAX 44	 /* base64 of a 32-byte key */
#define BASE64_QUANTUM 4 /* base64 comes in groups of four characters */
#define AAD_MAX (HDR_LEN + GOSSIP_CLUSTER_MAX)

static int keylen_ok(size_t n) { return n == 16 || n == 24 || n == 32; }

static int b64char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

/* Append the key whose base64 is s[0..n). mbedTLS's decoder also skips line breaks and
 * takes unpadded input; a key on a command line has neither, so both are refused here. */
static int addkey(struct gossip_keyring *kr, const char *s, size_t n)
{
	size_t i, len;

	if (kr->n == GOSSIP_KEYS_MAX || n == 0 || n > KEY_TEXT_MAX || n % BASE64_QUANTUM)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!b64char(s[i]))
			return -EINVAL;
	if (mbedtls_base64_decode(kr->key[kr->n], sizeof kr->key[0], &len, (const unsigned char *)s,
				  n) != 0)
		return -EINVAL;
	if (!keylen_ok(len))
		return -EINVAL;
	kr->len[kr->n++] = len;
	return 0;
}

int gossip_keyring_parse(struct gossip_keyring *kr, const char *text)
{
	const char *s = text;
	size_t n;

	memset(kr, 0, sizeof *kr);
	for (;;) {
		n = strcspn(s, ",");
		if (addkey(kr, s, n) < 0) {
			memset(kr, 0, sizeof *kr); /* no half-installed keyring, no key bytes */
			return -EINVAL;
		}
		if (s[n] == 0)
			return 0;
		s += n + 1;
	}
}

/* The additional data: header bytes, then the cluster name. Its length, or -EINVAL. */
static long aad(uint8_t buf[AAD_MAX], uint8_t mode, const char *cluster)
{
	size_t n = cluster ? strnlen(cluster, GOSSIP_CLUSTER_MAX + 1) : 0;

	if (n > GOSSIP_CLUSTER_MAX)
		return -EINVAL;
	buf[0] = GOSSIP_ENVELOPE_VERSION;
	buf[1] = mode;
	if (n)
		memcpy(buf + HDR_LEN, cluster, n);
	return HDR_LEN + n;
}

static int keyring_ok(const struct gossip_keyring *kr)
{
	unsigned i;

	if (kr->n > GOSSIP_KEYS_MAX)
		return 0;
	for (i = 0; i < kr->n; i++)
		if (!keylen_ok(kr->len[i]))
			return 0;
	return 1;
}

long gossip_seal(const struct gossip_keyring *kr, const char *cluster,
		 const uint8_t nonce[GOSSIP_NONCE_LEN], const uint8_t *plain, size_t n,
		 uint8_t *out, size_t cap)
{
	uint8_t ad[AAD_MAX];
	long adlen = aad(ad, kr->n ? GOSSIP_MODE_GCM : GOSSIP_MODE_PLAIN, cluster);
	mbedtls_gcm_context gcm;
	int err;

	if (adlen < 0 || !keyring_ok(kr))
		return -EINVAL;
	if (kr->n == 0) {
		if (cap < HDR_LEN || n > cap - HDR_LEN)
			return -ENOSPC;
		memcpy(out, ad, HDR_LEN);
		if (n)
			memcpy(out + HDR_LEN, plain, n);
		return HDR_LEN + n;
	}
	if (cap < GOSSIP_SEAL_OVERHEAD || n > cap - GOSSIP_SEAL_OVERHEAD)
		return -ENOSPC;
	memcpy(out, ad, HDR_LEN);
	memcpy(out + HDR_LEN, nonce, GOSSIP_NONCE_LEN);

	mbedtls_gcm_init(&gcm);
	err = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, kr->key[0], kr->len[0] * 8);
	if (err == 0)
		err = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, n, nonce,
						GOSSIP_NONCE_LEN, ad, adlen, plain,
						out + HDR_LEN + GOSSIP_NONCE_LEN, GOSSIP_TAG_LEN,
						out + HDR_LEN + GOSSIP_NONCE_LEN + n);
	mbedtls_gcm_free(&gcm);
	if (err != 0)
		return -EINVAL; /* only a key mbedTLS refuses, or no memory for its context */
	return GOSSIP_SEAL_OVERHEAD + n;
}

/* Try one key: 0 when it opens in (n bytes of sealed envelope) into out. */
static int trykey(const uint8_t *key, unsigned keylen, const uint8_t *ad, size_t adlen,
		  const uint8_t *in, size_t len, uint8_t *out)
{
	const uint8_t *nonce = in + HDR_LEN;
	const uint8_t *ct = nonce + GOSSIP_NONCE_LEN;
	mbedtls_gcm_context gcm;
	int err;

	mbedtls_gcm_init(&gcm);
	err = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, keylen * 8);
	if (err == 0)
		err = mbedtls_gcm_auth_decrypt(&gcm, len, nonce, GOSSIP_NONCE_LEN, ad, adlen,
					       ct + len, GOSSIP_TAG_LEN, ct, out);
	mbedtls_gcm_free(&gcm);
	return err;
}

long gossip_open(const struct gossip_keyring *kr, const char *cluster, const uint8_t *in, size_t n,
		 uint8_t *out, size_t cap)
{
	uint8_t ad[AAD_MAX];
	uint8_t mode = kr->n ? GOSSIP_MODE_GCM : GOSSIP_MODE_PLAIN;
	long adlen = aad(ad, mode, cluster);
	size_t len;
	unsigned i;

	if (adlen < 0 || !keyring_ok(kr))
		return -EINVAL;
	if (n < 1)
		return -EMSGSIZE;
	if (in[0] != GOSSIP_ENVELOPE_VERSION)
		return -EPROTONOSUPPORT;
	if (n < HDR_LEN)
		return -EMSGSIZE;
	if (in[1] != mode)
		return -EPROTO;
	if (kr->n == 0) {
		len = n - HDR_LEN;
		if (len > cap)
			return -EMSGSIZE;
		if (len)
			memcpy(out, in + HDR_LEN, len);
		return len;
	}
	if (n < GOSSIP_SEAL_OVERHEAD)
		return -EMSGSIZE;
	len = n - GOSSIP_SEAL_OVERHEAD;
	if (len > cap)
		return -EMSGSIZE;
	for (i = 0; i < kr->n; i++)
		if (trykey(kr->key[i], kr->len[i], ad, adlen, in, len, out) == 0)
			return len;
	return -EBADMSG;
}
