/* Shared by the configuration fuzz targets: what every result must satisfy. */
#pragma once

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "conf.h"

/* A refusal can always be told to a person, naming what it refused. */
static void fuzz_conf_check_error(const struct config_error *e)
{
	char msg[1024];

	assert(e->error < 0);
	assert(config_error_format(e, "F", msg, sizeof(msg)) == 0);
	assert(msg[0] != '\0');
}

/* What --status prints parses back to itself. */
static void fuzz_conf_check_roundtrip(const struct config *c)
{
	static char a[8192], b[8192];
	struct config d;
	struct config_error e;

	assert(config_format(c, a, sizeof(a)) == 0);
	config_defaults(&d);
	assert(config_parse_text(&d, a, strlen(a), &e) == 0);
	assert(config_format(&d, b, sizeof(b)) == 0);
	assert(strcmp(a, b) == 0);
}
