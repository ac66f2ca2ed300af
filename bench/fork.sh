#!/bin/bash
# bench/fork.sh: how soon after a VM fork does a clone get fresh host entropy?  A busybox
# guest (Debian's 6.1 kernel, TCG, -device vmgenid, virtio-rng fed by rng-egd from
# virtseed-egd) is snapshotted and restored N times with virtseedd running, and N times from
# a snapshot of the same image booted without the agent.
#   with the agent:    kernel's fork notice -> the agent's "VM fork: reseeded" line (printk
#                      timestamps of both lines, guest clock)
#   without the agent: QMP cont -> the distributor's first EGD request from that clone (the
#                      kernel's own next hwrng pass: the earliest fresh host bytes could
#                      arrive), polled on the distributor's statistics every 50 ms (host clock)
# Prints both medians and their ratio.  Goal: the agent <= 100 ms, >= 100x sooner.
#   bench/fork.sh [N]      (root; top_builddir= to find the binaries; default N=3)
set -u
n=${1:-3}
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
# shellcheck source=tests/integ/boot-lib.sh
. "$top_srcdir/tests/integ/boot-lib.sh"
# shellcheck source=tests/integ/boot-fork-lib.sh
. "$top_srcdir/tests/integ/boot-fork-lib.sh"
fork_init
FORK_AGENT_ARGS="--log-level=debug --reseed-interval=0"
# Templates run 125 s before the snapshot: in its first 120 s of uptime 6.1's hwrng thread
# sleeps only uptime/2 between passes, after that 60 s, as in any long-running template.
egd_start bench
# shellcheck disable=SC2207
FORK_QEMU=(-cpu qemu64 -device "vmgenid,id=vg0" $(qemu_rng_egd bench))

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

requests() { # GUEST: EGD requests the distributor has had from that guest
	egd_stats bench | awk -v g="guest=\"$1\"" 'index($0, "guest_requests_total{" g) { s += $NF } END { print s + 0 }'
}

FORK_SETTLE=125
fork_base 'start-up test passed'
for i in $(seq "$n"); do
	fork_clone "with$i" 'virtseed: VM fork: reseeded' 30
	d=$(fork_delay_ms "$BOOT_WORK/with$i.log.txt")
	echo "with agent, clone $i: ${d:-none} ms from the kernel's notice to the agent's reseed"
	[ -n "$d" ] && echo "$d" >>"$BOOT_WORK/with"
done

FORK_NOAGENT=1
fork_base 'random: crng init done'
for i in $(seq "$n"); do
	name=without$i
	fork_qemu "$name" "$BOOT_WORK/$name.log" -incoming "exec:cat $BOOT_WORK/state"
	t0=$(/usr/bin/python3 "$top_srcdir/tests/integ/qmp-fork.py" cont "$BOOT_WORK/$name.qmp")
	d=
	for _ in $(seq 1800); do
		if [ "$(requests "$name")" -gt 0 ]; then
			d=$(date +%s%3N)
			break
		fi
		sleep 0.05
	done
	fork_stop
	# Both wall-clock ms (qmp-fork.py prints it at cont).
	[ -n "$d" ] && d=$((d - t0))
	echo "without agent, clone $i: ${d:-none (> 90 s)} ms from cont to the first EGD request"
	[ -n "$d" ] && echo "$d" >>"$BOOT_WORK/without"
done
egd_stop

with=$(median <"$BOOT_WORK/with" 2>/dev/null)
without=$(median <"$BOOT_WORK/without" 2>/dev/null)
echo "median with the agent:    ${with:-none} ms (goal <= 100)"
echo "median without the agent: ${without:-none} ms"
[ -n "$with" ] && [ -n "$without" ] &&
	awk -v a="$with" -v b="$without" 'BEGIN { printf "ratio: %.0fx sooner with the agent (goal >= 100x)\n", b / a }'
