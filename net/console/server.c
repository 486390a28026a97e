/* server.c: the network console's transport: TLS 1.2 with pre-shared keys (mbedTLS) over
 * lwIP's socket API, one kernel thread per session.
 *
 * Why not lwIP's altcp_tls: lwIP 2.1.3's altcp_tls_mbedtls.c configures mbedTLS only with
 * X.509 certificates (altcp_tls_create_config_server_privkey_cert); it has no way to set
 * a PSK or a PSK callback, and it runs in lwIP's callback (raw API) world, where a
 * command that waits (submit --wait, logs -f) would need a state machine of its own.
 * ARCHITECTURE.md's decision 3 puts the console on kernel threads over sockets: mbedTLS's
 * I/O callbacks (mbedtls_ssl_set_bio) read and write a blocking lwIP socket whose waits
 * are bounded by SO_RCVTIMEO/SO_SNDTIMEO.
 *
 * Threads: `console` accepts on CONSOLE_PORT and hands each connection to a free slot
 * (at most console.max; beyond that the connection is refused and closed, with a
 * rate-limited warning; in insecure mode the peer also reads a one-line error). Each slot
 * runs one session thread: the handshake (bounded by CONSOLE_HANDSHAKE_MS), then
 * exec.c's session loop, then close. Finished slot threads are joined by the acceptor
 * before the slot is reused, so every thread is freed.
 *
 * Keys: the PSK callback finds the key by the identity the client sends (config's
 * console.psk= list); an unknown identity or a wrong key fails the handshake, which is
 * counted and logged at most every CONSOLE_FAIL_LOG_MS. Randomness is the kernel's
 * CTR-DRBG (random_bytes). */
#include "net/console/server.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "kernel/config.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/printf.h"
#include "kernel/random.h"
#include "kernel/sync.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lwip/sockets.h"
#include "mbedtls/ssl.h"
#include "net/console/console.h"
#include "net/ksock.h"
#include "sched/cluster/cluster.h"

#define NS_PER_MS 1000000ULL
#define ACCEPT_WAIT_MS 1000  /* the acceptor looks at finished slots this often */
#define ERROR_BACKOFF_MS 100 /* a socket call that failed at once is retried after this */
#define LISTEN_BACKLOG 4     /* connections waiting for accept */
#define IP_STR_MAX 16

_Static_assert(CONFIG_PSK_ID_MAX == CLUSTER_IDENTITY_MAX, "a PSK identity names a submitter");
_Static_assert(CONFIG_PSK_KEY_MAX <= MBEDTLS_PSK_MAX_LEN, "mbedTLS takes every key");

struct console_stats console_counters;

struct session {
	int id;
	int sock;
	uint32_t ip; /* host order */
	bool tls;
	mbedtls_ssl_context ssl;
	char who[CONFIG_PSK_ID_MAX + 1];
};

struct slot {
	struct thread *t;
	volatile bool done; /* its thread has finished with the slot; join it */
	struct session *s;
};

static struct {
	int sock;
	bool tls;
	mbedtls_ssl_config conf;
	struct slot slots[CONFIG_MAX_CONSOLE_MAX];
	int next_id;
	struct mutex fail_lock; /* the rate-limited warnings below */
	uint64_t fail_unlogged, fail_log_ms, refused_unlogged, refused_log_ms;
} srv;

static uint64_t now_ms(void) { return time_ns() / NS_PER_MS; }

static void ip_str(uint32_t ip, char buf[IP_STR_MAX])
{
	ksnprintf(buf, IP_STR_MAX, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		  ip & 0xff);
}

static void count(uint64_t *c, uint64_t n) { __atomic_fetch_add(c, n, __ATOMIC_RELAXED); }

