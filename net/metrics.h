/* metrics.h: the node's Prometheus endpoint: HTTP GET /metrics on TCP METRICS_PORT, text
 * exposition format 0.0.4 (every family with its HELP and TYPE lines).
 *
 * What it shows (names prefixed shoal_): membership by state and gossip traffic
 * (net/members.h), NIC counters (drivers/netdev.h), memory (kernel/pmm.h), CPU idle and
 * busy time per CPU, tasks, the cluster's jobs by state and placements (sched/agent.h,
 * when the scheduler runs), and the console's sessions and failed handshakes.
 *
 * HTTP: one request per connection (HTTP/1.0 and 1.1; the reply closes it). GET /metrics
 * (a query string is ignored) -> 200; any other path -> 404; another method -> 405; a
 * request line that does not parse, or a head over METRICS_REQUEST_MAX bytes -> 400.
 * The request must arrive within METRICS_TIMEOUT_MS; connections are served one at a time.
 *
 * Serial line: `metrics: listening on 9100` (or `metrics: off (metrics=0)`). */
#ifndef NET_METRICS_H
#define NET_METRICS_H

#include <stddef.h>

#define METRICS_PORT 9100
#define METRICS_REQUEST_MAX 4096 /* bytes of request line and headers */
#define METRICS_TIMEOUT_MS 3000	 /* the whole request in, and each send of the reply */

/* Listen on its own thread (unless metrics=0). Call once, after net_init. */
void metrics_start(void);

/* The exposition text into a new kernel-heap buffer of *len bytes (NUL-terminated), or
 * NULL when out of memory. For the HTTP server and self-tests. */
char *metrics_render(size_t *len);

/* The status a request head (NUL-terminated) gets: 200 for GET /metrics, 404 (another
 * path), 405 (another method) or 400 (a request line that does not parse). */
int metrics_route(const char *req);

#endif
