#!/usr/bin/env bash
# tasks.sh: the example tasks of userland/ end to end in QEMU, started with run= on the
# kernel command line (at most CONFIG_RUN_MAX = 8 per boot, so three boots):
#   tasks-basic   (1 CPU) hello and its static-PIE twin print their argv and exit 0;
#                 sleep sleeps at least as asked; primes counts right; the broken files
#                 bin/bad-* are refused, each with its reason in the log
#   tasks-faults  (1 CPU, task.mem=32M) segv, ud2, divide error, abort and stack
#                 overflow each end their task with the shell's status and a log line;
#                 an endless loop and a memory hog run beside them, and a sleep started
#                 with them still finishes, and after all of them: the node lives
#                 and the looping task does not starve it
#   tasks-smp2    (2 CPUs, user-mode NIC) pthreads compute the right sum, the syscall
#                 conformance program reports 0 failures, and echo-server echoes two
#                 TCP connections from the host and exits 0
# Task lines come from kernel/task.c: `task ID (PROGRAM) started`, `task ID (PROGRAM)
# exited with STATUS`, and each output line echoed as `[task ID] LINE`. A task is found
# by the first line it prints. Every wait is bounded: READY_SECS to the ready line, then
# TASKS_SECS (default 45 s; a passing run takes ~5 s per boot under TCG) for the tasks;
# with every bound hit the script ends within 6 minutes.
# The 1,000-spawn memory check is a kernel self-test (kernel/task_test.c), not here.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

TASKS_SECS=${TASKS_SECS:-45}
READY_SECS=30
CLIENT_SECS=30 # the host's echo client, both connections
ECHO_PORT=7000 # echo-server's port inside the node
PRIMES_N=20000
PRIMES_COUNT=2262 # pi(20000)
SLEEP_MS=200
WITNESS_MS=3000 # the sleep that must outlive the faults

# What ends the boots, beyond the ready line.
RE_EXIT='task [0-9]+ \([^)]*\) exited with [0-9]+'

# lines: the log without CRs.
lines() { tr -d '\r' <"$QEMU_LOG"; }

# task_of REGEX: the id of the task whose echoed output has a line matching REGEX.
task_of() {
	lines | sed -nE "s#.*\[task ([0-9]+)\] $1.*#\1#p" | head -n 1
}

# status_of ID: its exit status, empty while it runs.
status_of() {
	lines | sed -nE "s/.*task $1 \([^)]*\) exited with ([0-9]+).*/\1/p" | head -n 1
}

# line_no REGEX: the number of the first log line matching REGEX (0: none).
line_no() {
	local n
	n=$(lines | grep -naE -m1 -- "$1" | cut -d: -f1)
	echo "${n:-0}"
}

# output ID REGEX: the task's echoed output has a line matching REGEX.
output() { lines | grep -aqE -- "\[task $1\] $2"; }

# wait_exits N SECONDS: until N tasks have exited (or QEMU ends, or time runs out).
wait_exits() {
	local n=$1 secs=$2 deadline
	deadline=$(($(date +%s) + secs))
	while [ "$(lines | grep -acE "$RE_EXIT")" -lt "$n" ]; do
		alive "$QEMU_PID" || return 1
		[ "$(date +%s)" -ge "$deadline" ] && return 2
		grep -aq "$RE_PANIC" "$QEMU_LOG" && return 1
		sleep 0.2
	done
}

# run_spec ARGS...: the kernel command line's run= keys for these programs.
run_spec() {
	local s='' r
	for r in "$@"; do s+=" run=$r"; done
	echo "${s# }"
}

# boot NAME EXITS KEYS [qemu.sh options...] -- RUN...: boot with the extra command-line
# KEYS, wait for ready and for EXITS tasks to exit.
boot() {
	local name=$1 exits=$2 keys=$3
	shift 3
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	qemu_start "$name" "${opts[@]}" --append "$APPEND $keys $(run_spec "$@")"
	touch "$QEMU_LOG" # the background redirect may not have made it yet
	if ! qemu_wait_line "$RE_READY" $READY_SECS; then
		fail "$name" "not ready: $QEMU_WHY$(panic_reason)" "$QEMU_LOG"
		qemu_stop
		return 1
	fi
	wait_exits "$exits" "$TASKS_SECS"
	case $? in
	1) fail "$name" "qemu ended or panicked before $exits tasks exited$(panic_reason)" "$QEMU_LOG"
	   qemu_stop; return 1 ;;
	2) fail "$name" "fewer than $exits tasks exited within $TASKS_SECS s" "$QEMU_LOG"
	   qemu_stop; return 1 ;;
	esac
	return 0
}

# no NAME REASON: a failed check of this boot (`COND || no NAME REASON`); they collect
# in $bad until verdict.
bad=()
no() { bad+=("$1: $2"); }

