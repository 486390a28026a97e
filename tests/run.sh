#!/usr/bin/env bash
# run.sh: `make test`. Builds, then runs every test layer in order and ends with one line
# "N passed, N failed"; exits non-zero when anything failed.
#
# Layers: build (kernel, userland, ISO); lint (format, cppcheck); host unit tests (each
# tests/unit/**/test_*.c is one cmocka program and counts as one test); host suites (short
# fuzz runs, tests/fuzz/run.sh; the simulation, tests/sim/run.sh); the kernel self-test
# under QEMU (tests/qemu/selftest.sh, -smp 1 and -smp 4); the other system tests
# (tests/qemu/*.sh). Each test prints `PASS name` or `FAIL name (reason)` plus the
# tail of its log; `SKIP name (reason)` lines count as neither. QEMU runs one at a time:
# the self-tests measure timers, and a loaded host makes them flaky. Every wait is
# bounded; with every bound hit the whole run stays under 15 minutes on 2 cores.
#
# Environment: SHOAL_ACCEL (default tcg) for the QEMU layers; TESTS=regex runs only the
# unit programs and tests/qemu scripts whose path matches (lint and build always run).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=tests/lib.sh
. tests/lib.sh

# Run from make or not, build with our own job count and no inherited jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL
JOBS=$(nproc)
UNIT_TIMEOUT=120
FILTER=${TESTS:-}

RESULTS=$T_DIR/results
rm -rf "$LOG_KEEP" # logs of failures from earlier runs

section() { echo "-- $*"; }

# run_suite SCRIPT: run one test script; a script that fails without a FAIL line of
# its own (it crashed) still counts as a failure.
run_suite() {
	local s=$1 out=$T_DIR/suite.out rc
	"$s" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$out"; then
		fail "$s" "exited with status $rc without a result" "$out"
	fi
}

layer_build() {
	section "build"
	local log=$T_DIR/build.log
	if make -j"$JOBS" all iso >"$log" 2>&1; then
		pass build
		return 0
	fi
	fail build "make all iso failed" "$log"
	return 1
}

layer_lint() {
	section "lint"
	local log=$T_DIR/lint-format.log
	if scripts/lint.sh format >"$log" 2>&1; then pass lint-format; else
		fail lint-format "files differ from .clang-format; see scripts/lint.sh format" "$log"
	fi
	log=$T_DIR/lint-cppcheck.log
	if scripts/lint.sh cppcheck >"$log" 2>&1; then pass lint-cppcheck; else
		fail lint-cppcheck "cppcheck findings" "$log"
	fi
}

layer_unit() {
	section "unit"
	local src name bin log rc
	while read -r src; do
		[ -n "$src" ] || continue
		[ -z "$FILTER" ] || [[ $src =~ $FILTER ]] || continue
		name=${src%.c}
		bin=build/$name
		log=$T_DIR/${name//\//_}.log
		if ! make -s "$bin" >"$log" 2>&1; then
			fail "$name" "build failed" "$log"
			continue
		fi
		timeout -k 5 "$UNIT_TIMEOUT" "$bin" >>"$log" 2>&1
		rc=$?
		if [ $rc = 0 ]; then
			pass "$name"
		elif [ $rc = 124 ]; then
			fail "$name" "timed out after ${UNIT_TIMEOUT} s" "$log"
		else
			fail "$name" "exit status $rc" "$log"
		fi
	done < <(find tests/unit -name 'test_*.c' 2>/dev/null | LC_ALL=C sort)
}

# Host suites beyond the unit programs: the fuzzers' short runs, the many-node gossip and
# scheduler simulations, and shoalctl against openssl's TLS-PSK server. Each is a script
# printing PASS/FAIL lines like tests/qemu/*.sh.
layer_host() {
	local s
	for s in tests/fuzz/run.sh tests/sim/run.sh tests/sim/cluster.sh tests/host/shoalctl.sh; do
		[ -x "$s" ] || continue
		[ -z "$FILTER" ] || [[ $s =~ $FILTER ]] || continue
		section "${s%.sh}"
		run_suite "$s"
	done
}

layer_qemu() {
	local s scripts=()
	[ -x tests/qemu/selftest.sh ] && scripts+=(tests/qemu/selftest.sh)
	for s in tests/qemu/*.sh; do
		[ "$s" = tests/qemu/selftest.sh ] || scripts+=("$s")
	done
	for s in "${scripts[@]}"; do
		[ -f "$s" ] || continue
		[ -z "$FILTER" ] || [[ $s =~ $FILTER ]] || continue
		section "${s%.sh}"
		run_suite "$s"
	done
}

all_layers() {
	local start=$SECONDS built=1
	layer_build || built=0
	layer_lint
	layer_unit
	layer_host
	if [ $built = 1 ]; then
		layer_qemu
	else
		echo "SKIP qemu (the build failed; not booting a stale kernel)"
	fi
	section "done in $((SECONDS - start)) s"
}

all_layers 2>&1 | tee "$RESULTS"
np=$(grep -c '^PASS ' "$RESULTS")
nf=$(grep -c '^FAIL ' "$RESULTS")
echo "$np passed, $nf failed"
[ "$nf" = 0 ] && [ "$np" -gt 0 ]
