/*
 * Configuration precedence: built-in defaults < file < kernel command line <
 * flags.  Flags are --KEY=VALUE for every file key, plus the modes.  A bad
 * file or flag is one error naming the key; a bad kernel command line item is
 * logged and ignored so that a typo cannot stop a boot.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "sysinfo.h"

#define MAX_FLAGS 64
#define CONFIG_FILE_MAX 65536

static void help(void)
{
	printf("Usage: virtseedd [OPTIONS]\n"
	       "Keep the kernel's RNG seeded from virtio-rng, RDSEED, conditioned RDRAND\n"
	       "or a host EGD server.\n\n"
	       "  --once            seed to the target, reseed once, exit\n"
	       "  --until-ready     exit 0 as soon as the CRNG is ready (initramfs)\n"
	       "  --status          print the kernel RNG state, sources and configuration\n"
	       "  --config=FILE     configuration file (default " CONFIG_DEFAULT_PATH ")\n"
	       "  --KEY=VALUE       any configuration key, see virtseed.conf(5)\n"
	       "  -h --help         this help\n"
	       "  --version         print the version\n");
}

static int load_file(struct config *c, const char *path, bool must_exist)
{
	static char text[CONFIG_FILE_MAX];
	unsigned line = 0;
	size_t n;
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return log_errno(-errno, "Failed to open configuration '%s': %m", path);
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	r = ferror(f) ? -EIO : n == sizeof(text) - 1 ? -EFBIG : 0;
	fclose(f);
	if (r < 0)
		return log_errno(r, "Failed to read configuration '%s': %m", path);
	text[n] = '\0';
	r = config_parse_text(c, text, &line);
	if (r == -ENOKEY)
		return log_errno(r, "%s:%u: unknown key", path, line);
	if (r < 0)
		return log_errno(r, "%s:%u: invalid line: %m", path, line);
	return 0;
}

static void cmdline_bad(const char *key, const char *value, int error, void *userdata)
{
	if (error == -ENOKEY)
		log_warning("Kernel command line: unknown key '%s', ignoring.", key);
	else
		log_warning_errno(error, "Kernel command line: bad value '%s' for '%s', ignoring: %m",
				  value, key);
}

static void load_cmdline(struct config *c)
{
	char cmdline[4096];

	if (read_file_str("/proc/cmdline", cmdline, sizeof(cmdline)) == 0)
		config_parse_cmdline(c, cmdline, in_initrd(), cmdline_bad, NULL);
}

static int parse_mode(const char *name, enum agent_mode *mode)
{
	static const struct {
		const char *name;
		enum agent_mode mode;
	} modes[] = {
		{ "once", MODE_ONCE },
		{ "until-ready", MODE_UNTIL_READY },
		{ "status", MODE_STATUS },
	};

	for (size_t i = 0; i < ELEMENTSOF(modes); i++)
		if (strcmp(name, modes[i].name) == 0) {
			*mode = modes[i].mode;
			return 1;
		}
	return 0;
}

static int apply_flag(struct config *c, const char *arg)
{
	char key[64];
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	int r;

	if (!eq || n >= sizeof(key))
		return log_errno(-EINVAL, "Option '--%s' needs a value (--KEY=VALUE)", arg);
	memcpy(key, arg, n);
	key[n] = '\0';
	r = config_set(c, key, eq + 1);
	if (r == -ENOKEY)
		return log_errno(r, "Unknown option '--%s'", key);
	if (r < 0)
		return log_errno(r, "Invalid value '%s' for --%s: %m", eq + 1, key);
	return 0;
}

/* Returns 1 when the program should exit successfully (help, version). */
int agent_config_load(struct config *c, int argc, char **argv, enum agent_mode *ret_mode)
{
	const char *flags[MAX_FLAGS], *path = NULL;
	size_t n_flags = 0;
	int r;

	*ret_mode = MODE_DAEMON;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			return help(), 1;
		if (strcmp(arg, "--version") == 0)
			return puts(PACKAGE_STRING), 1;
		if (strncmp(arg, "--", 2) != 0)
			return log_errno(-EINVAL, "Unexpected argument '%s'", arg);
		arg += 2;
		if (parse_mode(arg, ret_mode))
			continue;
		if (strncmp(arg, "config=", 7) == 0)
			path = arg + 7;
		else if (n_flags < MAX_FLAGS)
			flags[n_flags++] = arg;
		else
			return log_errno(-E2BIG, "Too many options");
	}
	config_defaults(c);
	r = load_file(c, path ? path : CONFIG_DEFAULT_PATH, path != NULL);
	if (r < 0)
		return r;
	load_cmdline(c);
	for (size_t i = 0; i < n_flags; i++) {
		r = apply_flag(c, flags[i]);
		if (r < 0)
			return r;
	}
	return 0;
}
