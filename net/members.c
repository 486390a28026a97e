/* members.c: the gossip core (net/gossip) on kernel threads over lwIP sockets, and the
 * kernel's implementation of its port (net/gossip/port.h).
 *
 * Design. One node is three threads around one core, the core behind one mutex (it is
 * single-threaded by contract):
 * - loop: owns the UDP socket on GOSSIP_PORT. It waits for a datagram until the core's
 *   next deadline, feeds what came, runs the timers that are due, refreshes the
 *   metadata every MEMBERS_META_MS, and drains what the core wants sent.
 * - accept: the TCP listener on the same port, for push-pull. One connection at a time,
 *   each read and write bounded by MEMBERS_STREAM_TIMEOUT_MS and a whole frame by
 *   MEMBERS_STREAM_TOTAL_MS, so a stuck or trickling peer holds it for seconds at most:
 *   read the 4-byte prefix, the frame (at most MEMBERS_FRAME_MAX), hand it to the core,
 *   write its reply back, close.
 * - stream: the core's outgoing streams (push-pull to a seed or a random member), queued
 *   by whoever drained them (at most MEMBERS_STREAM_QUEUE; beyond, they fail at once).
 *   Connect, send and receive are each bounded, so a dead peer costs this thread, never
 *   the loop, a few seconds.
 * Whoever calls into the core drains its output before unlocking: datagrams are sent
 * from that thread on the loop's socket (lwIP's sockets take its core lock per call),
 * streams are queued. Events and application input wait in the core for the loop, which
 * logs the events and hands both to the application's callbacks (members_app_ops), so
 * those always run on the gossip thread, under the core's lock. The accept and stream threads may move the
 * core's deadline earlier, so after their call they wake the loop with an empty
 * datagram to its own port on the loopback interface; the loop ignores empty datagrams.
 *
 * Failure handling: nothing here needs lwIP's errno: a socket call that fails fast
 * instead of timing out is backed off, and a connect is judged by SO_ERROR. Every wait
 * is bounded; a node's threads notice `stop` within LOOP_WAIT_MAX_MS. */
#include "net/members.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "drivers/netdev.h"
#include "kernel/config.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/pmm.h"
#include "kernel/printf.h"
#include "kernel/random.h"
#include "kernel/smp.h"
#include "kernel/sync.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"
#include "net/gossip/port.h"
#include "net/ksock.h"
#include "net/net.h"

#define NS_PER_MS 1000000ULL
#define LOOP_WAIT_MAX_MS 500   /* longest sleep of any thread between looks at `stop` */
#define ERROR_BACKOFF_MS 50    /* a socket call that fails at once is retried after this */
#define BACKOFF_MIN_WAIT_MS 10 /* shorter waits are not told from failures */
#define RX_MAX 2048	       /* a datagram buffer; larger ones are cut and fail to open */
#define PREFIX_LEN 4	       /* a stream frame's length prefix */
#define SEED_LEN 32	       /* gossip_new's CSPRNG seed */
#define IP_STR_MAX 16
#define SEEDS_STR_MAX (CONFIG_SEEDS_MAX * sizeof "255.255.255.255:65535,")
#define DEFAULT_NAME_PREFIX "shoal-" /* then the NIC's last three MAC bytes in hex */

struct node {
	struct mutex lock; /* around g: every call into the core holds it */
	struct gossip *g;
	struct members_opts o;
	uint32_t bcast; /* the segment's broadcast address, host order */
	int udp, tcp;
	struct mbox streams;
	volatile bool stop;
	bool left, joined;
	struct gossip_resources res;
	uint64_t drop_seen, drop_log_ms, next_stats_ms;
	uint32_t drop_from; /* the source of the last datagram or stream that failed to open */
	struct thread *loop_t, *accept_t, *stream_t;
	struct members_app_ops app; /* the command line's node only */
	uint8_t rx[RX_MAX];	    /* the loop's */
};

/* An outgoing stream: where to, and the whole frame (prefix included). */
struct job {
	struct gossip_addr to;
	size_t len;
	uint8_t data[];
};

