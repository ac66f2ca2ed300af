/* virtseed-libvirt: the running domains and what the distributor has of them. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "domxml.h"

struct dom {
	struct domxml x;
	pid_t pid;              /* QEMU's, 0 = unknown */
	int bind;               /* index in x.rng of the bind socket served, -1 = none */
	bool declared;          /* the distributor has this description */
	bool adopted;           /* the distributor holds a connection to the bind socket */
	bool refused;           /* the distributor refused this description */
	bool warned;            /* the bind socket's failure was logged */
	bool seen;              /* listed by libvirt in the current resync */
};

struct domains {
	struct dom *v;
	size_t n;
	const char *ctl_path;
	int ctl_fd;             /* -EBADF while the distributor is away */
};

void domains_update(struct domains *d, const struct domxml *x, pid_t pid);
void domains_forget(struct domains *d, const char *uuid);
void domains_begin_sync(struct domains *d);
void domains_end_sync(struct domains *d);
int domains_ctl_open(struct domains *d);
void domains_ctl_lost(struct domains *d);
bool domains_flush(struct domains *d);
void domains_done(struct domains *d);
