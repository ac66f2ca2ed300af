#!/bin/bash
# Scenario 2: no virtio-rng, -cpu max (RDRAND, untrusted by the kernel: trust_cpu=off).  With
# trust_cpu=off the agent credits RDRAND only when told to (virtseed.credit-rdrand=4; without
# it the bytes are mixed, credited 0: checked once).  The
# agent's conditioned RDRAND seeds the kernel from the initramfs, before udev's coldplug, in
# the dracut+systemd image (from the pre-init wrapper, before systemd starts; and from the
# initrd unit alone with virtseed_preinit=no) and in the initramfs-tools image (from the
# wrapper, before its /init), with AES-NI and without (the libgcrypt path).  Baseline, and scenario 5: the
# same dracut boot with rd.virtseed=0 runs no agent and is not seeded within 60 s.
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
boot_init
need_bins

BOOT_UNTIL=('virtseed: seeded:' "$UDEV_TRIGGER")
# KIND:FLAVOR:CPU.  Without AES-NI the agent conditions with libgcrypt, which it dlopen()s:
# the image builders must have put it in.
for run in dracut:systemd:max dracut:systemd-unit:max itools:virtseed:max \
	dracut:systemd:max,aes=off itools:virtseed:max,aes=off; do
	IFS=: read -r kind flavor cpu <<<"$run"
	name=$flavor-$cpu
	log=$BOOT_WORK/rdrand-$name.log
	img=$(boot_image "$kind" "$flavor") || fail "image build failed"
	boot_run "$img" "$log" "entropy_boot.max=40 entropy_boot.hold=40 virtseed.credit-rdrand=4" \
		-cpu "$cpu"
	assert_tracer "$log"
	assert_seeded_by_agent "$log"
	grep -q 'virtseed: seeded:.*rdrand=[1-9][0-9]* bits' "$log" ||
		fail "$name: RDRAND credited nothing"
	assert_before "$log" 'random: crng init done' "$UDEV_TRIGGER"
	# The pre-init /init wrapper seeds before systemd even starts, which then skips the unit,
	# or before initramfs-tools' /init ("Loading, please wait..."), whose script then skips.
	if [ "$kind:$flavor" = dracut:systemd ] || [ "$kind" = itools ]; then
		assert_before "$log" 'virtseed: seeded:' "Loading, please wait|$SYSTEMD_START"
		[ "$(grep -c 'virtseed: seeded:' "$log")" = 1 ] || fail "$name: the agent ran twice"
	fi
	[ "$kind:$flavor" != dracut:systemd ] || assert_before "$log" "$PREINIT_SKIPPED" "$UDEV_TRIGGER"
	note "$name: crng init done $(crng_after_init "$log") s after /init," \
		"agent seeded in $(seeded_ms "$log") ms"
done

# trust_cpu=off and no explicit credit: RDRAND is mixed, credited nothing, and --status's rule
# is in the log.
log=$BOOT_WORK/rdrand-untrusted.log
BOOT_UNTIL=('Source rdrand: ready, credit 0 bits/byte \(random.trust_cpu=off')
img=$(boot_image itools virtseed)
boot_run "$img" "$log" "entropy_boot.max=30" -cpu max
grep -q 'Source rdrand: ready, credit 0 bits/byte (random.trust_cpu=off on the kernel command line, no explicit credit)' \
	"$log" || fail "trust_cpu=off: RDRAND credited without an explicit credit-rdrand: $log"
! grep -q 'virtseed: seeded:.*rdrand=[1-9]' "$log" || fail "trust_cpu=off: RDRAND credited"

BOOT_UNTIL=()
log=$BOOT_WORK/rdrand-off.log
img=$(boot_image dracut systemd)
boot_run "$img" "$log" "entropy_boot.max=60 rd.virtseed=0" -cpu max
grep -q 'entropy-boot: end' "$log" || fail "baseline: the tracer did not finish: $log"
grep -q 'virtseed-initrd.service.*skipped' "$log" || fail "rd.virtseed=0: unit not skipped"
! grep -q 'virtseed: seeded:' "$log" || fail "rd.virtseed=0: the agent ran"
! grep -q 'random: crng init done' "$log" || fail "baseline: seeded without the agent"
note "baseline: not seeded after 60 s; entropy_avail at the end:" \
	"$(grep 'entropy-boot: csv' "$log" | tail -n1 | cut -d, -f3)"
echo "ok: RDRAND via the agent; baseline unseeded"
