#!/usr/bin/env bash
# jobs.sh: end-to-end tests of the cluster scheduler (issue 6): five shoal nodes in QEMU on
# one test bridge (scripts/cluster.sh, fast profile, one cluster key, one console key),
# driven through build/shoalctl against node0 from inside the test net's namespace.
#
#   jobs/up        every node logs `cluster: scheduler on NODE`
#   jobs/batch     a batch job of 50 `hello` instances completes (status says so), every
#                  instance exited with 0, and they ran on all five nodes
#   jobs/logs      `logs` of an instance that ran on another node, asked of node0, shows
#                  hello's first line (beyond the record's tail: from that node's task log)
#   jobs/service   a service of 3 `echo-server` instances on distinct nodes answers TCP;
#                  SIGKILL the QEMU of a node (not node0) running one: it is re-placed and
#                  answers again within the fast profile's detection bound + 2 s (x TCG)
#   jobs/upload    `submit ./build/userland/bin/hello` uploads the binary, it runs on
#                  several nodes (fetched from node0 by the others) and exits 0
#   jobs/failed    a program no node has: every attempt is reported failed (no such
#                  program), retries run out, the job ends failed
#   jobs/peer-garbage  random bytes to the peer port (7374) of a node leave it serving
#                  output to node0
#   jobs/clean     no node panicked along the way
#
# Where an instance ran comes from the agents' serial lines (sched/agent.h):
#   cluster: instance ID.SLOT running as task T     cluster: instance ID.SLOT exited with S
# Every wait is bounded; the cluster and its namespace are torn down by a trap. Needs root
# and build/shoalctl: SKIPs otherwise.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

TESTNET=$TOP/scripts/testnet.sh
CTL=$TOP/build/shoalctl
N=5
BATCH=50
PORT=7000 # echo-server's
MEM=128	  # MiB per node
T_UP=${JOBS_T_UP:-120}
T_BATCH=${JOBS_T_BATCH:-120}
T_SERVICE=60
# The fast profile's crash bound at N=5 (tests/qemu/cluster.sh has the derivation), x TCG.
BOUND_MS=1000
TCG_FACTOR=5
T_REPLACE_MS=$((BOUND_MS * TCG_FACTOR + 2000)) # detection (as cluster/crash allows it) + 2 s

need_testnet jobs || exit 0
[ -f "$TOP/build/shoal.elf" ] || { fail jobs "no build/shoal.elf (make)"; exit 0; }
[ -x "$CTL" ] || { skip jobs "no build/shoalctl (make)"; exit 0; }

cluster_init jb

PSK_ID=tester
PSK_HEX=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
KEYFILE=$T_DIR/console.key
(umask 077 && echo "$PSK_ID:$PSK_HEX" >"$KEYFILE")

logs_all() { cat "$DIR"/node[0-9].log 2>/dev/null | tr -d '\r'; }
# ctl ARGS...: shoalctl against node0, inside the namespace, bounded.
ctl() {
	timeout 30 "$TESTNET" exec "$NAME" "$CTL" -n "$(cl addr 0)" -k "$KEYFILE" "$@"
}
ms_now() { echo $(($(date +%s%N) / 1000000)); }

report() {
	local i out=$T_DIR/jobs.log
	: >"$out"
	for ((i = 0; i < N; i++)); do
		echo "== node$i" >>"$out"
		tr -d '\r' <"$(log_of "$i")" | grep -aE 'cluster:|console:|panic|gossip: member' |
			tail -n 15 >>"$out"
	done
	[ -f "$T_DIR/ctl.out" ] && { echo "== last shoalctl output"; cat "$T_DIR/ctl.out"; } >>"$out"
	fail "$1" "$2" "$out"
}

