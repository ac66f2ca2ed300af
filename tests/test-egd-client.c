/*
 * One distributor connection over a socketpair on a virtual clock: reply order,
 * throttling, non-blocking reads, 0x00 units, violations.  The layers below
 * are the real ones (registry, reservoir on getrandom, dispatch): no stubs.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "client.h"
#include "macro.h"

#define T0 (1000 * USEC_PER_SEC)

struct fixture {
	struct dispatch d;
	struct registry reg;
	struct reservoir res;
	struct clients s;
	struct client *c;
	int peer;
};

static void setup(struct fixture *f, const char *text)
{
	struct egd_conf_error err;
	struct egd_conf conf;
	struct egd_guest *g;
	int fds[2];

	memset(f, 0, sizeof(*f));
	assert_int_equal(dispatch_init(&f->d), 0);
	assert_int_equal(egd_conf_init(&conf), 0);
	assert_int_equal(egd_conf_parse(&conf, text, strlen(text), &err), 0);
	assert_int_equal(egd_conf_finish(&conf, &err), 0);
	assert_int_equal(registry_init(&f->reg, &conf, T0), 0);
	assert_int_equal(reservoir_init(&f->res, (const char (*)[EGD_CONF_MAX_VALUE])
					f->reg.conf.sources, f->reg.conf.n_sources), 0);
	clients_init(&f->s, &f->d, &f->reg, &f->res);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
	g = registry_guest(&f->reg, "t", T0);
	assert_non_null(g);
	assert_int_equal(client_new(&f->s, fds[0], g, false, T0, &f->c), 0);
	f->peer = fds[1];
}

static void teardown(struct fixture *f)
{
	clients_done(&f->s, T0);
	reservoir_done(&f->res);
	registry_done(&f->reg);
	close(f->peer);
	dispatch_done(&f->d);
}

/* What the loop does when the client's socket is readable. */
static void event(struct fixture *f, uint32_t events, uint64_t now)
{
	f->c->file.fn(&f->c->file, events, now);
	clients_reap(&f->s);
}

static void ask(struct fixture *f, const void *req, size_t n, uint64_t now)
{
	assert_int_equal(write(f->peer, req, n), (ssize_t)n);
	event(f, EPOLLIN, now);
}

static size_t take(struct fixture *f, uint8_t *buf, size_t size)
{
	ssize_t k = read(f->peer, buf, size);

	return k < 0 ? 0 : (size_t)k;
}

static const char generous[] = "[class default]\nguest-rate = 1M\nguest-burst = 1M\n";
static const char slow[] = "[class default]\nguest-rate = 1000\nguest-ceil = 1000\n"
			   "guest-burst = 100\n";

static void test_client_pipelined_replies_in_order(void **state)
{
	static const uint8_t req[] = { 0x02, 0x10, 0x00, 0x01, 0x05, 0x04, 0x02, 0x00, 0x02, 0x03 };
	uint8_t buf[256], pid[32];
	struct fixture f;
	size_t n, off = 16;
	int len = snprintf((char *)pid, sizeof(pid), "%d", (int)getpid());

	setup(&f, generous);
	ask(&f, req, sizeof(req), T0);
	n = take(&f, buf, sizeof(buf));
	assert_int_equal(n, 16 + 4 + 1 + 5 + 1 + (size_t)len + 3);
	assert_true(egd_parse_avail(buf + off) > 0);
	off += 4;
	assert_int_equal(buf[off], 5);
	off += 6;
	assert_int_equal(buf[off], len);
	assert_memory_equal(buf + off + 1, pid, (size_t)len);
	assert_int_equal(take(&f, buf, sizeof(buf)), 0);       /* no filler */
	teardown(&f);
}

static void test_client_throttled_block_read_completes_over_time(void **state)
{
	static const uint8_t req[] = { 0x02, 0xff, 0x02, 0xff };
	uint8_t buf[1024];
	struct fixture f;
	size_t got;

	setup(&f, slow);
	ask(&f, req, sizeof(req), T0);
	got = take(&f, buf, sizeof(buf));
	assert_int_equal(got, 100);                             /* the burst */
	for (uint64_t t = T0 + 1000; t <= T0 + 410000; t += 1000) {
		clients_run(&f.s, t);
		got += take(&f, buf, sizeof(buf));
		if (t == T0 + 200000)
			assert_int_equal(got, 300);             /* 1000 B/s, exactly */
	}
	assert_int_equal(got, 510);
	assert_null(f.s.htb.ring);
	teardown(&f);
}

