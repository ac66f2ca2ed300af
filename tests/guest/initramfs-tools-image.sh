#!/bin/sh
# Build an initramfs-tools (Debian/Ubuntu) image with the virtseed hook and init-top script
# for the kernel fetch-kernel.sh unpacked, and print its path.  mkinitramfs only looks in
# /lib/modules/VERSION, so it runs in a private mount namespace where the kernel's modules
# are overlaid onto /usr/lib: nothing on this machine changes.
#   VIRTSEED_PREINIT=BUILT_PREINIT initramfs-tools-image.sh KERNELDIR FLAVOR AGENT
#   FLAVOR: virtseed | none
# Images are cached in $VIRTSEED_CACHE/images under a hash of every input.
set -eu
kdir=$1 flavor=$2 agent=$3
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${VIRTSEED_CACHE:-/var/cache/virtseed-tests}/images
ver=$(ls "$kdir/lib/modules")
it=$src/initramfs/initramfs-tools
case $flavor in
virtseed | none) ;;
*) echo "initramfs-tools-image: unknown flavor '$flavor'" >&2; exit 2 ;;
esac
preinit=${VIRTSEED_PREINIT:?the built virtseed-preinit}

key=$( (echo "$flavor $ver"; dpkg-query -W initramfs-tools-core busybox-static 2>/dev/null || :
	cat "$0" "$it/hooks/virtseed.in" "$it/scripts/init-top/00virtseed" \
		"$src/initramfs/virtseed-initrd.sh" "$agent" "$preinit") | sha256sum | cut -c1-16)
out=$cache/itools-$flavor-$key.img
if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

conf=$work/conf
mkdir -p "$conf/hooks" "$conf/scripts/init-top" "$conf/conf.d"
cat >"$conf/initramfs.conf" <<EOT
MODULES=list
BUSYBOX=auto
COMPRESS=gzip
COMPRESSLEVEL=1
EOT
printf '%s\n' virtio_pci virtio_rng virtio_console >"$conf/modules"
if [ "$flavor" = virtseed ]; then
	sed -e 's|@sbindir@|/usr/sbin|g' -e 's|@pkglibexecdir@|/usr/libexec/virtseed|g' \
	-e 's|@sysconfdir@|/nonexistent|g' \
		"$it/hooks/virtseed.in" >"$conf/hooks/virtseed"
	cp "$it/scripts/init-top/00virtseed" "$conf/scripts/init-top/"
	chmod +x "$conf/hooks/virtseed" "$conf/scripts/init-top/00virtseed"
fi

export VIRTSEED_AGENT="$agent" VIRTSEED_INITRD="$src/initramfs/virtseed-initrd.sh" \
	VIRTSEED_PREINIT="$preinit"
# shellcheck disable=SC2016 # expanded by the inner shell
unshare -m --propagation private sh -ec '
	mount -t overlay overlay -o "lowerdir=$1/lib:/usr/lib" /usr/lib
	mount --bind "$1/boot" /boot
	mkinitramfs -d "$2" -o "$3" "$4"
' sh "$kdir" "$conf" "$out.tmp" "$ver" >&2
mv "$out.tmp" "$out"
echo "$out"
