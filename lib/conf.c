/*
 * One table of keys serves the configuration file ("key = value", '#'
 * comments), long options (--key=value), the kernel command line
 * (virtseed.key=value; rd.virtseed.key=value only in the initramfs) and
 * --status's listing.  Defaults < file < kernel command line < flags.  A bad
 * file line or flag stops the load; a bad kernel command line item is
 * reported and ignored, and in a confidential VM nothing there may weaken the
 * trust rules.  Pure: no I/O, no logging; messages are built for the caller.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "conf-value.h"
#include "conf.h"
#include "health.h"
#include "log.h"
#include "macro.h"

enum key_type {
	T_SOURCES, T_PATH, T_STRING, T_UINT, T_CREDIT, T_ENTROPY, T_INTERVAL, T_ADDRESS,
	T_TRISTATE, T_BOOL, T_LEVEL, T_FORK,
};

struct key {
	const char *name;
	enum key_type type;
	size_t offset, size;
	unsigned min, max;
	const char *allowed;
};

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define CREDIT(k) offsetof(struct config, credit[k]), sizeof(unsigned), 0, 8, \
	"0 to 8 (bits per byte)"

static const struct key keys[] = {
	{ "sources", T_SOURCES, 0, 0, 0, 0,
	  "a comma-separated list of hwrng, rdseed, rdrand, egd, each at most once" },
	{ "hwrng-device", T_PATH, FIELD(hwrng_device), 0, 0, "an absolute path" },
	{ "hwrng-timeout", T_UINT, FIELD(hwrng_timeout_msec), 10, 60000, "10 to 60000 (ms)" },
	{ "egd", T_ADDRESS, FIELD(egd), 0, 0,
	  "unix:PATH, tcp:HOST:PORT, vsock:CID:PORT, serial:PATH or a device path" },
	{ "egd-timeout", T_UINT, FIELD(egd_timeout_msec), 10, 60000, "10 to 60000 (ms)" },
	{ "credit-hwrng", T_CREDIT, CREDIT(SRC_HWRNG) },
	{ "credit-rdseed", T_CREDIT, CREDIT(SRC_RDSEED) },
	{ "credit-rdrand", T_CREDIT, CREDIT(SRC_RDRAND) },
	{ "credit-egd", T_CREDIT, CREDIT(SRC_EGD) },
	{ "min-entropy", T_ENTROPY, FIELD(min_entropy), 0, 0, "0.5 to 8 (bits per byte)" },
	{ "reseed-interval", T_INTERVAL, FIELD(reseed_interval), 0, 86400,
	  "auto or 0 to 86400 (seconds)" },
	{ "wakeup-threshold", T_UINT, FIELD(wakeup_threshold), 8, 4096, "8 to 4096 (bits)" },
	{ "fill-target", T_UINT, FIELD(fill_target), 8, 4096, "8 to 4096 (bits)" },
	{ "timeout", T_UINT, FIELD(timeout_sec), 1, 3600, "1 to 3600 (seconds)" },
	{ "user", T_STRING, FIELD(user), 0, 0, "a user name of at most 63 bytes" },
	{ "confidential", T_TRISTATE, FIELD(confidential), 0, 0, "auto, yes or no" },
	{ "trust-host", T_BOOL, FIELD(trust_host), 0, 0, "yes or no" },
	{ "log-level", T_LEVEL, FIELD(log_level), 0, 0,
	  "emerg, alert, crit, err, warning, notice, info, debug or 0 to 7" },
	{ "fork-detect", T_FORK, FIELD(fork_detect), 0, 0, "auto, kernel, kmsg or off" },
};

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

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

bool config_key_known(const char *key)
{
	return key_find(key) != NULL;
}

/* The shared parsers of lib/conf-value.c; this table only needs "bad or not". */
static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *ret)
{
	return conf_parse_uint(v, min, max, ret) < 0 ? -EINVAL : 0;
}

static int parse_bool(const char *v, bool *ret)
{
	return conf_parse_bool(v, ret);
}

static bool printable(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

/* Values are printable and do not start or end with a blank (what prints must parse back). */
static int parse_string(const char *v, char *dst, size_t size)
{
	size_t n = strlen(v);

	if (n == 0 || n >= size || v[0] == ' ' || v[n - 1] == ' ')
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!printable((unsigned char)v[i]))
			return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}

