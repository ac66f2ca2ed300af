# shellcheck shell=bash
# os-lib.sh: whole-OS guests for tests/integ/os-*.sh and bench/os-boot.sh (sourced).
# A Debian root from tests/guest/os-base.sh, virtseed's packages from tests/guest/os-debs.sh
# (built from this tree in a chroot of the same release) installed with dpkg, an ext4 disk
# made from it, booted under QEMU/TCG from the image's own kernel and initramfs on a virtio
# disk up to multi-user.target.  There the test unit virtseed-report.service prints
# "virtseed-report: KEY VALUE" lines to the console and powers the guest off.
# Environment: as boot-lib.sh (VIRTSEED_CACHE, BOOT_LOGS); OS_SUITE (bookworm|trixie).
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/boot-lib.sh"
OS_APPEND="console=ttyS0 root=/dev/vda rw panic=-1 random.trust_cpu=off"
OS_APPEND+=" random.trust_bootloader=off systemd.show_status=1"
# Debian 12's initramfs-tools starts udevd with this line before it triggers coldplug.
OS_UDEV='Starting systemd-udevd version|Starting .*systemd-udev-trigger|Coldplug All udev'

# os_init SUITE KIND: skip unless this can run; build (or find) the base and the packages.
os_init() {
	OS_SUITE=$1
	[ -z "${VIRTSEED_SKIP_E2E:-}" ] || skip "guest boots run once per suite (VIRTSEED_SKIP_E2E)"
	[ "$(id -u)" = 0 ] || skip "needs root (chroot, mkfs, unshare)"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing"
	command -v mmdebstrap >/dev/null || skip "mmdebstrap missing (tests/install-deps.sh)"
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 missing"
	BOOT_WORK=$(mktemp -d)
	trap 'boot_cleanup' EXIT
	OS_BASE=$(sh "$top_srcdir/tests/guest/os-base.sh" "$1" "$2") || fail "os-base.sh $1 $2 failed"
	OS_DEBS=$(sh "$top_srcdir/tests/guest/os-debs.sh" "$1") || fail "os-debs.sh $1 failed"
	note "base $OS_BASE, packages $OS_DEBS"
	OS_ROOT=$BOOT_WORK/root
	mkdir -p "$OS_ROOT"
	tar -xf "$OS_BASE" -C "$OS_ROOT"
	os_prepare
}

# os_chroot CMD...: run CMD in the guest root with /proc, /sys and /dev mounted.
os_chroot() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m --propagation private sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
		mount --rbind /dev "$r/dev" && exec chroot "$r" "$@"
	' sh "$OS_ROOT" "$@"
}

# The guest's identity and the test unit (not part of the packages).
os_prepare() {
	echo 8b2ae5c62d5a4a559e347d5bbfa1c0de >"$OS_ROOT/etc/machine-id"
	echo guest >"$OS_ROOT/etc/hostname"
	echo '/dev/vda / ext4 rw 0 1' >"$OS_ROOT/etc/fstab"
	install -m 0755 /dev/stdin "$OS_ROOT/usr/local/sbin/virtseed-report" <<'EOT'
#!/bin/sh
# Test only: wait for the boot to finish, print what the test asserts, power off.
systemctl is-system-running --wait >/dev/null 2>&1
show() { systemctl show -p "$2" --value "$1"; }
{
	echo "virtseed-report: system $(systemctl is-system-running)"
	echo "virtseed-report: service $(show virtseed.service ActiveState)" \
		"$(show virtseed.service SubState)"
	echo "virtseed-report: status $(show virtseed.service StatusText)"
	journalctl -b -o short-monotonic --no-pager -u virtseed.service -u virtseed-initrd.service |
		sed 's/^/virtseed-report: journal /'
	echo "virtseed-report: end"
} >/dev/console 2>&1
systemctl poweroff
EOT
	cat >"$OS_ROOT/etc/systemd/system/virtseed-report.service" <<'EOT'
[Unit]
Description=virtseed test report
After=multi-user.target
[Service]
Type=simple
ExecStart=/usr/local/sbin/virtseed-report
[Install]
WantedBy=multi-user.target
EOT
	ln -sf /etc/systemd/system/virtseed-report.service \
		"$OS_ROOT/etc/systemd/system/multi-user.target.wants/virtseed-report.service"
}

