#!/usr/bin/env bash
# `make bench`: boot-time, size and memory-floor figures for shoal beside a minimal Linux
# guest on the same QEMU settings, measured in one run. Prints a table; key=value lines go to
# build/bench/results.txt. Exits non-zero only when a required figure could not be measured.
#
# Environment knobs (defaults: about 25 minutes on a 2-core host, 17 of them the 10,000-node
# simulations; GOSSIP_SIM_BIG=0 skips those):
#   BENCH_RUNS=10        boots per shoal median (and the Linux direct-boot median)
#   BENCH_LINUX_RUNS     Linux direct-boot runs (default BENCH_RUNS; ~5 s each under TCG)
#   BENCH_ISO_RUNS       shoal ISO boots (default BENCH_RUNS)
#   BENCH_LINUX_ISO_RUNS Linux ISO boots (default 3, ~8 s each; 0 skips the Linux ISO)
#   BENCH_NET_RUNS=3     boots per guest for the network figures (scripts/bench/net.py)
#   GOSSIP_SIM_BIG=1     the 10,000-node simulations (scripts/bench/gossip_sim.sh)
#   BENCH_TASKS_RUNS=5   boots per guest for the task figures (scripts/bench/tasks.py; a cold
#                        primes pass varies by 10% between boots, so 3 are too few)
#   BENCH_SMP=4 BENCH_MEM=128 BENCH_MACHINE=q35 BENCH_NODEFAULTS=1 BENCH_KVM=1 (0: no probe)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=build
out=$B/bench
mkdir -p "$out"

runs=${BENCH_RUNS:-10}
linux_runs=${BENCH_LINUX_RUNS:-$runs}
iso_runs=${BENCH_ISO_RUNS:-$runs}
linux_iso_runs=${BENCH_LINUX_ISO_RUNS:-$((runs < 3 ? runs : 3))}
linux_smp1_runs=${BENCH_LINUX_SMP1_RUNS:-$((runs < 3 ? runs : 3))}

for f in $B/shoal.elf $B/userland.cpio; do
	[ -s "$f" ] || { echo "bench: $f missing (run make)" >&2; exit 1; }
done

# The ISO as `make iso` builds it. A failure leaves the ISO figure unmeasured (so the run
# fails at the end) but every other figure is still measured.
iso=$B/shoal.iso
if ! make --no-print-directory iso >"$out/iso.log" 2>&1; then
	echo "bench: make iso failed, ISO figures will be missing:" >&2
	tail -n 5 "$out/iso.log" >&2
	iso=
fi
rm -f "$out/iso.log"
# The GRUB menu timeout is part of the ISO figure; say what it was.
grub_timeout=$(sed -n 's/^[[:space:]]*set[[:space:]]\+timeout=\([0-9]\+\).*/\1/p' \
	boot/grub-iso.cfg 2>/dev/null | head -n1)

# The baseline Linux guest (downloaded once, cached under build/bench/linux); its ISO waits
# in the GRUB menu as long as shoal's does.
# Without it (no network, say) shoal is still measured and the run fails at the end.
GUEST_ISO=$((linux_iso_runs > 0 ? 1 : 0)) GUEST_GRUB_TIMEOUT=${grub_timeout:-0} \
	./scripts/linux-guest.sh || echo "bench: the Linux guest could not be built" >&2

# Command lines come from the project's launcher when it is there.
launcher=
[ -x scripts/qemu.sh ] && launcher=scripts/qemu.sh

rc=0
python3 scripts/bench/bench.py \
	--launcher "$launcher" --elf $B/shoal.elf --cpio $B/userland.cpio ${iso:+--iso "$iso"} \
	--grub-timeout "${grub_timeout:-?}s" \
	--linux-dir "$out/linux" --results "$out/results.txt" \
	--runs "$runs" --linux-runs "$linux_runs" --iso-runs "$iso_runs" \
	--linux-iso-runs "$linux_iso_runs" --linux-smp1-runs "$linux_smp1_runs" \
	--smp "${BENCH_SMP:-4}" --mem "${BENCH_MEM:-128}" --machine "${BENCH_MACHINE:-q35}" \
	--nodefaults "${BENCH_NODEFAULTS:-1}" --kvm "${BENCH_KVM:-1}" || rc=$?

# Network figures (issue 3): shoal and the Linux guest on the test network, virtio-net.
# Appends to the same results file; needs root (skips itself otherwise).
python3 scripts/bench/net.py --top "$top" --linux-dir "$out/linux" --results "$out/results.txt" \
	--runs "${BENCH_NET_RUNS:-3}" --smp "${BENCH_SMP:-4}" --mem "${BENCH_MEM:-128}" || rc=1

# Gossip figures (issue 4): the simulator at 1,000 and 10,000 nodes, then a 5-node QEMU
# cluster beside Serf agents on 127.0.0.1 with the same periods (root).
scripts/bench/gossip_sim.sh --results "$out/results.txt" || rc=1
python3 scripts/bench/gossip.py --top "$top" --results "$out/results.txt" || rc=1

# Task figures (issue 5): spawn-to-exit, null system call, futex switch and primes, shoal
# beside the Linux guest.
python3 scripts/bench/tasks.py --top "$top" --linux-dir "$out/linux" --results "$out/results.txt" \
	--runs "${BENCH_TASKS_RUNS:-5}" --smp "${BENCH_SMP:-4}" --mem "${BENCH_MEM:-128}" \
	--machine "${BENCH_MACHINE:-q35}" --kvm "${BENCH_KVM:-1}" || rc=1

# Scheduler figures (issue 6): placement throughput of the core in the simulator (5,000
# nodes, 1,000,000 instances), then submit-to-running on a remote node of a QEMU cluster.
[ -x scripts/bench/cluster_sim.sh ] && { scripts/bench/cluster_sim.sh --results "$out/results.txt" || rc=1; }
python3 scripts/bench/cluster.py --top "$top" --results "$out/results.txt" || rc=1

# PXE figures (issue 7): QEMU start to joined for BIOS and UEFI PXE boots beside a Linux
# guest through the same GRUB tree and dnsmasq, and cluster formation time for 1, 3, 10
# nodes (root).
python3 scripts/bench/pxe.py --top "$top" --linux-dir "$out/linux" --results "$out/results.txt" \
	--runs "${BENCH_PXE_RUNS:-3}" || rc=1
exit $rc
