#!/usr/bin/env bash
# testnet.sh: the test-cluster network. One network namespace per test net, holding a Linux
# bridge with the host side's address, one tap per QEMU node and a DHCP-only dnsmasq.
#
# Design: everything lives inside the namespace `shoal-NAME`, so nothing touches the host's
# interfaces and no packet can leave: the namespace has no route or link to the outside, and
# QEMU runs inside it (`testnet.sh exec NAME qemu...`, or scripts/qemu.sh --netns NAME) because
# the taps exist only there. The /24 is derived from NAME (10.X.Y.0/24 with X in 200..249) so
# that nets of different names, started in parallel, do not share a subnet; `up` moves to the
# next free /24 if another shoal net already holds the derived one, and records its choice in
# build/testnet/NAME/, where dnsmasq's pid, lease and log files also live. Node I's MAC is
# 52:54:00:AA:BB:II, AA:BB from NAME, II = I, so DHCP leases can be told apart per node.
#
#   up NAME N [--tftp ROOT]
#                        create the net with taps tap0..tapN-1 (an existing net is rebuilt);
#                        --tftp: dnsmasq also serves ROOT by TFTP with GRUB's boot images
#                        for PXE (scripts/pxe.sh root ROOT) and sends IPv6 router
#                        advertisements, which iPXE waits for before it boots
#   down NAME            tear it down, state directory included (always safe, also when half
#                        built or already gone)
#   exec NAME CMD...     run CMD inside the namespace
#   qemu-args NAME I [--model virtio-net-pci|e1000]
#                        print QEMU's -netdev/-device arguments for node I, one per line
#   mac NAME I           node I's MAC address
#   addr NAME            the host side's address (the bridge's), e.g. 10.213.7.1
#   prefix NAME          the first three octets, e.g. 10.213.7 (for static ip= tests)
#   dir NAME             the state directory (leases, dnsmasq.log, dnsmasq.pid)
# Needs root (ip netns, taps); exits 77 when not root so callers can SKIP.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# The DHCP pool inside each /24 and its lease time. Addresses below the pool are free for
# static ip= tests; .1 is the bridge.
POOL_FIRST=50
POOL_LAST=150
LEASE_TIME=1h
# ULA /64 for the bridge: fd53:686f:X:Y::/64 ("Sho" in hex), so IPv6 has a local router
# address too and stays inside the namespace like everything else.
ULA_PREFIX=fd53:686f
BRIDGE=br0
# How long `up` waits for dnsmasq to write its pid file.
DNSMASQ_START_SECS=5

die() { echo "testnet: $*" >&2; exit 1; }

