#!/bin/sh
# A hwrng that never answers (a FIFO with a silent writer) must not hang the
# agent: it falls back to RDRAND within 1 s.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
has_flag rdrand || skip "no RDRAND on this CPU"

mkfifo "$TMP/hwrng"
exec 3<>"$TMP/hwrng" # a writer that never writes: reads block forever
start=$(ms_now)
"$AGENT" --once --sources=hwrng,rdrand --hwrng-device="$TMP/hwrng" --hwrng-timeout=500 \
	>"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "--once exited $?"; }
elapsed=$(($(ms_now) - start))
exec 3>&-
cat "$TMP/out"
echo "elapsed: $elapsed ms"
grep -q 'Source hwrng: 0 bytes read, 0 bits credited, 0 health failures, 1 errors, state quarantined' \
	"$TMP/out" || fail "hwrng not quarantined after its deadline"
grep -q 'Source rdrand: [1-9][0-9]* bytes read, [1-9][0-9]* bits credited' "$TMP/out" ||
	fail "no fallback to rdrand"
[ "$elapsed" -lt 1000 ] || fail "fallback took $elapsed ms (limit 1000 ms)"

# The daemon comes back to the device once it answers again.
mkfifo "$TMP/hwrng2"
exec 4<>"$TMP/hwrng2"
"$AGENT" --sources=hwrng,rdrand --hwrng-device="$TMP/hwrng2" --hwrng-timeout=300 \
	--reseed-interval=1 >"$TMP/daemon" 2>&1 &
pid=$!
PIDS=$pid
sleep 2
head -c 262144 /dev/urandom >&4 &
PIDS="$PIDS $!"
sleep 4
kill -USR1 "$pid"
sleep 0.3
kill "$pid"
wait "$pid"
exec 4>&-
cat "$TMP/daemon"
grep -q 'Source hwrng: [1-9][0-9]* bytes read, [1-9][0-9]* bits credited, 0 health failures, 1 errors' \
	"$TMP/daemon" || fail "hwrng not used again after it answered"
echo "PASS"
