#!/bin/sh
# bench/fuzz.sh MINUTES [TARGET...]: build every libFuzzer target (tests/fuzz-*.c, or the
# named ones, e.g. conf-file) with clang
# -fsanitize=fuzzer,address,undefined, run each for MINUTES minutes from its corpus in
# tests/corpus/, and print executions and crashes per target.  Crash inputs are kept in
# $FUZZ_OUT (default _build/fuzz) for the corpus.  Needs a configured build directory for
# config.h: $VIRTSEED_BUILD, else _build/werror or _build/quick.
set -eu
minutes=${1:?usage: bench/fuzz.sh MINUTES [TARGET...]}
shift
only=" $* "
cd "$(dirname "$0")/.."
top=$(pwd)
command -v clang >/dev/null || { echo "no clang (apt-get install clang)" >&2; exit 77; }
build=${VIRTSEED_BUILD:-}
for b in _build/werror _build/quick; do
	[ -n "$build" ] || [ ! -f "$b/config.h" ] || build=$b
done
if [ -z "$build" ] || [ ! -f "$build/config.h" ]; then
	echo "configure first (see README)" >&2
	exit 1
fi
out=${FUZZ_OUT:-$top/_build/fuzz}
mkdir -p "$out/obj"
build=$(cd "$build" && pwd)
san="address,undefined"
cc() {
	clang -g -O1 -std=gnu11 -include "$build/config.h" -I"$top/lib" '-DSYSCONFDIR="/etc"' \
		'-DRUNSTATEDIR="/run"' "$@"
}
# The library once, instrumented; each target pulls only the objects it needs.
for f in lib/*.c; do
	cc -fsanitize=fuzzer-no-link,$san -c "$f" -o "$out/obj/$(basename "$f" .c).o"
done
rm -f "$out/libfuzz.a"
ar cr "$out/libfuzz.a" "$out"/obj/*.o
printf '%-14s %12s %10s %8s\n' target execs exec/s crashes
total_crashes=0
for src in tests/fuzz-*.c; do
	t=$(basename "$src" .c)
	name=${t#fuzz-}
	[ -d "tests/corpus/$name" ] || continue
	[ "$only" = "  " ] || case $only in *" $name "*) ;; *) continue ;; esac
	cc -DFUZZER -fsanitize=fuzzer,$san -Itests "$src" "$out/libfuzz.a" \
		-lcap-ng -lseccomp -ldl -lpthread -lm -o "$out/$t"
	mkdir -p "$out/corpus-$name"
	cp "tests/corpus/$name"/* "$out/corpus-$name/"
	# A kernel command line is at most 2048 bytes (x86 COMMAND_LINE_SIZE).
	len=4096
	[ "$name" != conf-cmdline ] || len=2048
	"$out/$t" -max_total_time=$((minutes * 60)) -max_len=$len -print_final_stats=1 \
		-artifact_prefix="$out/crash-$name-" "$out/corpus-$name" >"$out/$name.log" 2>&1 || true
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$name.log")
	crashes=$(find "$out" -maxdepth 1 -name "crash-$name-*" | wc -l)
	total_crashes=$((total_crashes + crashes))
	printf '%-14s %12s %10s %8s\n' "$name" "${execs:-?}" "${rate:-?}" "$crashes"
done
[ "$total_crashes" -eq 0 ]
