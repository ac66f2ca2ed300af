#!/bin/sh
# Idle cost after seeding: wakeups (context switches) and CPU time of virtseedd
# against rngd (rng-tools5), jitterentropy-rngd and haveged, started side by
# side on this kernel and measured over the same window (default 600 s).
#   bench/idle-cost.sh [SECONDS]        (as root; builds must exist in $top_builddir)
# Two virtseedd instances run: "auto" (defaults: here the kernel's hwrng thread
# feeds virtio-rng, so the goal is 0 wakeups) and "reseed60" (RDSEED/RDRAND with
# reseed-interval=60: the goal is exactly one wakeup per 60 s).  A third, "kmsg", watches the
# kernel log for VM forks (fork-detect=kmsg, as on a stock kernel with a vmgenid device): it
# wakes once per kernel log record and for nothing else.  So that there are records to count,
# the script writes one line to /dev/kmsg every 10 s of the window; the kernel's own records
# count too (the sequence numbers before and after give the total).  Goal: 1.0 wakeups per
# kernel log line, 0 on timers.
set -eu
duration=${1:-600}
settle=5
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)/_build/werror}
agent=${VIRTSEEDD:-$top_builddir/agent/virtseedd}
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 77; }
[ -x "$agent" ] || { echo "bench: build first ($agent missing)" >&2; exit 77; }
tmp=$(mktemp -d)
pids=
# shellcheck disable=SC2154 # p is the trap's own loop variable
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

start_fg() { # name, command...
	name=$1
	shift
	"$@" >"$tmp/$name.log" 2>&1 &
	echo "$name $!" >>"$tmp/procs"
	pids="$pids $!"
}

start_pidfile() { # name, pidfile, command...
	name=$1 pidfile=$2
	shift 2
	"$@" >"$tmp/$name.log" 2>&1 || true
	sleep 1
	pid=$(cat "$pidfile" 2>/dev/null || true)
	[ -n "$pid" ] || { echo "bench: $name did not start (another instance running?)" >&2; exit 1; }
	echo "$name $pid" >>"$tmp/procs"
	pids="$pids $pid"
}

# Voluntary + involuntary context switches over all threads, and utime+stime in ticks.
sample() { # pid -> "switches ticks"
	sw=0
	for st in /proc/"$1"/task/*/status; do
		v=$(awk '/^voluntary_ctxt_switches|^nonvoluntary_ctxt_switches/ {s += $2} END {print s}' "$st")
		sw=$((sw + v))
	done
	ticks=$(awk '{print $14 + $15}' "/proc/$1/stat")
	echo "$sw $ticks"
}

start_fg virtseedd-auto "$agent"
start_fg virtseedd-reseed60 "$agent" --sources=rdseed,rdrand --reseed-interval=60 --fork-detect=off
start_fg virtseedd-kmsg "$agent" --fork-detect=kmsg
command -v rngd >/dev/null && start_fg rngd rngd -f -p "$tmp/rngd.pid"
command -v jitterentropy-rngd >/dev/null &&
	start_pidfile jitterentropy-rngd "$tmp/jent.pid" jitterentropy-rngd -p "$tmp/jent.pid"
command -v haveged >/dev/null && start_fg haveged haveged -F -p "$tmp/haveged.pid"
sleep "$settle"
while read -r name pid; do
	echo "$name $pid $(sample "$pid")" >>"$tmp/before"
done <"$tmp/procs"
# The sequence number of the newest kernel log record.
kmsg_seq() {
	timeout 1 cat /dev/kmsg 2>/dev/null | grep -v '^ ' | tail -n1 | cut -d, -f2
}
seq0=$(kmsg_seq)
echo "measuring $duration s ..." >&2
end=$(($(date +%s) + duration))
while [ "$(date +%s)" -lt "$end" ]; do
	sleep $((end - $(date +%s) < 10 ? end - $(date +%s) : 10))
	[ "$(date +%s)" -lt "$end" ] && echo "bench/idle-cost: one kernel log line" >/dev/kmsg
done
lines=$(($(kmsg_seq) - seq0))
hz=$(getconf CLK_TCK)
printf '%-20s %10s %12s %12s %14s\n' process wakeups "wakeups/h" "cpu ms" "wakeups vs ours"
ours=
while read -r name pid sw0 t0; do
	# shellcheck disable=SC2046 # two numbers, split on purpose
	set -- $(sample "$pid")
	wk=$(($1 - sw0))
	cpu=$(((${2} - t0) * 1000 / hz))
	[ -n "$ours" ] || ours=$wk
	if [ "$ours" -gt 0 ]; then ratio=$(awk -v a="$wk" -v b="$ours" 'BEGIN {printf "%.1fx", a / b}')
	else ratio="+$wk"; fi
	printf '%-20s %10d %12d %12d %14s\n' "$name" "$wk" $((wk * 3600 / duration)) "$cpu" "$ratio"
	echo "$name $wk" >>"$tmp/result"
done <"$tmp/before"
auto=$(awk '$1 == "virtseedd-auto" {print $2}' "$tmp/result")
km=$(awk '$1 == "virtseedd-kmsg" {print $2}' "$tmp/result")
r60=$(awk '$1 == "virtseedd-reseed60" {print $2}' "$tmp/result")
echo "goal: virtseedd-auto 0 wakeups (kernel hwrng thread feeds; fork detection as auto picks it): $auto"
echo "goal: virtseedd-reseed60 $((duration / 60)) wakeups (one per 60 s): $r60"

# A quarantined source that answers late (EGD reply 300 ms after its 100 ms deadline) must
# not keep the agent busy: CPU time in the 10 s after the late answer, goal <= 10 ms.
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 "$(dirname "$0")/../tests/integ/agent-luck.py" "$agent" late_egd 10 |
		sed -n 's/^  //p'
	echo "goal: <= 10 ms of CPU in the 10 s after a late answer"
fi
awk -v w="$km" -v l="$lines" 'BEGIN { printf "virtseedd-kmsg: %d wakeups for %d kernel log lines: %.2f wakeups per line (goal 1.00)\n", w, l, l ? w / l : 0 }'
