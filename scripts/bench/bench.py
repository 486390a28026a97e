#!/usr/bin/env python3
"""Measure shoal against a minimal Linux guest on the same QEMU settings (`make bench`).

Design: every figure is one or more QEMU boots. A boot is timed from just before the QEMU
process is spawned to the moment a marker line appears on its serial console (stdout pipe),
stamped with time.monotonic(); the process is then SIGKILLed by PID. Every boot is bounded by
a timeout, and a QEMU that exits before the marker (a panic under -no-reboot) is a failed
boot, so both hangs and panics count as "does not boot". Boots run one after another: on this
2-core host two TCG guests side by side would slow each other and skew the medians.

Memory floors are searched with one boot per candidate size: downward in coarse steps while
boots succeed, then in 1 MiB steps inside the last coarse gap; the floor found is booted once
more, and moved up while that second boot fails, so an edge that boots only sometimes is not
reported. All paths come from bench.sh.

Command lines come from scripts/qemu.sh --dry-run (the project's one launcher), with the
machine flags appended, so shoal and Linux run with identical QEMU settings; QEMU itself is
then spawned directly so that no shell start-up is inside the timed interval. Without
qemu.sh the same flags are built here.
"""
import argparse
import os
import re
import shlex
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import common

READY_RE = re.compile(rb"shoal: ready in ([0-9.]+) ms")
BANNER_RE = re.compile(rb"booting: ([0-9]+) cpus")
ONLINE_RE = re.compile(rb"\(([0-9]+) cpus online\)")
LINUX_RE = re.compile(rb"LINUX-INIT-REACHED uptime=([0-9.]+)")
LINUX_CMDLINE = "console=ttyS0 panic=-1 quiet"
QBOOT = "/usr/share/qemu/qboot.rom"
KVM_ARGS = ["-enable-kvm", "-cpu", "host,-arch-capabilities", "-bios", QBOOT]
TCG_ARGS = ["-accel", "tcg"]
KIB = 1024
MIB = 1024 * 1024
PT_LOAD = 1

# Per-boot bounds (seconds). A healthy boot takes ~0.1 s (shoal) or ~5 s (Linux, TCG).
SHOAL_TIMEOUT = 10.0
SHOAL_MEM_TIMEOUT = 5.0
LINUX_TIMEOUT = 30.0
LINUX_MEM_TIMEOUT = 20.0
LINUX_KVM_TIMEOUT = 20.0
KVM_PROBE_TIMEOUT = 20.0
ISO_TIMEOUT = 60.0


def boot(cmd, marker, timeout):
	"""Run one QEMU; return (seconds to marker line or None, match or None, output bytes)."""
	t0 = time.monotonic()
	proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
				stderr=subprocess.STDOUT)
	rd = common.LineReader(proc.stdout.fileno())
	found = None
	try:
		while True:
			# None: the timeout, or QEMU exited (panic, triple fault, poweroff) first
			more = rd.more(t0 + timeout)
			if not more:
				break
			now, start, end = more
			m = marker.search(rd.buf, start, end)
			if m:
				found = (now - t0, m)
				break
	finally:
		proc.kill()
		proc.wait()
		proc.stdout.close()
	if found:
		return found[0], found[1], rd.buf
	return None, None, rd.buf


class Series:
	"""Results of N identical boots."""

	def __init__(self, walls, values, fails, last_output):
		self.walls = walls		# seconds to the marker
		self.values = values		# number captured by the marker regex
		self.fails = fails
		self.last_output = last_output

	@property
	def ok(self):
		return len(self.walls) > 0


def series(cmd, marker, runs, timeout, label):
	walls, values, fails, out = [], [], 0, b""
	for _ in range(runs):
		wall, m, out = boot(cmd, marker, timeout)
		if wall is None:
			fails += 1
			continue
		walls.append(wall)
		values.append(float(m.group(1)))
	s = Series(walls, values, fails, out)
	note = f"{len(walls)}/{runs} ok"
	if walls:
		note += f", median {statistics.median(walls):.3f} s"
	log(f"{label}: {note}")
	if not walls:
		tail = out.decode(errors="replace").strip().splitlines()[-5:]
		log(f"{label}: no boot reached the marker; last output: " + " | ".join(tail))
	return s


