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
SELFTEST_SECS=${SELFTEST_SECS:-180} # interrupt-flag changes trap to the host under nested PVM: slow
export SHOAL_ACCEL=kvm

if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip kvm "no usable /dev/kvm"
	exit 0
fi

# The probe doubles as the KVM boot test once it passes. The nested PVM "KVM" of these
# machines cannot run SSE instructions in a guest kernel (emulation failure at the first
# ldmxcsr), so when the default probe dies that way, probe once more with fpu=off and run
# the KVM tests in that mode, saying so.
probe() { # NAME APPEND...: 0 when the boot reached ready
	qemu_start "$1" --accel kvm --smp 1 ${2:+--append "$2"}
	if qemu_wait_line "$RE_READY" "$PROBE_SECS"; then
		qemu_stop
		return 0
	fi
	qemu_stop
	why=$(grep -av '^qemu: accel=' "$QEMU_LOG" | grep -aE -m1 'KVM internal error|kvm|KVM' | tr -d '\r')
	why=${why:-$QEMU_WHY}
	return 1
}

extra=
if ! probe boot-smp1-kvm ""; then
	first=$why
	if [[ $first == *"internal error"* ]] && probe boot-smp1-kvm "fpu=off"; then
		extra="fpu=off"
		echo "NOTE kvm: default boot failed ($first); KVM tests run with fpu=off"
	else
		skip kvm "probe failed: $first"
		exit 0
	fi
fi
if grep -aEq -- "$RE_BANNER" "$QEMU_LOG"; then
	pass boot-smp1-kvm
else
	fail boot-smp1-kvm "ready without a banner line" "$QEMU_LOG"
fi

# No more vCPUs than host cores: overcommitted nested vCPUs spin on each other's locks.
smp=$(nproc)
[ "$smp" -le 4 ] || smp=4
rc=0
expect_selftest selftest-smp1-kvm "$SELFTEST_SECS" --accel kvm --smp 1 --append "selftest $extra" || rc=1
if [ "$smp" -gt 1 ]; then
	expect_selftest "selftest-smp$smp-kvm" "$SELFTEST_SECS" --accel kvm --smp "$smp" \
		--append "selftest $extra" || rc=1
fi
exit $rc
