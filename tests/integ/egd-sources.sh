#!/bin/sh
# Every source works in the seccomp build of both binaries (issue 9, promise 6):
# virtseed-egd serves a client from it alone, virtseedd --once credits from it.
# hwrng reads a file of random bytes through its reader thread (pipes, pthread).
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
EGD=$top_builddir/egd/virtseed-egd
[ -x "$EGD" ] || skip "virtseed-egd not built"
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
grep -q '^#define HAVE_SECCOMP 1' "$top_builddir/config.h" 2>/dev/null ||
	echo "note: built without seccomp, the sources are tested without a filter"
head -c 4194304 /dev/urandom >"$TMP/hwrng.bin"

# ask SOCKET: one 02 40 request, prints the number of bytes of the reply.
ask() {
	/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"\x02\x40")
got = b""
while len(got) < 64:
    d = s.recv(64 - len(got))
    if not d:
        break
    got += d
print(len(got))' "$1"
}

# egd_serves NAME SOURCE: a distributor whose only source is SOURCE serves 64 bytes.
egd_serves() {
	dir=$TMP/$1
	mkdir -p "$dir"
	"$EGD" --config /dev/null --listen "unix:$dir/egd.sock" --stats-socket "$dir/stats.sock" \
		--source "$2" >"$dir/log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	i=0
	until [ -S "$dir/stats.sock" ]; do
		i=$((i + 1))
		[ $i -lt 50 ] || { cat "$dir/log"; fail "egd with $2 did not start"; }
		sleep 0.1
	done
	n=$(ask "$dir/egd.sock" 2>&1) || n="error: $n"
	"$EGD" --stats "$dir/stats.sock" >"$dir/stats"
	echo "egd, source $2: $n bytes; $(grep "source_bytes_total{" "$dir/stats")"
	[ "$n" = 64 ] || { cat "$dir/log"; fail "egd served $n bytes from $2"; }
	grep -q "source=\"$1\",state=\"ok\"} [1-9]" "$dir/stats" || fail "egd source $1 not ok"
	grep -q 'Operation not permitted' "$dir/log" && { cat "$dir/log"; fail "EPERM with $2"; }
	return 0
}

# agent_credits NAME ARGS...: virtseedd --once credits bytes from that source alone.
agent_credits() {
	name=$1
	shift
	"$AGENT" --once --sources="$name" "$@" >"$TMP/agent-$name" 2>&1 ||
		{ cat "$TMP/agent-$name"; fail "virtseedd --once with $name exited $?"; }
	line=$(grep "Source $name:" "$TMP/agent-$name")
	echo "virtseedd, source $name: $line"
	echo "$line" | grep -q "Source $name: [1-9][0-9]* bytes read" ||
		{ cat "$TMP/agent-$name"; fail "virtseedd read nothing from $name"; }
}

egd_serves getrandom getrandom
egd_serves hwrng "hwrng:$TMP/hwrng.bin"
egd_serves egd "egd:unix:$TMP/getrandom/egd.sock"
agent_credits hwrng --hwrng-device="$TMP/hwrng.bin"
agent_credits egd --egd="unix:$TMP/getrandom/egd.sock"
for cpu in rdrand rdseed; do
	if has_flag "$cpu"; then
		egd_serves "$cpu" "$cpu"
		agent_credits "$cpu"
	else
		echo "no $cpu in /proc/cpuinfo: its source is not tried here"
	fi
done
echo "PASS"
