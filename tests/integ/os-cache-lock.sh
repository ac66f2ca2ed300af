#!/bin/sh
# tests/guest/os-base.sh builds each cached Debian root once, however many callers ask for
# it at the same time (tests/guest/os-prepare.sh and the whole-OS tests do): the second
# caller waits for the first and prints the same path; a failed build leaves no cache entry,
# and the next caller builds it.  mmdebstrap is a stand-in first on PATH (the seam) that records
# each call and takes 2 s.
top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/bin"
cat >"$TMP/bin/mmdebstrap" <<'EOF'
#!/bin/sh
# Stand-in: the output tarball is the last argument but one.
eval "out=\${$(($# - 1))}"
echo "$*" >>"$FAKE_CALLS"
sleep 2
[ -z "${FAKE_FAIL:-}" ] || { echo "fake mmdebstrap: failing as asked" >&2; exit 1; }
echo root >"$out"
EOF
chmod +x "$TMP/bin/mmdebstrap"
export FAKE_CALLS="$TMP/calls" VIRTSEED_CACHE="$TMP/cache" PATH="$TMP/bin:$PATH"
export VIRTSEED_MIRROR=http://mirror.invalid/debian
base() { sh "$top_srcdir/tests/guest/os-base.sh" "$@"; }
calls() { if [ -f "$FAKE_CALLS" ]; then wc -l <"$FAKE_CALLS"; else echo 0; fi; }

# Two callers at once: one mmdebstrap, one path, both return after the build (>= 2 s).
t0=$(ms_now)
(base trixie host >"$TMP/a" && echo $(($(ms_now) - t0)) >"$TMP/a.ms") &
sleep 0.3
base trixie host >"$TMP/b" || fail "second caller failed"
wait
tb=$(($(ms_now) - t0))
[ "$(calls)" -eq 1 ] || fail "mmdebstrap ran $(calls) times for one root (want 1)"
[ -s "$TMP/a" ] || fail "the first caller printed no path"
[ "$(cat "$TMP/a")" = "$(cat "$TMP/b")" ] ||
	fail "the two callers printed '$(cat "$TMP/a")' and '$(cat "$TMP/b")'"
[ "$(cat "$(cat "$TMP/b")")" = root ] || fail "the cached root is not the build's output"
for ms in "$(cat "$TMP/a.ms")" "$tb"; do
	[ "$ms" -ge 1800 ] || fail "a caller returned $ms ms after the start, before the build ended"
done
echo "ok: two callers, one mmdebstrap run, the same path ($(cat "$TMP/a.ms") ms, $tb ms)"

# Cached: no new build.
[ "$(base trixie host)" = "$(cat "$TMP/b")" ] || fail "a cached root has another path"
[ "$(calls)" -eq 1 ] || fail "a cached root was built again"

# A failed build: non-zero exit, no cache entry; the next caller builds it.
if FAKE_FAIL=1 base bookworm host >"$TMP/c" 2>"$TMP/c.err"; then
	fail "os-base.sh succeeded though mmdebstrap failed"
fi
grep -q 'fake mmdebstrap: failing as asked' "$TMP/c.err" || fail "mmdebstrap's error not shown: $(cat "$TMP/c.err")"
ls "$VIRTSEED_CACHE"/os/bookworm-host-*.tar >/dev/null 2>&1 && fail "a failed build left a cache entry"
out=$(base bookworm host) || fail "the build after a failed one failed"
[ "$(calls)" -eq 3 ] || fail "mmdebstrap ran $(calls) times, want 3 (one, a failed one, one)"
[ "$(cat "$out")" = root ] || fail "the root built after the failed one is not the build's output"
echo "ok: a failed build leaves nothing behind; the next caller builds the root"
