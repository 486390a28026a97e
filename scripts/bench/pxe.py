#!/usr/bin/env python3
"""PXE figures of `make bench` (issue 7): diskless shoal nodes PXE-booted (BIOS and UEFI)
beside the Linux guest PXE-booted the same way, and how long N nodes take to form a cluster.

Design: one test net (scripts/testnet.sh up NAME K --tftp TREE: a namespace with a bridge and
dnsmasq serving DHCP, TFTP and IPv6 router advertisements) and one TFTP tree written by
scripts/pxe.sh root, the tree `make pxe` writes, plus the Linux guest's kernel and network
initramfs (scripts/linux-guest.sh) under boot/linux/. Every guest boots through the same
firmware, iPXE (BIOS; OVMF's own network stack and iPXE under UEFI), the same GRUB network
image and the same dnsmasq; only what GRUB loads differs: each guest's per-MAC file
(grub.cfg-01-MAC) either gives shoal its keys and sources the common grub.cfg, or holds the
Linux guest's own menu entry (linux + initrd, `shoal.net=1` so its /init takes an address by
DHCP). An anchor shoal node (direct -kernel boot, same cluster key, no seeds) runs for the
whole PXE part, so each PXE-booted node has a cluster to join; each PXE boot uses a tap and
MAC of its own (a fresh node, not a restart).

Per boot, from just before QEMU is spawned (host monotonic clock, each serial line stamped
as it arrives): GRUB's config running (its `shoal-pxe:` line: firmware, DHCP, iPXE and GRUB
fetched), the kernel's banner (shoal) , the address line (shoal: `net: eth0 A/P via dhcp`;
Linux: `linux-net: eth0 A/P via dhcp`), and for shoal `gossip: joined as NAME`. Medians over
--runs boots, one boot at a time. The QEMU command lines come from scripts/pxe.sh qemu
--dry-run (QEMU is then spawned directly, so no shell start-up is inside the timed interval).

Cluster formation (direct -kernel boots; scripts/cluster.sh up N --discover: static
addresses, no seeds, broadcast discovery): from `cluster.sh up` being started to every node
having logged every other one alive (N=1: its `gossip: NAME on` line, there being no one to
join), for each N of --sizes, --formations times each.

Everything under TCG (SeaBIOS, iPXE and OVMF do not run under this machine's nested KVM).
Every wait is bounded, every QEMU is killed by its PID and the nets are torn down, also after
an error. Needs root: prints a skip line and exits 0 otherwise. Appends key=value lines to
the results file; exits non-zero when a required figure is missing.
"""
import argparse
import base64
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import common

NET = "pxeb"  # the test net of the PXE part
CLUSTER_NET = "pxebc"  # scripts/cluster.sh --name of the formation part
ACCEL = "tcg"
# MiB for every PXE-booted guest, per firmware (the same for shoal and Linux): the Linux
# guest needs ~90 MiB, OVMF 128, and GRUB's EFI linux loader ran out of memory at 256.
MEM = {"seabios": 256, "ovmf": 512}
CMD_TIMEOUT = 60.0
ANCHOR_TIMEOUT = 30.0
BOOT_TIMEOUT = {"shoal": 60.0, "linux": 90.0}
FORM_TIMEOUT = 120.0
POLL = 0.02
KEY_BYTES = 32

GRUB_RE = re.compile(rb"shoal-pxe: mac ")
BANNER_RE = re.compile(rb"shoal [0-9A-Za-z.+-]+ booting: ")
SHOAL_ADDR_RE = re.compile(rb"net: eth0 ([0-9.]+)/[0-9]+ via dhcp")
LINUX_ADDR_RE = re.compile(rb"linux-net: eth0 ([0-9.]+)/[0-9]+ via dhcp")
ANCHOR_RE = re.compile(rb"gossip: anchor on ")

# The Linux guest's per-MAC GRUB file: its own menu, same serial console, same marker line.
LINUX_CFG = """# written by scripts/bench/pxe.py: the Linux guest, PXE-booted like shoal
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
set default=0
echo "shoal-pxe: mac ${net_default_mac} ip ${net_default_ip} server ${net_default_server}"
menuentry "linux bench guest (PXE)" {
	linux /boot/linux/vmlinuz console=ttyS0 panic=-1 quiet shoal.net=1
	initrd /boot/linux/initramfs-net.cpio.gz
	boot
}
"""


