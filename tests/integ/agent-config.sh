#!/bin/sh
# Bad configuration is one clear error naming the key; --status and --until-ready work.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"

expect_error() { # expected-message, args...
	msg=$1
	shift
	if "$AGENT" "$@" >"$TMP/out" 2>&1; then
		fail "'$*' succeeded"
	fi
	grep -q "$msg" "$TMP/out" || { cat "$TMP/out"; fail "'$*': no '$msg'"; }
}

printf 'sources = rdrand\ncredit-rdrand = 12\n' >"$TMP/bad.conf"
expect_error "bad.conf:2: invalid line" --config="$TMP/bad.conf" --status
printf 'sources = rdrand\nbogus = 1\n' >"$TMP/bad.conf"
expect_error "bad.conf:2: unknown key" --config="$TMP/bad.conf" --status
expect_error "Unknown option '--frobnicate'" --frobnicate=1 --status
expect_error "Invalid value for --timeout" --timeout=never --status
expect_error "Failed to open configuration" --config="$TMP/missing.conf" --status
expect_error "Unexpected argument 'now'" now

need_root
printf 'sources = rdrand\ntimeout = 7\n' >"$TMP/good.conf"
"$AGENT" --config="$TMP/good.conf" --status --timeout=9 >"$TMP/status" 2>&1 ||
	{ cat "$TMP/status"; fail "--status failed"; }
cat "$TMP/status"
grep -q '^kernel RNG: ' "$TMP/status" || fail "--status lacks the kernel state"
grep -q '^timeout = 9$' "$TMP/status" || fail "flag did not win over the file"
grep -q '^sources = rdrand$' "$TMP/status" || fail "file not applied"
if grep -q 'kernel RNG:  *ready' "$TMP/status"; then
	"$AGENT" --until-ready --sources=rdrand >"$TMP/out" 2>&1 ||
		{ cat "$TMP/out"; fail "--until-ready failed on a ready kernel"; }
	grep -q 'virtseed: seeded: crng ready' "$TMP/out" || fail "--until-ready said nothing"
fi
echo "PASS"
