# lib/: the shared core, a static convenience library.
noinst_LIBRARIES += lib/libvirtseed.a
lib_libvirtseed_a_SOURCES = \
	lib/macro.h \
	lib/log.c lib/log.h \
	lib/clock.c lib/clock.h \
	lib/ratelimit.c lib/ratelimit.h \
	lib/health.c lib/health.h \
	lib/source.c lib/source.h \
	lib/source-getrandom.c \
	lib/source-hwrng.c \
	lib/source-rdrand.c lib/source-rdrand.h \
	lib/source-egd.c \
	lib/address.c lib/address.h \
	lib/pool.c lib/pool.h \
	lib/seeder.c lib/seeder.h \
	lib/fork.c lib/fork.h \
	lib/forkseed.c lib/forkseed.h \
	lib/sha256.c lib/sha256.h \
	lib/conf-value.c lib/conf-value.h \
	lib/conf.c lib/conf.h \
	lib/sysinfo.c lib/sysinfo.h \
	lib/policy.c lib/policy.h \
	lib/privs.c lib/privs.h \
	lib/sandbox.c lib/sandbox.h \
	lib/notify.c lib/notify.h
lib_libvirtseed_a_CFLAGS = $(AM_CFLAGS) $(GCRYPT_CFLAGS) $(CAPNG_CFLAGS) $(SECCOMP_CFLAGS)
# The agent needs no libm and no libsystemd: it stays small for the initramfs.  libgcrypt
# is dlopen()ed by lib/source-rdrand.c on CPUs without AES-NI (tests call it directly).
AGENT_LIBS = lib/libvirtseed.a $(CAPNG_LIBS) $(SECCOMP_LIBS) $(DLOPEN_LIBS) -lpthread
LIBVIRTSEED_LIBS = $(AGENT_LIBS) -lm
