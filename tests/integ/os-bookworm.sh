#!/bin/bash
# Debian 12 as users run it: mmdebstrap's root with Debian's 6.1 kernel, systemd 252 and
# initramfs-tools, virtseed's packages (built from this tree in a bookworm chroot)
# installed with dpkg, booted under TCG up to multi-user.target.  The checks (os-lib.sh):
#   5. the host package: units verified as installed, enabled, purged; its distributor
#      serves the guests below;
#   1. virtio-rng fed by it: crng init done before udev coldplug in the initramfs and
#      before it opens a LUKS volume (cryptsetup-initramfs, a key file), virtseed.service
#      active (READY=1) with its counters, after the initramfs instance;
#   3. rd.virtseed=0: no initramfs instance, the service still runs;
#   2. no virtio-rng, -cpu max, random.trust_cpu=off: seeded by the agent's RDRAND source,
#      before udev and the LUKS volume;
#   4. dpkg -r / -P: initramfs rebuilt without virtseed, conffile purged, still boots.
# shellcheck source=tests/integ/os-lib.sh
. "$(dirname "$0")/os-lib.sh"
os_init bookworm os
os_host_package
os_guest_package
os_check_virtio_rng bookworm
os_check_disabled bookworm
os_check_rdrand bookworm
os_check_removed bookworm
echo "ok: Debian 12 whole-OS boots"
