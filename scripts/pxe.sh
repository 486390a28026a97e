#!/usr/bin/env bash
# pxe.sh: the PXE boot of shoal nodes. Writes the TFTP tree (`make pxe`: build/pxe/), the
# per-machine overrides and the sample dnsmasq configurations, and boots a QEMU node from
# the test network's dnsmasq (scripts/cluster.sh up N --pxe).
#
# The tree (ROOT, e.g. build/pxe/tftp):
#   boot/grub/i386-pc/core.0       GRUB's PXE image for BIOS clients (grub-mknetdir)
#   boot/grub/x86_64-efi/core.efi  GRUB's network image for UEFI x86-64 clients
#   boot/grub/grub.cfg             the menu (boot/grub-pxe.cfg): multiboot2 shoal.elf with the
#                                  keys of site.cfg and mac/MAC.cfg, module2 userland.cpio
#   boot/grub/site.cfg             keys for every machine (root --append; empty without)
#   boot/grub/grub.cfg-01-MAC      keys for one machine (mac), MAC as 52-54-00-12-34-56:
#                                  GRUB reads this instead of grub.cfg; it sources grub.cfg
#   boot/shoal.elf, boot/userland.cpio
#
#   root ROOT [--kernel F] [--cpio F] [--append KEYS] [--server IP]
#                        write (or refresh) the tree; --append sets site.cfg ('': empty;
#                        without --append an existing site.cfg is kept); --server: GRUB's
#                        images name the TFTP server IP instead of taking it from DHCP
#                        (needed behind proxy DHCP: GRUB 2.06 asks the DHCP server)
#   mac ROOT MAC KEYS    write grub.cfg-01-MAC for one machine ('' KEYS: remove it)
#   samples OUT ROOT     write OUT/dnsmasq.conf and OUT/dnsmasq-proxy.conf serving ROOT
#   dnsmasq-args ROOT    the dnsmasq options that add TFTP and boot files to a DHCP server,
#                        one per line (scripts/testnet.sh up --tftp ROOT uses them)
#   qemu --netns NAME --node I [--firmware seabios|ovmf] [--mem MIB] [--smp N]
#        [--accel tcg|kvm] [--nic MODEL] [--dry-run] [-- QEMU args]
#                        become a QEMU that boots from the network, on tap I of test net
#                        NAME (scripts/testnet.sh up NAME N --tftp ROOT); serial on stdout
# shellcheck disable=SC2054  # commas in arrays here belong to QEMU option values
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
GRUB_BIOS=/usr/lib/grub/i386-pc
GRUB_EFI=/usr/lib/grub/x86_64-efi
OVMF=/usr/share/ovmf/OVMF.fd
BIOS_IMAGE=boot/grub/i386-pc/core.0
EFI_IMAGE=boot/grub/x86_64-efi/core.efi
# OVMF wants more memory than shoal's default for its own use during the boot.
OVMF_MIN_MEM=128

die() { echo "pxe: $*" >&2; exit 1; }
usage() {
	sed -n '/^#   root ROOT/,/^# shellcheck/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit 2
}

# A MAC as GRUB spells it in the per-machine file name: lower case with dashes.
norm_mac() {
	local m
	m=$(echo "$1" | tr 'A-F:' 'a-f-')
	[[ $m =~ ^[0-9a-f]{2}(-[0-9a-f]{2}){5}$ ]] || die "not a MAC address: '$1'"
	echo "$m"
}

# A GRUB script file that sets VAR to KEYS (then runs TAIL, a GRUB command, if given).
# Keys are plain words (key=value, base64 keys); anything GRUB would expand or split
# differently is refused.
write_keys() {
	local file=$1 var=$2 keys=$3 tail=${4:-}
	[[ $keys =~ ^[A-Za-z0-9_.,:=/+@%\ -]*$ ]] ||
		die "keys may hold only letters, digits, spaces and _.,:=/+@%- ('$keys')"
	mkdir -p "$(dirname "$file")"
	{
		printf '# written by scripts/pxe.sh\nset %s="%s"\n' "$var" "$keys"
		[ -z "$tail" ] || printf '%s\n' "$tail"
	} >"$file.new"
	# World-readable: TFTP serves it to anyone anyway (docs/pxe.md, on keys).
	chmod 0644 "$file.new"
	mv "$file.new" "$file"
}

