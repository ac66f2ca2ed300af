#!/bin/sh
# Build a small busybox initramfs for test guests.
#   busybox-initramfs.sh OUT.cpio.gz KERNELDIR INIT [SRC:DEST ...]
# KERNELDIR is what fetch-kernel.sh printed.  INIT becomes /init.  Each
# SRC:DEST is copied in; an ELF executable brings its shared libraries.
# $MODULES (default: virtio_pci virtio_rng virtio_console) and their
# dependencies are copied to /modules and listed in load order in
# /modules/order, for /init to insmod one by one.
set -eu
out=$1 kdir=$2 init=$3
shift 3
modules=${MODULES:-virtio_pci virtio_rng virtio_console}
ver=$(ls "$kdir/lib/modules")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/run" \
	"$root/etc" "$root/modules"
cp /bin/busybox "$root/bin/busybox"
for app in $(/bin/busybox --list); do
	[ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
done
ln -s bin "$root/sbin"
install -m 0755 "$init" "$root/init"

for m in $modules; do
	modprobe -d "$kdir" -S "$ver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	cp "$ko" "$root/modules/"
	basename "$ko" >>"$root/modules/order"
done

copy_file() {
	mkdir -p "$root$(dirname "$2")"
	cp -L "$1" "$root$2"
	if file -L "$1" | grep -q 'ELF.*dynamic'; then
		ldd "$1" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
			mkdir -p "$root$(dirname "$lib")"
			[ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
		done
	fi
}
for spec in "$@"; do
	copy_file "${spec%%:*}" "${spec#*:}"
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
