#!/usr/bin/env bash
# run.sh: `make run`. Boots a local cluster of NODES shoal nodes (default 3) in QEMU,
# waits until they see each other, submits a demo batch job and a demo service through
# build/shoalctl, shows `members`, `ps` and the batch job's output, then
#   - on a terminal: leaves an interactive console (shoalctl) on node0; Ctrl-D, `quit`
#     or Ctrl-C ends it and tears the cluster down;
#   - otherwise (CI, scripts): tears the cluster down and exits 0, or non-zero after
#     `run: FAILED at STEP: REASON` on stderr when a step failed.
# Nothing is left running either way: every QEMU is killed by its PID from a trap.
#
# Networking needs no root. The nodes share one L2 segment that QEMU carries as UDP
# multicast on the host's loopback (-netdev socket,mcast=GROUP:PORT,localaddr=127.0.0.1,
# a random group and port per run): that is each node's eth0, with a static address
# 10.77.0.(10+I)/24, over which gossip (7946) and the agents (7374) talk; node1.. are
# given node0 as their seed. node0 also has a second NIC (eth1) on QEMU user networking,
# which takes 10.0.2.15 by DHCP and carries a host forward 127.0.0.1:PORT -> 7373, the
# console; PORT is 7373 when free, else a free port. The console listens on every
# address, so node0's console is reachable from the host while the cluster stays private.
#
# Keys are fresh each run: a random cluster key (gossip) and a random console PSK
# (identity `demo`) written to build/run/console.key (0600, `IDENTITY:HEXKEY`, the file
# shoalctl -k takes). Serial logs: build/run/nodeI.log.
#
# Environment: NODES (3), SHOAL_ACCEL=tcg|kvm, MEM (MiB per node, 128), SMP (1), APPEND
# (more kernel command line for every node), PORT (the host's console port), RUN_DIR
# (build/run), bounds in seconds: BOOT_SECS (30), JOIN_SECS (45), JOB_SECS (45) for each
# wait, RUN_SECS (90) for all of them together. One run at a time per RUN_DIR (a lock).
# shellcheck disable=SC2317  # functions run from traps and until_ok
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
TOP=$PWD

NODES=${NODES:-3}
MEM=${MEM:-128}
SMP=${SMP:-1}
APPEND=${APPEND:-}
RUN_DIR=${RUN_DIR:-$TOP/build/run}
BOOT_SECS=${BOOT_SECS:-30}
JOIN_SECS=${JOIN_SECS:-45}
JOB_SECS=${JOB_SECS:-45}
RUN_SECS=${RUN_SECS:-90}
DEADLINE=$(($(date +%s) + RUN_SECS))
export SHOAL_ACCEL=${SHOAL_ACCEL:-tcg}

CTL=$TOP/build/shoalctl
QEMU_SH=$TOP/scripts/qemu.sh
KEYFILE=$RUN_DIR/console.key
SUBNET=10.77.0   # the nodes' segment; node I is SUBNET.(ADDR_BASE + I)
ADDR_BASE=10
PSK_ID=demo
CTL_SECS=15      # shoalctl's own read timeout (-t) for one command
POLL=0.5
BATCH_COUNT=3
SERVICE_COUNT=2
ECHO_PORT=7000   # the demo service's port (userland/echo-server.c)

STEP="setup"
PIDS=()
TORN=0

