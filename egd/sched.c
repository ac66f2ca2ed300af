/*
 * The distributor's tree and its entropy pool.  root (the source budget) ->
 * classes -> one HTB leaf per connection, whose parameters come from its
 * guest: a [guest NAME] section, or the guest-* defaults of class "default"
 * for peers nobody configured.  A guest object exists while it is configured
 * or has connections; statistics are kept per guest and per class.
 * The pool reads ahead up to POOL_SIZE bytes from the first source that
 * works and erases every byte it hands out.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>

#include "client.h"
#include "egd.h"
#include "log.h"
#include "macro.h"

#define SOURCE_MIN_ENTROPY 4.0  /* bits per byte claimed for the health tests' cutoffs */

static struct egd_class *find_class(struct server *s, const char *name)
{
	for (size_t i = 0; i < s->n_classes; i++)
		if (strcmp(s->classes[i]->name, name) == 0)
			return s->classes[i];
	return NULL;
}

static struct egd_guest *find_guest(struct server *s, const char *name)
{
	for (size_t i = 0; i < s->n_guests; i++)
		if (strcmp(s->guests[i]->name, name) == 0)
			return s->guests[i];
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

static int class_upsert(struct server *s, const struct egd_conf_class *cc, uint64_t now)
{
	struct egd_class *cl = find_class(s, cc->name);

	if (cl) {
		htb_node_set(&cl->node, &cc->params, now);
		cl->keep = true;
		return 0;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	memcpy(cl->name, cc->name, sizeof(cl->name));
	(void)htb_node_init(&cl->node, &s->root, &cc->params, now);
	cl->keep = true;
	if (push(&s->classes, &s->n_classes, cl) < 0)
		return free(cl), -ENOMEM;
	return 0;
}

static struct egd_guest *guest_new(struct server *s, const char *name)
{
	struct egd_guest *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	snprintf(g->name, sizeof(g->name), "%s", name);
	if (push(&s->guests, &s->n_guests, g) < 0)
		return free(g), NULL;
	return g;
}

/* Point every guest at its class and parameters under the current conf. */
static int guests_resolve(struct server *s)
{
	struct egd_class *def = find_class(s, EGD_CONF_DEFAULT_CLASS);
	ssize_t d = egd_conf_find_class(&s->conf, EGD_CONF_DEFAULT_CLASS);

	for (size_t i = 0; i < s->conf.n_guests; i++) {
		const struct egd_conf_guest *cg = &s->conf.guests[i];
		struct egd_guest *g = find_guest(s, cg->name);

		if (!g && !(g = guest_new(s, cg->name)))
			return -ENOMEM;
		g->keep = true;
	}
	for (size_t i = 0; i < s->n_guests; i++) {
		struct egd_guest *g = s->guests[i];
		ssize_t k = egd_conf_find_guest(&s->conf, g->name);

		g->configured = k >= 0;
		if (k >= 0) {
			const struct egd_conf_guest *cg = &s->conf.guests[k];

			g->class = find_class(s, s->conf.classes[cg->class_index].name);
			g->params = cg->params;
		} else {
			g->class = def;
			g->params = s->conf.classes[d].guest;
		}
	}
	return 0;
}

static void guest_drop(struct server *s, size_t i)
{
	free(s->guests[i]);
	s->guests[i] = s->guests[--s->n_guests];
}

/* A guest nobody configured lives only while it has connections. */
void sched_guest_unref(struct server *s, struct egd_guest *g)
{
	g->clients--;
	if (g->configured || g->clients > 0)
		return;
	for (size_t i = 0; i < s->n_guests; i++)
		if (s->guests[i] == g)
			return guest_drop(s, i);
}

/* The guest called @name, made up in class "default" if not configured. */
struct egd_guest *sched_guest(struct server *s, const char *name, uint64_t now)
{
	struct egd_guest *g = find_guest(s, name);
	ssize_t d;

	if (g)
		return g;
	g = guest_new(s, name);
	if (!g)
		return NULL;
	d = egd_conf_find_class(&s->conf, EGD_CONF_DEFAULT_CLASS);
	g->class = find_class(s, EGD_CONF_DEFAULT_CLASS);
	g->params = s->conf.classes[d].guest;
	return g;
}

static int tree_apply(struct server *s, uint64_t now)
{
	int r;

	htb_node_set(&s->root, &s->conf.root, now);
	for (size_t i = 0; i < s->n_classes; i++)
		s->classes[i]->keep = false;
	for (size_t i = 0; i < s->conf.n_classes; i++) {
		r = class_upsert(s, &s->conf.classes[i], now);
		if (r < 0)
			return r;
	}
	r = guests_resolve(s);
	if (r < 0)
		return r;
	for (struct client *c = s->clients; c; c = c->next)
		client_set_params(c, now);
	for (size_t i = 0; i < s->n_classes; i++)
		if (!s->classes[i]->keep) {
			free(s->classes[i]);
			s->classes[i--] = s->classes[--s->n_classes];
		}
	for (size_t i = 0; i < s->n_guests; i++)
		if (!s->guests[i]->configured && s->guests[i]->clients == 0)
			guest_drop(s, i--);
	return 0;
}

static int sources_init(struct server *s)
{
	struct pool *p = &s->pool;

	for (size_t i = 0; i < s->conf.n_sources; i++) {
		char *name = s->conf.sources[i], *arg = strchr(name, ':');
		const struct source_ops *ops;
		int r;

		if (arg)
			*arg++ = '\0';
		ops = source_ops_by_name(name);
		if (!ops)
			return log_errno(-EINVAL, "Unknown source '%s'.", name);
		r = source_init(&p->sources[i], ops, arg, SOURCE_MIN_ENTROPY);
		if (r < 0)
			return log_errno(r, "Failed to set up source '%s': %m", name);
		p->n_sources++;
	}
	return 0;
}

int sched_setup(struct server *s, uint64_t now)
{
	int r = htb_node_init(&s->root, NULL, &s->conf.root, now);

	if (r < 0)
		return log_errno(r, "Invalid budget: %m");
	r = tree_apply(s, now);
	if (r < 0)
		return log_errno(r, "Failed to build the class tree: %m");
	return sources_init(s);
}

/* SIGHUP: @c is fully validated; connections keep their queues and balances. */
int sched_reload(struct server *s, struct egd_conf *c, uint64_t now)
{
	struct egd_conf old = s->conf;
	int r;

	/* Listeners, sources, stats socket and user are fixed at start. */
	memcpy(c->sources, old.sources, sizeof(c->sources));
	c->n_sources = old.n_sources;
	memcpy(c->stats, old.stats, sizeof(c->stats));
	memcpy(c->user, old.user, sizeof(c->user));
	s->conf = *c;
	*c = old;
	r = tree_apply(s, now);
	if (r < 0)
		return log_errno(r, "Failed to apply the new configuration: %m");
	return 0;
}

void sched_done(struct server *s)
{
	for (size_t i = 0; i < s->n_classes; i++)
		free(s->classes[i]);
	for (size_t i = 0; i < s->n_guests; i++)
		free(s->guests[i]);
	free(s->classes);
	free(s->guests);
	for (size_t i = 0; i < s->pool.n_sources; i++)
		source_done(&s->pool.sources[i]);
	explicit_bzero(s->pool.buf, sizeof(s->pool.buf));
}

/*
 * One read of at most POOL_CHUNK bytes from the first usable source: sources
 * may block up to their timeout (an upstream EGD server answers at its own
 * pace), so the loop never waits for more than one read.
 */
static size_t pool_refill(struct server *s, uint64_t now)
{
	struct pool *p = &s->pool;

	p->pos = p->len = 0;
	for (size_t i = 0; i < p->n_sources; i++) {
		struct source *src = &p->sources[i];
		ssize_t k = source_take(src, p->buf, POOL_CHUNK, now);

		if (k > 0) {
			p->len = (size_t)k;
			break;
		}
		if (k != -EAGAIN && log_ratelimit(s))
			log_warning_errno((int)k, "Source '%s' failed (%s), trying the next: %m",
					  src->ops->name, source_state_name(src->state));
		p->failures++;
	}
	return p->len;
}

/* Copy out up to @n fresh bytes and erase them from the pool. */
size_t pool_get(struct server *s, uint8_t *dst, size_t n, uint64_t now)
{
	struct pool *p = &s->pool;
	size_t done = 0;

	while (done < n) {
		size_t k;

		if (p->pos == p->len && pool_refill(s, now) == 0)
			break;
		k = MIN(n - done, p->len - p->pos);
		memcpy(dst + done, p->buf + p->pos, k);
		explicit_bzero(p->buf + p->pos, k);
		p->pos += k;
		done += k;
	}
	return done;
}

/* client-write = mix: XOR into unread pool bytes; credited nothing. */
void pool_mix(struct server *s, const uint8_t *data, size_t n, uint64_t now)
{
	struct pool *p = &s->pool;

	if (p->pos == p->len)
		(void)pool_refill(s, now);
	for (size_t i = 0; i < n && p->pos + i < p->len; i++)
		p->buf[p->pos + i] ^= data[i];
}

static size_t serve(struct htb_node *leaf, size_t n, void *userdata)
{
	struct server *s = userdata;

	return client_fill((struct client *)leaf, n, s->run_usec);
}

void sched_run(struct server *s, uint64_t now)
{
	s->run_usec = now;
	(void)htb_run(&s->htb, now, serve, s, &s->next_run_usec);
	while (s->dirty) {
		struct client *c = s->dirty;

		s->dirty = c->dirty_next;
		c->dirty = false;
		client_after_run(c, now);
	}
	if (s->htb.ring && !s->next_run_usec)
		s->next_run_usec = now + HTB_TICK_USEC;
}

/* One timerfd for the scheduler and for reconnecting to QEMU. */
int sched_arm(struct server *s, uint64_t now)
{
	uint64_t next = listeners_next_usec(s);
	struct itimerspec its = {};

	if (s->htb.ring) {
		if (!s->next_run_usec || s->next_run_usec < now)
			s->next_run_usec = now + HTB_TICK_USEC;
		next = next ? MIN(next, s->next_run_usec) : s->next_run_usec;
	}
	if (next == s->timer_usec)
		return 0;
	s->timer_usec = next;
	its.it_value.tv_sec = (time_t)(next / USEC_PER_SEC);
	its.it_value.tv_nsec = (long)(next % USEC_PER_SEC) * 1000;
	if (timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}
