#!/bin/sh
# --once feeds the real kernel through RNDADDENTROPY and reports what it did.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
has_flag rdrand || has_flag rdseed || skip "no RDRAND/RDSEED on this CPU"

"$AGENT" --once --sources=rdseed,rdrand >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "--once exited $?"; }
cat "$TMP/out"
grep -q 'virtseed: once: credited [1-9][0-9]* bits in [1-9][0-9]* bytes' "$TMP/out" ||
	fail "no entropy credited"
grep -q ', 1 reseeds' "$TMP/out" || fail "no RNDRESEEDCRNG after seeding"

# Without CAP_SYS_ADMIN the ioctl fails, and that is said, not hidden.
if command -v setpriv >/dev/null; then
	setpriv --inh-caps=-all --bounding-set=-sys_admin "$AGENT" --once --sources=rdrand \
		>"$TMP/noadmin" 2>&1 && fail "--once without CAP_SYS_ADMIN succeeded"
	grep -q 'Operation not permitted' "$TMP/noadmin" ||
		{ cat "$TMP/noadmin"; fail "EPERM from the ioctl not reported"; }
fi
echo "PASS"
