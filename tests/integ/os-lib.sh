# shellcheck shell=bash
# os-lib.sh: whole-OS guests for tests/integ/os-*.sh and bench/os-boot.sh (sourced).
# A Debian root from tests/guest/os-base.sh, virtseed's packages from tests/guest/os-debs.sh
# (built from this tree in a chroot of the same release) installed with dpkg, an ext4 disk
# made from it, booted under QEMU/TCG from the image's own kernel and initramfs on a virtio
# disk up to multi-user.target.  There the test unit virtseed-report.service prints
# "virtseed-report: KEY VALUE" lines to the console and powers the guest off.
# Environment: as boot-lib.sh (VIRTSEED_CACHE, BOOT_LOGS).
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/boot-lib.sh"
OS_APPEND="console=ttyS0 root=/dev/vda rw panic=-1 random.trust_cpu=off"
OS_APPEND+=" random.trust_bootloader=off systemd.show_status=1"
# Debian 12's initramfs-tools starts udevd with this line before it triggers coldplug.
OS_UDEV='Starting systemd-udevd version|Starting .*systemd-udev-trigger|Coldplug All udev'

# os_init SUITE KIND: skip unless this can run; build (or find) the base and the packages.
os_init() {
	[ -z "${VIRTSEED_SKIP_E2E:-}" ] || skip "guest boots run once per suite (VIRTSEED_SKIP_E2E)"
	[ "$(id -u)" = 0 ] || skip "needs root (chroot, mkfs, unshare)"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing"
	command -v mmdebstrap >/dev/null || skip "mmdebstrap missing (tests/install-deps.sh)"
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 missing"
	command -v cryptsetup >/dev/null || skip "cryptsetup missing (tests/install-deps.sh)"
	BOOT_WORK=$(mktemp -d)
	trap 'boot_cleanup' EXIT
	OS_SUITE=$1 OS_KIND=$2
	OS_BASE=$(sh "$top_srcdir/tests/guest/os-base.sh" "$1" "$2") || fail "os-base.sh $1 $2 failed"
	OS_DEBS=$(sh "$top_srcdir/tests/guest/os-debs.sh" "$1") || fail "os-debs.sh $1 failed"
	note "base $OS_BASE, packages $OS_DEBS"
	OS_ROOT=$BOOT_WORK/root
	mkdir -p "$OS_ROOT"
	tar -xf "$OS_BASE" -C "$OS_ROOT"
	os_prepare
}

# os_chroot_at ROOT CMD...: run CMD in ROOT with /proc, /sys and /dev mounted;
# os_chroot CMD...: in the guest root.
os_chroot_at() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m --propagation private sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
		mount --rbind /dev "$r/dev" && exec chroot "$r" "$@"
	' sh "$@"
}
os_chroot() {
	os_chroot_at "$OS_ROOT" "$@"
}

# The guest's identity and the test unit (not part of the packages).  The roots carry
# rng-tools5 for bench/os-boot.sh's rngd variant only: like most Debian systems, the tests'
# guests run no rngd (os_rngd on puts it back).
os_prepare() {
	os_rngd off
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
	echo "virtseed-report: vault $([ -b /dev/mapper/vault ] && echo open || echo absent)"
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
	# No login prompt on the console to interleave with the report.
	ln -sf /dev/null "$OS_ROOT/etc/systemd/system/serial-getty@ttyS0.service"
	ln -sf /etc/systemd/system/virtseed-report.service \
		"$OS_ROOT/etc/systemd/system/multi-user.target.wants/virtseed-report.service"
}

# os_rngd on|off: rngd.service enabled as Debian ships it, or disabled, and with it dracut's
# rngd module (which comes with rng-tools5) in the initramfs or left out.
os_rngd() {
	local omit=$OS_ROOT/etc/dracut.conf.d/90-no-rngd.conf
	if [ "$1" = on ]; then
		os_chroot systemctl enable --quiet rngd.service || fail "systemctl enable rngd"
		rm -f "$omit"
	else
		os_chroot systemctl disable --quiet rngd.service || fail "systemctl disable rngd"
		[ ! -d "${omit%/*}" ] || echo 'omit_dracutmodules+=" rngd "' >"$omit"
	fi
}

