#!/bin/bash
# Build Debian's linux-source-6.1 unpatched and with the series in this
# directory, boot both under QEMU (TCG) and compare. Run as
# `make -C kernel-patch check` (`make -C kernel-patch build`, `check.sh build`:
# only build the two kernels). Everything it builds lives in build/ (git
# ignored) and is reused while the source, patches and config are unchanged.
# Exit status: 0 pass, 1 fail, 77 cannot run here (reason printed).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${KP_BUILD_DIR:-$here/build}
jobs=${KP_JOBS:-2}
tarball=/usr/src/linux-source-6.1.tar.xz
arch=x86_64
started=$(date +%s)

# Fixed identity and date, so the base commit, and with it the base-commit
# recorded in the patches, is the same on every machine for one tarball.
base_env=(GIT_AUTHOR_NAME="Debian linux-source-6.1" GIT_AUTHOR_EMAIL="linux-source@debian.invalid"
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_NAME="Debian linux-source-6.1"
	GIT_COMMITTER_EMAIL="linux-source@debian.invalid" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z")

log() { printf '== %s\n' "$*"; }
skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

need_pkgs() {
	local missing=() p
	local pkgs=(linux-source-6.1 bc bison flex libelf-dev libssl-dev make gcc libc6-dev
		qemu-system-x86 busybox-static cpio xz-utils git perl python3 util-linux)

	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing: ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || skip "missing packages and not root: ${missing[*]}"
	command -v apt-get >/dev/null || skip "missing packages and no apt-get: ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; then
		apt-get update -q || skip "apt-get update failed (no network?)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" ||
			skip "apt-get install failed for: ${missing[*]}"
	fi
}

src_version() {
	dpkg-query -W -f='${Version}' linux-source-6.1
}

# build/src: the unpacked tarball as a git repository, one commit.
prepare_source() {
	local version
	version=$(src_version)
	if [ -d "$build/src/.git" ] && [ "$(cat "$build/src.version" 2>/dev/null)" = "$version" ]; then
		return 0
	fi
	log "unpacking linux-source-6.1 $version"
	rm -rf "$build/src" "$build/src-patched" "$build/unpack" "$build"/out-*
	mkdir -p "$build/unpack"
	tar -xf "$tarball" -C "$build/unpack"
	mv "$build/unpack/linux-source-6.1" "$build/src"
	rmdir "$build/unpack"
	git -C "$build/src" init -q
	# 75,000 loose objects would start git's automatic gc: a background
	# repack of the whole tree (~100 s of CPU) that nothing here needs.
	git -C "$build/src" config gc.auto 0
	# Debian's top-level .gitignore ignores everything (/*): add with -f.
	git -C "$build/src" add -f .
	env "${base_env[@]}" git -C "$build/src" -c commit.gpgsign=false commit -q \
		-m "Linux 6.1 as shipped in Debian linux-source-6.1 $version"
	git -C "$build/src" tag base
	echo "$version" > "$build/src.version"
}

# The tree the series produces on top of base, computed in a scratch index
# without touching any file, so that a change to commit messages alone does
# not make the patched kernel rebuild.
series_tree() {
	local idx=$build/series.index
	rm -f "$idx"
	GIT_INDEX_FILE=$idx git -C "$build/src" read-tree base
	GIT_INDEX_FILE=$idx git -C "$build/src" apply --cached "$here"/0*.patch ||
		die "the series does not apply to linux-source-6.1 $(src_version)"
	GIT_INDEX_FILE=$idx git -C "$build/src" write-tree
	rm -f "$idx"
}

# Branch "patched" of build/src: base plus the series, applied by git am.  The
# two kernels build from the one tree, checked out at base or at patched in
# turn (use_tree): only the files the series changes differ.
prepare_patched() {
	local want
	# An earlier layout kept the patched tree in a worktree of its own.
	[ ! -d "$build/src-patched" ] || {
		rm -rf "$build/src-patched"
		git -C "$build/src" worktree prune
	}
	want=$(series_tree)
	if [ "$(git -C "$build/src" rev-parse -q --verify 'patched^{tree}')" = "$want" ]; then
		return 0
	fi
	log "applying the series"
	git -C "$build/src" am --abort >/dev/null 2>&1 || true
	use_tree base
	git -C "$build/src" -c user.name=virtseed-check -c user.email=check@virtseed.invalid \
		am -q --3way "$here"/0*.patch || die "the series does not apply to linux-source-6.1 $(src_version)"
	[ "$(git -C "$build/src" rev-parse 'HEAD^{tree}')" = "$want" ] ||
		die "git am and git apply disagree about the series"
	git -C "$build/src" branch -f patched HEAD
}

# use_tree REF: check build/src out at REF (base or patched), discarding any edit.
use_tree() {
	git -C "$build/src" checkout -q -f --detach "$1"
}

check_base() {
	local recorded actual
	recorded=$(sed -n 's/^base-commit: //p' "$here"/0001-*.patch)
	actual=$(git -C "$build/src" rev-parse base)
	if [ "$recorded" = "$actual" ]; then
		log "base-commit $actual matches the patches"
	else
		log "note: patches record base-commit $recorded, this linux-source-6.1 gives $actual (applied anyway)"
	fi
}

checkpatch() {
	local p out bad=0
	for p in "$here"/0*.patch; do
		out=$(perl "$build/src/scripts/checkpatch.pl" --no-tree -q "$p" 2>&1) || bad=1
		[ -z "$out" ] || { printf '%s\n' "$out"; bad=1; }
	done
	[ $bad -eq 0 ] || die "checkpatch.pl reports problems"
	log "checkpatch.pl --no-tree: clean"
}

# check_exports SRCDIR OUT: Kbuild's check for EXPORT_SYMBOL of a local symbol, on the
# objects of the C files the checked-out commit changes over base (none for the baseline).
check_exports() {
	local srcdir=$1 out=$2 c o n=0
	while read -r c; do
		o=$out/${c%.c}.o
		[ -f "$o" ] || continue
		NM=nm AWK=awk "$srcdir/scripts/check-local-export" "$o" ||
			die "${c%.c}.o exports a local symbol"
		n=$((n + 1))
	done < <(git -C "$srcdir" diff --name-only base HEAD -- '*.c')
	[ $n -eq 0 ] || log "check-local-export: clean on the $n objects the series changes"
}

# build_kernel NAME REF [FROM]: tinyconfig + config.fragment on build/src at REF,
# cached on REF's git tree id and the fragment.  FROM: an up-to-date build to
# start from (its objects copied): Kbuild then recompiles what the files that
# differ between the two trees reach (checked out later, so newer than any
# object), with the same result as from scratch.
build_kernel() {
	local name=$1 ref=$2 from=${3:-} srcdir=$build/src out=$build/out-$1 stamp sym
	stamp=$( { git -C "$srcdir" rev-parse "$ref^{tree}"; cat "$here/config.fragment"; } |
		sha256sum | cut -d' ' -f1)
	if [ "$(cat "$out/.virtseed-stamp" 2>/dev/null)" = "$stamp" ] &&
		[ -f "$out/arch/x86/boot/bzImage" ] &&
		[ -f "$out/drivers/char/hw_random/virtio-rng.ko" ]; then
		log "$name kernel: up to date (cached)"
		return 0
	fi
	log "building the $name kernel (make -j$jobs, a few minutes)"
	use_tree "$ref"
	if [ -n "$from" ]; then
		rm -rf "$out"
		cp -a "$build/out-$from" "$out"
	fi
	mkdir -p "$out"
	rm -f "$out/.virtseed-stamp"
	# tiny.config's own overrides make kconfig warn; the loop below is the check.
	make -s --no-print-directory -C "$srcdir" O="$out" ARCH=$arch tinyconfig >/dev/null 2>&1
	"$srcdir/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
		"$here/config.fragment" >/dev/null
	make -s --no-print-directory -C "$srcdir" O="$out" ARCH=$arch olddefconfig >/dev/null 2>&1
	while read -r sym; do
		grep -qx "$sym" "$out/.config" || die "config.fragment: '$sym' did not survive olddefconfig"
	done < <(grep -E '^CONFIG_|^# CONFIG_.* is not set$' "$here/config.fragment")
	local t0=$SECONDS
	# Kbuild runs scripts/check-local-export (nm and awk) on each of the ~1100
	# objects, a tenth of a build's CPU here.  Only code the series changes can
	# trip it: the build skips it, check_exports runs it on those objects.
	make -s --no-print-directory -C "$srcdir" O="$out" ARCH=$arch -j"$jobs" \
		cmd_check_local_export= bzImage modules > "$out/build.log" 2>&1 ||
		{ tail -30 "$out/build.log"; die "$name kernel build failed (see $out/build.log)"; }
	check_exports "$srcdir" "$out"
	log "$name kernel built in $((SECONDS - t0)) s"
	echo "$stamp" > "$out/.virtseed-stamp"
}

main() {
	[ "$(uname -m)" = x86_64 ] || skip "needs an x86-64 build host"
	need_pkgs
	[ -f "$tarball" ] || skip "$tarball missing after install"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not found"

	mkdir -p "$build"
	exec 9> "$build/.lock"
	flock 9 || die "cannot lock $build"

	prepare_source
	check_base
	prepare_patched
	checkpatch
	build_kernel baseline base
	build_kernel patched patched baseline
	if [ "${1:-}" = build ]; then
		log "kernels ready after $(($(date +%s) - started)) s"
		return 0
	fi

	log "building the guest initramfs"
	gcc -static -Os -Wall -Wextra -Werror -o "$build/hwrng-probe" "$here/test/hwrng-probe.c"
	for k in baseline patched; do
		"$here/test/mkinitrd.sh" "$build/out-$k" "$build/hwrng-probe" "$build/initrd-$k.cpio"
	done

	log "booting (QEMU TCG; logs in $build/logs)"
	rm -rf "$build/logs"
	local rc=0
	/usr/bin/python3 "$here/test/boot-test.py" \
		--baseline "$build/out-baseline/arch/x86/boot/bzImage" \
		--patched "$build/out-patched/arch/x86/boot/bzImage" \
		--initrd-baseline "$build/initrd-baseline.cpio" \
		--initrd-patched "$build/initrd-patched.cpio" \
		--logs "$build/logs" ${KP_ONLY:+--only "$KP_ONLY"} | tee "$build/results.txt" || rc=$?
	# Patch 0005: a snapshot restored as a clone (KP_ONLY must name "fork" to run it then).
	if [ -z "${KP_ONLY:-}" ] || [[ ,$KP_ONLY, == *,fork,* ]]; then
		/usr/bin/python3 "$here/test/fork-test.py" \
			--baseline "$build/out-baseline/arch/x86/boot/bzImage" \
			--patched "$build/out-patched/arch/x86/boot/bzImage" \
			--initrd-baseline "$build/initrd-baseline.cpio" \
			--initrd-patched "$build/initrd-patched.cpio" \
			--logs "$build/logs" | tee -a "$build/results.txt" || rc=1
	fi
	log "check took $(($(date +%s) - started)) s"
	return $rc
}

# One line, so that bash never reads past it if this file is edited meanwhile.
main "$@"; exit $?
