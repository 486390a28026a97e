#!/usr/bin/env bash
# boot.sh: direct boots (QEMU -kernel): the banner and ready lines of the serial contract
# with the CPU count matching -smp, a bad command line that still boots with an error
# naming each bad key, the 8 MiB floor, and the clear halt below the memory minimum.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

BOOT_SECS=${BOOT_SECS:-20}
A=$SHOAL_ACCEL
rc=0

# boot_to_ready NAME SMP MEM [qemu.sh options...]: boot, require the banner naming SMP
# cpus and at most MEM MiB (and more than 0), then the ready line after it. Leaves QEMU
# stopped. Returns 0 on success (and reports nothing), else reports the FAIL.
boot_to_ready() {
	local name=$1 smp=$2 mem=$3
	shift 3
	qemu_start "$name" --smp "$smp" --mem "$mem" "$@"
	if ! qemu_wait_line "$RE_READY" "$BOOT_SECS"; then
		qemu_stop
		fail "$name" "$QEMU_WHY$(panic_reason)" "$QEMU_LOG"
		return 1
	fi
	qemu_stop
	local banner n m
	banner=$(log_line "$RE_BANNER")
	if [ -z "$banner" ]; then
		fail "$name" "ready without a banner line" "$QEMU_LOG"
		return 1
	fi
	n=$(echo "$banner" | sed -E 's/.* booting: ([0-9]+) cpus, ([0-9]+) MiB.*/\1/')
	m=$(echo "$banner" | sed -E 's/.* booting: ([0-9]+) cpus, ([0-9]+) MiB.*/\2/')
	if [ "$n" != "$smp" ]; then
		fail "$name" "banner says $n cpus, QEMU has -smp $smp" "$QEMU_LOG"
		return 1
	fi
	if [ "$m" -le 0 ] || [ "$m" -gt "$mem" ]; then
		fail "$name" "banner says $m MiB, QEMU has -m $mem" "$QEMU_LOG"
		return 1
	fi
	if ! grep -aE -A1000 -- "$RE_BANNER" "$QEMU_LOG" | grep -aEq -- "$RE_READY"; then
		fail "$name" "ready line before the banner" "$QEMU_LOG"
		return 1
	fi
	return 0
}

for smp in 1 4; do
	name=boot-smp$smp-$A
	boot_to_ready "$name" $smp 128 && pass "$name" || rc=1
done

# A bad command line: each bad key named in an error, and the boot still completes.
name=bad-cmdline-$A
if boot_to_ready "$name" 1 128 --append "foo=bar log=verbose smp=abc"; then
	missing=
	grep -aEq "config: .*'foo'" "$QEMU_LOG" || missing+=" foo"
	grep -aEq "config: .*'log'.*verbose|config: .*verbose.*'log'" "$QEMU_LOG" || missing+=" log"
	grep -aEq "config: .*'smp'.*abc|config: .*abc.*'smp'" "$QEMU_LOG" || missing+=" smp"
	if [ -n "$missing" ]; then
		fail "$name" "no error naming:$missing" "$QEMU_LOG"
		rc=1
	else
		pass "$name"
	fi
else
	rc=1
fi

# The image must boot in 8 MiB.
name=mem8-$A
boot_to_ready "$name" 1 8 && pass "$name" || rc=1

# Below the minimum: a clear message, then a halt (no ready line).
name=mem-too-small-$A
qemu_start "$name" --mem 4
if qemu_wait_line 'need at least [0-9]+ KiB' "$BOOT_SECS"; then
	sleep 2
	qemu_stop
	if grep -aEq -- "$RE_READY" "$QEMU_LOG"; then
		fail "$name" "went on to ready after the memory error" "$QEMU_LOG"
		rc=1
	else
		pass "$name"
	fi
else
	qemu_stop
	fail "$name" "$QEMU_WHY" "$QEMU_LOG"
	rc=1
fi

exit $rc