def mem_floor(make_cmd, marker, start, coarse, timeout, ceiling, label):
	"""Least -m (MiB) that reaches the marker, or None. One boot per size tried."""
	tried = {}

	def ok(mib):
		if mib not in tried:
			tried[mib] = boot(make_cmd(mib), marker, timeout)[0] is not None
		return tried[mib]

	good = None
	m = start
	while m <= ceiling:			# find a size that boots, upward if start fails
		if ok(m):
			good = m
			break
		m += coarse
	if good is None:
		log(f"{label}: nothing up to {ceiling} MiB booted")
		return None
	while good - coarse >= 1 and ok(good - coarse):	# coarse steps down
		good -= coarse
	m = good - 1
	while m > good - coarse and m >= 1 and ok(m):	# 1 MiB steps inside the gap
		good = m
		m -= 1
	trail = ", ".join(f"{k}{'+' if v else '-'}" for k, v in sorted(tried.items(), reverse=True))
	while good <= ceiling and boot(make_cmd(good), marker, timeout)[0] is None:
		trail += f"; {good} failed its second boot"
		good += 1
	if good > ceiling:
		log(f"{label}: no size boots twice up to {ceiling} MiB ({trail})")
		return None
	log(f"{label}: floor {good} MiB (tried {trail})")
	return good


def elf_sizes(path):
	"""(file bytes, sum of PT_LOAD file bytes, PT_LOAD memory span incl. bss)."""
	with open(path, "rb") as f:
		data = f.read()
	if data[:4] != b"\x7fELF" or data[4] != 2:
		raise ValueError(f"{path}: not an ELF64 file")
	phoff, = struct.unpack_from("<Q", data, 0x20)
	phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
	filesz_sum, lo, hi = 0, None, None
	for i in range(phnum):
		p_type, _, _, _, p_paddr, p_filesz, p_memsz, _ = struct.unpack_from(
			"<IIQQQQQQ", data, phoff + i * phentsize)
		if p_type != PT_LOAD:
			continue
		filesz_sum += p_filesz
		lo = p_paddr if lo is None else min(lo, p_paddr)
		hi = p_paddr + p_memsz if hi is None else max(hi, p_paddr + p_memsz)
	return len(data), filesz_sum, (hi - lo) if lo is not None else 0


def stripped_size(path):
	"""Bytes of the ELF once its .debug_* sections are dropped (objcopy), or None."""
	fd, tmp = tempfile.mkstemp(prefix="shoal-bench-", suffix=".elf")
	os.close(fd)
	try:
		p = subprocess.run(["objcopy", "--strip-debug", path, tmp], capture_output=True)
		return os.path.getsize(tmp) if p.returncode == 0 else None
	except OSError:
		return None
	finally:
		if os.path.exists(tmp):
			os.remove(tmp)


def lib_bytes(paths):
	"""Text and data bytes of static libraries (`size -t`), or None."""
	total = 0
	for path in paths:
		try:
			p = subprocess.run(["size", "-t", path], capture_output=True, text=True)
		except OSError:
			return None
		lines = p.stdout.strip().splitlines()
		if p.returncode != 0 or not lines or "TOTALS" not in lines[-1]:
			return None
		text, data = lines[-1].split()[:2]
		total += int(text) + int(data)
	return total


