/* gossip_port.c: net/gossip/port.h for host builds (unit tests, fuzzer, simulator).
 *
 * Memory is malloc's. Interned strings live in one global hash table of reference-counted
 * entries, so the simulator's thousands of cores share one copy of each member name; an
 * entry is freed when its last holder releases it. Single-threaded, like its users. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/gossip/port.h"

#define BUCKETS_MIN 64 /* the table doubles whenever entries outnumber buckets */

struct ent {
	struct ent *next;
	size_t refs, len;
	uint32_t hash;
	char s[]; /* len bytes and a NUL */
};

static struct ent **tab;
static size_t nbuckets, nents;

void *gossip_port_alloc(size_t size) { return malloc(size ? size : 1); }

void gossip_port_free(void *p) { free(p); }

/* FNV-1a: short names, any bytes. */
static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static int grow(void)
{
	size_t n = nbuckets ? nbuckets * 2 : BUCKETS_MIN, i;
	struct ent **t = calloc(n, sizeof *t), *e, *next;

	if (!t)
		return -1;
	for (i = 0; i < nbuckets; i++)
		for (e = tab[i]; e; e = next) {
			next = e->next;
			e->next = t[e->hash & (n - 1)];
			t[e->hash & (n - 1)] = e;
		}
	free(tab);
	tab = t;
	nbuckets = n;
	return 0;
}

const char *gossip_port_intern(const char *s, size_t n)
{
	uint32_t h = hash(s, n);
	struct ent *e;

	if (nents >= nbuckets && grow() < 0 && !tab)
		return NULL; /* a failed grow later only makes chains longer */
	for (e = tab[h & (nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && e->len == n && memcmp(e->s, s, n) == 0) {
			e->refs++;
			return e->s;
		}
	e = malloc(sizeof *e + n + 1);
	if (!e)
		return NULL;
	memcpy(e->s, s, n);
	e->s[n] = 0;
	e->len = n;
	e->hash = h;
	e->refs = 1;
	e->next = tab[h & (nbuckets - 1)];
	tab[h & (nbuckets - 1)] = e;
	nents++;
	return e->s;
}

void gossip_port_release(const char *s)
{
	struct ent *e, **pp;

	if (!s)
		return;
	e = (struct ent *)(s - offsetof(struct ent, s));
	if (--e->refs)
		return;
	for (pp = &tab[e->hash & (nbuckets - 1)]; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	nents--;
	free(e);
}
