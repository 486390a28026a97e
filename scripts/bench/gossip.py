#!/usr/bin/env python3
"""Gossip figures of `make bench` (issue 4): a 5-node shoal cluster in QEMU beside 5 Serf agents.

Design: both systems are measured in one run by one procedure (measure()), watching their
logs with host monotonic timestamps taken as each line arrives (Serf's own stamps have 1 s
resolution; a guest's clock is not the host's). Only the log formats, the way a member is
started and where its traffic is counted differ per system (SerfCluster, ShoalCluster).

Serf (Debian's `serf` 0.9.4, memberlist's LAN profile) runs as N agents on 127.0.0.1 with
distinct ports in a private network namespace, so everything on its loopback is theirs; twice
at once: encrypted with the same AES-256 key as shoal (the comparison), and plain (as the
anchors in ../shared/notes/anchors.md were measured). shoal runs as N QEMU nodes under TCG
through scripts/cluster.sh (static addresses on one test bridge, node 0 the seed of the
others), once with gossip.profile=lan (memberlist's periods) and once with fast (the default).
The Serf agents run in threads beside the shoal clusters, since their idle window must wait
for memberlist's push-pull to become periodic (SERF_WARMUP); their joins are measured before
any QEMU starts.

The figures:
- mass join: the seed up first, then the other N-1 at once. From the last of them starting to
  join (Serf: its `agent: joining` line, the RPC join arriving; shoal: its `gossip: NAME on
  ADDR:PORT` line, after which it joins at once) to the moment every member has reported
  every other alive (Serf: `EventMemberJoin: NAME`; shoal: `gossip: member NAME ADDR alive`).
- crash rounds: SIGKILL of the last member by PID; the times to the first suspicion anywhere
  and to the first and the last survivor reporting it failed (Serf: `EventMemberFailed`;
  shoal: `gossip: member NAME ADDR dead`). It is then restarted, and the time from its
  starting to join to everyone seeing everyone again is the rejoin figure. Medians over the
  rounds, since the first probe of the dead member after the kill falls at a random moment.
- false positives: any other suspicion or failure report, over the whole run.
- idle traffic: after convergence and a settling pause, over IDLE_SECS (one LAN push-pull
  period): what the members sent, per member, counted by the kernel (Serf: the namespace's
  loopback tx counters; shoal: the taps' rx counters, i.e. frames from the guests; both as IP
  bytes, everything included) and by a packet capture on the same interfaces (capture(), run
  inside the namespace), split into UDP and TCP on the gossip ports, as payload after the IP
  and UDP/TCP headers (AES-GCM overhead included; the 216 B/s anchor is plain Serf).

Every wait is bounded, every process is killed by PID and every namespace is deleted, also on
error. Needs root (namespaces, taps): prints a skip line and exits 0 otherwise. Appends
key=value lines to the results file; exits non-zero only when a required figure is missing.
"""
import argparse
import base64
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from multiprocessing.pool import ThreadPool

import common

N = 5
SERF_NS = "serfbench"  # not shoal-*: testnet.sh takes those for test nets with a bridge
SERF_BIND = "127.0.0.1"
SERF_PORT = 7946  # agent i binds SERF_PORT + i
SERF_RPC_PORT = 7373  # agent i's RPC on SERF_RPC_PORT + i
SHOAL_NET = "gossipb"  # scripts/cluster.sh --name: test net shoal-gossipb
SHOAL_PORT = 7946
# Bounds on every wait, in seconds.
START_TIMEOUT = 15.0
BOOT_TIMEOUT = 60.0
JOIN_TIMEOUT = 30.0
FAIL_TIMEOUT = 40.0
CMD_TIMEOUT = 20.0
CLUSTER_CMD_TIMEOUT = 60.0  # cluster.sh up (builds the net) and down
# False suspicions shown (the rest are only counted).
FALSE_SHOWN = 5
# How often a log file is read for new lines: the resolution of shoal's timestamps.
FILE_POLL_SECS = 0.01
# How long a node's log file may take to appear after cluster.sh start returns.
LOG_WAIT_SECS = 5.0
# Pause after convergence before the idle window, so join traffic has drained.
SETTLE_SECS = 3.0
# memberlist's first periodic push-pull comes a random stagger plus one interval after the
# start (30-60 s at LAN); shoal's within one interval of it. Serf's idle window starts after
# this, so that it holds one push-pull per member like shoal's.
SERF_WARMUP = 60.0
# Mass joins, each of a fresh cluster: the join figure is their median.
JOIN_ROUNDS = 3
# Crash rounds (SIGKILL, detection, restart, rejoin): the detection figures are medians.
CRASH_ROUNDS = 4
# Pause after a restarted victim has rejoined, before the next kill.
ROUND_SETTLE_SECS = 2.0
# A node with an address but no gossip line this long after has no gossip: stop waiting.
NO_GOSSIP_SECS = 10.0
# Default idle window: memberlist's LAN push-pull period, so each member does one exchange.
IDLE_SECS = 30.0
# Issue 4's targets.
SERF_IDLE_ANCHOR = 216.0  # B/s per agent, ../shared/notes/anchors.md
FAST_DETECT_TARGET = 1.5  # s, every member knows of a crash (50 nodes, in the simulator)
# The runs, in order, and the figures each must produce.
RUNS = {"serf": "Serf, encrypted", "serf_plain": "Serf, unencrypted", "lan": "shoal lan",
	"fast": "shoal fast"}