say() { echo "run: $*"; }
# fail REASON: name the step that failed, tear down (trap), exit 1.
fail() {
	echo "run: FAILED at $STEP: $*" >&2
	[ ${#PIDS[@]} -gt 0 ] && echo "run: the nodes' serial logs: ${RUN_DIR#"$TOP"/}/node*.log" >&2
	exit 1
}

# alive PID: exists and is not a zombie.
alive() {
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "${st%% *}" != Z ]
}

teardown() {
	[ "$TORN" = 1 ] && return
	TORN=1
	local p n=0
	for p in "${PIDS[@]}"; do alive "$p" && kill -TERM "$p" 2>/dev/null; done
	for _ in $(seq 30); do
		n=0
		for p in "${PIDS[@]}"; do alive "$p" && n=$((n + 1)); done
		[ "$n" = 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do alive "$p" && kill -KILL "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ ${#PIDS[@]} -gt 0 ] && say "cluster torn down (${#PIDS[@]} nodes stopped; logs in ${RUN_DIR#"$TOP"/})"
}
trap teardown EXIT
trap 'echo; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ctl [shoalctl args...]: one console command on node0, bounded.
ctl() { timeout --foreground $((CTL_SECS + 5)) "$CTL" -n "127.0.0.1:$PORT" -k "$KEYFILE" -t $CTL_SECS "$@"; }

# until_ok SECS CMD...: poll CMD until it succeeds; 0, or 1 at the bound (SECS, cut to
# what is left of RUN_SECS).
until_ok() {
	local end=$(($(date +%s) + $1))
	[ $end -le $DEADLINE ] || end=$DEADLINE
	shift
	until "$@"; do
		[ "$(date +%s)" -lt $end ] || return 1
		sleep $POLL
	done
}

# free_port: 7373 if nothing listens on it on 127.0.0.1, else a free port the kernel picks.
free_port() {
	python3 - <<'EOF'
import socket
for p in (7373, 0):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    print(s.getsockname()[1])
    s.close()
    break
EOF
}

node_log() { echo "$RUN_DIR/node$1.log"; }
log_has() { tr -d '\r' <"$(node_log "$1")" 2>/dev/null | grep -aEq -- "$2"; }

# --- check --------------------------------------------------------------------------------
STEP="check"
if ! [[ $NODES =~ ^[0-9]+$ ]] || [ "$NODES" -lt 1 ] || [ "$NODES" -gt 16 ]; then
	fail "NODES must be 1..16"
fi
for f in build/shoal.elf build/userland.cpio build/shoalctl; do
	[ -f "$f" ] || fail "$f is missing (make)"
done
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 is missing (scripts/deps.sh)"

# --- keys ---------------------------------------------------------------------------------
STEP="keys"
mkdir -p "$RUN_DIR" || fail "cannot create $RUN_DIR"
exec 9>"$RUN_DIR/lock" || fail "cannot create $RUN_DIR/lock"
flock -n 9 || fail "another make run uses $RUN_DIR (give this one RUN_DIR=...)"
rm -f "$RUN_DIR"/node*.log
CLUSTER_KEY=$(head -c 32 /dev/urandom | base64) || fail "no random bytes"
PSK_HEX=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') || fail "no random bytes"
[ ${#PSK_HEX} = 64 ] || fail "no random bytes"
(umask 077 && rm -f "$KEYFILE" && echo "$PSK_ID:$PSK_HEX" >"$KEYFILE") || fail "cannot write $KEYFILE"

# --- boot ---------------------------------------------------------------------------------
STEP="boot"
PORT=${PORT:-$(free_port)}
[ -n "$PORT" ] || fail "no free TCP port on 127.0.0.1"
MCAST=230.$((RANDOM % 256)).$((RANDOM % 256)).$((RANDOM % 254 + 1)):$((20000 + RANDOM % 20000))
say "booting $NODES nodes ($SHOAL_ACCEL, ${MEM} MiB each) on segment $SUBNET.0/24 (multicast $MCAST on loopback)"
for i in $(seq 0 $((NODES - 1))); do
	mac=$(printf '52:54:00:77:00:%02x' "$i")
	line="name=node$i ip=$SUBNET.$((ADDR_BASE + i))/24 cluster.key=$CLUSTER_KEY"
	line+=" console.psk=$PSK_ID:$PSK_HEX console.idle=86400 gossip.profile=lan"
	# lan: memberlist's LAN timings. The fast profile's 100 ms probes time out now and
	# then on a busy TCG host (a trial run had a node declared dead for a moment).
	[ "$i" != 0 ] && line+=" seeds=$SUBNET.$ADDR_BASE"
	[ -n "$APPEND" ] && line+=" $APPEND"
	# eth0: the segment. node0's eth1: user networking with the console's host forward.
	# qemu.sh adds -nic none when given no NIC of its own; these come after it.
	extra=(-netdev "socket,id=seg,mcast=$MCAST,localaddr=127.0.0.1"
		-device "virtio-net-pci,netdev=seg,mac=$mac")
	if [ "$i" = 0 ]; then
		extra+=(-netdev "user,id=host,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:7373"
			-device "virtio-net-pci,netdev=host")
	fi
	"$QEMU_SH" --mem "$MEM" --smp "$SMP" --append "$line" -- "${extra[@]}" \
		</dev/null >"$(node_log "$i")" 2>&1 &
	PIDS+=($!)
done

# --- ready: every node booted, node0's console listens -------------------------------------
STEP="ready"
# all_ready: every node logged its ready line and is still running.
all_ready() {
	local i
	for i in $(seq 0 $((NODES - 1))); do
		alive "${PIDS[$i]}" || fail "node$i exited: $(tr -d '\r' <"$(node_log "$i")" | tail -n 3 | tr '\n' ' ')"
		log_has "$i" 'shoal: panic' && fail "node$i panicked: $(tr -d '\r' <"$(node_log "$i")" | grep -a -m1 'shoal: panic')"
		log_has "$i" 'shoal: ready in' || return 1
	done
	log_has 0 'console: listening on'
}
until_ok "$BOOT_SECS" all_ready || fail "not every node ready with node0's console listening within $BOOT_SECS s"

# --- join: node0 sees every node alive, over the console -------------------------------------
STEP="join"
MEMBERS=
# joined: `members` answers on node0 and lists NODES members alive.
joined() {
	MEMBERS=$(ctl members 2>&1) || return 1
	[ "$(echo "$MEMBERS" | grep -cE '^node[0-9]+ +[0-9.:]+ +alive ')" = "$NODES" ]
}
until_ok "$JOIN_SECS" joined ||
	fail "node0 did not list $NODES members alive within $JOIN_SECS s; last answer: $MEMBERS"
say "the $NODES nodes see each other"

# --- batch: a demo batch job runs to completion ------------------------------------------------
STEP="batch"
BATCH_ID=$(ctl submit --batch --count $BATCH_COUNT --mem 16 --name hello-demo \
	hello "from make run" 2>&1) || fail "submit: $BATCH_ID"
BATCH_ID=$(echo "$BATCH_ID" | grep -Eo 'j[0-9a-f]{9}' | head -n 1)
[ -n "$BATCH_ID" ] || fail "submit answered no job id"
say "submitted batch job $BATCH_ID (hello-demo, $BATCH_COUNT instances of hello)"
JOB_STATE=
# job_state JOB: the job's state from `status --json` (pending, running, complete, ...).
job_state() {
	ctl --json status "$1" 2>/dev/null | grep -Eo '"state":"[a-z]+"' | head -n 1 |
		sed -E 's/.*:"([a-z]+)"/\1/'
}
batch_over() {
	JOB_STATE=$(job_state "$BATCH_ID")
	case $JOB_STATE in complete | failed | stopped) return 0 ;; esac
	return 1
}
until_ok "$JOB_SECS" batch_over || fail "batch job $BATCH_ID not over within $JOB_SECS s (state '$JOB_STATE')"
[ "$JOB_STATE" = complete ] || fail "batch job $BATCH_ID ended $JOB_STATE"

# --- service: a demo service keeps its instances running ---------------------------------------
STEP="service"
SVC_ID=$(ctl submit --service --count $SERVICE_COUNT --mem 16 --name echo-demo \
	echo-server $ECHO_PORT 1000 2>&1) || fail "submit: $SVC_ID"
SVC_ID=$(echo "$SVC_ID" | grep -Eo 'j[0-9a-f]{9}' | head -n 1)
[ -n "$SVC_ID" ] || fail "submit answered no job id"
say "submitted service $SVC_ID (echo-demo, $SERVICE_COUNT instances of echo-server on port $ECHO_PORT)"
svc_running() {
	[ "$(ctl ps 2>/dev/null | grep -F "$SVC_ID" | grep -cw running)" -ge "$SERVICE_COUNT" ]
}
until_ok "$JOB_SECS" svc_running || fail "service $SVC_ID not $SERVICE_COUNT instances running within $JOB_SECS s"

# --- show ----------------------------------------------------------------------------------
STEP="show"
show() {
	local title=$1 out
	shift
	echo
	echo "== $title"
	out=$(ctl "$@" 2>&1) || fail "$*: $out"
	echo "$out"
}
show "members" members
show "ps" ps
show "status hello-demo" status "$BATCH_ID"
for s in $(seq 0 $((BATCH_COUNT - 1))); do
	show "output of $BATCH_ID.$s (logs $BATCH_ID.$s)" logs "$BATCH_ID.$s"
done
echo

# --- console -------------------------------------------------------------------------------
STEP="console"
CTL_LINE="${CTL#"$TOP"/} -n 127.0.0.1:$PORT -k ${KEYFILE#"$TOP"/}"
if [ -t 0 ] && [ -t 1 ]; then
	say "the cluster is up. From another terminal:  $CTL_LINE COMMAND"
	say "or: openssl s_client -psk $PSK_HEX -psk_identity $PSK_ID -tls1_2 -quiet -connect 127.0.0.1:$PORT"
	say "console on node0 below (try: help, members, ps, jobs, submit --count 5 hello);"
	say "Ctrl-D, quit or Ctrl-C ends it and tears the cluster down"
	"$CTL" -n "127.0.0.1:$PORT" -k "$KEYFILE"
	echo
	exit 0
fi
say "not a terminal: done (the console was: $CTL_LINE COMMAND)"
exit 0
