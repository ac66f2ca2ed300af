/*
 * Parser for virtseed-egd.conf over a buffer: INI sections [global],
 * [class NAME] and [guest NAME] of "key = value" lines.  The whole file is
 * validated before anything is used, and the first error names its line, so
 * the daemon never runs (or reloads into) a half-read configuration.
 * Unset numbers are UINT64_MAX until egd_conf_finish() resolves defaults.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "conf-value.h"
#include "egd-conf.h"
#include "macro.h"
#include "source.h"

#define UNSET UINT64_MAX

enum section { SECTION_GLOBAL, SECTION_CLASS, SECTION_GUEST };

struct parser {
	struct egd_conf *c;
	enum section section;
	size_t index;           /* class or guest being filled */
	unsigned line;
	const char *msg;
	char text[320];
};

static const struct htb_params unset_params = { UNSET, UNSET, UNSET };

int egd_conf_init(struct egd_conf *c)
{
	*c = (struct egd_conf){
		.root = { EGD_CONF_DEFAULT_BUDGET, EGD_CONF_DEFAULT_BUDGET,
			  EGD_CONF_DEFAULT_BURST },
		.max_clients = EGD_CONF_DEFAULT_MAX_CLIENTS,
		.accept_rate = EGD_CONF_DEFAULT_ACCEPT_RATE,
		.qemu_prefix = EGD_CONF_DEFAULT_PREFIX,
		.max_demand = EGD_CONF_DEFAULT_DEMAND,
		.write_mode = EGD_WRITE_REFUSE,
		.activated_qemu = true,
	};
	return 0;
}

void egd_conf_done(struct egd_conf *c)
{
	free(c->classes);
	free(c->guests);
	free(c->listeners);
	*c = (struct egd_conf){};
}

/* Kept for callers and tests of the distributor: any malformed size is -EINVAL. */
int egd_conf_parse_size(const char *s, uint64_t *ret)
{
	return conf_parse_rate(s, ret) < 0 ? -EINVAL : 0;
}

static int copy_value(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(dst, src, n + 1);
	return 0;
}

static int valid_name(const char *s)
{
	if (!*s || strlen(s) >= EGD_CONF_MAX_NAME)
		return -EINVAL;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.:", *s))
			return -EINVAL;
	return 0;
}

ssize_t egd_conf_find_class(const struct egd_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_classes; i++)
		if (strcmp(c->classes[i].name, name) == 0)
			return (ssize_t)i;
	return -ENOENT;
}

ssize_t egd_conf_find_guest(const struct egd_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_guests; i++)
		if (strcmp(c->guests[i].name, name) == 0)
			return (ssize_t)i;
	return -ENOENT;
}

static void *grow(void *array, size_t n, size_t size, size_t max)
{
	void *p;

	if (n >= max)
		return NULL;
	p = realloc(array, (n + 1) * size);
	if (p)
		memset((char *)p + n * size, 0, size);
	return p;
}

/**
 * egd_conf_add_listener() - add "unix:PATH" or "tcp:HOST:PORT", optionally
 * followed by ",qemu".  Connect-out entries are QEMU chardevs and always qemu.
 * Return: 0, -EINVAL for a bad address, -E2BIG past EGD_CONF_MAX_LISTENERS.
 */
int egd_conf_add_listener(struct egd_conf *c, const char *spec, bool connect, const char *guest,
			  unsigned line)
{
	struct egd_conf_listener l = { .connect = connect, .qemu = connect, .line = line };
	struct address a;
	const char *comma = strrchr(spec, ',');
	size_t n = comma && strcmp(comma, ",qemu") == 0 ? (size_t)(comma - spec) : strlen(spec);
	void *p;

	if (n == 0 || n >= sizeof(l.address))
		return -EINVAL;
	memcpy(l.address, spec, n);
	l.address[n] = '\0';
	l.qemu = l.qemu || n != strlen(spec);
	if (address_parse(l.address, &a) < 0 || (a.kind != ADDRESS_UNIX && a.kind != ADDRESS_TCP))
		return -EINVAL;
	if (guest && copy_value(l.guest, sizeof(l.guest), guest) < 0)
		return -EINVAL;
	p = grow(c->listeners, c->n_listeners, sizeof(l), EGD_CONF_MAX_LISTENERS);
	if (!p)
		return -E2BIG;
	c->listeners = p;
	c->listeners[c->n_listeners++] = l;
	return 0;
}

