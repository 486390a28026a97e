/* sources: sched/cluster/cluster.c sched/cluster/table.c sched/cluster/merge.c sched/cluster/place.c sched/cluster/view.c sched/cluster/wire.c sched/cluster/mem.c sched/cluster/gc.c */
/* test_cluster.c: the scheduler core's behaviour over a few cores wired together
 * (test_cluster_net.h): coordinators agree and hand over, placement respects resources,
 * constraints and distinct, spread and bin-pack, rejection, LOST and re-placement,
 * duplicates after a heal, batch retries, service restarts, scale, stop, drain, names and
 * views. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/sched/cluster/test_cluster_net.h"

static int coord_of(struct net *w, int i, const char *job)
{
	struct cluster_job j;
	assert_true(cluster_job_find(w->c[i], job, &j));
	return net_find(w, j.coordinator);
}

static void coordinators_agree_and_hand_over(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	int co, co2;
	net_init(&w, 5, 4, 4096);
	spec_init(&s, CLUSTER_SERVICE, 3, 1, 128);
	net_submit(&w, 2, &s, id);
	co = coord_of(&w, 0, id);
	assert_true(co >= 0);
	for (int i = 1; i < 5; i++)
		assert_int_equal(coord_of(&w, i, id), co);
	net_run(&w, 500);
	assert_int_equal(count_state(&w, 0, id, CLUSTER_RUNNING), 3);
	assert_true(all_digests_equal(&w));
	/* The coordinator dies: the next one by rendezvous takes over, agreed by all. */
	net_crash(&w, co);
	co2 = -1;
	for (int i = 0; i < 5; i++) {
		if (i == co)
			continue;
		if (co2 < 0)
			co2 = coord_of(&w, i, id);
		assert_int_equal(coord_of(&w, i, id), co2);
	}
	assert_true(co2 >= 0 && co2 != co);
	net_run(&w, 500);
	/* and re-places what ran on the dead node */
	for (int i = 0; i < 5; i++)
		if (w.up[i])
			assert_int_equal(count_state(&w, i, id, CLUSTER_RUNNING), 3);
	assert_int_equal(tasks_on(&w, co, id), 0);
	assert_true(all_digests_equal(&w));
	net_free(&w);
}

/* Rendezvous: jobs spread over coordinators rather than piling on one. */
static void coordinators_spread(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	int per[NET_MAX] = {0};
	net_init(&w, 4, 64, 65536);
	spec_init(&s, CLUSTER_BATCH, 1, 1, 1);
	w.hold = true;
	for (int k = 0; k < 40; k++) {
		net_submit(&w, 0, &s, id);
		per[coord_of(&w, 1, id)]++;
	}
	for (int i = 0; i < 4; i++)
		assert_true(per[i] >= 3);
	net_free(&w);
}

static void constraints_and_distinct(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16], id2[16];
	struct cluster_inst in[16];
	size_t n;
	net_init(&w, 4, 8, 8192);
	snprintf(w.tags[1], sizeof w.tags[1], "zone=a,disk=ssd");
	snprintf(w.tags[3], sizeof w.tags[3], "zone=a");
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 4; k++)
			net_announce(&w, i, k);
	spec_init(&s, CLUSTER_SERVICE, 4, 1, 64);
	s.nconstraints = 1;
	snprintf(s.constraints[0], sizeof s.constraints[0], "zone=a");
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	n = cluster_job_insts(w.c[0], id, false, in, 16);
	assert_int_equal(n, 4);
	for (size_t k = 0; k < n; k++)
		assert_true(!strcmp(in[k].node, "n1") || !strcmp(in[k].node, "n3"));
	/* distinct: one per node, so 2 of 3 on the ssd-less zone... only n1 has ssd */
	spec_init(&s, CLUSTER_SERVICE, 3, 1, 64);
	s.distinct = true;
	s.nconstraints = 1;
	snprintf(s.constraints[0], sizeof s.constraints[0], "zone=a");
	net_submit(&w, 0, &s, id2);
	net_run(&w, 300);
	assert_int_equal(count_state(&w, 0, id2, CLUSTER_RUNNING), 2);
	{
		struct cluster_job j;
		assert_true(cluster_job_find(w.c[2], id2, &j));
		assert_int_equal(j.state, CLUSTER_JOB_PENDING);
		assert_int_equal(j.running, 2);
		assert_int_equal(j.pending, 1);
	}
	/* a third zone=a node appears: the pending instance goes there */
	snprintf(w.tags[0], sizeof w.tags[0], "zone=a");
	for (int i = 0; i < 4; i++)
		net_announce(&w, i, 0);
	net_run(&w, 300);
	assert_int_equal(count_state(&w, 0, id2, CLUSTER_RUNNING), 3);
	assert_int_equal(tasks_on(&w, 0, id2), 1);
	assert_int_equal(w.over, 0);
	net_free(&w);
}

