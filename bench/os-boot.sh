#!/bin/bash
# bench/os-boot.sh: when is a whole Debian guest's CRNG ready, and when is virtseed.service?
# Boots the whole-OS images of tests/integ/os-lib.sh (Debian's root, kernel and initramfs on
# a virtio disk, QEMU/TCG, up to multi-user.target, then the report unit powers off) in
# three variants of the same image: stock (rng-tools5 installed but disabled, no virtseed),
# rngd (rng-tools5 enabled as Debian ships it) and virtseed (our package installed with dpkg,
# rngd disabled).  Per boot: seconds from kernel start to "crng init done" (console), to the
# service's start (journal, monotonic: virtseed.service's READY=1, rngd.service's fork) and
# to multi-user.target; a second table: "crng init done" after /init.  N rounds per scenario,
# the variant order rotating per round.
#   bench/os-boot.sh [-n N] [-o OUTDIR] [-s "SCENARIO..."] [-k] [-p]   (root)
#   -s runs only these scenarios (default: the four bookworm ones), -k keeps earlier results
#   in OUTDIR, -p only redraws the table and plot from OUTDIR.  Prepared disks are kept in
#   OUTDIR/img (one per image and variant, rebuilt when their base, packages or os-lib.sh
#   change; remove OUTDIR/img after changing how this script prepares them).
#   OS_DEBS_<suite>=DIR uses these packages instead of building them from this tree.
# Scenarios SUITE-IMAGE-SOURCE: SUITE bookworm | trixie, IMAGE itools (KIND os) | dracut
# (KIND os-dracut), SOURCE virtio (virtio-rng fed by rng-egd from the host package's
# virtseed-egd) | rdrand (no virtio-rng, -cpu max: RDRAND not trusted by the kernel).
# A CRNG not ready 60 s after kernel start counts as unseeded; such a variant is booted once.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
# QEMU's default devices (VGA, CD-ROM, parallel port), as bench/RESULTS-boot.md measured.
OS_DEVICES=
# shellcheck source=tests/integ/os-lib.sh
. "$top_srcdir/tests/integ/os-lib.sh"
# shellcheck source=bench/boot-report.sh
. "$here/boot-report.sh"
bench_options "${OS_BOOT_OUT:-bench-os-boot.out}" \
	'bookworm-itools-virtio bookworm-itools-rdrand bookworm-dracut-virtio bookworm-dracut-rdrand' \
	"$@"
VARIANTS=(stock rngd virtseed)
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -n "$keep" ] || : >"$out/results.tsv"

# debs SUITE: the packages of SUITE (built from this tree, or $OS_DEBS_SUITE).
debs() {
	local v=OS_DEBS_$1
	if [ -n "${!v:-}" ]; then echo "${!v}"; else sh "$top_srcdir/tests/guest/os-debs.sh" "$1"; fi
}

# The guest side of the measurement: once the report unit starts (multi-user reached), wait
# for the CRNG (up to 60 s of uptime), then print the boot's milestones from the journal.
bench_unit() {
	install -m 0755 /dev/stdin "$OS_ROOT/usr/local/sbin/os-boot-times" <<'EOT'
#!/bin/sh
# bench/os-boot.sh only: the boot's milestones, monotonic, to the console.
while [ "$(cat /proc/sys/kernel/random/entropy_avail)" -lt 256 ] &&
	[ "$(cut -d. -f1 /proc/uptime)" -lt 60 ]; do
	sleep 0.5
done
journalctl -b -o short-monotonic --no-pager |
	grep -E 'Started (virtseed|rngd)\.service|Reached target multi-user\.target|crng init done' |
	sed 's/^/os-boot: /' >/dev/console
EOT
	mkdir -p "$OS_ROOT/etc/systemd/system/virtseed-report.service.d"
	printf '[Service]\nExecStartPre=/usr/local/sbin/os-boot-times\n' \
		>"$OS_ROOT/etc/systemd/system/virtseed-report.service.d/os-boot.conf"
}

