/* One EGD connection: its input, its queue of requests and its output, in order. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "egd.h"
#include "egd-proto.h"
#include "htb.h"

#define CLIENT_IN_SIZE 512              /* >= EGD_MAX_REQUEST: one whole request always fits */
#define CLIENT_OUT_SIZE 4096            /* buffered reply bytes per connection */
#define CLIENT_MAX_PENDING 128          /* requests queued per connection */

struct pending {
	uint8_t cmd;
	uint8_t left;           /* READ_*: bytes still owed */
};

struct client {
	struct htb_node node;   /* first: the scheduler hands back &c->node */
	struct client *prev, *next, *dirty_next;
	bool dirty;
	int fd;
	uint32_t events;        /* registered with epoll */
	struct server *server;
	struct egd_guest *guest;
	struct listener *listener;      /* connect-out owner, else NULL */
	bool qemu;
	bool eof;               /* peer shut down its side: finish, then close */
	unsigned long peer_pid;
	size_t demand;          /* bytes owed by queued READ requests */
	uint8_t in[CLIENT_IN_SIZE];
	size_t in_len;
	struct pending q[CLIENT_MAX_PENDING];
	size_t q_head, q_len;
	uint8_t out[CLIENT_OUT_SIZE];
	size_t out_pos, out_len;        /* unsent bytes are out[out_pos..out_len) */
};

int client_new(struct server *s, int fd, struct egd_guest *g, bool qemu, uint64_t now,
	       struct client **ret);
struct client *client_close(struct client *c, uint64_t now);
void clients_reap(struct server *s);
void client_event(struct client *c, uint32_t events, uint64_t now);
size_t client_fill(struct client *c, size_t n, uint64_t now);
void client_after_run(struct client *c, uint64_t now);
void client_set_params(struct client *c, uint64_t now);
