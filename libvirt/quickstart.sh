#!/bin/sh
# The host-side quick start (README.md): as root, after building with --with-libvirt, start
# virtseed-egd with a control socket, virtseed-libvirt, and a TCG guest defined through
# libvirt whose virtio-rng is a bind-mode egd device; print the guest's line about the
# bytes it read from /dev/hwrng and the distributor's stats; then remove all of it again.
# Uses a running libvirtd, or starts (and afterwards stops) virtlogd and libvirtd.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
LV_USE_RUNNING=1
# shellcheck source=tests/integ/libvirt-lib.sh
. "$top_srcdir/tests/integ/libvirt-lib.sh"
[ -x "$EGD" ] || fail "no $EGD: build first (./configure --with-libvirt && make)"
lv_need
t=$lv_tmp
cat >"$t/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/modules/$m"; done </modules/order
n=$(dd if=/dev/hwrng bs=64 count=4 2>/dev/null | wc -c)
echo "guest: read $n bytes from /dev/hwrng ($(cat /sys/class/misc/hw_random/rng_current))"
sleep 600
INIT
echo "Building the guest's initramfs, starting libvirt..."
lv_initrd "$t/initrd.gz" "$t/init"
cat >"$t/egd.conf" <<CONF
source = getrandom
listen = unix:$t/egd.sock
control = $t/control
stats = $t/stats.sock

[class demo]
rate = 8K
ceil = 64K
CONF
"$EGD" --config "$t/egd.conf" >"$t/egd.log" 2>&1 &
lv_pids=$!
lv_wait "$t/egd.log" "Serving" 5 || fail "virtseed-egd did not start: $(cat "$t/egd.log")"
"$LV" --control "$t/control" >"$t/lv.log" 2>&1 &
lv_pids="$lv_pids $!"
lv_start
lv_define virtseed-demo "$t/initrd.gz" "$(lv_rng bind "$t/demo.sock")" "$(lv_meta "class='demo'")"
echo "Starting domain virtseed-demo (TCG, a few seconds)..."
virsh start virtseed-demo >/dev/null || fail "virsh start virtseed-demo"
lv_wait "$t/virtseed-demo.console" '^guest: ' 120 ||
	fail "no line from the guest: $(cat "$t/lv.log" "$t/egd.log")"
grep '^guest: ' "$t/virtseed-demo.console"
echo "virtseed-libvirt: $(grep "handed" "$t/lv.log")"
echo "virtseed-egd --stats:"
"$EGD" --stats "$t/stats.sock" | grep -E '^virtseed_egd_(guest_(bytes_total|connections)|connections)'
