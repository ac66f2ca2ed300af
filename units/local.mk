# units/: systemd units for the guest agent and the host distributor, and the distributor's
# tmpfiles.d entry.  @sbindir@ is substituted at make time.
units_edit = sed -e 's|@sbindir[@]|$(sbindir)|g'

nodist_systemdsystemunit_DATA = units/virtseed.service units/virtseed-egd.service
dist_systemdsystemunit_DATA = units/virtseed-egd.socket
dist_tmpfiles_DATA = units/tmpfiles.d/virtseed-egd.conf
units/virtseed.service: units/virtseed.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(units_edit) $< >$@.tmp && mv $@.tmp $@
units/virtseed-egd.service: units/virtseed-egd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(units_edit) $< >$@.tmp && mv $@.tmp $@

EXTRA_DIST += units/virtseed.service.in units/virtseed-egd.service.in
CLEANFILES += units/virtseed.service units/virtseed-egd.service

# systemd-analyze verify on every unit, security exposure <= 2.0 for every service.
units_tests = tests/integ/units-verify.sh tests/integ/units-security.sh
TESTS += $(units_tests)
EXTRA_DIST += $(units_tests) tests/integ/units-lib.sh

# distcheck installs into its own prefix: keep the pkg-config-detected absolute dirs out.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--with-systemdsystemunitdir='$${prefix}/lib/systemd/system' \
	--with-tmpfilesdir='$${prefix}/lib/tmpfiles.d' \
	--with-dracutmodulesdir='$${prefix}/lib/dracut/modules.d' \
	--with-initramfstoolsdir='$${datadir}/initramfs-tools'
