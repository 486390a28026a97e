#!/usr/bin/env bash
# console.sh: the network console and /metrics on one node under QEMU (user-mode NIC,
# host forwards to 127.0.0.1), with real clients:
#   console-tls       `openssl s_client -psk` sends `members` and gets a block ending `ok`
#                     that names this node; an unknown command gets `err unknown`, a
#                     binary line `err binary`, an upload with the wrong SHA-256 `err
#                     checksum` (its body is consumed), and the session goes on to `quit`;
#                     the upload is logged with the identity
#   console-badkey    a wrong key and an unknown identity fail the handshake, are
#                     counted and logged, and the node keeps serving
#   console-many      three sessions at once are all served
#   console-garbage   4 KiB of random bytes on 7373 (twice) leave the node serving
#   metrics           GET /metrics parses with promtool and shows the failed handshakes;
#                     another path is 404, a bad request 400
# Every wait is bounded (the whole script: about 30 s under TCG when it passes).
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

READY_SECS=60
CLIENT_SECS=20
PROMTOOL=$TOP/build/third_party/promtool
PSK_ID=tester
PSK_HEX=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
BAD_HEX=ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
CLUSTER_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
NAME=console-node
RE_LISTEN='console: listening on 7373 \(tls-psk\)'
RE_JOINED='gossip: '$NAME' on '

