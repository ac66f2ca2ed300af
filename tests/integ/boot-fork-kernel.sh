#!/bin/bash
# VM fork with the patched kernel of kernel-patch/ (0005: the vmgenid "generation" counter in
# sysfs): the same clone test as boot-fork.sh (RDRAND only, -cpu max), but the agent must
# notice the fork through the counter, not the kernel log, and so keep no CAP_SYSLOG.
# Needs the kernel that `make -C kernel-patch check` built (skips otherwise).
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
# shellcheck source=tests/integ/boot-fork-lib.sh
. "$(dirname "$0")/boot-fork-lib.sh"
KERNEL=${KP_BZIMAGE:-${KP_BUILD_DIR:-$top_srcdir/kernel-patch/build}/out-patched/arch/x86/boot/bzImage}
[ -f "$KERNEL" ] || skip "no patched kernel ($KERNEL): run make -C kernel-patch check first"
# check.sh stamps a kernel once its build has finished (tests/run-all.sh builds it meanwhile).
[ -n "${KP_BZIMAGE:-}" ] || [ -f "${KERNEL%/arch/x86/boot/bzImage}/.virtseed-stamp" ] ||
	skip "the patched kernel's build has not finished"
fork_init
FORK_AGENT_ARGS="--log-level=debug --reseed-interval=0"

FORK_QEMU=(-cpu max -device "vmgenid,id=vg0")
run_variant patched 'rd(rand|seed)' 'virtseed: seeded:' 'vmgenid generation counter'
grep -q 'VM fork detection: vmgenid generation counter of /sys/bus/acpi/drivers/vmgenid/' \
	"$BOOT_WORK/base.log" || fail "patched: the agent did not choose the generation counter"
! grep -q 'VM fork detection: kernel log' "$BOOT_WORK/base.log" ||
	fail "patched: the agent watches the kernel log"
echo "ok: the patched kernel's generation counter drives the fork reseed"
