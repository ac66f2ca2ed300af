#!/bin/sh
# systemd-analyze security exposure of each long-running service is <= 2.0.  The initrd
# oneshot (virtseed-initrd.service) runs for a second before udev and is not sandboxed:
# its exposure is printed, not judged.
# shellcheck source=tests/integ/units-lib.sh
. "$(dirname "$0")/units-lib.sh"
exposure() {
	systemd-analyze security --offline=true --no-pager "$1" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
rc=0
for u in virtseed.service virtseed-egd.service virtseed-libvirt.service; do
	e=$(exposure "$units_dir/$u")
	if [ -n "$e" ] && awk -v e="$e" 'BEGIN { exit !(e <= 2.0) }'; then
		echo "ok: $u exposure $e"
	else
		echo "FAIL: $u exposure '${e:-?}' > 2.0"
		rc=1
	fi
done
echo "# virtseed-initrd.service exposure $(exposure "$units_dir/virtseed-initrd.service")"
exit $rc
