#!/usr/bin/env python3
"""Task figures of `make bench` (issue 5): shoal beside the minimal Linux guest, same QEMU
settings, same run, same static musl programs (build/userland/bin).

  spawn    spawn-to-exit. Linux: fork + execve + waitpid of /bin/hello, N times, by
           userland/spawn-bench.c. shoal has no fork (the kernel spawns tasks), so its
           figure is the kernel's own: the line `selftest: N spawns of /bin/hello (X us
           each)` of the task self-test (kernel/task_test.c) in a `selftest` boot, which
           times task_spawn + task_wait of the same /bin/hello. Without that line the
           shoal half says so.
  getpid   null system call: a raw getpid loop, ns per call (userland/bench.c).
  futex    thread switch: two threads pass a token by futex wait/wake, ns per switch.
  primes   CPU-bound run time: userland/primes.c counting the primes below N, --passes
           times in one run. Two figures: the first pass (cold: under TCG it includes
           translating the code) and the median of the later passes (the CPU's steady
           speed, where interrupts and background work on the guest are what differ).

The programs measure themselves with CLOCK_MONOTONIC inside the guest, so boot time and
the host are outside every figure. Each figure is the median of --runs boots. Linux runs
all four in one boot per run, from an initramfs that is the bench guest's
(scripts/linux-guest.sh: build/bench/linux/initramfs.cpio.gz) with a second cpio appended
that adds the programs and replaces /init (the kernel unpacks concatenated archives in
order). shoal runs one task per boot (run= starts its tasks together, and they would share
the CPU). TCG unless the KVM probe boot (shoal, qboot) reaches ready; the accelerator is
printed beside every figure. Every boot is bounded and killed by PID.
"""
import argparse
import gzip
import io
import os
import re
import select
import statistics
import subprocess
import sys
import time

LINUX_CMDLINE = "console=ttyS0 panic=-1 quiet"
LINUX_DONE = b"LINUX-TASKS-DONE"
READY_RE = re.compile(rb"shoal: ready in [0-9.]+ ms")
EXIT_RE = rb"task [0-9]+ \((?:/bin/)?%s\) exited with ([0-9]+)"  # %s: the program's name
BENCH_RE = re.compile(rb"bench: (getpid|futex|spawn) ([0-9]+) [a-z]+ ([0-9.]+) ns/[a-z]+")
PRIMES_RE = re.compile(rb"primes below ([0-9]+): ([0-9]+) \(([0-9]+) us\)")
# The task self-test's spawn timing (kernel/task_test.c).
SPAWN_RE = re.compile(rb"selftest: ([0-9]+) spawns of /bin/hello \(([0-9.]+) (ns|us) each\)")
PROGS = ["hello", "primes", "bench"]
LINUX_ONLY = ["spawn-bench"]

SHOAL_TIMEOUT = 60.0  # one task under TCG, boot included
SELFTEST_TIMEOUT = 180.0
LINUX_TIMEOUT = 240.0
PROBE_TIMEOUT = 20.0


def log(msg):
	print(f"tasks: {msg}", file=sys.stderr, flush=True)


def run_qemu(argv, done, timeout):
	"""Start QEMU through qemu.sh (which execs it: same PID), collect its console until the
	regex done matches or timeout; then kill it by PID. Returns (output, matched)."""
	proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
				stderr=subprocess.STDOUT)
	buf = b""
	t0 = time.monotonic()
	ok = False
	try:
		while True:
			left = t0 + timeout - time.monotonic()
			if left <= 0:
				break
			r, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
			if r:
				data = os.read(proc.stdout.fileno(), 65536)
				if not data:
					break
				buf += data
			if done.search(buf):
				ok = True
				# Let the last line finish.
				time.sleep(0.2)
				r, _, _ = select.select([proc.stdout], [], [], 0)
				if r:
					buf += os.read(proc.stdout.fileno(), 65536)
				break
	finally:
		proc.kill()
		proc.wait()
	return buf, ok


