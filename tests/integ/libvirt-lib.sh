# shellcheck shell=sh
# Shared by libvirt-*.sh: a real libvirtd (and virtlogd) started and stopped here, and TCG
# domains booting the suite's guest kernel with a busybox initramfs, console to a file.
# Skips (77) unless root with libvirtd, virsh, QEMU, busybox-static and the guest kernel,
# or when a libvirtd this test did not start is running (it must restart libvirtd).
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
# shellcheck disable=SC2034 # used by the scripts that source this file
LV=$top_builddir/libvirt/virtseed-libvirt
# shellcheck disable=SC2034
EGD=$top_builddir/egd/virtseed-egd
LV_NS=http://virtseed.org/xmlns/libvirt/1
export LIBVIRT_DEFAULT_URI=qemu:///system
cache=${VIRTSEED_CACHE:-/var/cache/virtseed-tests}
lv_tmp='' lv_doms='' lv_pids='' lv_own_virtlogd='' lv_running='' lv_libvirtd=''

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

lv_need() {
	[ "$(id -u)" = 0 ] || skip "needs root (libvirtd)"
	for c in libvirtd virtlogd virsh qemu-system-x86_64; do
		command -v "$c" >/dev/null || skip "no $c (apt-get install libvirt-daemon-system)"
	done
	[ -x /bin/busybox ] || skip "no /bin/busybox (busybox-static)"
	[ -x "$LV" ] || skip "no $LV (configure --with-libvirt)"
	mkdir -p "$cache" 2>/dev/null || skip "cannot create $cache"
	kdir=$(sh "$top_srcdir/tests/guest/fetch-kernel.sh" "$cache") ||
		skip "cannot fetch the guest kernel"
	# One libvirt test at a time on this machine (libvirtd is machine-wide).
	command -v flock >/dev/null || skip "no flock (util-linux)"
	exec 9>/run/lock/virtseed-libvirt-tests.lock
	flock -w 900 9 || skip "another libvirt test held the lock for 15 minutes"
	[ -n "${LV_USE_RUNNING:-}" ] || ! alive /run/libvirtd.pid ||
		skip "a libvirtd not started by this test is running"
	lv_tmp=$(mktemp -d)
	chmod 755 "$lv_tmp"     # QEMU (libvirt-qemu) reads the kernel and initramfs here
	trap lv_cleanup EXIT
	trap 'exit 1' INT TERM HUP      # so that the EXIT trap removes the domains
}

lv_wait_up() {
	for _ in $(seq 600); do
		virsh -r list >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "libvirtd did not answer within 60 s"
}

# LV_USE_RUNNING=1 (libvirt/quickstart.sh): a libvirtd that answers is used, never stopped.
lv_start() {
	if [ -n "${LV_USE_RUNNING:-}" ] && virsh -r list >/dev/null 2>&1; then
		lv_running=1
		return 0
	fi
	if ! alive /run/virtlogd.pid; then
		virtlogd -d
		lv_own_virtlogd=1
	fi
	libvirtd -d || skip "libvirtd -d failed (another one started meanwhile?)"
	lv_libvirtd=$(cat /run/libvirtd.pid)
	lv_wait_up
}

lv_stop() {
	[ -z "$lv_running" ] || return 0
	alive /run/libvirtd.pid || return 0
	p=$(cat /run/libvirtd.pid)
	[ "$p" = "$lv_libvirtd" ] || fail "libvirtd $p is not the one this test started"
	kill "$p"
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	fail "libvirtd ($p) did not stop"
}

lv_cleanup() {
	for p in $lv_pids; do kill "$p" 2>/dev/null; done
	if [ -n "$lv_doms" ]; then
		alive /run/libvirtd.pid || lv_start
		for d in $lv_doms; do
			virsh destroy "$d" >/dev/null 2>&1
			virsh undefine "$d" >/dev/null 2>&1
			rm -f "/var/log/libvirt/qemu/$d.log"
		done
	fi
	lv_stop
	[ -z "$lv_own_virtlogd" ] || kill "$(cat /run/virtlogd.pid)" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$lv_tmp"
}

# lv_initrd OUT INIT: a busybox initramfs with virtio_rng whose /init is INIT.
lv_initrd() {
	sh "$top_srcdir/tests/guest/busybox-initramfs.sh" "$1" "$kdir" "$2"
	chmod 644 "$1"
}

# lv_define NAME INITRD DEVICES [METADATA [CMDLINE]]: a persistent TCG domain, console in
# $lv_tmp/NAME.console; CMDLINE is added to the kernel's command line.
lv_define() {
	cat >"$lv_tmp/$1.xml" <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <metadata>${4:-}</metadata>
  <os><type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$kdir/vmlinuz</kernel>
    <initrd>$2</initrd>
    <cmdline>console=ttyS0 random.trust_cpu=off random.trust_bootloader=off panic=-1 quiet${5:+ $5}</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <serial type='file'><source path='$lv_tmp/$1.console'/></serial>
    $3
  </devices>
</domain>
XML
	virsh define "$lv_tmp/$1.xml" >/dev/null || fail "virsh define $1"
	lv_doms="$lv_doms $1"
}

lv_rng() { # MODE PATH
	echo "<rng model='virtio'><backend model='egd' type='unix'><source mode='$1' path='$2'/></backend></rng>"
}

lv_meta() { # ATTRIBUTES
	echo "<virtseed:guest xmlns:virtseed='$LV_NS' $1/>"
}

# lv_wait FILE PATTERN SECONDS
lv_wait() {
	for _ in $(seq $(($3 * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
