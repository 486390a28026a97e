# lib.sh: shared helpers for shoal's test scripts (sourced, not run): result lines, a
# private temp dir, and QEMU runs with bounded waits.
#
# Result lines are the contract with tests/run.sh, which counts them:
#   PASS name
#   FAIL name (reason)        followed by the tail of the test's log, indented
#   SKIP name (reason)        counted as neither
# Every QEMU run goes through scripts/qemu.sh (whose first log line names the
# accelerator), writes its serial console to a log of its own in this script's temp
# dir, and is killed by PID when its bound runs out. The temp dir and any QEMU still
# running are cleaned up when the sourcing script exits; logs of failed tests are kept
# in build/tests/logs/.
# shellcheck shell=bash disable=SC2034  # its variables are for the sourcing scripts

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QEMU_SH=$TOP/scripts/qemu.sh
LOG_KEEP=$TOP/build/tests/logs
# The accelerator of every boot unless a test says otherwise (tests/qemu/kvm.sh does).
export SHOAL_ACCEL=${SHOAL_ACCEL:-tcg}
# How many log lines a FAIL shows.
FAIL_TAIL=${FAIL_TAIL:-25}

T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shoal-test.XXXXXX")
QEMU_PIDS=()

lib_cleanup() {
	local p
	for p in "${QEMU_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$T_DIR"
}
trap lib_cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS $1"; }
skip() { echo "SKIP $1 ($2)"; }

# fail NAME REASON [LOG]: report, show the log's tail and keep a copy of the log.
fail() {
	echo "FAIL $1 ($2)"
	if [ -n "${3:-}" ] && [ -f "$3" ]; then
		# Without the CRs and the terminal escapes GRUB draws its menu with, and cut
		# to a readable width (the full log is kept).
		tail -n "$FAIL_TAIL" "$3" | tr -d '\r' | sed -E 's/\x1b\[[0-9;?:]*[A-Za-z]//g' |
			cut -c1-200 | sed 's/^/    | /'
		local keep=${1//\//_}.log
		mkdir -p "$LOG_KEEP"
		cp "$3" "$LOG_KEEP/$keep" && echo "    (log: build/tests/logs/$keep)"
	fi
}

# alive PID: the process exists and has not exited (a zombie counts as exited).
alive() {
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "${st%% *}" != Z ]
}

# qemu_start NAME [qemu.sh options...]: boot in the background with the serial console
# captured in $T_DIR/NAME.log. Sets QEMU_PID and QEMU_LOG.
qemu_start() {
	local name=$1
	shift
	QEMU_LOG=$T_DIR/$name.log
	"$QEMU_SH" "$@" </dev/null >"$QEMU_LOG" 2>&1 &
	QEMU_PID=$!
	QEMU_PIDS+=("$QEMU_PID")
}

# qemu_stop: kill QEMU_PID (TERM, then KILL after 2 s) and reap it. Sets QEMU_RC.
qemu_stop() {
	if alive "$QEMU_PID"; then
		kill -TERM "$QEMU_PID" 2>/dev/null
		for _ in $(seq 20); do alive "$QEMU_PID" || break; sleep 0.1; done
		alive "$QEMU_PID" && kill -KILL "$QEMU_PID" 2>/dev/null
	fi
	wait "$QEMU_PID" 2>/dev/null
	QEMU_RC=$?
}

# qemu_wait_line REGEX SECONDS: wait until the log has a line matching the extended
# REGEX. Returns 0 when seen, 1 if QEMU exited first, 2 on timeout; sets QEMU_WHY.
# QEMU keeps running either way unless it exited (then QEMU_RC is its status).
qemu_wait_line() {
	local re=$1 secs=$2 deadline
	deadline=$(($(date +%s%N) + secs * 1000000000))
	while :; do
		if grep -aEq -- "$re" "$QEMU_LOG"; then
			QEMU_WHY=
			return 0
		fi
		if ! alive "$QEMU_PID"; then
			wait "$QEMU_PID" 2>/dev/null
			QEMU_RC=$?
			grep -aEq -- "$re" "$QEMU_LOG" && return 0
			QEMU_WHY="qemu exited with status $QEMU_RC before '$re'"
			return 1
		fi
		if [ "$(date +%s%N)" -ge $deadline ]; then
			QEMU_WHY="no '$re' within ${secs} s"
			return 2
		fi
		sleep 0.1
	done
}

# qemu_wait_exit SECONDS: wait for QEMU to exit; QEMU_RC is its status, or 124 after
# it was killed at the deadline.
qemu_wait_exit() {
	local secs=$1 deadline
	deadline=$(($(date +%s%N) + secs * 1000000000))
	while alive "$QEMU_PID"; do
		if [ "$(date +%s%N)" -ge $deadline ]; then
			qemu_stop
			QEMU_RC=124
			return
		fi
		sleep 0.1
	done
	wait "$QEMU_PID" 2>/dev/null
	QEMU_RC=$?
}

# log_line REGEX: the first line of the log matching REGEX, without the CR.
log_line() { grep -aE -m1 -- "$1" "$QEMU_LOG" | tr -d '\r'; }

# The banner and ready lines of the serial contract (ARCHITECTURE.md).
RE_BANNER='shoal [0-9A-Za-z.+-]+ booting: [0-9]+ cpus, [0-9]+ MiB'
RE_READY='shoal: ready in [0-9]+(\.[0-9]+)? ms'
RE_PANIC='shoal: panic'