# os_install_at ROOT PACKAGE...: dpkg -i the built .debs of these packages into ROOT;
# os_install PACKAGE...: into the guest root.
os_install_at() {
	local p root=$1 debs=()
	shift
	for p; do
		debs+=("$(ls "$OS_DEBS/${p}_"*.deb)")
	done
	cp "${debs[@]}" "$root/tmp/"
	os_chroot_at "$root" sh -c 'cd /tmp && dpkg -i "$@" && rm -f "$@"' sh "${debs[@]##*/}" \
		>"$BOOT_WORK/dpkg.log" 2>&1 || { cat "$BOOT_WORK/dpkg.log"; fail "dpkg -i failed"; }
}
os_install() {
	os_install_at "$OS_ROOT" "$@"
}

# os_vault: a second disk, a LUKS2 volume "vault" that the initramfs opens with a key file
# from the guest's /etc/keys (initramfs-tools: crypttab's initramfs option; dracut: its crypt
# module, x-initrd.attach, crypttab and key put in), so that the boots show crng init done
# before it.
# PBKDF2 with 1000 iterations: argon2's memory-hard default takes long under TCG.
os_vault() {
	local uuid
	head -c 64 /dev/urandom >"$BOOT_WORK/vault.key"
	truncate -s 32M "$BOOT_WORK/vault.img"
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$BOOT_WORK/vault.key" "$BOOT_WORK/vault.img" || fail "cryptsetup luksFormat"
	uuid=$(cryptsetup luksUUID "$BOOT_WORK/vault.img") || fail "cryptsetup luksUUID"
	install -d -m 0700 "$OS_ROOT/etc/keys"
	install -m 0600 "$BOOT_WORK/vault.key" "$OS_ROOT/etc/keys/vault.key"
	if [ "$OS_KIND" = os-dracut ]; then
		echo "vault UUID=$uuid /etc/keys/vault.key luks,x-initrd.attach" >"$OS_ROOT/etc/crypttab"
		printf '%s\n' 'add_dracutmodules+=" crypt "' \
			'install_items+=" /etc/crypttab /etc/keys/vault.key "' \
			>"$OS_ROOT/etc/dracut.conf.d/90-vault.conf"
	else
		echo "vault UUID=$uuid /etc/keys/vault.key luks,initramfs" >"$OS_ROOT/etc/crypttab"
		echo 'KEYFILE_PATTERN="/etc/keys/*.key"' >>"$OS_ROOT/etc/cryptsetup-initramfs/conf-hook"
		echo 'UMASK=0077' >>"$OS_ROOT/etc/initramfs-tools/initramfs.conf"
	fi
	OS_VAULT=$BOOT_WORK/vault.img
}

# os_disk: the guest's disk, kernel and initramfs from the root as it is now, as new files
# (bench/os-boot.sh leaves symlinks to another image's files at these paths: cp would write
# through them).
os_disk() {
	local ver
	ver=$(ls "$OS_ROOT/lib/modules")
	rm -f "$BOOT_WORK/vmlinuz" "$BOOT_WORK/initrd.img" "$BOOT_WORK/disk.img"
	cp "$OS_ROOT/boot/vmlinuz-$ver" "$BOOT_WORK/vmlinuz"
	cp "$OS_ROOT/boot/initrd.img-$ver" "$BOOT_WORK/initrd.img"
	truncate -s 2G "$BOOT_WORK/disk.img"
	mkfs.ext4 -q -F -d "$OS_ROOT" "$BOOT_WORK/disk.img" || fail "mkfs.ext4 failed"
}

# The tests boot a headless server: no VGA, CD-ROM or parallel port, the console on the
# serial port (-nodefaults).  bench/os-boot.sh sets OS_DEVICES empty: QEMU's default
# devices, as bench/RESULTS-boot.md measured them.
OS_DEVICES=${OS_DEVICES--nodefaults -serial stdio}

