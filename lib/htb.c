/*
 * Hierarchical token buckets (root = the source's budget, classes, guests),
 * as Linux's sch_htb but over bytes of entropy.  Every node has an assured
 * rate bucket and a ceil bucket.  A leaf sends from its own rate tokens
 * ("green"), else borrows from the nearest ancestor with rate tokens; every
 * byte charges the ceil bucket of each node on its path, so no node, and
 * above all not the root, ever exceeds its ceil.  Borrowers share what is
 * left by deficit round robin with equal quanta (max-min fair among leaves).
 * Borrowing keeps 1/HTB_RESERVE_DIV of each ancestor's burst for green
 * traffic, so a guest within its rate is served at once even when greedy
 * guests have drained the spare capacity.  A member leaf has no buckets of
 * its own: it is one connection of the guest node above it and spends that
 * node's tokens, so a guest's rate, ceil and burst hold across all its
 * connections however often they are made anew.  Pure: no clock, no I/O.
 */
#include <errno.h>

#include "htb.h"
#include "macro.h"

/**
 * htb_params_check() - validate one node's parameters against TBUCKET_MAX_*.
 * Return: 0 or -EINVAL (ceil below rate, zero burst, zero ceil, out of range).
 */
int htb_params_check(const struct htb_params *p)
{
	if (p->rate > TBUCKET_MAX_RATE || p->ceil > TBUCKET_MAX_RATE)
		return -EINVAL;
	if (p->burst == 0 || p->burst > TBUCKET_MAX_BURST)
		return -EINVAL;
	if (p->ceil == 0 || p->ceil < p->rate)
		return -EINVAL;
	return 0;
}

int htb_node_init(struct htb_node *n, struct htb_node *parent, const struct htb_params *p,
		  uint64_t now_usec)
{
	int r = htb_params_check(p);

	if (r < 0)
		return r;
	*n = (struct htb_node){ .parent = parent };
	(void)tbucket_init(&n->tokens, p->rate, p->burst, now_usec);
	(void)tbucket_init(&n->ctokens, p->ceil, p->burst, now_usec);
	return 0;
}

/**
 * htb_node_init_member() - a leaf that spends @parent's buckets as its own.
 */
void htb_node_init_member(struct htb_node *n, struct htb_node *parent)
{
	*n = (struct htb_node){ .parent = parent, .member = true };
}

/* The node whose buckets @leaf spends as its own. */
static struct htb_node *base(struct htb_node *leaf)
{
	return leaf->member ? leaf->parent : leaf;
}

/* Reconfigure in place (SIGHUP): balances are kept, clamped to the new depth. */
void htb_node_set(struct htb_node *n, const struct htb_params *p, uint64_t now_usec)
{
	tbucket_set(&n->tokens, p->rate, p->burst, now_usec);
	tbucket_set(&n->ctokens, p->ceil, p->burst, now_usec);
}

static int64_t reserve(const struct htb_node *n, struct htb_node *leaf, bool borrow)
{
	return borrow && n != base(leaf) ? (int64_t)(n->ctokens.burst / HTB_RESERVE_DIV) : 0;
}

/* Bytes @leaf may send now, at most @want, and from whose rate tokens. */
static size_t htb_allow(struct htb_node *leaf, size_t want, bool borrow, uint64_t now_usec,
			struct htb_node **ret_lender)
{
	int64_t limit = (int64_t)MIN(want, (size_t)INT64_MAX);

	for (struct htb_node *n = base(leaf); n; n = n->parent) {
		int64_t c = tbucket_avail(&n->ctokens, now_usec) - reserve(n, leaf, borrow);

		limit = MIN(limit, c);
	}
	if (limit <= 0)
		return 0;
	for (struct htb_node *n = base(leaf); n; n = n->parent) {
		int64_t t = tbucket_avail(&n->tokens, now_usec) - reserve(n, leaf, borrow);

		if (t > 0) {
			*ret_lender = n;
			return (size_t)MIN(limit, t);
		}
		if (!borrow)
			break;
	}
	return 0;
}

