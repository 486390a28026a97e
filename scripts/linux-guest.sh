#!/usr/bin/env bash
# Build the baseline Linux guest for `make bench` into build/bench/linux/: Debian's stock
# bookworm kernel (vmlinuz) and a busybox-static initramfs whose /init prints a marker on
# ttyS0 and powers off. Everything comes from Debian packages, cached under build/; nothing
# is installed into the host. Prints nothing but errors; idempotent (a second run is free).
#
# Network mode (the issue-3 bench and the check of scripts/testnet.sh): booted with
# initramfs-net.cpio.gz and `shoal.net=1` on the kernel command line, /init loads the virtio-net and e1000 modules, configures eth0 by
# DHCP (busybox udhcpc) or from `shoal.ip=ADDR/PREFIX[,GW]`, prints
#   linux-net: eth0 ADDR/PREFIX via dhcp|static uptime=SECONDS
# and then serves TCP echo on port 7 (busybox nc) and an iperf 2 server on port 5001 (the
# host's Debian iperf with the shared libraries ldd names, copied in), until killed.
#
# Outputs: build/bench/linux/vmlinuz, build/bench/linux/initramfs.cpio.gz, build/bench/linux/version,
# build/bench/linux/initramfs-net.cpio.gz (the same plus what network mode needs)
# Optional (GUEST_ISO=1): build/bench/linux/linux.iso, a GRUB ISO made like `make iso`.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build/bench/linux"
debs="$out/debs"
MARKER=${LINUX_MARKER:-LINUX-INIT-REACHED}
mkdir -p "$out" "$debs"

# The kernel package: whatever the linux-image-amd64 metapackage currently points at.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }')
if [ -z "$kpkg" ]; then
	# Stale or missing package lists; refresh once.
	if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
	kpkg=$(apt-cache depends linux-image-amd64 |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }')
fi
[ -n "$kpkg" ] || { echo "linux-guest: cannot resolve linux-image-amd64" >&2; exit 1; }

# fetch PKG: leave exactly one PKG_*.deb in $debs, downloading only when absent.
fetch() {
	local pkg=$1 f
	f=$(ls "$debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$f" ]; then
		(cd "$debs" && apt-get download -qq "$pkg" >/dev/null 2>&1) ||
			{ echo "linux-guest: apt-get download $pkg failed" >&2; exit 1; }
		f=$(ls "$debs/${pkg}_"*.deb | head -n1)
	fi
	echo "$f"
}

kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)
# The NIC modules network mode loads, in dependency order (Debian builds them as modules).
NET_MODULES="drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko
drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko
drivers/virtio/virtio_pci.ko net/core/failover.ko drivers/net/net_failover.ko
drivers/net/virtio_net.ko drivers/net/ethernet/intel/e1000/e1000.ko"
IPERF=$(command -v iperf || true)

# vmlinuz: extract the package into a scratch tree and keep only the kernel image.
if [ ! -s "$out/vmlinuz" ] || [ "$kdeb" -nt "$out/vmlinuz" ]; then
	tmp=$(mktemp -d "$out/kx.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	dpkg-deb -x "$kdeb" "$tmp"
	cp "$tmp"/boot/vmlinuz-* "$out/vmlinuz.new"
	mv "$out/vmlinuz.new" "$out/vmlinuz"
	rm -rf "$tmp"
	trap - EXIT
fi
echo "$kpkg $(dpkg-deb -f "$kdeb" Version)" > "$out/version"

# initramfs: busybox plus an /init that prints the marker and powers off at once.
if [ ! -s "$out/initramfs.cpio.gz" ] || [ ! -s "$out/initramfs-net.cpio.gz" ] ||
	[ "$bdeb" -nt "$out/initramfs.cpio.gz" ] ||
	[ "$0" -nt "$out/initramfs.cpio.gz" ] ||
	{ [ -n "$IPERF" ] && [ "$IPERF" -nt "$out/initramfs.cpio.gz" ]; }; then
	tmp=$(mktemp -d "$out/ix.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	dpkg-deb -x "$bdeb" "$tmp/pkg"
	root="$tmp/root"
	mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
	cp "$tmp/pkg/bin/busybox" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	cat > "$root/init" <<INIT
#!/bin/busybox sh
# Bench guest: announce that userspace runs (with the kernel's own uptime), then power off.
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox mount -t proc proc /proc 2>/dev/null
read up idle < /proc/uptime
echo "$MARKER uptime=\$up" > /dev/ttyS0
case " \$(/bin/busybox cat /proc/cmdline) " in *" shoal.net=1 "*) exec /etc/net.sh ;; esac
/bin/busybox poweroff -f
INIT
	chmod 755 "$root/init"
	pack() {
		(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
			cpio -o -H newc -R 0:0 --quiet | gzip -9n > "$out/$1.new")
		mv "$out/$1.new" "$out/$1"
	}
	# The network image is the boot image plus what network mode needs, so the boot
	# figures keep their small initramfs.
	pack initramfs.cpio.gz
	# Network mode: NIC modules, udhcpc's hook, the iperf binary and its libraries.
	mkdir -p "$root/lib/modules" "$root/etc"
	dpkg-deb -x "$kdeb" "$tmp/kpkg"
	for m in $NET_MODULES; do
		cp "$tmp/kpkg"/lib/modules/*/kernel/"$m" "$root/lib/modules/"
	done
	echo "$NET_MODULES" | tr ' ' '\n' | sed 's|.*/||' > "$root/lib/modules/order"
	if [ -n "$IPERF" ]; then
		mkdir -p "$root/usr/bin"
		cp "$IPERF" "$root/usr/bin/iperf"
		ldd "$IPERF" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
			while read -r lib; do
				mkdir -p "$root$(dirname "$lib")"
				cp -L "$lib" "$root$lib"
			done
	fi
	cat > "$root/etc/udhcpc.script" <<'HOOK'
#!/bin/busybox sh
# udhcpc hook: configure the leased address and the default route.
case $1 in
deconfig) /bin/busybox ip addr flush dev "$interface" ;;
bound | renew)
	/bin/busybox ip addr flush dev "$interface"
	/bin/busybox ip addr add "$ip/$mask" dev "$interface"
	[ -n "$router" ] && /bin/busybox ip route replace default via "${router%% *}"
	echo "$ip/$mask" > /tmp/lease
	;;
