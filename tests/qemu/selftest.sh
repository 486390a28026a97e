#!/usr/bin/env bash
# selftest.sh: the kernel self-tests (`selftest` on the command line) on one CPU and on
# four, through the direct boot path. Pass: "selftest: N passed, 0 failed" with N > 0
# and QEMU exit status 3 (isa-debug-exit with code 1).
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# Under TCG four vCPUs share two host cores; the bound covers the slowest honest run.
SELFTEST_SECS=${SELFTEST_SECS:-120}

rc=0
expect_selftest "selftest-smp1-$SHOAL_ACCEL" "$SELFTEST_SECS" --smp 1 || rc=1
expect_selftest "selftest-smp4-$SHOAL_ACCEL" "$SELFTEST_SECS" --smp 4 || rc=1
exit $rc
