/* sources: sched/cluster/cluster.c sched/cluster/table.c sched/cluster/merge.c sched/cluster/place.c sched/cluster/view.c sched/cluster/wire.c sched/cluster/mem.c sched/cluster/gc.c */
/* test_gc.c: collection of ended jobs (sched/cluster/gc.c) over a few cores wired together:
 * the keep count and the minimum age, tombstones beating late records and push-pull from
 * a replica that still holds the job, memory given back (table counts), tombstone expiry,
 * and the bound on a service's old attempts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/sched/cluster/test_cluster_net.h"

#define GC_PASS_MS (CL_GC_EVERY_MS + 1000) /* long enough for one GC pass everywhere */

static struct cluster_config gc_cfg(uint32_t keep, uint32_t min_ms)
{
	struct cluster_config cfg = net_cfg();
	cfg.ended_jobs_keep = keep;
	cfg.ended_min_keep_ms = min_ms;
	return cfg;
}

static bool has_job(struct net *w, int i, const char *id)
{
	struct cluster_job j;
	return cluster_job_find(w->c[i], id, &j);
}

static int coord_of(struct net *w, int i, const char *job)
{
	struct cluster_job j;
	assert_true(cluster_job_find(w->c[i], job, &j));
	return net_find(w, j.coordinator);
}

/* Deliver message bytes to every up core; how many refused them. */
static int deliver_all(struct net *w, const uint8_t *p, size_t n)
{
	int bad = 0;
	for (int i = 0; i < w->n; i++)
		if (w->up[i] && cluster_msg_in(w->c[i], p, n, w->now))
			bad++;
	net_pump(w);
	return bad;
}

/* The newest ended_jobs_keep ended jobs stay, and none goes before its minimum age. */
static void keep_count_and_min_age(void **state)
{
	struct cluster_config cfg = gc_cfg(2, 10000);
	struct net w;
	struct cluster_job_spec s;
	char id[5][16];
	net_init_cfg(&w, 3, 8, 8192, &cfg);
	spec_init(&s, CLUSTER_BATCH, 1, 1, 64);
	for (int k = 0; k < 5; k++)
		net_submit(&w, k % 3, &s, id[k]);
	net_run(&w, 500);
	for (int k = 0; k < 5; k++) {
		net_exit_job(&w, id[k], 0);
		net_run(&w, 1000); /* ended one after another */
	}
	net_run(&w, 3000); /* the oldest ended 8 s ago: under the minimum age */
	for (int i = 0; i < 3; i++) {
		for (int k = 0; k < 5; k++)
			assert_true(has_job(&w, i, id[k]));
		assert_int_equal(cluster_job_count(w.c[i]), 5);
		assert_int_equal(cluster_stats(w.c[i])->tombstones, 0);
	}
	net_run(&w, 20000);
	for (int i = 0; i < 3; i++) {
		const struct cluster_stats *st = cluster_stats(w.c[i]);
		for (int k = 0; k < 3; k++)
			assert_false(has_job(&w, i, id[k]));
		assert_true(has_job(&w, i, id[3]));
		assert_true(has_job(&w, i, id[4]));
		assert_int_equal(cluster_job_count(w.c[i]), 2);
		assert_int_equal(cluster_inst_total(w.c[i]), 2); /* memory handed back */
		assert_int_equal(st->tombstones, 3);
		assert_int_equal(st->jobs_collected, 3);
	}
	assert_true(all_digests_equal(&w));
	net_free(&w);
}

/* A stopped service is ended once its instances stopped; after collection, every record
 * of it that arrives again (here: every broadcast it ever made) is ignored. */
