/*
 * Logging to stderr with "<N>" priority prefixes for journald (left out when
 * stderr is a terminal, such as the initramfs console).  %m is taken from the error passed in,
 * never from errno, so callers can log a -errno returned by lib/ code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int log_max_level = LOG_INFO;

/* "<N>" tells journald the priority; on a console (the initramfs) it is noise. */
static bool log_prefix(void)
{
	static int prefix = -1;

	if (prefix < 0)
		prefix = getenv("JOURNAL_STREAM") || !isatty(STDERR_FILENO);
	return prefix;
}

void log_internal(int level, int error, const char *fmt, ...)
{
	int saved = errno;
	bool prefix = log_prefix(); /* isatty() sets errno: before %m's errno is set */
	va_list ap;

	va_start(ap, fmt);
	flockfile(stderr);
	if (prefix)
		fprintf(stderr, "<%d>", level);
	errno = error < 0 ? -error : error;
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
	errno = saved;
}

int log_parse_level(const char *s)
{
	static const char *const names[] = { "emerg", "alert", "crit", "err",
					     "warning", "notice", "info", "debug" };

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	return -EINVAL;
}
