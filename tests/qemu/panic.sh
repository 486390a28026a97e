#!/usr/bin/env bash
# panic.sh: the panic path, driven by debug.crash=: a deliberate panic, a page fault, an
# invalid opcode and a kernel stack overflow (a double fault on its own IST stack) each
# print "shoal: panic: ..." with the cause and a symbolized backtrace, and with
# debug.exit=1 leave QEMU with status 7 (isa-debug-exit code 3).
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

PANIC_SECS=${PANIC_SECS:-20}
PANIC_EXIT=7
A=$SHOAL_ACCEL
# A backtrace frame: an address and symbol+offset.
RE_FRAME='^ *[0-9a-f]{16} [A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+'
rc=0

# crash KIND CAUSE-REGEX [EXTRA-REGEX]
crash() {
	local kind=$1 cause=$2 extra=${3:-} name=panic-$1-$A
	qemu_start "$name" --append "debug.crash=$kind debug.exit=1"
	qemu_wait_exit "$PANIC_SECS"
	local want
	for want in "shoal: panic: .*$cause" '^backtrace:' "$RE_FRAME" $extra; do
		if ! tr -d '\r' <"$QEMU_LOG" | grep -aEq -- "$want"; then
			fail "$name" "no line matching '$want' (qemu exit status $QEMU_RC)" "$QEMU_LOG"
			return 1
		fi
	done
	if [ "$QEMU_RC" != $PANIC_EXIT ]; then
		fail "$name" "qemu exit status $QEMU_RC, expected $PANIC_EXIT (debug.exit after panic)" "$QEMU_LOG"
		return 1
	fi
	pass "$name"
}

crash panic 'deliberate panic' || rc=1
crash pagefault 'page fault' '^faulting address: [0-9a-f]{16}' || rc=1
crash ud 'invalid opcode' || rc=1
crash stack 'double fault' || rc=1
exit $rc