# os_boot LOG APPEND [QEMU_ARGS...]: boot a fresh copy of the disk until the report's end
# (or a timeout); the console, CRs stripped, in LOG.  Once the report is complete the
# guest is switched off (what it does while powering off is not asserted).
os_boot() {
	local log=$1 append=$2 pid
	shift 2
	cp --sparse=always "$BOOT_WORK/disk.img" "$BOOT_WORK/boot.img"
	exec 9>"$BOOT_CACHE/qemu.lock"
	flock 9
	# shellcheck disable=SC2086 # OS_DEVICES: QEMU arguments, split at blanks
	timeout "${OS_TIMEOUT:-400}" qemu-system-x86_64 -machine q35 -accel tcg -m 1024 -smp 1 \
		-nographic $OS_DEVICES -no-reboot -nic none -uuid 8b2ae5c6-2d5a-4a55-9e34-7d5bbfa1c0de \
		-kernel "$BOOT_WORK/vmlinuz" -initrd "$BOOT_WORK/initrd.img" \
		-drive "file=$BOOT_WORK/boot.img,if=virtio,format=raw" \
		${OS_VAULT:+-drive "file=$OS_VAULT,if=virtio,format=raw"} \
		-append "$OS_APPEND $append" "$@" </dev/null >"$log.raw" 2>&1 &
	pid=$!
	BOOT_PIDS="${BOOT_PIDS:-} $pid"
	while kill -0 "$pid" 2>/dev/null; do
		# The distributor forgets a guest once it disconnects: keep its last statistics.
		[ -z "${OS_EGD:-}" ] || ! egd_stats "$OS_EGD" >"$BOOT_WORK/stats.now" 2>/dev/null ||
			! grep -q 'guest_bytes_total{guest=' "$BOOT_WORK/stats.now" ||
			mv "$BOOT_WORK/stats.now" "$BOOT_WORK/stats"
		grep -q 'virtseed-report: end' "$log.raw" && kill "$pid" 2>/dev/null
		sleep 0.5
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
	# A kernel message may land in the middle of the line on the shared console: cut it.
	sed -n "s/.*virtseed-report: $2 //p" "$1" | head -n1 | sed 's/\[ *[0-9]*\.[0-9]*\] .*//'
}

# assert_service LOG: virtseed.service active (READY=1 received), its status the counters.
assert_service() {
	[ "$(report "$1" service)" = "active running" ] ||
		fail "virtseed.service is '$(report "$1" service)', not active running: $1"
	report "$1" status | grep -qE '^credited [0-9]+ bits in [0-9]+ bytes' ||
		fail "virtseed.service status text is '$(report "$1" status)': $1"
}

# initramfs_count REGEX: how many files of the guest's initramfs match.
initramfs_count() {
	lsinitramfs "$BOOT_WORK/initrd.img" | grep -cE "$1"
}

# os_host_package [RUN_DEBDIR]: 5, the host packages of this release, installed with dpkg
# into a root of their own (os-base.sh SUITE host: systemd and libvirt's library, no
# libvirtd): their units verified there and enabled by their postinsts, virtseed-libvirt
# run against the release's libraries, both purged again; then os_host_egd RUN_DEBDIR.
os_host_package() {
	os_host_root_check
	os_host_egd "$@"
}

# os_host_egd [RUN_DEBDIR]: the distributor of RUN_DEBDIR's host package (default: this
# release's; another when this machine runs an older release), unpacked, started with the
# configuration it ships (EGD "os"; its control socket moved into the test's directory).
os_host_egd() {
	local host=$BOOT_WORK/host
	dpkg-deb -x "$(ls "${1:-$OS_DEBS}"/virtseed-egd_*.deb)" "$host"
	VIRTSEED_EGD=$host/usr/sbin/virtseed-egd
	grep -qx 'control = /run/virtseed-egd/control' "$host/etc/virtseed/virtseed-egd.conf" ||
		fail "the shipped distributor configuration has no control socket for virtseed-libvirt"
	sed "s|^control = .*|control = $BOOT_WORK/os.control|" \
		"$host/etc/virtseed/virtseed-egd.conf" >"$BOOT_WORK/host-egd.conf"
	egd_start os --config "$BOOT_WORK/host-egd.conf"
	# Its setup logs the control socket before "Serving ...": give a loaded machine 15 s.
	for _ in $(seq 150); do
		grep -q '^<6>Serving ' "$BOOT_WORK/os.egd.log" && break
		sleep 0.1
	done
	grep -qF "Control socket '$BOOT_WORK/os.control' for uid 0." "$BOOT_WORK/os.egd.log" ||
		{ cat "$BOOT_WORK/os.egd.log"; fail "the shipped configuration opened no control socket"; }
}

