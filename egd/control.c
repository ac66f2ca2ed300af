/*
 * The distributor's end of the control socket (contract: docs/virtseed-libvirt.8,
 * CONTROL-PROTOCOL): SOCK_SEQPACKET, one request and one reply per datagram, a
 * peer accepted only if its SO_PEERCRED uid is control-user's.  op=domain
 * declares a guest with an explicit identity, op=adopt serves the attached fd
 * as that guest's QEMU connection (restart prefix), op=forget drops it.  At
 * most one adopted connection per domain: a second is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control.h"
#include "ctl-proto.h"
#include "log.h"
#include "macro.h"

#define CONTROL_BACKLOG 4

static int bind_control(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_(closep) int fd = -EBADF;
	struct stat st;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	/* Anyone may connect (virtseed-libvirt is root without CAP_DAC_OVERRIDE): the
	 * peer's uid decides. */
	if (chmod(path, 0666) < 0 || listen(fd, CONTROL_BACKLOG) < 0)
		return -errno;
	r = fd;
	fd = -EBADF;
	return r;
}

static void adopted_closed(struct client *c, void *userdata, uint64_t now)
{
	struct control *ctl = userdata;

	for (size_t i = 0; i < ctl->n_adopted; i++)
		if (ctl->adopted[i].client == c) {
			ctl->adopted[i] = ctl->adopted[--ctl->n_adopted];
			return;
		}
}

static bool has_adopted(const struct control *ctl, const char *uuid)
{
	for (size_t i = 0; i < ctl->n_adopted; i++)
		if (strcmp(ctl->adopted[i].uuid, uuid) == 0)
			return true;
	return false;
}

static const char *declare(struct control *ctl, const struct ctl_msg *m, uint64_t now)
{
	struct guest_decl d = {
		.name = m->name, .uuid = m->uuid, .class = m->class[0] ? m->class : NULL,
		.params = { .rate = m->rate ? m->rate : UINT64_MAX,
			    .ceil = m->ceil ? m->ceil : UINT64_MAX,
			    .burst = m->burst ? m->burst : UINT64_MAX },
		.pid = m->pid,
	};
	struct egd_guest *g;
	int r;

	if (m->class[0] && egd_conf_find_class(&ctl->reg->conf, m->class) < 0)
		return "class: not defined in virtseed-egd.conf";
	r = registry_declare(ctl->reg, &d, now, &g);
	if (r == -EEXIST)
		return "name: taken by another domain";
	if (r == -EINVAL)
		return "rates: need ceil >= rate, ceil <= the class ceil";
	if (r < 0)
		return "out of memory";
	clients_claim_pid(ctl->clients, m->pid, g, now);
	log_info("Domain '%s' (%s): class %s, rate %llu, ceil %llu, QEMU pid %ld.", g->name,
		 g->uuid, g->class->name, (unsigned long long)g->params.rate,
		 (unsigned long long)g->params.ceil, (long)m->pid);
	return NULL;
}

static const char *adopt(struct control *ctl, const struct ctl_msg *m, int *fd, uint64_t now)
{
	struct egd_guest *g = registry_by_uuid(ctl->reg, m->uuid);
	struct control_adopted *a;
	struct client *c;
	int r;

	if (*fd < 0)
		return "adopt: no fd attached";
	if (!g)
		return "uuid: no such domain declared";
	if (has_adopted(ctl, m->uuid))
		return "already connected";
	if (ctl->n_adopted >= CONTROL_MAX_ADOPTED)
		return "too many domains connected";
	a = realloc(ctl->adopted, (ctl->n_adopted + 1) * sizeof(*a));
	if (!a)
		return "out of memory";
	ctl->adopted = a;
	(void)fcntl(*fd, F_SETFL, O_NONBLOCK);
	r = client_new(ctl->clients, *fd, g, true, now, &c);
	*fd = -EBADF;           /* owned by client_new() now */
	if (r < 0)
		return "cannot serve the connection";
	c->on_close = adopted_closed;
	c->userdata = ctl;
	a = &ctl->adopted[ctl->n_adopted++];
	snprintf(a->uuid, sizeof(a->uuid), "%s", m->uuid);
	a->client = c;
	log_info("Serving the QEMU connection of domain '%s' handed over by virtseed-libvirt.",
		 g->name);
	return NULL;
}

static const char *forget(struct control *ctl, const struct ctl_msg *m)
{
	struct egd_guest *g = registry_by_uuid(ctl->reg, m->uuid);

	if (!g)
		return "uuid: no such domain declared";
	log_info("Domain '%s' stopped.", g->name);
	registry_forget(ctl->reg, g);
	return NULL;
}

/* One datagram and at most one fd (MSG_CTRUNC: more were sent, all closed by the kernel). */
static ssize_t receive(int fd, char *buf, size_t size, int *ret_fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctrl;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf,
			     .msg_controllen = sizeof(ctrl.buf) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	*ret_fd = -EBADF;
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		*ret_fd = safe_close(*ret_fd);
		return -EMSGSIZE;
	}
	return n;
}