command -v openssl >/dev/null || { skip console "no openssl"; exit 0; }
command -v curl >/dev/null || { skip console "no curl"; exit 0; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# session KEYHEX ID INPUT: run one TLS session; its output in $T_DIR/out, stderr in err.
session() {
	printf '%b' "$3" | timeout "$CLIENT_SECS" openssl s_client -connect "127.0.0.1:$CPORT" \
		-psk "$1" -psk_identity "$2" -tls1_2 -quiet -ign_eof \
		>"$T_DIR/out" 2>"$T_DIR/err"
}

# A full session works: members names this node and ends in ok.
members_ok() {
	session "$PSK_HEX" "$PSK_ID" 'members\nquit\n' || true
	tr -d '\r' <"$T_DIR/out" | grep -q "^$NAME " &&
		tr -d '\r' <"$T_DIR/out" | grep -m1 -E '^(ok|err)' | grep -qx ok
}

# garbage: 4 KiB of random bytes, then close.
garbage() {
	python3 - "$CPORT" <<'EOF'
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
try:
    s.sendall(os.urandom(4096))
    s.settimeout(5)
    s.recv(4096)
except OSError:
    pass
s.close()
EOF
}

CPORT=$(free_port)
MPORT=$(free_port)
qemu_start console --smp 1 --mem 256 --hostfwd "tcp:127.0.0.1:$CPORT-:7373" \
	--hostfwd "tcp:127.0.0.1:$MPORT-:9100" \
	--append "name=$NAME cluster.key=$CLUSTER_KEY console.psk=$PSK_ID:$PSK_HEX console.idle=20"
touch "$QEMU_LOG"
if ! qemu_wait_line "$RE_LISTEN" $READY_SECS || ! qemu_wait_line "$RE_JOINED" $READY_SECS; then
	fail console-tls "not listening: $QEMU_WHY$(panic_reason)" "$QEMU_LOG"
	qemu_stop
	exit 0
fi

# console-tls: members, an unknown command, a binary line, JSON, an upload whose body does
# not match its SHA-256, one that does, then quit.
ZERO_SHA=$(printf '0%.0s' $(seq 64))
HELLO_SHA=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
session "$PSK_HEX" "$PSK_ID" "members\nfrobnicate now\nhelp\x01x\nmembers --json\nupload 5 $ZERO_SHA\nhelloupload 5 $HELLO_SHA\nhello\nquit\n"
out=$(tr -d '\r' <"$T_DIR/out")
why=
echo "$out" | grep -q "^$NAME .* alive " || why="members shows no '$NAME alive' row"
[ -z "$why" ] && { echo "$out" | grep -qE '^err unknown' || why="no 'err unknown'"; }
[ -z "$why" ] && { echo "$out" | grep -qE '^err binary' || why="no 'err binary'"; }
[ -z "$why" ] && { echo "$out" | grep -q "^{\"members\":\[{\"name\":\"$NAME\"" || why="no JSON"; }
[ -z "$why" ] && { echo "$out" | grep -q "^err checksum .*$HELLO_SHA" || why="no 'err checksum'"; }
if [ -z "$why" ]; then
	# The good upload is stored when the scheduler runs, else refused as unavailable.
	if grep -aq 'cluster: scheduler on' "$QEMU_LOG"; then
		echo "$out" | grep -qx "sha256:$HELLO_SHA" || why="good upload not stored"
	else
		echo "$out" | grep -q '^err unavailable' || why="good upload: no 'err unavailable'"
	fi
fi
[ -z "$why" ] && { [ "$(echo "$out" | tail -n 1)" = ok ] || why="quit not answered ok"; }
[ -z "$why" ] && { grep -aq "console: $PSK_ID: upload 5 " "$QEMU_LOG" || why="upload not logged"; }
if [ -z "$why" ]; then pass console-tls; else
	echo "$out" >>"$QEMU_LOG"
	fail console-tls "$why" "$QEMU_LOG"
fi

# console-badkey: a wrong key, then an unknown identity; both refused, then a good one.
why=
session "$BAD_HEX" "$PSK_ID" 'members\nquit\n' && why="wrong key: openssl succeeded"
grep -q '^ok' "$T_DIR/out" && why="wrong key: got a reply"
session "$PSK_HEX" nobody 'members\nquit\n' && why="${why:-unknown identity: openssl succeeded}"
grep -q '^ok' "$T_DIR/out" && why="${why:-unknown identity: got a reply}"
qemu_wait_line 'console: [0-9]+ handshakes failed, last from' 10 ||
	why="${why:-no handshake failure logged}"
members_ok || why="${why:-a good key fails after bad ones}"
if [ -z "$why" ]; then pass console-badkey; else fail console-badkey "$why" "$QEMU_LOG"; fi

# console-many: three sessions at once, each held open for a second, all answered.
why=
pids=()
for i in 1 2 3; do
	(sleep 1; printf 'members\nquit\n') | timeout "$CLIENT_SECS" openssl s_client \
		-connect "127.0.0.1:$CPORT" -psk "$PSK_HEX" -psk_identity "$PSK_ID" -tls1_2 \
		-quiet -ign_eof >"$T_DIR/many$i" 2>/dev/null &
	pids+=($!)
done
wait "${pids[@]}" # not QEMU's
for i in 1 2 3; do
	tr -d '\r' <"$T_DIR/many$i" | grep -q "^$NAME " || why="${why:-session $i of 3 got no members}"
done
if [ -z "$why" ]; then pass console-many; else fail console-many "$why" "$QEMU_LOG"; fi

# console-garbage: random bytes twice, then a good session.
garbage
garbage
why=
members_ok || why="no good session after random bytes"
alive "$QEMU_PID" || why="qemu died"
grep -aq "$RE_PANIC" "$QEMU_LOG" && why="panic"
if [ -z "$why" ]; then pass console-garbage; else fail console-garbage "$why" "$QEMU_LOG"; fi

# metrics: promtool parses it; figures are real; other paths and bad requests.
why=
url=http://127.0.0.1:$MPORT
if ! curl -sf -m 10 -o "$T_DIR/metrics" "$url/metrics"; then
	why="GET /metrics failed"
elif [ -x "$PROMTOOL" ] && ! "$PROMTOOL" check metrics <"$T_DIR/metrics" >"$T_DIR/promtool" 2>&1; then
	why="promtool: $(head -n 3 "$T_DIR/promtool" | paste -sd '|')"
else
	fails=$(sed -nE 's/^shoal_console_handshakes_failed_total ([0-9]+)$/\1/p' "$T_DIR/metrics")
	[ "${fails:-0}" -ge 4 ] || why="handshakes failed: '${fails:-}' (want >= 4)"
	grep -qE '^shoal_members\{state="alive"\} 1$' "$T_DIR/metrics" || why="${why:-no alive member}"
	grep -qE '^shoal_nic_rx_packets_total\{device="eth0"\} [1-9]' "$T_DIR/metrics" ||
		why="${why:-no NIC counters}"
	grep -qE '^shoal_memory_free_bytes [1-9]' "$T_DIR/metrics" || why="${why:-no memory}"
	grep -qE '^# TYPE shoal_cpu_seconds_total counter' "$T_DIR/metrics" || why="${why:-no cpu}"
fi
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$url/nope")
[ "$code" = 404 ] || why="${why:-/nope gave $code, not 404}"
code=$(printf 'BLAH\r\n\r\n' | timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.stdin.buffer.read())
print(s.recv(64).split()[1].decode())' "$MPORT" 2>/dev/null)
[ "$code" = 400 ] || why="${why:-a bad request gave \"$code\", not 400}"
[ -x "$PROMTOOL" ] || why="${why:-no promtool at $PROMTOOL (scripts/deps.sh)}"
if [ -z "$why" ]; then pass metrics; else fail metrics "$why" "$QEMU_LOG"; fi

qemu_stop
