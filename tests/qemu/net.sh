#!/usr/bin/env bash
# net.sh: system tests of networking (issue 3) on the test network of scripts/testnet.sh.
#
# For virtio-net and e1000, one node each: a DHCP lease from dnsmasq (shoal's log line and
# dnsmasq's lease file agree), 1,000 pings from the namespace without loss, 64 MiB through
# the TCP echo service (port 7) back with the same SHA-256, iperf 2 against the node's
# lwiperf (port 5001) both ways with a rate above zero, and a static ip= boot. Plus a node
# with both NICs at once (a lease and pings for each), and a node without a NIC, which must
# say so and still reach ready.
#
# NET_TARGET=linux runs the same checks against the Linux guest of scripts/linux-guest.sh
# (its /init in network mode), which is how the harness itself is checked. Every wait is
# bounded; the namespace is torn down by a trap, also after a failure. Needs root: SKIPs
# otherwise. A node that is ready but has no address is a FAIL.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

TESTNET=$TOP/scripts/testnet.sh
TARGET=${NET_TARGET:-shoal}
MODELS=${NET_MODELS:-virtio-net-pci e1000}
SMP=${NET_SMP:-2}
# Bounds (seconds) of each phase under TCG.
T_ADDR=${NET_T_ADDR:-60}
T_PING=60
T_ECHO=${NET_T_ECHO:-240}
T_IPERF=60
PINGS=1000
PING_GAP=0.002
ECHO_MIB=64
IPERF_SECS=3
IPERF_PORT=5001
# The client's listener for iperf's tradeoff (-r) test, where the node connects back.
IPERF_BACK_PORT=5002
# The static address used: host .STATIC_HOST of the net's /24.
STATIC_HOST=20

if [ "$(id -u)" != 0 ]; then
	skip net "needs root for network namespaces and taps"
	exit 0
fi
for t in ip dnsmasq ping iperf python3; do
	command -v $t >/dev/null || { skip net "$t missing (scripts/deps.sh)"; exit 0; }
done

NET=net$$
NET=${NET:0:12}
net_cleanup() {
	local p
	for p in "${QEMU_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	"$TESTNET" down "$NET" 2>/dev/null
	lib_cleanup
}
trap net_cleanup EXIT

if ! "$TESTNET" up "$NET" 3 >"$T_DIR/testnet.log" 2>&1; then
	fail net/testnet "testnet.sh up failed" "$T_DIR/testnet.log"
	exit 0
fi
PREFIX=$("$TESTNET" prefix "$NET")
GW=$PREFIX.1
STATE=$("$TESTNET" dir "$NET")

# boot NAME NODE MODEL [static ADDR]: start the target on tap NODE.
boot() {
	local name=$1 node=$2 model=$3 static=${4:-}
	: >"$T_DIR/$name.log"
	if [ "$TARGET" = linux ]; then
		local L=$TOP/build/bench/linux app="console=ttyS0 panic=-1 quiet shoal.net=1"
		[ -n "$static" ] && app+=" shoal.ip=$static/24,$GW"
		qemu_start "$name" --netns "$NET" --node "$node" --nic "$model" --smp "$SMP" \
			--mem 256 --kernel "$L/vmlinuz" --initrd "$L/initramfs-net.cpio.gz" --append "$app"
	else
		local app="net.diag=1"
		[ -n "$static" ] && app+=" ip=$static/24,$GW"
		qemu_start "$name" --netns "$NET" --node "$node" --nic "$model" --smp "$SMP" \
			${app:+--append "$app"}
	fi
}

# The log line of an acquired address: shoal's contract, or the Linux guest's.
if [ "$TARGET" = linux ]; then
	re_addr() { echo "linux-net: eth0 [0-9.]+/[0-9]+ via $1"; }
else
	re_addr() { echo "net: eth0 [0-9.]+/[0-9]+ via $1 in [0-9]+(\.[0-9]+)? ms"; }
fi
# wait_addr HOW: wait (bounded by T_ADDR) for the address line of HOW (dhcp|static), a panic
# or "no network interface"; give up early on a shoal node that has been ready for a while
# without an address line (DHCP answers within a second or two here; this saves the full bound).
NO_NET_SECS=20
wait_addr() {
	local re t
	re="$(re_addr "$1")|$RE_PANIC|net: no network interface"
	for ((t = 0; t < T_ADDR; t++)); do
		qemu_wait_line "$re" 1
		[ $? = 2 ] || return
		if [ "$TARGET" = shoal ] && [ $t -ge $NO_NET_SECS ] && grep -aEq "$RE_READY" "$QEMU_LOG"; then
			QEMU_WHY="ready, but no address line within $NO_NET_SECS s"
			return
		fi
	done
	QEMU_WHY="no address line within $T_ADDR s"
}
addr_of_line() { echo "$1" | grep -aEo 'eth0 [0-9.]+/' | sed -E 's/eth0 ([0-9.]+)\//\1/'; }