log = common.logger("bench-pxe")
run = common.runner(CMD_TIMEOUT)
stop = common.stop
median = common.median


def dry_cmd(top, args):
	"""The QEMU command a launcher would exec, from its --dry-run line on stderr."""
	rc, out = run(args + ["--dry-run"])
	line = next((l for l in out.splitlines() if l.startswith("qemu: ")), None)
	if rc != 0 or line is None:
		raise RuntimeError(f"{' '.join(args)} --dry-run failed: {out.strip()}")
	m = re.search(r": (ip netns exec .*)$", line)
	if not m:
		raise RuntimeError(f"cannot parse the launcher's line: {line}")
	return shlex.split(m.group(1)), line.split(":", 2)[1].strip()


def watch(proc, marks, timeout, t0, stop_at):
	"""Stamp each regex of marks (name -> regex) on its first line; stop once stop_at is
	stamped, QEMU exits or the timeout passes. Returns ({name: seconds}, output)."""
	rd = common.LineReader(proc.stdout.fileno())
	got = {}
	while stop_at not in got:
		more = rd.more(t0 + timeout)
		if not more:
			break
		now, start, end = more
		chunk = rd.buf[start:end]
		for name, rx in marks.items():
			if name not in got and rx.search(chunk):
				got[name] = now - t0
	return got, rd.buf


def pxe_boot(top, tree, kind, node, firmware, key):
	"""One PXE boot of shoal or the Linux guest on tap `node`; returns the stamps."""
	rc, mac = run([f"{top}/scripts/testnet.sh", "mac", NET, str(node)])
	mac = mac.strip()
	name = f"pxe{node}"
	if kind == "shoal":
		rc, out = run([f"{top}/scripts/pxe.sh", "mac", tree, mac,
			       f"name={name} cluster.key={key} gossip.profile=fast"])
		if rc != 0:
			raise RuntimeError("pxe.sh mac failed: " + out.strip())
		marks = {"grub": GRUB_RE, "banner": BANNER_RE, "addr": SHOAL_ADDR_RE,
			 "joined": re.compile(b"gossip: joined as " + name.encode() + b", ")}
		last = "joined"
	else:
		with open(os.path.join(tree, "boot/grub/grub.cfg-01-" + mac.replace(":", "-")), "w") as f:
			f.write(LINUX_CFG)
		marks = {"grub": GRUB_RE, "addr": LINUX_ADDR_RE}
		last = "addr"
	cmd, _ = dry_cmd(top, [f"{top}/scripts/pxe.sh", "qemu", "--netns", NET, "--node", str(node),
			       "--firmware", firmware, "--mem", str(MEM[firmware]), "--accel", ACCEL])
	t0 = time.monotonic()
	proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
				stderr=subprocess.STDOUT)
	try:
		got, out = watch(proc, marks, BOOT_TIMEOUT[kind], t0, last)
	finally:
		stop(proc)
	if last not in got:
		tail = out.replace(b"\r", b"").decode(errors="replace").strip().splitlines()[-3:]
		log(f"{kind} {firmware} on tap {node}: no '{last}' line within "
		    f"{BOOT_TIMEOUT[kind]:.0f} s; last lines: {' | '.join(tail)}")
	return got