static void test_client_nonblocking_read_gets_what_is_there(void **state)
{
	static const uint8_t req[] = { 0x01, 0xff, 0x01, 0xff, 0x00 };
	uint8_t buf[512];
	struct fixture f;

	setup(&f, slow);
	ask(&f, req, sizeof(req), T0);
	assert_int_equal(take(&f, buf, sizeof(buf)), 1 + 100 + 1 + 4);
	assert_int_equal(buf[0], 100);
	assert_int_equal(buf[101], 0);
	assert_int_equal(egd_parse_avail(buf + 102), 0);
	teardown(&f);
}

static void test_client_avail_counts_bits(void **state)
{
	static const uint8_t req[] = { 0x00 };
	uint8_t buf[8];
	struct fixture f;

	setup(&f, slow);
	ask(&f, req, sizeof(req), T0);
	assert_int_equal(take(&f, buf, sizeof(buf)), 4);
	assert_int_equal(egd_parse_avail(buf), 800);
	teardown(&f);
}

static void test_client_unknown_command_closes(void **state)
{
	static const uint8_t req[] = { 0x09 };
	uint8_t buf[8];
	struct fixture f;

	setup(&f, generous);
	ask(&f, req, sizeof(req), T0);
	assert_null(f.s.list);
	assert_int_equal(f.s.dropped_protocol, 1);
	assert_int_equal(read(f.peer, buf, sizeof(buf)), 0);
	teardown(&f);
}

static void test_client_write_refused_by_default(void **state)
{
	static const uint8_t req[] = { 0x03, 0x00, 0x08, 0x01, 0xaa };
	struct fixture f;

	setup(&f, generous);
	ask(&f, req, sizeof(req), T0);
	assert_null(f.s.list);
	assert_int_equal(f.s.refused_write, 1);
	teardown(&f);
}

static void test_client_demand_cap_stops_parsing(void **state)
{
	uint8_t req[2 * 8], buf[4096];
	struct fixture f;

	for (size_t i = 0; i < sizeof(req); i += 2) {
		req[i] = 0x02;
		req[i + 1] = 0xff;
	}
	setup(&f, "max-demand = 600\n[class default]\nguest-rate = 0\nguest-ceil = 1\n"
		  "guest-burst = 1\n");
	ask(&f, req, sizeof(req), T0);
	assert_int_equal(take(&f, buf, sizeof(buf)), 1);
	/* Two requests fit the cap (509 left); the other six wait unparsed. */
	assert_int_equal(f.c->q_len, 2);
	assert_int_equal(f.c->in_len, 12);
	teardown(&f);
}

static void test_client_eof_finishes_then_closes(void **state)
{
	static const uint8_t req[] = { 0x02, 0x20 };
	uint8_t buf[64];
	struct fixture f;

	setup(&f, generous);
	assert_int_equal(write(f.peer, req, sizeof(req)), 2);
	assert_int_equal(shutdown(f.peer, SHUT_WR), 0);
	event(&f, EPOLLIN | EPOLLRDHUP, T0);    /* reads the request */
	assert_int_equal(take(&f, buf, sizeof(buf)), 32);
	event(&f, EPOLLIN | EPOLLRDHUP, T0);    /* reads the end */
	assert_null(f.s.list);
	assert_int_equal(read(f.peer, buf, sizeof(buf)), 0);
	teardown(&f);
}

/* Issue 9, promise 4: a 0x01 behind a full output buffer is answered without more input. */
static void test_client_pipelined_nonblocking_after_full_output(void **state)
{
	uint8_t req[64 * 2 + 2], buf[65536];
	struct fixture f;
	size_t got = 0;

	for (size_t i = 0; i < 64; i++) {
		req[2 * i] = 0x02;
		req[2 * i + 1] = 0xff;
	}
	req[128] = 0x01;
	req[129] = 0xff;
	setup(&f, generous);
	ask(&f, req, sizeof(req), T0);
	/* The loop: EPOLLOUT only if asked for, a run only when the timer is due. */
	for (uint64_t t = T0; t < T0 + 100000 && f.s.list; t += 1000) {
		uint64_t due = clients_next_usec(&f.s, t);

		got += take(&f, buf + got, sizeof(buf) - got);
		if (f.c->file.events & EPOLLOUT)
			event(&f, EPOLLOUT, t);
		if (due && due <= t)
			clients_run(&f.s, t);
	}
	assert_int_equal(got, 64 * 255 + 1 + 255);
	assert_int_equal(buf[64 * 255], 255);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_pipelined_replies_in_order),
		cmocka_unit_test(test_client_throttled_block_read_completes_over_time),
		cmocka_unit_test(test_client_nonblocking_read_gets_what_is_there),
		cmocka_unit_test(test_client_avail_counts_bits),
		cmocka_unit_test(test_client_unknown_command_closes),
		cmocka_unit_test(test_client_write_refused_by_default),
		cmocka_unit_test(test_client_demand_cap_stops_parsing),
		cmocka_unit_test(test_client_eof_finishes_then_closes),
		cmocka_unit_test(test_client_pipelined_nonblocking_after_full_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
