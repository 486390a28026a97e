#!/usr/bin/env bash
# Build the baseline Linux guest for `make bench` into build/bench/linux/: Debian's stock
# bookworm kernel (vmlinuz) and a busybox-static initramfs whose /init prints a marker on
# ttyS0 and powers off. Everything comes from Debian packages, cached under build/; nothing
# is installed into the host. Prints nothing but errors; idempotent (a second run is free).
#
# Outputs: build/bench/linux/vmlinuz, build/bench/linux/initramfs.cpio.gz, build/bench/linux/version
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
if [ ! -s "$out/initramfs.cpio.gz" ] || [ "$bdeb" -nt "$out/initramfs.cpio.gz" ] ||
	[ "$0" -nt "$out/initramfs.cpio.gz" ]; then
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
/bin/busybox poweroff -f
INIT
	chmod 755 "$root/init"
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet | gzip -9n > "$out/initramfs.cpio.gz.new")
	mv "$out/initramfs.cpio.gz.new" "$out/initramfs.cpio.gz"
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