void console_stats(struct console_stats *s)
{
	struct console_stats *c = &console_counters;
	s->sessions_total = __atomic_load_n(&c->sessions_total, __ATOMIC_RELAXED);
	s->sessions_active = __atomic_load_n(&c->sessions_active, __ATOMIC_RELAXED);
	s->sessions_refused = __atomic_load_n(&c->sessions_refused, __ATOMIC_RELAXED);
	s->handshakes_failed = __atomic_load_n(&c->handshakes_failed, __ATOMIC_RELAXED);
	s->sessions_timed_out = __atomic_load_n(&c->sessions_timed_out, __ATOMIC_RELAXED);
	s->commands = __atomic_load_n(&c->commands, __ATOMIC_RELAXED);
	s->commands_failed = __atomic_load_n(&c->commands_failed, __ATOMIC_RELAXED);
	s->bad_lines = __atomic_load_n(&c->bad_lines, __ATOMIC_RELAXED);
	s->uploads = __atomic_load_n(&c->uploads, __ATOMIC_RELAXED);
	s->upload_bytes = __atomic_load_n(&c->upload_bytes, __ATOMIC_RELAXED);
	s->listening = __atomic_load_n(&c->listening, __ATOMIC_RELAXED);
	s->tls = srv.tls;
}

/* A warning at most every CONSOLE_FAIL_LOG_MS, carrying how many events it stands for
 * (the first one at once, so that a test or an operator sees it). */
static void rate_warn(uint64_t *unlogged, uint64_t *next_ms, const char *what, uint32_t ip,
		      const char *why)
{
	char a[IP_STR_MAX];
	ip_str(ip, a);
	mutex_lock(&srv.fail_lock);
	(*unlogged)++;
	uint64_t now = now_ms();
	if (now >= *next_ms) {
		kwarn("console: %llu %s, last from %s: %s", (unsigned long long)*unlogged, what, a,
		      why);
		*unlogged = 0;
		*next_ms = now + CONSOLE_FAIL_LOG_MS;
	}
	mutex_unlock(&srv.fail_lock);
}

/* --- mbedTLS glue ---------------------------------------------------------------------- */

static int rng(void *p, unsigned char *buf, size_t len)
{
	(void)p;
	return random_bytes(buf, len) < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : 0;
}

/* A socket call's result as mbedTLS wants it: the bytes moved, `want` when the call
 * timed out (SO_RCVTIMEO/SO_SNDTIMEO bound each), EOF when the peer closed or reset. */
static int bio_result(int r, int want)
{
	if (r > 0)
		return r;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return want;
	return MBEDTLS_ERR_SSL_CONN_EOF;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct session *s = ctx;
	return bio_result(lwip_send(s->sock, buf, len, 0), MBEDTLS_ERR_SSL_WANT_WRITE);
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct session *s = ctx;
	return bio_result(lwip_recv(s->sock, buf, len, 0), MBEDTLS_ERR_SSL_WANT_READ);
}

/* The key for the identity the client names; the session remembers who it is. */
static int psk_cb(void *p, mbedtls_ssl_context *ssl, const unsigned char *id, size_t len)
{
	(void)p;
	struct session *s = (struct session *)((char *)ssl - offsetof(struct session, ssl));
	for (int i = 0; i < config.npsk; i++) {
		const struct config_psk *k = &config.console_psk[i];
		if (strlen(k->identity) == len && !memcmp(k->identity, id, len)) {
			memcpy(s->who, k->identity, len + 1);
			return mbedtls_ssl_set_hs_psk(ssl, k->key, k->key_len);
		}
	}
	return -1; /* unknown identity: the handshake fails */
}

/* --- the session's transport ------------------------------------------------------------ */

static int tls_write(void *ctx, const void *buf, size_t len)
{
	struct session *s = ctx;
	const unsigned char *p = buf;
	uint64_t deadline = now_ms() + CONSOLE_WRITE_MS;
	while (len) {
		int r = mbedtls_ssl_write(&s->ssl, p, len);
		if (r > 0) {
			p += r;
			len -= (size_t)r;
		} else if ((r != MBEDTLS_ERR_SSL_WANT_WRITE && r != MBEDTLS_ERR_SSL_WANT_READ) ||
			   now_ms() > deadline) {
			return -EIO;
		}
	}
	return 0;
}

