#!/usr/bin/env bash
# cluster.sh: the cluster scheduler's simulation suite (`make test`): the real
# sched/cluster core on every node of tests/sim/cluster_sim.c. One result line per check:
#   cluster/services       100 nodes, 1,000 jobs, 6 crash-restarts, a 20 s partition that
#                          heals, 1% message loss: every service ends with exactly its
#                          count of instances running (in the table and in fact)
#   cluster/batch          every batch job ends COMPLETE or FAILED, each slot counted once
#                          (duplicates that also finished are reported, not counted)
#   cluster/no-overcommit  no node ever started an instance beyond its cpus or memory
#   cluster/replicas-agree every live node's table is the same (cluster_digest)
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

declare -A PIDS
start() {
	local name=$1 bin=$2
	shift 2
	timeout -k 5 "$RUN_TIMEOUT" "$bin" "$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.log" &
	PIDS[$name]=$!
}

# finish NAME CHECK: wait; 0 when the run exited cleanly, else a FAIL line for CHECK.
finish() {
	local name=$1 check=$2 rc
	wait "${PIDS[$name]}"
	rc=$?
	cat "$T_DIR/$name.out" >>"$T_DIR/$name.log"
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		fail "$check" "simulator run did not finish within $RUN_TIMEOUT s" "$T_DIR/$name.log"
		return 1
	elif [ $rc != 0 ]; then
		fail "$check" "simulator exited with status $rc" "$T_DIR/$name.log"
		return 1
	fi
	return 0
}

get() { sed -n "s/^$2=//p" "$T_DIR/$1.out" | head -n 1; }

# verdict NAME CHECK STATUS REASON FIGURES
verdict() {
	if [ "$3" = 0 ]; then
		pass "$2"
		echo "    $5"
	else
		fail "$2" "$4; $5" "$T_DIR/$1.log"
	fi
}

start main "$SIM" --nodes 100 --jobs 1000 --crashes 6 --loss 0.01 --fault-s 300 --settle-s 120 \
	--pushpull-s 30 --seed 21
start asan "$SIM_ASAN" --nodes 30 --jobs 200 --crashes 4 --loss 0.02 --fault-s 120 \
	--settle-s 90 --seed 22
if finish asan cluster/asan; then
	[ "$(get asan ok)" = 1 ]
	verdict asan cluster/asan $? "checks failed" \
		"30 nodes, 200 jobs: services_bad=$(get asan services_bad) batch_bad=$(get asan batch_bad) overcommits=$(get asan overcommits) digests_differ=$(get asan digests_differ)"
fi
start det1 "$SIM" --nodes 40 --jobs 300 --crashes 3 --loss 0.02 --fault-s 120 --settle-s 90 \
	--seed 23
start det2 "$SIM" --nodes 40 --jobs 300 --crashes 3 --loss 0.02 --fault-s 120 --settle-s 90 \
	--seed 23
if finish main cluster/services; then
	figures="$(get main instances_in_table) instance records, $(get main placements) placements, $(get main rejections) rejections, $(get main lost) lost, $(get main restarts) restarts, $(get main duplicates_stopped) duplicates stopped"
	[ "$(get main services_bad)" = 0 ] && [ "$(get main jobs_unknown)" = 0 ]
	verdict main cluster/services $? "services without exactly their count running" \
		"$(get main services) services all at count; $figures"
	[ "$(get main batch_bad)" = 0 ]
	verdict main cluster/batch $? "batch jobs unfinished or miscounted" \
		"$(get main batch) batch jobs done ($(get main batch_failed) failed out of retries), $(get main duplicate_completions) duplicate completions reported once"
	[ "$(get main overcommits)" = 0 ]
	verdict main cluster/no-overcommit $? "a node started an instance beyond its capacity" \
		"$(get main starts) starts, $(get main overcommits) over capacity"
	[ "$(get main digests_differ)" = 0 ] && [ "$(get main nodes_up)" -gt 0 ]
	verdict main cluster/replicas-agree $? "replicas' tables differ" \
		"$(get main nodes_up) replicas identical ($(get main converge_extra_s) s of extra convergence after the settle phase); push-pull state $(get main state_bytes_mean) bytes; submit to running median $(get main submit_to_running_ms_median) ms, p99 $(get main submit_to_running_ms_p99) ms (simulated)"
fi
if finish det1 cluster/determinism && finish det2 cluster/determinism; then
	cmp -s "$T_DIR/det1.out" "$T_DIR/det2.out"
	rc=$?
	[ $rc = 0 ] || diff "$T_DIR/det1.out" "$T_DIR/det2.out" >>"$T_DIR/det1.log"
	verdict det1 cluster/determinism $rc "two runs with one seed differ" \
		"$(get det1 events) events, identical output"
fi
exit 0
