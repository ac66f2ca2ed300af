#!/bin/sh
# virtseed-initrd: seed the kernel RNG from the initramfs, before udev coldplug and cryptsetup.
# Shared by the dracut module (systemd unit or cmdline hook) and the initramfs-tools
# init-top script.  Loads the virtio drivers the agent's sources need for the devices
# present (udev has not run yet), creates the /dev/virtio-ports/NAME links udev would create, then runs
# `virtseedd --until-ready`, which exits as soon as the CRNG is ready or its timeout expires.
# rd.virtseed=0 on the kernel command line skips all of it.  Extra arguments go to the agent.
agent=${VIRTSEED_AGENT:-/usr/sbin/virtseedd}

read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case $arg in
	rd.virtseed=0 | rd.virtseed=no | rd.virtseed=off | rd.virtseed=false)
		echo "virtseed-initrd: disabled by rd.virtseed=0" >&2
		exit 0
		;;
	esac
done

# Load only the drivers of devices present: each (signed) module costs time, as does each
# exec on a slow guest, so the tests are shell builtins.
# has_line VALUE FILE...: does one of the one-line FILEs hold VALUE?
has_line() {
	want=$1
	shift
	for f; do
		[ -r "$f" ] && read -r v <"$f" && [ "$v" = "$want" ] && return 0
	done
	return 1
}
virtio_has() {
	has_line "$1" /sys/bus/virtio/devices/*/device
}
has_named_port() {
	for f in /sys/class/virtio-ports/*/name; do
		[ -s "$f" ] && return 0
	done
	return 1
}
# (virtio_pci is often built in: then its driver directory exists and modprobe is skipped.)
if [ ! -d /sys/bus/pci/drivers/virtio-pci ] && has_line 0x1af4 /sys/bus/pci/devices/*/vendor; then
	modprobe -qb virtio_pci
fi
if virtio_has 0x0004; then
	modprobe -qb virtio_rng
fi
# virtio-serial ports are announced by the host after the driver binds: give them up to
# 1 s to show their names, then link them as udev's rules would.
if virtio_has 0x0003; then
	modprobe -qb virtio_console
	i=0
	while ! has_named_port && [ $i -lt 20 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	for f in /sys/class/virtio-ports/*/name; do
		[ -s "$f" ] || continue
		read -r name <"$f"
		port=${f%/name}
		port=${port##*/}
		mkdir -p /dev/virtio-ports
		[ -e "/dev/virtio-ports/$name" ] || ln -s "../$port" "/dev/virtio-ports/$name"
	done
fi

exec "$agent" --until-ready "$@"
