#!/bin/bash
# Scenario 3: no virtio-rng and no RDRAND (-cpu qemu64).  The agent's EGD source reaches the
# real host distributor through a virtio-serial port (a chardev socket on the host) and seeds
# the kernel from the initramfs; the distributor's statistics show the guest.
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
boot_init
need_bins
egd_start s3 --config "$(egd_named_conf)"
save_stats() { egd_stats s3 >"$BOOT_WORK/stats"; }
BOOT_ON_STOP=save_stats
BOOT_UNTIL=('virtseed: (seeded|not seeded):' "$UDEV_TRIGGER")

log=$BOOT_WORK/egd-serial.log
img=$(boot_image dracut systemd) || fail "image build failed"
boot_run "$img" "$log" \
	"entropy_boot.max=60 entropy_boot.hold=60 rd.virtseed.egd=/dev/virtio-ports/org.virtseed.egd" \
	-cpu qemu64 -name guest=boot-s3 -device virtio-serial-pci \
	-chardev "socket,id=egdser,path=$BOOT_WORK/s3.sock,reconnect=1" \
	-device virtserialport,chardev=egdser,name=org.virtseed.egd
assert_tracer "$log"
assert_seeded_by_agent "$log"
grep -q 'virtseed: seeded:.*egd=[1-9][0-9]* bits' "$log" || fail "the EGD source credited nothing"
assert_before "$log" 'random: crng init done' "$UDEV_TRIGGER"
grep -E 'guest_bytes_total\{guest="boot-s3"[^}]*\} [1-9]' "$BOOT_WORK/stats" ||
	fail "distributor stats do not show guest boot-s3"
note "crng init done $(crng_after_init "$log") s after /init, agent seeded in $(seeded_ms "$log") ms"
echo "ok: EGD over virtio-serial"