static void resources_limit_placement(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	uint32_t insts, cpu, mem;
	net_init(&w, 3, 2, 1000);
	spec_init(&s, CLUSTER_SERVICE, 10, 1, 300);
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	/* 2 cpus and 1000 MiB per node: 2 instances each */
	assert_int_equal(count_state(&w, 1, id, CLUSTER_RUNNING), 6);
	for (int i = 0; i < 3; i++) {
		cluster_node_load(w.c[0], w.name[i], &insts, &cpu, &mem);
		assert_int_equal(insts, 2);
		assert_int_equal(cpu, 2);
		assert_int_equal(mem, 600);
		assert_int_equal(tasks_on(&w, i, id), 2);
	}
	assert_int_equal(w.over, 0);
	net_free(&w);
}

static void spread_vs_binpack(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16], id2[16];
	int used = 0;
	net_init(&w, 4, 8, 8192);
	spec_init(&s, CLUSTER_SERVICE, 4, 1, 100);
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tasks_on(&w, i, id), 1);
	spec_init(&s, CLUSTER_SERVICE, 4, 1, 100);
	s.score = CLUSTER_BINPACK;
	net_submit(&w, 0, &s, id2);
	net_run(&w, 300);
	for (int i = 0; i < 4; i++)
		if (tasks_on(&w, i, id2))
			used++;
	assert_int_equal(used, 1);
	assert_int_equal(count_state(&w, 3, id2, CLUSTER_RUNNING), 4);
	net_free(&w);
}

/* An assignment beyond what the node runs is REJECTED by the node and placed elsewhere. */
static void rejection_path(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16], id2[16];
	int victim = -1;
	net_init(&w, 3, 2, 4096);
	spec_init(&s, CLUSTER_SERVICE, 1, 2, 100);
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	for (int i = 0; i < 3; i++)
		if (tasks_on(&w, i, id))
			victim = i;
	assert_true(victim >= 0);
	/* The other cores lose sight of the victim's load: partition it off and mark its
	 * instance gone there, so that a second job is placed on it by a coordinator that
	 * thinks it is empty. */
	{
		struct rec_inst r;
		struct buf b = {0};
		memset(&r, 0, sizeof r);
		spec_init(&s, CLUSTER_SERVICE, 1, 2, 100);
		net_submit(&w, 0, &s, id2);
		/* forge an assignment of id2's slot 0 attempt 7 onto the full victim */
		memcpy(r.job, id2, sizeof r.job);
		r.slot = 0;
		r.attempt = 7;
		snprintf(r.node, sizeof r.node, "%s", w.name[victim]);
		r.state = CLUSTER_ASSIGNED;
		r.placed = w.now;
		r.tail = "";
		clw_put_hdr(&b, CL_REC_INST);
		clw_put_inst(&b, &r);
		assert_int_equal(cluster_msg_in(w.c[victim], b.p, b.n, w.now), 0);
		clw_buf_free(&b);
	}
	net_pump(&w);
	{
		struct cluster_inst in;
		char name[32];
		snprintf(name, sizeof name, "%s.0#7", id2);
		assert_true(cluster_inst_find(w.c[(victim + 1) % 3], name, &in));
		assert_int_equal(in.state, CLUSTER_REJECTED);
		assert_true(cluster_stats(w.c[victim])->rejections >= 1);
	}
	net_run(&w, 300);
	assert_int_equal(tasks_on(&w, victim, NULL), 1);
	assert_int_equal(tasks_on(&w, victim, id2), 0);
	assert_int_equal(tasks_on(&w, (victim + 1) % 3, id2) + tasks_on(&w, (victim + 2) % 3, id2),
			 1);
	assert_int_equal(w.over, 0);
	net_free(&w);
}

