/*
 * The guest registry: the budget (HTB root), classes and guests, who holds a
 * guest (its connections), and reload.  A guest is an HTB node; each of its
 * connections is a member leaf under it, so its rate, ceil and burst hold
 * across all of them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "egd-conf.h"
#include "htb.h"

#define REGISTRY_UUID_SIZE 37           /* 36 characters and the NUL */

struct egd_class {
	char name[EGD_CONF_MAX_NAME];
	struct htb_node node;
	uint64_t bytes, requests, throttled_usec;       /* its guests', closed connections' */
	bool keep;
};

enum guest_origin {
	GUEST_CONFIGURED,       /* a [guest NAME] section */
	GUEST_DECLARED,         /* registry_declare(): explicit identity (libvirt) */
	GUEST_PEER,             /* made up for an unconfigured peer, in class "default" */
};

struct egd_guest {
	char name[EGD_CONF_MAX_NAME];
	char uuid[REGISTRY_UUID_SIZE];  /* "" unless declared */
	enum guest_origin origin;
	struct egd_class *class;
	struct htb_node node;           /* shared by its connections */
	struct htb_params params;
	char class_name[EGD_CONF_MAX_NAME];     /* declared: the class asked for */
	pid_t pid;                      /* a peer with this SO_PEERCRED pid is this guest; 0 none */
	int64_t uid, gid;               /* configured SO_PEERCRED rule; -1 none */
	bool forgotten;                 /* dropped when its last connection closes */
	unsigned refs;                  /* open connections */
	uint64_t unanswered;            /* bytes its last closed connection still owed */
	bool closed_once;               /* unanswered is known */
	uint64_t prefix_usec;           /* when it last got a QEMU restart prefix, 0 never */
	uint64_t bytes, requests, throttled_usec;
	bool keep;
};

/* An explicit identity for registry_declare(); params fields UINT64_MAX = class default. */
struct guest_decl {
	const char *name;
	const char *uuid;
	const char *class;      /* NULL: "default" */
	struct htb_params params;
	pid_t pid;              /* 0: none */
};

struct registry {
	struct egd_conf conf;           /* owned: the current configuration */
	struct htb_node root;           /* the budget */
	struct egd_class **classes;
	size_t n_classes;
	struct egd_guest **guests;
	size_t n_guests;
};

int registry_init(struct registry *reg, struct egd_conf *conf, uint64_t now_usec);
int registry_reload(struct registry *reg, struct egd_conf *conf, uint64_t now_usec);
void registry_done(struct registry *reg);

struct egd_guest *registry_guest(struct registry *reg, const char *name, uint64_t now_usec);
struct egd_guest *registry_by_pid(struct registry *reg, pid_t pid);
struct egd_guest *registry_by_uuid(struct registry *reg, const char *uuid);
struct egd_guest *registry_by_cred(struct registry *reg, uid_t uid, gid_t gid);
int registry_declare(struct registry *reg, const struct guest_decl *d, uint64_t now_usec,
		     struct egd_guest **ret);
void registry_forget(struct registry *reg, struct egd_guest *g);

struct egd_guest *registry_ref(struct egd_guest *g);
void registry_unref(struct registry *reg, struct egd_guest *g);
size_t registry_prefix(struct registry *reg, struct egd_guest *g, uint64_t now_usec);