static int parse_sources(struct config *c, const char *v)
{
	enum src_kind order[CONFIG_MAX_SOURCES];
	char buf[CONFIG_VALUE_MAX], *save = NULL;
	size_t n = 0;

	if (parse_string(v, buf, sizeof(buf)) < 0 || v[strlen(v) - 1] == ',')
		return -EINVAL;
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

static int parse_entropy(const char *v, double *ret)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || !(x >= HEALTH_MIN_ENTROPY && x <= 8.0))
		return -EINVAL;
	*ret = x;
	return 0;
}

static int parse_value(const struct key *k, struct config *c, const char *v)
{
	void *p = (char *)c + k->offset;
	struct address a;
	bool b;
	int l;

	switch (k->type) {
	case T_SOURCES:
		return parse_sources(c, v);
	case T_PATH:
		return v[0] == '/' ? parse_string(v, p, k->size) : -EINVAL;
	case T_STRING:
		return v[0] ? parse_string(v, p, k->size) : (*(char *)p = '\0', 0);
	case T_UINT:
	case T_CREDIT:
		return parse_uint(v, k->min, k->max, p);
	case T_ENTROPY:
		return parse_entropy(v, p);
	case T_ADDRESS:
		if (!v[0])
			return *(char *)p = '\0', 0;
		if (conf_parse_address(v, ~0U, &a) < 0)
			return -EINVAL;
		return parse_string(v, p, k->size);
	case T_INTERVAL:
	case T_TRISTATE:
		if (strcmp(v, "auto") == 0)
			return *(int *)p = -1, 0;
		if (k->type == T_INTERVAL)
			return parse_uint(v, k->min, k->max, p);
		if (parse_bool(v, &b) < 0)
			return -EINVAL;
		return *(int *)p = b, 0;
	case T_BOOL:
		return parse_bool(v, p);
	case T_LEVEL:
		l = log_parse_level(v);
		return l < 0 ? -EINVAL : (*(int *)p = l, 0);
	case T_FORK:
		return fork_mode_parse(v, p) < 0 ? -EINVAL : 0;
	}
	return -EINVAL;
}

int config_set(struct config *c, const char *key, const char *v)
{
	const struct key *k = key_find(key);
	int r;

	if (!k)
		return -ENOKEY;
	r = parse_value(k, c, v);
	if (r == 0 && k->type == T_CREDIT)
		c->credit_set[(k->offset - offsetof(struct config, credit)) / sizeof(unsigned)] = true;
	return r;
}

/* Copies for a message: cut with "...", control bytes shown as '?' (no log injection). */
static void copy_shown(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n < size)
		snprintf(dst, size, "%s", src);
	else
		snprintf(dst, size, "%.*s...", (int)size - 4, src);
	for (; *dst; dst++)
		if (!printable((unsigned char)*dst))
			*dst = '?';
}

/* The item that was refused, described for a person. */
static int reject(struct config_error *e, enum config_origin origin, int error, const char *key,
		  const char *value)
{
	const struct key *k = key_find(key);

	*e = (struct config_error){ .origin = origin, .error = error, .line = e->line };
	copy_shown(e->key, sizeof(e->key), key);
	copy_shown(e->value, sizeof(e->value), value);
	e->allowed = k ? k->allowed : NULL;
	return error;
}

struct loader {
	struct config *c;
	const struct config_input *in;
	struct config_error credit_origin[_SRC_MAX];
};

static int credit_index(const char *key)
{
	for (int i = 0; i < _SRC_MAX; i++)
		if (strncmp(key, "credit-", 7) == 0 && strcmp(key + 7, src_names[i]) == 0)
			return i;
	return -1;
}

/* Sets one key; remembers where credits came from; looks users up. */
static int load_item(struct loader *l, enum config_origin origin, const char *key, const char *v,
		     struct config_error *e)
{
	int r = config_set(l->c, key, v), i;

