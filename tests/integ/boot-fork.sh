#!/bin/bash
# VM fork: a busybox guest (Debian's 6.1 kernel, -device vmgenid) runs virtseedd as a daemon;
# it is snapshotted and restored as two clones.  Each clone's kernel logs its fork notice
# and its agent must log a fork reseed from a fresh source within 100 ms of it (printk
# timestamps of both lines), and the bytes the two agents added must differ (their SHA-256,
# logged at debug level; never the bytes).  Two guests: virtio-rng fed by virtseed-egd
# (the kernel's hwrng thread credits it, so the agent reads /dev/hwrng once per fork) and
# RDRAND only (-cpu max, no virtio-rng).
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
# shellcheck source=tests/integ/boot-fork-lib.sh
. "$(dirname "$0")/boot-fork-lib.sh"
fork_init
FORK_AGENT_ARGS="--log-level=debug --reseed-interval=0"

if [[ ${FORK_VARIANTS:-egd rdrand} == *egd* ]]; then
	egd_start fork
	# shellcheck disable=SC2207
	FORK_QEMU=(-cpu qemu64 -device "vmgenid,id=vg0" $(qemu_rng_egd fork))
	run_variant egd hwrng 'start-up test passed' 'kernel log'
	egd_stop
fi
if [[ ${FORK_VARIANTS:-egd rdrand} == *rdrand* ]]; then
	FORK_QEMU=(-cpu max -device "vmgenid,id=vg0")
	run_variant rdrand 'rd(rand|seed)' 'virtseed: seeded:' 'kernel log'
fi
echo "ok: VM fork reseeds within 100 ms in both clones, different bytes"