static void tombstone_beats_late_records(void **state)
{
	struct cluster_config cfg = gc_cfg(0, 1000);
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	uint64_t d[3];
	net_init_cfg(&w, 3, 8, 8192, &cfg);
	w.record = true;
	spec_init(&s, CLUSTER_SERVICE, 2, 1, 64);
	net_submit(&w, 0, &s, id);
	net_run(&w, 500);
	assert_int_equal(count_state(&w, 1, id, CLUSTER_RUNNING), 2);
	assert_int_equal(cluster_scale(w.c[1], id, 3, "t", w.now), 0); /* a CTL record too */
	net_pump(&w);
	net_run(&w, 500);
	assert_int_equal(cluster_stop(w.c[1], id, "t", w.now), 0);
	net_pump(&w);
	net_run(&w, 500);
	assert_true(has_job(&w, 2, id)); /* stopped, still shown */
	net_run(&w, 2 * GC_PASS_MS);
	for (int i = 0; i < 3; i++) {
		assert_false(has_job(&w, i, id));
		assert_int_equal(cluster_inst_total(w.c[i]), 0);
		assert_int_equal(cluster_job_count(w.c[i]), 0);
		d[i] = cluster_digest(w.c[i]);
	}
	assert_int_equal(tasks_on(&w, 0, NULL) + tasks_on(&w, 1, NULL) + tasks_on(&w, 2, NULL), 0);
	w.record = false;
	for (int k = 0; k < w.nlog; k++)
		assert_int_equal(deliver_all(&w, w.log[k], w.loglen[k]), 0);
	net_run(&w, 2 * GC_PASS_MS);
	for (int i = 0; i < 3; i++) {
		assert_false(has_job(&w, i, id));
		assert_true(cluster_stats(w.c[i])->gone_ignored > 0);
		assert_int_equal(cluster_digest(w.c[i]), d[i]);
		assert_int_equal(cluster_inst_total(w.c[i]), 0);
		assert_int_equal(tasks_on(&w, i, NULL), 0); /* nothing started again */
	}
	net_free(&w);
}

/* Push-pull from a replica that missed the tombstone does not bring the job back, and
 * that replica drops the job once it hears of the tombstone. */
static void antientropy_does_not_resurrect(void **state)
{
	struct cluster_config cfg = gc_cfg(0, 1000);
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	uint64_t d0;
	size_t len;
	uint8_t *st;
	net_init_cfg(&w, 3, 8, 8192, &cfg);
	spec_init(&s, CLUSTER_BATCH, 1, 1, 64);
	do { /* a job that core 2 does not coordinate, so that it cannot collect it itself */
		net_submit(&w, 0, &s, id);
		net_run(&w, 300);
		net_exit_job(&w, id, 0);
	} while (coord_of(&w, 0, id) == 2);
	w.mute[2] = true;
	net_run(&w, 2 * GC_PASS_MS);
	assert_false(has_job(&w, 0, id));
	assert_false(has_job(&w, 1, id));
	assert_true(has_job(&w, 2, id));
	d0 = cluster_digest(w.c[0]);
	/* core 2's whole table into the others: ignored for the collected job */
	st = cluster_state(w.c[2], &len);
	assert_non_null(st);
	assert_int_equal(cluster_state_in(w.c[0], st, len, w.now), 0);
	assert_int_equal(cluster_state_in(w.c[1], st, len, w.now), 0);
	free(st);
	net_pump(&w);
	assert_false(has_job(&w, 0, id));
	assert_false(has_job(&w, 1, id));
	assert_true(cluster_stats(w.c[0])->gone_ignored > 0);
	assert_int_equal(cluster_digest(w.c[0]), d0);
	/* and the other way: core 2 learns the tombstone */
	w.mute[2] = false;
	st = cluster_state(w.c[0], &len);
	assert_int_equal(cluster_state_in(w.c[2], st, len, w.now), 0);
	free(st);
	net_pump(&w);
	assert_false(has_job(&w, 2, id));
	net_run(&w, GC_PASS_MS);
	assert_true(all_digests_equal(&w));
	for (int i = 0; i < 3; i++)
		assert_int_equal(cluster_inst_total(w.c[i]), 0);
	net_free(&w);
}

static size_t gone_msg(uint8_t *out, const char *job, uint64_t age, const char *writer)
{
	struct buf b = {0};
	struct rec_gone r;
	size_t n;
	memcpy(r.job, job, sizeof r.job);
	r.age_ms = age;
	snprintf(r.writer, sizeof r.writer, "%s", writer);
	clw_put_hdr(&b, CL_REC_GONE);
	clw_put_gone(&b, &r);
	assert_false(b.err);
	n = b.n;
	memcpy(out, b.p, n);
	clw_buf_free(&b);
	return n;
}

/* Tombstones expire after tombstone_keep_ms everywhere, and one already that old is not
 * taken back; a malformed one is refused. */
