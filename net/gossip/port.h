/* port.h: what the gossip core needs from wherever it runs, and nothing else. The kernel
 * implements it in net/members.c; host builds (unit tests, fuzzer, simulator) in
 * tests/host/gossip_port.c. */
#ifndef NET_GOSSIP_PORT_H
#define NET_GOSSIP_PORT_H

#include <stddef.h>

/* Memory: NULL when out of memory (the core then drops what it was doing and counts it). */
void *gossip_port_alloc(size_t size);
void gossip_port_free(void *p);

/* A NUL-terminated copy of s[0..n) that may be shared with other holders of an equal
 * string (the simulator keeps one copy of each member name for all its nodes); NULL when
 * out of memory. Each intern is matched by one release. */
const char *gossip_port_intern(const char *s, size_t n);
void gossip_port_release(const char *s);

#endif
