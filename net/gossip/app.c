/* app.c: application data riding on gossip (gossip.h): broadcasts, direct sends, the
 * inbox, the duplicate filter, and keyring rotation.
 *
 * An application message is one APP message (PROTOCOL.md) naming its origin, a number
 * the origin raises with every message (starting at a random value, so a restarted node
 * does not repeat its old numbers) and a replacement key. A broadcast is queued like a
 * membership rumour (bcast.c); every member that hears it for the first time hands it to
 * the application and queues it again, so it spreads as an epidemic. "First time" is a
 * duplicate filter of (origin name hash, number) ids in two generations of an
 * open-addressing table: when the current one is half full the older is cleared and
 * becomes current, so an id is remembered for at least APP_SEEN_SLOTS / 2 later ones,
 * far longer than a message circulates. Should one come back after that, the application
 * sees it twice; it is told to expect that (gossip.h: best effort, versioned state).
 *
 * Only members alive (or suspect: not yet declared dead) in this node's view are heard:
 * application data from an unknown, dead or left member is dropped and counted. */
#include <errno.h>
#include <string.h>

#include "net/gossip/core.h"
#include "net/gossip/port.h"

/* Alive or suspect, and not ourselves: NONE when not. */
static uint32_t live_member(const struct gossip *g, const char *name)
{
	uint32_t i = swim_member_find(g, name);

	if (i == NONE || i == 0 || g->m[i].state > GOSSIP_SUSPECT)
		return NONE;
	return i;
}

static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 33)) * 0xff51afd7ed558ccdULL;
	x = (x ^ (x >> 33)) * 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* True when id was seen; otherwise remember it. Out of memory: everything is news. */
static bool seen(struct gossip *g, uint64_t id)
{
	uint32_t mask = APP_SEEN_SLOTS - 1, s, t;
	uint64_t *tab;

	if (!id)
		id = 1; /* 0 marks an empty slot */
	if (!g->seen) {
		g->seen = gossip_port_alloc(2 * APP_SEEN_SLOTS * sizeof *g->seen);
		if (!g->seen)
			return false;
		memset(g->seen, 0, 2 * APP_SEEN_SLOTS * sizeof *g->seen);
	}
	for (t = 0; t < 2; t++) {
		tab = g->seen + (size_t)t * APP_SEEN_SLOTS;
		for (s = (uint32_t)mix64(id) & mask; tab[s]; s = (s + 1) & mask)
			if (tab[s] == id)
				return true;
	}
	if (g->seen_n >= APP_SEEN_SLOTS / 2) {
		g->seen_cur ^= 1;
		memset(g->seen + (size_t)g->seen_cur * APP_SEEN_SLOTS, 0,
		       APP_SEEN_SLOTS * sizeof *g->seen);
		g->seen_n = 0;
	}
	tab = g->seen + (size_t)g->seen_cur * APP_SEEN_SLOTS;
	for (s = (uint32_t)mix64(id) & mask; tab[s]; s = (s + 1) & mask)
		;
	tab[s] = id;
	g->seen_n++;
	return false;
}

/* Queue input for gossip_next_app (copied); counted as dropped when the inbox is full. */
void swim_app_deliver(struct gossip *g, enum gossip_app_kind kind, const char *from,
		      const uint8_t *data, size_t len)
{
	struct appin *in;
	uint8_t *copy;

	if (!g->inbox) {
		g->inbox = gossip_port_alloc(APP_IN_MAX * sizeof *g->inbox);
		if (!g->inbox) {
			g->st.app_dropped++;
			return;
		}
	}
	if (g->in_len >= APP_IN_MAX || !(copy = gossip_port_alloc(len ? len : 1))) {
		g->st.app_dropped++;
		return;
	}
	if (len)
		memcpy(copy, data, len);
	in = &g->inbox[(g->in_head + g->in_len++) % APP_IN_MAX];
	in->kind = (uint8_t)kind;
	scopy(in->from, from, sizeof in->from);
	in->data = copy;
	in->len = len;
	g->st.app_in++;
}

/* An APP message from a datagram. */
void swim_on_app(struct gossip *g, const struct wire_app *a)
{
	struct wire_msg msg;
	uint32_t i = swim_member_find(g, a->origin);

	if (i == 0)
		return; /* our own broadcast, relayed back */
	i = live_member(g, a->origin);
	if (i == NONE) {
		g->st.app_dropped++;
		return;
	}
	if (seen(g, (uint64_t)g->m[i].hash << 32 | a->seq))
		return;
	if (!a->direct) {
		msg.type = WIRE_APP;
		msg.u.app = *a;
		if (swim_bq_put_app(g, &msg, g->m[i].hash) == -ENOBUFS)
			g->st.app_dropped++;
	}
	swim_app_deliver(g, GOSSIP_APP_MSG, a->origin, a->data, a->len);
}

