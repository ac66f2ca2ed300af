/*
 * The registry: root (the budget) -> classes -> guests, each guest an HTB
 * node whose buckets its connections share.  A guest exists while it is
 * configured or declared, while it has connections, and, if it was made up
 * for a peer, until its buckets are full again, so a peer that reconnects
 * finds the balance it left.  A forgotten guest goes with its last
 * connection.  Reload replaces the configuration and keeps balances.
 * Above lib/ only; nothing here knows connections or sockets.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "registry.h"

static struct egd_class *find_class(struct registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n_classes; i++)
		if (strcmp(reg->classes[i]->name, name) == 0)
			return reg->classes[i];
	return NULL;
}

static struct egd_guest *find_guest(struct registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n_guests; i++)
		if (strcmp(reg->guests[i]->name, name) == 0)
			return reg->guests[i];
	return NULL;
}

static int push(void *array_p, size_t *n, void *item)
{
	void ***array = array_p;
	void **p = realloc(*array, (*n + 1) * sizeof(void *));

	if (!p)
		return -ENOMEM;
	p[(*n)++] = item;
	*array = p;
	return 0;
}

static int class_upsert(struct registry *reg, const struct egd_conf_class *cc, uint64_t now)
{
	struct egd_class *cl = find_class(reg, cc->name);

	if (cl) {
		htb_node_set(&cl->node, &cc->params, now);
		cl->keep = true;
		return 0;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	memcpy(cl->name, cc->name, sizeof(cl->name));
	(void)htb_node_init(&cl->node, &reg->root, &cc->params, now);
	cl->keep = true;
	if (push(&reg->classes, &reg->n_classes, cl) < 0)
		return free(cl), -ENOMEM;
	return 0;
}

static struct egd_guest *guest_new(struct registry *reg, const char *name, uint64_t now)
{
	const struct egd_conf *c = &reg->conf;
	ssize_t d = egd_conf_find_class(c, EGD_CONF_DEFAULT_CLASS);
	struct egd_guest *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->origin = GUEST_PEER;
	g->uid = g->gid = -1;
	g->class = find_class(reg, EGD_CONF_DEFAULT_CLASS);
	g->params = c->classes[d].guest;
	(void)htb_node_init(&g->node, &g->class->node, &g->params, now);
	if (push(&reg->guests, &reg->n_guests, g) < 0)
		return free(g), NULL;
	return g;
}

static void guest_drop(struct registry *reg, size_t i)
{
	free(reg->guests[i]);
	reg->guests[i] = reg->guests[--reg->n_guests];
}

/* Clamp @p under class @cl (a reload may have lowered the class's ceil). */
static void clamp(struct htb_params *p, const struct egd_class *cl)
{
	p->ceil = MIN(p->ceil, cl->node.ctokens.rate);
	p->rate = MIN(p->rate, p->ceil);
}

/* Class and parameters of @g under the current configuration. */
static void guest_resolve(struct registry *reg, struct egd_guest *g, uint64_t now)
{
	const struct egd_conf *c = &reg->conf;
	ssize_t k = egd_conf_find_guest(c, g->name);
	ssize_t d = egd_conf_find_class(c, EGD_CONF_DEFAULT_CLASS);

	if (g->origin == GUEST_DECLARED) {
		g->class = find_class(reg, g->class_name);
		if (!g->class)
			g->class = find_class(reg, EGD_CONF_DEFAULT_CLASS);
		clamp(&g->params, g->class);
	} else if (k >= 0) {
		const struct egd_conf_guest *cg = &c->guests[k];

		g->origin = GUEST_CONFIGURED;
		g->class = find_class(reg, c->classes[cg->class_index].name);
		g->params = cg->params;
		g->uid = cg->uid;
		g->gid = cg->gid;
	} else {
		g->origin = GUEST_PEER;
		g->class = find_class(reg, EGD_CONF_DEFAULT_CLASS);
		g->params = c->classes[d].guest;
		g->uid = g->gid = -1;
	}
	g->node.parent = &g->class->node;
	htb_node_set(&g->node, &g->params, now);
}