static long tls_read(void *ctx, void *buf, size_t len, uint32_t timeout_ms)
{
	struct session *s = ctx;
	ksock_timeout(s->sock, SO_RCVTIMEO, timeout_ms ? timeout_ms : 1);
	int r = mbedtls_ssl_read(&s->ssl, buf, len);
	if (r > 0)
		return r;
	if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
		return 0;
	return -EIO; /* close_notify, EOF, or a bad record */
}

static int tcp_write(void *ctx, const void *buf, size_t len)
{
	struct session *s = ctx;
	/* No deadline of its own: SO_SNDTIMEO bounds each call. */
	return ksock_send_all(s->sock, buf, len, KSOCK_NO_DEADLINE);
}

static long tcp_read(void *ctx, void *buf, size_t len, uint32_t timeout_ms)
{
	struct session *s = ctx;
	ksock_timeout(s->sock, SO_RCVTIMEO, timeout_ms ? timeout_ms : 1);
	int r = lwip_recv(s->sock, buf, len, 0);
	if (r > 0)
		return r;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return -EIO;
}

/* 0 once the handshake is done, or an mbedTLS error (or -ETIMEDOUT). */
static int handshake(struct session *s)
{
	uint64_t deadline = now_ms() + CONSOLE_HANDSHAKE_MS;
	ksock_timeout(s->sock, SO_RCVTIMEO, CONSOLE_POLL_MS);
	for (;;) {
		int r = mbedtls_ssl_handshake(&s->ssl);
		if (r == 0)
			return 0;
		if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
			return r;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
	}
}

static void session_main(void *arg)
{
	struct slot *slot = arg;
	struct session *s = slot->s;
	char a[IP_STR_MAX];
	ip_str(s->ip, a);
	ksock_timeout(s->sock, SO_SNDTIMEO, CONSOLE_WRITE_MS);
	struct console_io io = {
		.ctx = s,
		.idle_ms = (uint32_t)config.console_idle * 1000,
	};
	bool ok = true;
	if (s->tls) {
		mbedtls_ssl_init(&s->ssl);
		int r = mbedtls_ssl_setup(&s->ssl, &srv.conf);
		if (r == 0) {
			mbedtls_ssl_set_bio(&s->ssl, s, bio_send, bio_recv, NULL);
			r = handshake(s);
		}
		if (r != 0) {
			char why[32];
			ksnprintf(why, sizeof why, r == -ETIMEDOUT ? "timed out" : "-0x%04x",
				  (unsigned)-r);
			count(&console_counters.handshakes_failed, 1);
			rate_warn(&srv.fail_unlogged, &srv.fail_log_ms, "handshakes failed", s->ip,
				  why);
			ok = false;
		}
		io.write = tls_write;
		io.read = tls_read;
	} else {
		strncpy(s->who, "insecure", sizeof s->who - 1);
		io.write = tcp_write;
		io.read = tcp_read;
	}
	if (ok) {
		io.who = s->who;
		kdebug("console: session %d from %s as %s", s->id, a, s->who);
		console_session_run(&io);
		if (s->tls)
			mbedtls_ssl_close_notify(&s->ssl);
		kdebug("console: session %d ended", s->id);
	}
	if (s->tls)
		mbedtls_ssl_free(&s->ssl);
	lwip_close(s->sock);
	kfree(s);
	__atomic_fetch_sub(&console_counters.sessions_active, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->done, true, __ATOMIC_RELEASE);
}

/* Join the threads of finished sessions; the number of slots in use. */
static int reap(void)
{
	int used = 0;
	for (int i = 0; i < config.console_max; i++) {
		struct slot *sl = &srv.slots[i];
		if (sl->t && __atomic_load_n(&sl->done, __ATOMIC_ACQUIRE)) {
			thread_join(sl->t);
			sl->t = NULL;
		}
		used += sl->t != NULL;
	}
	return used;
}

static void refuse(int c, uint32_t ip)
{
	static const char msg[] = "err unavailable too many console sessions\n";
	if (!srv.tls) {
		ksock_timeout(c, SO_SNDTIMEO, CONSOLE_POLL_MS);
		lwip_send(c, msg, sizeof msg - 1, 0);
	}
	lwip_close(c);
	count(&console_counters.sessions_refused, 1);
	char why[48];
	ksnprintf(why, sizeof why, "%d sessions already", config.console_max);
	rate_warn(&srv.refused_unlogged, &srv.refused_log_ms, "connections refused", ip, why);
}

