#!/usr/bin/env bash
# cluster.sh: a cluster of shoal nodes in QEMU on one test bridge (scripts/testnet.sh), for
# `make cluster`, the cluster tests and the gossip benchmark.
#
# Nodes are node0..nodeN-1, node I on tap I of the test net NAME with a static address
# PREFIX.(ADDR_BASE+I) (below testnet's DHCP pool), so that every node but node0 can be
# given node0 as its seed before anything boots. --discover gives no seeds at all (the
# nodes find each other by broadcast); --dhcp takes addresses from dnsmasq (and implies
# --discover). A cluster key is made once per cluster (unless --key or --plaintext) and
# kept in its state directory, so a node restarted later speaks the same key.
# --pxe boots the nodes diskless from the network instead of QEMU's -kernel: each cluster
# has its own TFTP tree (scripts/pxe.sh root, in the state directory) served by the test
# net's dnsmasq, node I's kernel keys in its per-MAC file there (name=nodeI, the key, ...);
# firmware SeaBIOS + iPXE (BIOS) or, with --uefi, OVMF; GRUB then loads the kernel and the
# userland archive by TFTP. --pxe implies --dhcp (so --discover too).
#
#   up N [options]      build the net with N taps (N + --spare), boot node0..N-1
#   down                kill every node by its PID, tear down the net; logs are kept
#   ps | status         one line per node: PID, address, alive or not, its last gossip line
#   start I [--key K]   boot node I (again): same name and address, new log (the old
#                       one becomes nodeI.log.prev); --key boots it under another key
#   kill I              SIGKILL node I (a crash)
#   split I[,J...]      move those nodes' taps to a second bridge: a partition
#   heal                put every tap back on the first bridge
#   addr I | log I | dir    node I's address, its log file, the state directory
#
# Options of up: --profile fast|lan, --key B64 | --plaintext, --discover, --dhcp,
#   --spare K (K more taps for nodes started later), --mem MIB (128), --smp N (1),
#   --append "KEYS" (more kernel command line), --log LEVEL (info),
#   --pxe (boot from the network, BIOS), --uefi (boot from the network under OVMF).
# Every command takes --name NAME (default: cluster; also $SHOAL_CLUSTER), the test
# net's name too. State: build/cluster/NAME/ (logs nodeI.log, pid files, key, settings).
# Needs root (network namespaces and taps); exits 77 when not root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
TESTNET=$top/scripts/testnet.sh
QEMU_SH=$top/scripts/qemu.sh
PXE_SH=$top/scripts/pxe.sh
ADDR_BASE=10	   # node I is PREFIX.(ADDR_BASE + I), below the DHCP pool (.50)
MAX_NODES=40	   # so the static addresses stay below the pool
BRIDGE=br0	   # testnet.sh's bridge
SPLIT_BRIDGE=br1   # the other side of a partition
KEY_BYTES=32	   # AES-256, as Serf's keygen
STOP_WAIT_TENTHS=20 # TERM, then KILL after this many tenths of a second

die() { echo "cluster: $*" >&2; exit 1; }
usage() {
	sed -n '/^#   up N/,/^# Needs root/p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

name=${SHOAL_CLUSTER:-cluster}
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--name) [ $# -ge 2 ] || die "--name needs a value"; name=$2; shift 2 ;;
	*) args+=("$1"); shift ;;
	esac
done
set -- "${args[@]+"${args[@]}"}"
[ $# -ge 1 ] || usage
sub=$1
shift

dir=$top/build/cluster/$name
ns=shoal-$name

need_root() { [ "$(id -u)" = 0 ] || { echo "cluster: needs root" >&2; exit 77; }; }
setting() { cat "$dir/$1" 2>/dev/null || true; }
check_index() {
	if ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -ge "$(setting taps)" ]; then
		die "node index must be 0..$(($(setting taps) - 1)), not '$1'"
	fi
}
addr_of() { echo "$(setting prefix).$((ADDR_BASE + $1))"; }

# alive PID: a running QEMU (not a zombie, not a recycled PID).
alive() {
	local st
	grep -qs qemu "/proc/$1/comm" || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "${st%% *}" != Z ]
}

node_pid() { cat "$dir/node$1.pid" 2>/dev/null || true; }

stop_node() {
	local pid
	pid=$(node_pid "$1")
	if [ -n "$pid" ] && alive "$pid"; then
		kill -"${2:-TERM}" "$pid" 2>/dev/null || true
		for _ in $(seq $STOP_WAIT_TENTHS); do alive "$pid" || break; sleep 0.1; done
		if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
	fi
	rm -f "$dir/node$1.pid"
}

