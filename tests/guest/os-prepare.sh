#!/bin/sh
# Build ahead what the whole-OS tests (tests/integ/debian-lintian.sh, os-*.sh) would build
# when they start: virtseed's packages (os-debs.sh, with their build chroots) and the Debian
# roots (os-base.sh), in the order the tests ask for them.  tests/run-all.sh runs it in the
# background from the suite's start, so that this work overlaps the first guests' boots,
# which take one core (QEMU/TCG, one guest at a time).  Both scripts lock each cache entry:
# a test asking for one that is still being built waits for it.  Stops at the first
# failure; the test that needs that entry then reports it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/os-debs.sh" bookworm
sh "$here/os-base.sh" bookworm os
sh "$here/os-base.sh" bookworm host
sh "$here/os-debs.sh" trixie
sh "$here/os-base.sh" trixie os
sh "$here/os-base.sh" trixie host
sh "$here/os-base.sh" trixie os-dracut
