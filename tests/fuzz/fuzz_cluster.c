/* fuzz_cluster.c: libFuzzer target over the cluster scheduler core (sched/cluster).
 *
 * Every input runs against a fresh core that already holds a small table (jobs,
 * instances on it and elsewhere, a drained node), so records in the input meet existing
 * ones. The first byte picks what the rest is:
 *   0  one replication message (cluster_msg_in);
 *   1  a whole state (cluster_state_in);
 *   2  a sequence of messages, each a u16 length and its bytes.
 * After the input, the core ticks, its effects are drained, every view is read, and
 * invariants are checked (violations abort()):
 *   - a record that decodes encodes back to exactly its bytes (one encoding per record);
 *   - a refused state changes nothing (no partial application);
 *   - the table's state read into a fresh core gives the same digest;
 *   - a job collected in the base state (its tombstone, CL_REC_GONE, is there) is not
 *     found again, whatever records of it the input brings.
 * On start, an empty or missing corpus directory (the first non-flag argument) is seeded
 * with valid messages and a state from a short scripted history, so tests/fuzz/run.sh
 * needs no seed generator for this target. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sched/cluster/cluster.h"
#include "sched/cluster/internal.h"

#define NAMES 3
static const char *const names[NAMES] = {"alpha", "beta", "gamma"};
static uint8_t *base; /* a state */
static size_t base_len;
static char gone_id[CLUSTER_JOB_ID_LEN + 1]; /* a job collected in the base state */
static uint8_t *seeds[256];
static size_t seed_len[256];
static int nseeds;

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_cluster: %s\n", what);
		abort();
	}
}

static struct cluster *core(const char *self)
{
	struct cluster_config cfg;
	uint8_t seed[32] = {3};
	struct cluster *c;
	cluster_config_default(&cfg);
	cfg.ended_jobs_keep = 1; /* collection runs within an input's ticks */
	cfg.ended_min_keep_ms = 1000;
	c = cluster_new(&cfg, self, seed, 1000);
	for (int i = 0; i < NAMES; i++) {
		struct cluster_node m;
		memset(&m, 0, sizeof m);
		snprintf(m.name, sizeof m.name, "%s", names[i]);
		m.tags = i ? "zone=a" : "zone=b,disk=ssd";
		m.cpus = 4;
		m.mem_mib = 2048;
		cluster_node_up(c, &m, 1000);
	}
	return c;
}

static void drain(struct cluster *c, bool keep)
{
	struct cluster_effect e;
	while (cluster_next_effect(c, &e)) {
		if (keep && (e.kind == CLUSTER_EFFECT_BROADCAST) && nseeds < 256) {
			seeds[nseeds] = malloc(e.len + 1);
			seeds[nseeds][0] = 0;
			memcpy(seeds[nseeds] + 1, e.data, e.len);
			seed_len[nseeds++] = e.len + 1;
		}
		if (e.kind == CLUSTER_EFFECT_START)
			check(e.job != NULL, "START without its job");
	}
}