static void take(int c, uint32_t ip)
{
	struct slot *sl = NULL;
	for (int i = 0; i < config.console_max && !sl; i++)
		if (!srv.slots[i].t)
			sl = &srv.slots[i];
	struct session *s = sl ? kzalloc(sizeof *s) : NULL;
	if (!s) {
		refuse(c, ip);
		return;
	}
	s->id = ++srv.next_id;
	s->sock = c;
	s->ip = ip;
	s->tls = srv.tls;
	sl->s = s;
	sl->done = false;
	sl->t = thread_create("console-session", session_main, sl, THREAD_ANY_CPU);
	if (!sl->t) {
		kfree(s);
		refuse(c, ip);
		return;
	}
	count(&console_counters.sessions_total, 1);
	count(&console_counters.sessions_active, 1);
	thread_start(sl->t);
}

static void acceptor(void *arg)
{
	(void)arg;
	for (;;) {
		struct sockaddr_in from;
		socklen_t fromlen = sizeof from;
		uint64_t t0 = now_ms();
		int c = lwip_accept(srv.sock, (struct sockaddr *)&from, &fromlen);
		int used = reap();
		if (c < 0) {
			if (now_ms() - t0 < ACCEPT_WAIT_MS / 2)
				thread_sleep_ns(ERROR_BACKOFF_MS * NS_PER_MS); /* out of sockets */
			continue;
		}
		uint32_t ip = lwip_ntohl(from.sin_addr.s_addr);
		if (used >= config.console_max)
			refuse(c, ip);
		else
			take(c, ip);
	}
}

static int setup_tls(void)
{
	mbedtls_ssl_config_init(&srv.conf);
	int r = mbedtls_ssl_config_defaults(&srv.conf, MBEDTLS_SSL_IS_SERVER,
					    MBEDTLS_SSL_TRANSPORT_STREAM,
					    MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0)
		return r;
	mbedtls_ssl_conf_rng(&srv.conf, rng, NULL);
	mbedtls_ssl_conf_psk_cb(&srv.conf, psk_cb, NULL);
	mbedtls_ssl_conf_min_version(&srv.conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	return 0;
}

static int listen_on(uint16_t port)
{
	int s = ksock_listen(INADDR_ANY, port, LISTEN_BACKLOG);
	if (s >= 0)
		ksock_timeout(s, SO_RCVTIMEO, ACCEPT_WAIT_MS);
	return s;
}

void console_start(void)
{
	console_serial_start();
	mutex_init(&srv.fail_lock);
	if (config.npsk == 0 && !config.console_insecure) {
		kwarn("console: not started: no console.psk= key (console.insecure=1 allows plain "
		      "TCP)");
		return;
	}
	srv.tls = config.npsk > 0;
	if (srv.tls) {
		int r = setup_tls();
		if (r != 0) {
			kerror("console: not started: TLS setup failed (-0x%04x)", (unsigned)-r);
			return;
		}
	}
	srv.sock = listen_on(CONSOLE_PORT);
	if (srv.sock < 0) {
		kerror("console: not started: cannot listen on %d (%d)", CONSOLE_PORT, srv.sock);
		return;
	}
	struct thread *t = thread_create("console", acceptor, NULL, THREAD_ANY_CPU);
	if (!t) {
		lwip_close(srv.sock);
		kerror("console: not started: out of memory");
		return;
	}
	__atomic_store_n(&console_counters.listening, true, __ATOMIC_RELAXED);
	if (srv.tls)
		kinfo("console: listening on %d (tls-psk), %d key%s", CONSOLE_PORT, config.npsk,
		      config.npsk == 1 ? "" : "s");
	else
		kwarn("console: listening on %d (insecure): plain TCP, no authentication",
		      CONSOLE_PORT);
	thread_start(t);
}
