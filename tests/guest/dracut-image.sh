#!/bin/bash
# Build a dracut initramfs with the virtseed module for the kernel fetch-kernel.sh unpacked,
# without touching this machine's /usr/lib/dracut or /lib/modules, and print its path.
#   VIRTSEED_PREINIT=BUILT_PREINIT dracut-image.sh KERNELDIR FLAVOR AGENT
# FLAVOR: systemd (pre-init /init wrapper + initrd unit), systemd-unit (the unit only),
# shell (dracut's shell /init, cmdline hook),
# systemd-rngd (dracut's own 06rngd module instead: the peer, for bench/boot),
# systemd+rngd (both), systemd-none / shell-none (no virtseed module: the stock baseline).
# Every flavor carries virtio_pci, virtio_rng and virtio_console, which udev loads at coldplug.
# Images are cached in $VIRTSEED_CACHE/images under a hash of every input.
set -euo pipefail
kdir=$1 flavor=$2 agent=$3
preinit=${VIRTSEED_PREINIT:?the built virtseed-preinit}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${VIRTSEED_CACHE:-/var/cache/virtseed-tests}/images
ver=$(ls "$kdir/lib/modules")
mod=$src/initramfs/dracut/90virtseed

case $flavor in
systemd) modules="base rootfs-block dracut-systemd udev-rules virtseed" ;;
systemd-unit) modules="base rootfs-block dracut-systemd udev-rules virtseed" conf=virtseed_preinit=no ;;
systemd+rngd) modules="base rootfs-block dracut-systemd udev-rules rngd virtseed" ;;
systemd-none) modules="base rootfs-block dracut-systemd udev-rules" ;;
systemd-rngd) modules="base rootfs-block dracut-systemd udev-rules rngd" ;;
shell) modules="base rootfs-block udev-rules virtseed" ;;
shell-none) modules="base rootfs-block udev-rules" ;;
*) echo "dracut-image: unknown flavor '$flavor'" >&2; exit 2 ;;
esac

key=$( (echo "$flavor $ver"; dpkg-query -W dracut-core rng-tools5 2>/dev/null || :
	cat "$0" "$mod"/* "$src/initramfs/virtseed-initrd.sh" "$agent" "$preinit") |
	sha256sum | cut -c1-16)
out=$cache/dracut-$flavor-$key.img
if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp -a /usr/lib/dracut "$work/dracut"
mkdir "$work/dracut.conf.d"
echo "${conf:-}" >"$work/dracut.conf.d/virtseed.conf"
dst=$work/dracut/modules.d/90virtseed
mkdir -p "$dst"
cp "$mod/virtseed-cmdline.sh" "$mod/virtseed-initrd.service" "$dst/"
sed -e 's|@sbindir@|/usr/sbin|g' -e 's|@pkglibexecdir@|/usr/libexec/virtseed|g' \
	-e 's|@sysconfdir@|/nonexistent|g' \
	"$mod/module-setup.sh.in" >"$dst/module-setup.sh"
chmod +x "$dst"/*.sh

export VIRTSEED_AGENT=$agent VIRTSEED_INITRD=$src/initramfs/virtseed-initrd.sh
export VIRTSEED_PREINIT=$preinit
export dracutbasedir=$work/dracut
dracut --quiet --force --no-hostonly --no-hostonly-cmdline --no-early-microcode \
	--conf /dev/null --confdir "$work/dracut.conf.d" --tmpdir "$work" \
	--kver "$ver" --kmoddir "$kdir/lib/modules/$ver" \
	--modules "$modules" --add-drivers "virtio_pci virtio_rng virtio_console" \
	--no-compress \
	"$out.tmp" >&2
mv "$out.tmp" "$out"
echo "$out"
