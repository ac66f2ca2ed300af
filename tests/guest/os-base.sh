#!/bin/sh
# Build a Debian root file system with mmdebstrap from the Debian archive this machine's apt
# uses, as a tarball, and print its path.  Cached in $VIRTSEED_CACHE/os under a hash of
# its inputs: suite, kind, mirror, mmdebstrap's options (package list, variant) and hooks.
# The archive's contents are not part of the key: remove the cache entry to take a newer
# point release.
#   os-base.sh SUITE KIND      SUITE: bookworm | trixie
# KIND os: a bootable guest (the distribution's kernel, systemd, initramfs-tools, cryptsetup
#          for a LUKS volume opened in the initramfs, rngd for bench/os-boot.sh);
#          os-dracut: the same with dracut instead of initramfs-tools;
# KIND host: the runtime of the host packages (systemd, libvirt's client library) for
#            os_host_package in tests/integ/os-lib.sh;
# KIND build: a buildd chroot with virtseed's build dependencies and lintian
#            (tests/guest/os-debs.sh).
set -eu
suite=$1 kind=$2
cache=${VIRTSEED_CACHE:-/var/cache/virtseed-tests}/os

# The first Debian archive URI of apt's sources (deb822 or one-line), else deb.debian.org.
mirror=${VIRTSEED_MIRROR:-$(sed -n -e 's|^URIs: *\(http[^ ]*/debian\)/*$|\1|p' \
	-e 's|^deb  *\(\[[^]]*\]  *\)\{0,1\}\(http[^ ]*/debian\)/*  *.*|\2|p' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
	/etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)}
mirror=${mirror:-http://deb.debian.org/debian}

case $suite in
bookworm) sysdev=systemd crypt=cryptsetup ;;
trixie) sysdev=systemd-dev crypt=cryptsetup,systemd-cryptsetup ;;
*) echo "os-base: unknown suite '$suite'" >&2; exit 2 ;;
esac
guest=systemd,systemd-sysv,udev,kmod,procps,rng-tools5,libgcrypt20
# A guest's kernel is installed last, once the initramfs generator and its hooks are set up,
# so that its postinst builds the initramfs once (installed with the rest, the trigger of the
# packages configured after it built it a second time).  "$1" in the hook: the root.
kernel='chroot "$1" apt-get install -y -q --no-install-recommends linux-image-amd64'
set --
case $kind in
os) variant=minbase pkgs=$guest,initramfs-tools,cryptsetup-initramfs
	set -- --customize-hook="$kernel" ;;
os-dracut) variant=minbase pkgs=$guest,dracut,$crypt
	set -- --customize-hook="$kernel" ;;
host) variant=minbase pkgs=systemd,procps,libvirt0,libxml2 ;;
build)
	variant=buildd
	pkgs=debhelper,pkgconf,libcap-ng-dev,libgcrypt20-dev,libseccomp-dev,libsystemd-dev
	pkgs=$pkgs,libcmocka-dev,libvirt-dev,libxml2-dev,$sysdev,lintian ;;
*) echo "os-base: unknown kind '$kind'" >&2; exit 2 ;;
esac

# No dpkg path filters (docs, locales): they make a root 7 % smaller and its build 16 % dearer
# (bookworm os: 636 against 682 MB, 166 against 140 s of CPU).
opts="--format=tar --variant=$variant --include=$pkgs"
key=$(echo "$suite $kind $mirror $opts $*" | sha256sum | cut -c1-16)
out=$cache/$suite-$kind-$key.tar
[ -s "$out" ] && { echo "$out"; exit 0; }
command -v mmdebstrap >/dev/null || { echo "os-base: mmdebstrap missing" >&2; exit 1; }
mkdir -p "$cache"
# One build per root: a second caller (tests/guest/os-prepare.sh, a test) waits for it.
exec 9>"$out.lock"
flock 9
[ -s "$out" ] && { echo "$out"; exit 0; }
# shellcheck disable=SC2086 # the options are split at blanks, without globbing
(set -f && mmdebstrap --quiet $opts "$@" "$suite" "$out.tmp" "$mirror" >&2)
mv "$out.tmp" "$out"
echo "$out"
