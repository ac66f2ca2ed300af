# Shared by the integration scripts: locate the binaries, skip unless root.
# shellcheck shell=sh
: "${top_builddir:=.}"
# shellcheck disable=SC2034 # used by the scripts that source this file
AGENT=${VIRTSEEDD:-$top_builddir/agent/virtseedd}
TMP=$(mktemp -d)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root (RNDADDENTROPY, /dev/hwrng)"; }
has_flag() { grep -q -w "$1" /proc/cpuinfo; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }
# wait_log FILE PATTERN [SECONDS]: poll until FILE has a line matching PATTERN.
wait_log() {
	i=0
	until grep -q "$2" "$1"; do
		i=$((i + 1))
		[ $i -le $((${3:-10} * 10)) ] || return 1
		sleep 0.1
	done
}
