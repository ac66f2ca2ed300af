#!/bin/bash
# bench/boot.sh: when does a guest's CRNG become ready?  Boots Debian's 6.1 kernel under QEMU
# (TCG, q35, random.trust_cpu=off random.trust_bootloader=off) N times per scenario for each
# variant: no agent (stock image), rngd (Debian's rng-tools5 through dracut's own 06rngd
# module, same image otherwise), virtseed (our dracut module / initramfs-tools hook) and, with
# dracut + systemd, unit (our module with virtseed_preinit=no: the initrd unit alone), and
# prints the "crng init done" time after /init started (median, min, max) with ratios, plus a
# gnuplot PNG of entropy_avail over time (one boot per variant) from the entropy-boot tracer.
#   bench/boot.sh [-n N] [-o OUTDIR] [-s "SCENARIO..."] [-k]   (root; top_builddir= to find
#   the binaries).  -s runs only these scenarios, -k keeps earlier results in OUTDIR,
#   -p only redraws the table and plot from OUTDIR.
# Scenarios:
#   s1       virtio-rng fed by rng-egd from virtseed-egd; dracut with systemd
#   s1-shell the same with dracut's shell /init (no rngd: its dracut module needs systemd)
#   s1-itools the same with initramfs-tools (no rngd hook there)
#   s2       no virtio-rng, -cpu max (RDRAND, not trusted by the kernel); dracut with systemd
#   s2-itools the same with initramfs-tools (no rngd module there)
#   s3       no virtio-rng, -cpu qemu64, EGD over virtio-serial (rngd has no EGD client)
# A boot not seeded by entropy_boot.max (60 s) counts as unseeded; such variants are
# booted once, as every boot costs the full 60 s.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
# shellcheck source=tests/integ/boot-lib.sh
. "$top_srcdir/tests/integ/boot-lib.sh"
# shellcheck source=bench/boot-report.sh
. "$here/boot-report.sh"
bench_options "${BOOT_BENCH_OUT:-bench-boot.out}" 's1 s1-shell s1-itools s2 s2-itools s3' "$@"
[ -n "$plot_only" ] || { boot_init; need_bins; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -n "$keep" ] || : >"$out/results.tsv"
[ -n "$plot_only" ] || egd_start bench

# run SCENARIO VARIANT KIND FLAVOR RUNS [QEMU_ARGS...]
run() {
	local sc=$1 var=$2 kind=$3 flavor=$4 runs=$5 img i log t
	shift 5
	[[ " $only " == *" $sc "* ]] || return 0
	img=$(boot_image "$kind" "$flavor") || fail "$kind $flavor: image build failed"
	for i in $(seq "$runs"); do
		log=$out/$sc-$var-$i.log
		boot_run "$img" "$log" "entropy_boot.max=60 entropy_boot.hold=1 ${APPEND:-}" "$@"
		grep -q 'entropy-boot: end' "$log" || fail "$sc $var: the tracer did not finish: $log"
		t=$(crng_after_init "$log")
		printf '%s\t%s\t%s\t%s\n' "$sc" "$var" "$i" "${t:-unseeded}" >>"$out/results.tsv"
		grep 'entropy-boot: csv' "$log" | cut -d, -f2- | tr , ' ' >"$out/$sc-$var-$i.dat"
		echo "# $sc $var #$i: ${t:-unseeded}"
	done
}
rng() { [ -n "$plot_only" ] || qemu_rng_egd bench; }
serial=(-device virtio-serial-pci
	-chardev "socket,id=egdser,path=${BOOT_WORK:-}/bench.sock,reconnect=1"
	-device "virtserialport,chardev=egdser,name=org.virtseed.egd")

# shellcheck disable=SC2046 # word splitting of the QEMU arguments is wanted
{
run s1 none dracut systemd-none "$n" $(rng)
run s1 rngd dracut systemd-rngd "$n" $(rng)
run s1 virtseed dracut systemd "$n" $(rng)
run s1 unit dracut systemd-unit "$n" $(rng)
run s1-shell none dracut shell-none "$n" $(rng)
run s1-shell virtseed dracut shell "$n" $(rng)
run s1-itools none itools none "$n" $(rng)
run s1-itools virtseed itools virtseed "$n" $(rng)
run s2 none dracut systemd-none 1 -cpu max
run s2 rngd dracut systemd-rngd "$n" -cpu max
APPEND=virtseed.credit-rdrand=4 run s2 virtseed dracut systemd "$n" -cpu max
APPEND=virtseed.credit-rdrand=4 run s2 unit dracut systemd-unit "$n" -cpu max
run s2-itools none itools none 1 -cpu max
APPEND=virtseed.credit-rdrand=4 run s2-itools virtseed itools virtseed "$n" -cpu max
APPEND="rd.virtseed.egd=/dev/virtio-ports/org.virtseed.egd" \
	run s3 virtseed dracut systemd "$n" -cpu qemu64 "${serial[@]}"
}

# Table: median, min, max per scenario and variant; ratios of medians against none and rngd.
boot_table "$out/results.tsv" none rngd 60 crng | tee "$out/table.txt"

# Timeline: entropy_avail after /init, first boot of each variant.
plot() {
	local sc=$1 var f s="" lc=0
	for var in none rngd virtseed; do
		lc=$((lc + 1))
		f=$out/$sc-$var-1.dat
		[ -s "$f" ] || continue
		s="$s${s:+, }'$f' using (\$1/1000):2 with steps lw 2 lc $lc title '$var'"
	done
	echo "set title '$2'; plot [0:${3}] [0:270] $s"
}
gnuplot <<EOF
set terminal pngcairo noenhanced size 1100,1100 font ',10'
set output '$out/boot-timeline.png'
set multiplot layout 3,1
set xlabel 's after /init started'
set ylabel 'entropy_avail (256 = CRNG ready)'
set key right center
$(plot s1 "s1: virtio-rng via virtseed-egd, dracut + systemd" 3)
$(plot s2 "s2: no virtio-rng, -cpu max (RDRAND untrusted), dracut + systemd" 60)
$(plot s2-itools "s2-itools: the same with initramfs-tools" 60)
unset multiplot
EOF
echo "# results: $out/table.txt, $out/boot-timeline.png"