static void lost_and_replaced(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16], name[32];
	struct cluster_inst in;
	int victim = -1, co, watcher;
	net_init(&w, 4, 4, 4096);
	spec_init(&s, CLUSTER_SERVICE, 2, 1, 100);
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	co = coord_of(&w, 0, id);
	for (int i = 0; i < 4; i++)
		if (i != co && tasks_on(&w, i, id))
			victim = i;
	if (victim < 0) /* both on the coordinator's node? spread forbids it */
		fail();
	net_crash(&w, victim);
	net_run(&w, 300);
	watcher = (victim + 1) % 4;
	assert_int_equal(count_state(&w, watcher, id, CLUSTER_RUNNING), 2);
	for (int slot = 0; slot < 2; slot++) {
		snprintf(name, sizeof name, "%s.%d#0", id, slot);
		assert_true(cluster_inst_find(w.c[watcher], name, &in));
		if (!strcmp(in.node, w.name[victim]))
			assert_int_equal(in.state, CLUSTER_LOST);
	}
	assert_true(cluster_stats(w.c[co])->lost >= 1);
	net_free(&w);
}

/* Both sides of a partition re-place a slot; after the heal one copy is stopped. */
static void duplicate_after_heal(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	struct cluster_inst in[16];
	size_t n;
	int victim = -1, dups = 0, running = 0;
	net_init(&w, 6, 4, 4096);
	spec_init(&s, CLUSTER_SERVICE, 1, 1, 100);
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	for (int i = 0; i < 6; i++)
		if (tasks_on(&w, i, id))
			victim = i;
	assert_true(victim >= 0);
	/* Cut in two: {victim, a, b} and the rest; then the victim crashes. Each side has
	 * its own coordinator (the alive members differ) and re-places slot 0. */
	{
		unsigned mask = 1u << victim;
		int added = 0;
		for (int i = 0; i < 6 && added < 2; i++)
			if (i != victim) {
				mask |= 1u << i;
				added++;
			}
		net_partition(&w, mask);
	}
	net_crash(&w, victim);
	net_run(&w, 500);
	assert_int_equal(tasks_on(&w, -1, NULL), 0);
	for (int i = 0; i < 6; i++)
		running += tasks_on(&w, i, id);
	assert_int_equal(running, 2); /* one per side */
	net_heal(&w);
	net_run(&w, 500);
	running = 0;
	for (int i = 0; i < 6; i++)
		running += tasks_on(&w, i, id);
	assert_int_equal(running, 1);
	n = cluster_job_insts(w.c[(victim + 1) % 6], id, true, in, 16);
	for (size_t k = 0; k < n; k++)
		if (in[k].duplicate) {
			dups++;
			assert_true(in[k].stop_requested);
			assert_int_equal(in[k].state, CLUSTER_STOPPED);
		}
	assert_int_equal(dups, 1);
	assert_true(all_digests_equal(&w));
	net_free(&w);
}

