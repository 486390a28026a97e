#!/usr/bin/env bash
# cluster.sh: system tests of gossip membership (issue 4): five shoal nodes in QEMU on one
# test bridge (scripts/cluster.sh, fast profile, one cluster key), plus a sixth node
# under another key.
#
#   cluster/converge   every node logs `joined` and the four others alive
#   cluster/wrong-key  the sixth node never joins, nobody lists it, and its seed logs the
#                      packets that failed authentication, naming its address
#   cluster/crash      SIGKILL node4: every other node logs it dead within the bound the
#                      fast profile's periods give (x TCG_FACTOR), and no live node is
#                      declared dead (no false positive)
#   cluster/rejoin     node4 booted again under the same name: it joins, and every other
#                      node logs it alive with a higher incarnation than its first life's
#   cluster/partition  nodes 3 and 4 moved to another bridge: each side logs the other
#                      side dead; moved back, every node logs every other alive again
#
# Lines are the serial contract (`gossip: member NAME ADDR STATE inc I`); each check
# looks only at lines logged after the step it judges. Every wait is bounded; the
# cluster and its namespace are torn down by a trap. Needs root: SKIPs otherwise.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

N=5
WRONG=5 # the node under another key, on the spare tap
# Bounds (seconds) under TCG with six nodes sharing the host.
T_CONVERGE=${CLUSTER_T_CONVERGE:-90} # boot (a few s each under TCG) + a push-pull join
T_WRONG=20
# The fast profile's crash bound (net/gossip/config.c): the dead node is probed by one of
# the N-1 others within a round of N-1 probe intervals, that probe fails within one
# interval, the suspicion runs out within suspicion_max_mult x suspicion_mult x interval
# (log10 5 < 1), and the death spreads within a few gossip intervals: 1.0 s at N=5.
# TCG on a shared host is allowed TCG_FACTOR times that.
PROBE_MS=100
SUSPICION_MAX_MS=400
GOSSIP_MS=20
BOUND_MS=$(((N - 1) * PROBE_MS + PROBE_MS + SUSPICION_MAX_MS + 5 * GOSSIP_MS))
TCG_FACTOR=5
T_DEAD=${CLUSTER_T_DEAD:-$(((BOUND_MS * TCG_FACTOR + 999) / 1000))}
T_REJOIN=60 # a boot again, then the refutation of its own death
T_SPLIT=$((2 * T_DEAD)) # each side has two or three nodes to find dead
T_HEAL=45 # until anti-entropy or a retried join crosses the healed link

need_testnet cluster || exit 0
[ -f "$TOP/build/shoal.elf" ] || { fail cluster "no build/shoal.elf (make)"; exit 0; }

cluster_init gc

# lines I: the number of lines node I has logged so far.
lines() { wc -l <"$(log_of "$1")" 2>/dev/null || echo 0; }
# after I FROM: node I's log from line FROM+1 on, without CRs.
after() { tail -n +"$(($2 + 1))" "$(log_of "$1")" 2>/dev/null | tr -d '\r'; }
# sees I FROM J STATE: since line FROM, node I logged node J in STATE.
sees() { after "$1" "$2" | grep -aEq "gossip: member node$3 [0-9.]+ $4( |$)"; }

# The whole cluster log, for a FAIL.
report() {
	local i out=$T_DIR/cluster.log
	: >"$out"
	for ((i = 0; i <= WRONG; i++)); do
		[ -f "$(log_of "$i")" ] || continue
		echo "== node$i" >>"$out"
		grep -aE 'gossip:|panic|net: eth0' "$(log_of "$i")" | tr -d '\r' | tail -n 12 >>"$out"
	done
	fail "$1" "$2" "$out"
}

declare -A FROM

# 1. Five nodes (and the spare tap for the wrong key) boot; node0 is every node's seed.
t0=$(date +%s%N)
if ! cl up $N --spare 1 --profile fast >"$T_DIR/up.log" 2>&1; then
	fail cluster/converge "cluster.sh up failed" "$T_DIR/up.log"
	exit 0
fi
WRONG_KEY=$(head -c 32 /dev/urandom | base64 -w0)
cl start $WRONG --key "$WRONG_KEY" >>"$T_DIR/up.log" 2>&1
WRONG_ADDR=$(cl addr $WRONG)

converged() {
	local i j
	for ((i = 0; i < N; i++)); do
		after "$i" "${FROM[$i]:-0}" | grep -aq "gossip: joined as node$i, " || return 1
		for ((j = 0; j < N; j++)); do
			[ $i = $j ] || sees "$i" "${FROM[$i]:-0}" "$j" alive || return 1
		done
	done
}
if wait_for "$T_CONVERGE" converged; then
	pass "cluster/converge (5 nodes, $(secs_since "$t0") s from cluster.sh up)"
