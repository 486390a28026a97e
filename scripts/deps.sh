#!/usr/bin/env bash
# Install what shoal's build, tests and benchmarks need, and unpack the pinned
# third-party sources into build/third_party. Idempotent: a second run does nothing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tp="$top/build/third_party"

# Pinned Debian source package versions (bookworm).
LWIP_VER=2.1.3+dfsg1-2
MBEDTLS_VER=2.28.3-1
MUSL_VER=1.2.3-1

PKGS=(
	build-essential binutils make
	qemu-system-x86 qemu-utils
	grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools ovmf
	musl musl-dev musl-tools
	libcmocka-dev cppcheck clang-format clang libclang-rt-14-dev
	dnsmasq-base iproute2 iputils-ping iperf
	libmbedtls-dev
	busybox-static cpio
	python3 dpkg-dev
	serf
)

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

need_src=0
[ -d "$tp/lwip" ] || need_src=1
[ -d "$tp/mbedtls" ] || need_src=1
[ -d "$tp/musl" ] || need_src=1

src_enabled() { grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ || grep -qs '^deb-src' /etc/apt/sources.list; }

updated=0
if [ $need_src = 1 ] && ! src_enabled; then
	echo "deps: enabling Debian source packages"
	sudo_ tee /etc/apt/sources.list.d/shoal-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	sudo_ apt-get update -qq
	updated=1
fi

if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	[ $updated = 1 ] || sudo_ apt-get update -qq
	sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Pristine upstream trees (Debian's lwIP patches break a bare-metal build).
fetch_src() { # name version dir
	local name=$1 ver=$2 dest=$3 work="$tp/src-$1"
	[ -d "$dest" ] && return 0
	echo "deps: fetching source of $name $ver"
	rm -rf "$work" && mkdir -p "$work"
	(cd "$work" && apt-get source -qq --download-only "$name=$ver" >/dev/null 2>&1)
	local dsc
	dsc=$(ls "$work"/*.dsc)
	(cd "$work" && dpkg-source -x --skip-patches "$dsc" tree >/dev/null 2>&1)
	mv "$work/tree" "$dest"
	rm -rf "$work"
}
mkdir -p "$tp"
fetch_src lwip "$LWIP_VER" "$tp/lwip"
fetch_src mbedtls "$MBEDTLS_VER" "$tp/mbedtls"
fetch_src musl "$MUSL_VER" "$tp/musl"
# promtool (checks /metrics in the system tests), taken out of Debian's prometheus package
# rather than installing a server with its own service.
PROMETHEUS_VER=2.42.0+ds-5+deb12u1
if [ ! -x "$tp/promtool" ]; then
	echo "deps: fetching promtool from prometheus $PROMETHEUS_VER"
	work="$tp/src-prometheus"
	rm -rf "$work" && mkdir -p "$work"
	(cd "$work" && apt-get download -qq "prometheus=$PROMETHEUS_VER" >/dev/null 2>&1)
	dpkg-deb -x "$work"/prometheus_*.deb "$work/x"
	mv "$work/x/usr/bin/promtool" "$tp/promtool"
	rm -rf "$work"
fi
echo "deps: ok"