# variant_disk DIR SUITE KIND VARIANT: the variant's vmlinuz, initrd.img and disk.img in DIR.
variant_disk() {
	local dir=$1 kind=$3 var=$4 ver
	rm -rf "$OS_ROOT" "$dir"
	mkdir -p "$OS_ROOT" "$dir"
	tar -xf "$OS_BASE" -C "$OS_ROOT"
	os_prepare
	bench_unit
	ver=$(ls "$OS_ROOT/lib/modules")
	[ "$var" != rngd ] || os_rngd on
	case $var-$kind in
	virtseed-*) os_install virtseed ;;
	stock-os-dracut)
		os_chroot dracut -q -f "/boot/initrd.img-$ver" "$ver" >"$dir/dracut.log" 2>&1 ||
			{ cat "$dir/dracut.log"; fail "dracut in the stock root"; } ;;
	esac
	os_disk
	note "$2 $kind $var: initramfs with $(initramfs_count 'rngd$') rngd," \
		"$(initramfs_count 'virtseedd$') virtseedd"
	mv "$BOOT_WORK/vmlinuz" "$BOOT_WORK/initrd.img" "$BOOT_WORK/disk.img" "$dir/"
	! find "$dir" -type l | grep -q . || fail "$dir: a symlink where the variant's own files belong"
	rm -rf "$OS_ROOT"
}

# image SUITE KIND: prepare (or find) the three variants' disks; print their directory.
image() {
	local dir=$out/img/$1-$2 debs var stamp
	OS_BASE=$(sh "$top_srcdir/tests/guest/os-base.sh" "$1" "$2") || fail "os-base.sh $1 $2"
	OS_DEBS=$(debs "$1") || fail "os-debs.sh $1"
	OS_ROOT=$BOOT_WORK/root
	stamp="$OS_BASE $OS_DEBS $(sha256sum "$top_srcdir/tests/integ/os-lib.sh" | cut -c1-16)"
	for var in "${VARIANTS[@]}"; do
		[ "$(cat "$dir/$var/stamp" 2>/dev/null)" = "$stamp" ] && continue
		note "preparing $1 $2 $var" >&2
		variant_disk "$dir/$var" "$1" "$2" "$var" >&2
		echo "$stamp" >"$dir/$var/stamp"
	done
	echo "$dir"
}

# boot_variant SCENARIO DIR VARIANT ROUND APPEND [QEMU_ARGS...]: one boot, one results line.
boot_variant() {
	local sc=$1 dir=$2/$3 var=$3 i=$4 append=$5 log crng ready mu init
	shift 5
	log=$out/$sc-$var-$i.log
	ln -sf "$dir/vmlinuz" "$BOOT_WORK/vmlinuz"
	ln -sf "$dir/initrd.img" "$BOOT_WORK/initrd.img"
	ln -sf "$dir/disk.img" "$BOOT_WORK/disk.img"
	(os_boot "$log" "$append" "$@") || { note "$sc $var #$i: boot failed: $log"; return 0; }
	crng=$(log_ts 'random: crng init done' "$log")
	ready=$(journal_ts "Started $( [ "$var" = rngd ] && echo rngd || echo virtseed)\.service" "$log")
	mu=$(journal_ts 'Reached target multi-user\.target' "$log")
	init=$(log_ts 'Run .init as init process' "$log")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sc" "$var" "$i" "${crng:-unseeded}" "${ready:--}" \
		"${mu:--}" "${init:--}" >>"$out/results.tsv"
	note "$sc $var #$i: crng ${crng:-unseeded}, service ${ready:--}, multi-user ${mu:--}"
}
# journal_ts REGEX LOG: monotonic seconds of the first reported journal line matching.
journal_ts() {
	sed -n "s/^os-boot: \[ *\([0-9]*\.[0-9]*\)\] .*$1.*/\1/p" "$2" | head -n1
}

