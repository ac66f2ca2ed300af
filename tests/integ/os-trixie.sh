#!/bin/bash
# Debian 13: its 6.12 kernel, systemd 257 and initramfs-tools, virtseed's packages built in a
# trixie chroot (so they link against trixie's libraries), booted under TCG to
# multi-user.target.  The checks of os-bookworm.sh with the newer stack: the host
# package's units under systemd 257 (its distributor, built for this Debian 12 machine,
# serves the guest) (5), virtio-rng (1, with the LUKS volume), rd.virtseed=0 (3), RDRAND
# only (2), removal (4).
# shellcheck source=tests/integ/os-lib.sh
. "$(dirname "$0")/os-lib.sh"
os_init trixie os
os_host_package "$(sh "$top_srcdir/tests/guest/os-debs.sh" bookworm)"
os_guest_package
os_check_virtio_rng trixie
os_check_disabled trixie
os_check_rdrand trixie
os_check_removed trixie
echo "ok: Debian 13 whole-OS boots"