/* An APP message of ours; -EMSGSIZE when it does not fit a datagram. */
static int app_msg(struct gossip *g, struct wire_msg *msg, bool direct, uint64_t key,
		   const uint8_t *data, size_t len)
{
	long n;

	if (len > GOSSIP_APP_MAX)
		return -EMSGSIZE;
	if ((len && !data) || g->left)
		return -EINVAL;
	memset(msg, 0, sizeof *msg);
	msg->type = WIRE_APP;
	scopy(msg->u.app.origin, g->m[0].name, sizeof msg->u.app.origin);
	msg->u.app.direct = direct;
	msg->u.app.seq = g->app_seq;
	msg->u.app.key = key;
	msg->u.app.data = data;
	msg->u.app.len = len;
	n = wire_size(msg);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n + 1 > swim_seal_room(g))
		return -EMSGSIZE;
	g->app_seq++;
	return 0;
}

int gossip_app_broadcast(struct gossip *g, uint64_t key, const uint8_t *data, size_t len)
{
	struct wire_msg msg;
	int rc;

	if (!g)
		return -EINVAL;
	rc = app_msg(g, &msg, false, key, data, len);
	if (rc < 0)
		return rc;
	if (swim_bq_put_app(g, &msg, g->m[0].hash) < 0) {
		g->st.app_dropped++;
		return -ENOBUFS;
	}
	g->st.app_out++;
	return 0;
}

int gossip_app_send(struct gossip *g, const char *name, const uint8_t *data, size_t len,
		    uint64_t now_ms)
{
	struct wire_msg msg;
	uint32_t i;
	int rc;

	if (!g || !name)
		return -EINVAL;
	swim_enter(g, now_ms);
	if (len > GOSSIP_APP_MAX)
		return -EMSGSIZE;
	if (swim_member_find(g, name) == 0)
		return -EINVAL;
	i = live_member(g, name);
	if (i == NONE)
		return -ENOENT;
	rc = app_msg(g, &msg, true, 0, data, len);
	if (rc < 0)
		return rc;
	swim_send_msg(g, GOSSIP_OUT_UDP, swim_addr_of(&g->m[i]), &msg, NULL, false);
	g->st.app_out++;
	return 0;
}

void gossip_set_app_state(struct gossip *g, gossip_app_state_fn fn, void *ctx)
{
	g->app_state = fn;
	g->app_ctx = ctx;
}

/* Free what gossip_next_app handed out last. */
void swim_app_release(struct gossip *g)
{
	gossip_port_free(g->app_last);
	g->app_last = NULL;
}

bool gossip_next_app(struct gossip *g, struct gossip_app_in *in)
{
	struct appin *a;

	swim_app_release(g);
	if (!g->in_len)
		return false;
	a = &g->inbox[g->in_head];
	g->in_head = (g->in_head + 1) % APP_IN_MAX;
	g->in_len--;
	in->kind = (enum gossip_app_kind)a->kind;
	memcpy(in->from, a->from, sizeof in->from);
	in->data = a->data;
	in->len = a->len;
	g->app_last = a->data;
	a->data = NULL;
	return true;
}

void swim_app_free(struct gossip *g)
{
	swim_app_release(g);
	while (g->inbox && g->in_len) {
		gossip_port_free(g->inbox[g->in_head].data);
		g->in_head = (g->in_head + 1) % APP_IN_MAX;
		g->in_len--;
	}
	gossip_port_free(g->inbox);
	gossip_port_free(g->seen);
	g->inbox = NULL;
	g->seen = NULL;
}

/* Keyring rotation. */

int gossip_set_keyring(struct gossip *g, const struct gossip_keyring *kr)
{
	unsigned i;

	if (!g || !kr || kr->n > GOSSIP_KEYS_MAX || (kr->n == 0) != (g->kr.n == 0))
		return -EINVAL;
	for (i = 0; i < kr->n; i++)
		if (kr->len[i] != 16 && kr->len[i] != 24 && kr->len[i] != 32)
			return -EINVAL;
	g->kr = *kr;
	return 0;
}

void gossip_keyring_get(const struct gossip *g, struct gossip_keyring *kr) { *kr = g->kr; }