static void batch_completes_once(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	struct cluster_job j;
	net_init(&w, 3, 4, 4096);
	spec_init(&s, CLUSTER_BATCH, 5, 1, 100);
	net_submit(&w, 1, &s, id);
	net_run(&w, 300);
	assert_int_equal(count_state(&w, 0, id, CLUSTER_RUNNING), 5);
	net_exit_job(&w, id, 0);
	net_run(&w, 3000);
	assert_int_equal(w.ntasks, 0);
	assert_true(cluster_job_find(w.c[2], id, &j));
	assert_int_equal(j.state, CLUSTER_JOB_COMPLETE);
	assert_int_equal(j.completed, 5);
	assert_int_equal(count_state(&w, 2, id, CLUSTER_EXITED), 5);
	assert_int_equal(w.starts, 5);
	net_free(&w);
}

static void batch_retries_then_failed(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16], name[32];
	struct cluster_job j;
	struct cluster_inst in;
	net_init(&w, 3, 4, 4096);
	spec_init(&s, CLUSTER_BATCH, 2, 1, 100);
	s.max_retries = 3;
	net_submit(&w, 1, &s, id);
	net_run(&w, 300);
	/* slot 0 succeeds; slot 1 fails every time */
	for (int round = 0; round < 5; round++) {
		for (int t = w.ntasks - 1; t >= 0; t--)
			if (t < w.ntasks && !strcmp(w.task[t].inst.job, id))
				net_exit(&w, t, w.task[t].inst.slot == 0 ? 0 : 3);
		net_run(&w, 300);
	}
	assert_true(cluster_job_find(w.c[0], id, &j));
	assert_int_equal(j.state, CLUSTER_JOB_FAILED);
	assert_int_equal(j.completed, 1);
	assert_int_equal(j.failed, 1);
	snprintf(name, sizeof name, "%s.1", id);
	assert_true(cluster_inst_find(w.c[2], name, &in));
	assert_int_equal(in.attempt, 2);
	assert_int_equal(in.status, 3);
	assert_int_equal(in.tail_len, 4);
	assert_memory_equal(in.tail, "bye\n", 4);
	assert_int_equal(w.starts, 4); /* 1 + 3 attempts */
	assert_int_equal(w.ntasks, 0);
	net_free(&w);
}

static void service_restarts(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16], name[32];
	struct cluster_inst in;
	int co;
	net_init(&w, 3, 4, 4096);
	spec_init(&s, CLUSTER_SERVICE, 1, 1, 100);
	net_submit(&w, 1, &s, id);
	net_run(&w, 300);
	assert_int_equal(w.ntasks, 1);
	net_exit(&w, 0, 0);
	net_run(&w, 500); /* within the back-off: not yet */
	assert_int_equal(w.ntasks, 0);
	net_run(&w, 1000);
	assert_int_equal(w.ntasks, 1);
	snprintf(name, sizeof name, "%s.0", id);
	assert_true(cluster_inst_find(w.c[0], name, &in));
	assert_int_equal(in.attempt, 1);
	assert_int_equal(in.state, CLUSTER_RUNNING);
	co = coord_of(&w, 0, id);
	assert_int_equal(cluster_stats(w.c[co])->restarts, 1);
	net_free(&w);
}

