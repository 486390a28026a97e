/* metrics.c: the Prometheus endpoint (net/metrics.h): a tiny HTTP/1.x server on one
 * kernel thread over lwIP sockets, and the exposition text built from every subsystem's
 * counters at the moment of the scrape. */
#include "net/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "drivers/netdev.h"
#include "kernel/config.h"
#include "kernel/cpu.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/pmm.h"
#include "kernel/printf.h"
#include "kernel/task.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "lwip/sockets.h"
#include "net/console/server.h"
#include "net/ksock.h"
#include "net/members.h"
#include "net/net.h"
#include "sched/agent.h"
#include "sched/cluster/cluster.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_SEC 1000000000ULL
#define MIB (1024 * 1024)
#define BUF_START 8192	     /* the text's first allocation; it doubles as needed */
#define ERROR_BACKOFF_MS 100 /* a socket call that failed at once is retried after this */
#define ACCEPT_WAIT_MS 1000  /* accept's timeout (nothing else to do; bounded anyway) */
#define LISTEN_BACKLOG 4

/* --- the text --------------------------------------------------------------------------- */

struct text {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	for (int tries = 0; tries < 2 && !t->oom; tries++) {
		va_list ap;
		va_start(ap, fmt);
		int n = kvsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap =
			t->cap * 2 > t->len + (size_t)n + 1 ? t->cap * 2 : t->len + (size_t)n + 1;
		char *q = kmalloc(cap);
		if (!q) {
			t->oom = true;
			return;
		}
		memcpy(q, t->p, t->len + 1);
		kfree(t->p);
		t->p = q;
		t->cap = cap;
	}
}

/* A family's HELP and TYPE lines. */
static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP shoal_%s %s\n# TYPE shoal_%s %s\n", name, help, name, type);
}

static void one(struct text *t, const char *name, const char *type, const char *help, uint64_t v)
{
	family(t, name, type, help);
	put(t, "shoal_%s %llu\n", name, (unsigned long long)v);
}

/* ns as seconds with nine decimals (the formatter has no floating point). */
static void put_secs(struct text *t, uint64_t ns)
{
	put(t, "%llu.%09llu\n", (unsigned long long)(ns / NS_PER_SEC),
	    (unsigned long long)(ns % NS_PER_SEC));
}

static void membership(struct text *t)
{
	static const enum gossip_state states[] = {GOSSIP_ALIVE, GOSSIP_SUSPECT, GOSSIP_DEAD,
						   GOSSIP_LEFT};
	bool up = members_running();
	one(t, "gossip_up", "gauge", "1 when cluster membership runs on this node.", up);
	family(t, "members", "gauge", "Cluster members in this node's view, by state.");
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		put(t, "shoal_members{state=\"%s\"} %zu\n", gossip_state_name(states[i]),
		    up ? members_count(states[i]) : 0);
	struct members_local l;
	if (members_local(&l) < 0)
		memset(&l, 0, sizeof l);
	const struct gossip_stats *g = &l.stats;
	family(t, "gossip_packets_total", "counter", "Gossip UDP packets, by direction.");
	put(t, "shoal_gossip_packets_total{dir=\"in\"} %llu\n", (unsigned long long)g->udp_in);
	put(t, "shoal_gossip_packets_total{dir=\"out\"} %llu\n", (unsigned long long)g->udp_out);
	family(t, "gossip_bytes_total", "counter", "Gossip UDP bytes, by direction.");
	put(t, "shoal_gossip_bytes_total{dir=\"in\"} %llu\n", (unsigned long long)g->udp_bytes_in);
	put(t, "shoal_gossip_bytes_total{dir=\"out\"} %llu\n",
	    (unsigned long long)g->udp_bytes_out);
	family(t, "gossip_streams_total", "counter", "Gossip push-pull frames, by direction.");
	put(t, "shoal_gossip_streams_total{dir=\"in\"} %llu\n", (unsigned long long)g->frames_in);
	put(t, "shoal_gossip_streams_total{dir=\"out\"} %llu\n", (unsigned long long)g->frames_out);
	family(t, "gossip_dropped_total", "counter",
	       "Gossip packets and frames dropped, by reason (auth: failed decryption).");
	put(t, "shoal_gossip_dropped_total{reason=\"auth\"} %llu\n",
	    (unsigned long long)g->drop_auth);
	put(t, "shoal_gossip_dropped_total{reason=\"version\"} %llu\n",
	    (unsigned long long)g->drop_version);
	put(t, "shoal_gossip_dropped_total{reason=\"malformed\"} %llu\n",
	    (unsigned long long)g->drop_malformed);
	put(t, "shoal_gossip_dropped_total{reason=\"plaintext\"} %llu\n",
	    (unsigned long long)g->drop_plaintext);
	one(t, "gossip_probes_failed_total", "counter", "Failure-detector probes unanswered.",
	    g->probe_failed);
	one(t, "gossip_health", "gauge", "Lifeguard local health score (0 is healthy).", l.health);
}