def formation(top, n):
	"""cluster.sh up n --discover; seconds until every node saw every other alive."""
	cl = [f"{top}/scripts/cluster.sh", "--name", CLUSTER_NET]
	_, d = run(cl + ["dir"])
	d = d.strip()
	t0 = time.monotonic()
	rc, out = run(cl + ["up", str(n), "--discover"], timeout=CMD_TIMEOUT)
	if rc != 0:
		log(f"cluster.sh up {n} failed: {out.strip()[-200:]}")
		return None
	try:
		end = t0 + FORM_TIMEOUT
		while time.monotonic() < end:
			done = True
			for i in range(n):
				try:
					with open(f"{d}/node{i}.log", "rb") as f:
						s = f.read()
				except OSError:
					done = False
					break
				if n == 1:
					ok = re.search(rb"gossip: node0 on ", s)
				else:
					ok = all(re.search(b"gossip: member node%d [0-9.]+ alive" % j, s)
						 for j in range(n) if j != i)
				if not ok:
					done = False
					break
			if done:
				return time.monotonic() - t0
			time.sleep(POLL)
		log(f"{n} nodes: not formed within {FORM_TIMEOUT:.0f} s")
		return None
	finally:
		run(cl + ["down"])
		if d.endswith("/" + CLUSTER_NET):
			shutil.rmtree(d, ignore_errors=True)


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--top", default=os.path.join(os.path.dirname(__file__), "../.."))
	ap.add_argument("--linux-dir", help="the Linux guest (scripts/linux-guest.sh)")
	ap.add_argument("--results", required=True)
	ap.add_argument("--runs", type=int, default=3, help="PXE boots per guest and firmware")
	ap.add_argument("--firmware", default="seabios,ovmf")
	ap.add_argument("--sizes", default="1,3,10", help="cluster sizes of the formation figure")
	ap.add_argument("--formations", type=int, default=3, help="formations per size")
	a = ap.parse_args()
	if a.runs < 1 or a.formations < 1:
		ap.error("--runs and --formations must be at least 1")
	if os.geteuid() != 0:
		print("pxe bench: skipped (needs root for the test network)")
		return 0
	top = os.path.abspath(a.top)
	firmwares = [f for f in a.firmware.split(",") if f]
	sizes = [int(x) for x in a.sizes.split(",") if x]
	linux_dir = a.linux_dir or os.path.join(top, "build/bench/linux")
	has_linux = all(os.path.isfile(os.path.join(linux_dir, f))
			for f in ("vmlinuz", "initramfs-net.cpio.gz"))
	if not has_linux:
		log(f"no Linux guest in {linux_dir} (scripts/linux-guest.sh): its figures are missing")
	tree = os.path.join(top, "build/bench/pxe/tftp")
	kinds = ["shoal"] + (["linux"] if has_linux else [])
	taps = 1 + len(kinds) * len(firmwares) * a.runs
	key = base64.b64encode(os.urandom(KEY_BYTES)).decode()
	got = {}  # (kind, firmware) -> list of stamp dicts
	form = {}  # n -> list of seconds
	anchor = None
	qemu_line = "?"
	started = time.monotonic()
	try:
		rc, out = run([f"{top}/scripts/pxe.sh", "root", tree, "--append", ""])
		if rc != 0:
			raise RuntimeError("pxe.sh root failed: " + out.strip())
		for f in os.listdir(os.path.join(tree, "boot/grub")):
			if f.startswith("grub.cfg-01-"):
				os.unlink(os.path.join(tree, "boot/grub", f))
		if has_linux:
			os.makedirs(os.path.join(tree, "boot/linux"), exist_ok=True)
			for f in ("vmlinuz", "initramfs-net.cpio.gz"):
				shutil.copyfile(os.path.join(linux_dir, f), os.path.join(tree, "boot/linux", f))
		rc, out = run([f"{top}/scripts/testnet.sh", "up", NET, str(taps), "--tftp", tree])
		if rc != 0:
			raise RuntimeError("testnet.sh up failed: " + out.strip())
		# The anchor: a direct boot on tap 0 in the same cluster, no seeds.
		cmd, _ = dry_cmd(top, [f"{top}/scripts/qemu.sh", "--netns", NET, "--node", "0",
				       "--mem", "64", "--accel", ACCEL, "--append",
				       f"name=anchor cluster.key={key} gossip.profile=fast"])
		t0 = time.monotonic()
		anchor = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
					  stderr=subprocess.STDOUT)
		g, _ = watch(anchor, {"up": ANCHOR_RE}, ANCHOR_TIMEOUT, t0, "up")
		if "up" not in g:
			raise RuntimeError("the anchor node started no gossip")
		# Drain the anchor's console from here on without reading it: a full pipe would
		# stall it. Its lines are not needed.
		os.set_blocking(anchor.stdout.fileno(), False)
		tap = 1
		for r in range(a.runs):
			for fw in firmwares:
				for kind in kinds:
					try:
						anchor.stdout.read()
					except (BlockingIOError, TypeError):
						pass
					log(f"{kind} {fw} boot {r + 1}/{a.runs} (tap {tap})")
					s = pxe_boot(top, tree, kind, tap, fw, key)
					got.setdefault((kind, fw), []).append(s)
					tap += 1
		_, qemu_line = dry_cmd(top, [f"{top}/scripts/pxe.sh", "qemu", "--netns", NET,
					     "--node", "1", "--accel", ACCEL])
	except RuntimeError as e:
		log(str(e))
	finally:
		stop(anchor)
		run([f"{top}/scripts/testnet.sh", "down", NET])
	for n in sizes:
		for r in range(a.formations):
			log(f"formation of {n} nodes, {r + 1}/{a.formations}")
			t = formation(top, n)
			if t is not None:
				form.setdefault(n, []).append(t)
	elapsed = time.monotonic() - started

	# The table and the results.
	res = {}
	missing = []
	rows = []
	fwname = {"seabios": "BIOS", "ovmf": "UEFI"}
	for fw in firmwares:
		for stamp, label in (("grub", "QEMU start -> GRUB config"), ("banner", "-> kernel banner"),
				     ("addr", "-> address (DHCP)"), ("joined", "-> joined the cluster")):
			cells = []
			vals = {}
			for kind in ("shoal", "linux"):
				xs = [s[stamp] for s in got.get((kind, fw), []) if stamp in s]
				v = median(xs)
				vals[kind] = v
				if v is not None:
					res[f"pxe_{fwname[fw].lower()}_{stamp}_s_{kind}"] = f"{v:.2f}"
					cells.append(f"{v:.2f} s" + ("" if len(xs) == a.runs else
								  f" ({len(xs)}/{a.runs})"))
				else:
					cells.append("-")
			rat = ""
			if vals["shoal"] is not None and vals["linux"]:
				rat = f"{vals['shoal'] / vals['linux']:.2f}"
				res[f"pxe_{fwname[fw].lower()}_{stamp}_ratio"] = rat
			if stamp in ("addr", "joined") and vals["shoal"] is None:
				missing.append(f"{fwname[fw]} shoal {stamp}")
			if stamp == "addr" and has_linux and vals["linux"] is None:
				missing.append(f"{fwname[fw]} linux {stamp}")
			rows.append((f"{fwname[fw]}: {label}", cells[0], cells[1], rat))
	frows = []
	for n in sizes:
		v = median(form.get(n, []))
		if v is None:
			missing.append(f"formation of {n}")
			frows.append((f"{n} node{'s' if n > 1 else ''}", "-", ""))
			continue
		res[f"pxe_form_{n}_s"] = f"{v:.2f}"
		rng = f"({min(form[n]):.2f}-{max(form[n]):.2f})" if len(form[n]) > 1 else ""
		frows.append((f"{n} node{'s' if n > 1 else ''}", f"{v:.2f} s", rng))

	print()
	launcher = re.sub(r" (firmware|mem)=[^ ]+", "", qemu_line)
	print(f"PXE boot: QEMU under {ACCEL.upper()} ({launcher}), -m "
	      f"{MEM['seabios']} (BIOS) / {MEM['ovmf']} (UEFI) for both guests, "
	      f"virtio-net on a tap bridge in a netns, one dnsmasq for DHCP + TFTP + RA, GRUB 2.06 "
	      f"network images; medians of {a.runs} boots each, one at a time; run took "
	      f"{elapsed:.0f} s.")
	hdr = ("figure", "shoal", "linux", "shoal/linux")
	widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(4)]
	for r in [hdr] + rows:
		print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
	print("Times from spawning QEMU (host monotonic clock, at each serial line's arrival). GRUB "
	      "config: GRUB's 'shoal-pxe:' echo (firmware POST, DHCP, iPXE, GRUB's image and "
	      "modules by TFTP). Address: shoal 'net: eth0 A via dhcp', Linux 'linux-net: eth0 A "
	      "via dhcp' (its /init, udhcpc). Joined: 'gossip: joined as NAME', a running direct-"
	      "boot node in the cluster, no seeds (broadcast discovery). The Linux guest has no "
	      "cluster; its kernel and initramfs are fetched by GRUB over the same TFTP.")
	print()
	print(f"cluster formation: scripts/cluster.sh up N --discover (direct -kernel boots under "
	      f"{ACCEL.upper()}, -m 64, no seeds), from 'up' to every node having logged every other "
	      f"alive (N=1: gossip started); median (range) of {a.formations}; {os.cpu_count()} "
	      f"host cores.")
	hdr = ("nodes", "formed in", "range")
	widths = [max(len(r[i]) for r in frows + [hdr]) for i in range(3)]
	for r in [hdr] + frows:
		print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
	return common.finish(a.results, f"pxe, under {ACCEL}, medians of {a.runs} boots; times in s "
			     "from QEMU start", res, missing, "pxe")


if __name__ == "__main__":
	sys.exit(main())
