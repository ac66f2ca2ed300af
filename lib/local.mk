# lib/: the shared core, a static convenience library.
noinst_LIBRARIES += lib/libvirtseed.a
lib_libvirtseed_a_SOURCES = \
	lib/macro.h \
	lib/log.c lib/log.h \
	lib/health.c lib/health.h \
	lib/source.c lib/source.h \
	lib/source-getrandom.c
lib_libvirtseed_a_CFLAGS = $(AM_CFLAGS) $(GCRYPT_CFLAGS)
LIBVIRTSEED_LIBS = lib/libvirtseed.a $(GCRYPT_LIBS) -lm
