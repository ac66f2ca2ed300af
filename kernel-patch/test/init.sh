#!/bin/busybox sh
# shellcheck shell=dash
# /init of the kernel-patch boot-test initramfs. Every result goes to
# /dev/kmsg as a "VST:" line so it carries the kernel's own timestamp in the
# console log, next to "crng init done" and the hwrng core's messages.
# Nothing here may call a blocking getrandom(): hwrng-probe only uses
# GRND_NONBLOCK, and busybox does not call getrandom at all.
# Settings come from the kernel command line as vst_*=... (passed to init
# as environment variables): vst_reads=1 runs the /dev/hwrng read probes
# (vst_readsize bytes each, default 16), vst_wait=MS bounds the final wait
# for the CRNG, vst_fork=1 waits for a VM fork (see fork-test.py).

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

k() {
	echo "VST: $*" > /dev/kmsg
}

k "init crng=$(hwrng-probe crng)"
# "calling <virtio_rng init> @ pid" / "initcall ... returned ... after N
# usecs" bracket the driver's probe and hwrng_register() (loglevel=8 shows
# them on the console).
echo 1 > /sys/module/kernel/parameters/initcall_debug
k "insmod-start"
insmod /virtio-rng.ko
rc=$?
# A builtin echo right away: its timestamp is when insmod returned.
echo "VST: insmod-returned" > /dev/kmsg
k "insmod-done rc=$rc crng=$(hwrng-probe crng)"

hw=/sys/class/misc/hw_random
k "rng_current=$(cat $hw/rng_current 2>/dev/null)" \
	"rng_quality=$(cat $hw/rng_quality 2>/dev/null || echo none)"
for p in /sys/module/rng_core/parameters/*; do
	[ -e "$p" ] && k "param ${p##*/}=$(cat "$p")"
done

if [ "${vst_reads:-0}" = 1 ]; then
	n=${vst_readsize:-16}
	k "read-nonblock $(hwrng-probe read nonblock "$n" 5000)"
	k "read-block $(hwrng-probe read block "$n" 5000)"
fi

k "wait-crng $(hwrng-probe wait-crng "${vst_wait:-3000}")"

# vst_fork=1 (fork-test.py): wait for a VM fork both ways while 20 other kernel log
# lines are written; the host snapshots after "fork-ready" and resumes clones.
if [ "${vst_fork:-0}" = 1 ]; then
	hwrng-probe fork-wait sysfs 60000 >/fork-sysfs &
	hwrng-probe fork-wait kmsg 60000 >/fork-kmsg &
	sleep 1
	i=0
	while [ $i -lt 20 ]; do
		k "noise $i"
		i=$((i + 1))
		sleep 0.1
	done
	sleep 1
	k "fork-ready"
	wait
	k "fork-result $(cat /fork-sysfs) $(cat /fork-kmsg)"
fi
k "done"
reboot -f
