/*
 * The table of running domains, keyed by UUID, and the hand-over to the
 * distributor: each domain is declared (op=domain) once per control
 * connection and again when its description changes; the first bind-mode
 * egd socket of a domain is connected to and its fd handed over (op=adopt)
 * until the distributor holds it.  When the distributor goes away every
 * domain is declared and handed again on its return.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"
#include "domains.h"
#include "log.h"
#include "macro.h"

static struct dom *find(struct domains *d, const char *uuid)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].x.uuid, uuid) == 0)
			return &d->v[i];
	return NULL;
}

static bool same_description(const struct dom *o, const struct domxml *x, pid_t pid)
{
	return o->pid == pid && strcmp(o->x.name, x->name) == 0 &&
	       strcmp(o->x.class, x->class) == 0 && o->x.rate == x->rate &&
	       o->x.ceil == x->ceil && o->x.burst == x->burst;
}

static int first_bind(const struct domxml *x)
{
	for (size_t i = 0; i < x->n_rng; i++)
		if (x->rng[i].bind)
			return (int)i;
	return -1;
}

void domains_update(struct domains *d, const struct domxml *x, pid_t pid)
{
	struct dom *o = find(d, x->uuid), *v;

	if (!o) {
		v = realloc(d->v, (d->n + 1) * sizeof(*v));
		if (!v) {
			log_error("Domain '%s': out of memory, ignoring it.", x->name);
			return;
		}
		d->v = v;
		o = &d->v[d->n++];
		*o = (struct dom){ .bind = -1 };
	} else if (!same_description(o, x, pid)) {
		o->declared = o->refused = false;
	}
	if (x->meta_error[0] && strcmp(x->meta_error, o->x.meta_error))
		log_warning("Domain '%s': %s; using the class defaults.", x->name, x->meta_error);
	o->x = *x;
	o->pid = pid;
	o->seen = true;
	o->bind = first_bind(x);
	if (o->bind < 0)
		o->adopted = false;
	(void)domains_flush(d);
}

static void drop(struct domains *d, struct dom *o)
{
	struct ctl_msg m = { .op = CTL_OP_FORGET };
	char err[CTL_MAX_ERROR];
	int r;

	log_info("Domain '%s' stopped.", o->x.name);
	if (d->ctl_fd >= 0 && o->declared) {
		strcpy(m.uuid, o->x.uuid);
		r = ctl_call(d->ctl_fd, &m, -EBADF, err, sizeof(err));
		if (r == -EPROTO)
			log_warning("Distributor refused to forget '%s': %s", o->x.name, err);
		else if (r < 0)
			domains_ctl_lost(d);
	}
	*o = d->v[--d->n];
}

void domains_forget(struct domains *d, const char *uuid)
{
	struct dom *o = find(d, uuid);

	if (o)
		drop(d, o);
}

void domains_begin_sync(struct domains *d)
{
	for (size_t i = 0; i < d->n; i++)
		d->v[i].seen = false;
}

/* Domains libvirt no longer lists stopped while we were not looking. */
void domains_end_sync(struct domains *d)
{
	for (size_t i = d->n; i-- > 0;)
		if (!d->v[i].seen)
			drop(d, &d->v[i]);
}

int domains_ctl_open(struct domains *d)
{
	int fd = ctl_connect(d->ctl_path);

	if (fd < 0)
		return fd;
	d->ctl_fd = fd;
	log_info("Connected to the distributor at '%s'.", d->ctl_path);
	return 0;
}

void domains_ctl_lost(struct domains *d)
{
	if (d->ctl_fd < 0)
		return;
	log_warning("Lost the distributor's control socket; reconnecting.");
	d->ctl_fd = safe_close(d->ctl_fd);
	for (size_t i = 0; i < d->n; i++)
		d->v[i].declared = d->v[i].adopted = false;
}

static int connect_bind(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static int declare(struct domains *d, struct dom *o)
{
	struct ctl_msg m = { .op = CTL_OP_DOMAIN, .pid = o->pid, .rate = o->x.rate,
			     .ceil = o->x.ceil, .burst = o->x.burst };
	char err[CTL_MAX_ERROR];
	int r;

	strcpy(m.name, o->x.name);
	strcpy(m.uuid, o->x.uuid);
	strcpy(m.class, o->x.class);
	r = ctl_call(d->ctl_fd, &m, -EBADF, err, sizeof(err));
	if (r == -EPROTO)
		log_error("Distributor refused domain '%s': %s", o->x.name, err);
	if (r < 0)
		return r;
	log_info("Domain '%s' (%s): class %s, rate %llu, ceil %llu, QEMU pid %d.", o->x.name,
		 o->x.uuid, o->x.class[0] ? o->x.class : "default", (unsigned long long)o->x.rate,
		 (unsigned long long)o->x.ceil, (int)o->pid);
	o->declared = true;
	return 0;
}

static int adopt(struct domains *d, struct dom *o)
{
	struct ctl_msg m = { .op = CTL_OP_ADOPT };
	const char *path = o->x.rng[o->bind].path;
	char err[CTL_MAX_ERROR];
	int fd, r;

	fd = connect_bind(path);
	if (fd < 0) {
		log_full(o->warned ? LOG_DEBUG : LOG_WARNING,
			 "Domain '%s': cannot connect to '%s' (%s), retrying.", o->x.name, path,
			 strerror(-fd));
		o->warned = true;
		return 0;
	}
	o->warned = false;
	strcpy(m.uuid, o->x.uuid);
	r = ctl_call(d->ctl_fd, &m, fd, err, sizeof(err));
	close(fd);
	if (r == -EPROTO && strcmp(err, "already connected") != 0)
		log_error("Distributor refused the connection of '%s': %s", o->x.name, err);
	else if (r == 0)
		log_info("Domain '%s': connected to '%s', handed to the distributor.",
			 o->x.name, path);
	if (r < 0 && r != -EPROTO)
		return r;
	o->adopted = true;
	return 0;
}

/* Declares and hands over what the distributor lacks; true if it is away. */
bool domains_flush(struct domains *d)
{
	int r = 0;

	for (size_t i = 0; i < d->n && d->ctl_fd >= 0 && r >= 0; i++) {
		struct dom *o = &d->v[i];

		r = o->declared ? 0 : declare(d, o);
		if (r == -EPROTO) {
			o->declared = o->refused = true;
			r = 0;
		}
		if (r >= 0 && !o->refused && o->bind >= 0 && !o->adopted)
			r = adopt(d, o);
	}
	if (r < 0)
		domains_ctl_lost(d);
	return d->ctl_fd < 0;
}

void domains_done(struct domains *d)
{
	free(d->v);
	d->v = NULL;
	d->n = 0;
	d->ctl_fd = safe_close(d->ctl_fd);
}
