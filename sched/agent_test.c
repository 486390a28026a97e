/* agent_test.c: self-tests of the agent's pieces that need no cluster: the blob store
 * (only verified bytes enter, a blob is stored once, pins give the bytes back) and the
 * peer service's request decoder (answers, and rejects malformed or random requests
 * without crashing), and the peer service itself over loopback: several askers are served
 * at once while a silent one holds a worker, the silent one is cut at its bound, and
 * connections past the workers and the queue are refused and counted. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/random.h"
#include "kernel/selftest.h"
#include "kernel/thread.h"
#include "lwip/sockets.h"
#include "mbedtls/sha256.h"
#include "net/ksock.h"
#include "sched/agent_internal.h"

#define FUZZ_ROUNDS 2000
#define FUZZ_MAX 64
#define NS_PER_MS 1000000ULL
#define SERVED_MS (AGENT_PEER_IO_TIMEOUT_MS / 2) /* an asker answered sooner beat the silent one */
#define SETTLE_MS 100 /* for the acceptor and the workers to take what just connected */
#define EXTRA 2	      /* connections past the workers and the queue */
#define HELD (AGENT_PEER_MAX_CONN + AGENT_PEER_QUEUE)

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

/* One asker on its own thread: a blob over loopback, and how long it took. */
struct asker {
	const uint8_t *sha;
	int rc;
	uint64_t ms;
};

static void ask(void *arg)
{
	struct asker *a = arg;
	uint64_t t0 = agent_now_ms();
	a->rc = agent_peer_fetch_from(INADDR_LOOPBACK, a->sha);
	a->ms = agent_now_ms() - t0;
}

/* Whether the server closed s within ms (end of stream or reset, not a timeout). */
static bool closed_within(int s, uint64_t ms)
{
	uint8_t b;
	ksock_timeout(s, SO_RCVTIMEO, ms);
	int r = lwip_recv(s, &b, 1, 0);
	return r == 0 || (r < 0 && errno != EWOULDBLOCK && errno != EAGAIN && errno != ETIMEDOUT);
}

/* The checks; socks collects the test's open sockets for the caller to close. */
static int peer_concurrent(const uint8_t sha[32], int socks[HELD + 1])
{
	struct asker as[AGENT_PEER_MAX_CONN - 1];
	struct thread *t[AGENT_PEER_MAX_CONN - 1];
	struct agent_stats s0, s1;

	/* A silent asker takes a worker first; the others are all served meanwhile. */
	uint64_t t0 = agent_now_ms();
	socks[0] = ksock_connect(INADDR_LOOPBACK, AGENT_PEER_PORT, AGENT_PEER_IO_TIMEOUT_MS);
	CHECK(socks[0] >= 0);
	thread_sleep_ns(SETTLE_MS * NS_PER_MS);
	int n = 0;
	for (; n < AGENT_PEER_MAX_CONN - 1; n++) {
		as[n] = (struct asker){.sha = sha, .rc = 1};
		t[n] = thread_create("peer-asker", ask, &as[n], THREAD_ANY_CPU);
		if (!t[n])
			break;
	}
	for (int i = 0; i < n; i++)
		thread_start(t[i]);
	for (int i = 0; i < n; i++)
		thread_join(t[i]);
	CHECK(n == AGENT_PEER_MAX_CONN - 1);
	for (int i = 0; i < n; i++) {
		kinfo("selftest: peer asker %d: %d in %lu ms beside a silent one", i, as[i].rc,
		      as[i].ms);
		CHECK(as[i].rc == 0 && as[i].ms < SERVED_MS);
	}
	uint8_t none[32];
	memcpy(none, sha, 32);
	none[31] ^= 1;
	CHECK(agent_peer_fetch_from(INADDR_LOOPBACK, none) == -ENOENT);
	/* The silent one is held meanwhile, and cut at the receive bound. */
	CHECK(!closed_within(socks[0], 1));
	CHECK(closed_within(socks[0], AGENT_FETCH_TIMEOUT_MS));
	uint64_t held = agent_now_ms() - t0;
	kinfo("selftest: silent peer held %lu ms (bound %d ms)", held, AGENT_PEER_IO_TIMEOUT_MS);
	CHECK(held >= AGENT_PEER_IO_TIMEOUT_MS * 3 / 4 && held < AGENT_FETCH_TIMEOUT_MS);
	lwip_close(socks[0]);
	socks[0] = -1;

	/* Every worker and queue slot taken by a silent asker: more are refused at once. */
	for (int i = 0; i < HELD; i++) {
		socks[i] =
			ksock_connect(INADDR_LOOPBACK, AGENT_PEER_PORT, AGENT_PEER_IO_TIMEOUT_MS);
		CHECK(socks[i] >= 0);
		if (i == AGENT_PEER_MAX_CONN - 1 || i == HELD - 1)
			thread_sleep_ns(SETTLE_MS * NS_PER_MS);
	}
	agent_stats(&s0);
	for (int i = 0; i < EXTRA; i++) {
		socks[HELD] =
			ksock_connect(INADDR_LOOPBACK, AGENT_PEER_PORT, AGENT_PEER_IO_TIMEOUT_MS);
		CHECK(socks[HELD] >= 0);
		CHECK(closed_within(socks[HELD], SERVED_MS));
		lwip_close(socks[HELD]);
		socks[HELD] = -1;
	}
	uint64_t t1 = agent_now_ms();
	CHECK(agent_peer_fetch_from(INADDR_LOOPBACK, sha) == -EHOSTUNREACH);
	CHECK(agent_now_ms() - t1 < SERVED_MS);
	agent_stats(&s1);
	CHECK(s1.peer_refused - s0.peer_refused == EXTRA + 1);
	for (int i = 0; i < HELD; i++)
		CHECK(!closed_within(socks[i], 1)); /* the held and queued ones still wait */
	return 0;
}

SELFTEST(agent_peer_concurrent)
{
	static const char elf[] = "\177ELF a program many nodes want at once";
	struct gossip_keyring kr = {.n = 1, .len = {16}};
	uint8_t sha[32];
	int socks[HELD + 1];

	agent_init_locks();
	random_bytes(kr.key[0], kr.len[0]);
	agent_peer_use_keys(&kr, "selftest");
	CHECK(mbedtls_sha256_ret((const unsigned char *)elf, sizeof elf, sha, 0) == 0);
	CHECK(agent_blob_put(sha, elf, sizeof elf) == 0);
	for (int i = 0; i <= HELD; i++)
		socks[i] = -1;
	CHECK(agent_peer_start() == 0);
	int rc = peer_concurrent(sha, socks);
	for (int i = 0; i <= HELD; i++)
		if (socks[i] >= 0)
			lwip_close(socks[i]);
	agent_peer_stop();
	agent_peer_use_keys(NULL, NULL);
	return rc;
}
