/* virtseed-egd.conf: parsed and validated as a whole, or rejected naming the line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "htb.h"

#define EGD_CONF_MAX_SIZE (1024 * 1024)  /* bytes in the file */
#define EGD_CONF_MAX_LINE 1024           /* bytes in one line */
#define EGD_CONF_MAX_NAME 64             /* class and guest names */
#define EGD_CONF_MAX_VALUE 256           /* addresses, paths */
#define EGD_CONF_MAX_CLASSES 64
#define EGD_CONF_MAX_GUESTS 4096
#define EGD_CONF_MAX_LISTENERS 256
#define EGD_CONF_MAX_SOURCES 8
#define EGD_CONF_MAX_CLIENTS 65536       /* upper bound for max-clients */
#define EGD_CONF_MAX_PREFIX 4096         /* upper bound for qemu-prefix */
#define EGD_CONF_MAX_DEMAND 65536        /* upper bound for max-demand */
#define EGD_CONF_MAX_ACCEPT_RATE 1000000 /* upper bound for accept-rate */

#define EGD_CONF_DEFAULT_BUDGET (16ULL * 1024 * 1024)
#define EGD_CONF_DEFAULT_BURST (1024ULL * 1024)
#define EGD_CONF_DEFAULT_GUEST_RATE (64ULL * 1024)
#define EGD_CONF_DEFAULT_GUEST_BURST (64ULL * 1024)
#define EGD_CONF_DEFAULT_MAX_CLIENTS 1024
#define EGD_CONF_DEFAULT_ACCEPT_RATE 100  /* connections per second per listener */
#define EGD_CONF_DEFAULT_PREFIX 256
#define EGD_CONF_DEFAULT_DEMAND 16384
#define EGD_MAX_DEMAND_MIN 255          /* one full-size request must fit */
#define EGD_CONF_DEFAULT_CLASS "default"
/* What listen = / connect = / --listen / --connect take, for messages. */
#define EGD_CONF_LISTEN_WORDS "unix:PATH or tcp:HOST:PORT, optionally followed by ,qemu"

enum egd_write_mode {
	EGD_WRITE_REFUSE,       /* 0x03 closes the connection (default) */
	EGD_WRITE_DISCARD,      /* accepted and thrown away */
	EGD_WRITE_MIX,          /* mixed into the pool, credited nothing */
};

struct egd_conf_class {
	char name[EGD_CONF_MAX_NAME];
	struct htb_params params;
	struct htb_params guest;        /* for guests of this class with no own rate */
	unsigned line;
};

struct egd_conf_guest {
	char name[EGD_CONF_MAX_NAME];
	char class[EGD_CONF_MAX_NAME];
	size_t class_index;
	struct htb_params params;
	bool has_rate, has_ceil, has_burst;
	int64_t uid, gid;       /* SO_PEERCRED rule on shared unix listeners; -1 = none */
	unsigned line;
};

struct egd_conf_listener {
	char address[EGD_CONF_MAX_VALUE];
	bool qemu;              /* send the restart prefix on every new connection */
	bool connect;           /* connect out to a QEMU chardev in server mode */
	char guest[EGD_CONF_MAX_NAME];  /* "" = identify the peer */
	unsigned line;
};

struct egd_conf {
	struct htb_params root;
	char sources[EGD_CONF_MAX_SOURCES][EGD_CONF_MAX_VALUE];  /* NAME or NAME:ARG */
	size_t n_sources;
	unsigned max_clients;
	unsigned accept_rate;   /* connections accepted per second per listener, 0 = no limit */
	unsigned qemu_prefix;   /* bytes sent unrequested to a new QEMU connection */
	unsigned max_demand;    /* outstanding bytes asked by one connection */
	enum egd_write_mode write_mode;
	bool activated_qemu;    /* sockets from systemd are QEMU's (restart prefix) */
	bool peer_cmdline;      /* name unidentified unix peers by /proc/PID/cmdline (spoofable) */
	char stats[EGD_CONF_MAX_VALUE];
	char control[EGD_CONF_MAX_VALUE];       /* control socket path, "" = none */
	char control_user[EGD_CONF_MAX_NAME];   /* who may use it, "" = root */
	char user[EGD_CONF_MAX_NAME];
	struct egd_conf_class *classes;
	size_t n_classes;
	struct egd_conf_guest *guests;
	size_t n_guests;
	struct egd_conf_listener *listeners;
	size_t n_listeners;
	unsigned parse_line;    /* while parsing: the line, for listeners */
};

struct egd_conf_error {
	unsigned line;          /* 0: the file as a whole */
	const char *msg;        /* points into text */
	char text[320];
};

int egd_conf_init(struct egd_conf *c);
int egd_conf_parse(struct egd_conf *c, const char *buf, size_t n, struct egd_conf_error *ret_err);
int egd_conf_add_listener(struct egd_conf *c, const char *spec, bool connect, const char *guest,
			  unsigned line);
int egd_conf_finish(struct egd_conf *c, struct egd_conf_error *ret_err);
void egd_conf_done(struct egd_conf *c);
ssize_t egd_conf_find_class(const struct egd_conf *c, const char *name);
ssize_t egd_conf_find_guest(const struct egd_conf *c, const char *name);
int egd_conf_parse_size(const char *s, uint64_t *ret);
int egd_conf_resolve_guest(const struct egd_conf *c, size_t class_index, struct htb_params *p);
void egd_conf_format_global(const struct egd_conf *c, FILE *f);