log = common.logger("bench")
median = common.median


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--qemu", default="qemu-system-x86_64")
	ap.add_argument("--launcher", default="", help="scripts/qemu.sh, if present")
	ap.add_argument("--machine", default="q35")
	ap.add_argument("--nodefaults", type=int, default=1)
	ap.add_argument("--smp", type=int, default=4)
	ap.add_argument("--mem", type=int, default=128)
	ap.add_argument("--runs", type=int, default=10)
	ap.add_argument("--linux-runs", type=int, default=10)
	ap.add_argument("--iso-runs", type=int, default=10)
	ap.add_argument("--linux-iso-runs", type=int, default=3)
	ap.add_argument("--linux-smp1-runs", type=int, default=3)
	ap.add_argument("--kvm", type=int, default=1, help="probe KVM and add a KVM column")
	ap.add_argument("--elf", required=True)
	ap.add_argument("--cpio", required=True)
	ap.add_argument("--iso")
	ap.add_argument("--grub-timeout", default="?")
	ap.add_argument("--linux-dir", required=True)
	ap.add_argument("--results", required=True)
	a = ap.parse_args()

	lk = os.path.join(a.linux_dir, "vmlinuz")
	li = os.path.join(a.linux_dir, "initramfs.cpio.gz")
	liso = os.path.join(a.linux_dir, "linux.iso")
	have_linux = all(os.path.exists(x) for x in (lk, li, os.path.join(a.linux_dir, "version")))
	lver = open(os.path.join(a.linux_dir, "version")).read().strip() if have_linux else \
		"(not built)"
	qver = subprocess.run([a.qemu, "--version"], capture_output=True, text=True).stdout
	qver = qver.splitlines()[0].replace("QEMU emulator version ", "") if qver else "?"

	machine = ["-M", a.machine] + (["-nodefaults"] if a.nodefaults else [])
	base_flags = ["-display", "none", "-no-reboot", "-serial", "stdio",
		      "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
	cache = {}

	def qemu(accel, smp, mem, payload):
		"""QEMU argv for one boot; payload is ("kernel", K, I, APPEND) or ("iso", F)."""
		key = (accel, smp, mem, payload)
		if key in cache:
			return cache[key]
		cmd = launcher_cmd(accel, smp, mem, payload) if a.launcher else None
		if cmd is None:
			cmd = [a.qemu] + (KVM_ARGS if accel == "kvm" else TCG_ARGS) + base_flags + \
				["-smp", str(smp), "-m", str(mem)]
			if payload[0] == "iso":
				cmd += ["-cdrom", payload[1]]
			else:
				cmd += ["-kernel", payload[1], "-initrd", payload[2]]
				cmd += ["-append", payload[3]] if payload[3] else []
			cmd += machine
		cache[key] = cmd
		return cmd

	def launcher_cmd(accel, smp, mem, payload):
		argv = [a.launcher, "--dry-run", "--accel", accel, "--smp", str(smp),
			"--mem", str(mem)]
		if payload[0] == "iso":
			argv += ["--iso", payload[1]]
		else:
			argv += ["--kernel", payload[1], "--initrd", payload[2]]
			argv += ["--append", payload[3]] if payload[3] else []
		argv += ["--"] + machine
		p = subprocess.run(argv, capture_output=True, text=True)
		lines = p.stderr.strip().splitlines()
		sep = ": qemu-system-x86_64 "
		if p.returncode != 0 or not lines or sep not in lines[-1]:
			log(f"qemu.sh --dry-run unusable ({p.returncode}), using built-in flags")
			a.launcher = ""
			return None
		cmd = shlex.split(lines[-1].split(sep, 1)[1])
		return [a.qemu] + cmd

	kvm_append = ""  # what the KVM probe needed on the command line (fpu=off on nested PVM)

	def shoal_k(accel):
		return ("kernel", a.elf, a.cpio, kvm_append if accel == "kvm" else "")
	linux_k = ("kernel", lk, li, LINUX_CMDLINE)

	res = {}		# key -> value for results.txt
	rows = []		# table rows

	def put(key, val):
		if val is not None:
			res[key] = val

	def put_series(prefix, s, scale=1000.0):
		if s and s.ok:
			put(prefix + ".median", round(median(s.walls) * scale, 1))
			put(prefix + ".min", round(min(s.walls) * scale, 1))
			put(prefix + ".max", round(max(s.walls) * scale, 1))
			put(prefix + ".runs", len(s.walls))
			put(prefix + ".failed", s.fails)

	def put_vals(prefix, xs, digits=3):
		if xs:
			put(prefix + ".median", round(median(xs), digits))
			put(prefix + ".min", round(min(xs), digits))
			put(prefix + ".max", round(max(xs), digits))

	def ratio(x, y):
		return x / y if x is not None and y not in (None, 0) else None

	def verdict(ok):
		return "target met" if ok else "target MISSED"

	# ---- KVM probe: one bounded direct boot of shoal via qboot; KVM figures only if it passes.
	kvm = False
	if a.kvm and os.access("/dev/kvm", os.R_OK | os.W_OK):
		# This project's nested PVM "KVM" cannot run SSE instructions in a guest kernel; shoal
		# then boots with fpu=off, and the figures say so.
		for kvm_append in ("", "fpu=off"):
			wall, _, _ = boot(qemu("kvm", a.smp, a.mem, shoal_k("kvm")), READY_RE,
					  KVM_PROBE_TIMEOUT)
			kvm = wall is not None
			log(f"KVM probe (qboot, -kernel, append '{kvm_append}'): "
			    f"{'ready in %.2f s' % wall if kvm else 'failed'}")
			if kvm:
				break
		res["kvm.append"] = kvm_append or "none"
	elif a.kvm:
		log("KVM probe: /dev/kvm not usable, skipped")
	res["kvm"] = "yes" if kvm else "no"
	load0 = os.getloadavg()[0]
	accels = ["tcg"] + (["kvm"] if kvm else [])

	res.update({"qemu": qver.split()[0], "machine": " ".join(machine), "smp": a.smp,
		    "mem_mib": a.mem, "linux_guest": lver.replace(" ", "_")})

	# ---- sizes (accelerator independent)
	efile, eload, espan = elf_sizes(a.elf)
	estrip = stripped_size(a.elf)
	# Issue 2's size target is for the kernel before lwIP and mbedTLS joined it: the image
	# less those libraries' code and data.
	libs = lib_bytes([os.path.join(os.path.dirname(a.elf), n)
			  for n in ("liblwip.a", "libmbedtls.a")])
	ecore = efile - libs if libs is not None else None
	cpio = os.path.getsize(a.cpio)
	lk_b, li_b = (os.path.getsize(lk), os.path.getsize(li)) if have_linux else (None, None)
	lx_b = lk_b + li_b if have_linux else None
	put("shoal.elf_file_bytes", efile)
	put("shoal.elf_load_file_bytes", eload)
	put("shoal.elf_load_span_bytes", espan)
	put("shoal.elf_stripped_debug_bytes", estrip)
	put("shoal.elf_without_lwip_mbedtls_bytes", ecore)
	put("shoal.userland_cpio_bytes", cpio)
	put("linux.vmlinuz_bytes", lk_b)
	put("linux.initramfs_bytes", li_b)
	put("linux.image_bytes", lx_b)
	size_ratio = ratio(lx_b, efile + cpio)
	put("ratio.image_bytes", round(size_ratio, 1) if size_ratio else None)

	figures = {}
	for acc in accels:
		A = acc.upper()
		f = figures[acc] = {}
		# -- shoal, direct path, -smp N: wall to ready and the TSC figure of the same boots
		s4 = series(qemu(acc, a.smp, a.mem, shoal_k(acc)), READY_RE, a.runs, SHOAL_TIMEOUT,
			    f"{A} shoal -kernel -smp {a.smp} x{a.runs}")
		s1 = series(qemu(acc, 1, a.mem, shoal_k(acc)), READY_RE, a.runs, SHOAL_TIMEOUT,
			    f"{A} shoal -kernel -smp 1 x{a.runs}")
		f["s4"], f["s1"] = s4, s1
		put_series(f"{acc}.shoal.wall_direct_ms", s4)
		put_vals(f"{acc}.shoal.tsc_ready_ms_smp{a.smp}", s4.values)
		put_vals(f"{acc}.shoal.tsc_ready_ms_smp1", s1.values)
		online = ONLINE_RE.search(s4.last_output) or BANNER_RE.search(s4.last_output)
		f["online"] = online.group(1).decode() if online else "?"
		put(f"{acc}.shoal.cpus_online_smp{a.smp}", f["online"])
		# -- shoal ISO (SeaBIOS + GRUB): TCG only, qboot cannot boot a CD
		if acc == "tcg":
			if a.iso and os.path.exists(a.iso) and a.iso_runs > 0:
				f["iso"] = series(qemu(acc, a.smp, a.mem, ("iso", a.iso)),
						  READY_RE, a.iso_runs, ISO_TIMEOUT,
						  f"{A} shoal ISO x{a.iso_runs}")
				put_series(f"{acc}.shoal.wall_iso_ms", f["iso"])
			else:
				f["iso"] = None
		# -- shoal memory floor
		f["mem"] = mem_floor(lambda m: qemu(acc, a.smp, m, shoal_k(acc)), READY_RE, 16, 1,
				     SHOAL_MEM_TIMEOUT, 128, f"{A} shoal memory floor")
		put(f"{acc}.shoal.min_mem_mib", f["mem"])

		# -- Linux guest, same settings
		if not have_linux:
			f["linux_ok"] = False
			f["na"] = "NOT MEASURED (no Linux guest)"
			continue
		if acc == "kvm":
			# Known to die on emulation failures here: one bounded try decides.
			lt = series(qemu(acc, a.smp, a.mem, linux_k), LINUX_RE, 1,
				    LINUX_KVM_TIMEOUT, f"{A} linux -kernel try")
			f["linux_ok"] = lt.ok
			if not lt.ok:
				res["kvm.linux"] = "fails_under_this_kvm"
				continue
		else:
			f["linux_ok"] = True
		l4 = series(qemu(acc, a.smp, a.mem, linux_k), LINUX_RE, a.linux_runs, LINUX_TIMEOUT,
			    f"{A} linux -kernel -smp {a.smp} x{a.linux_runs}")
		l1 = series(qemu(acc, 1, a.mem, linux_k), LINUX_RE, a.linux_smp1_runs,
			    LINUX_TIMEOUT, f"{A} linux -kernel -smp 1 x{a.linux_smp1_runs}")
		f["l4"], f["l1"] = l4, l1
		put_series(f"{acc}.linux.wall_direct_ms", l4)
		put_vals(f"{acc}.linux.uptime_at_init_ms_smp{a.smp}",
			 [v * 1000 for v in l4.values], 0)
		put_vals(f"{acc}.linux.uptime_at_init_ms_smp1", [v * 1000 for v in l1.values], 0)
		if acc == "tcg" and os.path.exists(liso) and a.linux_iso_runs > 0:
			f["liso"] = series(qemu(acc, a.smp, a.mem, ("iso", liso)), LINUX_RE,
					   a.linux_iso_runs, ISO_TIMEOUT,
					   f"{A} linux ISO x{a.linux_iso_runs}")
			put_series(f"{acc}.linux.wall_iso_ms", f["liso"])
		else:
			f["liso"] = None
		f["lmem"] = mem_floor(lambda m: qemu(acc, a.smp, m, linux_k), LINUX_RE, 96, 4,
				      LINUX_MEM_TIMEOUT, 256, f"{A} linux memory floor")
		put(f"{acc}.linux.min_mem_mib", f["lmem"])

	# ---- table
	def row(name, acc, sh, lx, rat="", tgt=""):
		rows.append((name, acc, sh or "NOT MEASURED", lx or "NOT MEASURED", rat, tgt))

	def cell(xs, runs, unit="s", scale=1.0, digits=3):
		"""'median unit (min-max) n=ok/runs', or None when no boot succeeded."""
		if not xs:
			return None
		v = [x * scale for x in xs]
		text = f"{statistics.median(v):.{digits}f} {unit}"
		if len(v) > 1:
			text += f" ({min(v):.{digits}f}-{max(v):.{digits}f})"
		return text + f" n={len(v)}" + (f"/{runs}" if len(v) != runs else "")

	def times(r):
		return f"{r:.0f}x" if r is not None else ""

	for acc in accels:
		A = acc.upper()
		f = figures[acc]
		linux = f.get("linux_ok")
		na = f.get("na", "n/a (fails under this KVM)")
		s4, s1 = f["s4"], f["s1"]
		l4, l1 = f.get("l4"), f.get("l1")
		r = ratio(median(l4.walls) if linux and l4 and l4.ok else None, median(s4.walls))
		put(f"{acc}.ratio.wall_direct", round(r, 1) if r else None)
		tgt = f">=30x faster: {verdict(r >= 30)}" if acc == "tcg" and r is not None else ""
		row("start->ready, -kernel", A, cell(s4.walls, a.runs),
		    cell(l4.walls, a.linux_runs) if linux and l4 else na, times(r), tgt)
		if acc == "tcg":
			iso, liso = f.get("iso"), f.get("liso")
			ri = ratio(median(liso.walls) if liso and liso.ok else None,
				   median(iso.walls) if iso and iso.ok else None)
			put(f"{acc}.ratio.wall_iso", round(ri, 1) if ri else None)
			row(f"start->ready, ISO (SeaBIOS, GRUB timeout {a.grub_timeout})", A,
			    cell(iso.walls, a.iso_runs) if iso else None,
			    cell(liso.walls, a.linux_iso_runs) if liso else "n/a (no Linux ISO)",
			    times(ri))
		else:
			nocd = "n/a (qboot: no CD boot)"
			row("start->ready, ISO", A, nocd, nocd)
		lv4 = [v * 1000 for v in l4.values] if linux and l4 else []
		lv1 = [v * 1000 for v in l1.values] if linux and l1 else []
		t4 = median(s4.values)
		tgt4 = ""
		if t4 is not None:
			lim = 30 if acc == "tcg" else 10
			tgt4 = f"<{lim} ms: {verdict(t4 < lim)}"
			if acc == "kvm":
				tgt4 += " (nested PVM here)"
			# The TSC span is inside the wall span; if it is not, the clock is off.
			if s4.walls and t4 > median(s4.walls) * 1000:
				tgt4 += "; TSC figure > wall time: calibration suspect"
		row(f"entry->ready, TSC, -smp {a.smp} ({f['online']} cpus up)", A,
		    cell(s4.values, a.runs, "ms"),
		    cell(lv4, a.linux_runs, "ms", digits=0) if linux else na,
		    times(ratio(median(lv4), t4)), tgt4)
		row("entry->ready, TSC, -smp 1", A, cell(s1.values, a.runs, "ms"),
		    cell(lv1, a.linux_smp1_runs, "ms", digits=0) if linux else na,
		    times(ratio(median(lv1), median(s1.values))))
		lm = f.get("lmem")
		rm = ratio(lm, f["mem"])
		put(f"{acc}.ratio.min_mem", round(rm, 1) if rm else None)
		row(f"least -m that boots", A, f"{f['mem']} MiB" if f["mem"] else None,
		    (f"{lm} MiB" if lm else None) if linux else na,
		    f"{rm:.1f}x" if rm else "",
		    f"<=8 MiB: {verdict(f['mem'] <= 8)}" if f["mem"] else "")
	row("image: shoal.elf | vmlinuz+initramfs", "-", f"{efile:,} B ({efile / KIB:.0f} KiB)",
	    f"{lx_b:,} B ({lx_b / MIB:.1f} MiB)" if lx_b else None, times(size_ratio), "")
	if ecore is not None:
		row("  shoal.elf less lwIP and mbedTLS", "-", f"{ecore:,} B ({ecore / KIB:.0f} KiB)",
		    "-", "", f"<512 KiB: {verdict(ecore < 512 * KIB)}")
	row("  shoal.elf PT_LOAD bytes | span w/ bss", "-",
	    f"{eload / KIB:.0f} KiB | {espan / KIB:.0f} KiB",
	    f"vmlinuz {lk_b:,} B" if lk_b else None, "", "")
	if estrip is not None:
		row("  shoal.elf without debug info", "-", f"{estrip:,} B ({estrip / KIB:.0f} KiB)",
		    "-", "", "")
	row("  userland.cpio | initramfs.cpio.gz", "-", f"{cpio:,} B",
	    f"{li_b:,} B" if li_b else None)

	hdr = ("measure", "accel", "shoal", "Linux guest", "Linux/shoal", "target")
	widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr) - 1)]

	def show(r):
		print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])

	print()
	print(f"shoal bench: QEMU {qver.split()[0]}, {' '.join(machine)}, -smp {a.smp}, "
	      f"-m {a.mem} for timing runs; accelerators: {', '.join(x.upper() for x in accels)}"
	      + ("" if kvm else " (KVM: not probed)" if not a.kvm else
		 " (KVM: probe failed or /dev/kvm unusable)"))
	load1 = os.getloadavg()[0]
	res["host_load1_start"], res["host_load1_end"] = round(load0, 2), round(load1, 2)
	print(f"host: {os.cpu_count()} cpus, load average {load0:.1f} at start, {load1:.1f} at end "
	      "(other work on the host slows the -smp 4 TCG guests and widens the ratios)")
	print(f"Linux guest: Debian {lver}, busybox-static initramfs, -append '{LINUX_CMDLINE}'")
	print("cells: median (min-max) n=boots; start->ready = QEMU process start to the ready "
	      "line (Linux: the /init marker)")
	print()
	show(hdr)
	print("-" * (sum(widths) + 2 * len(widths) + len(hdr[-1]) + 20))
	for r in rows:
		show(r)
	print()
	print("Linux entry->ready is /proc/uptime read by its /init (10 ms steps, after the "
	      "decompressor); shoal's is the TSC figure of its ready line.")
	print("least -m: one boot per size tried, the floor booted twice; KVM boots use qboot "
	      "(SeaBIOS crawls under this nested KVM).")
	if kvm and kvm_append:
		print(f"KVM boots of shoal use '{kvm_append}': this nested KVM dies on the kernel's "
		      "first SSE instruction (emulation failure), so SSE stays off there.")
	print()

	# ---- required figures
	tf = figures["tcg"]
	req = {
		"TCG shoal -kernel wall": tf["s4"].ok,
		"TCG shoal TSC ready -smp 1": tf["s1"].ok,
		"TCG shoal ISO wall": a.iso_runs == 0 or bool(tf.get("iso") and tf["iso"].ok),
		"TCG shoal memory floor": tf["mem"] is not None,
		"TCG Linux -kernel wall": bool(tf.get("l4") and tf["l4"].ok),
		"TCG Linux memory floor": tf.get("lmem") is not None,
	}
	missing = [k for k, v in req.items() if not v]

	os.makedirs(os.path.dirname(a.results), exist_ok=True)
	with open(a.results + ".tmp", "w") as out:
		out.write("# make bench results; times in ms unless named otherwise; accelerator "
			  "is the key prefix (tcg., kvm.)\n")
		for k, v in res.items():
			out.write(f"{k}={v}\n")
		unmeasured = ",".join(m.replace(" ", "_") for m in missing) or "none"
		out.write(f"unmeasured={unmeasured}\n")
	os.replace(a.results + ".tmp", a.results)
	print(f"results: {a.results}")
	if missing:
		print("bench: could not measure: " + "; ".join(missing), file=sys.stderr)
		return 1
	return 0


if __name__ == "__main__":
	sys.exit(main())
