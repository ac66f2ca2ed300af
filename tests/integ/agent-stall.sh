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

# The daemon comes back to the device once it answers again.  How many
# deadlines pass before it is read again depends on scheduling, so poll.
mkfifo "$TMP/hwrng2"
exec 4<>"$TMP/hwrng2"
"$AGENT" --sources=hwrng,rdrand --hwrng-device="$TMP/hwrng2" --hwrng-timeout=300 \
	--reseed-interval=1 >"$TMP/daemon" 2>&1 &
pid=$!
PIDS=$pid
wait_log "$TMP/daemon" 'Source hwrng: .*retry in' 5 || fail "no deadline logged"
head -c 262144 /dev/urandom >&4 &
PIDS="$PIDS $!"
used='Source hwrng: [1-9][0-9]* bytes read, [1-9][0-9]* bits credited, 0 health failures, [1-9][0-9]* errors'
for _ in $(seq 30); do
	sleep 0.5
	kill -USR1 "$pid"
	wait_log "$TMP/daemon" "$used" 1 && break
done
kill "$pid"
wait "$pid"
exec 4>&-
cat "$TMP/daemon"
grep -q "$used" "$TMP/daemon" || fail "hwrng not used again after it answered"
echo "PASS"
