/* Hierarchical token buckets with deficit round robin among backlogged leaves. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tbucket.h"

#define HTB_QUANTUM 1024        /* bytes a leaf may borrow per DRR turn */
#define HTB_TICK_USEC 1000      /* shortest wait between scheduling runs */
#define HTB_MAX_WAIT_USEC 1000000
#define HTB_RESERVE_DIV 4       /* borrowing leaves 1/4 of each ancestor's burst to rate traffic */

struct htb_params {
	uint64_t rate;          /* assured bytes/s */
	uint64_t ceil;          /* hard limit in bytes/s, >= rate */
	uint64_t burst;         /* bucket depth in bytes */
};

struct htb_node {
	struct htb_node *parent;
	struct tbucket tokens;  /* assured rate; charged by every byte at or below a lender */
	struct tbucket ctokens; /* ceil; charged by every byte below */
	/* leaves only */
	bool member;            /* served from the parent's buckets (one guest, many connections) */
	size_t backlog;         /* bytes the leaf could take now */
	int64_t deficit;
	struct htb_node *prev, *next;
	bool active;
	uint64_t active_since_usec;
	/* statistics */
	uint64_t bytes, borrowed, throttled_usec;
};

struct htb {
	struct htb_node *ring;  /* backlogged leaves; the DRR turn starts here */
	size_t n_active;
};

/* Serve up to @n bytes to @leaf; returns bytes served.  Must not call htb_*(). */
typedef size_t (*htb_serve_fn)(struct htb_node *leaf, size_t n, void *userdata);

int htb_params_check(const struct htb_params *p);
int htb_node_init(struct htb_node *n, struct htb_node *parent, const struct htb_params *p,
		  uint64_t now_usec);
void htb_node_init_member(struct htb_node *n, struct htb_node *parent);
void htb_node_set(struct htb_node *n, const struct htb_params *p, uint64_t now_usec);
void htb_set_backlog(struct htb *h, struct htb_node *leaf, size_t backlog, uint64_t now_usec);
void htb_remove(struct htb *h, struct htb_node *leaf, uint64_t now_usec);
size_t htb_take(struct htb_node *leaf, size_t want, bool borrow, uint64_t now_usec);
size_t htb_peek(struct htb_node *leaf, size_t want, uint64_t now_usec);
size_t htb_run(struct htb *h, uint64_t now_usec, htb_serve_fn serve, void *userdata,
	       uint64_t *ret_next_usec);
uint64_t htb_throttled_usec(const struct htb_node *leaf, uint64_t now_usec);
