# initramfs/: the dracut module, initramfs-tools hook and init-top script, and the helper
# both run (virtseed-initrd).  @sbindir@ and @pkglibexecdir@ are substituted at make time.
initramfs_edit = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g'
initramfs_gen = $(AM_V_GEN)$(MKDIR_P) $(@D) && $(initramfs_edit) $< >$@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

nodist_pkglibexec_SCRIPTS = initramfs/virtseed-initrd
# /init of dracut images with systemd and of initramfs-tools images: seeds before the real
# init starts (libc only).
pkglibexec_PROGRAMS = initramfs/virtseed-preinit
initramfs_virtseed_preinit_SOURCES = initramfs/virtseed-preinit.c initramfs/moddep.c \
	initramfs/moddep.h
if HAVE_CMOCKA
check_PROGRAMS += tests/test-moddep
TESTS += tests/test-moddep
tests_test_moddep_SOURCES = tests/test-moddep.c initramfs/moddep.c initramfs/moddep.h
tests_test_moddep_CFLAGS = $(AM_CFLAGS) -I$(srcdir)/initramfs $(CMOCKA_CFLAGS)
tests_test_moddep_LDADD = $(CMOCKA_LIBS)
endif
initramfs/virtseed-initrd: initramfs/virtseed-initrd.sh Makefile
	$(initramfs_gen)

dracutvirtseeddir = $(dracutmodulesdir)/90virtseed
nodist_dracutvirtseed_SCRIPTS = initramfs/dracut/90virtseed/module-setup.sh
dist_dracutvirtseed_SCRIPTS = initramfs/dracut/90virtseed/virtseed-cmdline.sh
dist_dracutvirtseed_DATA = initramfs/dracut/90virtseed/virtseed-initrd.service
initramfs/dracut/90virtseed/module-setup.sh: initramfs/dracut/90virtseed/module-setup.sh.in Makefile
	$(initramfs_gen)

itoolshooksdir = $(initramfstoolsdir)/hooks
nodist_itoolshooks_SCRIPTS = initramfs/initramfs-tools/hooks/virtseed
itoolsinittopdir = $(initramfstoolsdir)/scripts/init-top
dist_itoolsinittop_SCRIPTS = initramfs/initramfs-tools/scripts/init-top/00virtseed
initramfs/initramfs-tools/hooks/virtseed: initramfs/initramfs-tools/hooks/virtseed.in Makefile
	$(initramfs_gen)
# The hook as mkinitramfs runs it, its configuration and its errors.
TESTS += tests/integ/itools-hook.sh
EXTRA_DIST += tests/integ/itools-hook.sh

EXTRA_DIST += initramfs/virtseed-initrd.sh \
	initramfs/dracut/90virtseed/module-setup.sh.in \
	initramfs/initramfs-tools/hooks/virtseed.in
CLEANFILES += initramfs/virtseed-initrd initramfs/dracut/90virtseed/module-setup.sh \
	initramfs/initramfs-tools/hooks/virtseed

# End-to-end boots of Debian's 6.1 kernel under QEMU/TCG (root; skip 77 without the
# binaries, QEMU or the kernel).  tests/integ/boot-lib.sh is shared with bench/boot.
initramfs_boot_tests = \
	tests/integ/boot-plumbing.sh \
	tests/integ/boot-virtio-rng.sh \
	tests/integ/boot-rdrand.sh \
	tests/integ/boot-egd-serial.sh \
	tests/integ/boot-faults.sh
TESTS += $(initramfs_boot_tests)
EXTRA_DIST += $(initramfs_boot_tests) tests/integ/boot-lib.sh \
	tests/guest/entropy-boot.c tests/guest/dracut-image.sh tests/guest/initramfs-tools-image.sh

dist_man_MANS += docs/virtseed.cmdline.7
# bench/boot.sh: crng-ready times per scenario (no agent / rngd / virtseed), gnuplot PNG.
EXTRA_DIST += bench/boot.sh bench/RESULTS-boot.md bench/boot-timeline.png

# Whole-OS guests: Debian's own root, kernel and initramfs, virtseed's packages installed with
# dpkg, booted to multi-user.target (root; skip 77 without mmdebstrap or QEMU).
os_boot_tests = tests/integ/debian-lintian.sh tests/integ/os-bookworm.sh tests/integ/os-trixie.sh \
	tests/integ/os-dracut.sh
TESTS += $(os_boot_tests)
EXTRA_DIST += $(os_boot_tests) tests/integ/os-lib.sh tests/guest/os-base.sh tests/guest/os-debs.sh \
	tests/guest/os-prepare.sh
# os-base.sh's one build per cached root, with a stand-in mmdebstrap (no root, no network).
TESTS += tests/integ/os-cache-lock.sh
EXTRA_DIST += tests/integ/os-cache-lock.sh
