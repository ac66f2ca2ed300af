/*
 * Logging to stderr with "<N>" priority prefixes for journald (left out when
 * stderr is a terminal, such as the initramfs console).  %m is taken from the error passed in,
 * never from errno, so callers can log a -errno returned by lib/ code.  Each
 * line is one write(2).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 1024 /* longer lines are cut */

int log_max_level = LOG_INFO;

/* "<N>" tells journald the priority; on a console (the initramfs) it is noise.
 * Atomic: virtseed-egd's refill threads log too (each finds the same answer). */
static bool log_prefix(void)
{
	static _Atomic int prefix = -1;
	int p = prefix;

	if (p < 0)
		prefix = p = getenv("JOURNAL_STREAM") || !isatty(STDERR_FILENO);
	return p;
}

void log_internal(int level, int error, const char *fmt, ...)
{
	int saved = errno;
	bool prefix = log_prefix(); /* isatty() sets errno: before %m's errno is set */
	char line[LOG_LINE_MAX];
	int n = 0, k;
	va_list ap;

	if (prefix)
		n = snprintf(line, sizeof(line), "<%d>", level);
	errno = error < 0 ? -error : error;
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = k < 0 ? n : MIN(n + k, (int)sizeof(line) - 2);
	line[n++] = '\n';
	/* One write per line: a line written to /dev/kmsg or a pipe stays one record. */
	(void)!write(STDERR_FILENO, line, (size_t)n);
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