REQUIRED = ("join_s", "detect_first_s", "detect_last_s", "idle_udp_pay", "idle_wire")

# Capture (runs inside a namespace, see capture()): linux/if_ether.h, linux/if_packet.h.
ETH_HDR = 14
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
IP_HDR_MIN = 20
UDP_HDR = 8
TCP_HDR_MIN = 20


# Set when the main thread fails: the Serf threads stop waiting and clean up.
ABORT = threading.Event()


log = common.logger("bench-gossip")
run = common.runner(CMD_TIMEOUT)
stop = common.stop
median = common.median


class Lines:
	"""Lines from several processes' pipes or growing log files, each stamped with
	time.monotonic() on arrival (files are polled every FILE_POLL_SECS)."""

	def __init__(self):
		self.fds = {}  # pipe fd -> [member index, partial line]
		self.files = {}  # file object -> [member index, partial line]
		self.lines = []  # (t, index, text)
		self.seen = 0  # lines already given to feed
		self.feed = None  # called with every line, in order: feed(t, index, text)

	def add(self, idx, proc):
		fd = proc.stdout.fileno()
		os.set_blocking(fd, False)
		self.fds[fd] = [idx, b""]

	def add_file(self, idx, path):
		self.files[open(path, "rb")] = [idx, b""]

	def drop(self, idx):
		for fd in [fd for fd, v in self.fds.items() if v[0] == idx]:
			del self.fds[fd]
		for f in [f for f, v in self.files.items() if v[0] == idx]:
			f.close()
			del self.files[f]

	def close(self):
		for f in self.files:
			f.close()
		self.files = {}
		self.fds = {}

	def take(self, ent, data, now):
		ent[1] += data
		*done, ent[1] = ent[1].split(b"\n")
		for l in done:
			self.lines.append((now, ent[0], l.decode(errors="replace").rstrip("\r")))

	def pump(self, timeout):
		if self.files:
			timeout = min(timeout, FILE_POLL_SECS)
		if self.fds:
			ready, _, _ = select.select(list(self.fds), [], [], max(0.0, timeout))
		else:
			time.sleep(max(0.0, timeout))
			ready = []
		now = time.monotonic()
		for fd in ready:
			try:
				data = os.read(fd, 65536)
			except BlockingIOError:
				continue
			if not data:
				del self.fds[fd]
				continue
			self.take(self.fds[fd], data, now)
		for f, ent in self.files.items():
			data = f.read()
			if data:
				self.take(ent, data, now)

	def wait(self, until, timeout):
		"""Give every new line to self.feed(t, idx, text) until until() holds (checked after
		each line): True, or False when timeout seconds pass first."""
		end = time.monotonic() + timeout
		while True:
			while self.seen < len(self.lines):
				t, i, s = self.lines[self.seen]
				self.seen += 1
				if self.feed:
					self.feed(t, i, s)
				if until():
					return True
			if until():
				return True
			if ABORT.is_set():
				raise RuntimeError("aborted")
			left = end - time.monotonic()
			if left <= 0:
				return False
			self.pump(min(left, 0.5))

	def tail(self, idx, n=3):
		return [s for _, i, s in self.lines if i == idx][-n:]


def capture_cmd(ns, ifaces, secs, ports, direction):
	"""The command that runs capture() inside namespace ns."""
	return ["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "--capture",
		",".join(ifaces), "--secs", str(secs), "--ports", ",".join(map(str, ports)),
		"--direction", direction]


def capture(ifaces, secs, ports, direction):
	"""Count what crosses ifaces for secs seconds (run inside the namespace): the kernel's
	interface counters and a packet capture split by protocol. direction 'out' counts
	frames the interface sent (loopback: each packet once), 'in' frames it received (a
	tap: what the guest sent). Prints one JSON object."""
	socks = []
	for ifc in ifaces:
		s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
		s.bind((ifc, 0))
		s.setblocking(False)
		socks.append(s)
	key = "tx" if direction == "out" else "rx"

	def stats():
		# IP bytes: a tap counts its frames with their Ethernet header, loopback without.
		r = {"bytes": 0, "packets": 0}
		for ifc in ifaces:
			got = {}
			for what in ("bytes", "packets"):
				with open(f"/sys/class/net/{ifc}/statistics/{key}_{what}") as f:
					got[what] = int(f.read())
			hdr = 0 if ifc == "lo" else ETH_HDR * got["packets"]
			r["bytes"] += got["bytes"] - hdr
			r["packets"] += got["packets"]
		return r

	c = {k: [0, 0, 0] for k in ("udp", "tcp", "other")}  # packets, IP bytes, payload bytes
	s0 = stats()
	t0 = time.monotonic()
	end = t0 + secs
	while True:
		left = end - time.monotonic()
		if left <= 0:
			break
		ready, _, _ = select.select(socks, [], [], left)
		for s in ready:
			while True:
				try:
					pkt, addr = s.recvfrom(65536)
				except BlockingIOError:
					break
				out = addr[2] == PACKET_OUTGOING
				if out != (direction == "out"):
					continue
				kind, ipb, pay = classify(pkt, ports)
				c[kind][0] += 1
				c[kind][1] += ipb
				c[kind][2] += pay
	s1 = stats()
	dt = time.monotonic() - t0
	print(json.dumps({"secs": dt, "bytes": s1["bytes"] - s0["bytes"],
			  "packets": s1["packets"] - s0["packets"], "cap": c}))