# verdict NAME: PASS, or FAIL with every failed check.
verdict() {
	if grep -aq "$RE_PANIC" "$QEMU_LOG"; then bad+=("kernel panic$(panic_reason)"); fi
	if [ ${#bad[@]} = 0 ]; then
		pass "$1"
	else
		local why
		why=$(printf '%s; ' "${bad[@]}")
		fail "$1" "${why%; }" "$QEMU_LOG"
	fi
	bad=()
}

# status_is ID STATUS...: the task exited with one of these statuses.
status_is() {
	local st s id=$1
	shift
	st=$(status_of "$id")
	for s in "$@"; do [ "$st" = "$s" ] && return 0; done
	return 1
}

APPEND=${TASKS_APPEND:-}

# ---- basic: output, argv, static PIE, sleep, primes, refused files ----
basic() {
	local name=tasks-basic-$SHOAL_ACCEL id
	boot "$name" 4 "" --smp 1 --mem 256 -- /bin/hello:a:b /bin/hello-pie:x /bin/sleep:$SLEEP_MS \
		/bin/primes:$PRIMES_N /bin/bad-truncated /bin/bad-machine /bin/bad-dynamic \
		/bin/bad-script || return
	sleep 1 # the refusals come first, but let every echo line land
	qemu_stop

	id=$(task_of "argv\[0\] = /bin/hello$")
	[ -n "$id" ] || no hello "no output from /bin/hello"
	if [ -n "$id" ]; then
		output "$id" "hello from shoal task" || no hello "no greeting"
		{ output "$id" "argv\[1\] = a" && output "$id" "argv\[2\] = b"; } || no hello "argv wrong"
		output "$id" "hello: this line went to stderr" || no hello "stderr not captured"
		status_is "$id" 0 || no hello "status $(status_of "$id"), want 0"
	fi
	id=$(task_of "argv\[0\] = /bin/hello-pie")
	[ -n "$id" ] || no hello-pie "no output from /bin/hello-pie (static PIE)"
	if [ -n "$id" ]; then
		output "$id" "argv\[1\] = x" || no hello-pie "argv wrong"
		status_is "$id" 0 || no hello-pie "status $(status_of "$id"), want 0"
	fi
	id=$(task_of "sleep: asked $SLEEP_MS ms")
	[ -n "$id" ] || no sleep "no output from /bin/sleep"
	[ -z "$id" ] || status_is "$id" 0 || no sleep "status $(status_of "$id") (1: woke early)"
	id=$(task_of "primes below $PRIMES_N:")
	[ -n "$id" ] || no primes "no output from /bin/primes"
	if [ -n "$id" ]; then
		output "$id" "primes below $PRIMES_N: $PRIMES_COUNT " || no primes "wrong count"
		status_is "$id" 0 || no primes "status $(status_of "$id")"
	fi
	local f why
	for f in "bad-truncated:a segment extends past the end of the file" \
		"bad-machine:not an x86-64 program" \
		"bad-dynamic:dynamically linked \(has an interpreter\)" \
		"bad-script:not an ELF file"; do
		why=${f#*:}
		lines | grep -aqE "/bin/${f%%:*}[^a-z-].*$why" || no "${f%%:*}" "not refused: '$why'"
		! lines | grep -aqE "task [0-9]+ \((/bin/)?${f%%:*}\) started" || no "${f%%:*}" "it started"
	done
	verdict "$name"
}

# ---- faults: each ends its own task; the loop, the hog and a sleep beside them ----
faults() {
	local name=tasks-faults-$SHOAL_ACCEL id m st witness last=0 n
	# Five crashes and the hog end early, the witness sleep after them; the loop never.
	boot "$name" 7 task.mem=32M --smp 1 --mem 256 -- \
		/bin/crash:segv /bin/crash:ud /bin/crash:div0 /bin/crash:abort /bin/crash:stack \
		/bin/crash:loop /bin/memhog /bin/sleep:$WITNESS_MS || return
	qemu_stop

	for m in segv:139 ud:132 div0:136 "abort:134 139 132" stack:139; do
		id=$(task_of "crash: ${m%%:*}$")
		[ -n "$id" ] || no "crash-${m%%:*}" "no output"
		[ -n "$id" ] || continue
		st=${m#*:}
		# shellcheck disable=SC2086  # st is a list
		status_is "$id" $st || no "crash-${m%%:*}" "status $(status_of "$id"), want $st"
		! output "$id" "crash: still alive" || no "crash-${m%%:*}" "survived its fault"
		n=$(line_no "task $id \([^)]*\) exited with")
		[ "$n" -gt "$last" ] && last=$n
	done
	id=$(task_of "crash: segv$")
	[ -z "$id" ] || lines | grep -aqE "task $id .*0x0+([^0-9a-fx]|$)" ||
		no crash-segv "no log line naming address 0"
	id=$(task_of "crash: loop$")
	{ [ -n "$id" ] && [ -z "$(status_of "$id")" ]; } ||
		no crash-loop "not running at the end (status $(status_of "${id:-0}"))"
	id=$(task_of "memhog: taking")
	[ -n "$id" ] || no memhog "no output"
	if [ -n "$id" ]; then
		# ENOMEM from mmap (3), or killed at the limit (137); either way it got somewhere.
		status_is "$id" 3 137 || no memhog "status $(status_of "$id"), want 3 or 137"
		output "$id" "memhog: ([0-9]+ MiB|.* after [0-9]+ MiB)" || no memhog "no progress"
	fi
	witness=$(task_of "sleep: asked $WITNESS_MS ms")
	[ -n "$witness" ] || no witness "the sleep beside the faults never finished"
	if [ -n "$witness" ]; then
		status_is "$witness" 0 || no witness "status $(status_of "$witness")"
		n=$(line_no "task $witness \([^)]*\) exited with")
		[ "$n" -gt "$last" ] || no witness "ended before the crashes"
	fi
	verdict "$name"
}

# ---- smp2: threads, conformance, echo-server over a user-mode NIC ----
# echo_client PORT: two connections, each sending 64 KiB and checking it comes back.
echo_client() {
	timeout $CLIENT_SECS python3 - "$1" <<'EOF'
import os, socket, sys, time
port = int(sys.argv[1])
for conn in range(2):
    data = os.urandom(65536)
    deadline = time.time() + 20
    while True:  # the forward exists before the task listens
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(data[:1])
            first = s.recv(1)
            if first == data[:1]:
                break
            s.close()
        except OSError:
            pass
        if time.time() > deadline:
            sys.exit("no echo from 127.0.0.1:%d" % port)
        time.sleep(0.5)
    s.sendall(data[1:])
    s.shutdown(socket.SHUT_WR)
    got = b""
    while len(got) < len(data) - 1:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    if got != data[1:]:
        sys.exit("connection %d: %d of %d bytes echoed intact" % (conn + 1, len(got), len(data) - 1))
print("echo ok")
EOF
}

smp2() {
	local name=tasks-smp2-$SHOAL_ACCEL id port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	qemu_start "$name" --smp 2 --mem 256 --hostfwd "tcp:127.0.0.1:$port-:$ECHO_PORT" \
		--append "$APPEND $(run_spec /bin/threads:4 /bin/conformance /bin/echo-server:$ECHO_PORT:2)"
	touch "$QEMU_LOG"
	if ! qemu_wait_line "$RE_READY" $READY_SECS; then
		fail "$name" "not ready: $QEMU_WHY$(panic_reason)" "$QEMU_LOG"
		qemu_stop
		return
	fi
	local client=ok
	if qemu_wait_line "\[task [0-9]+\] echo-server: listening" "$TASKS_SECS"; then
		echo_client "$port" >"$T_DIR/echo.log" 2>&1 || client="$(tail -n 1 "$T_DIR/echo.log")"
	else
		client="echo-server never listened"
	fi
	wait_exits 3 "$TASKS_SECS"
	qemu_stop

	id=$(task_of "threads: ")
	[ -n "$id" ] || no threads "no output"
	if [ -n "$id" ]; then
		output "$id" "threads: 4 threads, sum [0-9]+ \(ok\), counter [0-9]+ \(ok\)" ||
			no threads "wrong result: $(lines | grep -aoE -m1 "\[task $id\] threads: .*")"
		status_is "$id" 0 || no threads "status $(status_of "$id")"
	fi
	id=$(task_of "conformance: start")
	[ -n "$id" ] || no conformance "no output"
	if [ -n "$id" ]; then
		local summary
		summary=$(lines | grep -aoE -m1 "\[task $id\] conformance: [0-9]+ passed, [0-9]+ failed" |
			sed 's/.*\] //')
		local fails
		fails=$(lines | grep -aoE "\[task $id\] FAIL .*" | sed 's/.*\] FAIL //' | head -n 5 |
			paste -sd '|')
		[[ "$summary" =~ ^conformance:\ [1-9][0-9]*\ passed,\ 0\ failed ]] ||
			no conformance "${summary:-no summary}: $fails"
		status_is "$id" 0 || no conformance "status $(status_of "$id")"
	fi
	id=$(task_of "echo-server: listening")
	[ "$client" = ok ] || no echo-server "client: $client"
	if [ -n "$id" ]; then
		output "$id" "echo-server: served 2 connections, 131072 bytes" ||
			no echo-server "no summary of 2 connections"
		status_is "$id" 0 || no echo-server "status $(status_of "$id")"
	fi
	verdict "$name"
}

if [ ! -f "$TOP/build/userland/bin/hello" ] || [ ! -f "$TOP/build/shoal.elf" ]; then
	fail tasks "build/shoal.elf or build/userland missing (make all)"
	exit 0
fi
basic
faults
smp2
exit 0