static void scale_and_stop(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	struct cluster_job j;
	net_init(&w, 3, 8, 8192);
	spec_init(&s, CLUSTER_SERVICE, 2, 1, 100);
	snprintf(s.name, sizeof s.name, "web");
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	assert_int_equal(w.ntasks, 2);
	assert_int_equal(cluster_scale(w.c[2], "web", 5, "ops", w.now), 0);
	assert_int_equal(cluster_scale(w.c[2], "web", 5, "ops", w.now), -EALREADY);
	assert_int_equal(cluster_scale(w.c[2], "web", 0, "ops", w.now), -EINVAL);
	assert_int_equal(cluster_scale(w.c[2], "nope", 3, "ops", w.now), -ENOENT);
	net_pump(&w);
	net_run(&w, 300);
	assert_int_equal(w.ntasks, 5);
	assert_int_equal(cluster_scale(w.c[1], id, 1, "ops", w.now), 0);
	net_pump(&w);
	net_run(&w, 300);
	assert_int_equal(w.ntasks, 1);
	assert_true(cluster_job_find(w.c[0], id, &j));
	assert_int_equal(j.count, 1);
	assert_int_equal(j.state, CLUSTER_JOB_RUNNING);
	assert_int_equal(cluster_stop(w.c[0], "web", "ops", w.now), 0);
	assert_int_equal(cluster_stop(w.c[0], "web", "ops", w.now), -EALREADY);
	net_pump(&w);
	net_run(&w, 300);
	assert_int_equal(w.ntasks, 0);
	assert_true(cluster_job_find(w.c[1], "web", &j));
	assert_int_equal(j.state, CLUSTER_JOB_STOPPED);
	assert_true(j.stopped);
	assert_int_equal(cluster_scale(w.c[1], "web", 3, "ops", w.now), -EINVAL);
	assert_true(all_digests_equal(&w));
	net_free(&w);
}

/* A stop written on one side and a scale on the other converge: stopped wins. */
static void stop_is_sticky(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	struct cluster_job j;
	net_init(&w, 4, 8, 8192);
	spec_init(&s, CLUSTER_SERVICE, 2, 1, 100);
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	net_partition(&w, 0x3);
	assert_int_equal(cluster_stop(w.c[0], id, "a", w.now), 0);
	assert_int_equal(cluster_scale(w.c[2], id, 4, "b", w.now), 0);
	assert_int_equal(cluster_scale(w.c[3], id, 3, "b", w.now), 0);
	net_pump(&w);
	net_heal(&w);
	net_run(&w, 500);
	for (int i = 0; i < 4; i++) {
		assert_true(cluster_job_find(w.c[i], id, &j));
		assert_true(j.stopped);
		assert_int_equal(j.count, 3);
	}
	assert_int_equal(w.ntasks, 0);
	assert_true(all_digests_equal(&w));
	net_free(&w);
}

static void drain_moves_instances(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	net_init(&w, 3, 8, 8192);
	spec_init(&s, CLUSTER_SERVICE, 6, 1, 100);
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	assert_int_equal(tasks_on(&w, 2, id), 2);
	assert_int_equal(cluster_drain(w.c[0], "n2", true, "ops", w.now), 0);
	assert_int_equal(cluster_drain(w.c[0], "n2", true, "ops", w.now), -EALREADY);
	assert_int_equal(cluster_drain(w.c[0], "n9", true, "ops", w.now), -ENOENT);
	net_pump(&w);
	net_run(&w, 2000);
	assert_true(cluster_node_draining(w.c[1], "n2"));
	assert_int_equal(tasks_on(&w, 2, id), 0);
	assert_int_equal(tasks_on(&w, 0, id) + tasks_on(&w, 1, id), 6);
	assert_int_equal(count_state(&w, 1, id, CLUSTER_RUNNING), 6);
	assert_int_equal(cluster_drain(w.c[1], "n2", false, "ops", w.now), 0);
	net_pump(&w);
	assert_false(cluster_node_draining(w.c[0], "n2"));
	assert_true(all_digests_equal(&w));
	net_free(&w);
}

