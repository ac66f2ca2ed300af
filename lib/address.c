/*
 * Parsing and connecting the addresses of EGD endpoints.  "unix:PATH",
 * "tcp:HOST:PORT" (HOST may be [v6]), "vsock:CID:PORT", "serial:PATH" or a
 * bare absolute path (a virtio-serial port, which needs no guest network).
 * address_connect() returns a non-blocking, close-on-exec fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "macro.h"

static int parse_u32(const char *s, uint32_t max, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int copy_str(char *dst, size_t size, const char *src, size_t n)
{
	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static int parse_tcp(const char *s, struct address *a)
{
	const char *colon = strrchr(s, ':');
	const char *host = s;
	size_t n;

	if (!colon || parse_u32(colon + 1, 65535, &a->port) < 0 || a->port == 0)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	return copy_str(a->host, sizeof(a->host), host, n);
}

static int parse_vsock(const char *s, struct address *a)
{
	const char *colon = strchr(s, ':');
	char cid[16];

	if (!colon || copy_str(cid, sizeof(cid), s, (size_t)(colon - s)) < 0)
		return -EINVAL;
	if (parse_u32(cid, UINT32_MAX, &a->cid) < 0)
		return -EINVAL;
	return parse_u32(colon + 1, UINT32_MAX, &a->port);
}

int address_parse(const char *s, struct address *ret)
{
	struct address a = {};
	int r;

	if (strncmp(s, "unix:", 5) == 0) {
		a.kind = ADDRESS_UNIX;
		r = copy_str(a.path, sizeof(a.path), s + 5, strlen(s + 5));
	} else if (strncmp(s, "tcp:", 4) == 0) {
		a.kind = ADDRESS_TCP;
		r = parse_tcp(s + 4, &a);
	} else if (strncmp(s, "vsock:", 6) == 0) {
		a.kind = ADDRESS_VSOCK;
		r = parse_vsock(s + 6, &a);
	} else if (strncmp(s, "serial:", 7) == 0 || s[0] == '/') {
		a.kind = ADDRESS_DEVICE;
		s += s[0] == '/' ? 0 : 7;
		r = s[0] == '/' ? copy_str(a.path, sizeof(a.path), s, strlen(s)) : -EINVAL;
	} else {
		r = -EINVAL;
	}
	if (r < 0)
		return r;
	*ret = a;
	return 0;
}

static int connect_fd(int domain, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, sa, len) < 0 && errno != EINPROGRESS) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static int connect_tcp(const struct address *a)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char port[8];
	int r;

	snprintf(port, sizeof(port), "%u", a->port);
	r = getaddrinfo(a->host, port, &hints, &res);
	if (r != 0)
		return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	r = connect_fd(res->ai_family, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return r;
}

int address_connect(const struct address *a)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_vm vm = { .svm_family = AF_VSOCK };
	int fd;

	switch (a->kind) {
	case ADDRESS_UNIX:
		memcpy(un.sun_path, a->path, sizeof(un.sun_path));
		return connect_fd(AF_UNIX, (struct sockaddr *)&un, sizeof(un));
	case ADDRESS_TCP:
		return connect_tcp(a);
	case ADDRESS_VSOCK:
		vm.svm_cid = a->cid;
		vm.svm_port = a->port;
		return connect_fd(AF_VSOCK, (struct sockaddr *)&vm, sizeof(vm));
	case ADDRESS_DEVICE:
		fd = open(a->path, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		return fd < 0 ? -errno : fd;
	}
	return -EINVAL;
}