def classify(pkt, ports):
	"""('udp'|'tcp'|'other', IP bytes, payload bytes) of an Ethernet frame; udp and tcp only
	when an end is one of the gossip ports."""
	if len(pkt) < ETH_HDR + IP_HDR_MIN or struct.unpack("!H", pkt[12:14])[0] != ETH_P_IP:
		return "other", max(0, len(pkt) - ETH_HDR), 0
	ip = pkt[ETH_HDR:]
	ihl = (ip[0] & 15) * 4
	total = struct.unpack("!H", ip[2:4])[0]
	proto = ip[9]
	l4 = ip[ihl:]
	if proto == socket.IPPROTO_UDP and len(l4) >= UDP_HDR:
		sp, dp = struct.unpack("!HH", l4[:4])
		if sp in ports or dp in ports:
			return "udp", total, total - ihl - UDP_HDR
	if proto == socket.IPPROTO_TCP and len(l4) >= TCP_HDR_MIN:
		sp, dp = struct.unpack("!HH", l4[:4])
		if sp in ports or dp in ports:
			return "tcp", total, total - ihl - (l4[12] >> 4) * 4
	return "other", total, 0


def ns_del(ns):
	if ns in run(["ip", "netns", "list"])[1].split():
		run(["ip", "netns", "del", ns])


def idle_figures(out, ns, members):
	"""Per-member figures from capture()'s output: bytes/s as IP bytes ('wire': everything
	sent; 'udp_ip', 'tcp_ip': on the gossip ports) and payload ('udp_pay', 'tcp_pay'), and
	packets/s; {} when the capture failed."""
	try:
		r = json.loads(out.strip().splitlines()[-1])
	except (ValueError, IndexError):
		log(f"capture in {ns} failed: {out.strip()[-300:]}")
		return {}
	d = r["secs"] * members
	c = r["cap"]
	return {"wire": r["bytes"] / d, "wire_pps": r["packets"] / d,
		"udp_ip": c["udp"][1] / d, "udp_pay": c["udp"][2] / d, "udp_pps": c["udp"][0] / d,
		"tcp_ip": c["tcp"][1] / d, "tcp_pay": c["tcp"][2] / d,
		"other_ip": c["other"][1] / d, "secs": r["secs"]}


class Watch:
	"""Everything the members' log lines say, for one cluster: who started joining when,
	who reported whom alive (convergence), and, around a crash of the victim (the last
	member), the suspicions and failure reports; any other suspicion or failure report is a
	false positive. The system's log formats come in as regexes whose group 1 is the member
	the line is about (for up and joining: the reporter itself, or empty when the line names
	nobody): up (ready to join), joining, alive, gone (dead or left), suspect, dead."""

	def __init__(self, label, names, rx):
		self.label = label
		self.names = names
		self.victim = len(names) - 1
		self.rx = rx
		self.up_at = {}  # member index -> its up line
		self.joining_at = {}  # member index -> when it started joining
		self.alive = {i: {names[i]} for i in range(len(names))}  # reporter -> names alive
		self.full_at = {}  # reporter -> since when it knows every member alive
		self.down = False  # the victim has been killed and has not rejoined yet
		self.t_kill = None
		self.suspect_at = None  # first suspicion of the victim since the kill
		self.dead_at = {}  # survivor -> when it reported the victim failed
		self.false = {"suspect": 0, "dead": 0}
		self.t_ref = time.monotonic()  # for the times in false-positive messages

	def match(self, what, s):
		m = self.rx[what].search(s) if self.rx.get(what) else None
		return m and (m.group(1) if m.groups() else "")

	def feed(self, t, i, s):
		name = self.match("up", s)
		if name is not None and name in ("", self.names[i]):
			self.up_at.setdefault(i, t)
		name = self.match("joining", s)
		if name is not None and name in ("", self.names[i]):
			self.joining_at.setdefault(i, t)
		name = self.match("alive", s)
		if name in self.names:
			self.alive[i].add(name)
			if len(self.alive[i]) == len(self.names):
				self.full_at.setdefault(i, t)
		name = self.match("gone", s)
		if name in self.names:
			self.alive[i].discard(name)
			self.full_at.pop(i, None)
		for kind in ("suspect", "dead"):
			name = self.match(kind, s)
			if name not in self.names:
				continue
			if self.down and name == self.names[self.victim]:
				if kind == "suspect" and self.suspect_at is None:
					self.suspect_at = t
				if kind == "dead" and i != self.victim:
					self.dead_at.setdefault(i, t)
				continue
			self.false[kind] += 1
			if sum(self.false.values()) <= FALSE_SHOWN:
				log(f"{self.label}: false positive at {t - self.t_ref:.2f} s: "
				    f"{self.names[i]}: {s.strip()}")

	def all_full(self):
		return len(self.full_at) == len(self.names)

	def rejoined(self):
		"""The restarted victim is known to all again: reports about it count as false."""
		self.down = False

	def killed(self, t):
		self.down, self.t_kill, self.suspect_at, self.dead_at = True, t, None, {}
		self.full_at.pop(self.victim, None)

	def restarted(self):
		"""The victim starts afresh: it knows nobody, and everyone must see it again. Until
		it has rejoined (rejoined()), late reports of its death still belong to the crash."""
		v = self.victim
		self.up_at.pop(v, None)
		self.joining_at.pop(v, None)
		self.alive[v] = {self.names[v]}
		self.full_at.pop(v, None)
		for i in self.alive:
			if self.names[v] in self.alive[i] and i != v:
				self.alive[i].discard(self.names[v])
				self.full_at.pop(i, None)


