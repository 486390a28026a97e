#!/usr/bin/env bash
# pxe.sh: diskless PXE boots from the TFTP tree scripts/pxe.sh writes (`make pxe`), served
# by the test net's dnsmasq (scripts/cluster.sh up N --pxe / --uefi). Always TCG: SeaBIOS,
# iPXE and OVMF do not run under the nested KVM of these machines (toolchain notes).
#
#   pxe/tree           pxe.sh root + samples: GRUB's BIOS and UEFI network images, grub.cfg,
#                      kernel, archive; a per-MAC file; both dnsmasq samples name the tree
#   pxe/bios-cluster   3 nodes boot in parallel through SeaBIOS + iPXE + GRUB (i386-pc),
#                      get their addresses by DHCP and form one cluster with no seeds
#                      (broadcast discovery): every node logs `joined` and the 2 others alive.
#                      Their names come from their per-MAC files only (the override works),
#                      and dnsmasq's log shows core.0 and the kernel sent to 3 addresses
#   pxe/uefi           1 node boots through OVMF + GRUB (x86_64-efi) and gets its address
#   pxe/proxy-dhcp     the proxy sample (dnsmasq-proxy.conf as `make pxe` writes it, with
#                      this net's subnet) in a namespace of its own, plugged into a test net
#                      whose dnsmasq gives addresses only: a BIOS node gets core.0 from the
#                      proxy, the rest from the tree (made with --server, as proxy DHCP
#                      needs) and its address from the other dnsmasq
#
# Every wait is bounded; the clusters and their namespaces are torn down by a trap. Needs
# root: SKIPs otherwise.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

PXE_SH=$TOP/scripts/pxe.sh
# Bounds (seconds) under TCG on a shared 2-core host: a BIOS PXE boot takes ~6 s alone,
# a UEFI one ~9 s; three boots in parallel share the cores.
T_BIOS=${PXE_T_BIOS:-75}
T_UEFI=${PXE_T_UEFI:-60}
N=3
rc=0

# 1. The tree, without QEMU.
tree=$T_DIR/tree
if ! "$PXE_SH" root "$tree/tftp" --append "log=info" >"$T_DIR/tree.log" 2>&1 ||
	! "$PXE_SH" samples "$tree" "$tree/tftp" >>"$T_DIR/tree.log" 2>&1 ||
	! "$PXE_SH" mac "$tree/tftp" 52:54:00:AB:CD:01 "name=n1" >>"$T_DIR/tree.log" 2>&1; then
	fail pxe/tree "pxe.sh root/samples/mac failed" "$T_DIR/tree.log"
	rc=1
else
	missing=
	for f in boot/grub/i386-pc/core.0 boot/grub/x86_64-efi/core.efi boot/grub/i386-pc/normal.mod \
		boot/grub/x86_64-efi/normal.mod boot/grub/grub.cfg boot/grub/site.cfg boot/shoal.elf \
		boot/userland.cpio boot/grub/grub.cfg-01-52-54-00-ab-cd-01; do
		[ -s "$tree/tftp/$f" ] || missing+=" $f"
	done
	abs=$(cd "$tree/tftp" && pwd)
	if [ -n "$missing" ]; then
		fail pxe/tree "missing from the tree:$missing" "$T_DIR/tree.log"
		rc=1
	elif ! grep -q 'set shoal_node="name=n1"' "$tree/tftp/boot/grub/grub.cfg-01-52-54-00-ab-cd-01" ||
		! grep -q '^source /boot/grub/grub.cfg$' "$tree/tftp/boot/grub/grub.cfg-01-52-54-00-ab-cd-01"; then
		fail pxe/tree "the per-MAC file does not set shoal_node and source grub.cfg"
		rc=1
	elif ! grep -qx "tftp-root=$abs" "$tree/dnsmasq.conf" ||
		! grep -qx "tftp-root=$abs" "$tree/dnsmasq-proxy.conf" ||
		! grep -q '^dhcp-range=.*,proxy$' "$tree/dnsmasq-proxy.conf"; then
		fail pxe/tree "the dnsmasq samples do not serve the tree"
		rc=1
	elif "$PXE_SH" mac "$tree/tftp" 52:54:00:ab:cd:02 'name=x;reboot' >/dev/null 2>&1 ||
		"$PXE_SH" mac "$tree/tftp" 52:54:00:zz:cd:02 'name=x' >/dev/null 2>&1; then
		fail pxe/tree "pxe.sh mac took keys GRUB would run or a bad MAC"
		rc=1
	else
		pass pxe/tree
	fi
fi

