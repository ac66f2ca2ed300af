/* Control messages between virtseed-libvirt and virtseed-egd: the codec of both ends. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CTL_MAX_MSG 4096        /* bytes of one message (one SOCK_SEQPACKET datagram) */
#define CTL_MAX_NAME 64         /* names: [A-Za-z0-9_.+-]{1,63} */
#define CTL_UUID_LEN 36
#define CTL_MAX_ERROR 256       /* bytes of an error reply's text */

enum ctl_op {
	CTL_OP_DOMAIN = 1,      /* declare or update a domain */
	CTL_OP_ADOPT,           /* the datagram carries a connected fd to its QEMU */
	CTL_OP_FORGET,          /* the domain stopped */
};

struct ctl_msg {
	enum ctl_op op;
	char name[CTL_MAX_NAME];
	char uuid[CTL_UUID_LEN + 1];
	char class[CTL_MAX_NAME];       /* "" = the distributor's default class */
	uint64_t rate, ceil, burst;     /* bytes/s, bytes; 0 = the class's guest defaults */
	pid_t pid;                      /* the domain's QEMU, 0 = unknown */
};

int ctl_parse(const char *buf, size_t n, struct ctl_msg *ret_msg, const char **ret_err);
ssize_t ctl_build(char *buf, size_t size, const struct ctl_msg *m);
ssize_t ctl_build_reply(char *buf, size_t size, const char *err);
int ctl_parse_reply(const char *buf, size_t n, char *ret_err, size_t err_size);
bool ctl_valid_name(const char *s);
bool ctl_valid_uuid(const char *s);
