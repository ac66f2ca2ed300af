/* Endpoint addresses as written in configuration: unix:, tcp:, vsock:, or a device path. */
#pragma once

#include <stdint.h>
#include <sys/un.h>

#define ADDRESS_HOST_MAX 256

enum address_kind {
	ADDRESS_UNIX,
	ADDRESS_TCP,
	ADDRESS_VSOCK,
	ADDRESS_DEVICE, /* a character device such as /dev/virtio-ports/NAME */
};

struct address {
	enum address_kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unix, device */
	char host[ADDRESS_HOST_MAX];                            /* tcp */
	uint32_t cid;                                           /* vsock */
	uint32_t port;                                          /* tcp, vsock */
};

int address_parse(const char *s, struct address *ret);
int address_connect(const struct address *a);