static struct members_node *self_node; /* the command line's, once started */
static struct members_app_ops app_ops; /* for it, from members_set_app */
static volatile unsigned tasks_running;

/* The port: the kernel heap; interned strings are plain copies. */
void *gossip_port_alloc(size_t size) { return kmalloc(size); }
void gossip_port_free(void *p) { kfree(p); }
const char *gossip_port_intern(const char *s, size_t n)
{
	char *c = kmalloc(n + 1);
	if (!c)
		return NULL;
	memcpy(c, s, n);
	c[n] = 0;
	return c;
}
void gossip_port_release(const char *s) { kfree((void *)s); }

static uint64_t now_ms(void) { return time_ns() / NS_PER_MS; }

static void ip_str(uint32_t ip, char buf[IP_STR_MAX])
{
	ksnprintf(buf, IP_STR_MAX, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		  ip & 0xff);
}

static void sleep_ms(uint64_t ms) { thread_sleep_ns(ms * NS_PER_MS); }

static void udp_send(struct node *n, uint32_t ip, uint16_t port, const void *data, size_t len)
{
	struct sockaddr_in to = ksock_addr(ip, port);
	lwip_sendto(n->udp, data, len, 0, (struct sockaddr *)&to, sizeof to);
}

/* Wake the loop: an empty datagram to its own port over the loopback interface. */
static void wake(struct node *n) { udp_send(n, IPADDR_LOOPBACK, n->o.self.port, "", 0); }

static const char *event_name(enum gossip_event_kind k)
{
	switch (k) {
	case GOSSIP_EV_ALIVE:
		return "alive";
	case GOSSIP_EV_SUSPECT:
		return "suspect";
	case GOSSIP_EV_DEAD:
		return "dead";
	case GOSSIP_EV_LEFT:
		return "left";
	case GOSSIP_EV_UPDATE:
		return "updated";
	}
	return "?";
}

static void log_event(struct node *n, const struct gossip_event *ev)
{
	char ip[IP_STR_MAX];
	ip_str(ev->addr.ip, ip);
	klog(ev->kind == GOSSIP_EV_UPDATE ? LOG_DEBUG : LOG_INFO, "gossip: member %s %s %s inc %u",
	     ev->name, ip, event_name(ev->kind), ev->incarnation);
}

/* Lock held. Queue a stream for the stream thread: false when it cannot be. */
static bool queue_stream(struct node *n, const struct gossip_out *o)
{
	struct job *j = kmalloc(sizeof *j + o->len);
	if (!j)
		return false;
	j->to = o->to;
	j->len = o->len;
	memcpy(j->data, o->data, o->len);
	if (mbox_trypost(&n->streams, j) < 0) {
		kfree(j);
		return false;
	}
	return true;
}

/* Lock held: note who sent input that failed to open (for the warning line). */
static void note_drop(struct node *n, uint64_t before, uint32_t from)
{
	if (gossip_stats(n->g)->drop_auth != before)
		n->drop_from = from;
}

/* Lock held: everything the core produced since the last call into it; events and
 * application input only on the loop (in_loop), which the other threads wake. */
