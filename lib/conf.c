/*
 * One table of keys serves the configuration file ("key = value", '#'
 * comments), long options (--key=value) and the kernel command line
 * (virtseed.key=value; rd.virtseed.key=value only in the initramfs).  The
 * caller applies them in that order, so later ones win.  Pure: no I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "health.h"
#include "log.h"
#include "macro.h"

static const char *const src_names[_SRC_MAX] = { "hwrng", "rdseed", "rdrand", "egd" };

const char *config_source_name(enum src_kind k)
{
	return k < _SRC_MAX ? src_names[k] : "?";
}

void config_defaults(struct config *c)
{
	*c = (struct config){
		.order = { SRC_HWRNG, SRC_RDSEED, SRC_RDRAND, SRC_EGD },
		.n_order = 4,
		.hwrng_device = "/dev/hwrng",
		.hwrng_timeout_msec = 500,
		.egd_timeout_msec = 500,
		.credit = { 4, 4, 4, 4 },
		.min_entropy = 4.0,
		.reseed_interval = -1,
		.wakeup_threshold = 1024,
		.fill_target = 3072,
		.timeout_sec = 30,
		.confidential = -1,
		.log_level = LOG_INFO,
	};
}

static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *ret)
{
	char *end;
	unsigned long x;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || *end || x < min || x > max)
		return -ERANGE;
	*ret = (unsigned)x;
	return 0;
}

static int parse_bool(const char *v, bool *ret)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcmp(v, yes[i]) == 0)
			return *ret = true, 0;
		if (strcmp(v, no[i]) == 0)
			return *ret = false, 0;
	}
	return -EINVAL;
}

static int parse_string(const char *v, char *dst, size_t size)
{
	size_t n = strlen(v);

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, v, n + 1);
	return 0;
}

static int parse_sources(struct config *c, const char *v)
{
	enum src_kind order[CONFIG_MAX_SOURCES];
	char buf[CONFIG_VALUE_MAX], *save = NULL;
	size_t n = 0;

	if (parse_string(v, buf, sizeof(buf)) < 0)
		return -ENAMETOOLONG;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t k;

		for (k = 0; k < _SRC_MAX && strcmp(t, src_names[k]) != 0; k++)
			;
		if (k == _SRC_MAX || n == CONFIG_MAX_SOURCES)
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			if (order[i] == k)
				return -EINVAL;
		order[n++] = (enum src_kind)k;
	}
	if (n == 0)
		return -EINVAL;
	memcpy(c->order, order, sizeof(order));
	c->n_order = n;
	return 0;
}

static int parse_tristate(const char *v, int *ret)
{
	bool b;

	if (strcmp(v, "auto") == 0)
		return *ret = -1, 0;
	if (parse_bool(v, &b) < 0)
		return -EINVAL;
	*ret = b;
	return 0;
}

static int parse_interval(const char *v, int *ret)
{
	unsigned x;

	if (strcmp(v, "auto") == 0)
		return *ret = -1, 0;
	if (parse_uint(v, 0, 86400, &x) < 0)
		return -ERANGE;
	*ret = (int)x;
	return 0;
}

static int parse_entropy(const char *v, double *ret)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || !(x >= HEALTH_MIN_ENTROPY && x <= 8.0))
		return -ERANGE;
	*ret = x;
	return 0;
}

static int parse_level(const char *v, int *ret)
{
	int l = log_parse_level(v);

	if (l < 0)
		return l;
	*ret = l;
	return 0;
}

static int set_credit(struct config *c, enum src_kind k, const char *v)
{
	return parse_uint(v, 0, 8, &c->credit[k]);
}

int config_set(struct config *c, const char *key, const char *v)
{
	if (strcmp(key, "sources") == 0)
		return parse_sources(c, v);
	if (strcmp(key, "hwrng-device") == 0)
		return parse_string(v, c->hwrng_device, sizeof(c->hwrng_device));
	if (strcmp(key, "hwrng-timeout") == 0)
		return parse_uint(v, 10, 60000, &c->hwrng_timeout_msec);
	if (strcmp(key, "egd") == 0)
		return parse_string(v, c->egd, sizeof(c->egd));
	if (strcmp(key, "egd-timeout") == 0)
		return parse_uint(v, 10, 60000, &c->egd_timeout_msec);
	for (int k = 0; k < _SRC_MAX; k++) {
		char name[32];

		snprintf(name, sizeof(name), "credit-%s", src_names[k]);
		if (strcmp(key, name) == 0)
			return set_credit(c, (enum src_kind)k, v);
	}
	if (strcmp(key, "min-entropy") == 0)
		return parse_entropy(v, &c->min_entropy);
	if (strcmp(key, "reseed-interval") == 0)
		return parse_interval(v, &c->reseed_interval);
	if (strcmp(key, "wakeup-threshold") == 0)
		return parse_uint(v, 8, 4096, &c->wakeup_threshold);
	if (strcmp(key, "fill-target") == 0)
		return parse_uint(v, 8, 4096, &c->fill_target);
	if (strcmp(key, "timeout") == 0)
		return parse_uint(v, 1, 3600, &c->timeout_sec);
	if (strcmp(key, "user") == 0)
		return parse_string(v, c->user, sizeof(c->user));
	if (strcmp(key, "confidential") == 0)
		return parse_tristate(v, &c->confidential);
	if (strcmp(key, "trust-host") == 0)
		return parse_bool(v, &c->trust_host);
	if (strcmp(key, "log-level") == 0)
		return parse_level(v, &c->log_level);
	if (strcmp(key, "fork-detect") == 0)
		return fork_mode_parse(v, &c->fork_detect);
	return -ENOKEY;
}

bool config_key_known(const char *key)
{
	struct config scratch;

	config_defaults(&scratch);
	return config_set(&scratch, key, "") != -ENOKEY;
}

static char *strip(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int parse_line(struct config *c, char *line)
{
	char *eq, *key;

	line = strip(line);
	if (*line == '\0' || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return -EBADMSG;
	*eq = '\0';
	key = strip(line);
	return config_set(c, key, strip(eq + 1));
}

int config_parse_text(struct config *c, const char *text, unsigned *ret_line)
{
	unsigned lineno = 0;

	while (*text) {
		const char *nl = strchrnul(text, '\n');
		char line[CONFIG_LINE_MAX];
		size_t n = (size_t)(nl - text);
		int r;

		lineno++;
		if (n >= sizeof(line)) {
			*ret_line = lineno;
			return -E2BIG;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		r = parse_line(c, line);
		if (r < 0) {
			*ret_line = lineno;
			return r;
		}
		text = *nl ? nl + 1 : nl;
	}
	return 0;
}

static void cmdline_item(struct config *c, char *item, bool initrd, config_bad_fn bad,
			 void *userdata)
{
	char *eq = strchr(item, '='), *key = item;
	const char *value = eq ? eq + 1 : "";
	int r;

	if (eq)
		*eq = '\0';
	if (strcmp(key, "rd.virtseed") == 0) {
		bool on;

		r = parse_bool(value, &on);
		if (r == 0 && initrd)
			c->disabled = !on;
	} else if (strncmp(key, "rd.virtseed.", 12) == 0) {
		r = initrd ? config_set(c, key + 12, value) : 0;
	} else if (strncmp(key, "virtseed.", 9) == 0) {
		r = config_set(c, key + 9, value);
	} else {
		return;
	}
	if (r < 0 && bad)
		bad(key, value, r, userdata);
}

/* Items are separated by blanks; double quotes may protect blanks in a value. */
void config_parse_cmdline(struct config *c, const char *cmdline, bool initrd,
			  config_bad_fn bad, void *userdata)
{
	const char *p = cmdline;

	while (*p) {
		char item[CONFIG_LINE_MAX];
		size_t n = 0;
		bool quoted = false;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (n < sizeof(item) - 1)
				item[n++] = *p;
		}
		item[n] = '\0';
		if (n > 0)
			cmdline_item(c, item, initrd, bad, userdata);
	}
}

