#!/bin/sh
# The Debian packages (virtseed, virtseed-egd, virtseed-libvirt), built from this tree by
# `dpkg-buildpackage -us -uc -b` in clean Debian 12 and Debian 13 chroots, are lintian-clean
# by each release's own lintian (--pedantic --info): no error, no warning, and no override
# (an override of a tag one release does not know is an error there).  Root (the chroots);
# skips without mmdebstrap.
top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
[ -z "${VIRTSEED_SKIP_E2E:-}" ] || { echo "SKIP: packages are built once per suite"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chroot)"; exit 77; }
command -v mmdebstrap >/dev/null || { echo "SKIP: mmdebstrap missing (tests/install-deps.sh)"; exit 77; }
for suite in bookworm trixie; do
	debs=$(sh "$top_srcdir/tests/guest/os-debs.sh" $suite) || { echo "FAIL: $suite build"; exit 1; }
	# All three binary packages are built and listed in the .changes lintian checks.
	for p in virtseed virtseed-egd virtseed-libvirt; do
		grep -q " ${p}_[^ ]*_amd64\.deb\$" "$debs"/virtseed_*.changes ||
			{ echo "FAIL: $suite: $p is not in $(ls "$debs"/virtseed_*.changes)"; exit 1; }
	done
	out=$(grep -v '^running with root privileges' "$debs/lintian.log")
	echo "$out"
	if [ "$(cat "$debs/lintian.rc")" != 0 ] || echo "$out" | grep -q '^[EW]: '; then
		echo "FAIL: $suite: lintian exited $(cat "$debs/lintian.rc"), errors or warnings above"
		exit 1
	fi
	echo "ok: $suite: lintian clean ($(echo "$out" | grep -c '^[IPX]: ') notes at info/pedantic level)"
done