# nodes_running JOB: the distinct nodes whose logs show an instance of JOB running.
nodes_running() {
	local i n=0
	for ((i = 0; i < N; i++)); do
		grep -aqE "cluster: instance $1\.[0-9]+ running as task" "$(log_of "$i")" 2>/dev/null &&
			n=$((n + 1))
	done
	echo $n
}
# job_done JOB: `status JOB` says the job is complete.
job_done() {
	ctl status "$1" >"$T_DIR/ctl.out" 2>&1 && grep -qE "^$1 +[^ ]+ +batch +complete " "$T_DIR/ctl.out"
}
# status_nodes JOB: from the last `status JOB`, the distinct nodes of its instances that
# exited with 0, and how many instances did.
status_nodes() {
	awk -v j="^$1[.]" '$1 ~ j && $4 == "exited" && $5 == 0 {print $3}' "$T_DIR/ctl.out" |
		sort -u | wc -l
}
status_ok() { awk -v j="^$1[.]" '$1 ~ j && $4 == "exited" && $5 == 0' "$T_DIR/ctl.out" | wc -l; }
# submit ARGS...: the new job's id, or nothing.
submit() {
	ctl submit "$@" >"$T_DIR/ctl.out" 2>&1 || return 1
	grep -aoE '\bj[0-9a-f]{9}\b' "$T_DIR/ctl.out" | head -n 1
}
# echo_ok I: node I's echo-server echoes a line back.
echo_ok() {
	timeout 3 "$TESTNET" exec "$NAME" bash -c \
		"exec 3<>/dev/tcp/$(cl addr "$1")/$PORT && echo ping >&3 && read -r -t 2 l <&3 && [ \"\$l\" = ping ]" \
		2>/dev/null
}

# 1. Five nodes with the console key; node0 the seed.
t0=$(date +%s%N)
if ! cl up $N --profile fast --mem $MEM --append "console.psk=$PSK_ID:$PSK_HEX" \
	>"$T_DIR/up.log" 2>&1; then
	fail jobs/up "cluster.sh up failed" "$T_DIR/up.log"
	exit 0
fi
all_up() {
	local i j
	for ((i = 0; i < N; i++)); do
		grep -aq "cluster: scheduler on node$i" "$(log_of "$i")" 2>/dev/null || return 1
		for ((j = 0; j < N; j++)); do
			[ $i = $j ] || grep -aqE "gossip: member node$j [0-9.]+ alive" "$(log_of "$i")" ||
				return 1
		done
	done
	ctl members >/dev/null 2>&1
}
if wait_for "$T_UP" all_up; then
	pass "jobs/up ($(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN{printf "%.1f", (b-a)/1e9}') s)"
else
	report jobs/up "not every node ran its scheduler and saw the others within $T_UP s"
	exit 0
fi

# 2. A batch of 50 hello instances.
# Thirty arguments make hello's output (~600 bytes) longer than the tail an ended instance's
# record keeps (CLUSTER_TAIL_MAX, 256), so its first line can come only from the node's
# task log (the peer service's GET_OUTPUT), not from the replicated tail.
JOB=$(submit --batch --count $BATCH --mem 8 --name hellos hello $(seq -f 'argument%g' 1 30))
if [ -z "$JOB" ]; then
	report jobs/batch "submit gave no job id"
	exit 0
fi
t0=$(date +%s%N)
if ! wait_for "$T_BATCH" job_done "$JOB"; then
	report jobs/batch "job $JOB not complete within $T_BATCH s"
else
	took=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN{printf "%.1f", (b-a)/1e9}')
	ok=$(logs_all | grep -aE "cluster: instance $JOB\.[0-9]+ exited with 0" |
		grep -aoE "$JOB\.[0-9]+" | sort -u | wc -l)
	bad=$(logs_all | grep -acE "cluster: instance $JOB\.[0-9]+ (exited with [1-9]|failed)")
	spread=$(nodes_running "$JOB")
	st_nodes=$(status_nodes "$JOB")
	st_ok=$(status_ok "$JOB")
	if [ "$ok" != $BATCH ]; then
		report jobs/batch "$ok of $BATCH slots logged an exit with 0"
	elif [ "$bad" != 0 ]; then
		report jobs/batch "$bad instances failed or exited non-zero"
	elif [ "$spread" != $N ]; then
		report jobs/batch "instances ran on $spread nodes, not $N"
	elif [ "$st_ok" != $BATCH ] || [ "$st_nodes" != $N ]; then
		report jobs/batch "status shows $st_ok instances exited with 0 on $st_nodes nodes"
	else
		pass "jobs/batch ($BATCH instances on $spread nodes, complete in $took s)"
	fi
fi

# 3. logs of an instance that ran elsewhere, read through node0.
INST=$(for ((i = 1; i < N; i++)); do tr -d '\r' <"$(log_of "$i")"; done |
	grep -aoE "cluster: instance $JOB\.[0-9]+ running as task" | head -n 1 | awk '{print $3}')
if [ -z "$INST" ]; then
	report jobs/logs "no instance of $JOB ran on node1..node$((N - 1))"
