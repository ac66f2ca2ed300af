#!/bin/sh
# Build the boot-test initramfs for one kernel build directory:
#   mkinitrd.sh KBUILD_OUT PROBE_BINARY OUTPUT.cpio
# Uses the kernel's own usr/gen_init_cpio so no root or mknod is needed.
set -eu
out=$1
probe=$2
dest=$3
here=$(cd "$(dirname "$0")" && pwd)
busybox=/bin/busybox
spec=$dest.spec

cat > "$spec" <<SPEC
dir /bin 0755 0 0
dir /dev 0755 0 0
dir /proc 0755 0 0
dir /sys 0755 0 0
nod /dev/console 0600 0 0 c 5 1
file /init $here/init.sh 0755 0 0
file /bin/busybox $busybox 0755 0 0
file /bin/hwrng-probe $probe 0755 0 0
file /virtio-rng.ko $out/drivers/char/hw_random/virtio-rng.ko 0644 0 0
SPEC
"$out/usr/gen_init_cpio" "$spec" > "$dest.tmp"
mv "$dest.tmp" "$dest"
rm -f "$spec"