def newc(files):
	"""A cpio newc archive of files: list of (path, mode, bytes)."""
	out = io.BytesIO()
	ino = 1000

	def entry(name, mode, data):
		nonlocal ino
		ino += 1
		name_b = name.encode() + b"\0"
		hdr = "070701" + "".join("%08X" % v for v in (
			ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
		out.write(hdr.encode() + name_b)
		out.write(b"\0" * (-(110 + len(name_b)) % 4))
		out.write(data)
		out.write(b"\0" * (-len(data) % 4))

	for path, mode, data in files:
		entry(path, mode, data)
	entry("TRAILER!!!", 0, b"")
	return out.getvalue()


def linux_initramfs(base, bindir, out, n):
	"""The bench guest's initramfs plus the programs and an /init that runs the figures."""
	init = f"""#!/bin/busybox sh
# Task figures (scripts/bench/tasks.py): each program prints its own 'bench:' line.
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox mount -t proc proc /proc 2>/dev/null
exec >/dev/ttyS0 2>&1
/bin/spawn-bench {n['spawn']} /bin/hello
/bin/bench getpid {n['getpid']}
/bin/bench futex {n['futex']}
/bin/primes {n['primes']} {n['passes']}
echo {LINUX_DONE.decode()}
/bin/busybox poweroff -f
"""
	files = [("bin", 0o40755, b""), ("init", 0o100755, init.encode())]
	for p in PROGS + LINUX_ONLY:
		src = os.path.join(bindir if p not in LINUX_ONLY else bindir + "/../linux", p)
		with open(src, "rb") as f:
			files.append((f"bin/{p}", 0o100755, f.read()))
	with open(base, "rb") as f:
		data = f.read()
	with open(out + ".new", "wb") as f:
		f.write(data)
		f.write(gzip.compress(newc(files), 9, mtime=0))
	os.replace(out + ".new", out)


def parse(buf):
	"""Figures in a console log: {'getpid': ns, 'futex': ns, 'spawn': ns, 'primes': us
	(first pass), 'primes_warm': us (median of the later passes)}."""
	got = {}
	for m in BENCH_RE.finditer(buf):
		got[m.group(1).decode()] = float(m.group(3))
	passes = [float(m.group(3)) for m in PRIMES_RE.finditer(buf)]
	if passes:
		got["primes"] = passes[0]
	if len(passes) > 1:
		got["primes_warm"] = statistics.median(passes[1:])
	return got


def med(xs):
	return statistics.median(xs) if xs else None


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--top", required=True)
	ap.add_argument("--results", required=True)
	ap.add_argument("--linux-dir", required=True)
	ap.add_argument("--runs", type=int, default=3)
	ap.add_argument("--smp", type=int, default=4)
	ap.add_argument("--mem", type=int, default=128)
	ap.add_argument("--machine", default="q35")
	ap.add_argument("--kvm", type=int, default=1)
	ap.add_argument("--spawns", type=int, default=200)
	ap.add_argument("--getpids", type=int, default=100000)
	ap.add_argument("--switches", type=int, default=20000)
	ap.add_argument("--primes", type=int, default=200000)
	ap.add_argument("--passes", type=int, default=5)
	a = ap.parse_args()
	n = {"spawn": a.spawns, "getpid": a.getpids, "futex": a.switches, "primes": a.primes,
	     "passes": max(2, a.passes)}

	top = os.path.abspath(a.top)
	qemu_sh = os.path.join(top, "scripts/qemu.sh")
	elf = os.path.join(top, "build/shoal.elf")
	cpio = os.path.join(top, "build/userland.cpio")
	bindir = os.path.join(top, "build/userland/bin")
	outdir = os.path.join(top, "build/bench")
	machine = ["--", "-M", a.machine, "-nodefaults"]
	missing = [p for p in [elf, cpio] + [os.path.join(bindir, x) for x in PROGS] +
		   [os.path.join(bindir, "../linux", x) for x in LINUX_ONLY] if not os.path.exists(p)]
	if missing:
		log(f"missing {', '.join(missing)} (make all userland)")
		return 1

	def qemu(accel, kernel, initrd, append):
		return [qemu_sh, "--accel", accel, "--smp", str(a.smp), "--mem", str(a.mem),
			"--kernel", kernel, "--initrd", initrd, "--append", append] + machine

	lk = os.path.join(a.linux_dir, "vmlinuz")
	li = os.path.join(a.linux_dir, "initramfs.cpio.gz")
	have_linux = os.path.exists(lk) and os.path.exists(li)
	tinit = os.path.join(outdir, "linux-tasks.cpio.gz")
	tprobe = os.path.join(outdir, "linux-tasks-probe.cpio.gz")
	if have_linux:
		linux_initramfs(li, bindir, tinit, n)
		linux_initramfs(li, bindir, tprobe, {k: 1 for k in n})

	# KVM only if, under it, a shoal task runs to its exit and the Linux guest runs its
	# programs (nested hypervisors here boot shoal but may not run either).
	accel, kvm_append = "tcg", ""
	if a.kvm and os.access("/dev/kvm", os.R_OK | os.W_OK):
		for extra in ("", "fpu=off"):
			buf, ok = run_qemu(qemu("kvm", elf, cpio, f"{extra} run=/bin/hello".strip()),
					   re.compile(EXIT_RE % b"hello"), PROBE_TIMEOUT)
			ok = ok and re.search(EXIT_RE % b"hello", buf).group(1) == b"0"
			if ok and have_linux:
				_, ok = run_qemu(qemu("kvm", lk, tprobe, LINUX_CMDLINE),
						 re.compile(re.escape(LINUX_DONE)), PROBE_TIMEOUT)
			if ok:
				accel, kvm_append = "kvm", extra
				break
		log(f"KVM probe (a shoal task and the Linux guest): "
		    f"{'passed' if accel == 'kvm' else 'failed, using TCG'}")

	figures = ["spawn", "getpid", "futex", "primes", "primes_warm"]
	shoal = {f: [] for f in figures}
	linux = {f: [] for f in figures}
	notes = {}

	# ---- Linux: all figures in one boot per run.
	if have_linux:
		for i in range(a.runs):
			buf, ok = run_qemu(qemu(accel, lk, tinit, LINUX_CMDLINE),
					   re.compile(re.escape(LINUX_DONE)), LINUX_TIMEOUT)
			got = parse(buf)
			if not ok or len(got) < len(figures):
				log(f"linux run {i + 1}: incomplete ({sorted(got)}); tail: "
				    f"{buf[-300:].decode(errors='replace')!r}")
			for f, v in got.items():
				linux[f].append(v)
	else:
		notes["linux"] = "Linux guest not built (scripts/linux-guest.sh)"

	# ---- shoal: one task per boot.
	def shoal_task(prog, args, figure):
		spec = ":".join([f"/bin/{prog}"] + [str(x) for x in args])
		done = re.compile(EXIT_RE % re.escape(prog.encode()) + rb"|shoal: panic")
		for i in range(a.runs):
			buf, ok = run_qemu(qemu(accel, elf, cpio, f"{kvm_append} run={spec}".strip()),
					   done, SHOAL_TIMEOUT)
			got = parse(buf)
			if figure in got:
				for f, v in got.items():
					shoal[f].append(v)
				continue
			m = re.search(EXIT_RE % re.escape(prog.encode()), buf)
			why = (f"exited with {m.group(1).decode()}" if m else
			       "panicked" if b"shoal: panic" in buf else
			       "did not finish" if not ok else "printed no figure")
			notes[figure] = f"shoal: run={spec} {why}"
			log(f"shoal {figure} run {i + 1}: {why}")
			return

	shoal_task("bench", ["getpid", n["getpid"]], "getpid")
	shoal_task("bench", ["futex", n["futex"]], "futex")
	shoal_task("primes", [n["primes"], n["passes"]], "primes")
	# Spawn-to-exit: the kernel's task self-test, if it prints a timing line.
	for i in range(a.runs):
		buf, ok = run_qemu(qemu(accel, elf, cpio, f"{kvm_append} selftest".strip()),
				   re.compile(rb"selftest: [0-9]+ passed, [0-9]+ failed|shoal: panic"),
				   SELFTEST_TIMEOUT)
		m = SPAWN_RE.search(buf)
		if not m:
			notes["spawn"] = ("shoal: not measured (the selftest boot printed no "
					  "'selftest: N spawns of /bin/hello (X us each)' line)")
			break
		shoal["spawn"].append(float(m.group(2)) * (1000.0 if m.group(3) == b"us" else 1.0))
		notes["spawn"] = ("spawn: shoal's figure is the kernel's task_spawn + task_wait of "
				  "/bin/hello (self-test); Linux's is fork+exec+wait of /bin/hello")

	# ---- Report.
	units = {"spawn": ("us", 1e-3), "getpid": ("ns", 1.0), "futex": ("ns", 1.0),
		 "primes": ("ms", 1e-3), "primes_warm": ("ms", 1e-3)}
	what = {"spawn": "spawn-to-exit of hello", "getpid": "null syscall (getpid)",
		"futex": "futex ping-pong switch", "primes": f"primes <{n['primes']}, first pass",
		"primes_warm": f"primes <{n['primes']}, later passes"}
	lines = []
	print(f"\ntask figures ({accel.upper()}{', ' + kvm_append if kvm_append else ''}; "
	      f"-smp {a.smp}, {a.mem} MiB, {a.machine}; median of {a.runs}):")
	print(f"  {'figure':<30} {'shoal':>12} {'linux':>12} {'shoal/linux':>12}  target: <= linux")
	for f in figures:
		unit, scale = units[f]
		s, l = med(shoal[f]), med(linux[f])
		cell = lambda v: f"{v * scale:.1f} {unit}" if v is not None else "-"
		ratio = f"{s / l:.2f}" if s is not None and l else "-"
		verdict = ("met" if s <= l else "MISSED") if s is not None and l else "-"
		print(f"  {what[f]:<30} {cell(s):>12} {cell(l):>12} {ratio:>12}  {verdict}")
		if s is not None:
			lines.append(f"tasks.{f}.shoal_{unit}={s * scale:.1f}")
		if l is not None:
			lines.append(f"tasks.{f}.linux_{unit}={l * scale:.1f}")
		if s is not None and l:
			lines.append(f"tasks.{f}.ratio={s / l:.3f}")
	if not any(shoal[f] for f in figures):
		print("  shoal: no figure measured: its tasks did not run to their end (notes below)")
	for k, v in notes.items():
		print(f"  note: {v}")
	lines.append(f"tasks.accel={accel}")
	with open(a.results, "a") as f:
		f.write("\n".join(lines) + "\n")
	# A figure shoal cannot produce yet is reported, not an error; Linux must measure.
	return 0 if all(linux[f] for f in figures) or "linux" in notes else 1


if __name__ == "__main__":
	sys.exit(main())