/* An assignment that never starts is LOST after assign_timeout_ms and placed again. */
static void assignment_times_out(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16], name[32];
	struct cluster_inst in;
	net_init(&w, 3, 4, 4096);
	w.hold = true;
	spec_init(&s, CLUSTER_SERVICE, 1, 1, 100);
	net_submit(&w, 0, &s, id);
	net_run(&w, 4000);
	snprintf(name, sizeof name, "%s.0#0", id);
	assert_true(cluster_inst_find(w.c[1], name, &in));
	assert_int_equal(in.state, CLUSTER_ASSIGNED);
	net_run(&w, 1500); /* past net_cfg's 5 s */
	assert_true(cluster_inst_find(w.c[1], name, &in));
	assert_int_equal(in.state, CLUSTER_LOST);
	assert_int_equal(in.status, -ETIMEDOUT);
	snprintf(name, sizeof name, "%s.0#1", id);
	assert_true(cluster_inst_find(w.c[2], name, &in));
	assert_int_equal(in.state, CLUSTER_ASSIGNED);
	/* the late start of the timed-out one is killed at once; the new one runs */
	net_start_all(&w);
	net_run(&w, 300);
	assert_int_equal(w.ntasks, 1);
	assert_int_equal(w.task[0].inst.attempt, 1);
	assert_int_equal(count_state(&w, 0, id, CLUSTER_RUNNING), 1);
	net_free(&w);
}

/* An assignment whose messages were lost is sent again (rebroadcast_ms) and starts
 * without waiting for the assignment timeout. */
static void lost_assignment_resent(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16], name[32];
	struct cluster_inst in;
	net_init(&w, 3, 4, 4096);
	w.sends_on = true;
	spec_init(&s, CLUSTER_SERVICE, 1, 1, 100);
	s.nconstraints = 1;
	snprintf(s.constraints[0], sizeof s.constraints[0], "zone=x");
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	assert_int_equal(w.ntasks, 0); /* nowhere to go yet */
	w.mute[2] = true;
	snprintf(w.tags[2], sizeof w.tags[2], "zone=x");
	for (int i = 0; i < 3; i++)
		net_announce(&w, i, 2);
	net_run(&w, 300);
	assert_int_equal(w.ntasks, 0); /* the assignment was lost on the way */
	w.mute[2] = false;
	net_run(&w, 2500); /* rebroadcast_ms is 2 s; the timeout 5 s */
	assert_int_equal(tasks_on(&w, 2, id), 1);
	snprintf(name, sizeof name, "%s.0", id);
	assert_true(cluster_inst_find(w.c[0], name, &in));
	assert_int_equal(in.attempt, 0);
	assert_int_equal(in.state, CLUSTER_RUNNING);
	net_free(&w);
}

/* A node restarts before anyone notices it was gone: its new core learns from the table
 * that it "runs" instances it does not, marks them LOST, and they are placed again. */
static void restart_marks_lost(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16], name[32];
	struct cluster_inst in;
	int victim = -1;
	net_init(&w, 3, 4, 4096);
	spec_init(&s, CLUSTER_SERVICE, 3, 1, 100);
	net_submit(&w, 0, &s, id);
	net_run(&w, 300);
	for (int i = 0; i < 3; i++)
		if (tasks_on(&w, i, id) == 1 && victim < 0)
			victim = i;
	assert_true(victim >= 0);
	for (int t = w.ntasks - 1; t >= 0; t--)
		if (w.task[t].core == victim)
			task_drop(&w, t);
	cluster_free(w.c[victim]);
	net_boot(&w, victim);
	net_heal(&w); /* the join's push-pull */
	net_run(&w, 1000);
	assert_int_equal(count_state(&w, 0, id, CLUSTER_RUNNING), 3);
	assert_int_equal(w.ntasks, 3);
	snprintf(name, sizeof name, "%s.0#0", id);
	for (int slot = 0; slot < 3; slot++) {
		snprintf(name, sizeof name, "%s.%d#0", id, slot);
		assert_true(cluster_inst_find(w.c[(victim + 1) % 3], name, &in));
		if (!strcmp(in.node, w.name[victim])) {
			assert_int_equal(in.state, CLUSTER_LOST);
			assert_int_equal(in.status, -ESRCH);
		}
	}
	assert_true(all_digests_equal(&w));
	net_free(&w);
}

