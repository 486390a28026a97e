#!/usr/bin/env bash
# run.sh: `make run`. Boots one shoal node in QEMU (direct boot, TCG unless
# SHOAL_ACCEL=kvm) with its serial console on this terminal; Ctrl-A X quits QEMU.
# User-mode networking forwards 127.0.0.1:7373 on the host to the node's console port.
#
# When stdin is not a terminal (CI, scripts) it boots, waits for the ready and address lines
# (bounded), prints them and exits 0, or non-zero if the node never got ready or no address.
# QEMU is never left running.
#
# Environment: SHOAL_ACCEL=tcg|kvm, SMP (default 2), MEM (MiB, default 256), APPEND
# (extra kernel command line), READY_SECS (bound of the non-interactive wait, default 30).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

CONSOLE_PORT=7373
SMP=${SMP:-2}
MEM=${MEM:-256}
APPEND=${APPEND:-}
READY_SECS=${READY_SECS:-30}

# A fresh cluster key each run, so the node's gossip starts sealed (it is alone on QEMU's
# user network; `make cluster` boots several on one bridge).
KEY=$(head -c 32 /dev/urandom | base64)
opts=(--smp "$SMP" --mem "$MEM" --hostfwd "tcp:127.0.0.1:$CONSOLE_PORT-:$CONSOLE_PORT"
	--append "cluster.key=$KEY${APPEND:+ $APPEND}")

if [ -t 0 ]; then
	echo "shoal: booting one node (Ctrl-A X quits QEMU; console port 127.0.0.1:$CONSOLE_PORT)"
	# mon:stdio multiplexes QEMU's monitor on the terminal: that is what makes Ctrl-A X work.
	# QEMU is the foreground process of this terminal, so it ends with the session.
	exec ./scripts/qemu.sh "${opts[@]}" --serial mon:stdio
fi

# Not a terminal: a bounded boot to the ready line.
# shellcheck source=tests/lib.sh
. tests/lib.sh
qemu_start run "${opts[@]}"
RE_ADDR='net: [a-z0-9]+ [0-9.]+/[0-9]+ via (dhcp|static) in [0-9]+ ms'
RE_GOSSIP='gossip: .* on [0-9.]+:[0-9]+'
if qemu_wait_line "$RE_READY" "$READY_SECS"; then
	# The address comes from QEMU's user-network DHCP shortly after ready; gossip
	# starts on it.
	qemu_wait_line "$RE_ADDR" "$READY_SECS"
	got_addr=$?
	[ $got_addr = 0 ] && qemu_wait_line "$RE_GOSSIP" 10
	qemu_stop
	head -n 1 "$QEMU_LOG"
	log_line "$RE_BANNER"
	log_line "$RE_READY"
	if [ $got_addr = 0 ]; then
		log_line "$RE_ADDR"
		log_line "$RE_GOSSIP"
		exit 0
	fi
	echo "shoal: the node got no address: $QEMU_WHY" >&2
	exit 1
fi
qemu_stop
echo "shoal: the node did not get ready: $QEMU_WHY" >&2
tail -n 20 "$QEMU_LOG" | tr -d '\r' >&2
exit 1
