#!/bin/sh
# A source returning constant bytes fails its health tests and is credited 0 bits.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

for dev in /dev/zero "$TMP/const"; do
	[ "$dev" = /dev/zero ] || head -c 65536 /dev/zero | tr '\0' '\252' >"$dev"
	"$AGENT" --once --sources=hwrng --hwrng-device="$dev" >"$TMP/out" 2>&1 &&
		{ cat "$TMP/out"; fail "$dev: --once succeeded from a constant source"; }
	cat "$TMP/out"
	grep -q 'Source hwrng: 0 bytes read, 0 bits credited, 1 health failures' "$TMP/out" ||
		fail "$dev: health failure not counted or bits credited"
	grep -q 'credited 0 bits in 0 bytes' "$TMP/out" || fail "$dev: something was credited"
done
echo "PASS"