static void drain(struct node *n, bool in_loop)
{
	struct gossip_addr failed[MEMBERS_STREAM_QUEUE];
	size_t nfailed;
	do {
		nfailed = 0;
		struct gossip_out o;
		while (gossip_next_out(n->g, &o)) {
			switch (o.kind) {
			case GOSSIP_OUT_UDP:
				udp_send(n, o.to.ip, o.to.port, o.data, o.len);
				break;
			case GOSSIP_OUT_BROADCAST:
				udp_send(n, n->bcast, o.to.port, o.data, o.len);
				break;
			case GOSSIP_OUT_STREAM:
				if (!queue_stream(n, &o) && nfailed < MEMBERS_STREAM_QUEUE)
					failed[nfailed++] = o.to;
				break;
			}
		}
		/* Failures are told once the output is drained: o.data lives only until the
		 * next call into the core. */
		for (size_t i = 0; i < nfailed; i++)
			gossip_stream_failed(n->g, failed[i], now_ms());
	} while (nfailed);

	if (!in_loop)
		return;
	struct gossip_event ev;
	while (gossip_next_event(n->g, &ev)) {
		log_event(n, &ev);
		if (n->app.event)
			n->app.event(n->app.ctx, &ev);
	}
	struct gossip_app_in in;
	while (gossip_next_app(n->g, &in))
		if (n->app.in)
			n->app.in(n->app.ctx, &in);

	size_t alive = gossip_count(n->g, GOSSIP_ALIVE);
	if (!n->joined && alive > 1) {
		n->joined = true;
		kinfo("gossip: joined as %s, %zu members", n->o.name, alive);
	}
	const struct gossip_stats *st = gossip_stats(n->g);
	uint64_t now = now_ms();
	if (st->drop_auth > n->drop_seen && now >= n->drop_log_ms) {
		char ip[IP_STR_MAX];
		ip_str(n->drop_from, ip);
		kwarn("gossip: %lu packets failed authentication (wrong key or cluster), last from "
		      "%s",
		      (unsigned long)(st->drop_auth - n->drop_seen), ip);
		n->drop_seen = st->drop_auth;
		n->drop_log_ms = now + MEMBERS_DROP_LOG_MS;
	}
}

/* Lock held: announce resources that changed. */
static void refresh(struct node *n, uint64_t now)
{
	struct gossip_resources r = {
		.cpus = (uint16_t)smp_online(),
		.tasks = (uint16_t)tasks_running,
		.mem_total_mib = (uint32_t)(pmm_total_bytes() >> 20),
		.mem_free_mib = (uint32_t)(pmm_free_bytes() >> 20),
	};
	if (memcmp(&r, &n->res, sizeof r)) {
		n->res = r;
		gossip_set_resources(n->g, &r, now);
	}
}

static void log_stats(struct node *n)
{
	const struct gossip_stats *s = gossip_stats(n->g);
	kdebug("gossip: stats alive %zu suspect %zu dead %zu udp in/out %lu/%lu pkts %lu/%lu B "
	       "frames in/out %lu/%lu drops auth %lu version %lu malformed %lu plaintext %lu "
	       "streams failed %lu probes %lu failed %lu health %u",
	       gossip_count(n->g, GOSSIP_ALIVE), gossip_count(n->g, GOSSIP_SUSPECT),
	       gossip_count(n->g, GOSSIP_DEAD), (unsigned long)s->udp_in, (unsigned long)s->udp_out,
	       (unsigned long)s->udp_bytes_in, (unsigned long)s->udp_bytes_out,
	       (unsigned long)s->frames_in, (unsigned long)s->frames_out,
	       (unsigned long)s->drop_auth, (unsigned long)s->drop_version,
	       (unsigned long)s->drop_malformed, (unsigned long)s->drop_plaintext,
	       (unsigned long)s->streams_failed, (unsigned long)s->probes,
	       (unsigned long)s->probe_failed, gossip_health(n->g));
}

static void loop(void *arg)
{
	struct node *n = arg;
	uint64_t next_meta = 0, timeout = 0;
	while (!n->stop) {
		mutex_lock(&n->lock);
		uint64_t deadline = gossip_deadline(n->g);
		mutex_unlock(&n->lock);
		uint64_t now = now_ms(), until = deadline < next_meta ? deadline : next_meta;
		uint64_t wait = until > now ? until - now : 1;
		if (wait > LOOP_WAIT_MAX_MS)
			wait = LOOP_WAIT_MAX_MS;
		if (wait != timeout) {
			ksock_timeout(n->udp, SO_RCVTIMEO, wait);
			timeout = wait;
		}
		struct sockaddr_in from;
		socklen_t fromlen = sizeof from;
		int r = lwip_recvfrom(n->udp, n->rx, sizeof n->rx, 0, (struct sockaddr *)&from,
				      &fromlen);
		if (r < 0 && wait >= BACKOFF_MIN_WAIT_MS && now_ms() - now < wait / 2)
			sleep_ms(ERROR_BACKOFF_MS); /* failed at once, not a timeout */

		mutex_lock(&n->lock);
		now = now_ms();
		if (r > 0) {
			struct gossip_addr a = {lwip_ntohl(from.sin_addr.s_addr),
						lwip_ntohs(from.sin_port)};
			uint64_t before = gossip_stats(n->g)->drop_auth;
			gossip_udp_in(n->g, a, n->rx, (size_t)r, now);
			note_drop(n, before, a.ip);
		}
		if (now >= gossip_deadline(n->g))
			gossip_tick(n->g, now);
		if (now >= next_meta) {
			refresh(n, now);
			next_meta = now + MEMBERS_META_MS;
		}
		if (now >= n->next_stats_ms) {
			log_stats(n);
			n->next_stats_ms = now + MEMBERS_STATS_LOG_MS;
		}
		drain(n, true);
		mutex_unlock(&n->lock);
	}
}