static void htb_charge_from(struct htb_node *leaf, struct htb_node *lender, size_t n,
			    uint64_t now_usec)
{
	bool lending = false;

	for (struct htb_node *p = base(leaf); p; p = p->parent) {
		lending = lending || p == lender;
		if (lending)
			tbucket_charge(&p->tokens, now_usec, n);
		tbucket_charge(&p->ctokens, now_usec, n);
	}
	leaf->bytes += n;
	if (lender != base(leaf))
		leaf->borrowed += n;
}

/**
 * htb_take() - grant and charge up to @want bytes at once, bypassing the DRR
 * order; for replies that cannot wait (EGD 0x01) and for rate traffic.
 * Return: bytes granted.
 */
size_t htb_take(struct htb_node *leaf, size_t want, bool borrow, uint64_t now_usec)
{
	struct htb_node *lender = NULL;
	size_t k = htb_allow(leaf, want, borrow, now_usec, &lender);

	if (k > 0)
		htb_charge_from(leaf, lender, k, now_usec);
	return k;
}

/* What htb_take(@leaf, @want, true) would grant, without charging. */
size_t htb_peek(struct htb_node *leaf, size_t want, uint64_t now_usec)
{
	struct htb_node *lender;

	return htb_allow(leaf, want, true, now_usec, &lender);
}

static void ring_insert(struct htb *h, struct htb_node *leaf)
{
	if (!h->ring) {
		leaf->prev = leaf->next = leaf;
		h->ring = leaf;
	} else {
		/* Join at the tail: the turn order of those already waiting is kept. */
		leaf->next = h->ring;
		leaf->prev = h->ring->prev;
		h->ring->prev->next = leaf;
		h->ring->prev = leaf;
	}
	h->n_active++;
}

static void ring_unlink(struct htb *h, struct htb_node *leaf)
{
	if (leaf->next == leaf) {
		h->ring = NULL;
	} else {
		leaf->prev->next = leaf->next;
		leaf->next->prev = leaf->prev;
		if (h->ring == leaf)
			h->ring = leaf->next;
	}
	leaf->prev = leaf->next = NULL;
	h->n_active--;
}

/* Update what @leaf wants; joins or leaves the DRR ring accordingly. */
void htb_set_backlog(struct htb *h, struct htb_node *leaf, size_t backlog, uint64_t now_usec)
{
	leaf->backlog = backlog;
	if (backlog > 0 && !leaf->active) {
		leaf->active = true;
		leaf->active_since_usec = now_usec;
		leaf->deficit = 0;
		ring_insert(h, leaf);
	} else if (backlog == 0 && leaf->active) {
		htb_remove(h, leaf, now_usec);
	}
}

void htb_remove(struct htb *h, struct htb_node *leaf, uint64_t now_usec)
{
	if (!leaf->active)
		return;
	leaf->throttled_usec += now_usec - MIN(now_usec, leaf->active_since_usec);
	leaf->active = false;
	leaf->backlog = 0;
	leaf->deficit = 0;
	ring_unlink(h, leaf);
}

/* Time @leaf has had demand waiting, including the current wait. */
uint64_t htb_throttled_usec(const struct htb_node *leaf, uint64_t now_usec)
{
	uint64_t t = leaf->throttled_usec;

	if (leaf->active)
		t += now_usec - MIN(now_usec, leaf->active_since_usec);
	return t;
}

static size_t serve_leaf(struct htb *h, struct htb_node *leaf, size_t want, bool borrow,
			 uint64_t now_usec, htb_serve_fn serve, void *userdata)
{
	struct htb_node *lender = NULL;
	size_t k = htb_allow(leaf, want, borrow, now_usec, &lender);

	if (k == 0)
		return 0;
	k = MIN(serve(leaf, k, userdata), k);
	if (k == 0)
		return 0;
	htb_charge_from(leaf, lender, k, now_usec);
	leaf->backlog -= MIN(leaf->backlog, k);
	if (leaf->backlog == 0)
		htb_remove(h, leaf, now_usec);
	return k;
}

