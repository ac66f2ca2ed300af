# shellcheck shell=bash
# boot-lib.sh: shared by tests/integ/boot-*.sh and bench/boot (sourced, not a test).
# Boots Debian's 6.1 kernel under TCG with an initramfs (dracut or initramfs-tools) plus an
# appended overlay cpio that carries the entropy-boot tracer as rdinit, and judges the boot
# from its console log (QEMU exits 0 even when killed, so markers are all that count).
# A fixed -uuid, as libvirt always sets one: systemd then takes the initrd's machine ID from
# it instead of from a blocking getrandom(), which would seed the kernel by jitter.
# Environment: top_srcdir, top_builddir (from make check), VIRTSEEDD, VIRTSEED_EGD and
# VIRTSEED_PREINIT (binaries, default: found in top_builddir), VIRTSEED_CACHE (default
# /var/cache/virtseed-tests),
# BOOT_LOGS (keep console logs there), CC.
# One QEMU at a time: boots take a lock in the cache directory.

top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
BOOT_CACHE=${VIRTSEED_CACHE:-/var/cache/virtseed-tests}
BOOT_APPEND_BASE="console=ttyS0 rdinit=/entropy-boot root=/dev/vda rootdelay=600 panic=-1 rd.shell=0"
BOOT_APPEND_BASE+=" random.trust_cpu=off random.trust_bootloader=off"
BOOT_APPEND_BASE+=" systemd.show_status=1 entropy_boot.poweroff=1"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
note() { echo "# $*"; }

# find_bin NAME: a built binary, or nothing.
find_bin() {
	local d
	for d in "$top_builddir" "$top_builddir/agent" "$top_builddir/egd" "$top_builddir/initramfs"; do
		[ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}

boot_init() {
	[ -z "${VIRTSEED_SKIP_E2E:-}" ] || skip "guest boots run once per suite (VIRTSEED_SKIP_E2E)"
	[ "$(id -u)" = 0 ] || skip "needs root (dracut, unshare)"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing"
	BOOT_WORK=$(mktemp -d)
	trap 'boot_cleanup' EXIT
	BOOT_KDIR=$(sh "$top_srcdir/tests/guest/fetch-kernel.sh" "$BOOT_CACHE") ||
		skip "cannot fetch Debian's kernel"
	VIRTSEEDD=${VIRTSEEDD:-$(find_bin virtseedd)} || VIRTSEEDD=
	VIRTSEED_EGD=${VIRTSEED_EGD:-$(find_bin virtseed-egd)} || VIRTSEED_EGD=
	VIRTSEED_PREINIT=${VIRTSEED_PREINIT:-$(find_bin virtseed-preinit)} || VIRTSEED_PREINIT=
	export VIRTSEED_PREINIT
	boot_overlay
}

boot_cleanup() {
	local pid
	for pid in ${BOOT_PIDS:-}; do
		kill -CONT "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "$BOOT_WORK"
}

# The tracer, static, cached by source hash; and the overlay cpio carrying it.
boot_overlay() {
	local src=$top_srcdir/tests/guest/entropy-boot.c key bin root
	key=$(sha256sum "$src" | cut -c1-16)
	bin=$BOOT_CACHE/entropy-boot-$key
	mkdir -p "$BOOT_CACHE"
	if [ ! -x "$bin" ]; then
		"${CC:-cc}" -static -O2 -Wall -Wextra -Werror -o "$bin.tmp" "$src" ||
			fail "cannot build the entropy-boot tracer"
		mv "$bin.tmp" "$bin"
	fi
	root=$BOOT_WORK/overlay
	mkdir -p "$root"
	cp "$bin" "$root/entropy-boot"
	(cd "$root" && echo entropy-boot | cpio -o -H newc --quiet) >"$BOOT_WORK/overlay.cpio"
}

# boot_image KIND FLAVOR: print the initramfs path (KIND dracut or itools); needs VIRTSEEDD
# unless FLAVOR is a -none one.
boot_image() {
	local agent=${VIRTSEEDD:-/bin/false}
	[ -n "$VIRTSEED_PREINIT" ] || skip "virtseed-preinit not built"
	case $1 in
	dracut)
		bash "$top_srcdir/tests/guest/dracut-image.sh" "$BOOT_KDIR" "$2" "$agent" ;;
	itools) sh "$top_srcdir/tests/guest/initramfs-tools-image.sh" "$BOOT_KDIR" "$2" "$agent" ;;
	esac
}