cmd_root() {
	local root=$1 kernel=$top/build/shoal.elf cpio=$top/build/userland.cpio append='' has_append=0
	local server=''
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel) [ $# -ge 2 ] || die "--kernel needs a value"; kernel=$2; shift 2 ;;
		--cpio) [ $# -ge 2 ] || die "--cpio needs a value"; cpio=$2; shift 2 ;;
		--append) [ $# -ge 2 ] || die "--append needs a value"; append=$2; has_append=1; shift 2 ;;
		--server) [ $# -ge 2 ] || die "--server needs a value"; server=$2; shift 2 ;;
		*) die "root: unknown option $1" ;;
		esac
	done
	[ -f "$kernel" ] || die "no kernel at $kernel (make)"
	[ -f "$cpio" ] || die "no userland archive at $cpio (make)"
	[ -d $GRUB_BIOS ] || die "no $GRUB_BIOS (grub-pc-bin; scripts/deps.sh)"
	[ -d $GRUB_EFI ] || die "no $GRUB_EFI (grub-efi-amd64-bin; scripts/deps.sh)"
	mkdir -p "$root/boot/grub"
	# The network images embed the prefix (tftp)/boot/grub; their platform directory holds
	# the modules GRUB fetches over TFTP.
	grub-mknetdir --net-directory="$root" --subdir=boot/grub -d $GRUB_BIOS >"$root/.mknetdir.log" 2>&1 ||
		{ cat "$root/.mknetdir.log" >&2; die "grub-mknetdir (i386-pc) failed"; }
	grub-mknetdir --net-directory="$root" --subdir=boot/grub -d $GRUB_EFI >>"$root/.mknetdir.log" 2>&1 ||
		{ cat "$root/.mknetdir.log" >&2; die "grub-mknetdir (x86_64-efi) failed"; }
	rm -f "$root/.mknetdir.log"
	if [ -n "$server" ]; then
		[[ $server =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "--server must be an IPv4 address"
		# The same images with the server in their prefix: with proxy DHCP the firmware
		# learns the boot server from the proxy, but GRUB 2.06 takes its server from the
		# DHCP server's answer, which names none (or itself).
		grub-mkimage -O i386-pc-pxe -d $GRUB_BIOS -p "(tftp,$server)/boot/grub" \
			-o "$root/$BIOS_IMAGE" pxe tftp || die "grub-mkimage (i386-pc-pxe) failed"
		grub-mkimage -O x86_64-efi -d $GRUB_EFI -p "(tftp,$server)/boot/grub" \
			-o "$root/$EFI_IMAGE" efinet tftp || die "grub-mkimage (x86_64-efi) failed"
	fi
	if [ ! -f "$root/$BIOS_IMAGE" ] || [ ! -f "$root/$EFI_IMAGE" ]; then
		die "grub-mknetdir wrote no images"
	fi
	cp "$top/boot/grub-pxe.cfg" "$root/boot/grub/grub.cfg.new"
	mv "$root/boot/grub/grub.cfg.new" "$root/boot/grub/grub.cfg"
	cp "$kernel" "$root/boot/shoal.elf.new"
	mv "$root/boot/shoal.elf.new" "$root/boot/shoal.elf"
	cp "$cpio" "$root/boot/userland.cpio.new"
	mv "$root/boot/userland.cpio.new" "$root/boot/userland.cpio"
	if [ $has_append = 1 ] || [ ! -f "$root/boot/grub/site.cfg" ]; then
		write_keys "$root/boot/grub/site.cfg" shoal_site "$append"
	fi
}

cmd_mac() {
	local root=$1 mac
	mac=$(norm_mac "$2")
	[ -f "$root/boot/grub/grub.cfg" ] || die "no TFTP tree at $root (pxe.sh root $root)"
	if [ -n "$3" ]; then
		write_keys "$root/boot/grub/grub.cfg-01-$mac" shoal_node "$3" "source /boot/grub/grub.cfg"
	else
		rm -f "$root/boot/grub/grub.cfg-01-$mac"
	fi
}

cmd_samples() {
	local out=$1 root f
	root=$(cd "$2" && pwd) || die "no TFTP tree at $2"
	mkdir -p "$out"
	for f in dnsmasq dnsmasq-proxy; do
		sed "s|@TFTP_ROOT@|$root|g" "$top/boot/pxe/$f.conf.in" >"$out/$f.conf.new"
		mv "$out/$f.conf.new" "$out/$f.conf"
	done
}

cmd_dnsmasq_args() {
	local root
	root=$(cd "$1" && pwd) || die "no TFTP tree at $1"
	[ -f "$root/$BIOS_IMAGE" ] || die "no $BIOS_IMAGE under $root (pxe.sh root $root)"
	printf '%s\n' --enable-tftp --tftp-root="$root" \
		--dhcp-match=set:efi64,option:client-arch,7 \
		--dhcp-match=set:efi64,option:client-arch,9 \
		--dhcp-boot=tag:!efi64,$BIOS_IMAGE \
		--dhcp-boot=tag:efi64,$EFI_IMAGE
}

cmd_qemu() {
	local netns='' node=0 firmware=seabios mem=64 smp=1 accel=${SHOAL_ACCEL:-tcg} nic=virtio-net-pci
	local dry=0 extra=() args tapargs shown a
	while [ $# -gt 0 ]; do
		case $1 in
		--netns) [ $# -ge 2 ] || die "--netns needs a value"; netns=$2; shift 2 ;;
		--node) [ $# -ge 2 ] || die "--node needs a value"; node=$2; shift 2 ;;
		--firmware) [ $# -ge 2 ] || die "--firmware needs a value"; firmware=$2; shift 2 ;;
		--mem) [ $# -ge 2 ] || die "--mem needs a value"; mem=$2; shift 2 ;;
		--smp) [ $# -ge 2 ] || die "--smp needs a value"; smp=$2; shift 2 ;;
		--accel) [ $# -ge 2 ] || die "--accel needs a value"; accel=$2; shift 2 ;;
		--nic) [ $# -ge 2 ] || die "--nic needs a value"; nic=$2; shift 2 ;;
		--dry-run) dry=1; shift ;;
		--) shift; extra=("$@"); break ;;
		*) die "qemu: unknown option $1" ;;
		esac
	done
	[ -n "$netns" ] || die "qemu: --netns NAME is required (the test net with the TFTP server)"
	[[ $mem =~ ^[0-9]+$ ]] || die "--mem must be a number of MiB"
	if [ "$firmware" = ovmf ] && [ "$mem" -lt $OVMF_MIN_MEM ]; then mem=$OVMF_MIN_MEM; fi
	args=(-name shoal -m "$mem" -smp "$smp" -display none -no-reboot -serial stdio
		-device isa-debug-exit,iobase=0xf4,iosize=4)
	case $accel in
	tcg) args+=(-accel tcg) ;;
	kvm) args+=(-enable-kvm -cpu host,-arch-capabilities) ;;
	*) die "accelerator must be tcg or kvm, not '$accel'" ;;
	esac
	case $firmware in
	seabios) ;;
	ovmf)
		[ -f $OVMF ] || die "no $OVMF (ovmf; scripts/deps.sh)"
		args+=(-bios "$OVMF")
		;;
	*) die "firmware must be seabios or ovmf, not '$firmware'" ;;
	esac
	mapfile -t tapargs < <("$top/scripts/testnet.sh" qemu-args "$netns" "$node" --model "$nic")
	[ ${#tapargs[@]} = 4 ] || die "testnet.sh qemu-args $netns $node failed"
	# The NIC is the first (and only) boot device: its option ROM (iPXE) or OVMF's network
	# stack does the PXE boot.
	tapargs[3]+=",bootindex=1"
	args+=("${tapargs[@]}" "${extra[@]}")
	shown="ip netns exec shoal-$netns qemu-system-x86_64"
	for a in "${args[@]}"; do
		case $a in *[[:space:]]* | '') shown+=" '$a'" ;; *) shown+=" $a" ;; esac
	done
	echo "qemu: accel=$accel firmware=$firmware boot=pxe smp=$smp mem=${mem}M: $shown" >&2
	[ $dry = 1 ] && exit 0
	exec ip netns exec "shoal-$netns" qemu-system-x86_64 "${args[@]}"
}

[ $# -ge 1 ] || usage
sub=$1
shift
case $sub in
root) [ $# -ge 1 ] || usage; cmd_root "$@" ;;
mac) [ $# = 3 ] || usage; cmd_mac "$@" ;;
samples) [ $# = 2 ] || usage; cmd_samples "$@" ;;
dnsmasq-args) [ $# = 1 ] || usage; cmd_dnsmasq_args "$@" ;;
qemu) cmd_qemu "$@" ;;
-h | --help) usage ;;
*) usage ;;
esac
