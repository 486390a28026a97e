/* members_test.c: self-tests of the gossip glue: nodes over the loopback interface join
 * through a seed, exchange application data (a broadcast, a direct message, their states
 * in push-pull, delivered to the callbacks on the gossip thread), turn away a node with
 * the wrong key (and count it), and see a graceful leave, all through the real threads,
 * sockets and core. */
#include <string.h>

#include "kernel/heap.h"
#include "kernel/selftest.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lwip/ip4_addr.h"
#include "net/members.h"
#include "net/net.h"

#define NS_PER_MS 1000000ULL
#define POLL_MS 20
#define CONVERGE_MS 5000 /* a join is one push-pull, well under a second */
#define LEAVE_SEEN_MS 3000
#define PORT_BASE 17946 /* beside GOSSIP_PORT, which the command line's node may hold */
#define TEST_KEY "c2hvYWwtc2VsZnRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc="	 /* 32 bytes */
#define WRONG_KEY "b3RoZXItY2x1c3Rlci1rZXktMzItYnl0ZXMtbG9uZyE=" /* 32 bytes */

static struct members_opts opts[3];

/* What one node's application callbacks saw (written on its gossip thread). */
struct seen {
	const char *name; /* the node's, in its state */
	struct thread *gossip_thread;
	volatile bool wrong_thread;
	volatile int msgs, states, events;
	char msg[2][16]; /* the first two messages */
	char state_from[GOSSIP_NAME_MAX + 1];
};
static struct seen seen[2];

static void app_in(void *ctx, const struct gossip_app_in *in)
{
	struct seen *s = ctx;
	if (!s->gossip_thread)
		s->gossip_thread = thread_current();
	if (s->gossip_thread != thread_current())
		s->wrong_thread = true;
	if (in->kind == GOSSIP_APP_STATE) {
		if (in->len == 6 + strlen(in->from) && memcmp(in->data, "state ", 6) == 0 &&
		    memcmp(in->data + 6, in->from, in->len - 6) == 0)
			strncpy(s->state_from, in->from, sizeof s->state_from - 1);
		__atomic_add_fetch(&s->states, 1, __ATOMIC_RELEASE);
		return;
	}
	int k = s->msgs;
	if (k < 2) {
		size_t n = in->len < sizeof s->msg[k] - 1 ? in->len : sizeof s->msg[k] - 1;
		memcpy(s->msg[k], in->data, n);
		s->msg[k][n] = 0;
	}
	__atomic_add_fetch(&s->msgs, 1, __ATOMIC_RELEASE);
}

/* "state " and the node's name. */
static uint8_t *app_state(void *ctx, size_t *len)
{
	struct seen *s = ctx;
	size_t n = 6 + strlen(s->name);
	char *p = kmalloc(n); /* the core frees it with the port's free: kfree */
	if (!p)
		return NULL;
	memcpy(p, "state ", 6);
	memcpy(p + 6, s->name, n - 6);
	*len = n;
	return (uint8_t *)p;
}

static void app_event(void *ctx, const struct gossip_event *ev)
{
	struct seen *s = ctx;
	__atomic_add_fetch(&s->events, 1, __ATOMIC_RELEASE);
}

/* Wait until *v reaches want: 0, or -1 after ms. */
static int wait_int(volatile int *v, int want, uint64_t ms)
{
	uint64_t end = time_ns() + ms * NS_PER_MS;
	while (__atomic_load_n(v, __ATOMIC_ACQUIRE) < want) {
		if (time_ns() >= end)
			return -1;
		thread_sleep_ns(POLL_MS * NS_PER_MS);
	}
	return 0;
}

/* a broadcasts and sends to b; b's callbacks get both, and each got the other's state
 * with the join's push-pull. */
static int app_exchange(struct members_node *a, struct members_node *b)
{
	if (members_node_app_broadcast(a, 1, "hello", 5) != 0 ||
	    members_node_app_send(a, "st-b", "direct", 6) != 0 ||
	    members_node_app_send(a, "nobody", "x", 1) != -ENOENT) {
		kerror("selftest: members: app broadcast or send refused");
		return -1;
	}
	if (wait_int(&seen[1].msgs, 2, CONVERGE_MS) || wait_int(&seen[0].states, 1, 1000) ||
	    wait_int(&seen[1].states, 1, 1000)) {
		kerror("selftest: members: app: b got %d messages and %d states, a %d states",
		       seen[1].msgs, seen[1].states, seen[0].states);
		return -1;
	}
	bool got_bcast = !strcmp(seen[1].msg[0], "hello") || !strcmp(seen[1].msg[1], "hello");
	bool got_send = !strcmp(seen[1].msg[0], "direct") || !strcmp(seen[1].msg[1], "direct");
	if (!got_bcast || !got_send || strcmp(seen[0].state_from, "st-b") ||
	    strcmp(seen[1].state_from, "st-a") || seen[0].msgs || seen[0].wrong_thread ||
	    seen[1].wrong_thread || !seen[0].events) {
		kerror("selftest: members: app: b got '%s' '%s', states from '%s' and '%s', a "
		       "got %d messages, %d events",
		       seen[1].msg[0], seen[1].msg[1], seen[0].state_from, seen[1].state_from,
		       seen[0].msgs, seen[0].events);
		return -1;
	}
	return 0;
}