def measure(c, idle_secs, rounds, join_rounds, settle):
	"""The common procedure on a cluster c (SerfCluster or ShoalCluster): join rounds (each
	from scratch), an idle window, crash rounds. A dict of figures (missing: not measured).
	settle(t) says how long to wait before the idle window, t being when the cluster that
	stays up was started."""
	r = {}
	n = len(c.names)
	watches = []
	joins = []
	for jr in range(join_rounds):
		if jr:
			c.reset()
		t_round = time.monotonic()
		L = c.L = Lines()
		w = c.w = Watch(c.label, c.names, c.RX)
		L.feed = w.feed
		watches.append(w)
		# The seed first, then the others at once.
		if not c.launch(0) or not c.wait_up([0]):
			return r
		if not c.launch_many(range(1, n)) or not c.wait_up(range(1, n)):
			return r
		w.t_ref = time.monotonic()
		c.join(range(1, n))
		if not L.wait(w.all_full, JOIN_TIMEOUT) or len(w.joining_at) < n - 1:
			seen = ", ".join(f"{w.names[i]} {len(w.alive[i])}" for i in range(n))
			log(f"{w.label}: no convergence within {JOIN_TIMEOUT:.0f} s "
			    f"({len(w.joining_at)} of {n - 1} joiners started joining; members each "
			    f"reported alive, itself included: {seen})")
			return r
		joins.append(max(w.full_at.values()) - max(w.joining_at[i] for i in range(1, n)))
		r["join_s"] = median(joins)
		r["join_s_all"] = joins
	# Idle traffic, counted by a child while the logs keep being read here.
	L.wait(lambda: False, max(SETTLE_SECS, settle(t_round)))
	cap = subprocess.Popen(capture_cmd(c.ns, c.ifaces, idle_secs, c.ports, c.direction),
			       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
			       stderr=subprocess.STDOUT, text=True)
	out = ""
	try:
		L.wait(lambda: cap.poll() is not None, idle_secs + CMD_TIMEOUT)
		out = cap.communicate(timeout=CMD_TIMEOUT)[0]
	except subprocess.TimeoutExpired:
		pass
	finally:
		stop(cap)
	r.update({"idle_" + k: x for k, x in idle_figures(out, c.ns, n).items()})
	# Crash rounds: SIGKILL the victim, time the survivors' reports, restart it, rejoin.
	sus, first, last, rejoin = [], [], [], []
	survivors = n - 1
	for k in range(rounds):
		L.wait(lambda: False, 0)
		w.killed(time.monotonic())
		c.kill(w.victim)
		L.drop(w.victim)
		ok = L.wait(lambda: len(w.dead_at) == survivors, FAIL_TIMEOUT)
		if w.suspect_at is not None:
			sus.append(w.suspect_at - w.t_kill)
		if w.dead_at:
			first.append(min(w.dead_at.values()) - w.t_kill)
		if not ok:
			log(f"{w.label}: round {k + 1}: only {len(w.dead_at)} of {survivors} survivors "
			    f"reported {w.names[w.victim]} failed within {FAIL_TIMEOUT:.0f} s")
			break
		last.append(max(w.dead_at.values()) - w.t_kill)
		if k == rounds - 1:
			break
		w.restarted()
		v = [w.victim]
		if not c.launch(w.victim) or not c.wait_up(v):
			break
		c.join(v)
		if not L.wait(w.all_full, JOIN_TIMEOUT) or w.victim not in w.joining_at:
			log(f"{w.label}: round {k + 1}: {w.names[w.victim]} did not rejoin within "
			    f"{JOIN_TIMEOUT:.0f} s")
			break
		rejoin.append(max(w.full_at.values()) - w.joining_at[w.victim])
		w.rejoined()
		L.wait(lambda: False, ROUND_SETTLE_SECS)
	for key, xs in (("suspect_s", sus), ("detect_first_s", first), ("detect_last_s", last),
			("rejoin_s", rejoin)):
		if xs:
			r[key] = median(xs)
			r[key + "_all"] = xs
	r["crash_rounds"] = len(last)
	r["false_suspect"] = sum(x.false["suspect"] for x in watches)
	r["false_dead"] = sum(x.false["dead"] for x in watches)
	return r