elif ctl logs "$INST" >"$T_DIR/ctl.out" 2>&1 && grep -aq "hello from shoal task" "$T_DIR/ctl.out"; then
	pass "jobs/logs ($INST, read through node0)"
else
	report jobs/logs "logs $INST through node0 lacks hello's output"
fi

# 4. A service of three echo-servers; a node running one crashes.
SVC=$(submit --service --count 3 --mem 8 --distinct --name echo echo-server $PORT 1000)
svc_nodes() { # the nodes that answer on PORT
	local i out=
	for ((i = 0; i < N; i++)); do echo_ok "$i" && out+="$i "; done
	echo "$out"
}
three_answer() { [ "$(svc_nodes | wc -w)" = 3 ]; }
if [ -z "$SVC" ]; then
	report jobs/service "submit gave no job id"
elif ! wait_for "$T_SERVICE" three_answer; then
	report jobs/service "3 echo-servers did not answer within $T_SERVICE s (answering: $(svc_nodes))"
else
	before=$(svc_nodes)
	VICTIM=
	for i in $before; do [ "$i" != 0 ] && VICTIM=$i && break; done
	declare -A FROM
	for ((i = 0; i < N; i++)); do FROM[$i]=$(wc -l <"$(log_of "$i")"); done
	cl kill "$VICTIM"
	t0=$(ms_now)
	replaced() {
		local i
		for ((i = 0; i < N; i++)); do
			[ "$i" = "$VICTIM" ] && continue
			case " $before " in *" $i "*) continue ;; esac
			echo_ok "$i" && NEW=$i && return 0
		done
		return 1
	}
	NEW=
	if wait_for $(((T_REPLACE_MS + 999) / 1000 + 5)) replaced; then
		took=$(($(ms_now) - t0))
		# Detection: the first survivor's `dead` line after the kill.
		dead=$(for ((i = 0; i < N; i++)); do
			[ "$i" = "$VICTIM" ] || tail -n +"$((FROM[$i] + 1))" "$(log_of "$i")"
		done | tr -d '\r' | grep -acE "gossip: member node$VICTIM [0-9.]+ dead")
		if [ "$took" -le "$T_REPLACE_MS" ]; then
			pass "jobs/service (node$VICTIM killed; answering on node$NEW after $took ms; bound $T_REPLACE_MS ms; $dead dead lines)"
		else
			report jobs/service "re-placed on node$NEW but only after $took ms (bound $T_REPLACE_MS ms)"
		fi
	else
		report jobs/service "no echo-server answered on a new node after node$VICTIM was killed"
	fi
	ctl stop "$SVC" >/dev/null 2>&1
fi

# 5. Upload from the host and run on several nodes.
UP=$(submit --batch --count 3 --mem 8 --name uploaded "$TOP/build/userland/bin/hello" upl)
if [ -z "$UP" ]; then
	report jobs/upload "submit of the host's build/userland/bin/hello gave no job id"
elif ! wait_for 60 job_done "$UP"; then
	report jobs/upload "uploaded job $UP not complete within 60 s"
else
	ok=$(logs_all | grep -acE "cluster: instance $UP\.[0-9]+ exited with 0")
	pass "jobs/upload ($ok instances of the uploaded hello exited 0 on $(nodes_running "$UP") nodes)"
fi

# 5b. A program no node has: every attempt fails to start (reported with its reason), the
# batch's retries run out and the job ends failed.
BAD=$(submit --batch --count 2 --mem 8 --retries 2 /bin/no-such-program)
job_failed() {
	ctl status "$1" >"$T_DIR/ctl.out" 2>&1 && grep -qE "^$1 +[^ ]+ +batch +failed " "$T_DIR/ctl.out"
}
if [ -z "$BAD" ]; then
	report jobs/failed "submit of /bin/no-such-program gave no job id"
elif ! wait_for 30 job_failed "$BAD"; then
	report jobs/failed "job $BAD did not end failed within 30 s"
else
	nf=$(logs_all | grep -acE "cluster: instance $BAD\.[0-9]+ failed: no such program")
	if [ "$nf" -ge 2 ]; then
		pass "jobs/failed ($nf failed starts logged, job failed)"
	else
		report jobs/failed "only $nf failed starts logged"
	fi
fi

