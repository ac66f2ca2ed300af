# bench/: benchmarks, built by `make` but run by hand (see each file's header).
noinst_PROGRAMS += bench/rdrand-throughput
bench_rdrand_throughput_SOURCES = bench/rdrand-throughput.c
bench_rdrand_throughput_LDADD = $(LIBVIRTSEED_LIBS)
EXTRA_DIST += bench/idle-cost.sh bench/footprint.sh bench/fuzz.sh
EXTRA_DIST += bench/fork.sh
# bench/os-boot.sh: whole-OS boots (stock / rngd / virtseed); the table shared with boot.sh.
EXTRA_DIST += bench/os-boot.sh bench/boot-report.sh bench/os-boot-timeline.png
