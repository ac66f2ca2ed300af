/* The agent's configuration: one table of keys shared by the file, the
 * command line (--KEY=VALUE) and the kernel command line (virtseed.KEY=). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "fork.h"

#define CONFIG_MAX_SOURCES 4
#define CONFIG_VALUE_MAX 256
#define CONFIG_LINE_MAX 1024
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/virtseed/virtseed.conf"

enum src_kind { SRC_HWRNG, SRC_RDSEED, SRC_RDRAND, SRC_EGD, _SRC_MAX };

struct config {
	enum src_kind order[CONFIG_MAX_SOURCES];
	size_t n_order;
	char hwrng_device[PATH_MAX];
	unsigned hwrng_timeout_msec;
	char egd[CONFIG_VALUE_MAX];
	unsigned egd_timeout_msec;
	unsigned credit[_SRC_MAX];   /* bits per byte */
	double min_entropy;          /* bits per byte, for the health-test cutoffs */
	int reseed_interval;         /* seconds; 0 never; -1 auto */
	unsigned wakeup_threshold;   /* kernels <= 5.17 */
	unsigned fill_target;        /* kernels <= 5.17 */
	unsigned timeout_sec;        /* --until-ready */
	char user[64];
	int confidential;            /* -1 auto, 0 no, 1 yes */
	bool trust_host;
	int log_level;
	bool disabled;               /* rd.virtseed=0 in the initramfs */
	enum fork_mode fork_detect;
};

/* Called for each bad kernel command line item, which is then ignored. */
typedef void (*config_bad_fn)(const char *key, const char *value, int error, void *userdata);

/* Where config_load() stopped: a file line (line > 0) or a flag (flag >= 0). */
struct config_error {
	int error;
	unsigned line;
	int flag;
	char key[64];
};

struct config_input {
	const char *file_text;        /* NULL: no file */
	const char *cmdline;          /* NULL: no kernel command line */
	bool initrd;
	const char *const *flags;     /* "key=value", as given after "--" */
	size_t n_flags;
	config_bad_fn bad;
	void *userdata;
};

void config_defaults(struct config *c);
int config_load(struct config *c, const struct config_input *in, struct config_error *ret_err);
int config_set(struct config *c, const char *key, const char *value);
int config_parse_text(struct config *c, const char *text, unsigned *ret_line);
void config_parse_cmdline(struct config *c, const char *cmdline, bool initrd,
			  config_bad_fn bad, void *userdata);
bool config_key_known(const char *key);
const char *config_source_name(enum src_kind k);
int config_format(const struct config *c, char *buf, size_t size);
