/* sources: sched/cluster/cluster.c sched/cluster/table.c sched/cluster/merge.c sched/cluster/place.c sched/cluster/view.c sched/cluster/wire.c sched/cluster/mem.c sched/cluster/gc.c */
/* test_merge.c: replication. The same updates in any order, any number of times, give the
 * same table (messages and whole states); garbage, truncated and bit-flipped input is
 * refused with -EBADMSG, counted, and never partly applied; records round-trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/sched/cluster/test_cluster_net.h"

static uint64_t rnd = 88172645463325252ull;
static uint64_t xs(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

static struct cluster *fresh(const char *name)
{
	struct cluster_config cfg;
	uint8_t seed[32] = {7};
	cluster_config_default(&cfg);
	return cluster_new(&cfg, name, seed, 5);
}

/* A busy history: jobs, scale, stop, drain, failures, a crash and a partition. */
static void history(struct net *w)
{
	struct cluster_job_spec s;
	char id[16], id2[16], id3[16];
	net_init(w, 5, 4, 4096);
	w->record = true;
	spec_init(&s, CLUSTER_SERVICE, 4, 1, 100);
	snprintf(s.name, sizeof s.name, "svc");
	net_submit(w, 0, &s, id);
	spec_init(&s, CLUSTER_BATCH, 3, 1, 200);
	net_submit(w, 1, &s, id2);
	net_run(w, 300);
	net_exit_job(w, id2, 1);
	net_run(w, 300);
	net_exit_job(w, id2, 0);
	assert_int_equal(cluster_scale(w->c[2], "svc", 6, "x", w->now), 0);
	net_pump(w);
	net_run(w, 300);
	assert_int_equal(cluster_drain(w->c[3], "n4", true, "x", w->now), 0);
	net_pump(w);
	net_run(w, 300);
	net_partition(w, 0x3);
	spec_init(&s, CLUSTER_SERVICE, 2, 1, 100);
	net_submit(w, 3, &s, id3);
	assert_int_equal(cluster_scale(w->c[0], "svc", 2, "x", w->now), 0);
	net_pump(w);
	net_crash(w, 2);
	net_run(w, 500);
	net_heal(w);
	net_run(w, 1500);
	assert_int_equal(cluster_stop(w->c[1], id3, "x", w->now), 0);
	net_pump(w);
	net_run(w, 500);
}

static void messages_commute(void **state)
{
	struct net w;
	uint64_t ref;
	int order[4096];
	history(&w);
	assert_true(w.nlog > 50);
	/* the history's own replicas agree */
	assert_true(all_digests_equal(&w));
	ref = cluster_digest(w.c[0]);
	for (int round = 0; round < 6; round++) {
		struct cluster *c = fresh("observer");
		for (int k = 0; k < w.nlog; k++)
			order[k] = k;
		if (round == 1)
			for (int k = 0; k < w.nlog; k++)
				order[k] = w.nlog - 1 - k;
		if (round >= 2)
			for (int k = w.nlog - 1; k > 0; k--) {
				int r = (int)(xs() % (uint64_t)(k + 1)), t = order[k];
				order[k] = order[r];
				order[r] = t;
			}
		for (int k = 0; k < w.nlog; k++) {
			assert_int_equal(cluster_msg_in(c, w.log[order[k]], w.loglen[order[k]], 9),
					 0);
			if (round == 3) /* twice: idempotent */
				cluster_msg_in(c, w.log[order[k]], w.loglen[order[k]], 9);
		}
		assert_true(cluster_digest(c) == ref);
		assert_int_equal(cluster_stats(c)->msgs_bad, 0);
		cluster_free(c);
	}
	net_free(&w);
}