static void names_and_views(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16], id2[16], id3[16], name[32];
	const char *why = NULL;
	struct cluster_job j;
	struct cluster_inst in[8];
	uint32_t insts;
	net_init(&w, 2, 8, 8192);
	spec_init(&s, CLUSTER_BATCH, 2, 1, 100);
	snprintf(s.name, sizeof s.name, "crunch");
	net_submit(&w, 0, &s, id);
	w.now += 10;
	assert_int_equal(cluster_submit(w.c[1], &s, "x", id2, &why, w.now), -EEXIST);
	assert_non_null(why);
	s.name[0] = 0;
	net_submit(&w, 1, &s, id2);
	net_run(&w, 200);
	assert_int_equal(cluster_job_count(w.c[1]), 2);
	assert_true(cluster_job_at(w.c[1], 0, &j));
	assert_string_equal(j.id, id2); /* newest first */
	assert_true(cluster_job_at(w.c[1], 1, &j));
	assert_string_equal(j.id, id);
	assert_false(cluster_job_at(w.c[1], 2, &j));
	assert_true(cluster_job_find(w.c[1], "crunch", &j));
	assert_string_equal(j.id, id);
	assert_string_equal(j.submitted_by, "tester");
	assert_string_equal(j.submitted_on, "n0");
	assert_string_equal(j.spec.program, "/bin/hello");
	assert_int_equal(j.spec.argv_len, 12);
	assert_memory_equal(j.spec.argv, "hello\0world", 12);
	assert_int_equal(j.state, CLUSTER_JOB_RUNNING);
	assert_int_equal(j.running, 2);
	assert_int_equal(strlen(j.id), CLUSTER_JOB_ID_LEN);
	assert_int_equal(cluster_job_insts(w.c[0], id, false, in, 8), 2);
	assert_int_equal(in[0].slot, 0);
	assert_int_equal(in[1].slot, 1);
	assert_int_equal(cluster_job_insts(w.c[0], id, false, NULL, 0), 2);
	snprintf(name, sizeof name, "%s.1", id);
	assert_true(cluster_inst_find(w.c[1], name, &in[0]));
	assert_int_equal(in[0].slot, 1);
	assert_int_equal(in[0].state, CLUSTER_RUNNING);
	assert_true(in[0].placed_ms > 0 && in[0].started_ms > 0);
	assert_false(cluster_inst_find(w.c[1], "jzzzzzzzzz.1", &in[0]));
	snprintf(name, sizeof name, "%s.7", id);
	assert_false(cluster_inst_find(w.c[1], name, &in[0]));
	snprintf(name, sizeof name, "%s.1#x", id);
	assert_false(cluster_inst_find(w.c[1], name, &in[0]));
	cluster_node_load(w.c[1], "n0", &insts, NULL, NULL);
	assert_true(insts >= 1);
	/* after the job ends, its name is free again and lookups by name find the live one */
	net_exit_job(&w, id, 0);
	net_run(&w, 200);
	snprintf(s.name, sizeof s.name, "crunch");
	net_submit(&w, 1, &s, id3);
	assert_true(cluster_job_find(w.c[0], "crunch", &j));
	assert_string_equal(j.id, id3);
	assert_string_equal(cluster_inst_state_name(CLUSTER_REJECTED), "rejected");
	assert_string_equal(cluster_job_state_name(CLUSTER_JOB_COMPLETE), "complete");
	net_free(&w);
}

/* Once settled, the next deadline is in the future: the caller does not spin. Also with a
 * job known only by a control record (its spec not here yet). */
static void deadline_settles(void **state)
{
	struct net w;
	struct cluster_job_spec s;
	char id[16];
	struct rec_ctl r = {.job = "j000000abc", .count = 2, .ver = 3, .writer = "elsewhere"};
	struct buf b = {0};
	net_init(&w, 1, 4, 4096);
	clw_put_hdr(&b, CL_REC_CTL);
	clw_put_ctl(&b, &r);
	assert_int_equal(cluster_msg_in(w.c[0], b.p, b.n, w.now), 0);
	clw_buf_free(&b);
	assert_int_equal(cluster_job_count(w.c[0]), 0); /* not a job to show yet */
	spec_init(&s, CLUSTER_SERVICE, 2, 1, 100);
	net_submit(&w, 0, &s, id);
	net_run(&w, 500);
	assert_true(cluster_deadline(w.c[0]) > w.now);
	assert_int_equal(cluster_job_count(w.c[0]), 1);
	net_free(&w);
}

