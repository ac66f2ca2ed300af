# tests/: cmocka unit tests (need cmocka) and root-only integration scripts.
EXTRA_DIST += tests/install-deps.sh tests/guest/fetch-kernel.sh tests/guest/busybox-initramfs.sh
