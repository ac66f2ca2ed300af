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

/* Reads the file into text; a missing default file is no error (text stays NULL). */
static int read_config(const char *path, bool must_exist, char **ret_text)
{
	static char text[CONFIG_FILE_MAX];
	size_t n;
	FILE *f = fopen(path, "re");
	int r;

	*ret_text = NULL;
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
	*ret_text = text;
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

static int report(const struct config_error *e, const char *path)
{
	if (e->flag < 0 && e->error == -ENOKEY)
		return log_errno(e->error, "%s:%u: unknown key", path, e->line);
	if (e->flag < 0)
		return log_errno(e->error, "%s:%u: invalid line: %m", path, e->line);
	if (e->error == -ENOKEY)
		return log_errno(e->error, "Unknown option '--%s'", e->key);
	return log_errno(e->error, "Invalid value for --%s: %m", e->key);
}

/* Returns 1 when the program should exit successfully (help, version). */
int agent_config_load(struct config *c, int argc, char **argv, enum agent_mode *ret_mode)
{
	const char *flags[MAX_FLAGS], *path = NULL;
	char cmdline[4096], *text;
	struct config_input in;
	struct config_error err;
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
	r = read_config(path ? path : CONFIG_DEFAULT_PATH, path != NULL, &text);
	if (r < 0)
		return r;
	if (read_file_str("/proc/cmdline", cmdline, sizeof(cmdline)) < 0)
		cmdline[0] = '\0';
	in = (struct config_input){
		.file_text = text, .cmdline = cmdline, .initrd = in_initrd(),
		.flags = flags, .n_flags = n_flags, .bad = cmdline_bad,
	};
	r = config_load(c, &in, &err);
	return r < 0 ? report(&err, path ? path : CONFIG_DEFAULT_PATH) : 0;
}