/* One frame from s into a new buffer: its length, or a negative errno. */
static long read_frame(int s, uint8_t **out, uint64_t deadline)
{
	uint8_t prefix[PREFIX_LEN];
	if (ksock_recv_all(s, prefix, sizeof prefix, deadline) < 0)
		return -EIO;
	long len = gossip_frame_len(prefix);
	if (len < 0 || len > (long)MEMBERS_FRAME_MAX)
		return -EMSGSIZE;
	uint8_t *buf = kmalloc(len ? (size_t)len : 1);
	if (!buf)
		return -ENOMEM;
	if (ksock_recv_all(s, buf, (size_t)len, deadline) < 0) {
		kfree(buf);
		return -EIO;
	}
	*out = buf;
	return len;
}

/* Hand a frame to the core; the reply (if any) is copied to *reply. 0 or an errno. */
static int frame_in(struct node *n, struct gossip_addr from, const uint8_t *data, size_t len,
		    uint8_t **reply, size_t *reply_len)
{
	struct gossip_out out = {0};
	*reply = 0;
	*reply_len = 0;
	mutex_lock(&n->lock);
	uint64_t before = gossip_stats(n->g)->drop_auth;
	int rc = gossip_stream_in(n->g, from, data, len, now_ms(), &out);
	note_drop(n, before, from.ip);
	if (rc == 0 && out.len) {
		*reply = kmalloc(out.len);
		if (*reply) {
			memcpy(*reply, out.data, out.len);
			*reply_len = out.len;
		} else {
			rc = -ENOMEM;
		}
	}
	drain(n, false);
	mutex_unlock(&n->lock);
	wake(n);
	return rc;
}

static void serve(struct node *n, int c, struct gossip_addr from)
{
	ksock_timeout(c, SO_RCVTIMEO, MEMBERS_STREAM_TIMEOUT_MS);
	ksock_timeout(c, SO_SNDTIMEO, MEMBERS_STREAM_TIMEOUT_MS);
	uint8_t *frame, *reply;
	size_t reply_len;
	uint64_t deadline = now_ms() + MEMBERS_STREAM_TOTAL_MS;
	long len = read_frame(c, &frame, deadline);
	if (len < 0) {
		kdebug("gossip: stream from %u.%u.%u.%u dropped (%ld)", from.ip >> 24,
		       (from.ip >> 16) & 0xff, (from.ip >> 8) & 0xff, from.ip & 0xff, len);
		return;
	}
	int rc = frame_in(n, from, frame, (size_t)len, &reply, &reply_len);
	kfree(frame);
	if (rc == 0 && reply_len)
		ksock_send_all(c, reply, reply_len, now_ms() + MEMBERS_STREAM_TOTAL_MS);
	kfree(reply);
}

static void acceptor(void *arg)
{
	struct node *n = arg;
	while (!n->stop) {
		struct sockaddr_in from;
		socklen_t fromlen = sizeof from;
		uint64_t t0 = now_ms();
		int c = lwip_accept(n->tcp, (struct sockaddr *)&from, &fromlen);
		if (c < 0) {
			if (now_ms() - t0 < LOOP_WAIT_MAX_MS / 2)
				sleep_ms(ERROR_BACKOFF_MS); /* failed at once: out of sockets */
			continue;
		}
		struct gossip_addr a = {lwip_ntohl(from.sin_addr.s_addr),
					lwip_ntohs(from.sin_port)};
		serve(n, c, a);
		lwip_close(c);
	}
}