static int make_opts(struct members_opts *o, const char *name, int i, const char *key)
{
	memset(o, 0, sizeof *o);
	strncpy(o->name, name, sizeof o->name - 1);
	strncpy(o->cluster, "selftest", sizeof o->cluster - 1);
	strncpy(o->tags, "role=test", sizeof o->tags - 1);
	o->self.ip = IPADDR_LOOPBACK;
	o->self.port = (uint16_t)(PORT_BASE + i);
	o->bind_ip = IPADDR_LOOPBACK;
	/* The lan profile's timing: this tests the glue, not the detector, and a self-test
	 * may run where the fast profile's 40 ms probe timeout is too tight (nested KVM, a
	 * loaded host), so three nodes in one kernel would suspect each other. */
	o->profile = GOSSIP_PROFILE_LAN;
	gossip_profile(&o->cfg, o->profile);
	if (i > 0) {
		o->seeds[0] = (struct gossip_addr){IPADDR_LOOPBACK, PORT_BASE};
		o->nseeds = 1;
	}
	return gossip_keyring_parse(&o->keyring, key);
}

/* Wait until node n counts want members in state s: 0, or -1 after ms. */
static int wait_count(struct members_node *n, enum gossip_state s, size_t want, uint64_t ms)
{
	uint64_t end = time_ns() + ms * NS_PER_MS;
	while (members_node_count(n, s) != want) {
		if (time_ns() >= end)
			return -1;
		thread_sleep_ns(POLL_MS * NS_PER_MS);
	}
	return 0;
}

SELFTEST(members_loopback)
{
	CHECK(net_start() == 0);
	CHECK(make_opts(&opts[0], "st-a", 0, TEST_KEY) == 0);
	CHECK(make_opts(&opts[1], "st-b", 1, TEST_KEY) == 0);
	CHECK(make_opts(&opts[2], "st-wrong", 2, WRONG_KEY) == 0);
	memset(seen, 0, sizeof seen);
	seen[0].name = "st-a";
	seen[1].name = "st-b";
	struct members_app_ops ops[2];
	for (int i = 0; i < 2; i++)
		ops[i] = (struct members_app_ops){
			.ctx = &seen[i], .in = app_in, .state = app_state, .event = app_event};
	struct members_node *a = members_node_start_app(&opts[0], &ops[0]);
	CHECK(a);
	struct members_node *b = members_node_start_app(&opts[1], &ops[1]);
	CHECK(b);
	int rc = 0;
	/* b joins through a; each sees both alive. */
	if (wait_count(a, GOSSIP_ALIVE, 2, CONVERGE_MS) || wait_count(b, GOSSIP_ALIVE, 2, 1000)) {
		kerror("selftest: members: no convergence: a sees %zu alive, b %zu",
		       members_node_count(a, GOSSIP_ALIVE), members_node_count(b, GOSSIP_ALIVE));
		rc = -1;
	}
	struct members_entry e[4];
	if (!rc) {
		int n = members_node_snapshot(b, e, 4);
		if (n != 2 || strcmp(e[0].name, "st-b") || strcmp(e[1].name, "st-a") ||
		    e[1].addr.port != PORT_BASE || e[1].state != GOSSIP_ALIVE ||
		    strcmp(e[1].tags, "role=test") || e[1].res.cpus == 0) {
			kerror("selftest: members: b's snapshot: %d members, [1] %s port %u tags "
			       "'%s' cpus %u",
			       n, n > 1 ? e[1].name : "-", n > 1 ? e[1].addr.port : 0,
			       n > 1 ? e[1].tags : "-", n > 1 ? e[1].res.cpus : 0);
			rc = -1;
		}
	}
	if (!rc)
		rc = app_exchange(a, b);
	/* A node under another key is turned away, and counted. */
	struct members_node *w = rc ? 0 : members_node_start(&opts[2]);
	if (w) {
		struct members_local l;
		uint64_t end = time_ns() + CONVERGE_MS * NS_PER_MS;
		do {
			thread_sleep_ns(POLL_MS * NS_PER_MS);
			members_node_local(a, &l);
		} while (!l.stats.drop_auth && time_ns() < end);
		if (!l.stats.drop_auth || members_node_count(w, GOSSIP_ALIVE) != 1 ||
		    members_node_count(a, GOSSIP_ALIVE) != 2) {
			kerror("selftest: members: wrong key: a dropped %lu, w sees %zu, a %zu alive",
			       (unsigned long)l.stats.drop_auth,
			       members_node_count(w, GOSSIP_ALIVE),
			       members_node_count(a, GOSSIP_ALIVE));
			rc = -1;
		}
		members_node_stop(w);
	}
	/* b leaves; a sees it left, not dead. */
	if (!rc) {
		members_node_leave(b);
		if (wait_count(a, GOSSIP_LEFT, 1, LEAVE_SEEN_MS)) {
			kerror("selftest: members: a did not see b leave (%zu alive, %zu dead)",
			       members_node_count(a, GOSSIP_ALIVE),
			       members_node_count(a, GOSSIP_DEAD));
			rc = -1;
		}
	}
	members_node_stop(b);
	members_node_stop(a);
	memset(opts, 0, sizeof opts);
	return rc;
}
