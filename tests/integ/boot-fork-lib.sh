# shellcheck shell=bash disable=SC2154,SC2034 # top_srcdir etc. come from boot-lib.sh; FORK_* are for the callers
# boot-fork-lib.sh: VM fork tests and bench/fork.sh (sourced after boot-lib.sh, not a test).
# A busybox guest (Debian's 6.1 kernel, or KERNEL=bzImage) runs virtseedd as a daemon with
# its log in the kernel log (so each agent line has a printk timestamp next to the kernel's
# fork notice), is snapshotted over QMP and restored as clones; each clone is a new QEMU
# process with -incoming and a new vmgenid GUID.  FORK_QEMU (array): extra QEMU arguments
# for every run (devices, CPU).  FORK_AGENT_ARGS: agent flags.  FORK_REBOOT=1: the guest
# reboots itself after 8 s (QEMU keeps running, same vmgenid GUID).  FORK_NOAGENT=1: the
# guest runs no agent.

# trust_cpu=off: the agent credits RDRAND only as told (virtseed.credit-rdrand).
FORK_APPEND="console=ttyS0 loglevel=8 printk.devkmsg=on panic=-1 random.trust_cpu=off random.trust_bootloader=off virtseed.credit-rdrand=4"

# fork_init: what every fork test needs first: boot_init, the binaries, the image, the
# shared QEMU lock (held until the script exits).
fork_init() {
	boot_init
	need_bins
	[ -x /bin/busybox ] || skip "no /bin/busybox (busybox-static)"
	fork_image "$BOOT_WORK/fork.img"
	exec 9>"$BOOT_CACHE/qemu.lock"
	flock 9
}

# fork_image OUT: the busybox initramfs with the agent as a daemon.
fork_image() {
	local out=$1 init=$BOOT_WORK/fork-init
	cat >"$init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/modules/$m" 2>/dev/null; done </modules/order
args=$(sed -n 's/.*forktest.args="\([^"]*\)".*/\1/p' /proc/cmdline)
echo "FORKTEST start args=$args" >/dev/kmsg
# shellcheck disable=SC2086
grep -q forktest.noagent /proc/cmdline || /sbin/virtseedd $args 2>/dev/kmsg &
grep -q forktest.reboot /proc/cmdline && { sleep 8; echo "FORKTEST reboot" >/dev/kmsg; reboot -f; }
while :; do sleep 1000; done
INIT
	MODULES="virtio_pci virtio_rng" sh "$top_srcdir/tests/guest/busybox-initramfs.sh" \
		"$out" "$BOOT_KDIR" "$init" "$VIRTSEEDD:/sbin/virtseedd" >/dev/null ||
		fail "cannot build the fork test image"
}

# fork_qemu NAME CONSOLE [QEMU_ARGS...]: start a guest in the background (FORK_PID), QMP on
# $BOOT_WORK/NAME.qmp.  Holds the shared QEMU lock while any guest of the test runs.
fork_qemu() {
	local name=$1 console=$2 noreboot=(-no-reboot)
	shift 2
	[ -z "${FORK_REBOOT:-}" ] || noreboot=()
	rm -f "$BOOT_WORK/$name.qmp"
	: >"$console"
	timeout 300 qemu-system-x86_64 -machine q35 -accel tcg -m 256 -smp 1 -nographic \
		"${noreboot[@]}" -name "guest=$name" \
		-kernel "${KERNEL:-$BOOT_KDIR/vmlinuz}" -initrd "$BOOT_WORK/fork.img" \
		-append "$FORK_APPEND ${FORK_REBOOT:+forktest.reboot} ${FORK_NOAGENT:+forktest.noagent} forktest.args=\"${FORK_AGENT_ARGS:-}\"" \
		-qmp "unix:$BOOT_WORK/$name.qmp,server=on,wait=off" "${FORK_QEMU[@]}" "$@" \
		</dev/null >"$console" 2>&1 &
	FORK_PID=$!
	BOOT_PIDS="${BOOT_PIDS:-} $FORK_PID"
}