# panic_reason: " (panic: ...)" when the log shows a panic, else nothing.
panic_reason() {
	local p
	p=$(log_line "$RE_PANIC")
	[ -n "$p" ] && echo "; ${p#*shoal: }"
}

# expect_selftest NAME SECONDS [qemu.sh options...]: boot with `selftest` and require
# "selftest: N passed, 0 failed" with N > 0 and QEMU's exit status 3 (isa-debug-exit 1).
# Pass --append yourself to add keys; without it the command line is just `selftest`.
expect_selftest() {
	local name=$1 secs=$2
	shift 2
	local has_append=0 a
	for a in "$@"; do [ "$a" = --append ] && has_append=1; done
	if [ $has_append = 1 ]; then
		qemu_start "$name" "$@"
	else
		qemu_start "$name" "$@" --append selftest
	fi
	qemu_wait_exit "$secs"
	check_selftest_result "$name" "$secs"
}

# check_selftest_result NAME SECONDS: judge a finished selftest boot (QEMU_LOG, QEMU_RC).
check_selftest_result() {
	local name=$1 secs=$2 line np nf
	line=$(grep -aEo 'selftest: [0-9]+ passed, [0-9]+ failed' "$QEMU_LOG" | tail -n 1)
	if [ -z "$line" ]; then
		if [ "$QEMU_RC" = 124 ]; then
			fail "$name" "no selftest summary within ${secs} s$(panic_reason)" "$QEMU_LOG"
		else
			fail "$name" "no selftest summary; qemu exit status $QEMU_RC$(panic_reason)" "$QEMU_LOG"
		fi
		return 1
	fi
	np=$(echo "$line" | sed -E 's/selftest: ([0-9]+) passed, ([0-9]+) failed/\1/')
	nf=$(echo "$line" | sed -E 's/selftest: ([0-9]+) passed, ([0-9]+) failed/\2/')
	if [ "$nf" != 0 ]; then
		fail "$name" "$line" "$QEMU_LOG"
	elif [ "$np" = 0 ]; then
		fail "$name" "$line: no self-test ran" "$QEMU_LOG"
	elif [ "$QEMU_RC" != 3 ]; then
		fail "$name" "$line but qemu exit status $QEMU_RC, expected 3 (isa-debug-exit)" "$QEMU_LOG"
	else
		pass "$name"
		return 0
	fi
	return 1
}

# --- Tests on a test cluster (scripts/cluster.sh: QEMU nodes on a bridge in a netns) ---

CLUSTER_SH=$TOP/scripts/cluster.sh
POLL=0.2 # wait_for's interval (s)

# need_testnet NAME: SKIP NAME and return 1 unless this host can run a test net (root,
# for network namespaces and taps; dnsmasq, for its DHCP).
need_testnet() {
	if [ "$(id -u)" != 0 ]; then
		skip "$1" "needs root for network namespaces and taps"
		return 1
	fi
	command -v dnsmasq >/dev/null || { skip "$1" "dnsmasq missing (scripts/deps.sh)"; return 1; }
}

# cluster_init PREFIX: this script's cluster is NAME (PREFIX and the PID, cut to the 12
# characters cluster.sh allows), its files in DIR; it is torn down when the script exits.
cluster_init() {
	NAME=$1$$
	NAME=${NAME:0:12}
	DIR=$(cl dir)
	trap cluster_cleanup EXIT
}

# cluster_cleanup: the EXIT trap cluster_init sets (what a FAIL needs is kept in
# build/tests/logs); a script with more to undo runs it from a trap of its own.
cluster_cleanup() {
	cl down >/dev/null 2>&1
	rm -rf "$DIR"
	lib_cleanup
}

# cl ARGS...: scripts/cluster.sh on this script's cluster.
cl() { "$CLUSTER_SH" --name "$NAME" "$@"; }

# log_of I: node I's serial log.
log_of() { echo "$DIR/node$1.log"; }

# wait_for SECS CMD...: poll CMD every POLL s until it succeeds; 0, or 1 at the bound.
wait_for() {
	local secs=$1 end
	shift
	end=$(($(date +%s%N) + secs * 1000000000))
	until "$@"; do
		[ "$(date +%s%N)" -lt $end ] || return 1
		sleep $POLL
	done
}

# secs_since NS: seconds (one decimal) since NS, a `date +%s%N` stamp.
secs_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# --- Simulator runs (tests/sim): each in the background, bounded by RUN_TIMEOUT s ---

declare -A SIM_PIDS

# sim_start NAME BIN ARGS...: run the simulator in the background into $T_DIR/NAME.{out,log}.
sim_start() {
	local name=$1 bin=$2
	shift 2
	timeout -k 5 "$RUN_TIMEOUT" "$bin" "$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.log" &
	SIM_PIDS[$name]=$!
}

# sim_finish NAME [CHECK]: wait for the run; 0 when it exited cleanly, else a FAIL line
# for CHECK (default sim/NAME).
sim_finish() {
	local name=$1 check=${2:-sim/$1} rc
	wait "${SIM_PIDS[$name]}"
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

# sim_get NAME KEY: a value of the run's output (its KEY=VALUE lines).
sim_get() { sed -n "s/^$2=//p" "$T_DIR/$1.out" | head -n 1; }

# sim_verdict NAME CHECK STATUS REASON FIGURES: PASS (figures below it) when STATUS is 0,
# else FAIL with the reason and the run's log.
sim_verdict() {
	if [ "$3" = 0 ]; then
		pass "$2"
		echo "    $5"
	else
		fail "$2" "$4; $5" "$T_DIR/$1.log"
	fi
}