# ---------------------------------------------------------------------------------- Serf


class SerfCluster:
	"""N Serf agents on 127.0.0.1 in the namespace ns, encrypted under key (None: plain)."""

	RX = {"up": re.compile(r"agent: Serf agent starting()"),
	      "joining": re.compile(r"agent: joining:()"),
	      "alive": re.compile(r"serf: EventMemberJoin: (\S+)"),
	      "gone": re.compile(r"serf: EventMember(?:Failed|Leave): (\S+)"),
	      "suspect": re.compile(r"memberlist: Suspect (\S+) has failed"),
	      "dead": re.compile(r"serf: EventMemberFailed: (\S+)")}

	def __init__(self, label, ns, key):
		self.label, self.ns, self.key = label, ns, key
		self.names = [f"serf{i}" for i in range(N)]
		self.procs = {}
		self.ifaces, self.ports, self.direction = ["lo"], [SERF_PORT + i for i in range(N)], "out"
		self.L = self.w = None  # set by measure()

	def launch(self, i):
		old = self.procs.get(i)
		if old is not None:
			stop(old)
		cmd = ["ip", "netns", "exec", self.ns, "serf", "agent", f"-node={self.names[i]}",
		       f"-bind={SERF_BIND}:{SERF_PORT + i}", f"-rpc-addr={SERF_BIND}:{SERF_RPC_PORT + i}",
		       "-profile=lan", "-log-level=info"] + ([f"-encrypt={self.key}"] if self.key else [])
		p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
				     stderr=subprocess.STDOUT)
		self.procs[i] = p
		self.L.add(i, p)
		return True

	def launch_many(self, ids):
		return all(self.launch(i) for i in ids)

	def wait_up(self, ids):
		"""Up: the agent's log streams (its gated start-up output has been flushed)."""
		ids = list(ids)
		if self.L.wait(lambda: all(i in self.w.up_at for i in ids), START_TIMEOUT):
			return True
		log(f"{self.label}: agents {[i for i in ids if i not in self.w.up_at]} did not start: "
		    f"{self.L.tail(ids[0])}")
		return False

	def join(self, ids):
		"""Each agent in ids joins agent 0 through its RPC, all at once."""
		joins = [subprocess.Popen(["ip", "netns", "exec", self.ns, "serf", "join",
					   f"-rpc-addr={SERF_BIND}:{SERF_RPC_PORT + i}",
					   f"{SERF_BIND}:{SERF_PORT}"],
					  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
					  stderr=subprocess.DEVNULL) for i in ids]
		try:
			self.L.wait(lambda: all(j.poll() is not None for j in joins), CMD_TIMEOUT)
		finally:
			for j in joins:
				stop(j)

	def kill(self, i):
		p = self.procs[i]
		os.kill(p.pid, signal.SIGKILL)
		p.wait(timeout=CMD_TIMEOUT)

	def reset(self):
		"""Stop every agent, for a join round from scratch."""
		self.close()
		self.procs = {}

	def close(self):
		for p in self.procs.values():
			stop(p)
		if self.L:
			self.L.close()


def serf(key, idle_secs, rounds, join_rounds, joined, r):
	"""Measure N Serf agents, encrypted under key (None: plain), into the dict r. Sets the
	event joined once the join is measured (or has failed)."""
	label = "Serf" if key else "Serf plain"
	ns = SERF_NS + ("" if key else "-plain")
	ns_del(ns)
	rc, out = run(["ip", "netns", "add", ns])
	if rc != 0:
		log(f"ip netns add {ns} failed: {out.strip()}")
		joined.set()
		return
	c = SerfCluster(label, ns, key)

	def settle(t_start):
		# The idle window opens once memberlist's push-pull is periodic (SERF_WARMUP).
		joined.set()
		return t_start + SERF_WARMUP - time.monotonic()

	try:
		run(["ip", "-n", ns, "link", "set", "lo", "up"])
		r.update(measure(c, idle_secs, rounds, join_rounds, settle))
	except (OSError, RuntimeError, subprocess.SubprocessError) as e:
		log(f"{label}: failed: {e!r}")
	finally:
		joined.set()
		c.close()
		ns_del(ns)


# --------------------------------------------------------------------------------- shoal


