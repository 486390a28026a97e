#!/usr/bin/env python3
"""Network figures of `make bench` (issue 3): shoal beside the Linux guest, virtio-net.

Design: both guests boot, one at a time and taking turns (--runs boots each), on tap 0 of one
test net (scripts/testnet.sh: a namespace with a bridge and a DHCP-only dnsmasq), with the
same QEMU settings from scripts/qemu.sh --netns. For each boot: the time from spawning QEMU to the guest's address
line on its serial console (shoal's `net: eth0 A/P via dhcp in X ms`, whose X is the kernel's
own NIC-up-to-address figure, or the Linux guest's `linux-net: eth0 A/P via dhcp`), then from
inside the namespace PINGS pings (every RTT kept, for the median and p99) and iperf 2 in
tradeoff mode (-r: the client sends, then the node connects back and sends) for the TCP
throughput both ways. Medians over the boots; ratios shoal/Linux against the issue's targets.
Every step is bounded; the net is torn down at the end, also after an error. Needs root: prints
a skip line and exits 0 otherwise. Appends key=value lines to the results file.
"""
import argparse
import os
import re
import select
import shlex
import statistics
import subprocess
import sys
import time

import common

SHOAL_ADDR_RE = re.compile(rb"net: eth0 ([0-9.]+)/[0-9]+ via dhcp in ([0-9.]+) ms")
LINUX_ADDR_RE = re.compile(rb"linux-net: eth0 ([0-9.]+)/[0-9]+ via dhcp uptime=([0-9.]+)")
LINUX_CMDLINE = "console=ttyS0 panic=-1 quiet shoal.net=1"
RTT_RE = re.compile(r"time=([0-9.]+) ms")
NET_NAME = "bench"
ADDR_TIMEOUT = 60.0
# A shoal that is ready but has printed no net: line this long after QEMU started has no
# networking at all (a kernel before issue 3): stop waiting for its address.
NO_NET_SECS = 15.0
PINGS = 500
PING_GAP = "0.005"
PING_TIMEOUT = 60
IPERF_SECS = 3
IPERF_PORT = 5001
IPERF_BACK_PORT = 5002
IPERF_TIMEOUT = 60
# The target: an address within this many ms of NIC up.
ADDR_TARGET_MS = 50.0


log = common.logger("bench-net")
run = common.run
pct = common.pct


def launch_cmd(top, qemu_opts):
	"""The QEMU command scripts/qemu.sh would exec (parsed from --dry-run), so that no shell
	start-up is inside the timed interval."""
	rc, out = run([os.path.join(top, "scripts/qemu.sh"), "--dry-run"] + qemu_opts, 20)
	line = next((l for l in out.splitlines() if l.startswith("qemu: ")), None)
	if rc != 0 or line is None or ": ip netns exec " not in line:
		raise RuntimeError("qemu.sh --dry-run failed: " + out.strip())
	return shlex.split(line[line.index(": ip netns exec ") + 2:])


def wait_addr(proc, regex, t0, timeout):
	"""Read the console until regex matches; (seconds since t0, match) or (None, None)."""
	fd = proc.stdout.fileno()
	buf = b""
	while True:
		left = t0 + timeout - time.monotonic()
		if left <= 0:
			return None, None, buf
		if (time.monotonic() - t0 > NO_NET_SECS and b"shoal: ready" in buf and
				b"net: " not in buf):
			return None, None, buf
		ready, _, _ = select.select([fd], [], [], min(left, 1.0))
		if not ready:
			continue
		data = os.read(fd, 65536)
		now = time.monotonic()
		if not data:
			return None, None, buf
		buf += data
		m = regex.search(buf)
		if m and buf.find(b"\n", m.end()) >= 0:
			return now - t0, m, buf


