#!/bin/sh
# The running daemon keeps exactly CAP_SYS_ADMIN, plus CAP_SYSLOG when it watches the kernel
# log for VM forks (fork-detect=kmsg: /dev/kmsg under dmesg_restrict), in every set; nothing
# in the inheritable, bounding and ambient sets; no new privileges.  SIGUSR1 logs the
# counters, the fork counters included.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
has_flag rdrand || skip "no RDRAND on this CPU"

# check_caps FORK_DETECT WANT_HEX
check_caps() {
	log=$TMP/log-$1
	"$AGENT" --sources=rdrand --reseed-interval=0 --fork-detect="$1" >"$log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	wait_log "$log" 'virtseed: seeded' || { cat "$log"; fail "$1: daemon did not report seeding"; }
	grep Cap "/proc/$pid/status" | sed "s/^/$1: /"
	for set in CapEff CapPrm; do
		v=$(awk -v k="$set:" '$1 == k {print $2}' "/proc/$pid/status")
		[ "$v" = "$2" ] || fail "fork-detect=$1: $set is $v, want $2"
	done
	for set in CapInh CapBnd CapAmb; do
		v=$(awk -v k="$set:" '$1 == k {print $2}' "/proc/$pid/status")
		[ "$v" = 0000000000000000 ] || fail "fork-detect=$1: $set is $v, want empty"
	done
	v=$(awk '$1 == "NoNewPrivs:" {print $2}' "/proc/$pid/status")
	[ "$v" = 1 ] || fail "NoNewPrivs is $v"
	kill -USR1 "$pid"
	wait_log "$log" 'virtseed: counters:.* 0 forks, 0 fork reseeds' ||
		{ cat "$log"; fail "SIGUSR1 did not log the counters"; }
	kill "$pid"
	wait "$pid" || fail "daemon exited $? on SIGTERM"
	grep -q 'virtseed: exiting:' "$log" || fail "no counters at exit"
}

# CAP_SYS_ADMIN = bit 21, CAP_SYSLOG = bit 34.
check_caps kmsg 0000000400200000
grep -q 'VM fork detection: kernel log' "$TMP/log-kmsg" || fail "kmsg: detection not reported"
check_caps off 0000000000200000
echo "PASS"
