#!/bin/sh
# The agent's EGD source against the real distributor on a unix socket: it is
# credited; when the distributor stops answering, the agent falls back to
# RDRAND within its deadline; when it answers again, the agent uses it again.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
EGD=$top_builddir/egd/virtseed-egd
[ -x "$EGD" ] || skip "virtseed-egd not built"

"$EGD" --listen "unix:$TMP/egd.sock" --stats-socket "$TMP/stats.sock" >"$TMP/egd.log" 2>&1 &
egd=$!
PIDS=$egd
i=0
until [ -S "$TMP/egd.sock" ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || { cat "$TMP/egd.log"; fail "distributor did not start"; }
	sleep 0.1
done

"$AGENT" --once --sources=egd --egd="unix:$TMP/egd.sock" >"$TMP/once" 2>&1 ||
	{ cat "$TMP/once" "$TMP/egd.log"; fail "--once from egd failed"; }
cat "$TMP/once"
grep -q 'Source egd: [1-9][0-9]* bytes read, [1-9][0-9]* bits credited' "$TMP/once" ||
	fail "egd bytes not credited"
"$EGD" --stats "$TMP/stats.sock" | grep -q 'bytes' || fail "no stats from the distributor"

if has_flag rdrand; then
	kill -STOP "$egd"
	start=$(ms_now)
	"$AGENT" --once --sources=egd,rdrand --egd="unix:$TMP/egd.sock" --egd-timeout=300 \
		>"$TMP/stall" 2>&1 || { cat "$TMP/stall"; fail "--once with a stalled egd failed"; }
	elapsed=$(($(ms_now) - start))
	kill -CONT "$egd"
	cat "$TMP/stall"
	echo "elapsed with a stalled distributor: $elapsed ms"
	grep -q 'Source egd: 0 bytes read.*1 errors, state quarantined' "$TMP/stall" ||
		fail "stalled egd not quarantined"
	grep -q 'Source rdrand: [1-9][0-9]* bytes read' "$TMP/stall" || fail "no fallback to rdrand"
	[ "$elapsed" -lt 1000 ] || fail "fallback took $elapsed ms"
fi
echo "PASS"