/* A short history on core "alpha": the base state and the seeds. */
static void history(void)
{
	struct cluster *c = core("alpha");
	struct cluster_job_spec s;
	char id[CLUSTER_JOB_ID_LEN + 1];
	const char *why;
	struct cluster_inst in[8];
	memset(&s, 0, sizeof s);
	s.kind = CLUSTER_SERVICE;
	s.count = 3;
	s.cpu = 1;
	s.mem_mib = 256;
	s.max_retries = 2;
	snprintf(s.name, sizeof s.name, "web");
	snprintf(s.program, sizeof s.program, "/bin/echo-server");
	s.nconstraints = 1;
	snprintf(s.constraints[0], sizeof s.constraints[0], "zone=a");
	memcpy(s.argv, "echo-server\0-p\0", 15);
	s.argv_len = 15;
	cluster_submit(c, &s, "fuzz", id, &why, 1000);
	s.kind = CLUSTER_BATCH;
	s.name[0] = 0;
	s.nconstraints = 0;
	s.distinct = true;
	s.score = CLUSTER_BINPACK;
	cluster_submit(c, &s, "fuzz", id, &why, 1001);
	cluster_tick(c, 1100);
	drain(c, true);
	size_t n = cluster_job_insts(c, id, false, in, 8);
	for (size_t k = 0; k < n && k < 8; k++)
		if (!strcmp(in[k].node, "alpha")) {
			cluster_inst_started(c, &in[k], 1200);
			cluster_inst_ended(c, &in[k], CLUSTER_EXITED, k ? 0 : 1, "out\n", 4, 1300);
		}
	/* A third job, collected: a tombstone in the state and a GONE seed. */
	s.distinct = false;
	cluster_submit(c, &s, "fuzz", id, &why, 1350);
	drain(c, true);
	{
		struct cluster_job jj;
		struct rec_gone g;
		struct buf b = {0};
		memcpy(g.job, id, sizeof g.job);
		g.age_ms = 50;
		snprintf(g.writer, sizeof g.writer, "gamma");
		clw_put_hdr(&b, CL_REC_GONE);
		clw_put_gone(&b, &g);
		check(!b.err && cluster_msg_in(c, b.p, b.n, 1360) == 0, "GONE refused");
		check(!cluster_job_find(c, id, &jj), "a collected job is still found");
		memcpy(gone_id, id, sizeof gone_id);
		if (nseeds < 256) {
			seeds[nseeds] = malloc(b.n + 1);
			seeds[nseeds][0] = 0;
			memcpy(seeds[nseeds] + 1, b.p, b.n);
			seed_len[nseeds++] = b.n + 1;
		}
		clw_buf_free(&b);
	}
	cluster_drain(c, "gamma", true, "fuzz", 1400);
	cluster_scale(c, "web", 2, "fuzz", 1400);
	cluster_node_down(c, "beta", 1500);
	cluster_tick(c, 1600);
	drain(c, true);
	base = cluster_state(c, &base_len);
	cluster_free(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = NULL;
	history();
	for (int i = 1; i < *argc; i++)
		if ((*argv)[i][0] != '-') {
			dir = (*argv)[i];
			break;
		}
	if (dir && (mkdir(dir, 0755) == 0 || errno == EEXIST)) {
		char path[4096];
		FILE *f;
		snprintf(path, sizeof path, "%s/seed-state", dir);
		if ((f = fopen(path, "wb"))) {
			fputc(1, f);
			fwrite(base, 1, base_len, f);
			fclose(f);
		}
		for (int k = 0; k < nseeds; k++) {
			snprintf(path, sizeof path, "%s/seed-msg-%d", dir, k);
			if ((f = fopen(path, "wb"))) {
				fwrite(seeds[k], 1, seed_len[k], f);
				fclose(f);
			}
		}
	}
	return 0;
}

/* A message that decodes must encode back to its bytes. */
static void reencode(const uint8_t *p, size_t n)
{
	static struct cluster_job_spec spec;
	union rec r;
	struct buf b = {0};
	if (n < CL_HDR_LEN)
		return;
	r.spec.spec = &spec;
	if (clw_get_rec(p[3], p + CL_HDR_LEN, n - CL_HDR_LEN, &r))
		return;
	switch (p[3]) {
	case CL_REC_SPEC:
		clw_put_spec(&b, &r.spec);
		break;
	case CL_REC_CTL:
		clw_put_ctl(&b, &r.ctl);
		break;
	case CL_REC_INST:
		clw_put_inst(&b, &r.inst);
		break;
	case CL_REC_NODE:
		clw_put_node(&b, &r.node);
		break;
	case CL_REC_GONE:
		clw_put_gone(&b, &r.gone);
		break;
	}
	check(!b.err && b.n == n - CL_HDR_LEN && !memcmp(b.p, p + CL_HDR_LEN, b.n),
	      "a record does not encode back to its bytes");
	clw_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster *c, *d;
	struct cluster_job j;
	struct cluster_inst in[16];
	uint8_t *st;
	size_t len;
	uint64_t before;
	if (size < 1)
		return 0;
	c = core("beta");
	check(cluster_state_in(c, base, base_len, 2000) == 0, "base state refused");
	drain(c, false);
	switch (data[0] % 3) {
	case 0:
		reencode(data + 1, size - 1);
		cluster_msg_in(c, data + 1, size - 1, 2100);
		break;
	case 1:
		before = cluster_digest(c);
		if (cluster_state_in(c, data + 1, size - 1, 2100))
			check(cluster_digest(c) == before, "a refused state changed the table");
		break;
	case 2:
		for (size_t at = 1; at + 2 <= size;) {
			size_t n = (size_t)data[at] << 8 | data[at + 1];
			at += 2;
			if (n > size - at)
				n = size - at;
			reencode(data + at, n);
			cluster_msg_in(c, data + at, n, 2100 + at);
			drain(c, false);
			at += n;
		}
		break;
	}
	cluster_tick(c, 5000);
	drain(c, false);
	cluster_node_down(c, "gamma", 5001);
	cluster_tick(c, 20000);
	drain(c, false);
	for (size_t i = 0; cluster_job_at(c, i, &j); i++) {
		char name[40];
		size_t n = cluster_job_insts(c, j.id, true, in, 16);
		check(cluster_job_find(c, j.id, &j), "a listed job is not found");
		if (n) {
			snprintf(name, sizeof name, "%s.%u#%u", in[0].job, in[0].slot,
				 in[0].attempt);
			check(cluster_inst_find(c, name, &in[1]), "a listed instance is not found");
		}
	}
	check(!cluster_job_find(c, gone_id, &j), "a collected job came back");
	st = cluster_state(c, &len);
	if (st) {
		d = core("gamma");
		check(cluster_state_in(d, st, len, 3000) == 0, "own state refused");
		check(cluster_digest(d) == cluster_digest(c), "state round trip changed the table");
		cluster_free(d);
		free(st);
	}
	cluster_free(c);
	return 0;
}