class ShoalCluster:
	"""N shoal nodes in QEMU through scripts/cluster.sh (test net shoal-NAME)."""

	RX = {"up": re.compile(r"gossip: (\S+) on [0-9.]+:\d+, "),
	      "joining": re.compile(r"gossip: (\S+) on [0-9.]+:\d+, "),
	      "alive": re.compile(r"gossip: member (\S+) \S+ alive\b"),
	      "gone": re.compile(r"gossip: member (\S+) \S+ (?:dead|left)\b"),
	      "suspect": re.compile(r"gossip: member (\S+) \S+ suspect\b"),
	      "dead": re.compile(r"gossip: member (\S+) \S+ dead\b")}
	# The kernel says gossip will not run (no point waiting for it).
	NOT_STARTED = re.compile(r"gossip: (not started|off|cannot start)")
	ADDR = re.compile(r"net: eth0 \S+ via ")

	def __init__(self, label, top, profile, key):
		self.label, self.profile, self.key = label, profile, key
		self.cl = [os.path.join(top, "scripts/cluster.sh"), "--name", SHOAL_NET]
		self.names = [f"node{i}" for i in range(N)]
		self.ns = "shoal-" + SHOAL_NET
		self.ifaces, self.ports, self.direction = [f"tap{i}" for i in range(N)], [SHOAL_PORT], "in"
		self.pids = {}
		self.state = run(self.cl + ["dir"])[1].strip()
		self.nogossip = False
		self.qemu = ""  # QEMU's -smp and -m, as cluster.sh chose them
		self.L = self.w = None  # set by measure()

	def launch(self, i):
		"""Boot node i (node 0 with the net and spare taps) and follow its log."""
		cmd = (self.cl + ["up", "1", "--profile", self.profile, "--key", self.key, "--spare",
				  str(N - 1)] if i == 0 else self.cl + ["start", str(i)])
		rc, out = run(cmd, CLUSTER_CMD_TIMEOUT)
		if rc != 0:
			log(f"{self.label}: cluster.sh {' '.join(cmd[3:5])} failed: {out.strip()[-300:]}")
			return False
		if i == 0:
			self.qemu = f"-smp {self.setting('smp')} -m {self.setting('mem')}"
		logf = os.path.join(self.state, f"node{i}.log")
		# The log is created by cluster.sh's background child, maybe after cluster.sh exits.
		end = time.monotonic() + LOG_WAIT_SECS
		while not os.path.exists(logf) and time.monotonic() < end:
			time.sleep(FILE_POLL_SECS)
		try:
			with open(os.path.join(self.state, f"node{i}.pid")) as f:
				self.pids[i] = int(f.read())
			self.L.add_file(i, logf)
		except (OSError, ValueError) as e:
			log(f"{self.label}: node{i}: no pid or log file ({e})")
			return False
		return True

	def setting(self, name):
		"""One of cluster.sh's settings (its state directory holds one file each)."""
		try:
			with open(os.path.join(self.state, name)) as f:
				return f.read().strip()
		except OSError:
			return "?"

	def launch_many(self, ids):
		with ThreadPool(len(ids)) as pool:
			return all(pool.map(self.launch, ids))

	def wait_up(self, ids):
		"""Up: the node's `gossip: NAME on ADDR:PORT, ...` line (it then joins at once)."""
		ids = list(ids)
		addr_at = {}
		refused = []

		def feed(t, i, s):
			self.w.feed(t, i, s)
			if self.ADDR.search(s):
				addr_at.setdefault(i, t)
			if self.NOT_STARTED.search(s):
				refused.append(s.strip())

		def done():
			return (all(i in self.w.up_at for i in ids) or refused or
				(addr_at and time.monotonic() - min(addr_at.values()) > NO_GOSSIP_SECS))

		self.L.feed = feed
		try:
			self.L.wait(done, BOOT_TIMEOUT)
		finally:
			self.L.feed = self.w.feed
		missing = [i for i in ids if i not in self.w.up_at]
		if not missing:
			return True
		gl = [s for _, i, s in self.L.lines if i in missing and "gossip:" in s]
		if refused:
			why = refused[0]
		elif gl:
			why = gl[-1]
		elif addr_at:
			why = (f"an address but no 'gossip:' line within {NO_GOSSIP_SECS:.0f} s: this "
			       f"kernel has no gossip")
			self.nogossip = True
		else:
			why = f"no address within {BOOT_TIMEOUT:.0f} s: " + " | ".join(self.L.tail(missing[0]))
		log(f"{self.label}: {', '.join(self.names[i] for i in missing)} did not start gossip: "
		    f"{why}")
		return False

	def join(self, ids):
		pass  # shoal nodes join their seeds (node 0) as soon as their gossip starts

	def kill(self, i):
		pid = self.pids[i]
		with open(f"/proc/{pid}/comm") as f:
			if "qemu" not in f.read():
				raise RuntimeError(f"pid {pid} is no longer node{i}'s QEMU")
		os.kill(pid, signal.SIGKILL)

	def reset(self):
		self.L.close()  # node 0's launch (cluster.sh up) takes the old cluster down

	def close(self):
		if self.L:
			self.L.close()
		# cluster.sh down kills every node by its PID file, then deletes the net.
		rc, out = run(self.cl + ["down"], CLUSTER_CMD_TIMEOUT)
		if rc != 0:
			log(f"{self.label}: cluster.sh down failed: {out.strip()[-300:]}")


def shoal(top, profile, key, idle_secs, rounds, join_rounds):
	"""Measure N shoal nodes in QEMU with gossip.profile=profile; a dict of figures."""
	c = ShoalCluster(f"shoal {profile}", top, profile, key)
	try:
		r = measure(c, idle_secs, rounds, join_rounds, lambda t: 0)
		if c.nogossip:
			r["nogossip"] = True
		if c.qemu:
			r["qemu"] = c.qemu
		return r
	finally:
		c.close()


# ---------------------------------------------------------------------------------- main


