#!/bin/sh
# virtseed-libvirt attach/detach (test 7 of the libvirt issue) against a real libvirtd:
# on a running domain, live and persistent (the guest kernel sees virtio_rng.0 come and
# go), on a guest that never releases the device (--wait's limit), and on a defined, stopped
# domain (persistent only); the exact lines printed, and the errors for a missing domain and
# a missing device.
set -u
# shellcheck source=tests/integ/libvirt-lib.sh
. "$(dirname "$0")/libvirt-lib.sh"
[ -z "${VIRTSEED_SKIP_E2E:-}" ] || skip "guest boots run once per suite (VIRTSEED_SKIP_E2E)"
lv_need
R=lvattach-run-$$ D=lvattach-def-$$ N=lvattach-deaf-$$
cat >"$lv_tmp/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/modules/$m"; done </modules/order
last=none
while true; do
	cur=$(cat /sys/class/misc/hw_random/rng_available 2>/dev/null)
	[ "$cur" = "$last" ] || echo "LVTEST rng_available=[$cur]"
	last=$cur
	sleep 0.2
done
INIT
lv_initrd "$lv_tmp/initrd.gz" "$lv_tmp/init"
lv_start
sockdir=$lv_tmp/rng
mkdir "$sockdir"
chown libvirt-qemu:libvirt-qemu "$sockdir"      # QEMU binds hot-plugged sockets itself
lv_define $R "$lv_tmp/initrd.gz" ""
lv_define $D "$lv_tmp/initrd.gz" ""
# A guest without ACPI never answers q35's ACPI hot-unplug request: the detach that waits
# (twice: spare root ports, as each detached device keeps its own).
port="<controller type='pci' model='pcie-root-port'/>"
ports="<controller type='pci' index='0' model='pcie-root'/>$port$port$port$port$port"
lv_define $N "$lv_tmp/initrd.gz" "$ports" "" "acpi=off"
virsh start $R >/dev/null || fail "virsh start"
virsh start $N >/dev/null || fail "virsh start $N"
con=$lv_tmp/$R.console
lv_wait "$con" 'LVTEST rng_available=\[\]' 120 || fail "the guest did not boot: $(cat "$con")"

expect() { # EXPECTED-OUTPUT COMMAND...
	want=$1
	shift
	out=$("$@" 2>&1)
	[ "$out" = "$want" ] || fail "'$*' printed:
$out
expected:
$want"
	echo "ok: $*"
}
nrng() { virsh -r dumpxml "$@" | grep -c "path='$sockdir/"; }

s1=$sockdir/run.sock
el="<rng model='virtio'><backend model='egd' type='unix'><source mode='bind' path='$s1'/></backend></rng>"
expect "Attached to '$R' (live and persistent): $el" \
	"$LV" attach $R --live --config --path "$s1"
lv_wait "$con" 'LVTEST rng_available=\[virtio_rng.0 \]' 30 || fail "the guest did not see the device"
echo "ok: the guest sees virtio_rng.0"
[ "$(nrng $R)" = 1 ] && [ "$(nrng --inactive $R)" = 1 ] ||
	fail "live/persistent XML lack the device"
[ -S "$s1" ] || fail "no socket at $s1"
# Serve the device, as the libvirt service would hand it to the distributor: unserved, the
# guest's hwrng thread (Linux 6.1) blocks in its first read holding the lock the hot-plug
# handler then waits for, and the guest never handles the eject request.  The distributor
# connected late answers that read with its restart prefix.  It runs as QEMU's user, as it
# keeps no capability to open another user's socket.
"$EGD" -u libvirt-qemu -c /dev/null -s getrandom -C "unix:$s1" -S "$lv_tmp/stats.sock" >"$lv_tmp/egd.log" 2>&1 &
egd=$!
lv_pids="$lv_pids $egd"
for _ in $(seq 100); do
	"$EGD" --stats "$lv_tmp/stats.sock" 2>/dev/null |
		grep -qE 'guest_bytes_total\{guest="unknown"[^}]*\} [1-9]' && break
	sleep 0.1