	if (r < 0)
		return reject(e, origin, r, key, v);
	if (strcmp(key, "user") == 0 && l->in->user_exists && !l->in->user_exists(v)) {
		reject(e, origin, -EINVAL, key, v);
		snprintf(e->reason, sizeof(e->reason), "no such user");
		return -EINVAL;
	}
	i = credit_index(key);
	if (i >= 0) {
		reject(&l->credit_origin[i], origin, 0, key, v);
		l->credit_origin[i].line = e->line;
	}
	return 0;
}

static char *strip(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int syntax(struct config_error *e, enum config_origin origin, const char *key,
		  const char *reason)
{
	reject(e, origin, -EBADMSG, key, "");
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	return -EBADMSG;
}

static int parse_line(struct loader *l, char *line, struct config_error *e)
{
	char *eq, *key;

	line = strip(line);
	if (*line == '\0' || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return syntax(e, CONFIG_FILE, "", "expected 'key = value'");
	*eq = '\0';
	key = strip(line);
	return load_item(l, CONFIG_FILE, key, strip(eq + 1), e);
}

static int parse_text(struct loader *l, const char *text, size_t len, struct config_error *e)
{
	const char *end = text + len;

	e->line = 0;
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = (size_t)((nl ? nl : end) - text);
		char line[CONFIG_LINE_MAX];
		int r;

		e->line++;
		if (n >= sizeof(line))
			return syntax(e, CONFIG_FILE, "", "line longer than 1023 bytes");
		if (memchr(text, '\0', n))
			return syntax(e, CONFIG_FILE, "", "NUL byte in the line");
		memcpy(line, text, n);
		line[n] = '\0';
		r = parse_line(l, line, e);
		if (r < 0)
			return r;
		text += n + (nl ? 1 : 0);
	}
	return 0;
}

int config_parse_text(struct config *c, const char *text, size_t len, struct config_error *ret)
{
	struct config_input in = {};
	struct loader l = { .c = c, .in = &in };
	struct config_error e = {};
	int r = parse_text(&l, text, len, &e);

	if (r < 0 && ret)
		*ret = e;
	return r;
}

/* In a confidential VM the host writes the kernel command line: it may only tighten. */
static bool weakens(const struct config *before, const struct config *after)
{
	return (before->confidential != 0 && after->confidential == 0) ||
	       (!before->trust_host && after->trust_host) ||
	       after->credit[SRC_HWRNG] > before->credit[SRC_HWRNG] ||
	       after->credit[SRC_EGD] > before->credit[SRC_EGD];
}

static bool credit_too_high(const struct config *c, int i)
{
	return c->credit_set[i] && c->credit[i] > c->min_entropy;
}

static void too_high_reason(const struct config *c, struct config_error *e)
{
	snprintf(e->reason, sizeof(e->reason),
		 "more than min-entropy = %g: a source is credited at most the min-entropy "
		 "its health tests assume", c->min_entropy);
}

static int cmdline_apply(struct loader *l, const char *key, const char *value,
			 struct config_error *e)
{
	struct config before = *l->c;
	int r = load_item(l, CONFIG_CMDLINE, key, value, e);

	if (r < 0)
		return r;
	for (int i = 0; i < _SRC_MAX; i++)
		if (credit_too_high(l->c, i) && !credit_too_high(&before, i)) {
			*l->c = before;
			reject(e, CONFIG_CMDLINE, -EINVAL, key, value);
			too_high_reason(l->c, e);
			return -EINVAL;
		}
	if (l->in->confidential && weakens(&before, l->c)) {
		*l->c = before;
		reject(e, CONFIG_CMDLINE, -EPERM, key, value);
		return -EPERM;
	}
	return 0;
}

static void cmdline_item(struct loader *l, char *item, size_t n, bool cut)
{
	const struct config_input *in = l->in;
	char *eq = strchr(item, '=');
	const char *value = eq ? eq + 1 : "";
	struct config_error e = {};
	bool on;
	int r = 0;

	if (strncmp(item, "virtseed.", 9) != 0 && strncmp(item, "rd.virtseed", 11) != 0)
		return;
	if (eq)
		*eq = '\0';
	if (cut || n >= CONFIG_LINE_MAX) {
		r = syntax(&e, CONFIG_CMDLINE, item, "longer than 1023 bytes");
	} else if (strcmp(item, "rd.virtseed") == 0) {
		r = parse_bool(value, &on);
		if (r == 0 && in->initrd)
			l->c->disabled = !on;
		else if (r < 0)
			reject(&e, CONFIG_CMDLINE, r, item, value), e.allowed = "yes or no";
	} else if (strncmp(item, "rd.virtseed.", 12) == 0) {
		r = in->initrd ? cmdline_apply(l, item + 12, value, &e) : 0;
	} else if (strncmp(item, "virtseed.", 9) == 0) {
		r = cmdline_apply(l, item + 9, value, &e);
	} else {
		return;
	}
	if (r < 0 && in->bad) {
		copy_shown(e.key, sizeof(e.key), item);
		in->bad(&e, in->userdata);
	}
}

/* The next item at *pp into item: double quotes protect blanks and are dropped.  Sets
 * *ret_cut when the item did not fit. */
static size_t cmdline_next(const char **pp, char *item, size_t size, bool *ret_cut)
{
	const char *p = *pp;
	bool quoted = false, cut = false;
	size_t n = 0;

	for (;;) {
		size_t k = strcspn(p, quoted ? "\"" : " \t\n\""), take = MIN(k, size - 1 - n);

		memcpy(item + n, p, take);
		n += take;
		cut |= take < k;
		p += k;
		if (*p != '"')
			break;
		quoted = !quoted;
		p++;
	}
	item[n] = '\0';
	*pp = p;
	*ret_cut = cut;
	return n;
}

/* Items are separated by blanks.  Items after a lone "--" are init's arguments, not the
 * kernel's. */
static void parse_cmdline(struct loader *l, const char *p)
{
	for (p += strspn(p, " \t\n"); *p; p += strspn(p, " \t\n")) {
		char item[CONFIG_LINE_MAX];
		bool cut;
		size_t n = cmdline_next(&p, item, sizeof(item), &cut);

		if (strcmp(item, "--") == 0)
			return;
		if (n > 0)
			cmdline_item(l, item, n, cut);
	}
}

void config_parse_cmdline(struct config *c, const char *cmdline, const struct config_input *in)
{
	struct loader l = { .c = c, .in = in };

	parse_cmdline(&l, cmdline);
}

static int load_flag(struct loader *l, const char *arg, struct config_error *e)
{
	const char *eq = strchr(arg, '=');
	char key[64];
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	snprintf(key, sizeof(key), "%.*s", (int)MIN(n, sizeof(key) - 1), arg);
	if (!key_find(key))
		return reject(e, CONFIG_FLAG, -ENOKEY, key, "");
	if (!eq)
		return syntax(e, CONFIG_FLAG, key, "needs a value");
	return load_item(l, CONFIG_FLAG, key, eq + 1, e);
}

/* Credits given explicitly must not exceed min-entropy; the others follow it down. */
static int check_credits(struct loader *l, struct config_error *e)
{
	struct config *c = l->c;

	for (int i = 0; i < _SRC_MAX; i++) {
		if (credit_too_high(c, i)) {
			*e = l->credit_origin[i];
			e->error = -EINVAL;
			too_high_reason(c, e);
			return -EINVAL;
		}
		if (!c->credit_set[i] && c->credit[i] > c->min_entropy)
			c->credit[i] = (unsigned)c->min_entropy;
	}
	return 0;
}

int config_load(struct config *c, const struct config_input *in, struct config_error *ret_err)
{
	struct loader l = { .c = c, .in = in };
	struct config_error e = {};
	int r = 0;

	config_defaults(c);
	if (in->file_text)
		r = parse_text(&l, in->file_text, in->file_len, &e);
	if (r == 0 && in->cmdline)
		parse_cmdline(&l, in->cmdline);
	for (size_t i = 0; r == 0 && i < in->n_flags; i++)
		r = load_flag(&l, in->flags[i], &e);
	if (r == 0)
		r = check_credits(&l, &e);
	if (r < 0 && ret_err)
		*ret_err = e;
	return r;
}

static int format_value(const struct key *k, const struct config *c, char *buf, size_t size)
{
	const void *p = (const char *)c + k->offset;
	int v = k->type == T_INTERVAL || k->type == T_TRISTATE || k->type == T_LEVEL ?
		*(const int *)p : 0;
	int n = 0;

	switch (k->type) {
	case T_SOURCES:
		for (size_t i = 0; i < c->n_order; i++)
			n += snprintf(buf + n, size - (size_t)n, "%s%s", i ? "," : "",
				      src_names[c->order[i]]);
		return n;
	case T_PATH:
	case T_STRING:
	case T_ADDRESS:
		return snprintf(buf, size, "%s", (const char *)p);
	case T_UINT:
	case T_CREDIT:
		return snprintf(buf, size, "%u", *(const unsigned *)p);
	case T_ENTROPY:
		return snprintf(buf, size, "%g", *(const double *)p);
	case T_INTERVAL:
	case T_LEVEL:
		return v < 0 ? snprintf(buf, size, "auto") : snprintf(buf, size, "%d", v);
	case T_TRISTATE:
		return snprintf(buf, size, "%s", v < 0 ? "auto" : v ? "yes" : "no");
	case T_BOOL:
		return snprintf(buf, size, "%s", *(const bool *)p ? "yes" : "no");
	case T_FORK:
		return snprintf(buf, size, "%s", fork_mode_name(*(const enum fork_mode *)p));
	}
	return 0;
}

int config_format(const struct config *c, char *buf, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < ELEMENTSOF(keys) && n < size; i++) {
		char v[CONFIG_VALUE_MAX + 8];

		format_value(&keys[i], c, v, sizeof(v));
		n += (size_t)snprintf(buf + n, size - n, "%s = %s\n", keys[i].name, v);
	}
	return n >= size ? -ENOBUFS : 0;
}

