#!/bin/sh
# Run each virtseed-egd libFuzzer target for a bounded time (FUZZ_SECONDS, default 60)
# starting from tests/corpus/, with ASan and UBSan.  Skips (77) without clang.
set -eu
top_srcdir=${top_srcdir:-.}
secs=${FUZZ_SECONDS:-60}
command -v clang >/dev/null || { echo "SKIP: no clang"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lib=$top_srcdir/lib
cflags="-g -O1 -D_GNU_SOURCE -DFUZZER -fsanitize=fuzzer,address,undefined -I$lib"
# shellcheck disable=SC2086
clang $cflags -o "$tmp/fuzz-egd-proto" "$top_srcdir/tests/fuzz-egd-proto.c" "$lib/egd-proto.c" ||
	{ echo "SKIP: clang cannot build libFuzzer targets"; exit 77; }
# shellcheck disable=SC2086
clang $cflags -o "$tmp/fuzz-egd-conf" "$top_srcdir/tests/fuzz-egd-conf.c" "$lib/egd-conf.c" \
	"$lib/address.c" "$lib/htb.c" "$lib/tbucket.c"
for t in egd-proto egd-conf; do
	mkdir -p "$tmp/corpus-$t"
	cp "$top_srcdir/tests/corpus/$t"/* "$tmp/corpus-$t/"
	echo "fuzzing $t for ${secs}s"
	"$tmp/fuzz-$t" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
		"$tmp/corpus-$t" 2>"$tmp/$t.log" || { tail -40 "$tmp/$t.log"; exit 1; }
	grep -E 'stat::number_of_executed_units|stat::peak_rss' "$tmp/$t.log" || true
done
echo PASS
