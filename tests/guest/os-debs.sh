#!/bin/sh
# Build virtseed's Debian packages from this source tree inside a clean chroot of SUITE
# (tests/guest/os-base.sh SUITE build), so that they link against that release's
# libraries, and print the directory holding the .debs, the .changes and the build log.
# `dpkg-buildpackage -us -uc -b` runs on a copy of the tree: the tree is not touched.
# That release's lintian then checks them (lintian.log, its exit status in lintian.rc:
# tests/integ/debian-lintian.sh reads them).
# Cached in $VIRTSEED_CACHE/debs under a hash of the chroot and of the tree's files but the
# integration tests and benchmarks (tests/integ/, bench/: in no package).
#   os-debs.sh SUITE
set -eu
suite=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${VIRTSEED_CACHE:-/var/cache/virtseed-tests}/debs

# The tree's own files: git's list where there is one, else all but build output.
tree_files() {
	if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
		git -C "$src" ls-files -co --exclude-standard
	else
		(cd "$src" && find . -name .git -prune -o -name '_*' -prune -o \
			-name autom4te.cache -prune -o -type f -print)
	fi | LC_ALL=C sort
}

base=$(sh "$here/os-base.sh" "$suite" build)
key=$( (cat "$0"; echo "$base"; cd "$src" &&
	tree_files | grep -v -e '^tests/integ/' -e '^bench/' | while read -r f; do
		[ -f "$f" ] && sha256sum "$f"
	done) | sha256sum | cut -c1-16)
out=$cache/$suite-$key
built() { [ -s "$out/build.log" ] && ls "$out"/virtseed_*.deb >/dev/null 2>&1; }
built && { echo "$out"; exit 0; }
# One build per tree and release: a second caller waits for it.
mkdir -p "$cache"
exec 9>"$out.lock"
flock 9
built && { echo "$out"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"
tar -xf "$base" -C "$root"
mkdir -p "$root/build/virtseed"
(cd "$src" && tree_files | while read -r f; do [ -f "$f" ] && echo "$f"; done |
	tar -cf - -T -) | tar -xf - -C "$root/build/virtseed"
rm -rf "$out"
mkdir -p "$out"
# shellcheck disable=SC2016 # expanded by the inner shell
if ! unshare -m --propagation private sh -c '
	mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" &&
	chroot "$1" sh -c "cd /build/virtseed &&
		DEB_BUILD_OPTIONS=\"nocheck parallel=2\" dpkg-buildpackage -us -uc -b && cd /build &&
		{ lintian --fail-on error,warning --pedantic --info virtseed_*.changes \
			>lintian.log 2>&1; echo \$? >lintian.rc; }"
' sh "$root" >"$work/build.log" 2>&1; then
	tail -40 "$work/build.log" >&2
	echo "os-debs: dpkg-buildpackage failed in the $suite chroot" >&2
	exit 1
fi
cp "$root"/build/*.deb "$root"/build/*.changes "$root"/build/*.buildinfo \
	"$root"/build/lintian.* "$out/"
mv "$work/build.log" "$out/build.log"
echo "$out"