need_testnet pxe || exit $rc
for f in shoal.elf userland.cpio; do
	[ -f "$TOP/build/$f" ] || { fail pxe "no build/$f (make)"; exit 1; }
done

cluster_init px

clean() { { tr -d '\r' <"$(log_of "$1")"; } 2>/dev/null; }
# report NAME REASON N: fail with the nodes' and dnsmasq's logs.
report() {
	local i out=$T_DIR/report.log
	: >"$out"
	for ((i = 0; i < $3; i++)); do
		echo "== node$i" >>"$out"
		clean "$i" | sed -E 's/\x1b\[[0-9;?:]*[A-Za-z]//g' |
			grep -aE 'shoal-pxe|Booting|error|gossip:|panic|net: eth0' | tail -n 8 >>"$out"
	done
	echo "== dnsmasq" >>"$out"
	grep -avE '\.(mod|lst)|not found' "$("$TOP/scripts/testnet.sh" dir "$NAME")/dnsmasq.log" 2>/dev/null |
		tail -n 10 >>"$out"
	fail "$1" "$2" "$out"
	rc=1
}

# 2. Three BIOS nodes, in parallel, no seeds.
converged() {
	local i j
	for ((i = 0; i < N; i++)); do
		clean "$i" | grep -aq "gossip: joined as node$i, " || return 1
		for ((j = 0; j < N; j++)); do
			[ "$i" = "$j" ] || clean "$i" | grep -aEq "gossip: member node$j [0-9.]+ alive" || return 1
		done
	done
}
t0=$(date +%s%N)
if ! cl up $N --pxe >"$T_DIR/up.log" 2>&1; then
	fail pxe/bios-cluster "cluster.sh up $N --pxe failed" "$T_DIR/up.log"
	rc=1
elif ! wait_for "$T_BIOS" converged; then
	report pxe/bios-cluster "not every node joined and saw the others alive within $T_BIOS s" $N
else
	took=$(secs_since "$t0")
	dlog=$("$TOP/scripts/testnet.sh" dir "$NAME")/dnsmasq.log
	nbios=$(grep -a 'sent .*/boot/grub/i386-pc/core.0 to ' "$dlog" | awk '{print $NF}' | sort -u | wc -l)
	nkern=$(grep -a 'sent .*/boot/shoal.elf to ' "$dlog" | awk '{print $NF}' | sort -u | wc -l)
	seeded=$(cat "$DIR"/node*.log | tr -d '\r' | grep -ac 'gossip: .* seeds none (discovery by broadcast)')
	if [ "$nbios" != $N ] || [ "$nkern" != $N ]; then
		report pxe/bios-cluster "dnsmasq sent core.0 to $nbios and shoal.elf to $nkern addresses, not $N" $N
	elif [ "$seeded" != $N ]; then
		report pxe/bios-cluster "$seeded of $N nodes started gossip with no seeds" $N
	else
		pass "pxe/bios-cluster ($N nodes joined $took s after cluster.sh up)"
	fi
fi
cl down >/dev/null 2>&1

# 3. One UEFI node.
got_addr() { clean 0 | grep -aEq 'net: eth0 [0-9.]+/[0-9]+ via dhcp'; }
t0=$(date +%s%N)
if ! cl up 1 --uefi >"$T_DIR/up-uefi.log" 2>&1; then
	fail pxe/uefi "cluster.sh up 1 --uefi failed" "$T_DIR/up-uefi.log"
	rc=1
elif ! wait_for "$T_UEFI" got_addr; then
	report pxe/uefi "no DHCP address within $T_UEFI s" 1
else
	took=$(secs_since "$t0")
	dlog=$("$TOP/scripts/testnet.sh" dir "$NAME")/dnsmasq.log
	addr=$(clean 0 | grep -aEo 'net: eth0 [0-9.]+' | head -n1 | cut -d' ' -f3)
	if ! grep -aEq "sent .*/boot/grub/x86_64-efi/core.efi to ${addr//./\\.} *$" "$dlog"; then
		report pxe/uefi "dnsmasq did not send core.efi to $addr" 1
	else
		pass "pxe/uefi (address $addr $took s after cluster.sh up)"
	fi
fi
cl down >/dev/null 2>&1