def fmt(x, unit, f, xs=None):
	"""x in format f with its unit; with the samples xs (x is their median), their range."""
	if x is None:
		return "-"
	cell = f"{x:{f}} {unit}".strip()
	if xs and len(xs) > 1:
		cell += f" ({min(xs):{f}}-{max(xs):{f}})"
	return cell


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--top", default=os.path.join(os.path.dirname(__file__), "../.."))
	ap.add_argument("--results")
	ap.add_argument("--idle", type=float, default=IDLE_SECS, help="idle window, seconds")
	ap.add_argument("--rounds", type=int, default=CRASH_ROUNDS, help="crash rounds per run")
	ap.add_argument("--join-rounds", type=int, default=JOIN_ROUNDS,
			help="mass joins per run, each from scratch")
	ap.add_argument("--only", default=",".join(RUNS), help="runs to measure: " + ",".join(RUNS))
	# Capture mode (internal): run inside a namespace by measure().
	ap.add_argument("--capture")
	ap.add_argument("--secs", type=float)
	ap.add_argument("--ports")
	ap.add_argument("--direction")
	a = ap.parse_args()
	if a.capture:
		capture(a.capture.split(","), a.secs, {int(p) for p in a.ports.split(",")},
			a.direction)
		return 0
	if not a.results:
		ap.error("--results is required")
	if a.rounds < 1 or a.join_rounds < 1 or a.idle <= 0:
		ap.error("--rounds and --join-rounds must be at least 1, --idle positive")
	if os.geteuid() != 0:
		print("gossip bench: skipped (needs root for network namespaces)")
		return 0
	top = os.path.abspath(a.top)
	only = [x for x in a.only.split(",") if x]
	bad = [x for x in only if x not in RUNS]
	if bad:
		ap.error(f"unknown run {bad[0]} (expected some of {','.join(RUNS)})")
	# One key for both systems: Serf's -encrypt takes the same base64 of 32 bytes.
	key = base64.b64encode(os.urandom(32)).decode()
	got = {k: {} for k in RUNS}
	t_start = time.monotonic()
	have_serf = shutil.which("serf") is not None
	if not have_serf and ("serf" in only or "serf_plain" in only):
		log("serf is not installed (Debian package `serf`; scripts/deps.sh should install it)")
	# The Serf clusters run beside shoal's (they need SERF_WARMUP before their idle window),
	# but their joins are measured before any QEMU starts.
	threads = []
	for k in ("serf", "serf_plain"):
		if k in only and have_serf:
			log(f"{RUNS[k]}: {N} agents")
			ev = threading.Event()
			th = threading.Thread(target=serf, args=(key if k == "serf" else None, a.idle,
								 a.rounds, a.join_rounds, ev, got[k]))
			th.start()
			threads.append((th, ev))
	for th, ev in threads:
		ev.wait(START_TIMEOUT + JOIN_TIMEOUT + CMD_TIMEOUT)
	shoal_runs = [k for k in ("lan", "fast") if k in only]
	for f in ("build/shoal.elf", "scripts/cluster.sh"):
		if shoal_runs and not os.path.exists(os.path.join(top, f)):
			log(f"{f} missing: no shoal figures")
			shoal_runs = []
	try:
		for k in shoal_runs:
			if any(g.get("nogossip") for g in got.values()):
				log(f"{RUNS[k]}: skipped, the kernel has no gossip")
				continue
			log(f"{RUNS[k]}: {N} QEMU nodes")
			try:
				got[k] = shoal(top, k, key, a.idle, a.rounds, a.join_rounds)
			except (OSError, RuntimeError, subprocess.SubprocessError) as e:
				log(f"{RUNS[k]}: failed: {e!r}")
	except BaseException:
		ABORT.set()
		raise
	finally:
		for th, _ in threads:
			th.join()
	elapsed = time.monotonic() - t_start
	return report(a, only, got, elapsed)


