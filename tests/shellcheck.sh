#!/bin/sh
# Every shell script in the tree passes shellcheck at warning level.
top_srcdir=${top_srcdir:-.}
command -v shellcheck >/dev/null || { echo "SKIP: shellcheck not installed"; exit 77; }
cd "$top_srcdir" || exit 1
files=$(find . -path ./kernel-patch/build -prune -o -path ./_build -prune -o \
	\( -name '*.sh' -o -path ./.ci/run -o -path './initramfs/*' -type f \) -print |
	while read -r f; do head -n1 "$f" | grep -q '^#!.*sh' && echo "$f"; done)
# shellcheck disable=SC2086 # one argument per file
shellcheck -x -S warning $files