# os_install PACKAGE...: dpkg -i the built .debs of these packages into the guest root.
os_install() {
	local p debs=()
	for p; do
		debs+=("$(ls "$OS_DEBS/${p}_"*.deb)")
	done
	cp "${debs[@]}" "$OS_ROOT/tmp/"
	os_chroot sh -c 'cd /tmp && dpkg -i "$@" && rm -f "$@"' sh "${debs[@]##*/}" \
		>"$BOOT_WORK/dpkg.log" 2>&1 || { cat "$BOOT_WORK/dpkg.log"; fail "dpkg -i failed"; }
}

# os_disk: the guest's disk, kernel and initramfs from the root as it is now.
os_disk() {
	local ver
	ver=$(ls "$OS_ROOT/lib/modules")
	cp "$OS_ROOT/boot/vmlinuz-$ver" "$BOOT_WORK/vmlinuz"
	cp "$OS_ROOT/boot/initrd.img-$ver" "$BOOT_WORK/initrd.img"
	rm -f "$BOOT_WORK/disk.img"
	truncate -s 2G "$BOOT_WORK/disk.img"
	mkfs.ext4 -q -F -d "$OS_ROOT" "$BOOT_WORK/disk.img" || fail "mkfs.ext4 failed"
}

# os_boot LOG APPEND [QEMU_ARGS...]: boot a fresh copy of the disk until the report's end
# (or a timeout); the console, CRs stripped, in LOG.
os_boot() {
	local log=$1 append=$2 pid
	shift 2
	cp --sparse=always "$BOOT_WORK/disk.img" "$BOOT_WORK/boot.img"
	exec 9>"$BOOT_CACHE/qemu.lock"
	flock 9
	timeout "${OS_TIMEOUT:-400}" qemu-system-x86_64 -machine q35 -accel tcg -m 1024 -smp 1 \
		-nographic -no-reboot -uuid 8b2ae5c6-2d5a-4a55-9e34-7d5bbfa1c0de \
		-kernel "$BOOT_WORK/vmlinuz" -initrd "$BOOT_WORK/initrd.img" \
		-drive "file=$BOOT_WORK/boot.img,if=virtio,format=raw" \
		-append "$OS_APPEND $append" "$@" </dev/null >"$log.raw" 2>&1 &
	pid=$!
	BOOT_PIDS="${BOOT_PIDS:-} $pid"
	# The distributor forgets a guest once it disconnects: keep its last statistics.
	while [ -n "${OS_EGD:-}" ] && kill -0 "$pid" 2>/dev/null; do
		egd_stats "$OS_EGD" >"$BOOT_WORK/stats.now" 2>/dev/null &&
			grep -q 'guest_bytes_total{guest="os-' "$BOOT_WORK/stats.now" &&
			mv "$BOOT_WORK/stats.now" "$BOOT_WORK/stats"
		sleep 1
	done
	wait "$pid"
	BOOT_PIDS=${BOOT_PIDS// $pid/}
	exec 9>&-
	tr -d '\r' <"$log.raw" >"$log"
	rm -f "$log.raw" "$BOOT_WORK/boot.img"
	if [ -n "${BOOT_LOGS:-}" ]; then
		mkdir -p "$BOOT_LOGS"
		cp "$log" "$BOOT_LOGS/"
	fi
	grep -q 'virtseed-report: end' "$log" || { tail -40 "$log"; fail "no report from the guest: $log"; }
}

# report LOG KEY: the value the guest reported for KEY.
report() {
	sed -n "s/^virtseed-report: $2 //p" "$1" | head -n1
}

# assert_service LOG: virtseed.service active (READY=1 received), its status the counters.
assert_service() {
	[ "$(report "$1" service)" = "active running" ] ||
		fail "virtseed.service is '$(report "$1" service)', not active running: $1"
	report "$1" status | grep -qE '^credited [0-9]+ bits in [0-9]+ bytes' ||
		fail "virtseed.service status text is '$(report "$1" status)': $1"
}

# initramfs_has LIST FILE...: how many files of the guest's initramfs match the regex.
initramfs_count() {
	lsinitramfs "$BOOT_WORK/initrd.img" | grep -cE "$1"
}