static void nics(struct text *t)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} ctr[] = {
		{"nic_rx_packets_total", "Frames received.",
		 offsetof(struct netdev_stats, rx_packets)},
		{"nic_tx_packets_total", "Frames sent.", offsetof(struct netdev_stats, tx_packets)},
		{"nic_rx_bytes_total", "Bytes received.", offsetof(struct netdev_stats, rx_bytes)},
		{"nic_tx_bytes_total", "Bytes sent.", offsetof(struct netdev_stats, tx_bytes)},
		{"nic_rx_dropped_total", "Received frames dropped (ring full, no memory).",
		 offsetof(struct netdev_stats, rx_dropped)},
		{"nic_tx_dropped_total", "Frames not sent (ring full).",
		 offsetof(struct netdev_stats, tx_dropped)},
		{"nic_rx_errors_total", "Receive errors.",
		 offsetof(struct netdev_stats, rx_errors)},
		{"nic_tx_errors_total", "Transmit errors.",
		 offsetof(struct netdev_stats, tx_errors)},
	};
	for (size_t k = 0; k < sizeof ctr / sizeof ctr[0]; k++) {
		family(t, ctr[k].name, "counter", ctr[k].help);
		for (int i = 0; i < netdev_count(); i++) {
			struct netdev *nd = netdev_get(i);
			uint64_t v =
				*(const volatile uint64_t *)((const char *)&nd->stats + ctr[k].off);
			put(t, "shoal_%s{device=\"%s\"} %llu\n", ctr[k].name, nd->name,
			    (unsigned long long)v);
		}
	}
	one(t, "net_rx_nobuf_total", "counter",
	    "Received frames the stack dropped for want of a buffer.", net_rx_nobuf());
}

static void machine(struct text *t)
{
	one(t, "memory_total_bytes", "gauge", "Physical memory managed by the kernel.",
	    pmm_total_bytes());
	one(t, "memory_free_bytes", "gauge", "Physical memory free.", pmm_free_bytes());
	uint64_t now = time_ns();
	family(t, "uptime_seconds", "gauge", "Time since boot.");
	put(t, "shoal_uptime_seconds ");
	put_secs(t, now);
	family(t, "cpu_seconds_total", "counter",
	       "CPU time since boot by mode (idle: halted; busy: the rest).");
	for (int i = 0; i < ncpus && i < MAX_CPUS; i++) {
		if (!cpus[i].online)
			continue;
		uint64_t idle = __atomic_load_n(&cpus[i].idle_ns, __ATOMIC_RELAXED);
		put(t, "shoal_cpu_seconds_total{cpu=\"%d\",mode=\"idle\"} ", i);
		put_secs(t, idle);
		put(t, "shoal_cpu_seconds_total{cpu=\"%d\",mode=\"busy\"} ", i);
		put_secs(t, now > idle ? now - idle : 0);
	}
	one(t, "tasks_running", "gauge", "User tasks running on this node.",
	    (uint64_t)task_running());
	struct task_info newest;
	uint64_t started = task_list(&newest, 1) ? (uint64_t)newest.id : 0;
	one(t, "tasks_started_total", "counter", "User tasks started on this node.", started);
}