/* A peer's made-up guest with no connection left, once it would start afresh anyway. */
static bool idle(struct egd_guest *g, uint64_t now)
{
	if (g->refs > 0 || g->origin == GUEST_CONFIGURED)
		return false;
	if (g->forgotten || g->origin == GUEST_DECLARED)
		return g->forgotten;
	return tbucket_avail(&g->node.tokens, now) >= (int64_t)g->node.tokens.burst &&
	       tbucket_avail(&g->node.ctokens, now) >= (int64_t)g->node.ctokens.burst;
}

static void reap(struct registry *reg, uint64_t now)
{
	for (size_t i = 0; i < reg->n_guests; i++)
		if (idle(reg->guests[i], now))
			guest_drop(reg, i--);
}

static int tree_apply(struct registry *reg, uint64_t now)
{
	const struct egd_conf *c = &reg->conf;
	int r;

	htb_node_set(&reg->root, &c->root, now);
	for (size_t i = 0; i < reg->n_classes; i++)
		reg->classes[i]->keep = false;
	for (size_t i = 0; i < c->n_classes; i++) {
		r = class_upsert(reg, &c->classes[i], now);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < c->n_guests; i++)
		if (!find_guest(reg, c->guests[i].name) &&
		    !guest_new(reg, c->guests[i].name, now))
			return -ENOMEM;
	for (size_t i = 0; i < reg->n_guests; i++)
		guest_resolve(reg, reg->guests[i], now);
	for (size_t i = 0; i < reg->n_classes; i++)
		if (!reg->classes[i]->keep) {
			free(reg->classes[i]);
			reg->classes[i--] = reg->classes[--reg->n_classes];
		}
	reap(reg, now);
	return 0;
}

/**
 * registry_init() - build the tree from @conf, which the registry takes over
 * (@conf is left empty).
 */
int registry_init(struct registry *reg, struct egd_conf *conf, uint64_t now)
{
	int r;

	*reg = (struct registry){ .conf = *conf };
	*conf = (struct egd_conf){};
	r = htb_node_init(&reg->root, NULL, &reg->conf.root, now);
	if (r < 0)
		return r;
	return tree_apply(reg, now);
}

/**
 * registry_reload() - SIGHUP: switch to @conf (fully validated); balances,
 * connections and declared guests are kept.  The old configuration is
 * handed back in @conf for the caller to free.  Listeners, sources, the
 * stats and control sockets and the user are fixed at start.
 */
int registry_reload(struct registry *reg, struct egd_conf *conf, uint64_t now)
{
	struct egd_conf old = reg->conf;

	memcpy(conf->sources, old.sources, sizeof(conf->sources));
	conf->n_sources = old.n_sources;
	memcpy(conf->stats, old.stats, sizeof(conf->stats));
	memcpy(conf->control, old.control, sizeof(conf->control));
	memcpy(conf->control_user, old.control_user, sizeof(conf->control_user));
	memcpy(conf->user, old.user, sizeof(conf->user));
	reg->conf = *conf;
	*conf = old;
	return tree_apply(reg, now);
}

void registry_done(struct registry *reg)
{
	for (size_t i = 0; i < reg->n_classes; i++)
		free(reg->classes[i]);
	for (size_t i = 0; i < reg->n_guests; i++)
		free(reg->guests[i]);
	free(reg->classes);
	free(reg->guests);
	egd_conf_done(&reg->conf);
	*reg = (struct registry){};
}

/**
 * registry_guest() - the guest called @name; made up in class "default"
 * if nobody configured or declared it.
 * Return: the guest (not referenced), or NULL without memory.
 */
struct egd_guest *registry_guest(struct registry *reg, const char *name, uint64_t now)
{
	struct egd_guest *g = find_guest(reg, name);

	if (g)
		return g;
	reap(reg, now);
	return guest_new(reg, name, now);
}

/* The guest registered for peer process @pid (registry_declare() with a pid). */
struct egd_guest *registry_by_pid(struct registry *reg, pid_t pid)
{
	for (size_t i = 0; pid > 0 && i < reg->n_guests; i++)
		if (reg->guests[i]->pid == pid)
			return reg->guests[i];
	return NULL;
}

struct egd_guest *registry_by_uuid(struct registry *reg, const char *uuid)
{
	for (size_t i = 0; uuid[0] && i < reg->n_guests; i++)
		if (strcmp(reg->guests[i]->uuid, uuid) == 0)
			return reg->guests[i];
	return NULL;
}

