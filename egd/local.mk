# egd/: virtseed-egd, the host EGD distributor, with its lib/ modules, tests and benchmarks.
lib_libvirtseed_a_SOURCES += \
	lib/egd-proto.c lib/egd-proto.h \
	lib/tbucket.c lib/tbucket.h \
	lib/htb.c lib/htb.h

if HAVE_CMOCKA
egd_cmocka_tests = tests/test-egd-proto tests/test-tbucket tests/test-htb
check_PROGRAMS += $(egd_cmocka_tests)
TESTS += $(egd_cmocka_tests)
tests_test_egd_proto_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_egd_proto_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
tests_test_tbucket_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_tbucket_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
tests_test_htb_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_htb_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
endif
