/*
 * Configuration precedence: built-in defaults < file < kernel command line <
 * flags.  Flags are --KEY=VALUE for every file key, plus the modes.  A bad
 * file or flag is one error naming the key; a bad kernel command line item is
 * logged and ignored so that a typo cannot stop a boot.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "sysinfo.h"

#define MAX_FLAGS 64

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
static int read_config(const char *path, bool must_exist, char **ret_text, size_t *ret_len)
{
	static char text[CONFIG_FILE_MAX + 1];
	size_t n;
	FILE *f = fopen(path, "re");
	int r;

	*ret_text = NULL;
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return log_errno(-errno, "Failed to open configuration '%s': %m", path);
	}
	n = fread(text, 1, sizeof(text), f);
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (r < 0)
		return log_errno(r, "Failed to read configuration '%s': %m", path);
	if (n > CONFIG_FILE_MAX)
		return log_errno(-EFBIG, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
	text[n] = '\0';
	*ret_text = text;
	*ret_len = n;
	return 0;
}

static void cmdline_bad(const struct config_error *e, void *userdata)
{
	char msg[512];

	if (config_error_format(e, NULL, msg, sizeof(msg)) == 0)
		log_warning("%s", msg);
}

static bool user_exists(const char *name)
{
	return getpwnam(name) != NULL;
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
	char msg[512];

	if (config_error_format(e, path, msg, sizeof(msg)) < 0)
		snprintf(msg, sizeof(msg), "Invalid configuration");
	log_error("%s", msg);
	return e->error < 0 ? e->error : -EINVAL;
}

/* Modes and --config; the rest are configuration keys.  1: exit successfully (help). */
static int parse_args(int argc, char **argv, const char **flags, size_t *n_flags,
		      const char **ret_path, enum agent_mode *ret_mode)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			return help(), 1;
		if (strcmp(arg, "--version") == 0)
			return puts(PACKAGE_STRING), 1;
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			log_error("Unexpected argument '%s': options are --KEY=VALUE", arg);
			return -EINVAL;
		}
		arg += 2;
		if (parse_mode(arg, ret_mode))
			continue;
		if (strncmp(arg, "config=", 7) == 0)
			*ret_path = arg + 7;
		else if (*n_flags < MAX_FLAGS)
			flags[(*n_flags)++] = arg;
		else
			return log_errno(-E2BIG, "More than %d options", MAX_FLAGS);
	}
	return 0;
}

int agent_config_load(struct config *c, const struct machine *m, int argc, char **argv,
		      enum agent_mode *ret_mode)
{
	const char *flags[MAX_FLAGS], *path = NULL;
	struct config_input in;
	struct config_error err;
	size_t n_flags = 0, len = 0;
	char *text;
	int r;

	*ret_mode = MODE_DAEMON;
	r = parse_args(argc, argv, flags, &n_flags, &path, ret_mode);
	if (r != 0)
		return r;
	r = read_config(path ? path : CONFIG_DEFAULT_PATH, path != NULL, &text, &len);
	if (r < 0)
		return r;
	in = (struct config_input){
		.file_text = text, .file_len = len, .cmdline = m->cmdline, .initrd = m->initrd,
		.confidential = machine_cvm(m) != CVM_NONE, .flags = flags, .n_flags = n_flags,
		.user_exists = user_exists, .bad = cmdline_bad,
	};
	r = config_load(c, &in, &err);
	return r < 0 ? report(&err, path ? path : CONFIG_DEFAULT_PATH) : 0;
}
