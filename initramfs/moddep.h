/*
 * The two pieces of modprobe's job virtseed-preinit needs, as pure functions over text:
 * find a module's line in modules.dep, and look a module up in a comma-separated list.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MODDEP_MAX_DEPS 16

const char *moddep_parse(char *line, const char *file_base, const char *deps[], size_t *ret_n);
bool moddep_in_list(const char *list, const char *mod);