# 4. Proxy DHCP: the test net's dnsmasq gives addresses (no --tftp); the sample's proxy
# dnsmasq, in namespace PNS behind a veth on the bridge, gives the boot file and the tree.
PNS=pxeproxy-$NAME
PDIR=$T_DIR/proxy
NET_NS=shoal-$NAME
proxy_cleanup() {
	local pid
	pid=$(cat "$PDIR/dnsmasq.pid" 2>/dev/null)
	if [[ $pid =~ ^[0-9]+$ ]] && grep -qs dnsmasq "/proc/$pid/comm"; then kill "$pid"; fi
	ip netns del "$PNS" 2>/dev/null
	"$TOP/scripts/testnet.sh" down "$NAME" >/dev/null 2>&1
}
trap 'proxy_cleanup; cluster_cleanup' EXIT
proxy_boot() {
	local prefix pid t0 ok
	mkdir -p "$PDIR"
	"$TOP/scripts/testnet.sh" up "$NAME" 1 >"$PDIR/setup.log" 2>&1 || return 1
	prefix=$("$TOP/scripts/testnet.sh" prefix "$NAME")
	"$PXE_SH" root "$PDIR/tftp" --append "gossip.plaintext" --server "$prefix.2" \
		>>"$PDIR/setup.log" 2>&1 || return 1
	"$PXE_SH" samples "$PDIR" "$PDIR/tftp" >>"$PDIR/setup.log" 2>&1 || return 1
	{
		ip netns add "$PNS" &&
			ip -n "$PNS" link set lo up &&
			ip link add pxv0 netns "$NET_NS" type veth peer name eth1 netns "$PNS" &&
			ip -n "$NET_NS" link set pxv0 master br0 &&
			ip -n "$NET_NS" link set pxv0 up &&
			ip -n "$PNS" addr add "$prefix.2/24" dev eth1 &&
			ip -n "$PNS" addr add fd53:7078::2/64 dev eth1 nodad &&
			ip -n "$PNS" link set eth1 up
	} >>"$PDIR/setup.log" 2>&1 || return 1
	# The sample as written, with this net's subnet, plus what a test needs: files of
	# its own, root (no privilege drop), and RAs for iPXE's IPv6 wait.
	sed "s/^dhcp-range=.*,proxy$/dhcp-range=$prefix.0,proxy/" "$PDIR/dnsmasq-proxy.conf" >"$PDIR/p.conf"
	printf '%s\n' enable-ra dhcp-range=fd53:7078::,ra-only "log-facility=$PDIR/dnsmasq.log" \
		"pid-file=$PDIR/dnsmasq.pid" user=root group=root >>"$PDIR/p.conf"
	ip netns exec "$PNS" dnsmasq --conf-file="$PDIR/p.conf" >>"$PDIR/setup.log" 2>&1 || return 1
	for _ in $(seq 100); do [ -s "$PDIR/dnsmasq.pid" ] && break; sleep 0.05; done
	t0=$(date +%s%N)
	PROXY_LOG=$PDIR/node.log
	"$PXE_SH" qemu --netns "$NAME" --node 0 </dev/null >"$PROXY_LOG" 2>&1 &
	pid=$!
	QEMU_PIDS+=("$pid")
	wait_for "$T_BIOS" grep -saEq 'gossip: .* on [0-9.]+:' "$PROXY_LOG"
	ok=$?
	PROXY_TOOK=$(secs_since "$t0")
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return $ok
}
if ! proxy_boot; then
	{
		cat "$PDIR/setup.log" 2>/dev/null
		tr -d '\r' <"$PDIR/node.log" 2>/dev/null | sed -E 's/\x1b\[[0-9;?:]*[A-Za-z]//g' |
			grep -aE 'shoal|gossip|net: eth0|error' | tail -n 8
		echo "== proxy dnsmasq"
		grep -avE '\.(mod|lst)|not found|sent size' "$PDIR/dnsmasq.log" 2>/dev/null | tail -n 8
	} >"$T_DIR/proxy.report"
	fail pxe/proxy-dhcp "no node booted through the proxy within $T_BIOS s" "$T_DIR/proxy.report"
	rc=1
elif ! grep -aq "sent .*/boot/grub/i386-pc/core.0 to " "$PDIR/dnsmasq.log" ||
	! grep -aq "sent .*/boot/shoal.elf to " "$PDIR/dnsmasq.log"; then
	fail pxe/proxy-dhcp "the proxy did not serve core.0 and the kernel" "$PDIR/dnsmasq.log"
	rc=1
elif ! grep -aq "DHCPACK(br0)" "$("$TOP/scripts/testnet.sh" dir "$NAME")/dnsmasq.log"; then
	fail pxe/proxy-dhcp "the address did not come from the test net's dnsmasq"
	rc=1
else
	pass "pxe/proxy-dhcp (gossip up $PROXY_TOOK s after QEMU start)"
fi
exit $rc
