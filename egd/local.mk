# egd/: virtseed-egd, the host EGD distributor, with its lib/ modules, tests and benchmarks.
lib_libvirtseed_a_SOURCES += \
	lib/egd-proto.c lib/egd-proto.h

if HAVE_CMOCKA
check_PROGRAMS += tests/test-egd-proto
TESTS += tests/test-egd-proto
tests_test_egd_proto_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_egd_proto_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
endif
