#!/usr/bin/env bash
# run.sh: system tests of `make run` (scripts/run.sh, issue 7) after the build: a local
# cluster of three nodes in QEMU on a multicast segment over loopback (no root), a demo
# batch job and a demo service, driven through build/shoalctl.
#
#   run/exit         without a terminal it completes and exits 0 within T_RUN s
#   run/members      its `== members` section lists node0..node2 alive
#   run/ps           its `== ps` section lists the demo service's instances running
#   run/output       the batch job is complete with every instance exited 0, and each
#                    instance's output section shows hello's lines
#   run/teardown     no QEMU of that run is left (found by its multicast group, which is in
#                    every one of its QEMU command lines) and it needed no network
#                    namespace; the key file is 0600
#   run/interactive  on a terminal (a pty from script(1)) the console takes `members` and
#                    `quit`, then the cluster is torn down and the status is 0
#   run/fail-step    with the console's host port taken, it exits non-zero naming the
#                    failed step (`FAILED at ready`) and leaves no QEMU behind
# Every run is bounded (timeout); each uses its own RUN_DIR under the test's temp dir.
# shellcheck disable=SC2086  # $left: a list of PIDs, split on purpose
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

RUN_SH=$TOP/scripts/run.sh
T_RUN=${RUN_T_RUN:-120} # the whole run; it takes a few seconds under TCG when idle
N=3

for f in shoal.elf userland.cpio shoalctl; do
	[ -f "$TOP/build/$f" ] || { fail run "no build/$f (make)"; exit 0; }
done

# mcast_of LOG: the run's multicast group:port, from its `booting` line.
mcast_of() { grep -aEo 'multicast [0-9.]+:[0-9]+' "$1" | head -n 1 | cut -d' ' -f2; }
# qemus_of GROUP: PIDs of processes whose command line names the multicast GROUP.
qemus_of() {
	local f
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF "mcast=$1," && basename "$(dirname "$f")"
	done
}
# section LOG TITLE: the lines of the `== TITLE` section, up to the next blank line.
section() { awk -v t="== $2" '$0 == t {on = 1; next} on && /^$/ {exit} on' "$1"; }

# --- the non-interactive run -----------------------------------------------------------
OUT=$T_DIR/run.out
RUN_DIR=$T_DIR/run
start=$(date +%s%N)
RUN_DIR=$RUN_DIR timeout -k 5 "$T_RUN" "$RUN_SH" </dev/null >"$OUT" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
cp "$OUT" "$T_DIR/all.log"
for i in $(seq 0 $((N - 1))); do
	[ -f "$RUN_DIR/node$i.log" ] && { echo "--- node$i"; tr -d '\r' <"$RUN_DIR/node$i.log"; } >>"$T_DIR/all.log"
done
if [ $rc = 0 ]; then
	pass run/exit
	echo "    run: $ms ms"
elif [ $rc = 124 ] || [ $rc = 137 ]; then
	fail run/exit "not over within $T_RUN s" "$T_DIR/all.log"
else
	fail run/exit "exit status $rc: $(grep -a -m1 'FAILED at' "$OUT")" "$T_DIR/all.log"
fi

alive_n=$(section "$OUT" members | grep -cE '^node[0-2] +[0-9.:]+ +alive ')
if [ "$alive_n" = $N ]; then pass run/members; else
	fail run/members "$alive_n of $N nodes alive in the members section" "$OUT"
fi

svc=$(grep -aEo 'submitted service j[0-9a-f]{9}' "$OUT" | cut -d' ' -f3)
running=0
[ -n "$svc" ] && running=$(section "$OUT" ps | grep -F "$svc." | grep -cw running)
if [ "$running" -ge 2 ]; then pass run/ps; else
	fail run/ps "service '${svc:-none}' has $running instances running in the ps section" "$OUT"
fi

batch=$(grep -aEo 'submitted batch job j[0-9a-f]{9}' "$OUT" | cut -d' ' -f4)
why=
if [ -z "$batch" ]; then
	why="no batch job submitted"
else
	st=$(section "$OUT" "status hello-demo")
	echo "$st" | grep -qE "^$batch +hello-demo +batch +complete " || why="the job is not complete"
	[ "$(echo "$st" | grep -cE "^$batch\.[0-2] +[0-9]+ +node[0-2] +exited +0$")" = 3 ] ||
		why="${why:+$why; }not every instance exited 0"
	for s in 0 1 2; do
		o=$(section "$OUT" "output of $batch.$s (logs $batch.$s)")
		grep -qx 'hello from shoal task' <<<"$o" && grep -qx 'argv\[1\] = from make run' <<<"$o" ||
			why="${why:+$why; }no hello output in $batch.$s's section"
	done
