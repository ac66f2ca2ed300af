# egd/: virtseed-egd, the host EGD distributor, with its lib/ modules, tests and benchmarks.
lib_libvirtseed_a_SOURCES += \
	lib/egd-proto.c lib/egd-proto.h \
	lib/egd-conf.c lib/egd-conf.h \
	lib/tbucket.c lib/tbucket.h \
	lib/htb.c lib/htb.h

# Fuzz targets: plain programs replaying tests/corpus/ here; tests/integ/egd-fuzz.sh
# builds them with clang -fsanitize=fuzzer -DFUZZER for a bounded run.
check_PROGRAMS += tests/fuzz-egd-proto tests/fuzz-egd-conf
TESTS += tests/fuzz-egd-proto tests/fuzz-egd-conf
tests_fuzz_egd_proto_SOURCES = tests/fuzz-egd-proto.c tests/fuzz-replay.h
tests_fuzz_egd_proto_LDADD = $(LIBVIRTSEED_LIBS)
tests_fuzz_egd_conf_SOURCES = tests/fuzz-egd-conf.c tests/fuzz-replay.h
tests_fuzz_egd_conf_LDADD = $(LIBVIRTSEED_LIBS)
EXTRA_DIST += tests/corpus/egd-proto tests/corpus/egd-conf

if HAVE_CMOCKA
egd_cmocka_tests = tests/test-egd-proto tests/test-egd-conf tests/test-tbucket tests/test-htb \
	tests/test-conf-value tests/test-ratelimit
check_PROGRAMS += $(egd_cmocka_tests)
TESTS += $(egd_cmocka_tests)
tests_test_egd_proto_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_egd_proto_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
tests_test_egd_conf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_egd_conf_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
tests_test_tbucket_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_tbucket_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
tests_test_htb_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_htb_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
tests_test_conf_value_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_conf_value_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
tests_test_ratelimit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_ratelimit_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
check_PROGRAMS += tests/test-egd-client
TESTS += tests/test-egd-client
# The connection layer with the real layers below it: no stubs.
egd_core = egd/client.c egd/client.h egd/registry.c egd/registry.h \
	egd/reservoir.c egd/reservoir.h egd/dispatch.c egd/dispatch.h
tests_test_egd_client_SOURCES = tests/test-egd-client.c $(egd_core)
tests_test_egd_client_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/egd
tests_test_egd_client_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_egd_client_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
check_PROGRAMS += tests/test-egd-registry
TESTS += tests/test-egd-registry
tests_test_egd_registry_SOURCES = tests/test-egd-registry.c egd/registry.c egd/registry.h
tests_test_egd_registry_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/egd
tests_test_egd_registry_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_egd_registry_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
endif

sbin_PROGRAMS += egd/virtseed-egd
egd_virtseed_egd_SOURCES = \
	egd/main.c \
	egd/listen.c egd/listen.h \
	egd/control.c egd/control.h \
	egd/stats.c egd/stats.h \
	egd/client.c egd/client.h \
	egd/registry.c egd/registry.h \
	egd/reservoir.c egd/reservoir.h \
	egd/dispatch.c egd/dispatch.h
egd_virtseed_egd_LDADD = $(LIBVIRTSEED_LIBS) $(CAPNG_LIBS) $(SECCOMP_LIBS)

# Integration: real sockets (root not needed), and a real QEMU guest (skips without
# qemu-system-x86_64, busybox-static or the guest kernel).  egd-fuzz.sh is for CI:
#   FUZZ_SECONDS=60 top_srcdir=. tests/integ/egd-fuzz.sh
TESTS += tests/integ/egd-integ.sh tests/integ/egd-qemu.sh tests/integ/egd-sources.sh \
	tests/integ/egd-chain.sh
EXTRA_DIST += tests/integ/egd-integ.sh tests/integ/egd-integ.py tests/integ/egd-qemu.sh \
	tests/integ/egd-fuzz.sh tests/integ/egd-sources.sh tests/integ/egd-chain.sh \
	tests/integ/egd-chain.py

# Benchmarks: bench/egd-bench.sh runs them; numbers in bench/RESULTS-egd.md.
noinst_PROGRAMS += bench/egd-bench
bench_egd_bench_SOURCES = bench/egd-bench.c
bench_egd_bench_LDADD = -lm
EXTRA_DIST += bench/egd-bench.sh bench/RESULTS-egd.md

dist_man_MANS += docs/virtseed-egd.8 docs/virtseed-egd.conf.5