cmd_start() {
	local i=$1 key line pid
	shift
	check_index "$i"
	key=$(setting key)
	while [ $# -gt 0 ]; do
		case $1 in
		--key) [ $# -ge 2 ] || die "--key needs a value"; key=$2; shift 2 ;;
		*) die "start: unknown option $1" ;;
		esac
	done
	stop_node "$i"
	line="name=node$i log=$(setting log) gossip.profile=$(setting profile)"
	if [ "$(setting dhcp)" != 1 ]; then
		line+=" ip=$(addr_of "$i")/24,$(setting prefix).1"
	fi
	if [ -n "$key" ]; then line+=" cluster.key=$key"; else line+=" gossip.plaintext"; fi
	if [ "$(setting discover)" != 1 ] && [ "$i" != 0 ]; then line+=" seeds=$(addr_of 0)"; fi
	[ -z "$(setting append)" ] || line+=" $(setting append)"
	[ -f "$dir/node$i.log" ] && mv -f "$dir/node$i.log" "$dir/node$i.log.prev"
	if [ "$(setting pxe)" = 1 ]; then
		# The node's keys go to its per-MAC file in the cluster's TFTP tree, which GRUB
		# reads; pxe.sh becomes QEMU like qemu.sh does.
		"$PXE_SH" mac "$dir/tftp" "$("$TESTNET" mac "$name" "$i")" "$line"
		"$PXE_SH" qemu --netns "$name" --node "$i" --firmware "$(setting firmware)" \
			--mem "$(setting mem)" --smp "$(setting smp)" </dev/null >"$dir/node$i.log" 2>&1 &
		pid=$!
	else
		# qemu.sh becomes QEMU (exec, also through ip netns exec): $! is QEMU's PID.
		"$QEMU_SH" --netns "$name" --node "$i" --mem "$(setting mem)" --smp "$(setting smp)" \
			--append "$line" </dev/null >"$dir/node$i.log" 2>&1 &
		pid=$!
	fi
	echo "$pid" >"$dir/node$i.pid"
	echo "node$i: pid $pid, $(if [ "$(setting dhcp)" = 1 ]; then echo dhcp; else addr_of "$i"; fi), log $dir/node$i.log"
}

cmd_up() {
	local n=$1 profile=fast key='' plaintext=0 discover=0 dhcp=0 spare=0 mem=128 smp=1 append=''
	local log=info pxe=0 firmware=seabios
	shift
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ]; then die "node count must be a positive number"; fi
	while [ $# -gt 0 ]; do
		case $1 in
		--profile) [ $# -ge 2 ] || die "--profile needs a value"; profile=$2; shift 2 ;;
		--key) [ $# -ge 2 ] || die "--key needs a value"; key=$2; shift 2 ;;
		--plaintext) plaintext=1; shift ;;
		--discover) discover=1; shift ;;
		--dhcp) dhcp=1; discover=1; shift ;;
		--spare) [ $# -ge 2 ] || die "--spare needs a value"; spare=$2; shift 2 ;;
		--mem) [ $# -ge 2 ] || die "--mem needs a value"; mem=$2; shift 2 ;;
		--smp) [ $# -ge 2 ] || die "--smp needs a value"; smp=$2; shift 2 ;;
		--append) [ $# -ge 2 ] || die "--append needs a value"; append=$2; shift 2 ;;
		--log) [ $# -ge 2 ] || die "--log needs a value"; log=$2; shift 2 ;;
		--pxe) pxe=1; dhcp=1; discover=1; shift ;;
		--uefi) pxe=1; dhcp=1; discover=1; firmware=ovmf; shift ;;
		*) die "up: unknown option $1" ;;
		esac
	done
	case $profile in fast | lan) ;; *) die "profile must be fast or lan, not '$profile'" ;; esac
	[[ $spare =~ ^[0-9]+$ ]] || die "--spare must be a number"
	[ $((n + spare)) -le $MAX_NODES ] || die "at most $MAX_NODES nodes and spares"
	[ -f "$top/build/shoal.elf" ] || die "no build/shoal.elf (make)"
	if [ $plaintext = 1 ]; then
		key=
	elif [ -z "$key" ]; then
		key=$(head -c $KEY_BYTES /dev/urandom | base64 -w0)
	fi
	cmd_down >/dev/null 2>&1 || true
	mkdir -p "$dir"
	rm -f "$dir"/node*.log "$dir"/node*.log.prev "$dir"/node*.pid
	local tftp=()
	rm -rf "$dir/tftp"
	if [ $pxe = 1 ]; then
		# The cluster's own tree: its per-MAC files will hold the key.
		(umask 077 && mkdir -p "$dir/tftp")
		"$PXE_SH" root "$dir/tftp" --append "" >"$dir/pxe.log" 2>&1 ||
			{ cat "$dir/pxe.log" >&2; die "pxe.sh root failed"; }
		tftp=(--tftp "$dir/tftp")
	fi
	"$TESTNET" up "$name" $((n + spare)) "${tftp[@]}" >"$dir/testnet.log" 2>&1 ||
		{ cat "$dir/testnet.log" >&2; die "testnet.sh up $name failed"; }
	echo "$((n + spare))" >"$dir/taps"
	"$TESTNET" prefix "$name" >"$dir/prefix"
	echo "$profile" >"$dir/profile"
	echo "$discover" >"$dir/discover"
	echo "$dhcp" >"$dir/dhcp"
	echo "$mem" >"$dir/mem"
	echo "$smp" >"$dir/smp"
	echo "$log" >"$dir/log"
	echo "$append" >"$dir/append"
	echo "$pxe" >"$dir/pxe"
	echo "$firmware" >"$dir/firmware"
	(umask 077 && echo "$key" >"$dir/key")
	for ((i = 0; i < n; i++)); do cmd_start "$i"; done
}

