/*
 * modules.dep lines read "kernel/path/name.ko[.xz|.zst|.gz]: dep1 dep2 ...", paths relative
 * to /lib/modules/RELEASE; modprobe loads the dependencies last first.  Module names treat
 * '-' and '_' alike.
 */
#include <string.h>

#include "moddep.h"

/**
 * moddep_parse() - is this modules.dep line the one of a module file?
 * @line: one line, split in place
 * @file_base: the module's file name without compression suffix, such as "virtio-rng.ko"
 * @deps: receives up to MODDEP_MAX_DEPS dependency paths, in the line's order
 * @ret_n: receives their number
 *
 * Return: the module's path, or NULL if the line is another module's (or malformed, or
 * lists more dependencies than MODDEP_MAX_DEPS).
 */
const char *moddep_parse(char *line, const char *file_base, const char *deps[], size_t *ret_n)
{
	char *colon = strchr(line, ':'), *base, *tok, *save = NULL;
	size_t n = 0, len = strlen(file_base);

	if (!colon)
		return NULL;
	*colon = '\0';
	base = strrchr(line, '/');
	base = base ? base + 1 : line;
	if (strncmp(base, file_base, len) != 0 || (base[len] != '\0' && base[len] != '.'))
		return NULL;
	for (tok = strtok_r(colon + 1, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (n == MODDEP_MAX_DEPS)
			return NULL;
		deps[n++] = tok;
	}
	*ret_n = n;
	return line;
}

static bool same_name(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

/* Does the comma-separated @list name @mod? */
bool moddep_in_list(const char *list, const char *mod)
{
	size_t len = strlen(mod);

	for (const char *p = list;; p++) {
		size_t n = strcspn(p, ",");

		if (n == len && same_name(p, mod, n))
			return true;
		p += n;
		if (*p == '\0')
			return false;
	}
}
