#!/usr/bin/env bash
# run.sh: short libFuzzer runs over the gossip code, one result line per target:
#   fuzz-gossip  the decoder and the envelope (tests/fuzz/fuzz_gossip.c)
#   fuzz-core    datagrams and frames into a live core (tests/fuzz/fuzz_core.c), once the
#                core's sources exist; SKIP before that
#   fuzz-elf     the task loader's ELF parser (tests/fuzz/fuzz_elf.c), seeded with the
#                userland programs (a static one and a static-PIE one)
# Each target starts from a seed corpus of valid packets (tests/fuzz/seeds.c, written
# fresh into this run's temp dir) and runs for FUZZ_SECS seconds (default 15), so the
# whole suite, builds included, stays under a minute. A crashing input is kept in
# build/fuzz/artifacts/ and named in the FAIL line; rerun it with `build/fuzz/TARGET FILE`.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/lib.sh
. tests/lib.sh

unset MAKEFLAGS MFLAGS MAKELEVEL
FUZZ_SECS=${FUZZ_SECS:-15}
FUZZ_RUNS=${FUZZ_RUNS:-5000000} # a bound beside the time, for fast machines
ART=build/fuzz/artifacts
# Until the Makefile includes mk/fuzz.mk, name it ourselves.
MAKE_FUZZ=(make -s)
grep -q 'mk/fuzz.mk' Makefile || MAKE_FUZZ=(make -s -f Makefile -f mk/fuzz.mk)

# fuzz NAME TARGET: build, seed and run one target.
fuzz() {
	local name=$1 bin=build/fuzz/$2 log=$T_DIR/$1.log corpus=$T_DIR/corpus/$3 rc crash why
	if ! "${MAKE_FUZZ[@]}" "$bin" >"$log" 2>&1; then
		fail "$name" "build failed" "$log"
		return
	fi
	mkdir -p "$ART"
	timeout -k 5 $((FUZZ_SECS + 30)) "$bin" -max_total_time="$FUZZ_SECS" -runs="$FUZZ_RUNS" \
		-timeout=5 -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$ART/$2-" \
		"$corpus" >>"$log" 2>&1
	rc=$?
	crash=$(grep -aoE "Test unit written to [^ ]+" "$log" | tail -n 1 | sed 's/.* //')
	# What went wrong: the harness's own check, a sanitizer's verdict, or libFuzzer's.
	why=$(grep -aoE "^fuzz_[a-z]+: .*|ERROR: AddressSanitizer: [a-z-]+|runtime error: .*|ERROR: libFuzzer: .*" \
		"$log" | head -n 1 | cut -c1-120)
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		fail "$name" "did not finish within $((FUZZ_SECS + 30)) s" "$log"
	elif [ $rc != 0 ]; then
		fail "$name" "${why:-exit status $rc}${crash:+; input kept in $crash}" "$log"
	elif ! grep -aqE '^Done [0-9]+ runs' "$log"; then
		fail "$name" "no libFuzzer summary" "$log"
	else
		echo "  $name: $(grep -aE '^Done [0-9]+ runs' "$log" | tail -n 1)," \
			"$(grep -aoE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)"
		pass "$name"
	fi
}

# libFuzzer comes with clang's runtime package, not with clang itself.
log=$T_DIR/libfuzzer.log
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$T_DIR/probe.c"
if ! clang -fsanitize=fuzzer "$T_DIR/probe.c" -o "$T_DIR/probe" >"$log" 2>&1; then
	fail fuzz-gossip "no clang with libFuzzer (Debian: clang libclang-rt-14-dev; scripts/deps.sh)" "$log"
	exit 0
fi
log=$T_DIR/seeds.log
if ! "${MAKE_FUZZ[@]}" build/fuzz/seeds >"$log" 2>&1 || ! build/fuzz/seeds "$T_DIR/corpus" >>"$log" 2>&1; then
	fail fuzz-gossip "seed corpus not generated" "$log"
	exit 1
fi
fuzz fuzz-gossip fuzz_gossip gossip
if [ -f net/gossip/swim.c ] && [ -f tests/fuzz/fuzz_core.c ]; then
	fuzz fuzz-core fuzz_core core
else
	skip fuzz-core "net/gossip/swim.c not there yet"
fi
# The ELF seeds are real programs; without them the fuzzer still starts, from nothing.
mkdir -p "$T_DIR/corpus/elf"
"${MAKE_FUZZ[@]}" build/userland/bin/hello build/userland/bin/hello-pie >"$T_DIR/elf-seeds.log" 2>&1 &&
	cp build/userland/bin/hello build/userland/bin/hello-pie "$T_DIR/corpus/elf/"
fuzz fuzz-elf fuzz_elf elf
fuzz fuzz-cluster fuzz_cluster cluster # seeds its own corpus (tests/fuzz/fuzz_cluster.c)
mkdir -p "$T_DIR/corpus/console" && printf '\x05help --json\r\nsubmit --count 3 --env A=1 "a b" hello\nupload 3 %064d\nabc\nlogs j1.0 -f\n' 0 >"$T_DIR/corpus/console/seed" && fuzz fuzz-console fuzz_console console
exit 0