# os_host_root_check: the host packages in a root of this release's host kind.
os_host_root_check() {
	local root=$BOOT_WORK/host-root base
	base=$(sh "$top_srcdir/tests/guest/os-base.sh" "$OS_SUITE" host) ||
		fail "os-base.sh $OS_SUITE host failed"
	mkdir -p "$root"
	tar -xf "$base" -C "$root"
	os_install_at "$root" virtseed-egd virtseed-libvirt
	os_verify_units "$root" virtseed-egd virtseed-libvirt
	os_host_enabled "$root" sockets.target.wants/virtseed-egd.socket ||
		fail "the host package's postinst did not enable virtseed-egd.socket"
	os_host_enabled "$root" multi-user.target.wants/virtseed-libvirt.service ||
		fail "virtseed-libvirt's postinst did not enable virtseed-libvirt.service"
	os_chroot_at "$root" virtseed-libvirt --help >"$BOOT_WORK/lv-help.log" 2>&1 ||
		{ cat "$BOOT_WORK/lv-help.log"; fail "the packaged virtseed-libvirt does not run"; }
	grep -q '^Usage: virtseed-libvirt' "$BOOT_WORK/lv-help.log" ||
		{ cat "$BOOT_WORK/lv-help.log"; fail "virtseed-libvirt --help printed no usage"; }
	os_host_purge "$root" virtseed-libvirt
	[ ! -e "$root/usr/sbin/virtseed-libvirt" ] || fail "purging virtseed-libvirt left its binary"
	! os_host_enabled "$root" multi-user.target.wants/virtseed-libvirt.service ||
		fail "purging virtseed-libvirt left virtseed-libvirt.service enabled"
	os_host_enabled "$root" sockets.target.wants/virtseed-egd.socket ||
		fail "purging virtseed-libvirt disabled virtseed-egd.socket"
	os_host_purge "$root" virtseed-egd
	! os_host_enabled "$root" sockets.target.wants/virtseed-egd.socket ||
		fail "purging the host package left virtseed-egd.socket enabled"
	[ ! -e "$root/etc/virtseed/virtseed-egd.conf" ] || fail "purging virtseed-egd left its conffile"
}

# os_verify_units ROOT PACKAGE...: systemd-analyze verify, silent, on their installed units.
os_verify_units() {
	local root=$1
	shift
	# shellcheck disable=SC2016 # expanded in the chroot
	os_chroot_at "$root" sh -c 'systemd-analyze verify --man=no \
		$(dpkg -L "$@" | grep -E "/systemd/system/[^/]+\.(service|socket)$")' sh "$@" \
		>"$BOOT_WORK/verify.log" 2>&1 || { cat "$BOOT_WORK/verify.log"
		fail "systemd-analyze verify of the units of $*"; }
	[ ! -s "$BOOT_WORK/verify.log" ] || { cat "$BOOT_WORK/verify.log"; fail "verify complained"; }
}

# os_host_enabled ROOT WANTS/UNIT: the unit is enabled there (a symlink in /etc).
os_host_enabled() {
	[ -L "$1/etc/systemd/system/$2" ]
}

# os_host_purge ROOT PACKAGE: dpkg -P.
os_host_purge() {
	os_chroot_at "$1" dpkg -P "$2" >"$BOOT_WORK/purge-$2.log" 2>&1 ||
		{ cat "$BOOT_WORK/purge-$2.log"; fail "dpkg -P $2"; }
}

# os_guest_package: dpkg -i the guest package; its trigger rebuilds the initramfs with it
# (and with the LUKS volume of os_vault).
os_guest_package() {
	os_vault
	os_install virtseed
	os_disk
	[ "$(initramfs_count 'usr/sbin/virtseedd$')" = 1 ] ||
		fail "installing the package did not put virtseedd into the initramfs"
	[ "$(initramfs_count 'rngd')" = 0 ] ||
		fail "the initramfs has rngd: the boots would not show virtseed's seeding alone"
}

# assert_one_instance LOG: the initramfs instance had finished before the service started:
# virtseed-preinit, the initramfs' /init, seeded (by loading virtio_rng, or with the agent)
# before the initramfs' systemd (dracut) or initramfs-tools' /init started, and what runs
# the agent after it did not run it again: systemd skipped virtseed-initrd.service (dracut),
# the init-top script ran no agent (initramfs-tools).
assert_one_instance() {
	local seeded='virtseed-preinit: virtio-rng: driver loaded, CRNG ready|virtseed: seeded:' n
	assert_before "$1" "$seeded" "$SYSTEMD_START"
	n=$(sed -nE "/$SYSTEMD_START/q; p" "$1" | grep -cE "$seeded")
	[ "$n" = 1 ] || fail "seeded $n times in the initramfs, not once: $1"
	[ "$OS_KIND" = os-dracut ] || return 0
	grep -q "$PREINIT_SKIPPED" "$1" ||
		fail "virtseed-initrd.service was not skipped after the pre-init seeded: $1"
	! grep -q 'Starting .*Seed the kernel RNG (initramfs)' "$1" ||
		fail "virtseed-initrd.service ran: $1"
}