/* One outgoing exchange: 0, or a negative errno when the core must hear it failed. */
static int exchange(struct node *n, const struct job *j)
{
	int s = ksock_connect(j->to.ip, j->to.port, MEMBERS_STREAM_TIMEOUT_MS);
	if (s < 0)
		return -ECONNREFUSED;
	uint8_t *frame = 0, *reply;
	size_t reply_len;
	uint64_t deadline = now_ms() + MEMBERS_STREAM_TOTAL_MS;
	int rc = ksock_send_all(s, j->data, j->len, deadline);
	long len = rc < 0 ? rc : read_frame(s, &frame, deadline);
	lwip_close(s);
	if (len < 0)
		return (int)len;
	rc = frame_in(n, j->to, frame, (size_t)len, &reply, &reply_len);
	kfree(frame);
	kfree(reply); /* an answer needs no answer */
	return rc;
}

static void streamer(void *arg)
{
	struct node *n = arg;
	while (!n->stop) {
		void *p;
		if (mbox_fetch(&n->streams, &p, LOOP_WAIT_MAX_MS * NS_PER_MS) < 0)
			continue;
		struct job *j = p;
		int rc = exchange(n, j);
		if (rc < 0) {
			char ip[IP_STR_MAX];
			ip_str(j->to.ip, ip);
			kdebug("gossip: stream to %s:%u failed (%d)", ip, j->to.port, rc);
			mutex_lock(&n->lock);
			gossip_stream_failed(n->g, j->to, now_ms());
			drain(n, false);
			mutex_unlock(&n->lock);
			wake(n);
		}
		kfree(j);
	}
}