/* The configured guest whose uid/gid rule matches a peer's SO_PEERCRED. */
struct egd_guest *registry_by_cred(struct registry *reg, uid_t uid, gid_t gid)
{
	for (size_t i = 0; i < reg->n_guests; i++) {
		const struct egd_guest *g = reg->guests[i];

		if (g->origin != GUEST_CONFIGURED || (g->uid < 0 && g->gid < 0))
			continue;
		if ((g->uid < 0 || g->uid == (int64_t)uid) && (g->gid < 0 || g->gid == (int64_t)gid))
			return reg->guests[i];
	}
	return NULL;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= EGD_CONF_MAX_NAME)
		return -EINVAL;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.:+", *s))
			return -EINVAL;
	return 0;
}

/**
 * registry_declare() - declare or update the guest with uuid @d->uuid and
 * explicit identity (libvirt).  An update applies @d's rates at once to
 * every open connection of the guest (they share its buckets).  A
 * configured or made-up guest of the same name is taken over.
 * Return: 0, -EINVAL (bad name, uuid, class or rates), -EEXIST (the name
 * belongs to another declared guest), -ENOMEM.
 */
int registry_declare(struct registry *reg, const struct guest_decl *d, uint64_t now,
		     struct egd_guest **ret)
{
	const char *class = d->class ? d->class : EGD_CONF_DEFAULT_CLASS;
	ssize_t k = egd_conf_find_class(&reg->conf, class);
	struct htb_params p = d->params;
	struct egd_guest *g, *other;

	if (valid_name(d->name) < 0 || strlen(d->uuid) != REGISTRY_UUID_SIZE - 1 || k < 0 ||
	    egd_conf_resolve_guest(&reg->conf, (size_t)k, &p) < 0)
		return -EINVAL;
	g = registry_by_uuid(reg, d->uuid);
	other = find_guest(reg, d->name);
	if (other && other != g) {
		if (other->origin == GUEST_DECLARED || g)
			return -EEXIST;
		g = other;
	}
	if (!g && !(g = guest_new(reg, d->name, now)))
		return -ENOMEM;
	snprintf(g->name, sizeof(g->name), "%s", d->name);
	snprintf(g->uuid, sizeof(g->uuid), "%s", d->uuid);
	snprintf(g->class_name, sizeof(g->class_name), "%s", class);
	g->origin = GUEST_DECLARED;
	g->forgotten = false;
	g->pid = d->pid;
	g->params = p;
	guest_resolve(reg, g, now);
	*ret = g;
	return 0;
}

/* The domain stopped: @g goes with its last connection (at once if it has none). */
void registry_forget(struct registry *reg, struct egd_guest *g)
{
	g->forgotten = true;
	g->pid = 0;
	g->uuid[0] = '\0';
	if (g->refs > 0)
		return;
	for (size_t i = 0; i < reg->n_guests; i++)
		if (reg->guests[i] == g)
			return guest_drop(reg, i);
}

struct egd_guest *registry_ref(struct egd_guest *g)
{
	g->refs++;
	return g;
}

/*
 * A made-up guest without connections is not dropped here but when the next
 * guest is made up (or on reload), so that closing connections costs O(1).
 */
void registry_unref(struct registry *reg, struct egd_guest *g)
{
	if (--g->refs == 0 && g->forgotten)
		registry_forget(reg, g);
}

/**
 * registry_prefix() - how many unrequested bytes a new QEMU connection of
 * @g gets: the full qemu-prefix at most once per refill period (the time
 * its rate takes to earn it), else only what its last connection left
 * unanswered.  They are sent as tokens allow, like any reply.
 */
size_t registry_prefix(struct registry *reg, struct egd_guest *g, uint64_t now)
{
	uint64_t full = reg->conf.qemu_prefix;
	uint64_t period = g->params.rate ? full * USEC_PER_SEC / g->params.rate : UINT64_MAX;
	uint64_t n;

	if (g->prefix_usec == 0 || now - g->prefix_usec >= period)
		n = full;
	else
		n = g->closed_once ? MIN(full, g->unanswered) : 0;
	if (n > 0)
		g->prefix_usec = now;
	return (size_t)n;
}