static void states_merge(void **state)
{
	struct net w;
	uint64_t ref;
	size_t la, lb, l2;
	uint8_t *a, *b, *s2;
	struct cluster *x, *y;
	struct cluster_job j;
	history(&w);
	ref = cluster_digest(w.c[0]);
	a = cluster_state(w.c[0], &la);
	assert_non_null(a);
	x = fresh("observer");
	assert_int_equal(cluster_state_in(x, a, la, 1), 0);
	assert_true(cluster_digest(x) == ref);
	assert_int_equal(cluster_state_in(x, a, la, 2), 0);
	assert_true(cluster_digest(x) == ref);
	/* its own state says the same again */
	s2 = cluster_state(x, &l2);
	assert_int_equal(l2, la);
	free(s2);
	assert_true(cluster_job_find(x, "svc", &j));
	assert_int_equal(j.count, 2);
	/* two halves of the history merged either way round */
	y = fresh("observer2");
	for (int k = 0; k < w.nlog / 2; k++)
		cluster_msg_in(y, w.log[k], w.loglen[k], 3);
	b = cluster_state(y, &lb);
	cluster_free(y);
	y = fresh("observer3");
	for (int k = w.nlog / 2; k < w.nlog; k++)
		cluster_msg_in(y, w.log[k], w.loglen[k], 3);
	assert_int_equal(cluster_state_in(y, b, lb, 4), 0);
	assert_true(cluster_digest(y) == ref);
	cluster_free(y);
	y = fresh("observer4");
	assert_int_equal(cluster_state_in(y, b, lb, 4), 0);
	for (int k = w.nlog - 1; k >= w.nlog / 2; k--)
		cluster_msg_in(y, w.log[k], w.loglen[k], 3);
	assert_true(cluster_digest(y) == ref);
	cluster_free(y);
	free(a);
	free(b);
	cluster_free(x);
	net_free(&w);
}

static void garbage_is_refused(void **state)
{
	struct net w;
	struct cluster *c = fresh("observer");
	uint8_t junk[1500];
	uint64_t d0;
	size_t len;
	uint8_t *st;
	int bad = 0;
	history(&w);
	/* random bytes, with and without a valid header */
	for (int k = 0; k < 2000; k++) {
		size_t n = xs() % sizeof junk;
		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)xs();
		if (k & 1 && n >= 4) {
			junk[0] = 'C';
			junk[1] = 'L';
			junk[2] = 1;
			junk[3] = (uint8_t)(1 + xs() % 4);
		}
		if (cluster_msg_in(c, junk, n, 1) == -EBADMSG)
			bad++;
		assert_int_equal(cluster_state_in(c, junk, n, 1), -EBADMSG);
	}
	assert_true(bad > 1990);
	assert_int_equal(cluster_stats(c)->msgs_bad, (uint64_t)bad);
	assert_int_equal(cluster_stats(c)->states_bad, 2000);
	assert_int_equal(cluster_job_count(c), 0);
	/* every truncation of every logged message is refused */
	for (int k = 0; k < w.nlog; k += 3)
		for (size_t n = 0; n < w.loglen[k]; n++)
			assert_int_equal(cluster_msg_in(c, w.log[k], n, 1), -EBADMSG);
	/* a message one byte longer, too */
	memcpy(junk, w.log[0], w.loglen[0]);
	junk[w.loglen[0]] = 0;
	assert_int_equal(cluster_msg_in(c, junk, w.loglen[0] + 1, 1), -EBADMSG);
	assert_int_equal(cluster_job_count(c), 0);
	/* bit flips: refused, or accepted as some other valid record; never a crash */
	for (int k = 0; k < w.nlog; k += 7) {
		for (int f = 0; f < 20; f++) {
			size_t n = w.loglen[k];
			memcpy(junk, w.log[k], n);
			junk[xs() % n] ^= (uint8_t)(1u << (xs() % 8));
			(void)cluster_msg_in(c, junk, n, 1);
		}
	}
	cluster_free(c);
	/* a state cut anywhere or with one byte changed is not applied at all */
	st = cluster_state(w.c[0], &len);
	c = fresh("observer");
	d0 = cluster_digest(c);
	for (size_t n = 0; n < len; n += 1 + n / 50) {
		assert_int_equal(cluster_state_in(c, st, n, 1), -EBADMSG);
		assert_true(cluster_digest(c) == d0);
	}
	st[len - 3] = 0xff; /* the last record's tail length or body */
	st[4] = 0x7f;	    /* and the record count */
	assert_int_equal(cluster_state_in(c, st, len, 1), -EBADMSG);
	assert_true(cluster_digest(c) == d0);
	free(st);
	cluster_free(c);
	net_free(&w);
}

