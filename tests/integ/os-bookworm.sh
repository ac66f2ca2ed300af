#!/bin/bash
# Debian 12 as users run it: mmdebstrap's root with Debian's 6.1 kernel, systemd 252 and
# initramfs-tools, virtseed's packages (built from this tree in a bookworm chroot)
# installed with dpkg, booted under TCG up to multi-user.target.
#   1. virtio-rng fed by the host package's virtseed-egd: crng init done before udev
#      coldplug in the initramfs; virtseed.service active (READY=1) with its counters in
#      StatusText, started only after the initramfs instance exited.
#   2. no virtio-rng, -cpu max, random.trust_cpu=off: the agent's RDRAND source seeds.
#   3. rd.virtseed=0: no initramfs instance; the service still runs.
#   4. dpkg -r / -P: the initramfs is rebuilt without virtseed, purge drops the conffile,
#      the system still boots.
#   5. the host package: systemd-analyze verify on its installed units, and its
#      distributor (with its shipped configuration) serves guest 1.
# shellcheck source=tests/integ/os-lib.sh
. "$(dirname "$0")/os-lib.sh"
os_init bookworm os

# 5: the host package as installed (unpacked into a root of its own, not onto this host).
host=$BOOT_WORK/host
dpkg-deb -x "$(ls "$OS_DEBS"/virtseed-egd_*.deb)" "$host"
units=$(find "$host" -name 'virtseed-egd.*' -path '*/systemd/system/*' | sort)
[ "$(echo "$units" | wc -l)" = 2 ] || fail "host package units: $units"
# verify resolves ExecStart= on the root it is given: the package's own binary.
# shellcheck disable=SC2086 # two paths
systemd-analyze verify --root="$host" ${units//$host/} >"$BOOT_WORK/verify.log" 2>&1 ||
	{ cat "$BOOT_WORK/verify.log"; fail "systemd-analyze verify of the host package's units"; }
[ ! -s "$BOOT_WORK/verify.log" ] || { cat "$BOOT_WORK/verify.log"; fail "verify complained"; }
VIRTSEED_EGD=$host/usr/sbin/virtseed-egd
egd_start os --config "$host/etc/virtseed/virtseed-egd.conf"

os_install virtseed
[ "$(initramfs_count 'usr/sbin/virtseedd$|scripts/init-top/00virtseed$')" = 2 ] ||
	fail "installing the package did not put virtseed into the initramfs"
os_disk

# 1: virtio-rng through the host package's distributor.
log=$BOOT_WORK/bookworm-virtio-rng.log
OS_EGD=os
# shellcheck disable=SC2046 # word splitting of the QEMU arguments is wanted
os_boot "$log" "" -name guest=os-bookworm $(qemu_rng_egd os)
OS_EGD=
assert_before "$log" 'random: crng init done' "$OS_UDEV"
assert_before "$log" 'virtseed: seeded:' "$SYSTEMD_START"
assert_service "$log"
grep -qE 'guest_bytes_total\{guest="os-bookworm"[^}]*\} [1-9]' "$BOOT_WORK/stats" ||
	fail "the host package's distributor did not serve guest os-bookworm"
note "1: crng init done at $(log_ts 'random: crng init done' "$log") s;" \
	"$(report "$log" status)"

# 3: rd.virtseed=0.
log=$BOOT_WORK/bookworm-off.log
# shellcheck disable=SC2046
os_boot "$log" "rd.virtseed=0" $(qemu_rng_egd os)
grep -q 'virtseed-initrd: disabled by rd.virtseed=0' "$log" || fail "rd.virtseed=0 not honoured: $log"
! grep -q 'virtseed: seeded:' "$log" || fail "the initramfs instance ran despite rd.virtseed=0"
assert_service "$log"

# 2: no virtio-rng, RDRAND only (trust_cpu=off: the kernel credits none of it itself).
log=$BOOT_WORK/bookworm-rdrand.log
os_boot "$log" "" -cpu max
assert_before "$log" 'virtseed: seeded: .*rdrand=[1-9]' "$OS_UDEV"
assert_before "$log" 'random: crng init done' "$OS_UDEV"
assert_service "$log"

# 4: remove, purge, reboot.
os_chroot dpkg -r virtseed >"$BOOT_WORK/remove.log" 2>&1 || { cat "$BOOT_WORK/remove.log"; fail "dpkg -r"; }
[ -f "$OS_ROOT/etc/virtseed/virtseed.conf" ] || fail "dpkg -r removed the conffile"
os_chroot dpkg -P virtseed >>"$BOOT_WORK/remove.log" 2>&1 || { cat "$BOOT_WORK/remove.log"; fail "dpkg -P"; }
[ ! -e "$OS_ROOT/etc/virtseed" ] || fail "dpkg -P left /etc/virtseed"
os_disk
[ "$(initramfs_count virtseed)" = 0 ] || fail "the initramfs still has virtseed after removal"
log=$BOOT_WORK/bookworm-removed.log
# shellcheck disable=SC2046
os_boot "$log" "" $(qemu_rng_egd os)
! grep -v '^virtseed-report: ' "$log" | grep -q virtseed || fail "virtseed ran after removal: $log"
[ "$(report "$log" service)" = "inactive dead" ] || fail "virtseed.service after removal: $(report "$log" service)"
echo "ok: Debian 12 whole-OS boots"