else
	report cluster/converge "not every node saw every other alive within $T_CONVERGE s"
	exit 0
fi

# 2. The node under another key: never joined, never listed; its seed says why.
auth_logged() {
	grep -aEq "gossip: [0-9]+ packets failed authentication .*last from $WRONG_ADDR" "$(log_of 0)"
}
wait_for "$T_WRONG" auth_logged
listed=$(grep -alE "gossip: member node$WRONG " "$DIR"/node[0-4].log 2>/dev/null | wc -l)
if grep -aq "gossip: joined" "$(log_of $WRONG)"; then
	report cluster/wrong-key "node$WRONG joined under the wrong key"
elif [ "$listed" != 0 ]; then
	report cluster/wrong-key "$listed nodes list node$WRONG"
elif ! auth_logged; then
	report cluster/wrong-key "node0 logged no authentication failure from $WRONG_ADDR"
else
	pass cluster/wrong-key
fi
cl kill $WRONG 2>/dev/null

# 3. A crash: SIGKILL node4.
for ((i = 0; i < N; i++)); do FROM[$i]=$(lines "$i"); done
cl kill 4
t0=$(date +%s%N)
all_see() { # all_see NODE STATE NODES...: each of NODES saw NODE in STATE
	local who=$1 st=$2 i
	shift 2
	for i in "$@"; do sees "$i" "${FROM[$i]}" "$who" "$st" || return 1; done
}
if wait_for "$T_DEAD" all_see 4 dead 0 1 2 3; then
	took=$(secs_since "$t0")
	fp=$(cat "$DIR"/node[0-3].log | tr -d '\r' | grep -acE "gossip: member node[0-3] [0-9.]+ dead")
	if [ "$fp" != 0 ]; then
		report cluster/crash "a live node was declared dead ($fp lines)"
	else
		pass "cluster/crash (all 4 saw node4 dead in $took s; bound ${BOUND_MS} ms x $TCG_FACTOR)"
	fi
else
	report cluster/crash "not every node saw node4 dead within $T_DEAD s"
fi

# 4. node4 comes back under its name: alive again, with a higher incarnation.
first_inc=$(tr -d '\r' <"$(log_of 0)" | grep -aEo "gossip: member node4 [0-9.]+ alive inc [0-9]+" |
	head -n 1 | awk '{print $NF}')
for ((i = 0; i < 4; i++)); do FROM[$i]=$(lines "$i"); done
FROM[4]=0
cl start 4 >>"$T_DIR/up.log" 2>&1
rejoined() {
	local i inc
	after 4 0 | grep -aq "gossip: joined as node4, " || return 1
	incs=
	for ((i = 0; i < 4; i++)); do
		inc=$(after "$i" "${FROM[$i]}" | grep -aEo "gossip: member node4 [0-9.]+ alive inc [0-9]+" |
			tail -n 1 | awk '{print $NF}')
		[ -n "$inc" ] && [ "$inc" -gt "${first_inc:-0}" ] || return 1
		incs+="${incs:+,}$inc"
	done
}
if wait_for "$T_REJOIN" rejoined; then
	pass "cluster/rejoin (incarnation ${first_inc:-?} before the crash, $incs after)"
else
	report cluster/rejoin "node4 not seen alive with an incarnation above ${first_inc:-?} within $T_REJOIN s"
fi
# Every node sees all five alive before the partition.
for ((i = 0; i < N; i++)); do FROM[$i]=0; done
wait_for 20 converged

# 5. A partition: {0,1,2} | {3,4}, then healed.
for ((i = 0; i < N; i++)); do FROM[$i]=$(lines "$i"); done
cl split 3,4
split_seen() {
	all_see 3 dead 0 1 2 && all_see 4 dead 0 1 2 && all_see 0 dead 3 4 && all_see 1 dead 3 4 &&
		all_see 2 dead 3 4
}
if ! wait_for "$T_SPLIT" split_seen; then
	cl heal
	report cluster/partition "the sides did not see each other dead within $T_SPLIT s"
	exit 0
fi
for ((i = 0; i < N; i++)); do FROM[$i]=$(lines "$i"); done
cl heal
t0=$(date +%s%N)
healed() {
	local a b
	for a in 0 1 2; do
		for b in 3 4; do
			sees "$a" "${FROM[$a]}" "$b" alive && sees "$b" "${FROM[$b]}" "$a" alive || return 1
		done
	done
}
if wait_for "$T_HEAL" healed; then
	pass "cluster/partition (re-converged $(secs_since "$t0") s after the heal)"
else
	report cluster/partition "not re-converged within $T_HEAL s of the heal"
fi