# assert_vault LOG: the initramfs opened the LUKS volume of os_vault, after crng init done.
assert_vault() {
	local opened='cryptsetup: vault: set up successfully' end=$SYSTEMD_START
	if [ "$OS_KIND" = os-dracut ]; then
		opened='Finished .*Cryptography Setup for vault' end='Starting .*Switch Root'
		assert_before "$1" 'random: crng init done' 'Starting .*Cryptography Setup for vault'
	fi
	assert_before "$1" 'random: crng init done' "$opened"
	assert_before "$1" "$opened" "$end"
	[ "$(report "$1" vault)" = open ] || fail "the LUKS volume is '$(report "$1" vault)': $1"
}

# os_check_virtio_rng NAME: 1, virtio-rng through the host package's distributor.
os_check_virtio_rng() {
	local log=$BOOT_WORK/$1-virtio-rng.log
	OS_EGD=os
	# shellcheck disable=SC2046 # word splitting of the QEMU arguments is wanted
	os_boot "$log" "" -name "guest=os-$1" $(qemu_rng_egd os)
	OS_EGD=
	assert_before "$log" 'random: crng init done' "$OS_UDEV"
	assert_vault "$log"
	assert_one_instance "$log"
	assert_service "$log"
	# The shipped configuration trusts no peer's word (no peer-cmdline): a QEMU on the shared
	# socket is the unidentified guest "unknown", whatever its -name says.
	grep -qE 'guest_bytes_total\{guest="unknown"[^}]*\} [1-9]' "$BOOT_WORK/stats" ||
		fail "the host package's distributor did not serve the guest (as \"unknown\")"
	! grep -q "guest=\"os-$1\"" "$BOOT_WORK/stats" ||
		fail "the shipped configuration named a guest from its QEMU's command line"
	note "$1 virtio-rng: crng init done at $(log_ts 'random: crng init done' "$log") s;" \
		"service: $(report "$log" status)"
}

# os_check_disabled NAME: 3, rd.virtseed=0: no initramfs instance, the service still runs.
os_check_disabled() {
	local log=$BOOT_WORK/$1-off.log
	# shellcheck disable=SC2046
	os_boot "$log" "rd.virtseed=0" $(qemu_rng_egd os)
	grep -qE 'virtseed-(initrd|preinit): disabled by rd.virtseed=0' "$log" ||
		fail "rd.virtseed=0 not honoured: $log"
	! grep -v '^virtseed-report: ' "$log" | grep -q 'virtseed: seeded:' ||
		fail "the initramfs instance ran despite rd.virtseed=0: $log"
	assert_service "$log"
}

# os_check_rdrand NAME: 2, no virtio-rng, -cpu max, trust_cpu=off (the kernel credits none
# of RDRAND itself, nor does the agent unless told: virtseed.credit-rdrand): the agent's
# rdrand source seeds in the initramfs.
os_check_rdrand() {
	local log=$BOOT_WORK/$1-rdrand.log
	os_boot "$log" "virtseed.credit-rdrand=4" -cpu max
	assert_before "$log" 'virtseed: seeded: .*rdrand=[1-9]' "$OS_UDEV"
	assert_before "$log" 'random: crng init done' "$OS_UDEV"
	assert_vault "$log"
	assert_one_instance "$log"
	assert_service "$log"
	note "$1 rdrand: crng init done at $(log_ts 'random: crng init done' "$log") s"
}

# os_check_removed NAME: 4, dpkg -r keeps the conffile, dpkg -P drops it; the initramfs is
# rebuilt without virtseed and the system boots without it.
os_check_removed() {
	local log=$BOOT_WORK/$1-removed.log
	os_chroot dpkg -r virtseed >"$BOOT_WORK/remove.log" 2>&1 ||
		{ cat "$BOOT_WORK/remove.log"; fail "dpkg -r virtseed"; }
	[ -f "$OS_ROOT/etc/virtseed/virtseed.conf" ] || fail "dpkg -r removed the conffile"
	os_chroot dpkg -P virtseed >>"$BOOT_WORK/remove.log" 2>&1 ||
		{ cat "$BOOT_WORK/remove.log"; fail "dpkg -P virtseed"; }
	[ ! -e "$OS_ROOT/etc/virtseed" ] || fail "dpkg -P left /etc/virtseed"
	os_disk
	[ "$(initramfs_count virtseed)" = 0 ] || fail "the initramfs still has virtseed after removal"
	# shellcheck disable=SC2046
	os_boot "$log" "" $(qemu_rng_egd os)
	! grep -v 'virtseed-report' "$log" | grep -qE 'virtseed(d|-initrd|-preinit|\.service|:)' ||
		fail "virtseed ran after removal: $log"
	[ "$(report "$log" service)" = "inactive dead" ] ||
		fail "virtseed.service after removal: $(report "$log" service)"
}
