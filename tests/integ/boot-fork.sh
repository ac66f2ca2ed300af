#!/bin/bash
# VM fork: a busybox guest (Debian's 6.1 kernel, -device vmgenid) runs virtseedd as a daemon;
# it is snapshotted and restored as two clones.  Each clone's kernel logs its fork notice
# and its agent must log a fork reseed from a fresh source within 100 ms of it (printk
# timestamps of both lines), and the bytes the two agents added must differ (their SHA-256,
# logged at debug level; never the bytes).  Two guests: virtio-rng fed by virtseed-egd
# (the kernel's hwrng thread credits it, so the agent reads /dev/hwrng once per fork) and
# RDRAND only (-cpu max, no virtio-rng).
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
# shellcheck source=tests/integ/boot-fork-lib.sh
. "$(dirname "$0")/boot-fork-lib.sh"
boot_init
need_bins
[ -x /bin/busybox ] || skip "no /bin/busybox (busybox-static)"
fork_image "$BOOT_WORK/fork.img"
FORK_AGENT_ARGS="--log-level=debug --reseed-interval=0"
exec 9>"$BOOT_CACHE/qemu.lock"
flock 9

# run_variant NAME SOURCE_REGEX READY_REGEX
run_variant() {
	local name=$1 src=$2 c log ms self d1 d2
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
		grep -q 'VM fork: reseeded from .*(kernel log); forks 1, fork reseeds 1' "$log" ||
			fail "$name clone $c: counters or method wrong"
		ms=$(fork_delay_ms "$log")
		self=$(sed -n 's/.*bits credited), \([0-9.]*\) ms after.*/\1/p' "$log")
		note "$name clone $c: reseed $ms ms after the kernel's notice (agent says $self ms)"
		awk -v m="$ms" 'BEGIN { exit !(m <= 100) }' ||
			fail "$name clone $c: reseeded $ms ms after the notice (> 100)"
		eval "d$c=\$(fork_digest \"\$log\")"
	done
	[ -n "$d1" ] && [ -n "$d2" ] || fail "$name: no digest at debug level"
	[ "$d1" != "$d2" ] || fail "$name: both clones added the same bytes ($d1)"
	note "$name: clones added different bytes (SHA-256 $d1... vs $d2...)"
	! grep -qE '([0-9a-f]{2} ){8}|bytes: [0-9a-f]{32}' "$BOOT_WORK/$name-clone1.log.txt" ||
		fail "$name: something looks like logged bytes"
}

if [[ ${FORK_VARIANTS:-egd rdrand} == *egd* ]]; then
	egd_start fork
	# shellcheck disable=SC2207
	FORK_QEMU=(-cpu qemu64 -device "vmgenid,id=vg0" $(qemu_rng_egd fork))
	run_variant egd hwrng 'start-up test passed'
	egd_stop
fi
if [[ ${FORK_VARIANTS:-egd rdrand} == *rdrand* ]]; then
	FORK_QEMU=(-cpu max -device "vmgenid,id=vg0")
	run_variant rdrand 'rd(rand|seed)' 'virtseed: seeded:'
fi
echo "ok: VM fork reseeds within 100 ms in both clones, different bytes"