fork_wait() { # FILE REGEX SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

fork_stop() {
	kill "$FORK_PID" 2>/dev/null
	wait "$FORK_PID" 2>/dev/null
	BOOT_PIDS=${BOOT_PIDS// $FORK_PID/}
}

# fork_base READY_REGEX: boot the template guest until READY_REGEX, let it run FORK_SETTLE s
# more (default 1), snapshot it to $BOOT_WORK/state.  The template must not have seen a fork.
fork_base() {
	local log=$BOOT_WORK/base.log
	fork_qemu base "$log"
	fork_wait "$log" "$1" 120 || { tail -30 "$log"; fail "template: no '$1'"; }
	sleep "${FORK_SETTLE:-1}"
	/usr/bin/python3 "$top_srcdir/tests/integ/qmp-fork.py" snapshot "$BOOT_WORK/base.qmp" \
		"$BOOT_WORK/state" || fail "template: snapshot failed"
	fork_stop
	[ -z "${BOOT_LOGS:-}" ] || { mkdir -p "$BOOT_LOGS"; tr -d '\r' <"$log" >"$BOOT_LOGS/base.log"; }
	! grep -q 'virtual machine fork' "$log" || fail "template: a fork before the snapshot"
}

# fork_clone NAME WAIT_REGEX SECONDS: restore the snapshot, cont, wait for WAIT_REGEX; sets
# FORK_CONT_MS (host wall-clock ms at cont), FORK_WAITED (0 if the regex never showed).
fork_clone() {
	local log=$BOOT_WORK/$1.log
	fork_qemu "$1" "$log" -incoming "exec:cat $BOOT_WORK/state"
	FORK_CONT_MS=$(/usr/bin/python3 "$top_srcdir/tests/integ/qmp-fork.py" cont \
		"$BOOT_WORK/$1.qmp") || fail "$1: cont failed"
	FORK_WAITED=1
	fork_wait "$log" "$2" "$3" || FORK_WAITED=0
	sleep 0.5
	fork_stop
	tr -d '\r' <"$log" >"$log.txt"
}

# fork_delay_ms LOG: printk time from the kernel's fork notice to the agent's reseed line.
fork_delay_ms() {
	local a b
	a=$(log_ts 'random: crng reseeded due to virtual machine fork' "$1")
	b=$(log_ts 'virtseed: VM fork: reseeded from' "$1")
	[ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'
}

fork_digest() {
	sed -n 's/.*VM fork: SHA-256 of the bytes added begins \([0-9a-f]*\).*/\1/p' "$1" | head -n1
}

# run_variant NAME SOURCE_REGEX READY_REGEX METHOD: a template and two clones; each clone's
# agent must reseed from SOURCE_REGEX, noticed by METHOD ("kernel log", "vmgenid generation
# counter"), on average within 100 ms of the kernel's notice and each within FORK_MAX_MS
# (default 150: a TCG guest on a machine busy with the rest of make -j2); the clones' bytes
# differ.
run_variant() {
	local name=$1 src=$2 method=$4 c log ms self d1 d2 sum=0
	fork_base "$3"
	for c in 1 2; do
		fork_clone "$name-clone$c" 'virtseed: VM fork: reseeded from|VM fork: no source' 30
		log=$BOOT_WORK/$name-clone$c.log.txt
		[ -n "${BOOT_LOGS:-}" ] && mkdir -p "$BOOT_LOGS" && cp "$log" "$BOOT_LOGS/"
		grep -q 'random: crng reseeded due to virtual machine fork' "$log" ||
			{ tail -20 "$log"; fail "$name clone $c: the kernel logged no fork"; }
		[ "$FORK_WAITED" = 1 ] || { tail -20 "$log"; fail "$name clone $c: no fork reseed"; }
		grep -qE "virtseed: VM fork: reseeded from $src, [0-9]+ bytes \(([0-9]+) bits" "$log" ||
			{ grep 'VM fork' "$log"; fail "$name clone $c: not reseeded from $src"; }
		grep -q "VM fork: reseeded from .*($method); forks 1, fork reseeds 1" "$log" ||
			fail "$name clone $c: counters or method wrong"
		ms=$(fork_delay_ms "$log")
		self=$(sed -n 's/.*bits credited), \([0-9.]*\) ms after.*/\1/p' "$log")
		note "$name clone $c: reseed $ms ms after the kernel's notice (agent says $self ms)"
		awk -v m="$ms" -v max="${FORK_MAX_MS:-150}" 'BEGIN { exit !(m <= max) }' ||
			fail "$name clone $c: reseeded $ms ms after the notice (> ${FORK_MAX_MS:-150})"
		sum=$(awk -v s="$sum" -v m="$ms" 'BEGIN { print s + m }')
		eval "d$c=\$(fork_digest \"\$log\")"
	done
	awk -v s="$sum" 'BEGIN { exit !(s / 2 <= 100) }' ||
		fail "$name: the clones reseeded $(awk -v s="$sum" 'BEGIN { print s / 2 }') ms after the notice on average (> 100)"
	[ -n "$d1" ] && [ -n "$d2" ] || fail "$name: no digest at debug level"
	[ "$d1" != "$d2" ] || fail "$name: both clones added the same bytes ($d1)"
	note "$name: clones added different bytes (SHA-256 $d1... vs $d2...)"
	! grep -qE '([0-9a-f]{2} ){8}|bytes: [0-9a-f]{32}' "$BOOT_WORK/$name-clone1.log.txt" ||
		fail "$name: something looks like logged bytes"
}