esac
exit 0
HOOK
	chmod 755 "$root/etc/udhcpc.script"
	cat > "$root/etc/net.sh" <<'NET'
#!/bin/busybox sh
# Network mode of the bench guest: eth0 up, an address, then echo and iperf servers.
bb=/bin/busybox
$bb mkdir -p /tmp
$bb mount -t sysfs sysfs /sys 2>/dev/null
for m in $($bb cat /lib/modules/order); do $bb insmod /lib/modules/$m 2>/dev/null; done
$bb ip link set lo up
i=0
while ! $bb ip link show eth0 >/dev/null 2>&1 && [ $i -lt 100 ]; do $bb usleep 50000; i=$((i + 1)); done
$bb ip link set eth0 up
# e1000 reports carrier a second or two after it is up; wait for it (bounded) so that the
# address line means reachable, for static addresses as for DHCP.
i=0
while [ "$($bb cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 100 ]; do
	$bb usleep 50000
	i=$((i + 1))
done
static=
for a in $($bb cat /proc/cmdline); do
	case $a in shoal.ip=*) static=${a#shoal.ip=} ;; esac
done
if [ -n "$static" ]; then
	$bb ip addr add "${static%%,*}" dev eth0
	case $static in *,*) $bb ip route add default via "${static#*,}" ;; esac
	how=static
	addr=${static%%,*}
else
	$bb udhcpc -i eth0 -s /etc/udhcpc.script -q -f -n -t 20 -T 1 >/dev/null 2>&1
	how=dhcp
	addr=$($bb cat /tmp/lease 2>/dev/null)
fi
read up idle < /proc/uptime
echo "linux-net: eth0 ${addr:-none} via $how uptime=$up" > /dev/ttyS0
$bb nc -ll -p 7 -e /bin/busybox cat </dev/null >/dev/null 2>&1 &
[ -x /usr/bin/iperf ] && /usr/bin/iperf -s -p 5001 </dev/null >/dev/null 2>&1 &
while :; do $bb sleep 3600; done
NET
	chmod 755 "$root/etc/net.sh"
	pack initramfs-net.cpio.gz
	rm -rf "$tmp"
	trap - EXIT
fi

# Optional GRUB ISO of the same guest, built with the same grub-mkrescue as `make iso` and
# the same menu timeout as shoal's ISO (GUEST_GRUB_TIMEOUT), so both ISO figures carry it.
if [ "${GUEST_ISO:-0}" = 1 ]; then
	cat > "$out/grub.cfg.new" <<CFG
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=${GUEST_GRUB_TIMEOUT:-0}
set default=0
menuentry "linux bench guest" {
	linux /boot/vmlinuz console=ttyS0 panic=-1 quiet
	initrd /boot/initramfs.cpio.gz
	boot
}
CFG
	if ! cmp -s "$out/grub.cfg.new" "$out/grub.cfg"; then
		mv "$out/grub.cfg.new" "$out/grub.cfg"
		rm -f "$out/linux.iso"
	fi
	rm -f "$out/grub.cfg.new"
	if [ ! -s "$out/linux.iso" ] || [ "$out/vmlinuz" -nt "$out/linux.iso" ] ||
		[ "$out/initramfs.cpio.gz" -nt "$out/linux.iso" ]; then
		iso="$out/iso"
		rm -rf "$iso" && mkdir -p "$iso/boot/grub"
		cp "$out/vmlinuz" "$out/initramfs.cpio.gz" "$iso/boot/"
		cp "$out/grub.cfg" "$iso/boot/grub/grub.cfg"
		grub-mkrescue -o "$out/linux.iso.new" "$iso" >/dev/null 2>&1 ||
			{ echo "linux-guest: grub-mkrescue failed" >&2; rm -rf "$iso"; exit 1; }
		mv "$out/linux.iso.new" "$out/linux.iso"
		rm -rf "$iso"
	fi
fi
