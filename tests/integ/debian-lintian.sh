#!/bin/sh
# The Debian packages (virtseed, virtseed-egd, virtseed-libvirt), built from this tree in a
# clean Debian 12 chroot by `dpkg-buildpackage -us -uc -b`, are lintian-clean: no error, no warning (overrides in
# debian/*.lintian-overrides say why).  Root (the chroot); skips without mmdebstrap/lintian.
top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
[ -z "${VIRTSEED_SKIP_E2E:-}" ] || { echo "SKIP: packages are built once per suite"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chroot)"; exit 77; }
for t in mmdebstrap lintian; do
	command -v $t >/dev/null || { echo "SKIP: $t missing (tests/install-deps.sh)"; exit 77; }
done
debs=$(sh "$top_srcdir/tests/guest/os-debs.sh" bookworm) || { echo "FAIL: package build"; exit 1; }
# All three binary packages are built and listed in the .changes lintian checks.
for p in virtseed virtseed-egd virtseed-libvirt; do
	grep -q " ${p}_[^ ]*_amd64\.deb\$" "$debs"/virtseed_*.changes ||
		{ echo "FAIL: $p is not in $(ls "$debs"/virtseed_*.changes)"; exit 1; }
done
out=$(lintian --fail-on error,warning --pedantic --info "$debs"/virtseed_*.changes 2>&1 |
	grep -v '^running with root privileges')
echo "$out"
if echo "$out" | grep -q '^[EW]: '; then
	echo "FAIL: lintian reports errors or warnings"
	exit 1
fi
echo "ok: lintian clean ($(echo "$out" | grep -c '^[IPX]: ') notes at info/pedantic level)"