def measure(top, net, qemu_opts, regex, label):
	"""One boot: {'addr_s', 'kernel_ms', 'rtts', 'to_node', 'from_node'} (missing on failure)."""
	r = {}
	cmd = launch_cmd(top, qemu_opts)
	t0 = time.monotonic()
	proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
				stderr=subprocess.STDOUT)
	try:
		secs, m, out = wait_addr(proc, regex, t0, ADDR_TIMEOUT)
		if m is None:
			tail = out.decode(errors="replace").strip().splitlines()[-3:]
			log(f"{label}: no address within {ADDR_TIMEOUT:.0f} s: {' | '.join(tail)}")
			return r
		addr = m.group(1).decode()
		r["addr_s"] = secs
		if label == "shoal":
			r["kernel_ms"] = float(m.group(2))
		tn = os.path.join(top, "scripts/testnet.sh")
		rc, out = run([tn, "exec", net, "ping", "-c", str(PINGS), "-i", PING_GAP, "-W", "1", addr],
			      PING_TIMEOUT)
		rtts = [float(x) for x in RTT_RE.findall(out)]
		if rtts:
			r["rtts"] = rtts
			r["lost"] = PINGS - len(rtts)
		else:
			log(f"{label}: no ping replies")
		rc, out = run([tn, "exec", net, "iperf", "-c", addr, "-p", str(IPERF_PORT),
			       "-t", str(IPERF_SECS), "-r", "-L", str(IPERF_BACK_PORT), "-y", "C"],
			      IPERF_TIMEOUT)
		for line in out.splitlines():
			f = line.split(",")
			if len(f) < 9 or not f[8].isdigit():
				continue
			if f[4] == str(IPERF_PORT) and "to_node" not in r:
				r["to_node"] = int(f[8]) / 1e6
			elif f[4] == str(IPERF_BACK_PORT) and "from_node" not in r:
				r["from_node"] = int(f[8]) / 1e6
		for k in ("to_node", "from_node"):
			if k not in r:
				log(f"{label}: no iperf {k.replace('_', ' ')} rate: {out.strip()[-200:]}")
		return r
	finally:
		proc.kill()
		proc.wait()


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--top", required=True)
	ap.add_argument("--linux-dir", required=True)
	ap.add_argument("--results", required=True)
	ap.add_argument("--runs", type=int, default=3)
	ap.add_argument("--smp", default="1")
	ap.add_argument("--mem", default="128")
	ap.add_argument("--nic", default="virtio-net-pci")
	ap.add_argument("--kernel", help="shoal kernel to boot (default: scripts/qemu.sh's)")
	ap.add_argument("--net", default=NET_NAME, help="test net name (scripts/testnet.sh)")
	ap.add_argument("--guests", default="shoal,linux",
			help="which guests to measure, comma-separated (default: both)")
	a = ap.parse_args()

	if os.geteuid() != 0:
		print("net bench: skipped (needs root for the test network)")
		return 0
	top = a.top
	tn = os.path.join(top, "scripts/testnet.sh")
	rc, out = run([tn, "up", a.net, "1"], 30)
	if rc != 0:
		print("net bench: testnet.sh up failed: " + out.strip(), file=sys.stderr)
		return 1
	base = ["--netns", a.net, "--node", "0", "--nic", a.nic, "--smp", a.smp, "--mem", a.mem]
	shoal_opts = base + (["--kernel", a.kernel] if a.kernel else []) + ["--append", "net.diag=1"]
	targets = [
		("shoal", shoal_opts, SHOAL_ADDR_RE),
		("linux", base + ["--kernel", os.path.join(a.linux_dir, "vmlinuz"),
				    "--initrd", os.path.join(a.linux_dir, "initramfs-net.cpio.gz"),
				    "--append", LINUX_CMDLINE], LINUX_ADDR_RE),
	]
	wanted = a.guests.split(",")
	got = {n: [] for n in ("shoal", "linux")}
	try:
		# Boots alternate between the guests, so that a change in the host's load
		# (other work on a shared machine) weighs on both alike.
		for i in range(a.runs):
			for name, opts, regex in targets:
				if name not in wanted:
					continue
				log(f"{name} run {i + 1}/{a.runs}")
				got[name].append(measure(top, a.net, opts, regex, name))
	finally:
		run([tn, "down", a.net], 30)

	def vals(name, key):
		return [r[key] for r in got[name] if key in r]

	def mid(name, key):
		return common.median(vals(name, key))

	rows = []
	res = {}
	missing = []

	def fig(label, key, unit, fmt, better, target=None, scale=1.0):
		s = {n: mid(n, key) for n in ("shoal", "linux")}
		for n in s:
			if s[n] is None:
				if n in wanted:
					missing.append(f"{label} ({n})")
			else:
				res[f"net_{key}_{n}"] = f"{s[n] * scale:{fmt}}"
		rat = ""
		verdict = ""
		if s["shoal"] is not None and s["linux"]:
			q = s["shoal"] / s["linux"]
			rat = f"{q:.2f}"
			res[f"net_{key}_ratio"] = rat
			if better == "lower":
				verdict = "ok (<= 1)" if q <= 1 else "MISSED (target <= 1)"
			elif better == "higher":
				verdict = "ok (>= 1)" if q >= 1 else "MISSED (target >= 1)"
		if target:
			verdict = target
		cell = lambda v: "-" if v is None else f"{v * scale:{fmt}} {unit}"
		rows.append((label, cell(s["shoal"]), cell(s["linux"]), rat, verdict))

	# RTT figures per boot, then the median over boots.
	for n in got:
		for r in got[n]:
			if "rtts" in r:
				r["rtt_med"] = statistics.median(r["rtts"])
				r["rtt_p99"] = pct(r["rtts"], 99)
	fig("QEMU start -> address", "addr_s", "s", ".3f", "lower")
	k = mid("shoal", "kernel_ms")
	kt = "-" if k is None else (("ok" if k <= ADDR_TARGET_MS else "MISSED") +
				    f" (target <= {ADDR_TARGET_MS:.0f} ms)")
	if k is not None:
		res["net_nic_up_to_addr_ms_shoal"] = f"{k:.1f}"
	rows.append(("NIC up -> address (shoal's own)", "-" if k is None else f"{k:.1f} ms", "-",
		     "", kt))
	fig("ping RTT median", "rtt_med", "ms", ".3f", "lower")
	fig("ping RTT p99", "rtt_p99", "ms", ".3f", "lower")
	fig("TCP to node (iperf -c)", "to_node", "Mbit/s", ".0f", "higher")
	fig("TCP from node (iperf -r)", "from_node", "Mbit/s", ".0f", "higher")
	lost = {n: sum(r.get("lost", 0) for r in got[n]) for n in got}

	print()
	print(f"network ({a.nic}, tap on a bridge in a netns, dnsmasq DHCP; -smp {a.smp} -m {a.mem}; "
	      f"{a.runs} boots each; {PINGS} pings every {PING_GAP} s, iperf 2 {IPERF_SECS} s each way)")
	hdr = ("figure", "shoal", "linux", "shoal/linux", "target")
	widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(4)]
	for r in [hdr] + rows:
		print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[4])
	print(f"pings lost: shoal {lost.get('shoal', 0)}, linux {lost.get('linux', 0)}")
	return common.finish(a.results, f"network, {a.nic}, medians over {a.runs} boots; throughput "
			     "in Mbit/s", res, missing, "net")


if __name__ == "__main__":
	sys.exit(main())
