#!/usr/bin/env bash
# kvm.sh: the direct boot and the self-tests under KVM, where KVM works. /dev/kvm on
# these machines may be a nested paravirtual hypervisor that fails in odd ways, so a
# probe boot (qboot firmware, straight into the kernel) decides first: if it does not
# reach the ready line, print `SKIP kvm (probe failed: reason)` and count nothing. The
# host's KVM being broken never fails the suite; shoal failing under a working KVM does.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

PROBE_SECS=${PROBE_SECS:-20}
SELFTEST_SECS=${SELFTEST_SECS:-60}
export SHOAL_ACCEL=kvm

if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip kvm "no usable /dev/kvm"
	exit 0
fi

# The probe doubles as the KVM boot test once it passes.
qemu_start boot-smp1-kvm --accel kvm --smp 1
if ! qemu_wait_line "$RE_READY" "$PROBE_SECS"; then
	qemu_stop
	why=$(grep -aE -m1 'KVM internal error|kvm|KVM' "$QEMU_LOG" | grep -v '^qemu: accel=' | tr -d '\r')
	skip kvm "probe failed: ${why:-$QEMU_WHY}"
	exit 0
fi
qemu_stop
if grep -aEq -- "$RE_BANNER" "$QEMU_LOG"; then
	pass boot-smp1-kvm
else
	fail boot-smp1-kvm "ready without a banner line" "$QEMU_LOG"
fi

rc=0
expect_selftest selftest-smp1-kvm "$SELFTEST_SECS" --accel kvm --smp 1 || rc=1
expect_selftest selftest-smp4-kvm "$SELFTEST_SECS" --accel kvm --smp 4 || rc=1
exit $rc