static int parse_sources(struct egd_conf *c, char *value)
{
	char *save = NULL;

	c->n_sources = 0;
	for (char *tok = strtok_r(value, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		if (c->n_sources >= EGD_CONF_MAX_SOURCES)
			return -E2BIG;
		if (copy_value(c->sources[c->n_sources], sizeof(c->sources[0]), tok) < 0)
			return -EINVAL;
		c->n_sources++;
	}
	return c->n_sources > 0 ? 0 : -EINVAL;
}

static int item_sources(const struct conf_item *it, const char *value, void *data)
{
	char buf[EGD_CONF_MAX_LINE + 1];

	snprintf(buf, sizeof(buf), "%s", value);
	return parse_sources(data, buf);
}

static int item_listener(const struct conf_item *it, const char *value, void *data)
{
	struct egd_conf *c = data;

	return egd_conf_add_listener(c, value, it->key[0] == 'c', NULL, c->parse_line);
}

static const char *const write_modes[] = { "refuse", "discard", "mix", NULL };

#define G(key, fn, field, lo, hi) \
	{ "global", key, fn, offsetof(struct egd_conf, field), lo, hi, NULL }
static const struct conf_item global_items[] = {
	G("budget", conf_item_size, root.rate, 0, TBUCKET_MAX_RATE),
	G("burst", conf_item_size, root.burst, 0, TBUCKET_MAX_BURST),
	{ "global", "source", item_sources, 0, 0, 0, NULL },
	G("max-clients", conf_item_unsigned, max_clients, 0, EGD_CONF_MAX_CLIENTS),
	G("accept-rate", conf_item_unsigned, accept_rate, 0, EGD_CONF_MAX_ACCEPT_RATE),
	G("qemu-prefix", conf_item_unsigned, qemu_prefix, 0, EGD_CONF_MAX_PREFIX),
	G("max-demand", conf_item_unsigned, max_demand, 0, EGD_CONF_MAX_DEMAND),
	{ "global", "client-write", conf_item_enum, offsetof(struct egd_conf, write_mode), 0, 0,
	  write_modes },
	G("activated-qemu", conf_item_bool, activated_qemu, 0, 0),
	G("peer-cmdline", conf_item_bool, peer_cmdline, 0, 0),
	G("stats", conf_item_string, stats, 0, EGD_CONF_MAX_VALUE),
	G("control", conf_item_string, control, 0, EGD_CONF_MAX_VALUE),
	G("control-user", conf_item_string, control_user, 0, EGD_CONF_MAX_NAME),
	G("user", conf_item_string, user, 0, EGD_CONF_MAX_NAME),
	{ "global", "listen", item_listener, 0, 0, 0, NULL },
	{ "global", "connect", item_listener, 0, 0, 0, NULL },
};
#undef G

/* rate, ceil and burst of a class, of its guest- defaults, and of a guest. */
#define P(key, field) { NULL, key, conf_item_size, offsetof(struct htb_params, field), 0, \
			TBUCKET_MAX_RATE, NULL }
static const struct conf_item params_items[] = {
	P("rate", rate), P("ceil", ceil), P("burst", burst),
};
#undef P

static int item_parse(const struct conf_item *table, size_t n, const char *section,
		      const char *key, const char *value, void *data)
{
	const struct conf_item *it = conf_table_find(table, n, section, key);

	return it ? it->parse(it, value, data) : -ENOENT;
}

static int global_key(struct parser *p, const char *key, char *value)
{
	p->c->parse_line = p->line;
	return item_parse(global_items, ELEMENTSOF(global_items), "global", key, value, p->c);
}

static int params_key(struct htb_params *hp, const char *key, const char *value)
{
	return item_parse(params_items, ELEMENTSOF(params_items), "", key, value, hp);
}

/**
 * egd_conf_format_global() - "key = value" lines of every [global] key with a
 * single value, from the same table that parses them (for --check-config -v).
 */
void egd_conf_format_global(const struct egd_conf *c, FILE *f)
{
	char buf[EGD_CONF_MAX_VALUE + 32];

	for (size_t i = 0; i < ELEMENTSOF(global_items); i++)
		if (conf_item_format(&global_items[i], c, buf, sizeof(buf)) == 0 && buf[0])
			fprintf(f, "%s = %s\n", global_items[i].key, buf);
}