# 6. Garbage on the peer port of a live node that ran an instance of JOB: its peer service
# still serves that instance's output to node0 afterwards.
PEER=""
INST2=""
for ((i = 1; i < N; i++)); do
	[ "$i" = "${VICTIM:-}" ] && continue
	INST2=$(grep -aoE "cluster: instance $JOB\.[0-9]+ running as task" "$(log_of "$i")" |
		head -n 1 | awk '{print $3}')
	[ -n "$INST2" ] && PEER=$i && break
done
if [ -z "$PEER" ]; then
	report jobs/peer-garbage "no live node but node0 ran an instance of $JOB"
else
	for _ in 1 2 3; do
		timeout 5 "$TESTNET" exec "$NAME" bash -c \
			"head -c 4096 /dev/urandom >/dev/tcp/$(cl addr "$PEER")/7374" 2>/dev/null
	done
	if ctl logs "$INST2" >"$T_DIR/ctl.out" 2>&1 &&
		grep -aq "hello from shoal task" "$T_DIR/ctl.out"; then
		pass "jobs/peer-garbage (node$PEER served $INST2 after 3 x 4 KiB of random bytes)"
	else
		report jobs/peer-garbage "logs $INST2 failed after random bytes to node$PEER:7374"
	fi
fi

# 7. Keyring rotation across the cluster: install, use and remove on node0 alone; every
# live node follows, and membership holds through it.
OLD_KEY=$(cat "$DIR/key")
NEW_KEY=$(head -c 32 /dev/urandom | base64 -w0)
fp() { echo "$1" | base64 -d | sha256sum | cut -c1-16; }
OTHER=""
for ((i = N - 1; i > 0; i--)); do
	[ "$i" = "${VICTIM:-}" ] || { OTHER=$i && break; }
done
ctl_on() { timeout 30 "$TESTNET" exec "$NAME" "$CTL" -n "$(cl addr "$1")" -k "$KEYFILE" "${@:2}"; }
keys_on() { # NODE COUNT PRIMARY_FP: that node's keyring has COUNT keys, PRIMARY_FP first
	ctl_on "$1" keys list >"$T_DIR/keys.out" 2>&1 &&
		[ "$(grep -cE '^[0-9]+ ' "$T_DIR/keys.out")" = "$2" ] &&
		grep -qE "^0 +primary +[0-9]+ +$3" "$T_DIR/keys.out"
}
LIVE=$N
[ -z "${VICTIM:-}" ] || LIVE=$((N - 1))
alive_all() { # every live node alive in node0's view
	ctl members >"$T_DIR/ctl.out" 2>&1 && [ "$(grep -cw alive "$T_DIR/ctl.out")" -ge "$LIVE" ]
}
if [ -z "$OTHER" ]; then
	report jobs/keys "no live node but node0"
elif ! ctl keys install "$NEW_KEY" >"$T_DIR/ctl.out" 2>&1; then
	report jobs/keys "keys install failed on node0"
elif ! wait_for 10 keys_on "$OTHER" 2 "$(fp "$OLD_KEY")"; then
	report jobs/keys "node$OTHER never installed the new key: $(tr '\n' ' ' <"$T_DIR/keys.out")"
elif ! ctl keys use "$NEW_KEY" >"$T_DIR/ctl.out" 2>&1 ||
	! wait_for 10 keys_on "$OTHER" 2 "$(fp "$NEW_KEY")"; then
	report jobs/keys "node$OTHER never made the new key primary"
elif ! ctl keys remove "$OLD_KEY" >"$T_DIR/ctl.out" 2>&1 ||
	! wait_for 10 keys_on "$OTHER" 1 "$(fp "$NEW_KEY")"; then
	report jobs/keys "node$OTHER never removed the old key"
else
	sleep 2
	if grep -aqF "$NEW_KEY" "$(log_of 0)" "$(log_of "$OTHER")"; then
		report jobs/keys "a key was printed in clear on a serial line"
	elif alive_all; then
		pass "jobs/keys (node$OTHER followed install, use and remove; all alive after)"
	else
		report jobs/keys "members lost after the rotation"
	fi
fi

# 8. Nothing above may have cost a node its life (but the one killed on purpose).
panics=$(grep -alE 'shoal: panic' "$DIR"/node[0-9].log 2>/dev/null | wc -l)
if [ "$panics" = 0 ]; then
	pass jobs/clean
else
	report jobs/clean "$panics nodes panicked"
fi