static const char *why(const struct config_error *e, char *buf, size_t size)
{
	if (e->reason[0])
		return e->reason;
	snprintf(buf, size, "allowed %s", e->allowed ? e->allowed : "?");
	return buf;
}

static int format_file(const struct config_error *e, const char *path, char *buf, size_t size)
{
	char tmp[160];

	if (e->error == -ENOKEY)
		return snprintf(buf, size, "%s:%u: unknown key '%s'", path, e->line, e->key);
	if (e->error == -EBADMSG)
		return snprintf(buf, size, "%s:%u: %s", path, e->line, e->reason);
	return snprintf(buf, size, "%s:%u: invalid value '%s' for '%s': %s", path, e->line,
			e->value, e->key, why(e, tmp, sizeof(tmp)));
}

static int format_flag(const struct config_error *e, char *buf, size_t size)
{
	char tmp[160];

	if (e->error == -ENOKEY)
		return snprintf(buf, size, "Unknown option '--%s'", e->key);
	if (e->error == -EBADMSG)
		return snprintf(buf, size, "Option --%s needs a value: --%s=VALUE", e->key, e->key);
	return snprintf(buf, size, "Invalid value '%s' for --%s: %s", e->value, e->key,
			why(e, tmp, sizeof(tmp)));
}

static int format_cmdline(const struct config_error *e, char *buf, size_t size)
{
	char tmp[160];

	if (e->error == -ENOKEY)
		return snprintf(buf, size, "Kernel command line: unknown key '%s', ignoring", e->key);
	if (e->error == -EBADMSG)
		return snprintf(buf, size, "Kernel command line: '%s' is %s, ignoring", e->key,
				e->reason);
	if (e->error == -EPERM)
		return snprintf(buf, size, "Kernel command line: '%s=%s' would weaken the trust "
				"rules of this confidential VM, ignoring (only %s can)", e->key,
				e->value, CONFIG_DEFAULT_PATH);
	return snprintf(buf, size, "Kernel command line: invalid value '%s' for '%s': %s, ignoring",
			e->value, e->key, why(e, tmp, sizeof(tmp)));
}

int config_error_format(const struct config_error *e, const char *path, char *buf, size_t size)
{
	int n;

	switch (e->origin) {
	case CONFIG_FILE:
		n = format_file(e, path, buf, size);
		break;
	case CONFIG_FLAG:
		n = format_flag(e, buf, size);
		break;
	default:
		n = format_cmdline(e, buf, size);
		break;
	}
	return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}
