#!/bin/bash
# Boot plumbing, independent of the agent: a stub virtseedd in each image flavor (dracut with
# systemd, where the pre-init wrapper runs it before systemd starts; the same with the initrd
# unit alone; dracut's shell /init; initramfs-tools, where the wrapper runs it before /init)
# must run from the initramfs before udev starts, and not at all with rd.virtseed=0.  No
# virtio-rng, -cpu qemu64: nothing seeds.
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
	BOOT_UNTIL=("$4")
	boot_run "$img" "$log" "entropy_boot.max=40 entropy_boot.hold=40 ${5:-}" -cpu qemu64
	assert_tracer "$log"
	ran=$(log_line 'virtseed-stub: ran --until-ready' "$log")
	udev=$(log_line "$4" "$log")
	if [ -n "${5:-}" ]; then
		[ -z "$ran" ] || fail "$1: agent ran despite $5"
		grep -qE 'virtseed-initrd.service.*skipped|virtseed-initrd: disabled' "$log" ||
			fail "$1: no log line about skipping the agent"
		if [ "$3" = systemd ] || [ "$2" = itools ]; then
			grep -q 'virtseed-preinit: disabled by rd.virtseed=0' "$log" ||
				fail "$1: the pre-init wrapper did not say it was disabled"
		fi
		note "$1: agent skipped with $5"
		return
	fi
	[ -n "$ran" ] || fail "$1: agent did not run (see $log)"
	[ -n "$udev" ] || fail "$1: no udev marker '$4' (see $log)"
	[ "$ran" -lt "$udev" ] || fail "$1: agent ran after udev (lines $ran, $udev)"
	if [ "$3" = systemd ] || [ "$2" = itools ]; then
		# The pre-init wrapper runs it first; the stub seeds nothing: no mark, so what
		# comes next (the initrd unit, the init-top script) tries again.
		assert_before "$log" 'virtseed-stub: ran --until-ready --timeout=2' \
			'virtseed-stub: ran --until-ready$'
		assert_before "$log" 'virtseed-stub: ran --until-ready$' "$4"
		note "$1: the pre-init wrapper ran the agent, then the initrd's own step"
	fi
	if [ "$3" = systemd ]; then
		assert_before "$log" 'virtseed-stub: ran --until-ready --timeout=2' "$SYSTEMD_START"
		! grep -q "$PREINIT_SKIPPED" "$log" || fail "$1: initrd unit skipped, CRNG not ready"
	fi
	note "$1: agent ran at console line $ran, udev at line $udev"
}
trigger='Starting .*systemd-udev-trigger|Coldplug All udev'
udevd='Starting systemd-udevd version'
check dracut-systemd dracut systemd "$trigger"
check dracut-systemd-unit dracut systemd-unit "$trigger"
check dracut-shell dracut shell "$udevd"
check initramfs-tools itools virtseed "$udevd"
check dracut-systemd-off dracut systemd "$trigger" rd.virtseed=0
check dracut-shell-off dracut shell "$udevd" rd.virtseed=off
check initramfs-tools-off itools virtseed "$udevd" rd.virtseed=0
echo "ok: plumbing"