static void scheduler(struct text *t)
{
	static const enum cluster_job_state states[] = {CLUSTER_JOB_PENDING, CLUSTER_JOB_RUNNING,
							CLUSTER_JOB_COMPLETE, CLUSTER_JOB_FAILED,
							CLUSTER_JOB_STOPPED};
	uint64_t by_state[sizeof states / sizeof states[0]] = {0};
	uint64_t running = 0, pending = 0;
	struct cluster_stats cs = {0};
	struct cluster_job *j = kmalloc(sizeof *j);
	struct cluster *c = j ? agent_lock() : NULL;
	bool up = c != NULL;
	if (c) {
		size_t n = cluster_job_count(c);
		for (size_t i = 0; i < n; i++) {
			if (!cluster_job_at(c, i, j))
				continue;
			if ((size_t)j->state < sizeof by_state / sizeof by_state[0])
				by_state[j->state]++;
			running += j->running;
			pending += j->pending;
		}
		cs = *cluster_stats(c);
		agent_unlock();
	}
	kfree(j);
	one(t, "scheduler_up", "gauge", "1 when the cluster scheduler runs on this node.", up);
	family(t, "jobs", "gauge", "Jobs in the replicated job table, by state.");
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		put(t, "shoal_jobs{state=\"%s\"} %llu\n", cluster_job_state_name(states[i]),
		    (unsigned long long)by_state[i]);
	family(t, "job_slots", "gauge", "Instance slots of all jobs, by state.");
	put(t, "shoal_job_slots{state=\"running\"} %llu\n", (unsigned long long)running);
	put(t, "shoal_job_slots{state=\"pending\"} %llu\n", (unsigned long long)pending);
	one(t, "scheduler_placements_total", "counter",
	    "Instances placed by this node as coordinator.", cs.placements);
	one(t, "scheduler_rejections_total", "counter", "Placements refused by the chosen node.",
	    cs.rejections);
	one(t, "scheduler_lost_total", "counter", "Instances lost with their node.", cs.lost);
	one(t, "scheduler_restarts_total", "counter", "Service instances restarted.", cs.restarts);
	one(t, "scheduler_retries_total", "counter", "Batch instances retried.", cs.retries);
	one(t, "scheduler_duplicates_stopped_total", "counter",
	    "Duplicate instances stopped after a partition healed.", cs.duplicates_stopped);
	one(t, "scheduler_jobs_collected_total", "counter",
	    "Ended jobs collected (tombstoned) and freed here.", cs.jobs_collected);
	one(t, "scheduler_tombstones", "gauge", "Tombstones of collected jobs held.",
	    cs.tombstones);
	one(t, "scheduler_tombstones_written_total", "counter",
	    "Jobs this node collected as their coordinator.", cs.tombstones_written);
	one(t, "scheduler_tombstones_expired_total", "counter",
	    "Tombstones dropped after tombstone_keep_ms.", cs.tombstones_expired);
	one(t, "scheduler_gone_ignored_total", "counter",
	    "Records of collected jobs dropped on arrival.", cs.gone_ignored);
	one(t, "scheduler_attempts_dropped_total", "counter",
	    "Superseded service attempts dropped from the table.", cs.attempts_dropped);
	one(t, "scheduler_messages_bad_total", "counter",
	    "Replication messages and states dropped as malformed.", cs.msgs_bad + cs.states_bad);
	family(t, "scheduler_place_latency_seconds", "summary",
	       "Submit to running, for instances this node coordinated.");
	put(t, "shoal_scheduler_place_latency_seconds_sum ");
	put_secs(t, cs.place_latency_ms_sum * NS_PER_MS);
	put(t, "shoal_scheduler_place_latency_seconds_count %llu\n",
	    (unsigned long long)cs.place_latency_n);
	struct agent_stats as;
	agent_stats(&as);
	one(t, "agent_instances_started_total", "counter", "Instances started on this node.",
	    as.started);
	one(t, "agent_instances_start_failed_total", "counter",
	    "Instances that could not start on this node.", as.start_failed);
	one(t, "agent_blob_fetches_failed_total", "counter", "Program fetches that failed.",
	    as.fetch_failed);
	one(t, "agent_peer_refused_total", "counter", "Peer connections refused.", as.peer_refused);
}

static void console(struct text *t)
{
	struct console_stats s;
	console_stats(&s);
	one(t, "console_up", "gauge", "1 when the network console listens.", s.listening);
	one(t, "console_sessions", "gauge", "Console sessions open now.", s.sessions_active);
	one(t, "console_sessions_total", "counter", "Console sessions accepted.", s.sessions_total);
	one(t, "console_sessions_refused_total", "counter",
	    "Console connections refused (console.max sessions already).", s.sessions_refused);
	one(t, "console_handshakes_failed_total", "counter",
	    "Console TLS handshakes that failed (wrong key, unknown identity, garbage).",
	    s.handshakes_failed);
	one(t, "console_sessions_timed_out_total", "counter", "Console sessions ended for idling.",
	    s.sessions_timed_out);
	family(t, "console_commands_total", "counter", "Console commands answered, by result.");
	put(t, "shoal_console_commands_total{result=\"ok\"} %llu\n",
	    (unsigned long long)(s.commands - s.commands_failed));
	put(t, "shoal_console_commands_total{result=\"err\"} %llu\n",
	    (unsigned long long)s.commands_failed);
	one(t, "console_uploads_total", "counter", "Programs uploaded through the console.",
	    s.uploads);
}

char *metrics_render(size_t *len)
{
	struct text t = {.p = kmalloc(BUF_START), .cap = BUF_START};
	if (!t.p)
		return NULL;
	t.p[0] = 0;
	membership(&t);
	nics(&t);
	machine(&t);
	scheduler(&t);
	console(&t);
	if (t.oom) {
		kfree(t.p);
		return NULL;
	}
	*len = t.len;
	return t.p;
}

