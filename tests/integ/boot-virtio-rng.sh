#!/bin/bash
# Scenario 1: virtio-rng through the real host distributor (rng-egd).  The agent runs in the
# initramfs, "crng init done" comes before udev's coldplug, and the distributor's statistics
# show this guest.  In the dracut+systemd image, in dracut's shell /init (where nothing
# but our early module load brings virtio_rng up before coldplug, and the agent runs) and in
# the initramfs-tools image.  With systemd the pre-init wrapper loads virtio_rng before
# systemd would, the kernel's hwrng thread seeds, and systemd skips the initrd unit; in the
# initramfs-tools image the wrapper does so before /init, and the init-top script runs no
# agent: either way the agent has nothing to do.
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
boot_init
need_bins
egd_start s1 --config "$(egd_named_conf)"

# The distributor forgets a guest once its connections close: read the stats live.
save_stats() { egd_stats s1 >"$BOOT_WORK/stats"; }
BOOT_ON_STOP=save_stats
for run in dracut:systemd dracut:shell itools:virtseed; do
	IFS=: read -r kind flavor <<<"$run"
	log=$BOOT_WORK/virtio-rng-$kind-$flavor.log
	img=$(boot_image "$kind" "$flavor") || fail "image build failed"
	BOOT_UNTIL=('virtseed: seeded:' "$UDEV_TRIGGER")
	[ "$flavor" = shell ] || BOOT_UNTIL=('virtseed-preinit: virtio-rng' "$UDEV_TRIGGER")
	[ "$flavor" != systemd ] || BOOT_UNTIL+=("$PREINIT_SKIPPED")
	# shellcheck disable=SC2046 # word splitting of the QEMU arguments is wanted
	boot_run "$img" "$log" "entropy_boot.max=40 entropy_boot.hold=40" \
		-name "guest=boot-s1-$flavor" $(qemu_rng_egd s1)
	assert_tracer "$log"
	assert_before "$log" 'random: crng init done' "$UDEV_TRIGGER"
	if [ "$flavor" = shell ]; then
		assert_seeded_by_agent "$log"
	else
		# The pre-init wrapper loads virtio_rng before systemd or initramfs-tools' /init
		# (which says "Loading, please wait..." first).
		assert_before "$log" 'virtseed-preinit: virtio-rng: driver loaded, CRNG ready' \
			"Loading, please wait|$SYSTEMD_START"
		! grep -q 'virtseed: seeded:' "$log" || fail "the agent ran after the wrapper: $log"
	fi
	[ "$flavor" != systemd ] || assert_before "$log" "$PREINIT_SKIPPED" "$UDEV_TRIGGER"
	grep -E "guest_bytes_total\\{guest=\"boot-s1-$flavor\"[^}]*\\} [1-9]" "$BOOT_WORK/stats" ||
		fail "distributor stats do not show guest boot-s1-$flavor"
	note "$flavor: crng init done $(crng_after_init "$log") s after /init"
done
echo "ok: virtio-rng via virtseed-egd"
