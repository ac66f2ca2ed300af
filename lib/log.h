/* stderr logging with sd-daemon <N> prefixes; journald adds time and unit. */
#pragma once

#include <syslog.h>
#include "macro.h"

extern int log_max_level;

void log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);
int log_parse_level(const char *s);

#define log_full(level, ...)                                     \
	do {                                                     \
		if ((level) <= log_max_level)                    \
			log_internal((level), 0, __VA_ARGS__);   \
	} while (0)
#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

/* Logs with %m expanded from the negative errno r and returns r (never 0). */
#define log_errno_full(level, r, ...)                                          \
	({                                                                     \
		int _r = (r);                                                  \
		if ((level) <= log_max_level)                                  \
			log_internal((level), _r, __VA_ARGS__);                \
		_r < 0 ? _r : -_r;                                             \
	})
#define log_errno(r, ...) log_errno_full(LOG_ERR, r, __VA_ARGS__)
#define log_warning_errno(r, ...) log_errno_full(LOG_WARNING, r, __VA_ARGS__)
#define log_debug_errno(r, ...) log_errno_full(LOG_DEBUG, r, __VA_ARGS__)
