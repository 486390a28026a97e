#!/usr/bin/env bash
# run.sh: the gossip simulation suite of `make test`: the real net/gossip core, many
# instances in tests/sim's discrete-event simulator. One result line per check:
#   sim/join-1000            1,000 nodes (lan) boot within a second: all see all within
#                            the protocol's bound (spread + push-pull rounds + dissemination)
#   sim/crash-1000           a crash is known by all within the bound the lan periods give
#                            (first probe + probe round + suspicion maximum + dissemination)
#   sim/no-fp-1000-loss5     1,000 nodes (lan), 5% loss, 10 simulated minutes: nobody alive
#                            declared dead
#   sim/load-flat            UDP bytes and push-pull bytes per node per second at 1,000
#                            nodes each within 1.5x of 100 nodes (lan, idle)
#   sim/fast-50-crash        fast profile, 50 nodes, 5 crashes: each known dead by every
#                            member within 1.5 s
#   sim/fast-50-no-fp-loss1  fast profile, 50 nodes, 1% loss, 10 minutes: no false positive
#   sim/partition-heal       fast, 100 nodes cut in two halves for 10 s (long enough for
#                            each side to declare the other dead), then healed: re-converges
#   sim/restart              a crashed node restarts at a new address (1% loss): all see it
#                            alive again, above its old incarnation
#   sim/pause                a node stops for 2 probe intervals at 1% loss: nobody is
#                            declared dead
# The three fault scenarios run in the ASan+UBSan build (the core's free and restart paths).
#   sim/determinism          the same seed gives the same output, byte for byte
# Runs go two at a time (the slowest first); the whole suite takes about a minute and a
# half on 2 cores. Figures are printed under each result; the full output of a failed run
# is kept in build/tests/logs/.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/lib.sh
. tests/lib.sh

unset MAKEFLAGS MFLAGS MAKELEVEL
SIM=build/sim/gossip_sim
SIM_ASAN=build/sim/gossip_sim_asan
RUN_TIMEOUT=${SIM_TIMEOUT:-150} # seconds per simulator run
FLAT_MAX=1.5                    # per-node load at 1,000 over 100 nodes
FAST_DETECT_MS=1500             # the fast profile's promise at 50 nodes

log=$T_DIR/build.log
if ! make -s -f mk/sim.mk "$SIM" "$SIM_ASAN" >"$log" 2>&1; then
	fail sim/build "make -f mk/sim.mk failed" "$log"
	exit 0
fi

# le A B: A <= B, as numbers.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 <= b + 0) }'; }

# The two longest runs first, side by side, then the rest two at a time.
sim_start noloss "$SIM" --nodes 1000 --profile lan --scenario all --duration-s 60 --crashes 1 \
	--warmup-s 20 --seed 11
sim_start loss5 "$SIM" --nodes 1000 --profile lan --loss 0.05 --scenario steady --duration-s 600 \
	--warmup-s 0 --seed 12
if sim_finish noloss sim/join-1000; then
	j=$(sim_get noloss join_ms) jb=$(sim_get noloss join_bound_ms)
	[ "$(sim_get noloss join_ok)" = 1 ] && le "$j" "$jb"
	sim_verdict noloss sim/join-1000 $? "not converged within the bound" \
		"all see all after $j ms (bound $jb ms)"
	d=$(sim_get noloss detect_last_ms) db=$(sim_get noloss detect_bound_ms)
	[ "$(sim_get noloss crashes_detected_by_all)" = 1 ] && le "$d" "$db"
	sim_verdict noloss sim/crash-1000 $? "not known dead by all within the bound" \
		"first $(sim_get noloss detect_first_ms) ms, all $d ms (bound $db ms)"
fi

sim_start small "$SIM" --nodes 100 --profile lan --scenario steady --duration-s 60 --warmup-s 20 \
	--seed 13
if sim_finish small sim/load-flat && [ -s "$T_DIR/noloss.out" ]; then
	a=$(sim_get small udp_bytes_per_node_s) b=$(sim_get noloss udp_bytes_per_node_s)
	pa=$(sim_get small stream_bytes_per_node_s_model) pb=$(sim_get noloss stream_bytes_per_node_s_model)
	le "$b" "$(awk -v a="$a" -v m="$FLAT_MAX" 'BEGIN { print a * m }')" &&
		le "$pb" "$(awk -v a="$pa" -v m="$FLAT_MAX" 'BEGIN { print a * m }')"
	sim_verdict small sim/load-flat $? "per-node UDP or push-pull load grows with the cluster" \
		"UDP $a B/s per node at 100, $b at 1,000; push-pull $pa and $pb B/s"