def report(a, only, got, elapsed):
	"""Print the table, append key=value lines, and say what is missing (exit status)."""
	lan, fast, ser, plain = (got[k] for k in ("lan", "fast", "serf", "serf_plain"))
	rows = []
	res = {}
	missing = []
	for k in only:
		for f in REQUIRED:
			if f not in got[k]:
				missing.append(f"{f} ({RUNS[k]})")
		for f, x in got[k].items():
			if f in ("nogossip", "qemu"):
				continue
			if isinstance(x, list):
				x = ",".join(f"{y:.3f}" for y in x)
			res[f"gossip_{k}_{f}"] = f"{x:.4g}" if isinstance(x, float) else str(x)

	def serf_ref(f):
		"""Serf's figure to compare with: for times, the median of both Serf clusters'
		samples (encryption does not change its timing, and more samples steady the
		median); for traffic, the encrypted cluster's."""
		xs = ser.get(f + "_all", []) + plain.get(f + "_all", [])
		if not xs:
			return ser.get(f)
		res[f"gossip_serf_pooled_{f}"] = f"{median(xs):.4g}"
		return median(xs)

	def ratio(f):
		x, y = lan.get(f), serf_ref(f)
		if x is None or not y:
			return None, ""
		q = x / y
		res[f"gossip_lan_serf_ratio_{f}"] = f"{q:.3g}"
		return q, f"{q:.2f}"

	def verdict(ok, what):
		return ("" if ok is None else "ok " if ok else "MISSED ") + f"({what})"

	def overlap(f):
		"""Whether shoal lan's samples and Serf's overlap: a miss within the noise."""
		xs = lan.get(f + "_all")
		ys = ser.get(f + "_all", []) + plain.get(f + "_all", [])
		return xs and ys and min(xs) <= max(ys) and min(ys) <= max(xs)

	def row(label, f, unit, form, target="", compare=True):
		q, rs = ratio(f) if compare else (None, "")
		if target == "<=serf":
			target = verdict(None if q is None else q <= 1, "lan <= Serf")
			if q is not None and q > 1 and overlap(f):
				target += ", the samples overlap"
		rows.append((label,) + tuple(fmt(got[k].get(f), unit, form, got[k].get(f + "_all"))
					   for k in ("lan", "fast", "serf", "serf_plain")) + (rs, target))

	row("mass join, all see all", "join_s", "s", ".3f", "<=serf")
	row("restarted member rejoins, all see all", "rejoin_s", "s", ".3f", "<=serf")
	row("crash: first suspicion", "suspect_s", "s", ".2f")
	row("crash: first reports failed", "detect_first_s", "s", ".2f", "<=serf")
	row("crash: all report failed", "detect_last_s", "s", ".2f", "<=serf")
	fd = fast.get("detect_last_s")
	rows.append(("", "", "", "", "", "", verdict(
		None if fd is None else fd <= FAST_DETECT_TARGET,
		f"fast <= {FAST_DETECT_TARGET} s; this is 5 nodes in QEMU, the 50-node figure is "
		"the simulator's")))
	row("false suspicions (refuted)", "false_suspect", "", "d", compare=False)
	fds = [got[k]["false_dead"] for k in ("lan", "fast") if "false_dead" in got[k]]
	row("false failures (alive declared dead)", "false_dead", "", "d",
	    verdict(None if not fds else sum(fds) == 0, "0, lan and fast"), compare=False)
	for k in RUNS:
		if "idle_udp_pay" in got[k]:
			got[k]["idle_pay"] = got[k]["idle_udp_pay"] + got[k]["idle_tcp_pay"]
			res[f"gossip_{k}_idle_pay"] = f"{got[k]['idle_pay']:.4g}"
	lp = lan.get("idle_pay")
	bt = verdict(None if lp is None else lp <= SERF_IDLE_ANCHOR,
		     f"lan <= {SERF_IDLE_ANCHOR:.0f} B/s, Serf's unencrypted anchor")
	row("idle: UDP payload per member", "idle_udp_pay", "B/s", ".0f")
	row("idle: TCP payload per member", "idle_tcp_pay", "B/s", ".0f")
	row("idle: gossip payload per member", "idle_pay", "B/s", ".0f", bt)
	row("idle: UDP packets per member", "idle_udp_pps", "/s", ".2f")
	row("idle: all IP bytes sent per member", "idle_wire", "B/s", ".0f")
	print()
	qemu = lan.get("qemu") or fast.get("qemu") or "?"
	print(f"gossip: {N} members each. shoal in QEMU under TCG (cluster.sh: {qemu}, "
	      f"virtio-net on a tap bridge in a netns); Serf 0.9.4 agents on 127.0.0.1 in a netns "
	      f"(LAN profile), run beside the shoal clusters. Times: median (range) of "
	      f"{a.join_rounds} mass joins and {a.rounds} crash rounds (rejoins: {a.rounds - 1}); "
	      f"idle window {a.idle:.0f} s; run took {elapsed:.0f} s.")
	hdr = ("figure", "shoal lan", "shoal fast", "Serf", "Serf plain", "lan/Serf", "target")
	widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(6)]
	for r in [hdr] + rows:
		print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[6])
	print("Serf: encrypted with the same AES-256 key as shoal; Serf plain: unencrypted, as in "
	      "the anchors. lan/Serf: times against the median of both Serf clusters' samples "
	      "pooled, traffic against encrypted Serf.")
	print("Times: host monotonic clock at each log line's arrival. Join: seed up first, then "
	      "from the last of the others starting to join (Serf: 'agent: joining', the RPC join "
	      "arriving; shoal: 'gossip: NAME on ADDR') to every member having reported every other "
	      "alive. Crash: SIGKILL of member 4 to the first suspicion anywhere, and to the first "
	      "and the last survivor reporting it failed (Serf: EventMemberFailed; shoal: 'member "
	      "... dead'); then it restarts and rejoins. Idle: what each member sent (Serf: "
	      "loopback; shoal: its tap, frames from the guest) in IP bytes, and UDP/TCP payload "
	      "on the gossip ports (after IP and UDP/TCP headers; AES-GCM overhead included).")
	return common.finish(a.results, f"gossip, {N} members, shoal under TCG; times in s, traffic "
			     f"per member in B/s (payload) over {a.idle:.0f} s", res, missing, "gossip")


if __name__ == "__main__":
	sys.exit(main())
