#!/usr/bin/env bash
# isojoin.sh: the ISO (`make iso`) boots under SeaBIOS and under OVMF and joins a running
# cluster. Always TCG (firmware and GRUB do not run under the nested KVM here).
#
#   isojoin/seabios   a 2-node cluster (scripts/cluster.sh, direct boots, no seeds) runs; a
#   isojoin/ovmf      node booted from an ISO made as `make iso` makes build/shoal.iso, but
#                     whose default menu entry carries the cluster's key and a name (an
#                     ISO's command line is its GRUB menu's), logs `joined`, and both
#                     cluster nodes log it alive
#
# The ISO node sits on a spare tap of the cluster's test net and takes its address by DHCP;
# nobody is given seeds (broadcast discovery). Every wait is bounded; the cluster and its
# namespace are torn down by a trap. Needs root: SKIPs otherwise.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

T_UP=${ISOJOIN_T_UP:-30}
T_SEABIOS=${ISOJOIN_T_SEABIOS:-60}
T_OVMF=${ISOJOIN_T_OVMF:-90}
N=2
rc=0

need_testnet isojoin || exit 0
for f in shoal.elf userland.cpio; do
	[ -f "$TOP/build/$f" ] || { fail isojoin "no build/$f (make)"; exit 1; }
done

cluster_init ij

clean() { { tr -d '\r' <"$1"; } 2>/dev/null; }
sees() { clean "$DIR/node$1.log" | grep -aEq "gossip: member $2 [0-9.]+ alive"; }
cluster_up() { sees 0 node1 && sees 1 node0; }

# The cluster: two direct boots, no seeds, two spare taps for the ISO nodes.
if ! cl up $N --discover --spare 2 >"$T_DIR/up.log" 2>&1; then
	fail isojoin "cluster.sh up failed" "$T_DIR/up.log"
	exit 1
fi
if ! wait_for "$T_UP" cluster_up; then
	cat "$DIR"/node*.log >"$T_DIR/cluster.log" 2>/dev/null
	fail isojoin "the 2-node cluster did not form within $T_UP s" "$T_DIR/cluster.log"
	exit 1
fi
KEY=$(cat "$DIR/key")

# iso_join TEST FIRMWARE TAP SECONDS
iso_join() {
	local test=$1 fw=$2 tap=$3 secs=$4 name="iso-$2" tree=$T_DIR/iso-$2 t0
	mkdir -p "$tree/boot/grub"
	cp "$TOP/build/shoal.elf" "$TOP/build/userland.cpio" "$tree/boot/"
	# The first (default) entry's kernel line gets the keys.
	awk -v keys="name=$name cluster.key=$KEY gossip.profile=fast" '
		!done && $1 == "multiboot2" { print $0 " " keys; done = 1; next } { print }' \
		"$TOP/boot/grub-iso.cfg" >"$tree/boot/grub/grub.cfg"
	if ! grep -q "multiboot2 .* name=$name " "$tree/boot/grub/grub.cfg"; then
		fail "$test" "boot/grub-iso.cfg has no multiboot2 line to give keys to"
		return 1
	fi
	if ! grub-mkrescue -o "$T_DIR/$name.iso" "$tree" >"$T_DIR/mkrescue.log" 2>&1; then
		fail "$test" "grub-mkrescue failed" "$T_DIR/mkrescue.log"
		return 1
	fi
	t0=$(date +%s%N)
	qemu_start "$name" --accel tcg --firmware "$fw" --iso "$T_DIR/$name.iso" \
		--netns "$NAME" --node "$tap" --mem 128
	joined() {
		grep -aq "gossip: joined as $name, " "$QEMU_LOG" && sees 0 "$name" && sees 1 "$name"
	}
	if wait_for "$secs" joined; then
		pass "$test (joined $(secs_since "$t0") s after QEMU start)"
		qemu_stop
		return 0
	fi
	qemu_stop
	{
		tr -d '\r' <"$QEMU_LOG" | sed -E 's/\x1b\[[0-9;?:]*[A-Za-z]//g' |
			grep -aE 'shoal|gossip|net: eth0|panic|error' | tail -n 15
		echo "== node0"
		clean "$DIR/node0.log" | grep -a 'gossip:' | tail -n 5
	} >"$T_DIR/$name.report"
	fail "$test" "the ISO node did not join and show alive on both nodes within $secs s" \
		"$T_DIR/$name.report"
	return 1
}

iso_join isojoin/seabios seabios $N "$T_SEABIOS" || rc=1
iso_join isojoin/ovmf ovmf $((N + 1)) "$T_OVMF" || rc=1
exit $rc
