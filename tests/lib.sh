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