usage() {
	sed -n '/^#   up NAME/,/^# Needs root/p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

check_name() {
	[[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$ ]] ||
		die "net name must be 1-16 of [A-Za-z0-9_-], not '$1'"
}

need_root() {
	[ "$(id -u)" = 0 ] || { echo "testnet: needs root" >&2; exit 77; }
}

ns() { echo "shoal-$1"; }
state() { echo "$top/build/testnet/$1"; }

# hash NAME: a stable 32-bit number from NAME.
hash() { printf '%s' "$1" | cksum | cut -d' ' -f1; }

# The /24 of an existing net, or the one derived from NAME for a new net.
derived_prefix() {
	local h
	h=$(hash "$1")
	echo "10.$((200 + h % 50)).$(((h / 50) % 256))"
}

prefix_of() {
	local f
	f="$(state "$1")/prefix"
	if [ -s "$f" ]; then cat "$f"; else derived_prefix "$1"; fi
}

# The /24s used by the bridges of all other shoal nets.
used_prefixes() {
	local n
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^shoal-' || true); do
		[ "$n" = "$(ns "$1")" ] && continue
		{ ip -n "$n" -4 -o addr show dev "$BRIDGE" 2>/dev/null || true; } |
			awk '{ split($4, a, "."); print a[1] "." a[2] "." a[3] }'
	done
}

mac_of() {
	local h i=$2
	if ! [[ $i =~ ^[0-9]+$ ]] || [ "$i" -ge 256 ]; then die "node index must be 0..255, not '$i'"; fi
	h=$(hash "$1")
	printf '52:54:00:%02x:%02x:%02x\n' $(((h >> 8) & 255)) $((h & 255)) "$i"
}

cmd_down() {
	local name=$1 dir pid
	dir=$(state "$name")
	if [ -s "$dir/dnsmasq.pid" ]; then
		pid=$(cat "$dir/dnsmasq.pid")
		# Only a dnsmasq that is ours: the pid file may be stale after a reboot.
		if [[ $pid =~ ^[0-9]+$ ]] && grep -qs dnsmasq "/proc/$pid/comm"; then
			kill "$pid" 2>/dev/null || true
			for _ in $(seq 20); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$dir/dnsmasq.pid"
	fi
	# Deleting the namespace deletes the bridge and the taps in it (unless a QEMU still
	# holds a tap open; the tap then goes when that QEMU exits).
	if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$(ns "$name")"; then
		ip netns del "$(ns "$name")" 2>/dev/null || true
	fi
	rm -rf "$dir"
}

cmd_up() {
	local name=$1 n=$2 dir prefix used h i ula tftp=() pxeargs
	if [ $# -ge 3 ]; then
		mapfile -t pxeargs < <("$top/scripts/pxe.sh" dnsmasq-args "$3")
		[ ${#pxeargs[@]} -gt 0 ] || die "no PXE tree at $3 (scripts/pxe.sh root $3)"
		tftp=("${pxeargs[@]}")
	fi
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 64 ]; then die "tap count must be 1..64"; fi
	command -v dnsmasq >/dev/null || die "dnsmasq missing (scripts/deps.sh installs dnsmasq-base)"
	cmd_down "$name"
	dir=$(state "$name")
	mkdir -p "$dir"
	rm -f "$dir/leases" "$dir/dnsmasq.log" "$dir/prefix"

	prefix=$(derived_prefix "$name")
	used=$(used_prefixes "$name")
	for _ in $(seq 256); do
		grep -qxF "$prefix" <<<"$used" || break
		IFS=. read -r a b c <<<"$prefix"
		prefix="$a.$b.$(((c + 1) % 256))"
	done
	echo "$prefix" > "$dir/prefix"
	h=$(hash "$name")
	ula=$(printf '%s:%x:%x' "$ULA_PREFIX" $(((h >> 16) & 0xffff)) $((h & 0xffff)))
	echo "$ula" > "$dir/ula"
	if [ ${#tftp[@]} -gt 0 ]; then
		tftp+=(--enable-ra --dhcp-range="$ula::,ra-only")
		echo "$3" > "$dir/tftp"
	fi

	local netns
	netns=$(ns "$name")
	ip netns add "$netns"
	ip -n "$netns" link set lo up
	ip -n "$netns" link add "$BRIDGE" type bridge
	# No STP and no forwarding delay: a tap that joins is forwarding at once.
	ip -n "$netns" link set "$BRIDGE" type bridge stp_state 0 forward_delay 0
	ip -n "$netns" addr add "$prefix.1/24" dev "$BRIDGE"
	ip -n "$netns" addr add "$ula::1/64" dev "$BRIDGE" nodad
	ip -n "$netns" link set "$BRIDGE" up
	for ((i = 0; i < n; i++)); do
		ip -n "$netns" tuntap add dev "tap$i" mode tap
		ip -n "$netns" link set "tap$i" master "$BRIDGE"
		ip -n "$netns" link set "tap$i" up
	done

	# DHCP only (--port=0: no DNS), on the bridge only, never probing an address with
	# ICMP before offering it (--no-ping; that costs ~3 s per new lease).
	ip netns exec "$netns" dnsmasq --conf-file=/dev/null --port=0 \
		--interface="$BRIDGE" --bind-interfaces --except-interface=lo \
		--dhcp-range="$prefix.$POOL_FIRST,$prefix.$POOL_LAST,255.255.255.0,$LEASE_TIME" \
		--dhcp-option=option:router,"$prefix.1" \
		--dhcp-authoritative --no-ping --log-dhcp "${tftp[@]}" \
		--dhcp-leasefile="$dir/leases" --log-facility="$dir/dnsmasq.log" \
		--pid-file="$dir/dnsmasq.pid" --user=root --group=root ||
		{ cmd_down "$name"; die "dnsmasq failed to start (see $dir/dnsmasq.log)"; }
	for _ in $(seq $((DNSMASQ_START_SECS * 20))); do
		[ -s "$dir/dnsmasq.pid" ] && break
		sleep 0.05
	done
	[ -s "$dir/dnsmasq.pid" ] || { cmd_down "$name"; die "dnsmasq wrote no pid file"; }
}

cmd_qemu_args() {
	local name=$1 i=$2 model=virtio-net-pci
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--model) [ $# -ge 2 ] || die "--model needs a value"; model=$2; shift 2 ;;
		*) die "qemu-args: unknown option $1" ;;
		esac
	done
	case $model in
	virtio-net-pci | e1000 | e1000e | e1000-82544gc | e1000-82545em) ;;
	*) die "NIC model must be virtio-net-pci or e1000, not '$model'" ;;
	esac
	echo -netdev
	echo "tap,id=net$i,ifname=tap$i,script=no,downscript=no"
	echo -device
	echo "$model,netdev=net$i,mac=$(mac_of "$name" "$i")"
}

[ $# -ge 2 ] || usage
sub=$1
name=$2
shift 2
check_name "$name"
case $sub in
up)
	if [ $# = 3 ] && [ "$2" = --tftp ]; then
		need_root
		cmd_up "$name" "$1" "$3"
	else
		[ $# = 1 ] || usage
		need_root
		cmd_up "$name" "$1"
	fi
	;;
down) [ $# = 0 ] || usage; need_root; cmd_down "$name" ;;
exec) [ $# -ge 1 ] || usage; need_root; exec ip netns exec "$(ns "$name")" "$@" ;;
qemu-args) [ $# -ge 1 ] || usage; cmd_qemu_args "$name" "$@" ;;
mac) [ $# = 1 ] || usage; mac_of "$name" "$1" ;;
addr) echo "$(prefix_of "$name").1" ;;
prefix) prefix_of "$name" ;;
dir) state "$name" ;;
*) usage ;;
esac