done
"$EGD" --stats "$lv_tmp/stats.sock" | grep -qE 'guest_bytes_total\{guest="unknown"[^}]*\} [1-9]' ||
	fail "the distributor served the attached device nothing: $(cat "$lv_tmp/egd.log")"
echo "ok: the distributor serves the attached device"
# No reply may reach QEMU 7.2 after the unplug (it can crash): stop serving first.
kill "$egd"
wait "$egd" 2>/dev/null
# TCG under load: the guest may take well over libvirt's own 5 s to release it.
expect "Detached from '$R' (live): the RNG device on '$s1'
Detached from '$R' (persistent): the RNG device on '$s1'" \
	"$LV" detach $R --live --config --path "$s1" --wait 120
[ "$(nrng $R)" = 0 ] && [ "$(nrng --inactive $R)" = 0 ] ||
	fail "the device is still in the XML"
lv_wait "$con" 'LVTEST rng_available=\[\]' 30 && grep -q 'virtio_rng.0' "$con" ||
	fail "the guest still has the device"
echo "ok: the guest released it"
expect "<3>Domain '$R' has no RNG device on '$s1' (live)." \
	"$LV" detach $R --live --path "$s1"

lv_wait "$lv_tmp/$N.console" 'LVTEST rng_available=\[\]' 120 || fail "$N did not boot"
s3=$sockdir/deaf.sock
out=$("$LV" attach $N --live --path "$s3" 2>&1) || fail "attach to $N: $out"
t0=$(date +%s%N)
expect "Asked '$N' to release the RNG device on '$s3' (live); the guest has not yet." \
	"$LV" detach $N --live --path "$s3" --wait 2
t=$((($(date +%s%N) - t0) / 1000000))
[ "$(nrng $N)" = 1 ] || fail "$N's device left although its guest never released it"
[ $t -ge 6500 ] && [ $t -le 12000 ] ||
	fail "the detach returned after $t ms, not libvirt's 5 s + --wait 2"
echo "ok: the detach gave up on $N's guest after $t ms (libvirt's 5 s + --wait 2)"
s4=$sockdir/deaf-default.sock
out=$("$LV" attach $N --live --path "$s4" 2>&1) || fail "attach to $N: $out"
t0=$(date +%s%N)
expect "Asked '$N' to release the RNG device on '$s4' (live); the guest has not yet." \
	"$LV" detach $N --live --path "$s4"
t=$((($(date +%s%N) - t0) / 1000000))
[ $t -ge 14500 ] && [ $t -le 20000 ] ||
	fail "the detach returned after $t ms, not libvirt's 5 s + the default 10 s"
echo "ok: without --wait it gave up after $t ms (libvirt's 5 s + 10 s)"
virsh destroy $N >/dev/null

s2=$sockdir/def.sock
el2="<rng model='virtio'><backend model='egd' type='unix'><source mode='bind' path='$s2'/></backend></rng>"
expect "Attached to '$D' (persistent): $el2" "$LV" attach $D --path "$s2"
[ "$(nrng --inactive $D)" = 1 ] || fail "the definition lacks the device"
virsh start $D >/dev/null || fail "$D does not start with the device"
lv_wait "$lv_tmp/$D.console" 'LVTEST rng_available=\[virtio_rng.0 \]' 120 ||
	fail "$D's guest has no virtio_rng.0"
echo "ok: $D boots with the device"
virsh destroy $D >/dev/null
expect "Detached from '$D' (persistent): the RNG device on '$s2'" \
	"$LV" detach $D --path "$s2"
[ "$(nrng --inactive $D)" = 0 ] || fail "the definition still has the device"

expect "Attached to '$D' (persistent): <rng model='virtio'><backend model='egd' type='unix'><source mode='connect' path='/run/virtseed/egd.sock'/></backend></rng>" \
	"$LV" attach $D --mode connect
out=$("$LV" attach lvattach-nosuch-$$ 2>&1) && fail "attach to a missing domain succeeded"
case $out in "<3>No domain 'lvattach-nosuch-$$': "*) echo "ok: $out" ;; *) fail "$out" ;; esac
echo "PASS"