# scenario NAME: N interleaved rounds of the three variants.
scenario() {
	local sc=$1 suite kind src dir append='' qemu=() r k var unseeded=' '
	IFS=- read -r suite kind src <<<"$sc"
	case $kind in itools) kind=os ;; dracut) kind=os-dracut ;; *) fail "scenario $sc?" ;; esac
	case $src in
	virtio) read -ra qemu <<<"$(qemu_rng_egd os)" ;;
	rdrand) qemu=(-cpu max) append=virtseed.credit-rdrand=4 ;;
	*) fail "scenario $sc: no source '$src'" ;;
	esac
	dir=$(image "$suite" "$kind") || exit 1
	for r in $(seq "$n"); do
		for k in 0 1 2; do
			var=${VARIANTS[(k + r - 1) % 3]}
			[[ $unseeded != *" $var "* ]] || continue
			boot_variant "$sc" "$dir" "$var" "$r" "$append" "${qemu[@]}"
			grep -q "^$sc	$var	$r	unseeded" "$out/results.tsv" && unseeded+="$var "
		done
	done
}

if [ -z "$plot_only" ]; then
	[ "$(id -u)" = 0 ] || skip "needs root (chroot, mkfs, unshare)"
	command -v mmdebstrap >/dev/null || skip "mmdebstrap missing (tests/install-deps.sh)"
	BOOT_WORK=$(mktemp -d)
	trap 'boot_cleanup' EXIT
	# The host package's distributor, with the configuration it ships (as the os tests).
	os_host_egd "$(debs bookworm)"
	for sc in $only; do
		scenario "$sc"
	done
fi

# Table: times from kernel start (results.tsv: crng, ready, target, /init); ratios of the
# crng medians against stock and rngd.
boot_table "$out/results.tsv" stock rngd 60 crng ready target | tee "$out/table.txt"
# The same for "crng init done" after /init: without the kernel's own boot, equal in all.
awk -F'\t' -v OFS='\t' '{ $4 = $4 == "unseeded" || $7 == "-" ? $4 : sprintf("%.3f", $4 - $7)
	print $1, $2, $3, $4 }' "$out/results.tsv" >"$out/after-init.tsv"
echo "# crng init done, s after /init:"
boot_table "$out/after-init.tsv" stock rngd 60 crng | tee -a "$out/table.txt"

# Timeline: the first boot of each variant per scenario, one row each.
for sc in $(cut -f1 "$out/results.tsv" | uniq); do
	for var in "${VARIANTS[@]}"; do
		awk -F'\t' -v sc="$sc" -v var="$var" '$1 == sc && $2 == var && !done {
			done = 1; if ($4 == "unseeded") $4 = "-"
			printf "%s %s %s %s %s\n", var, $4, $5, $6, $7 }' "$out/results.tsv"
	done >"$out/$sc.timeline"
done
plot() {
	local f=$out/$1.timeline
	echo "set title '$1'"
	echo "plot '$f' using (0):0:4:(0):ytic(1) with vectors nohead lw 8 lc rgb '#c0c0c0'" \
		"title 'kernel start to multi-user.target'," \
		"'' using 5:0 with points pt 3 ps 2 lc rgb '#7f7f7f' title '/init (initramfs) starts'," \
		"'' using 2:0 with points pt 7 ps 2 lc rgb '#d62728' title 'crng init done'," \
		"'' using 3:0 with points pt 5 ps 2 lc rgb '#1f77b4' title 'service started (READY=1)'," \
		"'' using 4:0 with points pt 9 ps 2 lc rgb '#2ca02c' title 'multi-user.target'"
}
scs=$(cut -f1 "$out/results.tsv" | uniq)
gnuplot <<EOF
set terminal pngcairo noenhanced size 1100,$((250 * $(wc -w <<<"$scs") + 50)) font ',10'
set output '$out/os-boot-timeline.png'
set multiplot layout $(wc -w <<<"$scs"),1
set datafile missing '-'
set xlabel 's after kernel start'
set yrange [-0.7:2.7]
set key outside right
$(for sc in $scs; do plot "$sc"; done)
unset multiplot
EOF
echo "# results: $out/table.txt, $out/os-boot-timeline.png"
