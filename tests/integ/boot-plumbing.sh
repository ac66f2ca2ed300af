#!/bin/bash
# Boot plumbing, independent of the agent: a stub virtseedd in each image flavor (dracut with
# systemd, dracut's shell /init, initramfs-tools) must run from the initramfs before udev
# starts, and not at all with rd.virtseed=0.  No virtio-rng, -cpu qemu64: nothing seeds.
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
boot_init
stub=$BOOT_CACHE/stub-virtseedd
printf '#!/bin/sh\necho "virtseed-stub: ran $*" >&2\n' >"$stub"
chmod +x "$stub"
VIRTSEEDD=$stub # read by boot_image

# check NAME KIND FLAVOR UDEV_REGEX [APPEND]
check() {
	local log=$BOOT_WORK/plumbing-$1.log img ran udev
	img=$(boot_image "$2" "$3") || fail "$1: image build failed"
	boot_run "$img" "$log" "entropy_boot.max=12 entropy_boot.hold=0 ${5:-}" -cpu qemu64
	grep -q 'entropy-boot: end' "$log" || fail "$1: no tracer output (see $log)"
	ran=$(log_line 'virtseed-stub: ran --until-ready' "$log")
	udev=$(log_line "$4" "$log")
	if [ -n "${5:-}" ]; then
		[ -z "$ran" ] || fail "$1: agent ran despite $5"
		note "$1: agent skipped with $5"
		return
	fi
	[ -n "$ran" ] || fail "$1: agent did not run (see $log)"
	[ -n "$udev" ] || fail "$1: no udev marker '$4' (see $log)"
	[ "$ran" -lt "$udev" ] || fail "$1: agent ran after udev (lines $ran, $udev)"
	note "$1: agent ran at console line $ran, udev at line $udev"
}
trigger='Starting .*systemd-udev-trigger|Coldplug All udev'
check dracut-systemd dracut systemd "$trigger"
check dracut-shell dracut shell 'Starting systemd-udevd version'
check initramfs-tools itools virtseed 'Starting systemd-udevd version'
check dracut-systemd-off dracut systemd "$trigger" rd.virtseed=0
check initramfs-tools-off itools virtseed 'Starting systemd-udevd version' rd.virtseed=0
echo "ok: plumbing"