# The SHA-256 echo check: stream ECHO_MIB of random bytes to ADDR:7 while reading the echo,
# compare digests. Prints one line; exit 0 only when they match.
ECHO_PY=$T_DIR/echo.py
cat >"$ECHO_PY" <<'PY'
import hashlib, os, socket, sys, threading, time
addr, mib, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
total = mib << 20
chunk = 64 << 10
deadline = time.monotonic() + secs
s = socket.create_connection((addr, 7), timeout=10)
s.settimeout(max(1.0, deadline - time.monotonic()))
sent_hash = hashlib.sha256()
err = []
def writer():
    try:
        left = total
        while left:
            b = os.urandom(min(chunk, left))
            sent_hash.update(b)
            s.sendall(b)
            left -= len(b)
        s.shutdown(socket.SHUT_WR)
    except Exception as e:
        err.append(e)
t = threading.Thread(target=writer, daemon=True)
t0 = time.monotonic()
t.start()
got = hashlib.sha256()
n = 0
try:
    while n < total:
        if time.monotonic() > deadline:
            raise TimeoutError("deadline")
        b = s.recv(1 << 16)
        if not b:
            break
        got.update(b)
        n += len(b)
except Exception as e:
    err.append(e)
t.join(5)
dt = time.monotonic() - t0
ok = not err and n == total and got.digest() == sent_hash.digest()
print("echo: %d of %d bytes back in %.1f s (%.1f MB/s), sha256 %s%s" % (
    n, total, dt, n / dt / 1e6, "match" if ok else "MISMATCH",
    "; " + "; ".join(map(str, err)) if err else ""))
sys.exit(0 if ok else 1)
PY

# iperf_rate CSVFILE WHICH: bits/s of the forward (client->node) or back (node->client)
# stream from iperf -y C output.
iperf_rate() {
	local f=$1 which=$2
	# timestamp,src,sport,dst,dport,id,interval,bytes,bps; the destination port tells the
	# stream: the node's lwiperf port, or the client's listener the node connected back to.
	local port=$IPERF_PORT
	[ "$which" = fwd ] || port=$IPERF_BACK_PORT
	awk -F, -v p="$port" '$5 == p { print $9; exit }' "$f"
}

nic_tests() {
	local model=$1 node=$2 short=${1%%-*} t line addr o
	t=net/$short
	boot "$short" "$node" "$model"
	wait_addr dhcp
	line=$(log_line "$(re_addr dhcp)")
	if [ -z "$line" ]; then
		fail "$t/dhcp" "${QEMU_WHY:-no address line}$(panic_reason)" "$QEMU_LOG"
		qemu_stop
		return
	fi
	addr=$(addr_of_line "$line")
	local mac
	mac=$("$TESTNET" mac "$NET" "$node")
	if grep -q " $mac $addr " "$STATE/leases" 2>/dev/null; then
		pass "$t/dhcp"
		echo "    $line"
	else
		cp "$STATE/leases" "$T_DIR/leases" 2>/dev/null
		fail "$t/dhcp" "$addr of $mac not in dnsmasq's lease file" "$T_DIR/leases"
	fi

	o=$T_DIR/$short.ping
	timeout "$T_PING" "$TESTNET" exec "$NET" ping -q -c $PINGS -i $PING_GAP -W 1 "$addr" >"$o" 2>&1
	if grep -q "$PINGS packets transmitted, $PINGS received" "$o"; then
		pass "$t/ping"
		echo "    $(grep rtt "$o")"
	else
		fail "$t/ping" "$(grep transmitted "$o" || echo 'ping gave no summary')" "$o"
	fi

	o=$T_DIR/$short.echo
	if timeout $((T_ECHO + 10)) "$TESTNET" exec "$NET" python3 "$ECHO_PY" "$addr" $ECHO_MIB "$T_ECHO" \
		>"$o" 2>&1; then
		pass "$t/echo"
		echo "    $(cat "$o")"
	else
		fail "$t/echo" "$(tail -n1 "$o")" "$o"
	fi

	o=$T_DIR/$short.iperf
	timeout "$T_IPERF" "$TESTNET" exec "$NET" iperf -c "$addr" -p $IPERF_PORT -t $IPERF_SECS \
		-r -L $IPERF_BACK_PORT -y C >"$o" 2>&1
	local fwd back
	fwd=$(iperf_rate "$o" fwd)
	back=$(iperf_rate "$o" back)
	if [ -n "$fwd" ] && [ "$fwd" -gt 0 ] 2>/dev/null; then
		pass "$t/iperf-to-node"
		echo "    $((fwd / 1000000)) Mbit/s"
	else
		fail "$t/iperf-to-node" "no rate above zero" "$o"
	fi
	if [ -n "$back" ] && [ "$back" -gt 0 ] 2>/dev/null; then
		pass "$t/iperf-from-node"
		echo "    $((back / 1000000)) Mbit/s"
	else
		fail "$t/iperf-from-node" "no rate above zero (iperf -r)" "$o"
	fi
	qemu_stop

	# Static address on another tap (a fresh MAC, so no lease can stand in for it).
	local sa=$PREFIX.$((STATIC_HOST + node))
	boot "$short-static" 2 "$model" "$sa"
	wait_addr static
	if [ -n "$(log_line "$(re_addr static)")" ]; then
		o=$T_DIR/$short.sping
		line=$(log_line "$(re_addr static)")
		if [ "$(addr_of_line "$line")" != "$sa" ]; then
			fail "$t/static" "expected $sa: $line" "$QEMU_LOG"
		elif timeout 30 "$TESTNET" exec "$NET" ping -q -c 10 -i 0.1 -w 20 "$sa" >"$o" 2>&1 &&
			grep -q ', 10 received' "$o"; then
			pass "$t/static"
		else
			fail "$t/static" "no ping replies from $sa" "$o"
		fi
	else
		fail "$t/static" "${QEMU_WHY:-no static address line}$(panic_reason)" "$QEMU_LOG"
	fi
	qemu_stop
}