fi
if [ -z "$why" ]; then pass run/output; else fail run/output "$why" "$OUT"; fi

group=$(mcast_of "$OUT")
left=
[ -n "$group" ] && left=$(qemus_of "$group")
mode=$(stat -c %a "$RUN_DIR/console.key" 2>/dev/null)
if [ -z "$group" ]; then
	fail run/teardown "no multicast group in the output" "$OUT"
elif [ -n "$left" ]; then
	fail run/teardown "QEMU still running: ${left//$'\n'/ }" "$OUT"
	kill -KILL $left 2>/dev/null
elif grep -aq 'ip netns' "$RUN_DIR"/node*.log; then
	fail run/teardown "a node ran inside a network namespace" "$OUT"
elif [ "$mode" != 600 ]; then
	fail run/teardown "the key file's mode is '$mode', not 600" "$OUT"
else
	pass run/teardown
fi

# --- on a terminal: the console, then teardown -------------------------------------------
if ! command -v script >/dev/null; then
	skip run/interactive "no script(1) (util-linux)"
else
	TTY_OUT=$T_DIR/tty.out
	# The commands wait in the pty until the console reads them; quit ends the session.
	printf 'members\nquit\n' | RUN_DIR=$T_DIR/tty timeout -k 5 "$T_RUN" \
		script -qefc "$RUN_SH" "$T_DIR/tty.typescript" >/dev/null 2>&1
	rc=$?
	tr -d '\r' <"$T_DIR/tty.typescript" >"$TTY_OUT" 2>/dev/null
	group=$(mcast_of "$TTY_OUT")
	left=
	[ -n "$group" ] && left=$(qemus_of "$group")
	# The members table the console printed after the demo's own (the demo shows one).
	tables=$(grep -cE '^(shoal> )?NAME +ADDR +STATE' "$TTY_OUT")
	if [ $rc != 0 ]; then
		fail run/interactive "exit status $rc" "$TTY_OUT"
	elif ! grep -q 'console on node0' "$TTY_OUT" || [ "$tables" -lt 2 ]; then
		fail run/interactive "no members table from the console session" "$TTY_OUT"
	elif ! grep -q 'cluster torn down' "$TTY_OUT" || [ -z "$group" ] || [ -n "$left" ]; then
		fail run/interactive "not torn down (left: ${left:-none})" "$TTY_OUT"
		[ -n "$left" ] && kill -KILL $left 2>/dev/null
	else
		pass run/interactive
	fi
fi

# --- a failed step: the console's port taken ---------------------------------------------
PORT_FILE=$T_DIR/port
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]) + "\n")
time.sleep(float(sys.argv[2]))' "$PORT_FILE" "$T_RUN" &
holder=$!
for _ in $(seq 50); do [ -s "$PORT_FILE" ] && break; sleep 0.1; done
port=$(cat "$PORT_FILE" 2>/dev/null)
FAIL_OUT=$T_DIR/fail.out
if [ -z "$port" ]; then
	fail run/fail-step "could not hold a port"
else
	PORT=$port RUN_DIR=$T_DIR/fail BOOT_SECS=20 timeout -k 5 "$T_RUN" "$RUN_SH" </dev/null >"$FAIL_OUT" 2>&1
	rc=$?
	group=$(mcast_of "$FAIL_OUT")
	left=
	[ -n "$group" ] && left=$(qemus_of "$group")
	if [ $rc = 0 ] || [ $rc = 124 ]; then
		fail run/fail-step "exit status $rc with port $port taken" "$FAIL_OUT"
	elif ! grep -q 'run: FAILED at ready: node0 exited' "$FAIL_OUT"; then
		fail run/fail-step "exit status $rc but no 'FAILED at ready: node0 exited'" "$FAIL_OUT"
	elif [ -z "$group" ] || [ -n "$left" ]; then
		fail run/fail-step "QEMU left: ${left:-none}" "$FAIL_OUT"
		[ -n "$left" ] && kill -KILL $left 2>/dev/null
	else
		pass run/fail-step
	fi
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
exit 0
