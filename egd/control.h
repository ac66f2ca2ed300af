/* The control socket: virtseed-libvirt declares domains and hands over QEMU connections. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "client.h"
#include "dispatch.h"
#include "registry.h"

#define CONTROL_MAX_CONNS 4             /* control connections open at once */
#define CONTROL_MAX_ADOPTED 4096        /* domains with a handed-over connection */

struct control;

struct control_conn {
	struct dispatch_file file;
	struct control *ctl;
};

struct control_adopted {
	char uuid[REGISTRY_UUID_SIZE];
	struct client *client;
};

struct control {
	struct dispatch_file listen_file;
	struct dispatch *dispatch;
	struct registry *reg;
	struct clients *clients;
	uid_t uid;                      /* the only peer uid accepted */
	struct control_conn conns[CONTROL_MAX_CONNS];
	struct control_adopted *adopted;
	size_t n_adopted;
};

int control_open(struct control *ctl, struct dispatch *d, struct registry *reg,
		 struct clients *set);
void control_close(struct control *ctl);
