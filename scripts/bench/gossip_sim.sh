#!/usr/bin/env bash
# gossip_sim.sh: the simulated gossip figures of `make bench` (issue 4). Runs the real
# net/gossip core in tests/sim's simulator at 100, 1,000 and 10,000 nodes with both
# profiles, prints a table beside Serf's measured figures (LAN profile, from
# ../shared/notes/anchors.md), and appends key=value lines to the results file.
#
# Usage: scripts/bench/gossip_sim.sh --results FILE
#
# Each row is one run of the `all` scenario: mass join (every node boots within 1 s and
# joins through 3 seeds), one more node joins, an idle window for the traffic figures,
# then crashes one after another. Figures:
#   join       until every node counts every node alive, from the first boot
#   join1      one more node joins a converged cluster: until all see it (Serf's "join
#              seen by all")
#   susp1      a node crashes: until the first member suspects it
#   dead1/N    until the first / the last member declares it dead (worst of the crashes;
#              avg N: the mean over the crashes of the last)
#   UDP, pkt   datagram bytes (sealed, without IP/UDP headers) and datagrams sent per node
#              per second over the idle window; stream = push-pull bytes per node per second
#   FP         live nodes declared dead
# Plus the false-positive runs: lan at 5% loss for 10 simulated minutes (1,000 nodes),
# fast at 1% loss (50 nodes).
# The 10,000-node runs start converged (--warm: every core gets one push-pull frame with
# everyone's state instead of joining; simulating the mass join itself at 10,000 nodes
# takes tens of minutes), then use a short idle window (20 s) and one crash: each takes
# about 3-7 minutes and 9 GB of memory. The join figures come from the 1,000-node runs.
# Environment: GOSSIP_SIM_BIG=0 skips the 10,000-node runs.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

results=
while [ $# -gt 0 ]; do
	case $1 in
	--results) results=$2; shift 2 ;;
	*) echo "usage: $0 --results FILE" >&2; exit 2 ;;
	esac
done
[ -n "$results" ] || { echo "usage: $0 --results FILE" >&2; exit 2; }
mkdir -p "$(dirname "$results")"

unset MAKEFLAGS MFLAGS MAKELEVEL
SIM=build/sim/gossip_sim
if ! make -s -f mk/sim.mk "$SIM" >&2; then
	echo "gossip_sim: the simulator does not build" >&2
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gossip-sim-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
BIG=${GOSSIP_SIM_BIG:-1}
RUN_TIMEOUT=900 # seconds per run; a 10,000-node run takes a few minutes
rc=0

# run TAG ARGS...: one simulator run into $tmp/TAG.out; its key=value lines go to the
# results file as gossip_sim_TAG_KEY=VALUE.
run() {
	local tag=$1 t0
	shift
	t0=$(date +%s)
	echo "gossip_sim: $tag: $*" >&2
	if ! timeout -k 5 $RUN_TIMEOUT "$SIM" "$@" >"$tmp/$tag.out" 2>"$tmp/$tag.log"; then
		echo "gossip_sim: $tag failed or timed out:" >&2
		tail -n 5 "$tmp/$tag.log" >&2
		rc=1
		return 1
	fi
	echo "gossip_sim: $tag took $(($(date +%s) - t0)) s" >&2
	echo "gossip_sim_${tag}_wall_s=$(($(date +%s) - t0))" >>"$results"
	sed "s/^/gossip_sim_${tag}_/" "$tmp/$tag.out" >>"$results"
}

get() { sed -n "s/^$2=//p" "$tmp/$1.out" 2>/dev/null | head -n 1; }
secs() { awk -v v="$1" 'BEGIN { if (v == "") print "-"; else printf "%.2f", v / 1000 }'; }

rows=()
# Serf's own size, for the one-to-one comparison at equal periods.
run lan_50 --nodes 50 --profile lan --scenario all --duration-s 60 --crashes 5 --warmup-s 20 &&
	rows+=(lan_50)
for p in lan fast; do
	run "${p}_100" --nodes 100 --profile $p --scenario all --duration-s 60 --crashes 3 \
		--warmup-s 20 && rows+=("${p}_100")
	run "${p}_1000" --nodes 1000 --profile $p --scenario all --duration-s 60 --crashes 3 \
		--warmup-s 20 && rows+=("${p}_1000")
done
if [ "$BIG" = 1 ]; then
	# Warm start (see tests/sim/README.md), then past the first round of push-pulls
	# (they come at random within the base interval: 30 s lan, 15 s fast).
	run lan_10000 --nodes 10000 --profile lan --warm --scenario all --duration-s 20 \
		--crashes 1 --warmup-s 32 && rows+=(lan_10000)
	run fast_10000 --nodes 10000 --profile fast --warm --scenario all --duration-s 20 \
		--crashes 1 --warmup-s 16 && rows+=(fast_10000)
fi
run fast_50 --nodes 50 --profile fast --scenario crash --crashes 10 --seed 2 &&
	rows+=(fast_50)
run lan_1000_loss5 --nodes 1000 --profile lan --loss 0.05 --scenario steady --duration-s 600 \
	--warmup-s 0 && rows+=(lan_1000_loss5)
run fast_50_loss1 --nodes 50 --profile fast --loss 0.01 --scenario steady --duration-s 600 &&
	rows+=(fast_50_loss1)

fmt='%-16s %7s %7s %7s %7s %7s %7s %7s %6s %8s %4s\n'
echo
echo "Gossip simulation (real core, AES-256-GCM; one-way latency 1-2 ms; times in s, traffic per node per s)"
# shellcheck disable=SC2059
printf "$fmt" run join join1 susp1 dead1 deadN "avg N" "UDP B" pkt "stream B" FP
for r in "${rows[@]}"; do
	join=$(secs "$(get "$r" join_ms)")
	[ "$(get "$r" warm_start)" = 1 ] && join=warm
	[ "$(get "$r" join_ok)" = 0 ] && join=">$join"
	# shellcheck disable=SC2059
	printf "$fmt" "$r" "$join" "$(secs "$(get "$r" join1_ms)")" \
		"$(secs "$(get "$r" suspect_first_ms)")" "$(secs "$(get "$r" detect_first_ms)")" \
		"$(secs "$(get "$r" detect_last_ms)")" "$(secs "$(get "$r" detect_last_mean_ms)")" \
		"$(get "$r" udp_bytes_per_node_s)" "$(get "$r" udp_pkts_per_node_s)" \
		"$(get "$r" stream_bytes_per_node_s_model)" "$(get "$r" false_positives)"
done
# shellcheck disable=SC2059
printf "$fmt" "Serf lan 5-50" - "0.16-0.40" "1.7-3.3" - "9.7" "6.4-8.8" 216 2.0 "18-37" -
echo "(Serf 0.9.4 agents on 127.0.0.1 at 5, 20 and 50 nodes, measured here: anchors.md."
echo " susp1 = first suspicion, dead1/deadN = first/last member declaring a crash dead, worst"
echo " of the crashes; avg N = the mean over crashes of the last; Serf's deadN is its worst run.)"
echo "(stream B: push-pull, long-run: 2 frames of the measured size per push-pull interval,"
echo " as the windows are shorter than the interval (30 s lan, 15 s fast); periodic push-pulls"
echo " exchange digests of at most 64 buckets, so it is flat in N)"
[ "$BIG" = 1 ] && echo "(10,000-node rows: started converged (--warm: the mass join is not measured there,"
[ "$BIG" = 1 ] && echo " it takes tens of minutes to simulate), a 20 s idle window and one crash, to bound the run time)"
exit $rc
