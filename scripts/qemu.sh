#!/usr/bin/env bash
# qemu.sh: the one place that knows how to launch a shoal node in QEMU. Tests, `make run`
# and `make bench` all start QEMU through it, so every run states its accelerator.
#
# Boot paths: direct (`-kernel build/shoal.elf -initrd build/userland.cpio -append ...`,
# the fast path) or the ISO (`-cdrom build/shoal.iso`, through SeaBIOS or OVMF and GRUB).
# Accelerators: TCG (the default) or KVM. KVM on these machines is a nested paravirtual
# hypervisor on which real-mode firmware crawls or dies, so a KVM direct boot uses qboot
# (no option ROMs, straight to the kernel); callers decide whether KVM works (a probe
# boot, see tests/qemu/kvm.sh), this script only builds the command line.
#
# Before exec'ing QEMU it prints one line to stderr:
#   qemu: accel=tcg firmware=seabios boot=direct smp=1 mem=128M: qemu-system-x86_64 ...
# and then becomes QEMU (same PID), so a caller that started it in the background can
# kill QEMU by that PID.
# shellcheck disable=SC2054  # commas in arrays here belong to QEMU option values
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	cat <<EOF
usage: scripts/qemu.sh [options] [-- extra QEMU arguments]
  --kernel FILE      direct boot of FILE (default: build/shoal.elf)
  --initrd FILE      module of a direct boot (default: build/userland.cpio; 'none': no module)
  --iso FILE         boot FILE from CD (build/shoal.iso) instead of a direct boot
  --append ARGS      kernel command line (direct boot only; an ISO boots its GRUB menu)
  --accel tcg|kvm    accelerator (default: \$SHOAL_ACCEL or tcg)
  --firmware seabios|ovmf|qboot
                     (default: seabios; qboot for a KVM direct boot)
  --smp N            CPUs (default 1)
  --mem MIB          memory in MiB (default 128)
  --serial SPEC      QEMU -serial (default: stdio; 'mon:stdio' for an interactive console)
  --hostfwd RULE     user-mode NIC with this host forward, e.g. tcp:127.0.0.1:7373-:7373
                     (repeatable; the NIC is virtio-net-pci unless --nic says otherwise)
  --netns NAME       run QEMU inside the test net NAME (scripts/testnet.sh up NAME N) with one
                     NIC on tap --node I (default 0), MAC from testnet.sh; --nic picks its model
  --node I           the node's tap index in --netns NAME
  --nic MODEL        NIC model: virtio-net-pci (default) or e1000; without --netns the NIC
                     is on QEMU user networking (with any --hostfwd rules)
  --dry-run          print the QEMU command and exit
Always present: -display none -no-reboot and isa-debug-exit at 0xf4 (guest writes v,
QEMU exits with status 2v+1).
EOF
}

kernel=$top/build/shoal.elf
initrd=$top/build/userland.cpio
iso=
append=
accel=${SHOAL_ACCEL:-tcg}
firmware=
smp=1
mem=128
serial=stdio
hostfwd=()
netns=
node=0
nic=
dry=0
extra=()

need() { [ $# -ge 2 ] || { echo "qemu.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) need "$@"; kernel=$2; shift 2 ;;
	--initrd) need "$@"; initrd=$2; shift 2 ;;
	--iso) need "$@"; iso=$2; shift 2 ;;
	--append) need "$@"; append=$2; shift 2 ;;
	--accel) need "$@"; accel=$2; shift 2 ;;
	--firmware) need "$@"; firmware=$2; shift 2 ;;
	--smp) need "$@"; smp=$2; shift 2 ;;
	--mem) need "$@"; mem=$2; shift 2 ;;
	--serial) need "$@"; serial=$2; shift 2 ;;
	--hostfwd) need "$@"; hostfwd+=("$2"); shift 2 ;;
	--netns) need "$@"; netns=$2; shift 2 ;;
	--node) need "$@"; node=$2; shift 2 ;;
	--nic) need "$@"; nic=$2; shift 2 ;;
	--dry-run) dry=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; extra=("$@"); break ;;
	*) echo "qemu.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done

# Firmware images, as Debian's qemu-system-x86 and ovmf packages install them.
OVMF=/usr/share/ovmf/OVMF.fd
QBOOT=/usr/share/qemu/qboot.rom

boot=direct
[ -n "$iso" ] && boot=iso
if [ -z "$firmware" ]; then
	firmware=seabios
	[ "$accel" = kvm ] && [ $boot = direct ] && firmware=qboot
fi

args=(-name shoal -m "$mem" -smp "$smp" -display none -no-reboot -serial "$serial"
	-device isa-debug-exit,iobase=0xf4,iosize=4)

case $accel in
tcg) args+=(-accel tcg) ;;
kvm) args+=(-enable-kvm -cpu host,-arch-capabilities) ;;
*) echo "qemu.sh: accelerator must be tcg or kvm, not '$accel'" >&2; exit 2 ;;
esac

case $firmware in
seabios) ;;
ovmf) args+=(-bios "$OVMF") ;;
qboot) args+=(-bios "$QBOOT") ;;
*) echo "qemu.sh: firmware must be seabios, ovmf or qboot, not '$firmware'" >&2; exit 2 ;;
esac

if [ $boot = iso ]; then
	[ -f "$iso" ] || { echo "qemu.sh: no ISO at $iso (make iso)" >&2; exit 2; }
	[ -z "$append" ] || { echo "qemu.sh: --append needs a direct boot (the ISO's GRUB menu sets the command line)" >&2; exit 2; }
	args+=(-cdrom "$iso" -boot d)
else
	[ -f "$kernel" ] || { echo "qemu.sh: no kernel at $kernel (make)" >&2; exit 2; }
	args+=(-kernel "$kernel")
	[ "$initrd" = none ] || args+=(-initrd "$initrd")
	[ -z "$append" ] || args+=(-append "$append")
fi

wrap=()
if [ -n "$netns" ]; then
	# The taps live inside the namespace, so QEMU must too (ip netns exec execs it: same PID).
	[ ${#hostfwd[@]} = 0 ] || { echo "qemu.sh: --netns and --hostfwd exclude each other" >&2; exit 2; }
	mapfile -t tapargs < <("$top/scripts/testnet.sh" qemu-args "$netns" "$node" --model "${nic:-virtio-net-pci}")
	[ ${#tapargs[@]} = 4 ] || { echo "qemu.sh: testnet.sh qemu-args $netns $node failed" >&2; exit 2; }
	args+=("${tapargs[@]}")
	wrap=(ip netns exec "shoal-$netns")
elif [ ${#hostfwd[@]} -gt 0 ] || [ -n "$nic" ]; then
	netdev=user,id=net0
	for r in "${hostfwd[@]}"; do netdev+=",hostfwd=$r"; done
	args+=(-netdev "$netdev" -device "${nic:-virtio-net-pci},netdev=net0")
else
	args+=(-nic none)
fi

args+=("${extra[@]}")
shown="${wrap[*]}${wrap:+ }qemu-system-x86_64"
for a in "${args[@]}"; do
	case $a in *[[:space:]]* | '') shown+=" '$a'" ;; *) shown+=" $a" ;; esac
done
echo "qemu: accel=$accel firmware=$firmware boot=$boot smp=$smp mem=${mem}M: $shown" >&2
[ $dry = 1 ] && exit 0
exec "${wrap[@]}" qemu-system-x86_64 "${args[@]}"