node=0
for m in $MODELS; do
	nic_tests "$m" $node
	node=$((node + 1))
done

# Several NICs at once: virtio-net on tap 0 and e1000 on tap 1 of the same node, each with a
# lease of its own and answering pings at its own address.
multi_test() {
	local t=net/multi i line addr o extra ok=1
	mapfile -t extra < <("$TESTNET" qemu-args "$NET" 1 --model e1000)
	: >"$T_DIR/multi.log"
	qemu_start multi --netns "$NET" --node 0 --nic virtio-net-pci --smp "$SMP" -- "${extra[@]}"
	for i in 0 1; do
		local re="net: eth$i [0-9.]+/[0-9]+ via dhcp"
		qemu_wait_line "$re|$RE_PANIC" "$T_ADDR"
		line=$(log_line "$re")
		if [ -z "$line" ]; then
			fail "$t" "eth$i: ${QEMU_WHY:-no address line}$(panic_reason)" "$QEMU_LOG"
			ok=0
			break
		fi
		addr=$(echo "$line" | grep -aEo "eth$i [0-9.]+/" | sed -E 's/eth[0-9]+ ([0-9.]+)\//\1/')
		if ! grep -q " $("$TESTNET" mac "$NET" $i) $addr " "$STATE/leases"; then
			cp "$STATE/leases" "$T_DIR/leases" 2>/dev/null
			fail "$t" "eth$i's $addr not in dnsmasq's lease file" "$T_DIR/leases"
			ok=0
			break
		fi
		o=$T_DIR/multi$i.ping
		if ! { timeout 30 "$TESTNET" exec "$NET" ping -q -c 20 -i 0.05 -w 20 "$addr" >"$o" 2>&1 &&
			grep -q ', 20 received' "$o"; }; then
			fail "$t" "eth$i: no ping replies from $addr" "$o"
			ok=0
			break
		fi
	done
	[ $ok = 1 ] && pass "$t"
	qemu_stop
}
[ "$TARGET" = shoal ] && multi_test

# No NIC at all: a clear log line and a node that still reaches ready.
if [ "$TARGET" = shoal ]; then
	qemu_start nonic --smp "$SMP"
	if qemu_wait_line "$RE_READY|$RE_PANIC" 30 && [ -n "$(log_line "$RE_READY")" ]; then
		# The network comes up after ready: wait for its verdict.
		if qemu_wait_line 'net: (no network interface found|[a-z0-9]+ [0-9.]+/)' 10 &&
			grep -aq 'net: no network interface found' "$QEMU_LOG"; then
			pass net/nonic
		else
			fail net/nonic "ready, but no 'net: no network interface found'" "$QEMU_LOG"
		fi
	else
		fail net/nonic "${QEMU_WHY:-no ready line}$(panic_reason)" "$QEMU_LOG"
	fi
	qemu_stop
fi
exit 0
