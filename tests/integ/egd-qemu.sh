#!/bin/sh
# A real QEMU guest (TCG, Debian's 6.1 kernel, busybox initramfs) whose virtio-rng
# is backed by rng-egd -> virtseed-egd.  Checks: the guest reads /dev/hwrng, the
# distributor's stats name the guest (by QEMU's -name via SO_PEERCRED: the
# peer-cmdline fallback, for a socket only QEMU reaches), and after
# the distributor is killed and restarted under the running guest, /dev/hwrng
# reads resume within 2 s (restart prefix; QEMU never resubmits lost requests).
# Then the same with QEMU's chardev in server mode (libvirt's bind mode) and the
# distributor connecting out (a connect entry in the guest's section).
set -eu
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
EGD=$top_builddir/egd/virtseed-egd
cache=${VIRTSEED_CACHE:-/var/cache/virtseed-tests}

skip() { echo "SKIP: $*"; exit 77; }
[ -z "${VIRTSEED_SKIP_E2E:-}" ] || skip "guest boots run once per suite (VIRTSEED_SKIP_E2E)"
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
[ -x /bin/busybox ] || skip "no /bin/busybox (busybox-static)"
[ -x "$EGD" ] || skip "no $EGD"
mkdir -p "$cache" 2>/dev/null || skip "cannot create $cache"
kdir=$(sh "$top_srcdir/tests/guest/fetch-kernel.sh" "$cache") || skip "cannot fetch the guest kernel"

tmp=$(mktemp -d)
egd_pid="" qemu_pid=""
cleanup() {
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
	[ -z "$egd_pid" ] || kill "$egd_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/modules/$m"; done </modules/order
echo "EGDTEST rng_current=$(cat /sys/class/misc/hw_random/rng_current)"
i=0
while [ $i -lt 400 ]; do
	n=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)
	echo "EGDTEST read $i $n $(cut -d' ' -f1 /proc/uptime)"
	i=$((i + 1))
	sleep 0.1
done
poweroff -f
INIT
sh "$top_srcdir/tests/guest/busybox-initramfs.sh" "$tmp/initrd.gz" "$kdir" "$tmp/init"

sock=$tmp/egd.sock stats=$tmp/stats.sock
start_egd() {
	"$EGD" --listen "unix:$sock" --stats-socket "$stats" -v debug "$@" 2>>"$tmp/egd.log" &
	egd_pid=$!
	for _ in $(seq 50); do [ -S "$sock" ] && return 0; sleep 0.1; done
	echo "FAIL: virtseed-egd did not start"; cat "$tmp/egd.log"; exit 1
}
reads() { grep -c 'EGDTEST read [0-9]* 64 ' "$tmp/console" 2>/dev/null || true; }
wait_reads() { # N TIMEOUT_DECISECONDS
	for _ in $(seq "$2"); do [ "$(reads)" -ge "$1" ] && return 0; sleep 0.1; done
	return 1
}

printf 'peer-cmdline = yes\n' >"$tmp/cmdline.conf"
start_egd --config "$tmp/cmdline.conf"
timeout 120 qemu-system-x86_64 -machine q35 -m 256 -nographic -no-reboot -name guest=egdtest \
	-kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" \
	-append "console=ttyS0 random.trust_cpu=off random.trust_bootloader=off panic=-1 quiet" \
	-chardev "socket,id=c0,path=$sock,reconnect=1" -object rng-egd,id=r0,chardev=c0 \
	-device virtio-rng-pci,rng=r0 >"$tmp/console" 2>&1 </dev/null &
qemu_pid=$!

if ! wait_reads 5 900; then
	echo "FAIL: the guest never read /dev/hwrng"; tail -20 "$tmp/console"; cat "$tmp/egd.log"; exit 1
fi
grep 'EGDTEST rng_current' "$tmp/console"
"$EGD" --stats "$stats" >"$tmp/stats"
grep 'guest_bytes_total{guest="egdtest"' "$tmp/stats" || {
	echo "FAIL: stats do not show guest egdtest"; cat "$tmp/stats"; exit 1; }

# Control: restarted without the prefix, the guest's pending read stalls.
printf 'peer-cmdline = yes\nqemu-prefix = 0\n' >"$tmp/noprefix.conf"
kill -9 "$egd_pid"
wait "$egd_pid" 2>/dev/null || true
sleep 1
before=$(reads)
start_egd --config "$tmp/noprefix.conf"
if wait_reads $((before + 1)) 30; then
	echo "note: without the prefix reads resumed too (QEMU resubmitted?)"
else
	echo "control: without the prefix no read completed in 3 s"
fi

# Restart under the running guest, with the prefix (the default).
kill -9 "$egd_pid"
wait "$egd_pid" 2>/dev/null || true
sleep 1
before=$(reads)
t0=$(date +%s%N)
start_egd --config "$tmp/cmdline.conf"
if ! wait_reads $((before + 1)) 100; then
	echo "FAIL: /dev/hwrng reads did not resume after the restart"; tail -5 "$tmp/console"
	cat "$tmp/egd.log"; exit 1
fi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "reads resumed ${ms} ms after the restart"
[ "$ms" -le 2000 ] || { echo "FAIL: resumed after ${ms} ms (> 2000)"; exit 1; }
"$EGD" --stats "$stats" | grep 'guest_bytes_total{guest="egdtest"'
kill "$qemu_pid" "$egd_pid"
wait "$qemu_pid" "$egd_pid" 2>/dev/null || true

# Bind mode: QEMU listens, the distributor connects out and reconnects.
qsock=$tmp/qemu.sock
rm -f "$tmp/console"
timeout 120 qemu-system-x86_64 -machine q35 -m 256 -nographic -no-reboot -name guest=egdbind \
	-kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" \
	-append "console=ttyS0 random.trust_cpu=off random.trust_bootloader=off panic=-1 quiet" \
	-chardev "socket,id=c0,path=$qsock,server=on,wait=off" -object rng-egd,id=r0,chardev=c0 \
	-device virtio-rng-pci,rng=r0 >"$tmp/console" 2>&1 </dev/null &
qemu_pid=$!
for _ in $(seq 100); do [ -S "$qsock" ] && break; sleep 0.1; done
printf '[guest egdbind]\nconnect = unix:%s\n' "$qsock" >"$tmp/bind.conf"
start_egd --config "$tmp/bind.conf"
if ! wait_reads 5 900; then
	echo "FAIL: bind mode: the guest never read /dev/hwrng"; tail -20 "$tmp/console"
	cat "$tmp/egd.log"; exit 1
fi
"$EGD" --stats "$stats" | grep 'guest_bytes_total{guest="egdbind"' || {
	echo "FAIL: bind mode: stats do not show guest egdbind"; exit 1; }
kill -9 "$egd_pid"
wait "$egd_pid" 2>/dev/null || true
sleep 1
before=$(reads)
t0=$(date +%s%N)
start_egd --config "$tmp/bind.conf"
if ! wait_reads $((before + 1)) 100; then
	echo "FAIL: bind mode: reads did not resume after the restart"; cat "$tmp/egd.log"; exit 1
fi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "bind mode: reads resumed ${ms} ms after the restart"
[ "$ms" -le 2000 ] || { echo "FAIL: bind mode: resumed after ${ms} ms (> 2000)"; exit 1; }
echo "PASS"
