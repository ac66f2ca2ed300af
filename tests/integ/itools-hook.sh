#!/bin/sh
# The initramfs-tools hook run as mkinitramfs runs it (DESTDIR holding /init, CONFDIR):
# /init becomes virtseed-preinit in front of the old /init, with the budget and the unmount
# mark; virtseed_preinit= in CONFDIR/conf.d/virtseed sets the budget or leaves /init alone;
# a bad value stops the build with one line naming the file.
set -u
top_builddir=${top_builddir:-.}
hook=$top_builddir/initramfs/initramfs-tools/hooks/virtseed
fail() { echo "FAIL: $*"; exit 1; }
[ -f /usr/share/initramfs-tools/hook-functions ] ||
	{ echo "SKIP: no initramfs-tools (apt-get install initramfs-tools-core)"; exit 77; }
[ -x "$top_builddir/initramfs/virtseed-preinit" ] || { echo "SKIP: not built"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CONFDIR="$tmp/conf" version=none verbose=n MODULESDIR=$tmp/modules
export VIRTSEED_AGENT="$top_builddir/agent/virtseedd" \
	VIRTSEED_INITRD="$top_builddir/initramfs/virtseed-initrd" \
	VIRTSEED_PREINIT="$top_builddir/initramfs/virtseed-preinit"
mkdir -p "$CONFDIR/conf.d" "$MODULESDIR"

# run CONF: the hook on a fresh DESTDIR whose /init is a script; its output in $tmp/out.
run() {
	rm -rf "$tmp/d" "$CONFDIR/conf.d/virtseed"
	mkdir "$tmp/d"
	printf '#!/bin/sh\necho initramfs-tools init\n' >"$tmp/d/init"
	[ -z "$1" ] || echo "$1" >"$CONFDIR/conf.d/virtseed"
	DESTDIR=$tmp/d sh "$hook" >"$tmp/out" 2>&1
}
# wrapped BUDGET: /init is the wrapper, the old /init its real-init.
wrapped() {
	d=$tmp/d
	[ "$(readlink "$d/init")" = usr/libexec/virtseed/virtseed-preinit ] ||
		fail "/init is not the wrapper: $(ls -l "$d/init")"
	cmp -s "$d/usr/libexec/virtseed/virtseed-preinit" "$VIRTSEED_PREINIT" ||
		fail "the wrapper in the image is not the built one"
	[ "$(tail -n1 "$d/usr/libexec/virtseed/real-init")" = "echo initramfs-tools init" ] ||
		fail "real-init is not the old /init"
	[ "$(cat "$d/etc/virtseed/preinit-timeout")" = "$1" ] ||
		fail "budget '$(cat "$d/etc/virtseed/preinit-timeout")', want $1"
	[ -f "$d/etc/virtseed/preinit-unmount" ] || fail "no preinit-unmount mark"
	[ -x "$d/usr/sbin/virtseedd" ] || fail "no agent in the image"
}

run "" || fail "hook failed: $(cat "$tmp/out")"
wrapped 2
echo "ok: no configuration: /init is the wrapper, budget 2 s"
run "virtseed_preinit=7" || fail "hook failed: $(cat "$tmp/out")"
wrapped 7
echo "ok: virtseed_preinit=7"
run "virtseed_preinit=no" || fail "hook failed: $(cat "$tmp/out")"
[ -f "$tmp/d/init" ] && [ ! -L "$tmp/d/init" ] && [ ! -e "$tmp/d/usr/libexec/virtseed/real-init" ] ||
	fail "virtseed_preinit=no: /init was replaced"
[ -x "$tmp/d/usr/sbin/virtseedd" ] || fail "virtseed_preinit=no: no agent in the image"
echo "ok: virtseed_preinit=no leaves /init alone"
for bad in 2s 0 -1 "' '"; do
	run "virtseed_preinit=$bad" && fail "virtseed_preinit=$bad was accepted"
	v=$(sh -c "virtseed_preinit=$bad; echo \"\$virtseed_preinit\"")
	want="virtseed: virtseed_preinit='$v' in $CONFDIR/conf.d/virtseed: want seconds or no"
	[ "$(cat "$tmp/out")" = "$want" ] || fail "virtseed_preinit=$bad printed:
$(cat "$tmp/out")
want:
$want"
	echo "ok: virtseed_preinit=$bad: $want"
done
echo PASS
