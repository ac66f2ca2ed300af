#!/bin/bash
# Scenario 4, faults.  (a) The distributor behind the guest's virtio-rng stalls (SIGSTOP)
# during boot (dracut+systemd and initramfs-tools images): the agent must not hang on
# /dev/hwrng but fall back to RDRAND (-cpu max), within
# its hwrng deadline, and the boot goes on to udev's coldplug.  (b) The distributor is killed
# and restarted under a running guest: the guest's /dev/hwrng reads resume within 2 s (QEMU
# never resubmits lost requests; the distributor's restart prefix recovers them).
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
boot_init
need_bins
img=$(boot_image dracut systemd) || fail "image build failed"

# (a) stall, in the dracut+systemd image and in the initramfs-tools one (where the wrapper
# runs before initramfs-tools' /init, which says "Loading, please wait..." first).
stall() { # KIND FLAVOR
	local log=$BOOT_WORK/faults-stall-$1.log simg ms
	simg=$(boot_image "$1" "$2") || fail "image build failed"
	egd_start s4
	kill -STOP "$EGD_PID"
	BOOT_UNTIL=('virtseed: (seeded|not seeded):' "$UDEV_TRIGGER")
	# shellcheck disable=SC2046 # word splitting of the QEMU arguments is wanted
	boot_run "$simg" "$log" "entropy_boot.max=60 entropy_boot.hold=60 virtseed.credit-rdrand=4" \
		-cpu max -name guest=boot-s4a $(qemu_rng_egd s4)
	kill -CONT "$EGD_PID"
	egd_stop
	assert_tracer "$log"
	assert_seeded_by_agent "$log"
	grep -q 'virtseed: seeded:.*rdrand=[1-9][0-9]* bits' "$log" || fail "stall: no RDRAND fallback"
	# The pre-init wrapper loaded virtio_rng, gave the kernel 500 ms, then ran the agent.
	assert_before "$log" 'virtseed-preinit: virtio-rng: CRNG not ready after 500 ms' \
		'virtseed: seeded:'
	assert_before "$log" 'virtseed: seeded:' "Loading, please wait|$SYSTEMD_START"
	[ "$(grep -c 'virtseed: seeded:' "$log")" = 1 ] || fail "stall $1: the agent ran twice"
	ms=$(seeded_ms "$log")
	[ "${ms:-99999}" -le 1500 ] ||
		fail "stall $1: the agent took ${ms} ms (> hwrng-timeout 500 ms + 1 s)"
	assert_before "$log" 'random: crng init done' "$UDEV_TRIGGER"
	note "stall $1: agent seeded from RDRAND in $ms ms"
}
stall itools virtseed
stall dracut systemd

# (b) restart under a running guest
egd_start s4
reads() { grep -cE 'entropy-boot: hwrng,[0-9]+,64' "$BOOT_RAW"; }
restart() {
	local before t0 i
	egd_stop
	sleep 1
	before=$(reads)
	t0=$(date +%s%N)
	egd_start s4
	for i in $(seq 100); do
		[ "$(reads)" -gt "$before" ] && break
		sleep 0.05
	done
	RESUMED_MS=$((($(date +%s%N) - t0) / 1000000))
	[ "$i" -lt 100 ] || RESUMED_MS=
}
BOOT_UNTIL=('entropy-boot: hwrng,[0-9]+,64')
BOOT_ON_STOP=restart
log=$BOOT_WORK/faults-restart.log
# shellcheck disable=SC2046
boot_run "$img" "$log" "entropy_boot.max=60 entropy_boot.hold=60 entropy_boot.hwrng=1" \
	-name guest=boot-s4b $(qemu_rng_egd s4)
[ -n "${RESUMED_MS:-}" ] || fail "restart: /dev/hwrng reads did not resume within 5 s"
[ "$RESUMED_MS" -le 2000 ] || fail "restart: reads resumed after $RESUMED_MS ms (> 2000)"
note "restart: /dev/hwrng reads resumed $RESUMED_MS ms after the distributor came back"
echo "ok: faults"
