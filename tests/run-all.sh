#!/bin/sh
# The whole test suite, from a fresh clone, as root on Debian 12:
#   install what is missing, build with -Werror (and seccomp), run `make check`
#   (unit tests, integration tests against the real kernel, QEMU guests), then
#   the same under ASan+UBSan, then `make distcheck`, then the optional
#   kernel-patch series, whose kernels build in the background from the start (as do
#   the whole-OS tests' packages and Debian roots).  Slow guest suites run once, in the
#   first stage.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
out=${VIRTSEED_BUILD:-$top/_build}
results=
passed=0 failed=0 skipped=0

stage() { # name, command...
	name=$1
	shift
	echo "=== $name"
	"$@"
	rc=$?
	case $rc in
	0) passed=$((passed + 1)); results="$results\n  PASS $name" ;;
	77) skipped=$((skipped + 1)); results="$results\n  SKIP $name" ;;
	*) failed=$((failed + 1)); results="$results\n  FAIL $name (exit $rc)" ;;
	esac
}

check_in() { # dir, configure flags...
	dir=$1
	shift
	mkdir -p "$dir" && cd "$dir" &&
		"$top/configure" -q "$@" &&
		make -j2 >/dev/null &&
		make -j2 check
	rc=$?
	[ $rc -eq 0 ] || tail -200 test-suite.log 2>/dev/null
	cd "$top" || return 1
	return $rc
}

distcheck() {
	cd "$out/werror" && make -j2 distcheck >distcheck.log 2>&1
	rc=$?
	tail -20 distcheck.log
	cd "$top" || return 1
	return $rc
}

# wait_kernels: the background kernel build's end, and its last lines.
wait_kernels() {
	wait "$kp_pid"
	rc=$?
	tail -5 "$out/kernel-build.log"
	return $rc
}

stage install-deps sh tests/install-deps.sh
stage autoreconf autoreconf -fi
kp_pid=
if [ -f kernel-patch/Makefile ]; then
	# The kernels are cached beside the guest images (keyed by source tree and config).
	KP_BUILD_DIR=${KP_BUILD_DIR:-${VIRTSEED_CACHE:-/var/cache/virtseed-tests}/kernel-patch}
	export KP_BUILD_DIR
	# The series' two kernels build while the next stages run, on the CPU time they leave
	# idle (SCHED_IDLE: the tests' timing is theirs); the kernel-build stage waits for them.
	mkdir -p "$out"
	chrt --idle 0 make -C kernel-patch build >"$out/kernel-build.log" 2>&1 &
	kp_pid=$!
fi
# The whole-OS tests' packages and Debian roots build meanwhile too, at normal priority: the
# guests that boot first leave a core free (tests/guest/os-prepare.sh; the tests wait for
# what is still being built, and build it themselves if this failed).
prep_pid=
if [ "$(id -u)" = 0 ] && command -v mmdebstrap >/dev/null; then
	mkdir -p "$out"
	sh tests/guest/os-prepare.sh >"$out/os-prepare.log" 2>&1 &
	prep_pid=$!
fi
stage check check_in "$out/werror" --enable-werror --with-seccomp --with-libvirt
[ -z "$prep_pid" ] || wait "$prep_pid"
export VIRTSEED_SKIP_E2E=1
stage check-sanitizers check_in "$out/asan" --enable-sanitizers --enable-werror --with-libvirt
stage distcheck distcheck
unset VIRTSEED_SKIP_E2E
if [ -n "$kp_pid" ]; then
	stage kernel-build wait_kernels
	stage kernel-patch make -C kernel-patch check
	# The agent against the patched kernel's vmgenid counter: needs the kernel built above.
	stage fork-kernel make -C "$out/werror" check TESTS=tests/integ/boot-fork-kernel.sh
fi

printf "virtseed test stages:%b\n" "$results"
echo "virtseed: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