static void tombstones_expire(void **state)
{
	struct cluster_config cfg = gc_cfg(0, 1000);
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	uint8_t m[128];
	size_t n;
	cfg.tombstone_keep_ms = 30000;
	net_init_cfg(&w, 3, 8, 8192, &cfg);
	spec_init(&s, CLUSTER_BATCH, 1, 1, 64);
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	net_exit_job(&w, id, 0);
	net_run(&w, 2 * GC_PASS_MS);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cluster_stats(w.c[i])->tombstones, 1);
	net_run(&w, 30000);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cluster_stats(w.c[i])->tombstones, 0);
		assert_int_equal(cluster_stats(w.c[i])->tombstones_expired, 1);
	}
	assert_true(all_digests_equal(&w));
	n = gone_msg(m, id, 30000, "n1"); /* as old as the keep time: ignored */
	assert_int_equal(deliver_all(&w, m, n), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cluster_stats(w.c[i])->tombstones, 0);
	n = gone_msg(m, "j012345678", 1000, "n1"); /* young: held, and ages out too */
	assert_int_equal(deliver_all(&w, m, n), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cluster_stats(w.c[i])->tombstones, 1);
	net_run(&w, 30000 + GC_PASS_MS); /* expiry is looked at every CL_GC_EVERY_MS */
	for (int i = 0; i < 3; i++)
		assert_int_equal(cluster_stats(w.c[i])->tombstones, 0);
	m[n - 3] = 0; /* the writer's length 2 -> 0: an empty writer is malformed */
	assert_int_equal(cluster_msg_in(w.c[0], m, n - 2, w.now), -EBADMSG);
	assert_int_equal(cluster_stats(w.c[0])->tombstones, 0);
	net_free(&w);
}

/* Two tombstones of one job (two coordinators) merge to one, the same everywhere. */
static void tombstones_merge(void **state)
{
	struct net w;
	uint8_t m1[128], m2[128];
	size_t n1, n2;
	uint64_t d;
	net_init(&w, 2, 8, 8192);
	n1 = gone_msg(m1, "j00000000a", 10, "n0");
	n2 = gone_msg(m2, "j00000000a", 20, "n1");
	assert_int_equal(cluster_msg_in(w.c[0], m1, n1, w.now), 0);
	assert_int_equal(cluster_msg_in(w.c[0], m2, n2, w.now), 0);
	assert_int_equal(cluster_msg_in(w.c[1], m2, n2, w.now), 0);
	assert_int_equal(cluster_msg_in(w.c[1], m1, n1, w.now), 0);
	d = cluster_digest(w.c[0]);
	assert_int_equal(cluster_digest(w.c[1]), d);
	assert_int_equal(cluster_stats(w.c[0])->tombstones, 1);
	net_free(&w);
}

/* A service that restarts over and over keeps only its newest attempts per slot; records
 * of the dropped ones arriving again are ignored. */
static void service_attempts_bounded(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	struct cluster_inst in[64];
	char id[16];
	uint64_t d;
	net_init(&w, 3, 8, 8192);
	w.record = true;
	spec_init(&s, CLUSTER_SERVICE, 1, 1, 64);
	net_submit(&w, 0, &s, id);
	net_run(&w, 500);
	for (int k = 0; k < 10; k++) {
		assert_int_equal(tasks_on(&w, 0, id) + tasks_on(&w, 1, id) + tasks_on(&w, 2, id),
				 1);
		net_exit_job(&w, id, 1);
		net_run(&w, 1500);
	}
	w.record = false;
	net_run(&w, GC_PASS_MS);
	for (int i = 0; i < 3; i++) {
		size_t n = cluster_job_insts(w.c[i], id, true, in, 64);
		assert_true(n <= CL_ATTEMPTS_KEEP);
		assert_int_equal(in[n - 1].attempt, 10);
		assert_int_equal(cluster_inst_total(w.c[i]), n);
		assert_int_equal(count_state(&w, i, id, CLUSTER_RUNNING), 1);
		assert_true(cluster_stats(w.c[i])->attempts_dropped >= 10 - CL_ATTEMPTS_KEEP);
	}
	assert_true(all_digests_equal(&w));
	d = cluster_digest(w.c[0]);
	for (int k = 0; k < w.nlog; k++)
		assert_int_equal(deliver_all(&w, w.log[k], w.loglen[k]), 0);
	net_run(&w, GC_PASS_MS);
	assert_true(cluster_stats(w.c[0])->attempts_ignored > 0);
	assert_int_equal(cluster_digest(w.c[0]), d);
	assert_true(all_digests_equal(&w));
	for (int i = 0; i < 3; i++) {
		assert_true(cluster_job_insts(w.c[i], id, true, in, 64) <= CL_ATTEMPTS_KEEP);
		assert_int_equal(count_state(&w, i, id, CLUSTER_RUNNING), 1);
	}
	assert_int_equal(tasks_on(&w, 0, id) + tasks_on(&w, 1, id) + tasks_on(&w, 2, id), 1);
	net_free(&w);
}

