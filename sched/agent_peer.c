/* agent_peer.c: the agents' node-to-node service on TCP AGENT_PEER_PORT: blobs and
 * instance output for other nodes, and the client that asks for them.
 *
 * Protocol. One request and one response per connection. Each way a frame is a 4-byte
 * big-endian length, then that many bytes sealed with gossip_seal under the cluster's
 * keyring and name (members_keyring, members_local), so only members of the cluster can
 * ask or answer. Plaintext of a request:
 *   version (1) | op (1) | request id (8) | body
 *     GET_BLOB    sha256 (32)
 *     GET_OUTPUT  offset (8) | max (4) | name length (1) | name ("JOBID.SLOT#ATTEMPT")
 * and of a response:
 *   version (1) | op (1) | request id (8, echoed) | status (4, signed: 0 or -errno) | body
 *     GET_BLOB    the blob's bytes
 *     GET_OUTPUT  next offset (8) | ended (1) | the bytes
 * Integers are big-endian. The echoed request id binds a response to its request; a blob
 * is verified against its hash by agent_blob_put, so a node can serve only what it holds.
 *
 * Failure model: one acceptor thread takes every connection and hands it to a fixed pool
 * of AGENT_PEER_MAX_CONN worker threads through a queue of AGENT_PEER_QUEUE. So up to
 * AGENT_PEER_MAX_CONN peers are served at once (the nodes of a large job all fetching one
 * blob from its uploader), and a silent peer holds one worker, not the service. Every
 * receive and send is bounded by AGENT_PEER_IO_TIMEOUT_MS and the whole exchange, counted from
 * its accept (so a wait in the queue counts), by AGENT_FETCH_TIMEOUT_MS: a silent or
 * trickling peer holds a worker for seconds at most. When every worker is busy and the
 * queue is full the acceptor closes a new connection at once (agent_stats.peer_refused),
 * so the asker moves on to another node instead of waiting; connections past lwIP's own
 * backlog (PEER_BACKLOG) are not accepted at all while the acceptor is busy. A frame that
 * is too long, does not open or does not decode is counted (agent_stats.peer_bad) and the
 * connection closed. Out of memory for a response closes the connection too: at most
 * AGENT_PEER_MAX_CONN responses (each up to two copies of a blob) are in the heap at
 * once. The blob store (agent_blob.c) is shared by the workers under its own lock; a
 * blob being served is pinned so it is never evicted under a reader. The client bounds
 * its connect, its I/O and the whole exchange the same way. */
#include <errno.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/printf.h"
#include "kernel/random.h"
#include "kernel/sync.h"
#include "kernel/thread.h"
#include "lwip/sockets.h"
#include "net/gossip/keyring.h"
#include "net/ksock.h"
#include "net/members.h"
#include "sched/agent_internal.h"

#define NS_PER_MS 1000000ULL
#define PEER_VERSION 1
#define PEER_GET_BLOB 1
#define PEER_GET_OUTPUT 2
#define PEER_HEAD 10	   /* version, op, request id */
#define PEER_RESP_HEAD 14  /* and the status */
#define PEER_REQ_MAX 128   /* plaintext of the largest request */
#define PEER_BACKOFF_MS 50 /* after an accept that failed at once */
#define PEER_BACKLOG 4
#define PEER_MEMBERS_MAX 256 /* members tried for a blob */
#define AGENT_FETCH_ROUNDS 2 /* passes over the members before a fetch fails */

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Keys the self-test seals under instead of the membership's (agent_peer_use_keys). */
static struct gossip_keyring test_kr;
static char test_cluster[GOSSIP_CLUSTER_MAX + 1];
static bool test_keys;

void agent_peer_use_keys(const struct gossip_keyring *kr, const char *cluster)
{
	if (kr) {
		test_kr = *kr;
		strncpy(test_cluster, cluster, GOSSIP_CLUSTER_MAX);
		test_cluster[GOSSIP_CLUSTER_MAX] = 0;
	}
	__atomic_store_n(&test_keys, kr != NULL, __ATOMIC_SEQ_CST);
}