/* What a key takes, for "allowed ..." in a refusal. */
static void allowed_for(const struct parser *p, const char *key, char *buf, size_t size)
{
	static const struct {
		const char *key, *words;
	} custom[] = {
		{ "source", "getrandom, hwrng, rdseed, rdrand or egd:ADDRESS, comma-separated" },
		{ "listen", EGD_CONF_LISTEN_WORDS },
		{ "connect", EGD_CONF_LISTEN_WORDS },
		{ "class", "the name of a [class NAME] section ([A-Za-z0-9_.:+-], 1 to 63)" },
		{ "uid", "0 to 4294967294" },
		{ "gid", "0 to 4294967294" },
	};
	const struct conf_item *it;

	for (size_t i = 0; i < ELEMENTSOF(custom); i++)
		if (strcmp(key, custom[i].key) == 0) {
			snprintf(buf, size, "%s", custom[i].words);
			return;
		}
	if (p->section == SECTION_GLOBAL)
		it = conf_table_find(global_items, ELEMENTSOF(global_items), "global", key);
	else
		it = conf_table_find(params_items, ELEMENTSOF(params_items), "",
				     strncmp(key, "guest-", 6) == 0 ? key + 6 : key);
	if (!it || conf_item_allowed(it, buf, size) < 0)
		snprintf(buf, size, "see virtseed-egd.conf(5)");
}

/* "invalid value 'V' for 'KEY': allowed ...", the value cut and its control bytes shown '?'. */
static void bad_value(struct parser *p, const char *key, const char *value)
{
	char shown[64], allowed[160];

	if (strlen(value) < 48)
		snprintf(shown, sizeof(shown), "%s", value);
	else
		snprintf(shown, sizeof(shown), "%.44s...", value);
	for (char *c = shown; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	allowed_for(p, key, allowed, sizeof(allowed));
	snprintf(p->text, sizeof(p->text), "invalid value '%s' for '%s': allowed %s", shown, key,
		 allowed);
	p->msg = p->text;
}

static int class_key(struct parser *p, const char *key, const char *value)
{
	struct egd_conf_class *cl = &p->c->classes[p->index];

	if (strncmp(key, "guest-", 6) == 0)
		return params_key(&cl->guest, key + 6, value);
	return params_key(&cl->params, key, value);
}

static int guest_key(struct parser *p, const char *key, const char *value)
{
	struct egd_conf_guest *g = &p->c->guests[p->index];

	if (strcmp(key, "class") == 0)
		return valid_name(value) < 0 ? -EINVAL :
			copy_value(g->class, sizeof(g->class), value);
	if (strcmp(key, "listen") == 0 || strcmp(key, "connect") == 0)
		return egd_conf_add_listener(p->c, value, key[0] == 'c', g->name, p->line);
	/* Trusted identity on shared unix listeners: the kernel's SO_PEERCRED. */
	if (strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0) {
		unsigned v;
		int r = conf_parse_uint(value, 0, UINT32_MAX - 1, &v);

		if (r < 0)
			return r;
		if (key[0] == 'u')
			g->uid = (int64_t)v;
		else
			g->gid = (int64_t)v;
		return 0;
	}
	return params_key(&g->params, key, value);
}

static int new_class(struct parser *p, const char *name)
{
	struct egd_conf *c = p->c;
	struct egd_conf_class *cl;

	if (egd_conf_find_class(c, name) >= 0)
		return p->msg = "duplicate class", -EEXIST;
	cl = grow(c->classes, c->n_classes, sizeof(*cl), EGD_CONF_MAX_CLASSES);
	if (!cl)
		return p->msg = "too many classes", -E2BIG;
	c->classes = cl;
	cl = &c->classes[c->n_classes];
	(void)copy_value(cl->name, sizeof(cl->name), name);
	cl->params = cl->guest = unset_params;
	cl->line = p->line;
	p->index = c->n_classes++;
	return 0;
}

static int new_guest(struct parser *p, const char *name)
{
	struct egd_conf *c = p->c;
	struct egd_conf_guest *g;

	if (egd_conf_find_guest(c, name) >= 0)
		return p->msg = "duplicate guest", -EEXIST;
	g = grow(c->guests, c->n_guests, sizeof(*g), EGD_CONF_MAX_GUESTS);
	if (!g)
		return p->msg = "too many guests", -E2BIG;
	c->guests = g;
	g = &c->guests[c->n_guests];
	(void)copy_value(g->name, sizeof(g->name), name);
	(void)copy_value(g->class, sizeof(g->class), EGD_CONF_DEFAULT_CLASS);
	g->params = unset_params;
	g->uid = g->gid = -1;
	g->line = p->line;
	p->index = c->n_guests++;
	return 0;
}

static int parse_section(struct parser *p, char *s)
{
	size_t n = strlen(s);
	char *name;

	if (n < 2 || s[n - 1] != ']')
		return p->msg = "malformed section header", -EINVAL;
	s[n - 1] = '\0';
	s++;
	if (strcmp(s, "global") == 0)
		return p->section = SECTION_GLOBAL, 0;
	name = strchr(s, ' ');
	if (!name)
		return p->msg = "unknown section", -EINVAL;
	*name++ = '\0';
	while (*name == ' ')
		name++;
	if (valid_name(name) < 0)
		return p->msg = "invalid name (1-63 of A-Z a-z 0-9 - _ . :)", -EINVAL;
	if (strcmp(s, "class") == 0)
		return p->section = SECTION_CLASS, new_class(p, name);
	if (strcmp(s, "guest") == 0)
		return p->section = SECTION_GUEST, new_guest(p, name);
	return p->msg = "unknown section", -EINVAL;
}

static char *strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_line(struct parser *p, char *line)
{
	char *eq, *key, *value;
	int r;

	line = strip(line);
	if (*line == '\0' || *line == '#' || *line == ';')
		return 0;
	if (*line == '[')
		return parse_section(p, line);
	eq = strchr(line, '=');
	if (!eq)
		return p->msg = "expected key = value", -EINVAL;
	*eq = '\0';
	key = strip(line);
	value = strip(eq + 1);
	if (p->section == SECTION_GLOBAL)
		r = global_key(p, key, value);
	else if (p->section == SECTION_CLASS)
		r = class_key(p, key, value);
	else
		r = guest_key(p, key, value);
	if (r == -ENOENT) {
		snprintf(p->text, sizeof(p->text), "unknown key '%.63s' in this section", key);
		p->msg = p->text;
	}
	else if (r == -E2BIG)
		p->msg = "too many entries (see LIMITS in virtseed-egd.conf(5))";
	else if (r < 0)
		bad_value(p, key, value);
	return r;
}

static void set_error(struct egd_conf_error *err, unsigned line, const char *msg)
{
	if (!err)
		return;
	err->line = line;
	snprintf(err->text, sizeof(err->text), "%.*s", (int)sizeof(err->text) - 1, msg);
	err->msg = err->text;
}

/**
 * egd_conf_parse() - read @n bytes of configuration into @c (set up by
 * egd_conf_init()); call egd_conf_finish() afterwards.
 * Return: 0, or -errno with @ret_err naming the line and the problem.
 */
int egd_conf_parse(struct egd_conf *c, const char *buf, size_t n, struct egd_conf_error *ret_err)
{
	struct parser p = { .c = c };
	char line[EGD_CONF_MAX_LINE + 1];

	if (n > EGD_CONF_MAX_SIZE)
		return set_error(ret_err, 0, "file too large"), -EFBIG;
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t len = nl ? (size_t)(nl - buf) : n;
		int r;

		p.line++;
		if (len > EGD_CONF_MAX_LINE)
			return set_error(ret_err, p.line, "line too long"), -EINVAL;
		if (memchr(buf, '\0', len))
			return set_error(ret_err, p.line, "NUL byte"), -EINVAL;
		memcpy(line, buf, len);
		line[len] = '\0';
		r = parse_line(&p, line);
		if (r < 0)
			return set_error(ret_err, p.line, p.msg), r;
		buf += MIN(len + 1, n);
		n -= MIN(len + 1, n);
	}
	return 0;
}

