/* keyring.h: the cluster keyring and the sealed envelope every gossip datagram and
 * stream frame travels in.
 *
 * A keyring holds up to GOSSIP_KEYS_MAX AES keys (16, 24 or 32 bytes; Serf's `keygen`
 * prints 32 in base64). The first key seals; every key is tried to open, so a key can be
 * rotated in (installed everywhere, then made first) and out without a partition.
 * An empty keyring means plaintext, which the kernel allows only when the command line
 * asks for it; a node never accepts the other mode than its own.
 *
 * Envelope (PROTOCOL.md has the bytes): version, mode, then for AES-GCM a 12-byte nonce,
 * the ciphertext and a 16-byte tag. The additional data is the version and mode bytes
 * followed by the cluster name, so packets of another cluster never open. */
#ifndef NET_GOSSIP_KEYRING_H
#define NET_GOSSIP_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#define GOSSIP_KEYS_MAX 8
#define GOSSIP_NONCE_LEN 12
#define GOSSIP_TAG_LEN 16
#define GOSSIP_SEAL_OVERHEAD (2 + GOSSIP_NONCE_LEN + GOSSIP_TAG_LEN) /* plaintext mode: 2 */

/* The envelope's first two bytes. */
#define GOSSIP_ENVELOPE_VERSION 1
#define GOSSIP_MODE_PLAIN 0
#define GOSSIP_MODE_GCM 1

struct gossip_keyring {
	unsigned n;		      /* keys installed; 0 = plaintext */
	uint8_t len[GOSSIP_KEYS_MAX]; /* 16, 24 or 32 */
	uint8_t key[GOSSIP_KEYS_MAX][32];
};

/* Parse "KEY[,KEY...]", each the base64 of 16, 24 or 32 bytes. 0, or -EINVAL (kr left
 * empty) naming nothing: the caller reports the key. */
int gossip_keyring_parse(struct gossip_keyring *kr, const char *text);

/* Seal plain[0..n) into out (cap bytes; the two must not overlap): the sealed length, or
 * -ENOSPC, or -EINVAL for a cluster name over GOSSIP_CLUSTER_MAX or a malformed keyring
 * (the caller's mistake, not the packet's). nonce is fresh randomness from the caller
 * (unused in plaintext mode). cluster may be NULL, meaning "". */
long gossip_seal(const struct gossip_keyring *kr, const char *cluster,
		 const uint8_t nonce[GOSSIP_NONCE_LEN], const uint8_t *plain, size_t n,
		 uint8_t *out, size_t cap);
/* Open in[0..n) into out (cap bytes; no overlap): the plaintext length, or
 *   -EPROTONOSUPPORT  unknown version byte
 *   -EPROTO           mode differs from this keyring's (plain vs sealed)
 *   -EMSGSIZE         truncated, or larger than cap
 *   -EBADMSG          no key opens it (wrong key, wrong cluster, tampered)
 *   -EINVAL           as for gossip_seal: the caller's cluster name or keyring is bad.
 * Each key is tried in turn (mbedtls_gcm_setkey per call: no state kept, so the keyring
 * stays a plain value). */
long gossip_open(const struct gossip_keyring *kr, const char *cluster, const uint8_t *in, size_t n,
		 uint8_t *out, size_t cap);

#endif