static int open_sockets(struct node *n)
{
	struct sockaddr_in a = ksock_addr(n->o.bind_ip, n->o.self.port);
	int one = 1;
	n->udp = lwip_socket(AF_INET, SOCK_DGRAM, 0);
	if (n->udp < 0)
		return -ENOMEM;
	lwip_setsockopt(n->udp, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
	if (lwip_bind(n->udp, (struct sockaddr *)&a, sizeof a) < 0)
		return -EADDRINUSE;
	n->tcp = ksock_listen(n->o.bind_ip, n->o.self.port, MEMBERS_STREAM_QUEUE);
	if (n->tcp < 0)
		return n->tcp;
	/* accept() returns now and then, so the thread sees `stop`. */
	ksock_timeout(n->tcp, SO_RCVTIMEO, LOOP_WAIT_MAX_MS);
	return 0;
}

static void close_sockets(struct node *n)
{
	if (n->udp >= 0)
		lwip_close(n->udp);
	if (n->tcp >= 0)
		lwip_close(n->tcp);
	n->udp = n->tcp = -1;
}

static struct members_node *node_start(const struct members_opts *o,
				       const struct members_app_ops *app)
{
	struct node *n = kzalloc(sizeof *n);
	if (!n)
		return NULL;
	n->o = *o;
	if (app)
		n->app = *app;
	n->udp = n->tcp = -1;
	mutex_init(&n->lock);
	n->bcast = o->bcast ? o->bcast : IPADDR_BROADCAST;
	uint8_t seed[SEED_LEN];
	struct gossip_self self = {.name = o->name,
				   .cluster = o->cluster,
				   .tags = o->tags[0] ? o->tags : NULL,
				   .addr = o->self};
	int rc = -ENOMEM;
	if (mbox_init(&n->streams, MEMBERS_STREAM_QUEUE) < 0)
		goto fail_mbox;
	if (random_bytes(seed, sizeof seed) < 0) {
		rc = -EIO;
		goto fail;
	}
	n->g = gossip_new(&o->cfg, &self, &o->keyring, seed, now_ms());
	memset(seed, 0, sizeof seed);
	if (!n->g) {
		rc = -EINVAL;
		goto fail;
	}
	if (n->app.state)
		gossip_set_app_state(n->g, n->app.state, n->app.ctx);
	rc = open_sockets(n);
	if (rc < 0)
		goto fail;
	n->loop_t = thread_create("gossip", loop, n, THREAD_ANY_CPU);
	n->accept_t = thread_create("gossip-accept", acceptor, n, THREAD_ANY_CPU);
	n->stream_t = thread_create("gossip-stream", streamer, n, THREAD_ANY_CPU);
	if (!n->loop_t || !n->accept_t || !n->stream_t) {
		/* A created thread cannot be freed unstarted: start it with `stop` set, so
		 * it ends at once, and join it. */
		n->stop = true;
		struct thread *ts[] = {n->loop_t, n->accept_t, n->stream_t};
		for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
			if (ts[i])
				thread_start(ts[i]);
		for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
			if (ts[i])
				thread_join(ts[i]);
		rc = -ENOMEM;
		goto fail;
	}
	mutex_lock(&n->lock);
	size_t nseeds = 0;
	struct gossip_addr seeds[CONFIG_SEEDS_MAX];
	for (int i = 0; i < o->nseeds && i < CONFIG_SEEDS_MAX; i++)
		if (o->seeds[i].ip != o->self.ip || o->seeds[i].port != o->self.port)
			seeds[nseeds++] = o->seeds[i]; /* the first node may be given itself */
	rc = gossip_join(n->g, seeds, nseeds, now_ms());
	refresh(n, now_ms());
	drain(n, false);
	mutex_unlock(&n->lock);
	if (rc < 0)
		kwarn("gossip: join failed (%d); waiting to be found", rc);
	thread_start(n->loop_t);
	thread_start(n->accept_t);
	thread_start(n->stream_t);
	return (struct members_node *)n;

fail:
	close_sockets(n);
	if (n->g)
		gossip_free(n->g);
	mbox_free(&n->streams);
fail_mbox:
	memset(&n->o.keyring, 0, sizeof n->o.keyring);
	kfree(n);
	kwarn("gossip: cannot start (%d)", rc);
	return NULL;
}

struct members_node *members_node_start(const struct members_opts *o)
{
	return node_start(o, NULL);
}

struct members_node *members_node_start_app(const struct members_opts *o,
					    const struct members_app_ops *ops)
{
	return node_start(o, ops);
}

int members_node_app_broadcast(struct members_node *mn, uint64_t key, const void *data, size_t len)
{
	struct node *n = (struct node *)mn;
	mutex_lock(&n->lock);
	int rc = gossip_app_broadcast(n->g, key, data, len);
	mutex_unlock(&n->lock);
	if (rc == 0)
		wake(n); /* the core's deadline may be earlier now: the next gossip round */
	return rc;
}

int members_node_app_send(struct members_node *mn, const char *name, const void *data, size_t len)
{
	struct node *n = (struct node *)mn;
	mutex_lock(&n->lock);
	int rc = gossip_app_send(n->g, name, data, len, now_ms());
	drain(n, false);
	mutex_unlock(&n->lock);
	return rc;
}

void members_node_stop(struct members_node *mn)
{
	struct node *n = (struct node *)mn;
	n->stop = true;
	wake(n);
	thread_join(n->loop_t);
	thread_join(n->accept_t);
	thread_join(n->stream_t);
	close_sockets(n);
	void *p;
	while (mbox_tryfetch(&n->streams, &p) == 0)
		kfree(p);
	mbox_free(&n->streams);
	gossip_free(n->g);
	memset(&n->o.keyring, 0, sizeof n->o.keyring);
	kfree(n);
}

void members_node_leave(struct members_node *mn)
{
	struct node *n = (struct node *)mn;
	mutex_lock(&n->lock);
	bool first = !n->left;
	if (first) {
		gossip_leave(n->g, now_ms());
		n->left = true;
		drain(n, false);
	}
	mutex_unlock(&n->lock);
	if (!first)
		return;
	wake(n);
	kinfo("gossip: %s leaving the cluster", n->o.name);
	uint64_t ms = (uint64_t)MEMBERS_LEAVE_INTERVALS * n->o.cfg.gossip_interval_ms;
	sleep_ms(ms < MEMBERS_LEAVE_MAX_MS ? ms : MEMBERS_LEAVE_MAX_MS);
}

int members_node_snapshot(struct members_node *mn, struct members_entry *out, size_t max)
{
	struct node *n = (struct node *)mn;
	mutex_lock(&n->lock);
	size_t total = gossip_member_count(n->g);
	for (size_t i = 0; i < total && i < max; i++) {
		struct gossip_member m;
		gossip_member_at(n->g, i, &m);
		struct members_entry *e = &out[i];
		strncpy(e->name, m.name, sizeof e->name - 1);
		e->name[sizeof e->name - 1] = 0;
		strncpy(e->tags, m.tags ? m.tags : "", sizeof e->tags - 1);
		e->tags[sizeof e->tags - 1] = 0;
		e->addr = m.addr;
		e->state = m.state;
		e->incarnation = m.incarnation;
		e->res = m.res;
		e->since_ms = m.state_since_ms;
	}
	mutex_unlock(&n->lock);
	return (int)total;
}

size_t members_node_count(struct members_node *mn, enum gossip_state s)
{
	struct node *n = (struct node *)mn;
	mutex_lock(&n->lock);
	size_t c = gossip_count(n->g, s);
	mutex_unlock(&n->lock);
	return c;
}

void members_node_local(struct members_node *mn, struct members_local *l)
{
	struct node *n = (struct node *)mn;
	memset(l, 0, sizeof *l);
	strncpy(l->name, n->o.name, sizeof l->name - 1);
	strncpy(l->cluster, n->o.cluster, sizeof l->cluster - 1);
	l->addr = n->o.self;
	l->profile = n->o.profile;
	l->encrypted = n->o.keyring.n > 0;
	mutex_lock(&n->lock);
	l->joined = n->joined;
	l->health = gossip_health(n->g);
	l->stats = *gossip_stats(n->g);
	mutex_unlock(&n->lock);
}

/* The node of the command line. */

static struct members_node *running(void) { return __atomic_load_n(&self_node, __ATOMIC_ACQUIRE); }

bool members_running(void) { return running() != NULL; }

void members_leave(void)
{
	if (running())
		members_node_leave(running());
}

int members_snapshot(struct members_entry *out, size_t max)
{
	return running() ? members_node_snapshot(running(), out, max) : -ENODEV;
}

size_t members_count(enum gossip_state s)
{
	return running() ? members_node_count(running(), s) : 0;
}

int members_local(struct members_local *l)
{
	if (!running())
		return -ENODEV;
	members_node_local(running(), l);
	return 0;
}

void members_set_tasks(unsigned n) { __atomic_store_n(&tasks_running, n, __ATOMIC_RELAXED); }

void members_set_app(const struct members_app_ops *ops)
{
	if (ops)
		app_ops = *ops;
	else
		memset(&app_ops, 0, sizeof app_ops);
}

int members_app_broadcast(uint64_t key, const void *data, size_t len)
{
	return running() ? members_node_app_broadcast(running(), key, data, len) : -ENODEV;
}

int members_app_send(const char *name, const void *data, size_t len)
{
	return running() ? members_node_app_send(running(), name, data, len) : -ENODEV;
}

int members_set_keyring(const struct gossip_keyring *kr)
{
	struct node *n = (struct node *)running();
	if (!n)
		return -ENODEV;
	mutex_lock(&n->lock);
	int rc = gossip_set_keyring(n->g, kr);
	if (rc == 0)
		n->o.keyring = *kr; /* no stale copy of a removed key stays behind */
	mutex_unlock(&n->lock);
	return rc;
}

int members_keyring(struct gossip_keyring *kr)
{
	struct node *n = (struct node *)running();
	if (!n)
		return -ENODEV;
	mutex_lock(&n->lock);
	gossip_keyring_get(n->g, kr);
	mutex_unlock(&n->lock);
	return 0;
}

/* eth0's address and the segment's broadcast address, host order. */
static void eth0_addr(uint32_t *ip, uint32_t *bcast)
{
	LOCK_TCPIP_CORE();
	struct netif *nf = netif_default;
	*ip = nf ? lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(nf))) : 0;
	uint32_t mask = nf ? lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(nf))) : 0;
	UNLOCK_TCPIP_CORE();
	*bcast = mask ? (*ip & mask) | ~mask : IPADDR_BROADCAST;
}

