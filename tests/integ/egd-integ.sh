#!/bin/sh
# virtseed-egd over real unix and TCP (loopback) sockets: protocol stream, many
# clients, pipelining, slow readers, resets, floods, limits, SIGHUP, connect-out.
set -eu
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
EGD=$top_builddir/egd/virtseed-egd
[ -x /usr/bin/python3 ] || { echo "SKIP: no /usr/bin/python3"; exit 77; }
[ -x "$EGD" ] || { echo "SKIP: no $EGD"; exit 77; }
# Built with libseccomp: check that the allow-list is loaded and sufficient.
if grep -q '^#define HAVE_SECCOMP 1' "$top_builddir/config.h" 2>/dev/null; then
	EGD_SECCOMP=1
	export EGD_SECCOMP
fi
exec timeout 300 /usr/bin/python3 "$top_srcdir/tests/integ/egd-integ.py" "$EGD"
