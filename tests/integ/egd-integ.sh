#!/bin/sh
# virtseed-egd over real unix and TCP (loopback) sockets: protocol stream, many
# clients, pipelining, slow readers, resets, floods, limits, SIGHUP, connect-out.
set -eu
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
EGD=$top_builddir/egd/virtseed-egd
[ -x /usr/bin/python3 ] || { echo "SKIP: no /usr/bin/python3"; exit 77; }
[ -x "$EGD" ] || { echo "SKIP: no $EGD"; exit 77; }
exec timeout 300 /usr/bin/python3 "$top_srcdir/tests/integ/egd-integ.py" "$EGD"
