/* virtseed-libvirt's end of the distributor's control socket. */
#pragma once

#include "ctl-proto.h"

#define CTL_REPLY_TIMEOUT_MSEC 2000

int ctl_connect(const char *path);
int ctl_call(int fd, const struct ctl_msg *m, int pass_fd, char *err, size_t err_size);