static void resolve(struct htb_params *hp, const struct htb_params *def)
{
	if (hp->ceil == UNSET)
		hp->ceil = hp->rate != UNSET ? MAX(def->ceil, hp->rate) : def->ceil;
	if (hp->rate == UNSET)
		hp->rate = MIN(def->rate, hp->ceil);
	if (hp->burst == UNSET)
		hp->burst = def->burst;
}

static int check_child(const struct htb_params *hp, const struct htb_params *parent)
{
	if (htb_params_check(hp) < 0)
		return -EINVAL;
	return hp->ceil <= parent->ceil ? 0 : -ERANGE;
}

static int finish_classes(struct egd_conf *c, struct egd_conf_error *err)
{
	struct parser p = { .c = c };

	if (egd_conf_find_class(c, EGD_CONF_DEFAULT_CLASS) < 0 &&
	    new_class(&p, EGD_CONF_DEFAULT_CLASS) < 0)
		return set_error(err, 0, p.msg), -E2BIG;
	for (size_t i = 0; i < c->n_classes; i++) {
		struct egd_conf_class *cl = &c->classes[i];
		struct htb_params def = { 0, c->root.ceil, c->root.burst };
		struct htb_params gdef = { EGD_CONF_DEFAULT_GUEST_RATE, 0,
					   EGD_CONF_DEFAULT_GUEST_BURST };

		/* The implicit default class may use the whole budget. */
		if (strcmp(cl->name, EGD_CONF_DEFAULT_CLASS) == 0)
			def.rate = c->root.rate;
		resolve(&cl->params, &def);
		gdef.ceil = cl->params.ceil;
		resolve(&cl->guest, &gdef);
		if (check_child(&cl->params, &c->root) < 0 ||
		    check_child(&cl->guest, &cl->params) < 0)
			return set_error(err, cl->line,
					 "class: need ceil >= rate, ceil <= budget, burst > 0, "
					 "guest-ceil <= ceil"), -EINVAL;
	}
	return 0;
}

