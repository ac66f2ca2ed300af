/* virtseed-egd internals shared by main.c, client.c, listen.c, sched.c and stats.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "egd-conf.h"
#include "htb.h"
#include "macro.h"
#include "source.h"

#define MAX_LISTENERS EGD_CONF_MAX_LISTENERS
#define POOL_CHUNK 4096                 /* bytes per source read */
#define POOL_SIZE POOL_CHUNK            /* bytes read ahead from the source */
#define RECONNECT_USEC (1 * USEC_PER_SEC)
#define LOG_INTERVAL_USEC (10 * USEC_PER_SEC)

struct client;

struct egd_class {
	char name[EGD_CONF_MAX_NAME];
	struct htb_node node;
	uint64_t bytes, requests, throttled_usec;       /* closed connections' share */
	bool keep;
};

struct egd_guest {
	char name[EGD_CONF_MAX_NAME];
	struct egd_class *class;
	struct htb_params params;
	bool configured;        /* from [guest NAME]; else made up for one peer */
	unsigned clients;
	uint64_t bytes, requests, throttled_usec;
	bool keep;
};

struct listener {
	struct egd_conf_listener conf;
	struct address addr;
	int fd;                 /* listening socket; -EBADF for connect-out */
	bool activated;         /* from systemd */
	struct client *client;  /* connect-out: the live connection */
	uint64_t retry_usec;
};

struct pool {
	uint8_t buf[POOL_SIZE];
	size_t pos, len;        /* unread bytes are buf[pos..len) */
	struct source sources[EGD_CONF_MAX_SOURCES];
	size_t n_sources;
	uint64_t failures;
};

struct server {
	struct egd_conf conf;
	const char *conf_path;
	bool conf_given;                /* --config: the file must exist */
	int epoll_fd, timer_fd, signal_fd, stats_fd;
	uint64_t timer_usec;            /* armed deadline, 0 = disarmed */
	uint64_t run_usec, next_run_usec;
	struct listener listeners[MAX_LISTENERS];
	size_t n_listeners;
	struct client *clients;         /* doubly linked */
	unsigned n_clients;
	struct client *dirty;           /* served by the scheduler, to flush */
	struct client *closed;          /* to free after this epoll batch */
	struct htb htb;
	struct htb_node root;
	struct egd_class **classes;
	size_t n_classes;
	struct egd_guest **guests;
	size_t n_guests;
	struct pool pool;
	uint64_t dropped_protocol, dropped_limit, refused_write;
	uint64_t last_log_usec;
	unsigned log_suppressed;
};

/* Tags in epoll_event.data.u64's low bits tell the kind of fd (pointers are aligned). */
enum {
	TAG_CLIENT = 0,
	TAG_LISTENER = 1,
	TAG_STATS = 2,
	TAG_STATCONN = 3,
	TAG_MASK = 3,
};
#define FD_TIMER ((uint64_t)4 | TAG_STATS)
#define FD_SIGNAL ((uint64_t)8 | TAG_STATS)

uint64_t now_usec(void);
bool log_ratelimit(struct server *s);

/* sched.c */
int sched_setup(struct server *s, uint64_t now);
int sched_reload(struct server *s, struct egd_conf *c, uint64_t now);
struct egd_guest *sched_guest(struct server *s, const char *name, uint64_t now);
void sched_guest_unref(struct server *s, struct egd_guest *g);
void sched_run(struct server *s, uint64_t now);
int sched_arm(struct server *s, uint64_t now);
size_t pool_get(struct server *s, uint8_t *dst, size_t n, uint64_t now);
void pool_mix(struct server *s, const uint8_t *data, size_t n, uint64_t now);
void sched_done(struct server *s);

/* listen.c */
int listeners_open(struct server *s, bool *ret_activated);
void listener_event(struct server *s, struct listener *l, uint64_t now);
void listeners_reconnect(struct server *s, uint64_t now);
uint64_t listeners_next_usec(const struct server *s);
void listeners_close(struct server *s);

/* stats.c */
int stats_open(struct server *s);
void stats_accept(struct server *s, uint64_t now);
void statconn_event(struct server *s, void *conn, uint32_t events);
int stats_print(const char *path);