/* The keyring and cluster name every frame is sealed under. */
static int seal_keys(struct gossip_keyring *kr, char cluster[GOSSIP_CLUSTER_MAX + 1])
{
	struct members_local l;
	if (__atomic_load_n(&test_keys, __ATOMIC_SEQ_CST)) {
		*kr = test_kr;
		memcpy(cluster, test_cluster, GOSSIP_CLUSTER_MAX + 1);
		return 0;
	}
	if (members_local(&l) < 0 || members_keyring(kr) < 0)
		return -ENODEV;
	memcpy(cluster, l.cluster, GOSSIP_CLUSTER_MAX + 1);
	return 0;
}

/* Seal plain and send it as one frame. */
static int send_frame(int s, const uint8_t *plain, size_t n, uint64_t deadline)
{
	struct gossip_keyring kr;
	char cluster[GOSSIP_CLUSTER_MAX + 1];
	uint8_t nonce[GOSSIP_NONCE_LEN];
	if (seal_keys(&kr, cluster) < 0)
		return -ENODEV;
	random_bytes(nonce, sizeof nonce);
	size_t cap = 4 + n + GOSSIP_SEAL_OVERHEAD;
	uint8_t *out = kmalloc(cap);
	if (!out)
		return -ENOMEM;
	long sealed = gossip_seal(&kr, cluster, nonce, plain, n, out + 4, cap - 4);
	int rc = -EINVAL;
	if (sealed > 0) {
		put_be(out, (uint64_t)sealed, 4);
		rc = ksock_send_all(s, out, 4 + (size_t)sealed, deadline);
	}
	kfree(out);
	return rc;
}

/* Receive one frame of at most max plaintext bytes and open it: its length and *plain (a
 * heap buffer), -EIO (the connection failed), or -EBADMSG (too long or does not open). */
static long recv_frame(int s, size_t max, uint8_t **plain, uint64_t deadline)
{
	uint8_t prefix[4];
	struct gossip_keyring kr;
	char cluster[GOSSIP_CLUSTER_MAX + 1];
	if (ksock_recv_all(s, prefix, 4, deadline) < 0)
		return -EIO;
	uint64_t len = get_be(prefix, 4);
	if (len < GOSSIP_SEAL_OVERHEAD - GOSSIP_NONCE_LEN - GOSSIP_TAG_LEN ||
	    len > max + GOSSIP_SEAL_OVERHEAD)
		return -EBADMSG;
	if (seal_keys(&kr, cluster) < 0)
		return -EIO;
	uint8_t *in = kmalloc(len), *out = kmalloc(len);
	long rc = -ENOMEM;
	if (in && out) {
		rc = ksock_recv_all(s, in, len, deadline) < 0 ? -EIO : 0;
		if (rc == 0) {
			rc = gossip_open(&kr, cluster, in, len, out, len);
			if (rc < 0)
				rc = -EBADMSG;
		}
	}
	kfree(in);
	if (rc < 0) {
		kfree(out);
		return rc;
	}
	*plain = out;
	return rc;
}

/* ---- server ---- */

long agent_peer_answer(const uint8_t *req, size_t n, uint8_t **resp)
{
	if (n < PEER_HEAD || req[0] != PEER_VERSION)
		return -EBADMSG;
	uint8_t *r = NULL;
	size_t len = 0;
	if (req[1] == PEER_GET_BLOB && n == PEER_HEAD + 32) {
		const uint8_t *data;
		size_t blen;
		bool has = agent_blob_pin(req + PEER_HEAD, &data, &blen);
		len = PEER_RESP_HEAD + (has ? blen : 0);
		r = kmalloc(len);
		if (r) {
			put_be(r + 10, has ? 0 : (uint32_t)-ENOENT, 4);
			if (has)
				memcpy(r + PEER_RESP_HEAD, data, blen);
		}
		if (has)
			agent_blob_unpin(req + PEER_HEAD);
	} else if (req[1] == PEER_GET_OUTPUT && n >= PEER_HEAD + 13 &&
		   n == PEER_HEAD + 13 + (size_t)req[PEER_HEAD + 12]) {
		uint64_t off = get_be(req + PEER_HEAD, 8), next = off;
		size_t max = get_be(req + PEER_HEAD + 8, 4), nlen = req[PEER_HEAD + 12];
		char name[AGENT_INST_NAME_MAX + 1];
		if (max > AGENT_OUTPUT_CHUNK)
			max = AGENT_OUTPUT_CHUNK;
		if (nlen > AGENT_INST_NAME_MAX)
			return -EBADMSG;
		memcpy(name, req + PEER_HEAD + 13, nlen);
		name[nlen] = 0;
		r = kmalloc(PEER_RESP_HEAD + 9 + max);
		if (r) {
			bool ended = false;
			long got = agent_local_output(name, off, r + PEER_RESP_HEAD + 9, max, &next,
						      &ended);
			put_be(r + 10, got < 0 ? (uint32_t)got : 0, 4);
			put_be(r + PEER_RESP_HEAD, next, 8);
			r[PEER_RESP_HEAD + 8] = ended;
			len = PEER_RESP_HEAD + 9 + (got > 0 ? (size_t)got : 0);
		}
	} else {
		return -EBADMSG;
	}
	if (!r)
		return -ENOMEM;
	memcpy(r, req, PEER_HEAD); /* version, op, request id echoed */
	*resp = r;
	return (long)len;
}

