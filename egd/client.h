/* EGD connections and the scheduling run over them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dispatch.h"
#include "egd-proto.h"
#include "htb.h"
#include "ratelimit.h"
#include "registry.h"
#include "reservoir.h"

#define CLIENT_IN_SIZE 512              /* >= EGD_MAX_REQUEST: one whole request always fits */
#define CLIENT_OUT_SIZE 4096            /* buffered reply bytes per connection */
#define CLIENT_MAX_PENDING 128          /* requests queued per connection */

enum { PENDING_PREFIX = 0xff };         /* unrequested QEMU restart bytes, served like 0x02 */

struct pending {
	uint8_t cmd;
	uint16_t left;          /* READ_* and PREFIX: bytes still owed */
};

struct client;
typedef void (*client_close_fn)(struct client *c, void *userdata, uint64_t now_usec);

struct client {
	struct htb_node node;   /* first: the scheduler hands back &c->node */
	struct dispatch_file file;
	struct clients *set;
	struct client *prev, *next, *dirty_next;
	bool dirty;
	int fd;
	struct egd_guest *guest;
	client_close_fn on_close;       /* e.g. the connect-out listener; may be NULL */
	void *userdata;
	bool qemu;
	bool eof;               /* peer shut down its side: finish, then close */
	pid_t peer_pid;
	size_t demand;          /* bytes owed by queued READ requests */
	uint8_t in[CLIENT_IN_SIZE];
	size_t in_len;
	struct pending q[CLIENT_MAX_PENDING];
	size_t q_head, q_len;
	uint8_t out[CLIENT_OUT_SIZE];
	size_t out_pos, out_len;        /* unsent bytes are out[out_pos..out_len) */
	uint64_t steps;         /* requests popped, input parsed, sends: progress */
};

/* The connections: who is open, what the scheduler serves, what to free. */
struct clients {
	struct dispatch *dispatch;
	struct registry *reg;
	struct reservoir *res;
	struct htb htb;
	struct client *list;            /* doubly linked */
	unsigned n;
	struct client *dirty;           /* served by the scheduler, to flush */
	struct client *closed;          /* to free after this dispatch batch */
	uint64_t run_usec;              /* the time of the current run */
	uint64_t next_run_usec;         /* 0: nothing waits for tokens */
	bool starved;                   /* a run found the reservoir dry */
	uint64_t dropped_protocol, dropped_limit, refused_write;
	uint64_t accepted, accept_rested;  /* connections taken; times accept-rate was reached */
	struct ratelimit log_rl;
};

void clients_init(struct clients *set, struct dispatch *d, struct registry *reg,
		  struct reservoir *res);
void clients_done(struct clients *set, uint64_t now_usec);
int client_new(struct clients *set, int fd, struct egd_guest *g, bool qemu, uint64_t now_usec,
	       struct client **ret);
struct client *client_close(struct client *c, uint64_t now_usec);
void clients_claim_pid(struct clients *set, pid_t pid, struct egd_guest *g, uint64_t now_usec);
void clients_reap(struct clients *set);
void clients_run(struct clients *set, uint64_t now_usec);
uint64_t clients_next_usec(struct clients *set, uint64_t now_usec);
