/* agent_blob.c: the node's store of uploaded programs, by SHA-256, in the kernel heap.
 *
 * A blob enters only after its bytes hash to its name, so a blob is always what it says.
 * The store is bounded by AGENT_BLOBS_MAX_BYTES in all: a new blob evicts the least
 * recently used ones that nobody has pinned (a task being started from it, a peer being
 * served it); when pinned ones leave no room, the put fails with -ENOSPC. One mutex
 * guards the list, the totals, the LRU clock and the pin counts; hashing and copying
 * happen outside it. The peer service's workers (AGENT_PEER_MAX_CONN of them) and the
 * fetch and task threads use the store at once: a reader pins a blob and reads its bytes
 * unlocked, which is safe because a blob's bytes never change once in and a pinned blob
 * is never freed; two puts of one blob race benignly (the second finds the first). */
#include <errno.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/sync.h"
#include "mbedtls/sha256.h"
#include "sched/agent_internal.h"

struct blob {
	struct blob *next;
	uint8_t sha[32];
	size_t len;
	uint64_t used; /* store clock at the last put or pin: the LRU order */
	int pins;
	uint8_t *data;
};

static struct mutex lock;
static struct blob *blobs;
static size_t total, count;
static uint64_t clock;

void agent_blob_init(void) { mutex_init(&lock); }

static struct blob *find(const uint8_t sha[32])
{
	for (struct blob *b = blobs; b; b = b->next)
		if (!memcmp(b->sha, sha, 32))
			return b;
	return NULL;
}

/* Evict unpinned blobs, least recently used first, until need more bytes fit. */
static bool make_room(size_t need)
{
	while (total + need > AGENT_BLOBS_MAX_BYTES) {
		struct blob **victim = NULL;
		for (struct blob **p = &blobs; *p; p = &(*p)->next)
			if (!(*p)->pins && (!victim || (*p)->used < (*victim)->used))
				victim = p;
		if (!victim)
			return false;
		struct blob *b = *victim;
		*victim = b->next;
		total -= b->len;
		count--;
		kdebug("cluster: blob of %zu bytes evicted", b->len);
		kfree(b->data);
		kfree(b);
	}
	return true;
}

int agent_blob_put(const uint8_t sha256[32], const void *data, size_t len)
{
	uint8_t got[32];
	if (!len || len > AGENT_BLOB_MAX)
		return len ? -ENOSPC : -EINVAL;
	if (mbedtls_sha256_ret(data, len, got, 0) != 0 || memcmp(got, sha256, 32))
		return -EINVAL;
	mutex_lock(&lock);
	struct blob *b = find(sha256);
	if (b) {
		b->used = ++clock;
		mutex_unlock(&lock);
		return 0;
	}
	mutex_unlock(&lock);
	b = kzalloc(sizeof *b);
	uint8_t *copy = kmalloc(len);
	if (!b || !copy) {
		kfree(b);
		kfree(copy);
		return -ENOSPC;
	}
	memcpy(copy, data, len);
	memcpy(b->sha, sha256, 32);
	b->len = len;
	b->data = copy;
	mutex_lock(&lock);
	if (find(sha256)) { /* put twice at once: the other one won */
		mutex_unlock(&lock);
		kfree(copy);
		kfree(b);
		return 0;
	}
	if (!make_room(len)) {
		mutex_unlock(&lock);
		kfree(copy);
		kfree(b);
		return -ENOSPC;
	}
	b->used = ++clock;
	b->next = blobs;
	blobs = b;
	total += len;
	count++;
	mutex_unlock(&lock);
	return 0;
}

bool agent_blob_has(const uint8_t sha256[32])
{
	mutex_lock(&lock);
	bool has = find(sha256) != NULL;
	mutex_unlock(&lock);
	return has;
}

size_t agent_blob_count(void)
{
	mutex_lock(&lock);
	size_t n = count;
	mutex_unlock(&lock);
	return n;
}

bool agent_blob_pin(const uint8_t sha256[32], const uint8_t **data, size_t *len)
{
	mutex_lock(&lock);
	struct blob *b = find(sha256);
	if (b) {
		b->pins++;
		b->used = ++clock;
		*data = b->data;
		*len = b->len;
	}
	mutex_unlock(&lock);
	return b != NULL;
}

void agent_blob_unpin(const uint8_t sha256[32])
{
	mutex_lock(&lock);
	struct blob *b = find(sha256);
	if (b && b->pins > 0)
		b->pins--;
	mutex_unlock(&lock);
}
