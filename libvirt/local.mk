# libvirt/: virtseed-libvirt, the libvirt management layer (--with-libvirt), and the
# control-socket codec it shares with the distributor (built always: egd/control.c).
lib_libvirtseed_a_SOURCES += lib/ctl-proto.c lib/ctl-proto.h

if HAVE_CMOCKA
check_PROGRAMS += tests/test-ctl-proto
TESTS += tests/test-ctl-proto
tests_test_ctl_proto_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_ctl_proto_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
# The distributor's end with the real layers below it (egd_core: egd/local.mk).
check_PROGRAMS += tests/test-egd-control
TESTS += tests/test-egd-control
tests_test_egd_control_SOURCES = tests/test-egd-control.c egd/control.c egd/control.h \
	$(egd_core)
tests_test_egd_control_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/egd
tests_test_egd_control_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_egd_control_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
endif

if HAVE_LIBVIRT
LIBVIRT_CPPFLAGS = $(AM_CPPFLAGS) -DLOCALSTATEDIR=\"$(localstatedir)\" -I$(top_srcdir)/libvirt
sbin_PROGRAMS += libvirt/virtseed-libvirt
libvirt_virtseed_libvirt_SOURCES = \
	libvirt/main.c libvirt/attach.h \
	libvirt/attach.c \
	libvirt/domains.c libvirt/domains.h \
	libvirt/ctl.c libvirt/ctl.h \
	libvirt/domxml.c libvirt/domxml.h
libvirt_virtseed_libvirt_CPPFLAGS = $(LIBVIRT_CPPFLAGS)
libvirt_virtseed_libvirt_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS) $(LIBXML_CFLAGS)
libvirt_virtseed_libvirt_LDADD = $(LIBVIRTSEED_LIBS) $(LIBVIRT_LIBS) $(LIBXML_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/test-libvirt-domxml
TESTS += tests/test-libvirt-domxml
tests_test_libvirt_domxml_SOURCES = tests/test-libvirt-domxml.c libvirt/domxml.c
tests_test_libvirt_domxml_CPPFLAGS = $(LIBVIRT_CPPFLAGS)
tests_test_libvirt_domxml_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LIBXML_CFLAGS)
tests_test_libvirt_domxml_LDADD = $(LIBVIRTSEED_LIBS) $(LIBXML_LIBS) $(CMOCKA_LIBS)
check_PROGRAMS += tests/test-libvirt-domains
TESTS += tests/test-libvirt-domains
tests_test_libvirt_domains_SOURCES = tests/test-libvirt-domains.c libvirt/domains.c \
	libvirt/ctl.c
tests_test_libvirt_domains_CPPFLAGS = $(LIBVIRT_CPPFLAGS)
tests_test_libvirt_domains_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LIBXML_CFLAGS)
tests_test_libvirt_domains_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
endif

nodist_systemdsystemunit_DATA += units/virtseed-libvirt.service
CLEANFILES += units/virtseed-libvirt.service
units/virtseed-libvirt.service: units/virtseed-libvirt.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(units_edit) $< >$@.tmp && mv $@.tmp $@
endif
EXTRA_DIST += units/virtseed-libvirt.service.in libvirt/quickstart.sh

# Real libvirtd, started and stopped by the tests (they skip without libvirtd or as
# non-root).  One script boots the TCG guests once for tests 1-7 of the libvirt issue.
libvirt_integ_tests = tests/integ/libvirt-args.sh tests/integ/libvirt-e2e.sh \
	tests/integ/libvirt-attach.sh
TESTS += $(libvirt_integ_tests)
EXTRA_DIST += $(libvirt_integ_tests) tests/integ/libvirt-lib.sh tests/integ/libvirt-spoof.py
# Its man page is installed only with the service it describes (the Debian packages are built
# without libvirt).
EXTRA_DIST += docs/virtseed-libvirt.8
if HAVE_LIBVIRT
man_MANS += docs/virtseed-libvirt.8
endif
