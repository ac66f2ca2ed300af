#!/bin/bash
# Debian 13 with dracut (Debian 13's dracut is dracut-ng) instead of initramfs-tools: its
# 6.12 kernel and systemd 257, the guest package (built in a trixie chroot) installed with
# dpkg, whose update-initramfs trigger dracut handles, booted under TCG to
# multi-user.target.  The initramfs runs systemd, so /init is virtseed-preinit; once it has
# seeded, systemd skips the initrd unit virtseed-initrd.service.  The checks (os-lib.sh):
#   1. virtio-rng fed by the host package's distributor: crng init done before udev
#      coldplug and before systemd-cryptsetup opens a LUKS volume in the initramfs, by the
#      pre-init before systemd started, the initrd unit skipped, virtseed.service active
#      (READY=1) with its counters;
#   3. rd.virtseed=0: neither the pre-init nor the initrd unit seeds, the service runs;
#   2. no virtio-rng, -cpu max, random.trust_cpu=off: the pre-init's agent seeds from RDRAND,
#      before udev and the LUKS volume;
#   4. dpkg -r / -P: dracut rebuilds the initramfs without virtseed, the system boots.
# shellcheck source=tests/integ/os-lib.sh
. "$(dirname "$0")/os-lib.sh"
os_init trixie os-dracut
if [ ! -x "$OS_ROOT/usr/bin/dracut" ] || [ -e "$OS_ROOT/usr/sbin/mkinitramfs" ]; then
	fail "the os-dracut root is not a dracut one"
fi
os_host_egd "$(sh "$top_srcdir/tests/guest/os-debs.sh" bookworm)"
os_guest_package
for f in usr/libexec/virtseed/virtseed-preinit 'virtseed-initrd\.service$'; do
	[ "$(initramfs_count "$f")" -ge 1 ] || fail "dracut did not put $f into the initramfs"
done
os_check_virtio_rng trixie-dracut
os_check_disabled trixie-dracut
os_check_rdrand trixie-dracut
os_check_removed trixie-dracut
echo "ok: Debian 13 whole-OS boots with dracut"
