#!/bin/sh
# Run the virtseed-egd benchmarks (throughput, fairness, memory, hostile) from a build
# directory and print their results; BENCH_SECONDS sets each window (default 5).
#   cd BUILDDIR && sh SRCDIR/bench/egd-bench.sh
set -eu
bench=${EGD_BENCH:-./bench/egd-bench}
egd=${EGD:-./egd/virtseed-egd}
if [ ! -x "$bench" ] || [ ! -x "$egd" ]; then
	echo "build first: make bench/egd-bench egd/virtseed-egd"
	exit 1
fi
echo "== $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in throughput fairness memory hostile; do
	echo "== $mode"
	"$bench" "$egd" "$mode"
done
