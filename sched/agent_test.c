/* agent_test.c: self-tests of the agent's pieces that need no cluster: the blob store
 * (only verified bytes enter, a blob is stored once, pins give the bytes back) and the
 * peer service's request decoder (answers, and rejects malformed or random requests
 * without crashing). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/random.h"
#include "kernel/selftest.h"
#include "mbedtls/sha256.h"
#include "sched/agent_internal.h"

#define FUZZ_ROUNDS 2000
#define FUZZ_MAX 64

SELFTEST(agent_blob)
{
	static const char elf[] = "\177ELF pretend program bytes";
	uint8_t sha[32], other[32];
	const uint8_t *data;
	size_t len;

	agent_init_locks();
	CHECK(mbedtls_sha256_ret((const unsigned char *)elf, sizeof elf, sha, 0) == 0);
	memcpy(other, sha, 32);
	other[0] ^= 1;
	size_t before = agent_blob_count();
	CHECK(agent_blob_put(other, elf, sizeof elf) == -EINVAL); /* bytes do not match */
	CHECK(agent_blob_put(sha, elf, 0) == -EINVAL);
	CHECK(!agent_blob_has(sha));
	CHECK(agent_blob_put(sha, elf, sizeof elf) == 0);
	CHECK(agent_blob_put(sha, elf, sizeof elf) == 0); /* twice: stored once */
	CHECK(agent_blob_count() == before + 1);
	CHECK(agent_blob_has(sha) && !agent_blob_has(other));
	CHECK(agent_blob_pin(sha, &data, &len));
	CHECK(len == sizeof elf && !memcmp(data, elf, len));
	agent_blob_unpin(sha);
	CHECK(!agent_blob_pin(other, &data, &len));
	return 0;
}

SELFTEST(agent_peer_decode)
{
	static const char elf[] = "\177ELF another program";
	uint8_t sha[32], req[64] = {1, 1, 9, 9, 9, 9, 9, 9, 9, 9}, *resp;
	agent_init_locks();
	CHECK(mbedtls_sha256_ret((const unsigned char *)elf, sizeof elf, sha, 0) == 0);
	CHECK(agent_blob_put(sha, elf, sizeof elf) == 0);

	/* GET_BLOB of a blob held: status 0, the bytes, the request id echoed. */
	memcpy(req + 10, sha, 32);
	long n = agent_peer_answer(req, 42, &resp);
	CHECK(n == 14 + (long)sizeof elf);
	CHECK(!memcmp(resp, req, 10) && !memcmp(resp + 10, "\0\0\0\0", 4));
	CHECK(!memcmp(resp + 14, elf, sizeof elf));
	kfree(resp);
	/* Of one not held: -ENOENT. */
	req[10] ^= 1;
	n = agent_peer_answer(req, 42, &resp);
	CHECK(n == 14 &&
	      (int32_t)(resp[10] << 24 | resp[11] << 16 | resp[12] << 8 | resp[13]) == -ENOENT);
	kfree(resp);
	/* GET_OUTPUT of an instance this node never ran: -ENOENT, no bytes. */
	uint8_t out[10 + 13 + 12] = {1, 2};
	out[10 + 11] = 255; /* max 255 bytes */
	out[10 + 12] = 12;
	memcpy(out + 23, "j000000001.0", 12);
	n = agent_peer_answer(out, sizeof out, &resp);
	CHECK(n == 14 + 9 && resp[13] == (uint8_t)-ENOENT);
	kfree(resp);

	/* Malformed: short, wrong version, unknown op, wrong lengths. */
	CHECK(agent_peer_answer(req, 9, &resp) == -EBADMSG);
	CHECK(agent_peer_answer(req, 41, &resp) == -EBADMSG);
	req[0] = 2;
	CHECK(agent_peer_answer(req, 42, &resp) == -EBADMSG);
	req[0] = 1;
	req[1] = 3;
	CHECK(agent_peer_answer(req, 42, &resp) == -EBADMSG);
	out[10 + 12] = 13; /* name length past the end */
	CHECK(agent_peer_answer(out, sizeof out, &resp) == -EBADMSG);

	/* Random requests: each decodes or is rejected, never more. */
	uint8_t junk[FUZZ_MAX];
	for (int i = 0; i < FUZZ_ROUNDS; i++) {
		size_t len = random_u64() % FUZZ_MAX;
		random_bytes(junk, len);
		if (len > 1 && i % 2) {
			junk[0] = 1;
			junk[1] = 1 + i % 4 / 2;
		}
		n = agent_peer_answer(junk, len, &resp);
		CHECK(n == -EBADMSG || n >= 14);
		if (n > 0)
			kfree(resp);
	}
	return 0;
}
