# tests/: cmocka unit tests (need cmocka) and root-only integration scripts.
EXTRA_DIST += tests/install-deps.sh tests/guest/fetch-kernel.sh tests/guest/busybox-initramfs.sh

if HAVE_CMOCKA
agent_unit_tests = tests/test-health tests/test-rdrand tests/test-conf tests/test-seeder \
	tests/test-sysinfo tests/test-fork
check_PROGRAMS += $(agent_unit_tests)
TESTS += $(agent_unit_tests)
AGENT_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(GCRYPT_CFLAGS)
AGENT_TEST_LDADD = $(LIBVIRTSEED_LIBS) $(CMOCKA_LIBS)
tests_test_health_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_test_health_LDADD = $(AGENT_TEST_LDADD)
tests_test_rdrand_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_test_rdrand_LDADD = $(AGENT_TEST_LDADD) $(GCRYPT_LIBS)
tests_test_conf_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_test_conf_LDADD = $(AGENT_TEST_LDADD)
tests_test_seeder_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_test_seeder_LDADD = $(AGENT_TEST_LDADD)
tests_test_sysinfo_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_test_sysinfo_LDADD = $(AGENT_TEST_LDADD)
tests_test_fork_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_test_fork_LDADD = $(AGENT_TEST_LDADD)
endif

# Integration: real kernel ioctls and devices; they skip (77) unless root.
agent_integ_tests = tests/integ/agent-once.sh tests/integ/agent-caps.sh \
	tests/integ/agent-stall.sh tests/integ/agent-health.sh tests/integ/config-messages.sh \
	tests/integ/agent-egd.sh tests/integ/agent-luck.sh
TESTS += $(agent_integ_tests) tests/shellcheck.sh
EXTRA_DIST += $(agent_integ_tests) tests/integ/agent-luck.py tests/integ/lib.sh tests/shellcheck.sh tests/run-all.sh .ci/run

# Fuzz targets of the agent's configuration: replay tests/corpus/ here; bench/fuzz.sh runs
# them (and the distributor's) under libFuzzer.
conf_fuzz_targets = tests/fuzz-conf-file tests/fuzz-conf-cmdline tests/fuzz-conf-flags
check_PROGRAMS += $(conf_fuzz_targets)
TESTS += $(conf_fuzz_targets)
tests_fuzz_conf_file_SOURCES = tests/fuzz-conf-file.c tests/fuzz-conf.h tests/fuzz-replay.h
tests_fuzz_conf_file_LDADD = $(LIBVIRTSEED_LIBS)
tests_fuzz_conf_cmdline_SOURCES = tests/fuzz-conf-cmdline.c tests/fuzz-conf.h tests/fuzz-replay.h
tests_fuzz_conf_cmdline_LDADD = $(LIBVIRTSEED_LIBS)
tests_fuzz_conf_flags_SOURCES = tests/fuzz-conf-flags.c tests/fuzz-conf.h tests/fuzz-replay.h
tests_fuzz_conf_flags_LDADD = $(LIBVIRTSEED_LIBS)
EXTRA_DIST += tests/corpus/conf-file tests/corpus/conf-cmdline tests/corpus/conf-flags

# VM fork: QEMU guests snapshotted and restored as clones (root, QEMU; skip otherwise).
fork_boot_tests = tests/integ/boot-fork.sh tests/integ/boot-fork-none.sh \
	tests/integ/boot-fork-kernel.sh
TESTS += $(fork_boot_tests)
EXTRA_DIST += $(fork_boot_tests) tests/integ/boot-fork-lib.sh tests/integ/qmp-fork.py
