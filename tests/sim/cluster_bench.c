/* cluster_bench.c: placement throughput of the sched/cluster core, Nomad C1M's setting.
 *
 * One core coordinates every job (cluster_coordinate_all: the work all coordinators
 * would share, done on one CPU) over N alive nodes; J jobs of K instances each are
 * submitted one after another, and after each submission the core ticks (placing the
 * job) and its effects are drained, as the agent would. The figure is the CPU time of
 * this process (CLOCK_PROCESS_CPUTIME_ID) over submissions, ticks and draining, for
 * J x K placements, and the rate. Then the table is encoded once for push-pull and read
 * back into a second core (the size and time of a whole-state exchange at that scale).
 * Prints key=value lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/cluster/cluster.h"
#include "sched/cluster/internal.h"

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmHWM:", 6))
			v = atol(line + 6);
	if (f)
		fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	uint32_t nodes = 5000, jobs = 1000, per = 1000;
	struct cluster_config cfg;
	uint8_t seed[32] = {42};
	struct cluster *c, *d;
	struct cluster_effect e;
	uint64_t now = 1000, effects = 0, bytes = 0;
	double t0, t1, t2, t3;
	size_t len;
	uint8_t *st;
	uint32_t unplaced = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--nodes"))
			nodes = (uint32_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--jobs"))
			jobs = (uint32_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--per-job"))
			per = (uint32_t)atoi(argv[i + 1]);
	}
	cluster_config_default(&cfg);
	c = cluster_new(&cfg, "coordinator", seed, now);
	if (!c)
		return 2;
	for (uint32_t n = 0; n < nodes; n++) {
		struct cluster_node m;
		char tags[32];
		memset(&m, 0, sizeof m);
		snprintf(m.name, sizeof m.name, "node-%05u", n);
		snprintf(tags, sizeof tags, "zone=z%u,rack=r%u", n % 4, n % 50);
		m.tags = tags;
		m.cpus = 256;
		m.mem_mib = 65536;
		cluster_node_up(c, &m, now);
	}
	cluster_coordinate_all(c, true);
	t0 = cpu_s();
	for (uint32_t j = 0; j < jobs; j++) {
		struct cluster_job_spec s;
		char id[CLUSTER_JOB_ID_LEN + 1];
		const char *why;
		memset(&s, 0, sizeof s);
		s.kind = j % 2 ? CLUSTER_BATCH : CLUSTER_SERVICE;
		s.count = per;
		s.cpu = 1;
		s.mem_mib = 128;
		s.max_retries = 3;
		s.score = j % 4 == 3 ? CLUSTER_BINPACK : CLUSTER_SPREAD;
		if (j % 10 == 5) {
			s.nconstraints = 1;
			snprintf(s.constraints[0], sizeof s.constraints[0], "zone=z%u", j % 4);
		}
		snprintf(s.program, sizeof s.program, "/bin/hello");
		memcpy(s.argv, "hello\0", 6);
		s.argv_len = 6;
		if (cluster_submit(c, &s, "bench", id, &why, now)) {
			fprintf(stderr, "submit: %s\n", why ? why : "?");
			return 2;
		}
		now += 1;
		cluster_tick(c, now);
		while (cluster_next_effect(c, &e)) {
			effects++;
			bytes += e.len;
		}
	}
	/* one more tick: every job reconciled again, nothing left to place */
	now += cfg.tick_ms;
	cluster_tick(c, now);
	while (cluster_next_effect(c, &e))
		effects++;
	t1 = cpu_s();
	{
		uint64_t active = 0;
		for (uint32_t n = 0; n < nodes; n++) {
			char name[CLUSTER_NAME_MAX + 1];
			uint32_t k;
			snprintf(name, sizeof name, "node-%05u", n);
			cluster_node_load(c, name, &k, NULL, NULL);
			active += k;
		}
		unplaced = (uint32_t)((uint64_t)jobs * per - active);
	}
	t2 = cpu_s();
	st = cluster_state(c, &len);
	d = cluster_new(&cfg, "replica", seed, now);
	if (!st || !d || cluster_state_in(d, st, len, now))
		return 2;
	t3 = cpu_s();
	printf("nodes=%u\njobs=%u\ninstances=%llu\n", nodes, jobs,
	       (unsigned long long)cluster_inst_total(c));
	printf("placements=%llu\nunplaced=%u\n", (unsigned long long)cluster_stats(c)->placements,
	       unplaced);
	printf("place_cpu_s=%.2f\nplacements_per_s=%.0f\n", t1 - t0,
	       (double)cluster_stats(c)->placements / (t1 - t0));
	printf("effects=%llu\neffect_bytes_mean=%.0f\n", (unsigned long long)effects,
	       effects ? (double)bytes / (double)effects : 0.0);
	printf("state_bytes=%zu\nstate_encode_apply_cpu_s=%.2f\n", len, t3 - t2);
	printf("digests_equal=%d\n", cluster_digest(c) == cluster_digest(d));
	printf("max_rss_mib=%ld\n", rss_kib() / 1024);
	free(st);
	cluster_free(c);
	cluster_free(d);
	return 0;
}
