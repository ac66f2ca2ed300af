#!/bin/sh
# Three tiers of virtseed-egd chained over TLS (socat's OPENSSL addresses) on loopback:
# datacenter -> host -> guest; the datacenter is killed, restarted slow, and the host
# tier keeps serving its guest and reconnects by itself.  See virtseed-egd(8) EXAMPLES.
set -eu
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
EGD=$top_builddir/egd/virtseed-egd
[ -x /usr/bin/python3 ] || { echo "SKIP: no /usr/bin/python3"; exit 77; }
[ -x "$EGD" ] || { echo "SKIP: no $EGD"; exit 77; }
command -v socat >/dev/null || { echo "SKIP: no socat (Debian package socat)"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
exec timeout 200 /usr/bin/python3 "$top_srcdir/tests/integ/egd-chain.py" "$EGD"
