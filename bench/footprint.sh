#!/bin/sh
# Footprint of virtseedd next to the peers: binary size, shared libraries
# pulled in, and peak RSS (VmHWM) of the running daemon after seeding.
#   bench/footprint.sh            (as root; goal: virtseedd peak RSS <= 2 MiB)
set -eu
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)/_build/werror}
agent=${VIRTSEEDD:-$top_builddir/agent/virtseedd}
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 77; }
tmp=$(mktemp -d)
pids=
# shellcheck disable=SC2154 # p is the trap's own loop variable
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

row() { # name, binary, pid
	size=$(stat -c %s "$2")
	text=$(size "$2" | awk 'NR == 2 {print $1 + $2 + $3}')
	libs=$(ldd "$2" | grep -c '=>' || true)
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$3/status")
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$3/status")
	printf '%-20s %10d %10d %6d %10d %10d\n' "$1" "$size" "$text" "$libs" "$hwm" "$rss"
	echo "$1 $hwm" >>"$tmp/hwm"
}

"$agent" --sources=rdseed,rdrand --reseed-interval=60 >"$tmp/a.log" 2>&1 &
pids="$pids $!"
a=$!
rngd -f -p "$tmp/rngd.pid" >/dev/null 2>&1 &
pids="$pids $!"
r=$!
haveged -F -p "$tmp/haveged.pid" >/dev/null 2>&1 &
pids="$pids $!"
h=$!
jitterentropy-rngd -p "$tmp/jent.pid" >/dev/null 2>&1 || true
sleep 3
# It daemonizes: its pid comes from the pidfile (empty if another instance already runs).
j=$(cat "$tmp/jent.pid" 2>/dev/null || true)
[ -n "$j" ] || { echo "bench: jitterentropy-rngd did not start (another instance running?)" >&2; exit 1; }
pids="$pids $j"
printf '%-20s %10s %10s %6s %10s %10s\n' process "file B" "text B" libs "peak KiB" "rss KiB"
row virtseedd "$agent" "$a"
row rngd "$(command -v rngd)" "$r"
row haveged "$(command -v haveged)" "$h"
row jitterentropy-rngd "$(command -v jitterentropy-rngd)" "$j"
ours=$(awk '$1 == "virtseedd" {print $2}' "$tmp/hwm")
echo "goal: virtseedd peak RSS <= 2048 KiB: $ours KiB"
ldd "$agent" | awk '{print "  " $1}'
