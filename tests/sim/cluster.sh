#!/usr/bin/env bash
# cluster.sh: the cluster scheduler's simulation suite (`make test`): the real
# sched/cluster core on every node of tests/sim/cluster_sim.c. One result line per check:
#   cluster/services       100 nodes, 1,000 jobs, 6 crash-restarts, a 20 s partition that
#                          heals, 1% message loss: every service ends with exactly its
#                          count of instances running (in the table and in fact)
#   cluster/batch          every batch job ends COMPLETE or FAILED, each slot counted once
#                          (duplicates that also finished are reported, not counted); ended
#                          jobs are collected (keep 100, after 30 s), so a collected job's
#                          outcome is the one the simulator observed before collection
#   cluster/no-overcommit  no node ever started an instance beyond its cpus or memory
#   cluster/replicas-agree every live node's table is the same (cluster_digest, tombstones
#                          included)
#   cluster/asan           a smaller run of the same under ASan and UBSan
#   cluster/determinism    one seed, two runs, the same output byte for byte
# The full size of the issue (1,000 nodes, 10,000 jobs) runs in `make bench`
# (scripts/bench/cluster_sim.sh). About a minute on 2 cores.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/lib.sh
. tests/lib.sh

unset MAKEFLAGS MFLAGS MAKELEVEL
SIM=build/sim/cluster_sim
SIM_ASAN=build/sim/cluster_sim_asan
RUN_TIMEOUT=${SIM_TIMEOUT:-150}

log=$T_DIR/build.log
if ! make -s "$SIM" "$SIM_ASAN" >"$log" 2>&1; then
	fail cluster/build "make $SIM $SIM_ASAN failed" "$log"
	exit 0
fi

sim_start main "$SIM" --nodes 100 --jobs 1000 --crashes 6 --loss 0.01 --fault-s 300 --settle-s 120 \
	--pushpull-s 30 --seed 21 --ended-keep 100 --ended-min-s 30
sim_start asan "$SIM_ASAN" --nodes 30 --jobs 200 --crashes 4 --loss 0.02 --fault-s 120 \
	--settle-s 90 --seed 22 --ended-keep 20 --ended-min-s 20
if sim_finish asan cluster/asan; then
	[ "$(sim_get asan ok)" = 1 ]
	sim_verdict asan cluster/asan $? "checks failed" \
		"30 nodes, 200 jobs: services_bad=$(sim_get asan services_bad) batch_bad=$(sim_get asan batch_bad) overcommits=$(sim_get asan overcommits) digests_differ=$(sim_get asan digests_differ)"
fi
sim_start det1 "$SIM" --nodes 40 --jobs 300 --crashes 3 --loss 0.02 --fault-s 120 --settle-s 90 \
	--seed 23 --ended-keep 30 --ended-min-s 20
sim_start det2 "$SIM" --nodes 40 --jobs 300 --crashes 3 --loss 0.02 --fault-s 120 --settle-s 90 \
	--seed 23 --ended-keep 30 --ended-min-s 20
if sim_finish main cluster/services; then
	figures="$(sim_get main instances_in_table) instance records, $(sim_get main placements) placements, $(sim_get main rejections) rejections, $(sim_get main lost) lost, $(sim_get main restarts) restarts, $(sim_get main duplicates_stopped) duplicates stopped"
	[ "$(sim_get main services_bad)" = 0 ] && [ "$(sim_get main jobs_unknown)" = 0 ]
	sim_verdict main cluster/services $? "services without exactly their count running" \
		"$(sim_get main services) services all at count; $figures"
	[ "$(sim_get main batch_bad)" = 0 ]
	sim_verdict main cluster/batch $? "batch jobs unfinished or miscounted" \
		"$(sim_get main batch) batch jobs done ($(sim_get main batch_failed) failed out of retries; $(sim_get main batch_collected_checked) of them collected, checked as observed before), $(sim_get main duplicate_completions) duplicate completions reported once"
	[ "$(sim_get main overcommits)" = 0 ]
	sim_verdict main cluster/no-overcommit $? "a node started an instance beyond its capacity" \
		"$(sim_get main starts) starts, $(sim_get main overcommits) over capacity"
	[ "$(sim_get main digests_differ)" = 0 ] && [ "$(sim_get main nodes_up)" -gt 0 ]
	sim_verdict main cluster/replicas-agree $? "replicas' tables differ" \
		"$(sim_get main nodes_up) replicas identical, $(sim_get main jobs_in_table) jobs and $(sim_get main tombstones) tombstones each ($(sim_get main converge_extra_s) s of extra convergence after the settle phase); push-pull state $(sim_get main state_bytes_mean) bytes; submit to running median $(sim_get main submit_to_running_ms_median) ms, p99 $(sim_get main submit_to_running_ms_p99) ms (simulated)"
fi
if sim_finish det1 cluster/determinism && sim_finish det2 cluster/determinism; then
	cmp -s "$T_DIR/det1.out" "$T_DIR/det2.out"
	rc=$?
	[ $rc = 0 ] || diff "$T_DIR/det1.out" "$T_DIR/det2.out" >>"$T_DIR/det1.log"
	sim_verdict det1 cluster/determinism $rc "two runs with one seed differ" \
		"$(sim_get det1 events) events, identical output"
fi
exit 0
