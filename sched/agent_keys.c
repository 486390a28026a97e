/* agent_keys.c: gossip keyring rotation across the cluster.
 *
 * The console's `keys install|use|remove KEY` changes this node's keyring, then announces
 * the step to every member as an application message of its own (not a job table
 * record), sealed like all gossip under the keyring in use; every member that opens it
 * applies the same step to its keyring. Steps are idempotent (installing a key that is
 * there, using the primary, removing a key that is gone change nothing), so duplicates
 * and re-announcements are harmless, and `use` installs the key first where it is missing
 * (the announcement may overtake the install). A member never removes its primary key
 * on hearsay. Members that are down miss the step: `keys list` on each node shows its
 * keyring, and an operator repeats the step there.
 *
 * Message: 'K' 'R' VERSION OP LEN KEY[LEN] (LEN 16, 24 or 32). */
#include <errno.h>
#include <string.h>

#include "kernel/log.h"
#include "kernel/random.h"
#include "net/members.h"
#include "sched/agent_internal.h"

#define KEYS_MAGIC0 'K'
#define KEYS_MAGIC1 'R'
#define KEYS_VERSION 1
#define KEYS_HDR 5

static const char *const op_names[] = {"install", "use", "remove"};

static bool valid_len(size_t len) { return len == 16 || len == 24 || len == 32; }

static int find(const struct gossip_keyring *kr, const uint8_t *key, size_t len)
{
	for (unsigned i = 0; i < kr->n; i++)
		if (kr->len[i] == len && !memcmp(kr->key[i], key, len))
			return (int)i;
	return -1;
}

int agent_keys_apply(struct gossip_keyring *kr, enum agent_key_op op, const uint8_t *key,
		     size_t len)
{
	if (!valid_len(len) || !kr->n)
		return -EINVAL;
	int at = find(kr, key, len);
	switch (op) {
	case AGENT_KEY_INSTALL:
		if (at >= 0)
			return -EEXIST;
		if (kr->n == GOSSIP_KEYS_MAX)
			return -ENOSPC;
		kr->len[kr->n] = (uint8_t)len;
		memset(kr->key[kr->n], 0, sizeof kr->key[0]);
		memcpy(kr->key[kr->n], key, len);
		kr->n++;
		return 0;
	case AGENT_KEY_USE:
		if (at < 0)
			return -ENOENT;
		if (at == 0)
			return -EALREADY;
		/* Move it to the front: the first key seals. */
		for (int i = at; i > 0; i--) {
			kr->len[i] = kr->len[i - 1];
			memcpy(kr->key[i], kr->key[i - 1], sizeof kr->key[0]);
		}
		kr->len[0] = (uint8_t)len;
		memset(kr->key[0], 0, sizeof kr->key[0]);
		memcpy(kr->key[0], key, len);
		return 0;
	case AGENT_KEY_REMOVE:
		if (at < 0)
			return -ENOENT;
		if (at == 0)
			return -EBUSY;
		for (unsigned i = (unsigned)at; i + 1 < kr->n; i++) {
			kr->len[i] = kr->len[i + 1];
			memcpy(kr->key[i], kr->key[i + 1], sizeof kr->key[0]);
		}
		kr->n--;
		memset(kr->key[kr->n], 0, sizeof kr->key[0]);
		kr->len[kr->n] = 0;
		return 0;
	}
	return -EINVAL;
}

int agent_keys_announce(enum agent_key_op op, const uint8_t *key, size_t len)
{
	uint8_t msg[KEYS_HDR + 32];
	uint64_t id;

	if (!valid_len(len) || (unsigned)op > AGENT_KEY_REMOVE)
		return -EINVAL;
	msg[0] = KEYS_MAGIC0;
	msg[1] = KEYS_MAGIC1;
	msg[2] = KEYS_VERSION;
	msg[3] = (uint8_t)op;
	msg[4] = (uint8_t)len;
	memcpy(msg + KEYS_HDR, key, len);
	random_bytes(&id, sizeof id);
	int r = members_app_broadcast(id | 1, msg, KEYS_HDR + len);
	memset(msg, 0, sizeof msg);
	return r;
}

bool agent_keys_is_msg(const uint8_t *data, size_t len)
{
	return len >= 2 && data[0] == KEYS_MAGIC0 && data[1] == KEYS_MAGIC1;
}

int agent_keys_in(const uint8_t *data, size_t len)
{
	struct gossip_keyring kr;
	int r;

	if (len < KEYS_HDR || data[2] != KEYS_VERSION || data[3] > AGENT_KEY_REMOVE ||
	    !valid_len(data[4]) || len != KEYS_HDR + (size_t)data[4]) {
		AGENT_COUNT(keys_bad);
		return -EBADMSG;
	}
	enum agent_key_op op = data[3];
	const uint8_t *key = data + KEYS_HDR;
	size_t klen = data[4];
	if ((r = members_keyring(&kr)) < 0)
		return r;
	r = agent_keys_apply(&kr, op, key, klen);
	if (r == -ENOENT && op == AGENT_KEY_USE &&
	    (r = agent_keys_apply(&kr, AGENT_KEY_INSTALL, key, klen)) == 0)
		r = agent_keys_apply(&kr, AGENT_KEY_USE, key, klen);
	if (r == 0)
		r = members_set_keyring(&kr);
	if (r == 0) {
		AGENT_COUNT(keys_applied);
		kinfo("cluster: keyring: %s of a %zu-bit key announced by a member, now %u keys",
		      op_names[op], klen * 8, kr.n);
	} else if (r == -EBUSY) {
		kwarn("cluster: keyring: refused to remove the primary key on a member's word");
	}
	memset(&kr, 0, sizeof kr);
	return r == -EEXIST || r == -ENOENT || r == -EALREADY ? 0 : r;
}