# boot_run IMAGE LOG APPEND [QEMU_ARGS...]: boot once; the tracer powers the guest off
# (entropy_boot.max, .min, .hold in APPEND), a hard timeout backs it up.  If the array
# BOOT_UNTIL holds regexes, the boot is cut short once the console has matched all of them,
# after running the command BOOT_ON_STOP (if set) while the guest still runs; the console
# so far is in $BOOT_RAW.
boot_run() {
	local img=$1 log=$2 append=$3 max pid re all
	shift 3
	max=$(sed -n 's/.*entropy_boot\.max=\([0-9]*\).*/\1/p' <<<"$append")
	# Zero padding between archives: the kernel skips it and needs the next one aligned.
	{ cat "$img"; head -c $((512 - $(stat -c %s "$img") % 512)) /dev/zero
	  cat "$BOOT_WORK/overlay.cpio"; } >"$BOOT_WORK/initrd.img"
	exec 9>"$BOOT_CACHE/qemu.lock"
	flock 9
	timeout $((${max:-60} + 90)) qemu-system-x86_64 -machine q35 -accel tcg -m 768 -smp 1 \
		-nographic -no-reboot -uuid 8b2ae5c6-2d5a-4a55-9e34-7d5bbfa1c0de \
		-kernel "$BOOT_KDIR/vmlinuz" -initrd "$BOOT_WORK/initrd.img" \
		-append "$BOOT_APPEND_BASE $append" "$@" </dev/null >"$log.raw" 2>&1 &
	pid=$!
	BOOT_RAW=$log.raw
	while [ "${#BOOT_UNTIL[@]}" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.3
		all=1
		for re in "${BOOT_UNTIL[@]}"; do
			grep -qE "$re" "$log.raw" || { all=; break; }
		done
		[ -n "$all" ] || continue
		sleep 0.5
		[ -z "${BOOT_ON_STOP:-}" ] || "$BOOT_ON_STOP"
		kill "$pid"
		break
	done
	wait "$pid"
	exec 9>&-
	tr -d '\r' <"$log.raw" >"$log"
	rm -f "$log.raw"
	if [ -n "${BOOT_LOGS:-}" ]; then
		mkdir -p "$BOOT_LOGS"
		cp "$log" "$BOOT_LOGS/"
	fi
}
BOOT_UNTIL=()
export BOOT_RAW=

# seeded_ms LOG: the agent's own "seeded ... after N ms".
seeded_ms() {
	sed -n 's/.*virtseed: seeded: .* after \([0-9]*\) ms.*/\1/p' "$1" | head -n1
}

# Kernel timestamp (s) of the first console line matching a regex, or nothing.
log_ts() {
	sed -n "s/^\[ *\([0-9]*\.[0-9]*\)\] .*$1.*/\1/p" "$2" | head -n1
}
# Line number of the first line matching a regex, or nothing.
log_line() {
	grep -n -m1 -E "$1" "$2" | cut -d: -f1
}
# crng_after_init LOG: seconds from /init start to "crng init done", or nothing.
crng_after_init() {
	local t0 t1
	t0=$(log_ts 'entropy-boot: init' "$1")
	t1=$(log_ts 'random: crng init done' "$1")
	[ -n "$t0" ] && [ -n "$t1" ] && awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# need_bins: skip until the agent and the distributor are built.
need_bins() {
	[ -n "$VIRTSEEDD" ] || skip "virtseedd not built"
	[ -n "$VIRTSEED_EGD" ] || skip "virtseed-egd not built"
}

# egd_start NAME [ARGS...]: a real virtseed-egd on $BOOT_WORK/NAME.sock (stats on
# NAME.stats), EGD_PID set; egd_stats NAME prints its statistics.  The socket is a ",qemu"
# listener: its peers are QEMU's rng-egd and get the restart prefix on every connection
# (QEMU never resubmits requests lost with a distributor restart).
egd_start() {
	local name=$1
	shift
	rm -f "$BOOT_WORK/$name.sock"
	"$VIRTSEED_EGD" --listen "unix:$BOOT_WORK/$name.sock,qemu" \
		--stats-socket "$BOOT_WORK/$name.stats" "$@" 2>>"$BOOT_WORK/$name.egd.log" &
	EGD_PID=$!
	BOOT_PIDS="${BOOT_PIDS:-} $EGD_PID"
	for _ in $(seq 50); do
		[ -S "$BOOT_WORK/$name.sock" ] && return 0
		sleep 0.1
	done
	cat "$BOOT_WORK/$name.egd.log"
	fail "virtseed-egd did not start"
}
egd_stop() {
	kill "$EGD_PID" 2>/dev/null
	wait "$EGD_PID" 2>/dev/null
	BOOT_PIDS=${BOOT_PIDS// $EGD_PID/}
}
egd_stats() {
	"$VIRTSEED_EGD" --stats "$BOOT_WORK/$1.stats"
}
# egd_named_conf: a distributor configuration that names test guests by their QEMU's
# "-name guest=..." (peer-cmdline: spoofable, so off by default; fine for a test).
egd_named_conf() {
	printf 'peer-cmdline = yes\n' >"$BOOT_WORK/named.conf"
	echo "$BOOT_WORK/named.conf"
}
# QEMU arguments: virtio-rng fed by rng-egd from the distributor NAME.
qemu_rng_egd() {
	echo "-chardev socket,id=egd0,path=$BOOT_WORK/$1.sock,reconnect=1" \
		"-object rng-egd,id=rng0,chardev=egd0 -device virtio-rng-pci,rng=rng0"
}

# Assertions on a console log.
assert_tracer() {
	grep -q 'entropy-boot: init' "$1" || fail "the guest did not reach /init: $1"
}
assert_seeded_by_agent() {
	grep -q 'virtseed: seeded:' "$1" || fail "the agent did not report seeding: $1"
	grep -q 'random: crng init done' "$1" || fail "the kernel never reported crng init done: $1"
}
# assert_before LOG REGEX1 REGEX2: the first REGEX1 line comes before the first REGEX2 line.
assert_before() {
	local a b
	a=$(log_line "$2" "$1")
	b=$(log_line "$3" "$1")
	[ -n "$a" ] || fail "no '$2' in $1"
	[ -n "$b" ] || fail "no '$3' in $1"
	[ "$a" -lt "$b" ] || fail "'$2' (line $a) is not before '$3' (line $b) in $1"
}
# systemd skips the initrd unit when virtseed-preinit left the CRNG ready.
export PREINIT_SKIPPED='virtseed-initrd.service.*skipped.*/run/virtseed/preinit-ready'
export UDEV_TRIGGER='Starting .*systemd-udev-trigger|Coldplug All udev|Starting systemd-udevd version'
# systemd's banner as PID 1 (in the initrd: before it starts any unit).
export SYSTEMD_START='systemd\[1\]: systemd [0-9.a-z~+-]+ running'
