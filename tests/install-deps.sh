#!/bin/sh
# Install what building, testing and benchmarking virtseed needs on Debian 12 (with what
# kernel-patch/check.sh needs, so that its background build installs nothing).
# Services shipped by the peer packages (rngd, haveged, ...) are not started:
# the benchmarks start their own instances side by side.
set -eu
pkgs="autoconf automake libtool pkg-config make gcc clang file kmod cpio
 libcap-ng-dev libgcrypt20-dev libsystemd-dev libcmocka-dev libseccomp-dev
 qemu-system-x86 busybox-static gnuplot-nox systemd python3
 rng-tools5 jitterentropy-rngd haveged
 dracut-core initramfs-tools-core shellcheck socat openssl
 mmdebstrap debhelper dpkg-dev fakeroot e2fsprogs zstd cryptsetup-bin
 libvirt-daemon-system libvirt-clients libvirt-dev libxml2-dev python3-libvirt
 linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils git"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi
own_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	own_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