static int config_set_flag(struct config *c, const char *arg, struct config_error *err)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	n = MIN(n, sizeof(err->key) - 1);
	memcpy(err->key, arg, n);
	err->key[n] = '\0';
	if (!eq)
		return -EINVAL;
	return config_set(c, err->key, eq + 1);
}

/* Defaults < file < kernel command line < flags. */
int config_load(struct config *c, const struct config_input *in, struct config_error *ret_err)
{
	struct config_error err = { .flag = -1 };
	int r = 0;

	config_defaults(c);
	if (in->file_text)
		r = config_parse_text(c, in->file_text, &err.line);
	if (r == 0 && in->cmdline)
		config_parse_cmdline(c, in->cmdline, in->initrd, in->bad, in->userdata);
	for (size_t i = 0; r == 0 && i < in->n_flags; i++) {
		r = config_set_flag(c, in->flags[i], &err);
		if (r < 0)
			err.flag = (int)i;
	}
	if (r < 0) {
		err.error = r;
		*ret_err = err;
	}
	return r;
}

int config_format(const struct config *c, char *buf, size_t size)
{
	char order[64] = "", interval[16] = "auto";
	int n;

	for (size_t i = 0; i < c->n_order; i++) {
		strcat(order, i ? "," : "");
		strcat(order, src_names[c->order[i]]);
	}
	if (c->reseed_interval >= 0)
		snprintf(interval, sizeof(interval), "%d", c->reseed_interval);
	n = snprintf(buf, size,
		     "sources = %s\nhwrng-device = %s\nhwrng-timeout = %u\negd = %s\n"
		     "egd-timeout = %u\ncredit-hwrng = %u\ncredit-rdseed = %u\n"
		     "credit-rdrand = %u\ncredit-egd = %u\nmin-entropy = %g\n"
		     "reseed-interval = %s\nwakeup-threshold = %u\nfill-target = %u\n"
		     "timeout = %u\nuser = %s\nconfidential = %s\ntrust-host = %s\n"
		     "log-level = %d\nfork-detect = %s\n",
		     order, c->hwrng_device, c->hwrng_timeout_msec, c->egd, c->egd_timeout_msec,
		     c->credit[SRC_HWRNG], c->credit[SRC_RDSEED], c->credit[SRC_RDRAND],
		     c->credit[SRC_EGD], c->min_entropy, interval, c->wakeup_threshold,
		     c->fill_target, c->timeout_sec, c->user,
		     c->confidential < 0 ? "auto" : c->confidential ? "yes" : "no",
		     c->trust_host ? "yes" : "no", c->log_level,
		     fork_mode_name(c->fork_detect));
	return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}