/* One connected asker: its socket and when its exchange must be over. */
struct conn {
	int sock;
	uint64_t deadline;
};

static struct {
	bool on;   /* started and not stopped (only agent_peer_start/stop change it) */
	bool stop; /* agent_peer_stop asks the threads to end */
	int listener;
	struct mbox queue; /* struct conn *: accepted, waiting for a worker */
	struct thread *acceptor, *workers[AGENT_PEER_MAX_CONN];
	int nworkers;
} srv;

static bool stopping(void) { return __atomic_load_n(&srv.stop, __ATOMIC_SEQ_CST); }

static void serve(int c, uint64_t deadline)
{
	uint8_t *req, *resp;
	ksock_timeout(c, SO_RCVTIMEO, AGENT_PEER_IO_TIMEOUT_MS);
	ksock_timeout(c, SO_SNDTIMEO, AGENT_PEER_IO_TIMEOUT_MS);
	long n = recv_frame(c, PEER_REQ_MAX, &req, deadline);
	if (n == -EBADMSG)
		AGENT_COUNT(peer_bad);
	if (n < 0)
		return;
	AGENT_COUNT(peer_requests);
	long len = agent_peer_answer(req, (size_t)n, &resp);
	kfree(req);
	if (len == -EBADMSG)
		AGENT_COUNT(peer_bad);
	if (len < 0)
		return;
	send_frame(c, resp, (size_t)len, deadline);
	kfree(resp);
}

/* Accept every connection and queue it for a worker; refuse it when the queue is full.
 * Idle server threads sleep until there is work: agent_peer_stop wakes the acceptor with
 * a connection of its own and each worker with a NULL in the queue. */
static void acceptor(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t t0 = agent_now_ms();
		int c = lwip_accept(srv.listener, NULL, NULL);
		if (stopping()) {
			if (c >= 0)
				lwip_close(c);
			return;
		}
		if (c < 0) {
			if (agent_now_ms() - t0 < PEER_BACKOFF_MS)
				thread_sleep_ns(PEER_BACKOFF_MS * NS_PER_MS);
			continue;
		}
		struct conn *k = kmalloc(sizeof *k);
		if (k) {
			k->sock = c;
			k->deadline = agent_now_ms() + AGENT_FETCH_TIMEOUT_MS;
		}
		if (!k || mbox_trypost(&srv.queue, k) < 0) {
			AGENT_COUNT(peer_refused);
			lwip_close(c);
			kfree(k);
		}
	}
}

static void worker(void *arg)
{
	(void)arg;
	for (;;) {
		void *m;
		if (mbox_fetch(&srv.queue, &m, 0) < 0)
			continue;
		struct conn *k = m;
		if (!k)
			return; /* agent_peer_stop */
		serve(k->sock, k->deadline);
		lwip_close(k->sock);
		kfree(k);
	}
}