fi

sim_start fast50 "$SIM" --nodes 50 --profile fast --scenario crash --crashes 5 --seed 14
if sim_finish fast50 sim/fast-50-crash; then
	d=$(sim_get fast50 detect_last_ms)
	[ "$(sim_get fast50 crashes_detected_by_all)" = 5 ] && le "$d" "$FAST_DETECT_MS"
	sim_verdict fast50 sim/fast-50-crash $? "not every crash known by all within $FAST_DETECT_MS ms" \
		"5 crashes: first $(sim_get fast50 detect_first_ms) ms, all within $d ms (mean $(sim_get fast50 detect_last_mean_ms))"
fi

sim_start fast50fp "$SIM" --nodes 50 --profile fast --loss 0.01 --scenario steady --duration-s 600 \
	--seed 15
if sim_finish fast50fp sim/fast-50-no-fp-loss1; then
	fp=$(sim_get fast50fp false_positives)
	[ "$fp" = 0 ] && [ "$(sim_get fast50fp join_ok)" = 1 ]
	sim_verdict fast50fp sim/fast-50-no-fp-loss1 $? "live nodes declared dead (or no convergence)" \
		"$fp false positives, $(sim_get fast50fp suspect_events) suspicions seen over 600 s"
fi

sim_start part "$SIM_ASAN" --nodes 100 --profile fast --scenario partition --duration-s 10 --seed 16
if sim_finish part sim/partition-heal; then
	h=$(sim_get part heal_ms) hb=$(sim_get part heal_bound_ms) pd=$(sim_get part partition_dead_declared)
	[ "$(sim_get part heal_ok)" = 1 ] && [ "${pd:-0}" -gt 0 ] && [ "$(sim_get part false_positives)" = 0 ]
	sim_verdict part sim/partition-heal $? \
		"not re-converged within the bound, or the cut changed nothing, or false positives" \
		"$pd dead declarations across the cut; all see all $h ms after the heal (bound $hb ms)"
fi

sim_start restart "$SIM_ASAN" --nodes 100 --profile fast --loss 0.01 --scenario restart --new-addr \
	--seed 17
if sim_finish restart sim/restart; then
	o=$(sim_get restart restart_old_incarnation) n=$(sim_get restart restart_incarnation)
	[ "$(sim_get restart restart_ok)" = 1 ] && [ "${n:-0}" -gt "${o:-0}" ]
	sim_verdict restart sim/restart $? "not seen alive above its old incarnation by all" \
		"seen alive by $(sim_get restart restart_seen_by) after $(sim_get restart restart_ms) ms, incarnation $o -> $n"
fi

sim_start pause "$SIM_ASAN" --nodes 40 --profile fast --loss 0.01 --scenario pause --seed 18
sim_start det1 "$SIM" --nodes 100 --profile fast --loss 0.02 --scenario all --duration-s 10 \
	--crashes 2 --seed 19
if sim_finish pause; then
	fp=$(sim_get pause false_positives)
	[ "$fp" = 0 ] && [ "$(sim_get pause pause_recover_ok)" = 1 ]
	sim_verdict pause sim/pause $? "a live node declared dead, or no agreement after the pause" \
		"paused $(sim_get pause pause_ms) ms: $(sim_get pause pause_dead_declared) dead declarations about it, $fp false positives"
fi
sim_start det2 "$SIM" --nodes 100 --profile fast --loss 0.02 --scenario all --duration-s 10 \
	--crashes 2 --seed 19
if sim_finish det1 sim/determinism && sim_finish det2 sim/determinism; then
	cmp -s "$T_DIR/det1.out" "$T_DIR/det2.out"
	rc=$?
	[ $rc = 0 ] || diff "$T_DIR/det1.out" "$T_DIR/det2.out" >>"$T_DIR/det1.log"
	sim_verdict det1 sim/determinism $rc "two runs with one seed differ" \
		"$(sim_get det1 events) events, identical output"
fi

if sim_finish loss5 sim/no-fp-1000-loss5; then
	fp=$(sim_get loss5 false_positives)
	[ "$fp" = 0 ] && [ "$(sim_get loss5 join_ok)" = 1 ]
	sim_verdict loss5 sim/no-fp-1000-loss5 $? "live nodes declared dead (or no convergence)" \
		"$fp false positives, $(sim_get loss5 suspect_events) suspicions seen, $(sim_get loss5 refutations) refutations over 600 s"
fi
exit 0