static void submit_validation(void **state)
{
	struct cluster_config cfg;
	uint8_t seed[32] = {1};
	struct cluster *c;
	struct cluster_job_spec s;
	char id[16];
	const char *why;
	cluster_config_default(&cfg);
	c = cluster_new(&cfg, "n0", seed, 0);
	assert_non_null(c);
	assert_null(cluster_new(&cfg, "", seed, 0));
	spec_init(&s, CLUSTER_BATCH, 0, 1, 1);
	assert_int_equal(cluster_submit(c, &s, "u", id, &why, 0), -EINVAL);
	spec_init(&s, CLUSTER_BATCH, 1, 0, 1);
	assert_int_equal(cluster_submit(c, &s, "u", id, &why, 0), -EINVAL);
	spec_init(&s, CLUSTER_BATCH, 1, 1, 1);
	s.nconstraints = 1;
	snprintf(s.constraints[0], sizeof s.constraints[0], "novalue");
	assert_int_equal(cluster_submit(c, &s, "u", id, &why, 0), -EINVAL);
	spec_init(&s, CLUSTER_BATCH, 1, 1, 1);
	s.argv[s.argv_len - 1] = 'x'; /* not terminated */
	assert_int_equal(cluster_submit(c, &s, "u", id, &why, 0), -EINVAL);
	/* too big to replicate in one update: refused with a reason */
	spec_init(&s, CLUSTER_BATCH, 1, 1, 1);
	memset(s.argv, 'a', sizeof s.argv);
	s.argv[sizeof s.argv - 1] = 0;
	s.argv_len = sizeof s.argv;
	memset(s.env, 'b', sizeof s.env);
	s.env[sizeof s.env - 1] = 0;
	s.env_len = sizeof s.env;
	s.nconstraints = 4;
	for (int k = 0; k < 4; k++) {
		memset(s.constraints[k], 'k', 62);
		s.constraints[k][1] = '=';
		s.constraints[k][62] = 0;
	}
	memset(s.program, 'p', 127);
	s.program[127] = 0;
	why = NULL;
	assert_int_equal(cluster_submit(c, &s, "u", id, &why, 0), -EINVAL);
	assert_non_null(why);
	assert_non_null(strstr(why, "too large"));
	assert_int_equal(cluster_job_count(c), 0);
	/* the largest argv alone fits */
	s.env_len = 0;
	s.nconstraints = 0;
	assert_int_equal(cluster_submit(c, &s, "u", id, &why, 0), 0);
	assert_int_equal(cluster_job_count(c), 1);
	cluster_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(coordinators_agree_and_hand_over),
		cmocka_unit_test(coordinators_spread),
		cmocka_unit_test(constraints_and_distinct),
		cmocka_unit_test(resources_limit_placement),
		cmocka_unit_test(spread_vs_binpack),
		cmocka_unit_test(rejection_path),
		cmocka_unit_test(lost_and_replaced),
		cmocka_unit_test(duplicate_after_heal),
		cmocka_unit_test(batch_completes_once),
		cmocka_unit_test(batch_retries_then_failed),
		cmocka_unit_test(service_restarts),
		cmocka_unit_test(scale_and_stop),
		cmocka_unit_test(stop_is_sticky),
		cmocka_unit_test(drain_moves_instances),
		cmocka_unit_test(assignment_times_out),
		cmocka_unit_test(restart_marks_lost),
		cmocka_unit_test(lost_assignment_resent),
		cmocka_unit_test(names_and_views),
		cmocka_unit_test(deadline_settles),
		cmocka_unit_test(submit_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