static void records_round_trip(void **state)
{
	struct cluster_job_spec s, got;
	struct rec_spec r = {.submitted_ms = 42, .by = "alice", .on = "n1"};
	union rec u;
	struct buf b = {0};
	spec_init(&s, CLUSTER_SERVICE, 7, 2, 300);
	snprintf(s.name, sizeof s.name, "web-1");
	s.score = CLUSTER_BINPACK;
	s.distinct = true;
	s.nconstraints = 2;
	snprintf(s.constraints[0], sizeof s.constraints[0], "zone=a");
	snprintf(s.constraints[1], sizeof s.constraints[1], "disk=ssd");
	s.has_blob = true;
	memset(s.blob_sha256, 0xab, 32);
	memcpy(s.env, "A=1\0B=2", 8);
	s.env_len = 8;
	memcpy(r.job, "j0123456789", 10);
	r.job[10] = 0;
	memcpy(r.job, "j012345678", 11);
	r.spec = &s;
	clw_put_spec(&b, &r);
	u.spec.spec = &got;
	assert_int_equal(clw_get_rec(CL_REC_SPEC, b.p, b.n, &u), 0);
	assert_string_equal(u.spec.job, "j012345678");
	assert_string_equal(u.spec.by, "alice");
	assert_int_equal(u.spec.submitted_ms, 42);
	assert_string_equal(got.name, "web-1");
	assert_int_equal(got.kind, CLUSTER_SERVICE);
	assert_int_equal(got.count, 7);
	assert_int_equal(got.cpu, 2);
	assert_int_equal(got.mem_mib, 300);
	assert_int_equal(got.score, CLUSTER_BINPACK);
	assert_true(got.distinct);
	assert_string_equal(got.constraints[1], "disk=ssd");
	assert_true(got.has_blob);
	assert_memory_equal(got.blob_sha256, s.blob_sha256, 32);
	assert_int_equal(got.env_len, 8);
	assert_memory_equal(got.argv, s.argv, s.argv_len);
	/* a bad enum or an unterminated argv in an otherwise valid record */
	b.p[10 + 8 + 1 + 5 + 1 + 2 + 1 + 5] = 9; /* kind */
	assert_int_equal(clw_get_rec(CL_REC_SPEC, b.p, b.n, &u), -EBADMSG);
	clw_buf_free(&b);
	assert_true(clw_job_id_ok("j0123abcde"));
	assert_false(clw_job_id_ok("j0123ABCDE"));
	assert_false(clw_job_id_ok("x0123abcde"));
	assert_false(clw_job_id_ok("j0123abcd"));
}

/* The README's example instance record, byte for byte. */
static void readme_example(void **state)
{
	static const uint8_t want[] = {
		0x43, 0x4c, 0x01, 0x03, 'j', '0', '1', '2', '3', 'a', 'b', 'c', 'd', 'e', 0,
		0,    0,    2,	  0,	0,   0,	  0,   2,   'n', '1', 1,   0,	0,   0,	  0,
		0,    0,    0,	  0,	0,   0,	  0,   0,   7,	 0,   0,   0,	0,   0,	  0,
		0,    9,    0,	  0,	0,   0,	  0,   0,   0,	 0,   0,   0};
	struct rec_inst r = {.job = "j0123abcde",
			     .slot = 2,
			     .node = "n1",
			     .state = CLUSTER_RUNNING,
			     .placed = 7,
			     .started = 9,
			     .tail = ""};
	struct buf b = {0};
	union rec u;
	clw_put_hdr(&b, CL_REC_INST);
	clw_put_inst(&b, &r);
	assert_int_equal(b.n, 57);
	assert_memory_equal(b.p, want, sizeof want);
	assert_int_equal(clw_get_rec(CL_REC_INST, b.p + 4, b.n - 4, &u), 0);
	assert_int_equal(u.inst.started, 9);
	b.p[4 + 10 + 8 + 3] = 7; /* no such state */
	assert_int_equal(clw_get_rec(CL_REC_INST, b.p + 4, b.n - 4, &u), -EBADMSG);
	clw_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(messages_commute),   cmocka_unit_test(states_merge),
		cmocka_unit_test(garbage_is_refused), cmocka_unit_test(records_round_trip),
		cmocka_unit_test(readme_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