static void seeds_str(const struct members_opts *o, char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = 0;
	if (!o->nseeds)
		ksnprintf(buf, len, "none (discovery by broadcast)");
	for (int i = 0; i < o->nseeds && k < len; i++) {
		char ip[IP_STR_MAX];
		ip_str(o->seeds[i].ip, ip);
		k += (size_t)ksnprintf(buf + k, len - k, "%s%s:%u", i ? "," : "", ip,
				       o->seeds[i].port);
	}
}

static void starter(void *arg)
{
	static struct members_opts o; /* large; the keys in it are wiped below */
	int rc = net_wait_bound((uint64_t)MEMBERS_NET_WAIT_MS * NS_PER_MS);
	if (rc < 0) {
		kwarn("gossip: not started: eth0 has no address after %d s (%d)",
		      MEMBERS_NET_WAIT_MS / 1000, rc);
		return;
	}
	memset(&o, 0, sizeof o);
	if (config.name[0]) {
		strncpy(o.name, config.name, sizeof o.name - 1);
	} else {
		const uint8_t *mac = netdev_get(0)->mac;
		ksnprintf(o.name, sizeof o.name, DEFAULT_NAME_PREFIX "%02x%02x%02x", mac[3], mac[4],
			  mac[5]);
	}
	strncpy(o.cluster, config.cluster, sizeof o.cluster - 1);
	strncpy(o.tags, config.tags, sizeof o.tags - 1);
	eth0_addr(&o.self.ip, &o.bcast);
	o.self.port = GOSSIP_PORT;
	o.profile = (enum gossip_profile)config.gossip_profile;
	o.cfg = config.gossip_cfg;
	if (config.cluster_key[0] && gossip_keyring_parse(&o.keyring, config.cluster_key) < 0) {
		kerror("gossip: not started: cluster.key= does not parse"); /* config.c checked */
		return;
	}
	memcpy(o.seeds, config.seeds, sizeof o.seeds);
	o.nseeds = config.nseeds;

	char ip[IP_STR_MAX], seeds[SEEDS_STR_MAX];
	ip_str(o.self.ip, ip);
	seeds_str(&o, seeds, sizeof seeds);
	kinfo("gossip: %s on %s:%u, cluster %s, profile %s%s, seeds %s, %s", o.name, ip,
	      o.self.port, o.cluster, o.profile == GOSSIP_PROFILE_LAN ? "lan" : "fast",
	      config.ngossip_sets ? " (with overrides)" : "", seeds,
	      o.keyring.n ? "encrypted" : "plaintext");
	struct members_node *n = node_start(&o, &app_ops);
	memset(&o.keyring, 0, sizeof o.keyring);
	__atomic_store_n(&self_node, n, __ATOMIC_RELEASE);
}

void members_start(void)
{
	if (!config.gossip) {
		kinfo("gossip: off (gossip=0)");
		return;
	}
	if (netdev_count() == 0) {
		kinfo("gossip: not started: no network interface");
		return;
	}
	if (!config.cluster_key[0] && !config.gossip_plaintext) {
		kwarn("gossip: not started: no cluster.key= and no gossip.plaintext flag (a key: "
		      "head -c 32 /dev/urandom | base64)");
		return;
	}
	struct thread *t = thread_create("gossip-start", starter, 0, THREAD_ANY_CPU);
	if (!t) {
		kwarn("gossip: not started: out of memory");
		return;
	}
	thread_start(t);
}
