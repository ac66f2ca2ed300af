#!/bin/bash
# Scenario 1: virtio-rng through the real host distributor (rng-egd).  The agent runs in the
# initramfs, "crng init done" comes before udev's coldplug, and the distributor's statistics
# show this guest.  In the dracut+systemd image and in dracut's shell /init (where nothing
# but our early module load brings virtio_rng up before coldplug; with systemd the pre-init
# wrapper loads it before systemd would, and the agent runs from the initrd unit).
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
boot_init
need_bins
egd_start s1 --config "$(egd_named_conf)"

BOOT_UNTIL=('virtseed: seeded:' "$UDEV_TRIGGER")
# The distributor forgets a guest once its connections close: read the stats live.
save_stats() { egd_stats s1 >"$BOOT_WORK/stats"; }
BOOT_ON_STOP=save_stats
for flavor in systemd shell; do
	log=$BOOT_WORK/virtio-rng-$flavor.log
	img=$(boot_image dracut "$flavor") || fail "image build failed"
	# shellcheck disable=SC2046 # word splitting of the QEMU arguments is wanted
	boot_run "$img" "$log" "entropy_boot.max=40 entropy_boot.hold=40" \
		-name "guest=boot-s1-$flavor" $(qemu_rng_egd s1)
	assert_tracer "$log"
	assert_seeded_by_agent "$log"
	assert_before "$log" 'random: crng init done' "$UDEV_TRIGGER"
	# With systemd the pre-init wrapper loads virtio_rng before systemd starts.
	[ "$flavor" = shell ] || assert_before "$log" 'virtseed-preinit: virtio-rng: driver loaded' \
		"$SYSTEMD_START"
	grep -E "guest_bytes_total\\{guest=\"boot-s1-$flavor\"[^}]*\\} [1-9]" "$BOOT_WORK/stats" ||
		fail "distributor stats do not show guest boot-s1-$flavor"
	note "$flavor: crng init done $(crng_after_init "$log") s after /init"
done
echo "ok: virtio-rng via virtseed-egd"