/* --- HTTP -------------------------------------------------------------------------------- */

static uint64_t now_ms(void) { return time_ns() / NS_PER_MS; }

static void reply(int s, const char *status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = ksnprintf(head, sizeof head,
			  "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			  "Connection: close\r\n\r\n",
			  status, type, len);
	ksock_send_all(s, head, (size_t)n, now_ms() + METRICS_TIMEOUT_MS);
	ksock_send_all(s, body, len, now_ms() + METRICS_TIMEOUT_MS);
}

static void reply_text(int s, const char *status, const char *msg)
{
	reply(s, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* The request head (up to the blank line): its length, 0 when the peer closed or took
 * too long before one came, -1 when it is over METRICS_REQUEST_MAX. */
static long read_head(int s, char *buf)
{
	size_t have = 0;
	uint64_t deadline = now_ms() + METRICS_TIMEOUT_MS;
	while (now_ms() <= deadline) {
		if (have == METRICS_REQUEST_MAX)
			return -1;
		int r = lwip_recv(s, buf + have, METRICS_REQUEST_MAX - have, 0);
		if (r <= 0)
			return 0;
		have += (size_t)r;
		buf[have] = 0;
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return (long)have;
	}
	return 0;
}

int metrics_route(const char *req)
{
	size_t m = strcspn(req, " \r\n");
	if (m == 0 || req[m] != ' ')
		return 400;
	const char *path = req + m + 1;
	size_t p = strcspn(path, " \r\n");
	if (p == 0 || path[p] != ' ' || path[0] != '/')
		return 400;
	const char *ver = path + p + 1;
	if (strncmp(ver, "HTTP/1.", 7) || (ver[7] != '0' && ver[7] != '1') ||
	    (ver[8] != '\r' && ver[8] != '\n'))
		return 400;
	for (size_t i = 0; i < m; i++)
		if (req[i] < 'A' || req[i] > 'Z')
			return 400;
	if (m != 3 || strncmp(req, "GET", 3))
		return 405;
	size_t q = strcspn(path, "? ");
	if (q != strlen("/metrics") || strncmp(path, "/metrics", q))
		return 404;
	return 200;
}

static void serve(int c, char *buf)
{
	long n = read_head(c, buf);
	if (n == 0)
		return;
	int code = n < 0 ? 400 : metrics_route(buf);
	if (code == 200) {
		size_t len;
		char *body = metrics_render(&len);
		if (!body) {
			reply_text(c, "503 Service Unavailable", "out of memory\n");
			return;
		}
		reply(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, len);
		kfree(body);
	} else if (code == 404) {
		reply_text(c, "404 Not Found", "not found: only /metrics is served\n");
	} else if (code == 405) {
		reply_text(c, "405 Method Not Allowed", "only GET is served\n");
	} else {
		reply_text(c, "400 Bad Request", "bad request\n");
	}
}

static void server(void *arg)
{
	int s = (int)(long)arg;
	char *buf = kmalloc(METRICS_REQUEST_MAX + 1);
	if (!buf) {
		kerror("metrics: not started: out of memory");
		return;
	}
	for (;;) {
		struct sockaddr_in from;
		socklen_t fromlen = sizeof from;
		uint64_t t0 = now_ms();
		int c = lwip_accept(s, (struct sockaddr *)&from, &fromlen);
		if (c < 0) {
			if (now_ms() - t0 < ACCEPT_WAIT_MS / 2)
				thread_sleep_ns(ERROR_BACKOFF_MS * NS_PER_MS);
			continue;
		}
		ksock_timeout(c, SO_RCVTIMEO, METRICS_TIMEOUT_MS);
		ksock_timeout(c, SO_SNDTIMEO, METRICS_TIMEOUT_MS);
		serve(c, buf);
		lwip_close(c);
	}
}

void metrics_start(void)
{
	if (!config.metrics) {
		kinfo("metrics: off (metrics=0)");
		return;
	}
	int s = ksock_listen(INADDR_ANY, METRICS_PORT, LISTEN_BACKLOG);
	if (s == -ENFILE) {
		kerror("metrics: not started: no socket");
		return;
	}
	if (s < 0) {
		kerror("metrics: not started: cannot listen on %d", METRICS_PORT);
		return;
	}
	ksock_timeout(s, SO_RCVTIMEO, ACCEPT_WAIT_MS);
	struct thread *t = thread_create("metrics", server, (void *)(long)s, THREAD_ANY_CPU);
	if (!t) {
		lwip_close(s);
		kerror("metrics: not started: out of memory");
		return;
	}
	kinfo("metrics: listening on %d", METRICS_PORT);
	thread_start(t);
}
