#!/usr/bin/env bash
# iso.sh: build/shoal.iso through GRUB (multiboot2) under SeaBIOS and under OVMF, and
# the ISO's "shoal selftest" menu entry. Always TCG: the firmware and GRUB run real-mode
# code that the nested KVM of these machines cannot run (toolchain notes).
#
# GRUB's default entry cannot be chosen from outside the image, so the selftest entry is
# booted from a test-only copy of the ISO whose grub.cfg says `set default=1`.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

ISO=$TOP/build/shoal.iso
# GRUB under TCG takes seconds; OVMF's own start-up takes longer still.
SEABIOS_SECS=${SEABIOS_SECS:-45}
OVMF_SECS=${OVMF_SECS:-90}
SELFTEST_SECS=${SELFTEST_SECS:-120}
rc=0

if [ ! -f "$ISO" ]; then
	for t in iso-seabios-tcg iso-ovmf-tcg iso-selftest-seabios-tcg; do
		fail "$t" "no $ISO (make iso)"
	done
	exit 1
fi

# iso_boot NAME FIRMWARE SECONDS: the ISO's default entry reaches the banner and ready.
iso_boot() {
	local name=$1 fw=$2 secs=$3
	qemu_start "$name" --accel tcg --firmware "$fw" --iso "$ISO"
	if ! qemu_wait_line "$RE_READY" "$secs"; then
		qemu_stop
		fail "$name" "$QEMU_WHY$(panic_reason)" "$QEMU_LOG"
		return 1
	fi
	qemu_stop
	if ! grep -aEq -- "$RE_BANNER" "$QEMU_LOG"; then
		fail "$name" "ready without a banner line" "$QEMU_LOG"
		return 1
	fi
	pass "$name"
}

iso_boot iso-seabios-tcg seabios "$SEABIOS_SECS" || rc=1
iso_boot iso-ovmf-tcg ovmf "$OVMF_SECS" || rc=1

# The selftest menu entry, from a copy of the ISO that boots it by default.
name=iso-selftest-seabios-tcg
tree=$T_DIR/iso-selftest
mkdir -p "$tree/boot/grub"
cp "$TOP/build/shoal.elf" "$TOP/build/userland.cpio" "$tree/boot/"
sed 's/^set default=0$/set default=1/' "$TOP/boot/grub-iso.cfg" >"$tree/boot/grub/grub.cfg"
if ! grep -q '^set default=1$' "$tree/boot/grub/grub.cfg"; then
	fail "$name" "boot/grub-iso.cfg has no 'set default=0' line to switch"
	rc=1
elif ! grub-mkrescue -o "$T_DIR/selftest.iso" "$tree" >"$T_DIR/mkrescue.log" 2>&1; then
	fail "$name" "grub-mkrescue failed" "$T_DIR/mkrescue.log"
	rc=1
else
	qemu_start "$name" --accel tcg --iso "$T_DIR/selftest.iso"
	qemu_wait_exit "$SELFTEST_SECS"
	check_selftest_result "$name" "$SELFTEST_SECS" || rc=1
	if ! grep -aq "Booting \`shoal selftest'" "$QEMU_LOG"; then
		echo "    (note: GRUB did not say it booted the selftest entry)"
	fi
fi

exit $rc
