/* The agent's configuration: one table of keys shared by the file, the
 * command line (--KEY=VALUE) and the kernel command line (virtseed.KEY=). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "fork.h"

#define CONFIG_MAX_SOURCES 4
#define CONFIG_VALUE_MAX 256
#define CONFIG_LINE_MAX 1024          /* bytes in a file line or a kernel command line item */
#define CONFIG_FILE_MAX 65536         /* bytes in the file */
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/virtseed/virtseed.conf"

enum src_kind { SRC_HWRNG, SRC_RDSEED, SRC_RDRAND, SRC_EGD, _SRC_MAX };

struct config {
	enum src_kind order[CONFIG_MAX_SOURCES];
	size_t n_order;
	char hwrng_device[CONFIG_VALUE_MAX];
	unsigned hwrng_timeout_msec;
	char egd[CONFIG_VALUE_MAX];
	unsigned egd_timeout_msec;
	unsigned credit[_SRC_MAX];   /* bits per byte */
	bool credit_set[_SRC_MAX];   /* given explicitly (else follows min-entropy, trust_cpu) */
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

enum config_origin { CONFIG_FILE, CONFIG_CMDLINE, CONFIG_FLAG };

/* One rejected item: what a person needs to fix it. */
struct config_error {
	enum config_origin origin;
	int error;               /* -ENOKEY unknown, -EINVAL bad value, -EBADMSG syntax, ... */
	unsigned line;           /* file line, 1-based */
	char key[64];
	char value[80];          /* cut with "..." when longer */
	const char *allowed;     /* for bad values: what the key takes */
	char reason[160];        /* when set, why instead of what is allowed */
};

/* Called for each bad kernel command line item, which is then ignored. */
typedef void (*config_bad_fn)(const struct config_error *e, void *userdata);
/* Does this user exist?  (A seam: the caller looks it up.) */
typedef bool (*config_user_fn)(const char *name);

struct config_input {
	const char *file_text;        /* NULL: no file */
	size_t file_len;              /* bytes in file_text (a NUL inside is an error) */
	const char *cmdline;          /* NULL: no kernel command line */
	bool initrd;
	bool confidential;            /* detected: the kernel command line cannot weaken it */
	const char *const *flags;     /* "key=value", as given after "--" */
	size_t n_flags;
	config_user_fn user_exists;   /* NULL: not checked */
	config_bad_fn bad;
	void *userdata;
};

void config_defaults(struct config *c);
int config_load(struct config *c, const struct config_input *in, struct config_error *ret_err);
int config_set(struct config *c, const char *key, const char *value);
int config_parse_text(struct config *c, const char *text, size_t len, struct config_error *ret);
void config_parse_cmdline(struct config *c, const char *cmdline, const struct config_input *in);
bool config_key_known(const char *key);
const char *config_source_name(enum src_kind k);
int config_format(const struct config *c, char *buf, size_t size);
int config_error_format(const struct config_error *e, const char *path, char *buf, size_t size);