static const char *handle(struct control *ctl, const char *buf, ssize_t n, int *fd,
			  uint64_t now)
{
	struct ctl_msg m;
	const char *err;

	if (n == -EMSGSIZE)
		return "more than 4096 bytes or more than one fd";
	if (ctl_parse(buf, (size_t)n, &m, &err) < 0)
		return err;
	if (m.op != CTL_OP_ADOPT && *fd >= 0)
		return "fd attached to an op that takes none";
	switch (m.op) {
	case CTL_OP_DOMAIN: return declare(ctl, &m, now);
	case CTL_OP_ADOPT: return adopt(ctl, &m, fd, now);
	default: return forget(ctl, &m);
	}
}

static void conn_close(struct control_conn *cc)
{
	int fd = cc->file.fd;

	dispatch_remove(cc->ctl->dispatch, &cc->file);
	safe_close(fd);
}

static void conn_event(struct dispatch_file *f, uint32_t events, uint64_t now)
{
	struct control_conn *cc = container_of(f, struct control_conn, file);
	char buf[CTL_MAX_MSG + 1], reply[CTL_MAX_ERROR + 8];
	const char *err;
	int fd;
	ssize_t n = receive(f->fd, buf, sizeof(buf), &fd);

	if (n == -EAGAIN)
		return;
	if (n == 0 || (n < 0 && n != -EMSGSIZE)) {
		log_info("Control connection closed.");
		conn_close(cc);
		return;
	}
	err = handle(cc->ctl, buf, n, &fd, now);
	safe_close(fd);
	if (err)
		log_warning("Control: refused a request: %s", err);
	n = ctl_build_reply(reply, sizeof(reply), err);
	if (n < 0 || send(f->fd, reply, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		conn_close(cc);
}

static struct control_conn *free_conn(struct control *ctl)
{
	for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
		if (ctl->conns[i].file.fd < 0)
			return &ctl->conns[i];
	return NULL;
}

static void control_accept(struct dispatch_file *f, uint32_t events, uint64_t now)
{
	struct control *ctl = container_of(f, struct control, listen_file);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct control_conn *cc;
	int fd = accept4(f->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred.uid = (uid_t)-1;
	if (cred.uid != ctl->uid) {
		log_warning("Control: refusing peer uid %ld", (long)cred.uid);
		safe_close(fd);
		return;
	}
	cc = free_conn(ctl);
	if (!cc) {
		log_warning("Control: refusing a connection, %d are open", CONTROL_MAX_CONNS);
		safe_close(fd);
		return;
	}
	cc->ctl = ctl;
	if (dispatch_add(ctl->dispatch, &cc->file, fd, EPOLLIN, conn_event) < 0) {
		safe_close(fd);
		return;
	}
	log_info("Control connection from pid %ld.", (long)cred.pid);
}

static int control_uid(const char *user, uid_t *ret)
{
	struct passwd *pw;

	if (!user[0]) {
		*ret = 0;
		return 0;
	}
	pw = getpwnam(user);
	if (!pw)
		return -ESRCH;
	*ret = pw->pw_uid;
	return 0;
}

/* Before privileges are dropped; nothing to do without the `control` key. */
int control_open(struct control *ctl, struct dispatch *d, struct registry *reg,
		 struct clients *set)
{
	const char *path = reg->conf.control;
	int fd, r;

	*ctl = (struct control){ .dispatch = d, .reg = reg, .clients = set,
				 .listen_file = { .fd = -EBADF } };
	for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
		ctl->conns[i].file.fd = -EBADF;
	if (!path[0])
		return 0;
	r = control_uid(reg->conf.control_user, &ctl->uid);
	if (r < 0)
		return log_errno(r, "control-user '%s': no such user.", reg->conf.control_user);
	fd = bind_control(path);
	if (fd < 0)
		return log_errno(fd, "Failed to listen on control socket '%s': %m", path);
	r = dispatch_add(d, &ctl->listen_file, fd, EPOLLIN, control_accept);
	if (r < 0)
		return safe_close(fd), log_errno(r, "Failed to watch '%s': %m", path);
	log_info("Control socket '%s' for uid %ld.", path, (long)ctl->uid);
	return 0;
}

void control_close(struct control *ctl)
{
	int fd = ctl->listen_file.fd;

	if (!ctl->dispatch)
		return;         /* control_open() was not reached */
	for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
		if (ctl->conns[i].file.fd >= 0)
			conn_close(&ctl->conns[i]);
	if (fd >= 0) {
		dispatch_remove(ctl->dispatch, &ctl->listen_file);
		safe_close(fd);
		(void)unlink(ctl->reg->conf.control);
	}
	for (size_t i = 0; i < ctl->n_adopted; i++)
		ctl->adopted[i].client->on_close = NULL;
	free(ctl->adopted);
	ctl->adopted = NULL;
	ctl->n_adopted = 0;
}
