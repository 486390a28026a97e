"""common.py: what the bench scripts share: logging, running a command with a timeout,
stopping a process we started, reading a guest's serial output line by line, medians and
percentiles, and appending the figures to the results file.

The scripts run as `python3 scripts/bench/NAME.py`, so this directory is first on sys.path
and `import common` finds this file."""
import os
import select
import statistics
import subprocess
import sys
import time


def logger(name):
	"""log(msg) for one script: `  NAME: msg` on stderr."""
	def log(msg):
		print(f"  {name}: {msg}", file=sys.stderr, flush=True)
	return log


def run(cmd, timeout):
	"""Run cmd without stdin: (exit status, stdout + stderr); 124 when it timed out."""
	try:
		p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
				   timeout=timeout)
		return p.returncode, p.stdout + p.stderr
	except subprocess.TimeoutExpired as e:
		out = e.stdout or b""
		return 124, out.decode(errors="replace") if isinstance(out, bytes) else out


def runner(default_timeout):
	"""run() with a default timeout, for a script whose commands mostly share one."""
	def run_default(cmd, timeout=default_timeout):
		return run(cmd, timeout)
	return run_default


def stop(proc, grace=2.0):
	"""Terminate one process we started, by its PID; SIGKILL after grace seconds."""
	if proc is None or proc.poll() is not None:
		return
	try:
		proc.terminate()
		proc.wait(timeout=grace)
	except subprocess.TimeoutExpired:
		proc.kill()
		proc.wait(timeout=grace)
	except ProcessLookupError:
		pass


class LineReader:
	"""A pipe read in complete lines: buf holds all read so far (bytes)."""

	def __init__(self, fd):
		self.fd = fd
		self.buf = b""
		self.scanned = 0

	def more(self, deadline):
		"""Wait until deadline (time.monotonic()) for more complete lines: (now, start, end),
		the new lines being buf[start:end]; None at EOF or the deadline. Only complete
		lines: a partial "ready in 3.0" would parse wrong."""
		while True:
			left = deadline - time.monotonic()
			if left <= 0:
				return None
			r, _, _ = select.select([self.fd], [], [], left)
			if not r:
				continue
			data = os.read(self.fd, 65536)
			now = time.monotonic()
			if not data:
				return None
			self.buf += data
			end = self.buf.rfind(b"\n") + 1
			if end > self.scanned:
				start, self.scanned = self.scanned, end
				return now, start, end


def median(xs):
	return statistics.median(xs) if xs else None


def pct(xs, p):
	"""The p-th percentile of xs (nearest rank)."""
	s = sorted(xs)
	return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def finish(results, head, res, missing, name):
	"""Append res as key=value lines under the comment `# head` to the results file and
	name what could not be measured: the exit status (1 when something is missing)."""
	with open(results, "a") as out:
		out.write(f"# {head}\n")
		for kk, v in res.items():
			out.write(f"{kk}={v}\n")
	if missing:
		print(f"{name} bench: could not measure: " + "; ".join(missing), file=sys.stderr)
		return 1
	return 0
