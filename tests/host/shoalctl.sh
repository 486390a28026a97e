#!/usr/bin/env bash
# shoalctl.sh: shoalctl (userland/shoalctl.c) against `openssl s_server -psk` as the far
# end, one result line per case:
#   shoalctl-handshake   the right key handshakes; the server receives the command line
#                        (quoted where needed, --json after the command word); the body
#                        is printed without the status line; exit 0
#   shoalctl-err         an `err` reply: exit 1, the err line on stderr
#   shoalctl-env-key     -k - takes IDENTITY:HEXKEY from $SHOAL_PSK
#   shoalctl-upload      submit ./file: `upload SIZE SHA256` and the raw bytes, then the
#                        submit with sha256:HEX in the program's place; the upload's
#                        reply on stderr, the submit's on stdout
#   shoalctl-follow      logs -f prints lines as they come, until the status line
#   shoalctl-session     no COMMAND: lines from stdin, one reply each
#   shoalctl-wrong-key   the handshake fails: exit 2 with a message
#   shoalctl-no-server   nothing listening: exit 2 at once; a silent listener: exit 2
#                        once -t runs out
#   shoalctl-usage       missing options, bad key files: exit 2
# Every server is bounded by timeout(1) and killed by PID when the script ends.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/lib.sh
. tests/lib.sh

unset MAKEFLAGS MFLAGS MAKELEVEL
CTL=build/shoalctl
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
ID=alice
SERVER_PIDS=()

kill_servers() {
	local p
	for p in "${SERVER_PIDS[@]}"; do
		pkill -KILL -P "$p" 2>/dev/null # a feed's sleep, s_server under timeout
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	SERVER_PIDS=()
}
trap 'kill_servers; lib_cleanup' EXIT

if ! command -v openssl >/dev/null; then
	skip shoalctl "no openssl"
	exit 0
fi
log=$T_DIR/build.log
if ! make -s "$CTL" >"$log" 2>&1; then
	fail shoalctl-build "make $CTL failed" "$log"
	exit 0
fi
echo "$ID:$KEY" >"$T_DIR/key"

# server NAME KEY FEED: start s_server for one connection on a free port, its stdin
# (what it sends) the output of the shell command FEED, what it receives in
# $T_DIR/NAME.in. Sets PORT, SPID; both processes are killed by kill_servers.
server() {
	local name=$1 key=$2 feed=$3
	for _ in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 20000))
		rm -f "$T_DIR/$name.fifo"
		mkfifo "$T_DIR/$name.fifo"
		bash -c "$feed" >"$T_DIR/$name.fifo" 2>/dev/null &
		SERVER_PIDS+=($!)
		timeout -k 1 20 openssl s_server -psk "$key" -psk_identity "$ID" -nocert -tls1_2 \
			-naccept 1 -quiet -accept "127.0.0.1:$PORT" <"$T_DIR/$name.fifo" \
			>"$T_DIR/$name.in" 2>"$T_DIR/$name.err" &
		SPID=$!
		SERVER_PIDS+=("$SPID")
		for _ in $(seq 50); do
			ss -ltnH "sport = :$PORT" 2>/dev/null | grep -q . && return 0
			alive "$SPID" || break
			sleep 0.05
		done
		kill -KILL "$SPID" 2>/dev/null
	done
	return 1
}

# got NAME REGEX: wait (at most 5 s) until the server has written a line matching REGEX
# of what it received, then stop it.
got() {
	for _ in $(seq 100); do
		grep -aqE "$2" "$T_DIR/$1.in" 2>/dev/null && break
		alive "$SPID" || break
		sleep 0.05
	done
	kill -KILL "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
}

# ctl NAME ARGS...: run shoalctl (bounded), its stdout, stderr and status in
# $T_DIR/NAME.out, NAME.stderr, RC.
ctl() {
	local name=$1
	shift
	timeout -k 1 30 "$CTL" "$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.stderr" </dev/null
	RC=$?
}

# judge NAME FILES WHY: PASS when $ok is 1, else FAIL with the case's files
# ($T_DIR/FILES.*: what the server got and sent, what shoalctl printed) as the log.
judge() {
	local name=$1 files=$2 why=$3 f
	for f in "$T_DIR/$files".*; do
		[ -f "$f" ] && { echo "== ${f##*/}"; cat -v "$f"; }
	done >"$T_DIR/$name.log"
	if [ "$ok" = 1 ]; then pass "$name"; else fail "$name" "$why" "$T_DIR/$name.log"; fi
}

# handshake, quoting and --json
server hs $KEY "printf 'line one\nok\n'; sleep 6"
ctl hs -n "127.0.0.1:$PORT" -k "$T_DIR/key" --json status "a b" 'q"x' 'back\slash' ''
got hs "^status"
ok=0
[ $RC = 0 ] && [ "$(cat "$T_DIR/hs.out")" = "line one" ] &&
	[ "$(head -n 1 "$T_DIR/hs.in")" = 'status --json "a b" "q\"x" back\slash ""' ] && ok=1
judge shoalctl-handshake hs "exit $RC; sent '$(head -n 1 "$T_DIR/hs.in")'; printed '$(head -c 80 "$T_DIR/hs.out")'"

# err
server er $KEY "printf 'err notfound no such job: x\n'; sleep 6"
ctl er -n "127.0.0.1:$PORT" -k "$T_DIR/key" status x
ok=0
[ $RC = 1 ] && [ ! -s "$T_DIR/er.out" ] && grep -qx 'err notfound no such job: x' "$T_DIR/er.stderr" && ok=1
judge shoalctl-err er "exit $RC, expected 1 with the err line on stderr"

