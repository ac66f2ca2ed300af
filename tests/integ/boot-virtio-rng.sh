#!/bin/bash
# Scenario 1: virtio-rng through the real host distributor (rng-egd).  The agent runs in the
# initramfs, "crng init done" comes before udev's coldplug, and the distributor's statistics
# show this guest.  In the dracut+systemd image and in dracut's shell /init (where nothing
# but our early module load brings virtio_rng up before coldplug, and the agent runs; with
# systemd the pre-init wrapper loads it before systemd would, the kernel's hwrng thread
# seeds, and systemd skips the initrd unit: the agent has nothing to do).
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
boot_init
need_bins
egd_start s1 --config "$(egd_named_conf)"

# The distributor forgets a guest once its connections close: read the stats live.
save_stats() { egd_stats s1 >"$BOOT_WORK/stats"; }
BOOT_ON_STOP=save_stats
for flavor in systemd shell; do
	log=$BOOT_WORK/virtio-rng-$flavor.log
	img=$(boot_image dracut "$flavor") || fail "image build failed"
	BOOT_UNTIL=('virtseed: seeded:' "$UDEV_TRIGGER")
	[ "$flavor" = shell ] || BOOT_UNTIL=("$PREINIT_SKIPPED" "$UDEV_TRIGGER")
	# shellcheck disable=SC2046 # word splitting of the QEMU arguments is wanted
	boot_run "$img" "$log" "entropy_boot.max=40 entropy_boot.hold=40" \
		-name "guest=boot-s1-$flavor" $(qemu_rng_egd s1)
	assert_tracer "$log"
	assert_before "$log" 'random: crng init done' "$UDEV_TRIGGER"
	if [ "$flavor" = shell ]; then
		assert_seeded_by_agent "$log"
	else
		# The pre-init wrapper loads virtio_rng before systemd starts; the unit is skipped.
		assert_before "$log" 'virtseed-preinit: virtio-rng: driver loaded, CRNG ready' \
			"$SYSTEMD_START"
		assert_before "$log" "$PREINIT_SKIPPED" "$UDEV_TRIGGER"
		! grep -q 'virtseed: seeded:' "$log" || fail "the initrd unit ran the agent: $log"
	fi
	grep -E "guest_bytes_total\\{guest=\"boot-s1-$flavor\"[^}]*\\} [1-9]" "$BOOT_WORK/stats" ||
		fail "distributor stats do not show guest boot-s1-$flavor"
	note "$flavor: crng init done $(crng_after_init "$log") s after /init"
done
echo "ok: virtio-rng via virtseed-egd"
