#!/bin/sh
# The running daemon keeps CAP_SYS_ADMIN and nothing else, in every set.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
has_flag rdrand || skip "no RDRAND on this CPU"

"$AGENT" --sources=rdrand --reseed-interval=0 >"$TMP/log" 2>&1 &
pid=$!
PIDS=$pid
wait_log "$TMP/log" 'virtseed: seeded' || { cat "$TMP/log"; fail "daemon did not report seeding"; }
grep Cap "/proc/$pid/status"
for set in CapEff CapPrm; do
	v=$(awk -v k="$set:" '$1 == k {print $2}' "/proc/$pid/status")
	[ "$v" = 0000000000200000 ] || fail "$set is $v, want CAP_SYS_ADMIN only (0000000000200000)"
done
for set in CapInh CapBnd CapAmb; do
	v=$(awk -v k="$set:" '$1 == k {print $2}' "/proc/$pid/status")
	[ "$v" = 0000000000000000 ] || fail "$set is $v, want empty"
done
v=$(awk '$1 == "NoNewPrivs:" {print $2}' "/proc/$pid/status")
[ "$v" = 1 ] || fail "NoNewPrivs is $v"
kill -USR1 "$pid"
wait_log "$TMP/log" 'virtseed: counters:' || fail "SIGUSR1 did not log the counters"
kill "$pid"
wait "$pid" || fail "daemon exited $? on SIGTERM"
grep -q 'virtseed: exiting:' "$TMP/log" || fail "no counters at exit"
echo "PASS"
