/* Shared by the configuration fuzz targets: what every result must satisfy. */
#pragma once

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "macro.h"

/* A refusal can always be told to a person, naming what it refused. */
static void fuzz_conf_check_error(const struct config_error *e)
{
	char msg[1024];

	assert(e->error < 0);
	assert(config_error_format(e, "F", msg, sizeof(msg)) == 0);
	assert(msg[0] != '\0');
}

/* FNV-1a of a printed configuration. */
static uint64_t fuzz_conf_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* Whether @text was checked before: the check depends on nothing else, so most inputs
 * (which print one of a few configurations) need only the first config_format(). */
static bool fuzz_conf_seen(const char *text)
{
	static uint64_t seen[1 << 14];
	uint64_t h = fuzz_conf_hash(text) | 1;
	size_t i = h & (ELEMENTSOF(seen) - 1);

	if (seen[i] == h)
		return true;
	seen[i] = h;
	return false;
}

/* What --status prints parses back to itself. */
static void fuzz_conf_check_roundtrip(const struct config *c)
{
	static char a[8192], b[8192];
	struct config d;
	struct config_error e;

	assert(config_format(c, a, sizeof(a)) == 0);
	if (fuzz_conf_seen(a))
		return;
	config_defaults(&d);
	assert(config_parse_text(&d, a, strlen(a), &e) == 0);
	assert(config_format(&d, b, sizeof(b)) == 0);
	assert(strcmp(a, b) == 0);
}
