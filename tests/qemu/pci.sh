#!/usr/bin/env bash
# pci.sh: PCI enumeration and the virtio-net driver under QEMU's user network. Each case
# boots `selftest` with NICs attached, so the PCI and virtio-net self-tests run for real
# (a DHCPDISCOVER goes out and slirp's answer must come back), and checks the line the
# driver prints for each NIC with the interrupt mode it got:
#   pc with a transitional virtio-net (port I/O config, MSI-X),
#   q35 with a modern-only one behind a PCIe root port (ECAM config, a bridge, MSI-X),
#   pc with two NICs without MSI-X (both on one shared INTx line).
# Only this area's self-tests are judged here (tests/qemu/selftest.sh judges them all),
# so a timing-sensitive core test that trips under load does not fail these cases.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

PCI_SECS=${PCI_SECS:-120}
RE_NIC='net: eth[0-9] virtio-net ([0-9a-f]{2}:){5}[0-9a-f]{2} \('
TESTS_JUDGED=(pci_host_bridge pci_ecam_matches_ports pci_bar_sizing pci_msi_program netdev_handoff
	virtio_net_csum virtio_net_roundtrip)

# nic_case NAME COUNT MODE [qemu args...]: selftest boot, then COUNT NIC lines in MODE
# and every judged self-test ok.
nic_case() {
	local name=$1 count=$2 mode=$3 n t
	shift 3
	qemu_start "$name" --smp 2 --append selftest -- "$@"
	qemu_wait_exit "$PCI_SECS"
	if ! grep -aqE 'selftest: [0-9]+ passed' "$QEMU_LOG"; then
		fail "$name" "no selftest summary; qemu exit status $QEMU_RC$(panic_reason)" "$QEMU_LOG"
		return 1
	fi
	for t in "${TESTS_JUDGED[@]}"; do
		if ! grep -aqE "^selftest: $t ok" "$QEMU_LOG"; then
			fail "$name" "self-test $t did not pass" "$QEMU_LOG"
			return 1
		fi
	done
	n=$(grep -acE "$RE_NIC$mode" "$QEMU_LOG")
	if [ "$n" != "$count" ]; then
		fail "$name" "$n NIC lines in mode $mode, expected $count" "$QEMU_LOG"
		return 1
	fi
	pass "$name"
}

rc=0
nic_case "pci-virtio-pc-$SHOAL_ACCEL" 1 msi-x \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0 || rc=1
nic_case "pci-virtio-q35-modern-$SHOAL_ACCEL" 1 msi-x -M q35 \
	-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1 -netdev user,id=n0 \
	-device virtio-net-pci,bus=rp1,netdev=n0,disable-modern=off,disable-legacy=on || rc=1
nic_case "pci-virtio-two-intx-$SHOAL_ACCEL" 2 intx \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0,vectors=0 \
	-netdev user,id=n1 -device virtio-net-pci,netdev=n1,vectors=0,mac=52:54:00:12:34:57 || rc=1
exit $rc