static int finish_guests(struct egd_conf *c, struct egd_conf_error *err)
{
	for (size_t i = 0; i < c->n_guests; i++) {
		struct egd_conf_guest *g = &c->guests[i];
		ssize_t k = egd_conf_find_class(c, g->class);

		if (k < 0)
			return set_error(err, g->line, "guest names an undefined class"), -ENOENT;
		g->class_index = (size_t)k;
		g->has_rate = g->params.rate != UNSET;
		g->has_ceil = g->params.ceil != UNSET;
		g->has_burst = g->params.burst != UNSET;
		resolve(&g->params, &c->classes[k].guest);
		if (check_child(&g->params, &c->classes[k].params) < 0)
			return set_error(err, g->line, "guest: need ceil >= rate, "
					 "ceil <= its class's ceil, burst > 0"), -EINVAL;
	}
	return 0;
}

/**
 * egd_conf_resolve_guest() - fill the unset (UINT64_MAX) fields of @p from the
 * guest- defaults of class @class_index and check them against the class, as
 * for a [guest] section; for guests declared at run time.
 * Return: 0 or -EINVAL.
 */
int egd_conf_resolve_guest(const struct egd_conf *c, size_t class_index, struct htb_params *p)
{
	if (class_index >= c->n_classes)
		return -EINVAL;
	resolve(p, &c->classes[class_index].guest);
	return check_child(p, &c->classes[class_index].params) < 0 ? -EINVAL : 0;
}

/* What --check-config must refuse exactly like the daemon: unknown source names. */
static int check_sources(const struct egd_conf *c, struct egd_conf_error *err)
{
	char msg[sizeof(err->text)];

	for (size_t i = 0; i < c->n_sources; i++) {
		const char *name = c->sources[i];
		size_t n = strcspn(name, ":");
		char kind[EGD_CONF_MAX_VALUE];

		snprintf(kind, sizeof(kind), "%.*s", (int)n, name);
		if (!source_ops_by_name(kind)) {
			snprintf(msg, sizeof(msg), "source: unknown source '%.40s' (getrandom, hwrng, "
				 "rdseed, rdrand, egd:ADDRESS)", kind);
			return set_error(err, 0, msg), -EINVAL;
		}
		if (strcmp(kind, "egd") == 0 && name[n] != ':') {
			snprintf(msg, sizeof(msg), "source: 'egd' needs an address (egd:ADDRESS)");
			return set_error(err, 0, msg), -EINVAL;
		}
	}
	return 0;
}

/**
 * egd_conf_finish() - resolve defaults (creating class "default") and
 * validate the hierarchy and the limits.
 * Return: 0, or -errno with @ret_err naming the offending line.
 */
int egd_conf_finish(struct egd_conf *c, struct egd_conf_error *ret_err)
{
	int r;

	c->root.ceil = c->root.rate;
	if (htb_params_check(&c->root) < 0)
		return set_error(ret_err, 0, "budget and burst must be > 0"), -EINVAL;
	if (c->max_clients == 0)
		return set_error(ret_err, 0, "max-clients must be > 0"), -EINVAL;
	if (c->max_demand < EGD_MAX_DEMAND_MIN)
		return set_error(ret_err, 0, "max-demand must be >= 255"), -EINVAL;
	if (c->n_sources == 0) {
		(void)copy_value(c->sources[0], sizeof(c->sources[0]), "getrandom");
		c->n_sources = 1;
	}
	r = check_sources(c, ret_err);
	if (r < 0)
		return r;
	r = finish_classes(c, ret_err);
	if (r < 0)
		return r;
	r = finish_guests(c, ret_err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_listeners; i++)
		if (c->listeners[i].guest[0] &&
		    egd_conf_find_guest(c, c->listeners[i].guest) < 0)
			return set_error(ret_err, c->listeners[i].line,
					 "listener names an undefined guest"), -ENOENT;
	return 0;
}
