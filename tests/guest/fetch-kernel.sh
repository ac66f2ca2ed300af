#!/bin/sh
# Unpack Debian 12's stock 6.1 kernel (linux-image-amd64) into a cache
# directory without installing it on this machine, and print that directory:
# it holds vmlinuz and lib/modules/<version>/.  Idempotent.
set -eu
cache=${1:-${VIRTSEED_CACHE:-/var/cache/virtseed-tests}}/kernel
fetched() { [ -f "$cache/vmlinuz" ] && [ -d "$cache/lib/modules" ]; }
fetched && { echo "$cache"; exit 0; }
# One fetch at a time: the boot tests run two at once, and a second caller waits for it.
mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9
fetched && { echo "$cache"; exit 0; }
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$pkg" ]; then
	apt-get update -qq >/dev/null
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[ -n "$pkg" ] || { echo "fetch-kernel: no linux-image-amd64 in apt" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1)
mkdir -p "$cache.new"
dpkg-deb -x "$tmp"/*.deb "$cache.new"
cp "$cache.new"/boot/vmlinuz-* "$cache.new/vmlinuz"
ver=$(ls "$cache.new/lib/modules")
PATH=$PATH:/sbin:/usr/sbin depmod -b "$cache.new" "$ver"
rm -rf "$cache"
mv "$cache.new" "$cache"
echo "$cache"