cmd_down() {
	local f i
	for f in "$dir"/node*.pid; do
		[ -e "$f" ] || continue
		i=${f##*/node}
		stop_node "${i%.pid}"
	done
	"$TESTNET" down "$name"
}

cmd_ps() {
	local i pid state addr last
	[ -s "$dir/taps" ] || die "no cluster '$name' (cluster.sh up N)"
	for ((i = 0; i < $(setting taps); i++)); do
		pid=$(node_pid "$i")
		[ -n "$pid" ] || [ -f "$dir/node$i.log" ] || continue
		state=stopped
		[ -n "$pid" ] && alive "$pid" && state=running
		addr=$(addr_of "$i")
		[ "$(setting dhcp)" = 1 ] &&
			addr=$({ grep -aEo 'net: eth0 [0-9.]+' "$dir/node$i.log" 2>/dev/null || true; } |
				tail -n1 | cut -d' ' -f3)
		last=$({ grep -a 'gossip: ' "$dir/node$i.log" 2>/dev/null || true; } | tail -n 1 | tr -d '\r')
		printf 'node%-3s %-8s pid %-7s %-15s %s\n' "$i" "$state" "${pid:--}" "${addr:--}" "$last"
	done
}

# Move each tap to a bridge.
move_taps() {
	local br=$1 i
	shift
	for i in "$@"; do
		check_index "$i"
		ip -n "$ns" link set "tap$i" nomaster
		ip -n "$ns" link set "tap$i" master "$br"
	done
}

cmd_split() {
	[ $# -ge 1 ] || die "split needs node indexes"
	local list
	IFS=', ' read -r -a list <<<"$*"
	if ! ip -n "$ns" link show "$SPLIT_BRIDGE" >/dev/null 2>&1; then
		ip -n "$ns" link add "$SPLIT_BRIDGE" type bridge
		ip -n "$ns" link set "$SPLIT_BRIDGE" type bridge stp_state 0 forward_delay 0
		ip -n "$ns" link set "$SPLIT_BRIDGE" up
	fi
	move_taps "$SPLIT_BRIDGE" "${list[@]}"
}

cmd_heal() {
	local t
	for t in $(ip -n "$ns" -o link show master "$SPLIT_BRIDGE" 2>/dev/null |
		awk -F': ' '{print $2}' | cut -d@ -f1); do
		move_taps "$BRIDGE" "${t#tap}"
	done
}

case $sub in
up) [ $# -ge 1 ] || usage; need_root; cmd_up "$@" ;;
down) need_root; cmd_down ;;
ps | status) cmd_ps ;;
start) [ $# -ge 1 ] || usage; need_root; cmd_start "$@" ;;
kill)
	[ $# = 1 ] || usage
	check_index "$1"
	pid=$(node_pid "$1")
	if [ -z "$pid" ] || ! alive "$pid"; then die "node$1 is not running"; fi
	kill -KILL "$pid"
	;;
split) need_root; cmd_split "$@" ;;
heal) need_root; cmd_heal ;;
addr) [ $# = 1 ] || usage; check_index "$1"; addr_of "$1" ;;
log) [ $# = 1 ] || usage; echo "$dir/node$1.log" ;;
dir) echo "$dir" ;;
*) usage ;;
esac