/* Green pass: every backlogged leaf takes what its own rate allows. */
static size_t htb_run_green(struct htb *h, uint64_t now_usec, htb_serve_fn serve, void *ud)
{
	size_t total = 0, n = h->n_active;
	struct htb_node *leaf = h->ring;

	for (size_t i = 0; i < n && leaf; i++) {
		struct htb_node *next = leaf->next;

		total += serve_leaf(h, leaf, leaf->backlog, false, now_usec, serve, ud);
		leaf = h->ring ? next : NULL;
	}
	return total;
}

/*
 * Borrow pass, deficit round robin: the leaf at the ring head spends its
 * quantum before the turn passes on.  A leaf that can take nothing is skipped;
 * once every leaf is stuck the run ends and the ring is rewound to the first
 * stuck one, so a turn cut short by scarce tokens resumes in the next run.
 */
static size_t htb_run_borrow(struct htb *h, uint64_t now_usec, htb_serve_fn serve, void *ud)
{
	struct htb_node *first_stuck = NULL;
	size_t total = 0, stuck = 0;

	while (h->ring && stuck < h->n_active) {
		struct htb_node *leaf = h->ring;
		size_t k;

		if (leaf->deficit <= 0)
			leaf->deficit += HTB_QUANTUM;
		k = serve_leaf(h, leaf, MIN(leaf->backlog, (size_t)leaf->deficit), true,
			       now_usec, serve, ud);
		if (k == 0) {
			if (stuck++ == 0)
				first_stuck = leaf;
			h->ring = leaf->next;
			continue;
		}
		stuck = 0;
		total += k;
		if (!leaf->active)
			continue;
		leaf->deficit -= (int64_t)k;
		if (leaf->deficit <= 0)
			h->ring = leaf->next;
	}
	if (h->ring && first_stuck)
		h->ring = first_stuck;
	return total;
}

static uint64_t leaf_wait_usec(struct htb_node *leaf, uint64_t now_usec)
{
	size_t want = MIN(leaf->backlog, (size_t)64);
	uint64_t ceil_wait = 0, rate_wait = UINT64_MAX;

	for (struct htb_node *n = base(leaf); n; n = n->parent) {
		uint64_t extra = (uint64_t)reserve(n, leaf, n != base(leaf));

		ceil_wait = MAX(ceil_wait, tbucket_wait_usec(&n->ctokens, now_usec, want + extra));
		rate_wait = MIN(rate_wait, tbucket_wait_usec(&n->tokens, now_usec, want + extra));
	}
	return MAX(ceil_wait, rate_wait);
}

/**
 * htb_run() - one scheduling run: rate traffic first, then borrowing by DRR.
 * @ret_next_usec: when a leaf left waiting may progress (0 if none waits).
 * Return: bytes served.
 */
size_t htb_run(struct htb *h, uint64_t now_usec, htb_serve_fn serve, void *userdata,
	       uint64_t *ret_next_usec)
{
	uint64_t wait = UINT64_MAX;
	size_t total;
	struct htb_node *leaf;
	size_t i;

	total = htb_run_green(h, now_usec, serve, userdata);
	total += htb_run_borrow(h, now_usec, serve, userdata);
	for (i = 0, leaf = h->ring; leaf && i < h->n_active; i++, leaf = leaf->next)
		wait = MIN(wait, leaf_wait_usec(leaf, now_usec));
	if (ret_next_usec)
		*ret_next_usec = !h->ring ? 0 :
			now_usec + MIN(MAX(wait, HTB_TICK_USEC), HTB_MAX_WAIT_USEC);
	return total;
}