# -k - and $SHOAL_PSK
server env $KEY "printf 'ok\n'; sleep 6"
SHOAL_PSK="$ID:$KEY" ctl env -n "127.0.0.1:$PORT" -k - jobs
ok=0
[ $RC = 0 ] && [ "$(head -n 1 "$T_DIR/env.in")" = jobs ] && ok=1
judge shoalctl-env-key env "exit $RC"

# submit of a local file: upload, then submit by hash
printf 'pretend ELF\nok\nerr 1\n\0\1\2' >"$T_DIR/prog"
sum=$(sha256sum "$T_DIR/prog" | cut -d' ' -f1)
size=$(stat -c %s "$T_DIR/prog")
server up $KEY "printf 'sha256:$sum\nok\nj0123456789\nok\n'; sleep 6"
ctl up -n "127.0.0.1:$PORT" -k "$T_DIR/key" submit --count 2 --name web "$T_DIR/prog" -x "y z"
got up "^submit"
{
	printf 'upload %s %s\n' "$size" "$sum"
	cat "$T_DIR/prog"
	printf 'submit --count 2 --name web sha256:%s -x "y z"\n' "$sum"
} >"$T_DIR/up.expect"
ok=0
[ $RC = 0 ] && [ "$(cat "$T_DIR/up.out")" = j0123456789 ] && cmp -s "$T_DIR/up.expect" "$T_DIR/up.in" &&
	grep -qx "sha256:$sum" "$T_DIR/up.stderr" && ok=1
judge shoalctl-upload up "exit $RC; the server got something else than upload+bytes+submit"

# logs -f: lines as they come (the first one is printed while the second is not yet sent)
server fo $KEY "printf 'first\n'; sleep 2; printf 'second\n'; sleep 1; printf 'ok\n'; sleep 6"
timeout -k 1 30 "$CTL" -n "127.0.0.1:$PORT" -k "$T_DIR/key" logs j0123456789.0 -f \
	>"$T_DIR/fo.out" 2>"$T_DIR/fo.stderr" </dev/null &
CPID=$!
SERVER_PIDS+=("$CPID")
early=no
for _ in $(seq 100); do
	if grep -q first "$T_DIR/fo.out" 2>/dev/null; then
		grep -q second "$T_DIR/fo.out" || early=yes
		break
	fi
	sleep 0.05
done
wait "$CPID"
RC=$?
ok=0
[ $RC = 0 ] && [ $early = yes ] && [ "$(cat "$T_DIR/fo.out")" = "$(printf 'first\nsecond')" ] && ok=1
judge shoalctl-follow fo "exit $RC; first line shown before the second was sent: $early"

# an interactive session: two commands, two replies
server se $KEY "printf 'a\nok\nerr usage nope\n'; sleep 6"
printf 'jobs\n\n  status "x y"  \n' | timeout -k 1 30 "$CTL" -n "127.0.0.1:$PORT" -k "$T_DIR/key" \
	>"$T_DIR/se.out" 2>"$T_DIR/se.stderr"
RC=$?
got se "^status"
ok=0
[ $RC = 1 ] && [ "$(cat "$T_DIR/se.out")" = a ] && grep -qx 'err usage nope' "$T_DIR/se.stderr" &&
	[ "$(cat "$T_DIR/se.in")" = "$(printf 'jobs\nstatus "x y"')" ] && ok=1
judge shoalctl-session se "exit $RC (expected 1: the last reply was err)"

# the wrong key
server wk $KEY "sleep 3"
echo "$ID:ffffffffffffffffffffffffffffffff" >"$T_DIR/badkey"
ctl wk -n "127.0.0.1:$PORT" -k "$T_DIR/badkey" jobs
ok=0
[ $RC = 2 ] && grep -q 'handshake' "$T_DIR/wk.stderr" && [ ! -s "$T_DIR/wk.in" ] && ok=1
judge shoalctl-wrong-key wk "exit $RC, expected 2 and a handshake message"

# no server: refused at once; a listener that never answers: -t bounds the handshake
free=$((20000 + RANDOM % 20000))
ss -ltnH "sport = :$free" | grep -q . && free=$((free + 1))
ctl ns -n 127.0.0.1:$free -k "$T_DIR/key" jobs
rc1=$RC
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); time.sleep(10)" >"$T_DIR/silent.port" &
SERVER_PIDS+=($!)
for _ in $(seq 50); do [ -s "$T_DIR/silent.port" ] && break; sleep 0.05; done
start=$(date +%s)
ctl ns2 -t 2 -n "127.0.0.1:$(cat "$T_DIR/silent.port")" -k "$T_DIR/key" jobs
took=$(($(date +%s) - start))
ok=0
[ $rc1 = 2 ] && [ $RC = 2 ] && [ $took -le 4 ] && grep -q 'no answer within 2 s' "$T_DIR/ns2.stderr" && ok=1
judge shoalctl-no-server ns "refused: exit $rc1; silent: exit $RC after ${took} s (expected 2, 2 within 4 s)"
kill_servers

# usage failures
ok=1
for args in "jobs" "-n 127.0.0.1 jobs" "-k $T_DIR/key jobs" "-n 127.0.0.1 -k /nonexistent jobs" \
	"-n 127.0.0.1 -k $T_DIR/prog jobs" "-n 127.0.0.1 -k $T_DIR/key -t 0 jobs" \
	"-n 127.0.0.1 -k $T_DIR/key --bogus jobs"; do
	# shellcheck disable=SC2086  # split on purpose
	timeout 10 "$CTL" $args >/dev/null 2>>"$T_DIR/us.log" </dev/null
	rc=$?
	[ $rc = 2 ] || { ok=0; echo "shoalctl $args: exit $rc" >>"$T_DIR/us.log"; }
done
judge shoalctl-usage us "some usage error did not exit 2"
exit 0