int agent_peer_start(void)
{
	if (srv.on)
		return -EALREADY;
	srv.stop = false;
	srv.nworkers = 0;
	srv.listener = ksock_listen(INADDR_ANY, AGENT_PEER_PORT, PEER_BACKLOG);
	if (srv.listener < 0) {
		kerror("cluster: peer service cannot listen on TCP %d; blobs and logs stay local",
		       AGENT_PEER_PORT);
		return srv.listener;
	}
	if (mbox_init(&srv.queue, AGENT_PEER_QUEUE) < 0) {
		lwip_close(srv.listener);
		kerror("cluster: peer service off: out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < AGENT_PEER_MAX_CONN; i++) {
		char name[THREAD_NAME_MAX];
		ksnprintf(name, sizeof name, "agent-peer-%d", i);
		struct thread *t = thread_create(name, worker, NULL, THREAD_ANY_CPU);
		if (!t)
			break;
		srv.workers[srv.nworkers++] = t;
	}
	srv.acceptor =
		srv.nworkers ? thread_create("agent-peer", acceptor, NULL, THREAD_ANY_CPU) : NULL;
	if (!srv.acceptor) {
		for (int i = 0; i < srv.nworkers; i++)
			thread_discard(srv.workers[i]);
		mbox_free(&srv.queue);
		lwip_close(srv.listener);
		kerror("cluster: peer service off: no thread");
		return -ENOMEM;
	}
	if (srv.nworkers < AGENT_PEER_MAX_CONN)
		kwarn("cluster: peer service with %d workers of %d: out of memory", srv.nworkers,
		      AGENT_PEER_MAX_CONN);
	for (int i = 0; i < srv.nworkers; i++)
		thread_start(srv.workers[i]);
	thread_start(srv.acceptor);
	srv.on = true;
	return 0;
}

void agent_peer_stop(void)
{
	if (!srv.on)
		return;
	__atomic_store_n(&srv.stop, true, __ATOMIC_SEQ_CST);
	int wake = ksock_connect(INADDR_LOOPBACK, AGENT_PEER_PORT, AGENT_PEER_IO_TIMEOUT_MS);
	thread_join(srv.acceptor);
	if (wake >= 0)
		lwip_close(wake);
	void *m;
	while (mbox_tryfetch(&srv.queue, &m) == 0) {
		lwip_close(((struct conn *)m)->sock);
		kfree(m);
	}
	for (int i = 0; i < srv.nworkers; i++)
		mbox_post(&srv.queue, NULL);
	for (int i = 0; i < srv.nworkers; i++)
		thread_join(srv.workers[i]);
	mbox_free(&srv.queue);
	lwip_close(srv.listener);
	srv.on = false;
}

/* ---- client ---- */

/* One exchange with the node at ip: the response's plaintext (heap, *len bytes, header
 * checked, status in *status) or NULL. */
static uint8_t *call(uint32_t ip, uint8_t *req, size_t n, size_t max, size_t *len, int *status)
{
	uint64_t deadline = agent_now_ms() + AGENT_FETCH_TIMEOUT_MS;
	uint64_t id = random_u64();
	put_be(req + 2, id, 8);
	int s = ksock_connect(ip, AGENT_PEER_PORT, AGENT_PEER_IO_TIMEOUT_MS);
	if (s < 0)
		return NULL;
	uint8_t *resp = NULL;
	long got = -EIO;
	if (send_frame(s, req, n, deadline) == 0)
		got = recv_frame(s, PEER_RESP_HEAD + max, &resp, deadline);
	lwip_close(s);
	if (got == -EBADMSG)
		AGENT_COUNT(peer_bad);
	if (got < 0)
		return NULL;
	if (got < PEER_RESP_HEAD || memcmp(resp, req, PEER_HEAD)) {
		AGENT_COUNT(peer_bad);
		kfree(resp);
		return NULL;
	}
	*status = (int32_t)get_be(resp + 10, 4);
	*len = (size_t)got;
	return resp;
}

/* The address of an alive member by name: 0 when none. */
static uint32_t addr_of(const char *node)
{
	struct members_entry *m = kmalloc(PEER_MEMBERS_MAX * sizeof *m);
	uint32_t ip = 0;
	if (!m)
		return 0;
	int n = members_snapshot(m, PEER_MEMBERS_MAX);
	for (int i = 0; i < n && i < PEER_MEMBERS_MAX; i++)
		if (!strcmp(m[i].name, node) && m[i].state <= GOSSIP_SUSPECT)
			ip = m[i].addr.ip;
	kfree(m);
	return ip;
}

int agent_peer_fetch_from(uint32_t ip, const uint8_t sha[32])
{
	uint8_t req[PEER_HEAD + 32] = {PEER_VERSION, PEER_GET_BLOB};
	memcpy(req + PEER_HEAD, sha, 32);
	size_t len;
	int status;
	uint8_t *resp = call(ip, req, sizeof req, AGENT_BLOB_MAX, &len, &status);
	if (!resp)
		return -EHOSTUNREACH;
	int rc = status < 0 ? status
			    : agent_blob_put(sha, resp + PEER_RESP_HEAD, len - PEER_RESP_HEAD);
	if (rc == -EINVAL)
		AGENT_COUNT(peer_bad); /* the bytes did not hash to the name */
	kfree(resp);
	return rc;
}

int agent_peer_fetch_blob(const uint8_t sha256[32], const char *first)
{
	struct members_entry *m = kmalloc(PEER_MEMBERS_MAX * sizeof *m);
	struct members_local self;
	if (!m || members_local(&self) < 0) {
		kfree(m);
		return -EHOSTUNREACH;
	}
	AGENT_COUNT(fetches);
	int rc = -EHOSTUNREACH;
	for (int round = 0; round < AGENT_FETCH_ROUNDS && rc < 0; round++) {
		int n = members_snapshot(m, PEER_MEMBERS_MAX);
		if (n > PEER_MEMBERS_MAX)
			n = PEER_MEMBERS_MAX;
		/* The uploader first, then everyone else alive, in the snapshot's order. */
		for (int pass = 0; pass < 2 && rc < 0; pass++)
			for (int i = 0; i < n && rc < 0; i++) {
				bool is_first = first && !strcmp(m[i].name, first);
				if (pass == 0 ? !is_first : is_first)
					continue;
				if (!strcmp(m[i].name, self.name) || m[i].state > GOSSIP_SUSPECT)
					continue;
				if (agent_blob_has(sha256))
					rc = 0;
				else if (agent_peer_fetch_from(m[i].addr.ip, sha256) == 0)
					rc = 0;
			}
		if (rc < 0 && round + 1 < AGENT_FETCH_ROUNDS)
			thread_sleep_ns(AGENT_PEER_IO_TIMEOUT_MS / 4 * NS_PER_MS);
	}
	kfree(m);
	if (rc < 0)
		AGENT_COUNT(fetch_failed);
	return rc;
}

long agent_peer_output(const char *node, const char *inst, uint64_t off, void *buf, size_t len,
		       uint64_t *next, bool *ended)
{
	size_t nlen = strlen(inst);
	uint32_t ip = addr_of(node);
	if (!ip || nlen > AGENT_INST_NAME_MAX)
		return -EHOSTUNREACH;
	if (len > AGENT_OUTPUT_CHUNK)
		len = AGENT_OUTPUT_CHUNK;
	uint8_t req[PEER_REQ_MAX] = {PEER_VERSION, PEER_GET_OUTPUT};
	put_be(req + PEER_HEAD, off, 8);
	put_be(req + PEER_HEAD + 8, len, 4);
	req[PEER_HEAD + 12] = (uint8_t)nlen;
	memcpy(req + PEER_HEAD + 13, inst, nlen);
	size_t rlen;
	int status;
	uint8_t *resp = call(ip, req, PEER_HEAD + 13 + nlen, 9 + len, &rlen, &status);
	if (!resp)
		return -EHOSTUNREACH;
	long rc = status;
	if (status == 0 && rlen >= PEER_RESP_HEAD + 9 && rlen - PEER_RESP_HEAD - 9 <= len) {
		rc = (long)(rlen - PEER_RESP_HEAD - 9);
		*next = get_be(resp + PEER_RESP_HEAD, 8);
		*ended = resp[PEER_RESP_HEAD + 8] != 0;
		memcpy(buf, resp + PEER_RESP_HEAD + 9, (size_t)rc);
	} else if (status == 0) {
		AGENT_COUNT(peer_bad);
		rc = -EHOSTUNREACH;
	}
	kfree(resp);
	return rc;
}