/* A node cut off while its batch instance was re-placed and completed elsewhere still
 * runs it when the job is collected: the tombstone reaching it after the heal kills the
 * task, and nothing of the job comes back. */
static void tombstone_kills_leftover_task(void **state)
{
	struct cluster_config cfg = gc_cfg(0, 1000);
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	int x = -1;
	net_init_cfg(&w, 3, 8, 8192, &cfg);
	spec_init(&s, CLUSTER_BATCH, 1, 1, 64);
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	for (int i = 0; i < 3; i++)
		if (tasks_on(&w, i, id))
			x = i;
	assert_true(x >= 0);
	net_partition(&w, 1u << x);
	net_run(&w, 1000); /* the main side re-places it... */
	for (int t = 0; t < w.ntasks; t++)
		if (w.task[t].core != x && !strcmp(w.task[t].inst.job, id)) {
			net_exit(&w, t, 0); /* ...and it completes there */
			break;
		}
	net_run(&w, 2 * GC_PASS_MS);
	assert_false(has_job(&w, (x + 1) % 3, id));
	assert_int_equal(tasks_on(&w, x, id), 1); /* still running on the cut-off node */
	net_heal(&w);
	net_run(&w, 2 * GC_PASS_MS);
	assert_int_equal(tasks_on(&w, x, id), 0);
	for (int i = 0; i < 3; i++) {
		assert_false(has_job(&w, i, id));
		assert_int_equal(cluster_inst_total(w.c[i]), 0);
	}
	assert_true(all_digests_equal(&w));
	net_free(&w);
}

/* Compaction leaves the tails array at exactly its size (here 1): it must still grow, and
 * tails stay with their instances. */
static void tails_survive_compaction(void **state)
{
	struct cluster_config cfg = gc_cfg(1, 1000);
	struct net w;
	struct cluster_job_spec s;
	struct cluster_inst in;
	char id[3][16], name[32];
	net_init_cfg(&w, 2, 8, 8192, &cfg);
	spec_init(&s, CLUSTER_BATCH, 1, 1, 64);
	for (int k = 0; k < 3; k++) {
		net_submit(&w, 0, &s, id[k]);
		net_run(&w, 300);
		net_exit_job(&w, id[k], 0); /* every exit leaves the tail "bye\n" */
		net_run(&w, 2 * GC_PASS_MS);
		assert_int_equal(cluster_job_count(w.c[1]), 1);
		snprintf(name, sizeof name, "%s.0", id[k]);
		assert_true(cluster_inst_find(w.c[1], name, &in));
		assert_int_equal(in.tail_len, 4);
		assert_memory_equal(in.tail, "bye\n", 4);
	}
	assert_true(all_digests_equal(&w));
	net_free(&w);
}

/* Live jobs are never collected, however many there are. */
static void live_jobs_stay(void **state)
{
	struct cluster_config cfg = gc_cfg(0, 0);
	struct net w;
	struct cluster_job_spec s;
	char id[4][16];
	net_init_cfg(&w, 2, 8, 8192, &cfg);
	spec_init(&s, CLUSTER_SERVICE, 1, 1, 64);
	for (int k = 0; k < 4; k++)
		net_submit(&w, 0, &s, id[k]);
	net_run(&w, 3 * GC_PASS_MS);
	for (int k = 0; k < 4; k++)
		assert_int_equal(count_state(&w, 1, id[k], CLUSTER_RUNNING), 1);
	assert_int_equal(cluster_stats(w.c[0])->tombstones, 0);
	net_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keep_count_and_min_age),
		cmocka_unit_test(tombstone_beats_late_records),
		cmocka_unit_test(antientropy_does_not_resurrect),
		cmocka_unit_test(tombstones_expire),
		cmocka_unit_test(tombstones_merge),
		cmocka_unit_test(service_attempts_bounded),
		cmocka_unit_test(tombstone_kills_leftover_task),
		cmocka_unit_test(tails_survive_compaction),
		cmocka_unit_test(live_jobs_stay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
