#!/bin/sh
# virtseed-libvirt's command line: each mistake gets one line naming the option, the value
# and what is allowed, and exit status 1; none needs libvirtd.
set -u
top_builddir=${top_builddir:-.}
LV=$top_builddir/libvirt/virtseed-libvirt
[ -x "$LV" ] || { echo "SKIP: no $LV (configure --with-libvirt)"; exit 77; }
rc=0
check() { # EXPECTED-LINE ARGS...
	want=$1
	shift
	out=$("$LV" "$@" 2>&1)
	st=$?
	if [ "$st" = 1 ] && [ "$out" = "$want" ]; then
		echo "ok: $*"
	else
		echo "FAIL: virtseed-libvirt $* (exit $st) printed '$out', expected '$want'"
		rc=1
	fi
}
check "<3>Unknown option '--bogus'." --bogus
check "<3>Unknown option '--bogus'." --bogus=1
check "<3>Unknown option '-x'." -x
check "<3>Invalid value 'loud' for --log-level: allowed err, warning, notice, info, debug." \
	--log-level=loud
check "<3>Option '--log-level' needs a value." --log-level
check "<3>Unexpected argument 'stray' (attach and detach come first)." stray
check "<3>Expected one DOMAIN argument, got 0." attach
check "<3>Expected one DOMAIN argument, got 2." detach a b
check "<3>Invalid value 'tcp' for --mode: allowed bind or connect." attach vm --mode=tcp
check "<3>Invalid value 'rel.sock' for --path: allowed an absolute path of < 108 bytes without quotes, < > or &." \
	attach vm --path=rel.sock
check "<3>Option '--path' needs a value." detach vm --path
check "<3>Invalid value '601' for --wait: allowed seconds from 0 to 600." detach vm --wait 601
check "<3>Invalid value '-1' for --wait: allowed seconds from 0 to 600." detach vm --wait=-1
check "<3>Option '--wait' is for detach only." attach vm --wait 5
check "<3>Unknown option '--nope'." attach vm --nope
exit $rc
