#!/bin/bash
# No VM fork where there is none: (1) a guest without a vmgenid device, snapshotted and
# restored as a clone: its kernel logs no fork and the agent, which found nothing to watch
# ("VM fork detection: none"), reports none; (2) a guest with vmgenid that reboots (same
# QEMU process, same GUID): neither boot reports a fork.  RDRAND only (-cpu max).
# shellcheck source=tests/integ/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"
# shellcheck source=tests/integ/boot-fork-lib.sh
. "$(dirname "$0")/boot-fork-lib.sh"
fork_init
FORK_AGENT_ARGS="--reseed-interval=0"

FORK_QEMU=(-cpu max)
fork_base 'virtseed: seeded:'
grep -q 'VM fork detection: none\.' "$BOOT_WORK/base.log" ||
	fail "no vmgenid: the agent did not say it has nothing to watch"
fork_clone novmgenid-clone 'virtual machine fork|VM fork:' 8
log=$BOOT_WORK/novmgenid-clone.log.txt
[ "$FORK_WAITED" = 0 ] || { cat "$log"; fail "no vmgenid: a fork was reported"; }
# The clone ran: its agent still answers (SIGUSR1 is not reachable here; the console is).
grep -q 'qemu-system-x86_64: terminating on signal' "$log" || fail "no vmgenid: clone did not run"
note "no vmgenid: clone ran 8 s, no fork notice, no fork reseed"

FORK_QEMU=(-cpu max -device "vmgenid,id=vg0")
FORK_REBOOT=1
log=$BOOT_WORK/reboot.log
fork_qemu reboot "$log"
fork_wait "$log" 'FORKTEST reboot' 120 || { tail -20 "$log"; fail "reboot: first boot did not finish"; }
for _ in $(seq 1200); do
	[ "$(grep -c 'virtseed: seeded:' "$log")" -ge 2 ] && break
	sleep 0.1
done
sleep 3
fork_stop
[ "$(grep -c 'virtseed: seeded:' "$log")" -ge 2 ] || { tail -20 "$log"; fail "reboot: no second boot"; }
[ "$(grep -c 'VM fork detection: kernel log' "$log")" -ge 2 ] ||
	fail "reboot: the agent did not watch the kernel log in both boots"
! grep -qE 'virtual machine fork|VM fork:' "$log" || fail "reboot: a fork was reported"
note "reboot: two boots with vmgenid, the agent watching, no fork reported"
echo "ok: no fork without vmgenid, none across a reboot"
