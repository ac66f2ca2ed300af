/*
 * One request, one reply: a SOCK_SEQPACKET datagram to the distributor, an fd
 * attached for op=adopt, then its "ok" or "error=..." within
 * CTL_REPLY_TIMEOUT_MSEC.  The distributor answers in order, so a caller
 * never has two requests in flight.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"
#include "macro.h"

int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_(closep) int fd = -EBADF;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	r = fd;
	fd = -EBADF;
	return r;
}

static int send_msg(int fd, const char *buf, size_t n, int pass_fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctrl = {};
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = sizeof(ctrl.buf);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &pass_fd, sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

/* 0 = ok, -EPROTO = refused (the reason in err), other -errno = the connection failed. */
int ctl_call(int fd, const struct ctl_msg *m, int pass_fd, char *err, size_t err_size)
{
	char buf[CTL_MAX_MSG];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n = ctl_build(buf, sizeof(buf), m);
	int r;

	if (n < 0)
		return (int)n;
	r = send_msg(fd, buf, n, pass_fd);
	if (r < 0)
		return r;
	r = poll(&p, 1, CTL_REPLY_TIMEOUT_MSEC);
	if (r <= 0)
		return r < 0 ? -errno : -ETIMEDOUT;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n <= 0)
		return n < 0 ? -errno : -ECONNRESET;
	return ctl_parse_reply(buf, n, err, err_size);
}
