#!/bin/sh
# systemd-analyze verify passes on every unit we ship (guest, host and initrd).
# shellcheck source=tests/integ/units-lib.sh
. "$(dirname "$0")/units-lib.sh"
rc=0
for u in "$units_dir"/*.service "$units_dir"/*.socket; do
	if out=$(systemd-analyze verify --man=no "$u" 2>&1) && [ -z "$out" ]; then
		echo "ok: ${u##*/}"
	else
		echo "FAIL: ${u##*/}: $out"
		rc=1
	fi
done
exit $rc
