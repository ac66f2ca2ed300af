/*
 * The distributor's control socket (egd/control.c) over a real SOCK_SEQPACKET
 * socket in a temporary directory, with the real registry, connections and
 * dispatch below it: the exact replies, what the registry then holds, one
 * adopted connection per domain, and the peer uid check (as root).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "control.h"
#include "ctl-proto.h"
#include "macro.h"

#define UUID "727e378c-abbc-4506-abea-97862a503b2c"
#define UUID2 "827e378c-abbc-4506-abea-97862a503b2c"
#define DECLARE "op=domain\nname=vm1\nuuid=" UUID "\nclass=gold\nrate=2K\n"

struct fixture {
	char dir[64], path[96];
	struct dispatch d;
	struct registry reg;
	struct reservoir res;
	struct clients set;
	struct control ctl;
	int fd;                 /* the control connection, virtseed-libvirt's end */
};

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void pump(struct fixture *f)
{
	while (dispatch_run(&f->d, 50, now_usec) > 0)
		clients_reap(&f->set);
}

static int fixture_setup(void **state)
{
	static const char fmt[] = "source = getrandom\ncontrol = %s\n"
				  "[class gold]\nrate = 8K\nceil = 8K\n";
	struct fixture *f = calloc(1, sizeof(*f));
	struct egd_conf_error err;
	struct egd_conf conf;
	char text[256];

	strcpy(f->dir, "/tmp/test-egd-control.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(chmod(f->dir, 0755), 0);      /* reachable by the uid-check test */
	snprintf(f->path, sizeof(f->path), "%s/control", f->dir);
	snprintf(text, sizeof(text), fmt, f->path);
	assert_int_equal(dispatch_init(&f->d), 0);
	assert_int_equal(egd_conf_init(&conf), 0);
	assert_int_equal(egd_conf_parse(&conf, text, strlen(text), &err), 0);
	assert_int_equal(egd_conf_finish(&conf, &err), 0);
	assert_int_equal(registry_init(&f->reg, &conf, now_usec()), 0);
	assert_int_equal(reservoir_init(&f->res, (const char (*)[EGD_CONF_MAX_VALUE])
					f->reg.conf.sources, f->reg.conf.n_sources), 0);
	clients_init(&f->set, &f->d, &f->reg, &f->res);
	assert_int_equal(control_open(&f->ctl, &f->d, &f->reg, &f->set), 0);
	f->fd = connect_to(f->path);
	pump(f);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	close(f->fd);
	clients_done(&f->set, now_usec());
	control_close(&f->ctl);
	reservoir_done(&f->res);
	registry_done(&f->reg);
	dispatch_done(&f->d);
	assert_int_equal(access(f->path, F_OK), -1);    /* removed at close */
	rmdir(f->dir);
	free(f);
	return 0;
}

/* One request (with fd if >= 0) and its reply, as text. */
static const char *call(struct fixture *f, const char *msg, int fd)
{
	static char reply[CTL_MAX_MSG];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctrl = {};
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = strlen(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = sizeof(ctrl.buf);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof(int));
	}
	assert_true(sendmsg(f->fd, &mh, 0) >= 0);
	pump(f);
	n = recv(f->fd, reply, sizeof(reply) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	reply[n] = '\0';
	return reply;
}

static void test_control_declare_and_update_rates(void **state)
{
	struct fixture *f = *state;
	struct egd_guest *g;

	assert_string_equal(call(f, DECLARE, -1), "ok\n");
	g = registry_by_uuid(&f->reg, UUID);
	assert_non_null(g);
	assert_string_equal(g->name, "vm1");
	assert_string_equal(g->class->name, "gold");
	assert_int_equal(g->params.rate, 2048);
	assert_string_equal(call(f, "op=domain\nname=vm1\nuuid=" UUID "\nclass=gold\nrate=4K\n",
				 -1), "ok\n");
	assert_ptr_equal(registry_by_uuid(&f->reg, UUID), g);
	assert_int_equal(g->params.rate, 4096);
}

static void test_control_refusals_name_the_cause(void **state)
{
	struct fixture *f = *state;
	int sp[2];

	assert_string_equal(call(f, "op=domain\nname=vm1\nuuid=" UUID "\nclass=platinum\n", -1),
			    "error=class: not defined in virtseed-egd.conf\n");
	assert_string_equal(call(f, "op=domain\nname=vm1\nuuid=" UUID "\nclass=gold\n"
				 "rate=8K\nceil=16K\n", -1),
			    "error=rates: need ceil >= rate, ceil <= the class ceil\n");
	assert_string_equal(call(f, "op=adopt\nuuid=" UUID "\n", -1),
			    "error=adopt: no fd attached\n");
	assert_string_equal(call(f, "op=forget\nuuid=" UUID "\n", -1),
			    "error=uuid: no such domain declared\n");
	assert_string_equal(call(f, "op=stop\n", -1), "error=op: not domain, adopt or forget\n");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_string_equal(call(f, DECLARE, sp[0]),
			    "error=fd attached to an op that takes none\n");
	close(sp[0]);
	close(sp[1]);
	assert_string_equal(call(f, "op=domain\nname=vm2\nuuid=" UUID "\n", -1), "ok\n");
	assert_string_equal(call(f, "op=domain\nname=vm2\nuuid=" UUID2 "\n", -1),
			    "error=name: taken by another domain\n");
}

static void test_control_one_adopted_connection_per_domain(void **state)
{
	struct fixture *f = *state;
	int a[2], b[2];

	assert_string_equal(call(f, DECLARE, -1), "ok\n");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_string_equal(call(f, "op=adopt\nuuid=" UUID "\n", a[0]), "ok\n");
	close(a[0]);            /* the distributor has its own copy */
	assert_int_equal(f->set.n, 1);
	assert_true(f->set.list->qemu);
	assert_string_equal(f->set.list->guest->name, "vm1");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	assert_string_equal(call(f, "op=adopt\nuuid=" UUID "\n", b[0]),
			    "error=already connected\n");
	assert_int_equal(f->set.n, 1);
	close(a[1]);            /* QEMU's end goes away: the domain may be handed over again */
	pump(f);
	assert_int_equal(f->set.n, 0);
	assert_string_equal(call(f, "op=adopt\nuuid=" UUID "\n", b[0]), "ok\n");
	assert_int_equal(f->set.n, 1);
	close(b[0]);
	close(b[1]);
}

/* Connect mode: QEMU connected before libvirt said the domain started, so it was nobody's;
 * declaring the domain with that QEMU's pid makes the connection the domain's. */
static void test_control_declared_pid_claims_an_earlier_connection(void **state)
{
	struct fixture *f = *state;
	struct egd_guest *unknown = registry_guest(&f->reg, "unknown", now_usec());
	struct client *c;
	int sp[2];

	assert_non_null(unknown);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
	assert_int_equal(client_new(&f->set, sp[0], unknown, false, now_usec(), &c), 0);
	c->peer_pid = 4242;
	assert_string_equal(call(f, DECLARE "pid=4242\n", -1), "ok\n");
	assert_non_null(c->guest);
	assert_string_equal(c->guest->name, "vm1");
	assert_ptr_equal(c->guest, registry_by_uuid(&f->reg, UUID));
	assert_true(c->qemu);
	/* Another pid's connection stays where it was. */
	c->peer_pid = 4343;
	assert_string_equal(call(f, "op=domain\nname=vm2\nuuid=" UUID2 "\npid=4444\n", -1), "ok\n");
	assert_string_equal(c->guest->name, "vm1");
	close(sp[1]);
}

static void test_control_forget_drops_the_guest(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(call(f, DECLARE, -1), "ok\n");
	assert_string_equal(call(f, "op=forget\nuuid=" UUID "\n", -1), "ok\n");
	assert_null(registry_by_uuid(&f->reg, UUID));
}

static void test_control_refuses_other_uids(void **state)
{
	struct fixture *f = *state;
	pid_t pid, r = 0;
	int status;

	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char buf[16];
		ssize_t n;
		int fd;

		strcpy(sa.sun_path, f->path);
		if (setuid(65534) < 0)
			_exit(2);
		fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(3);
		/* The distributor may close before or after our request. */
		if (send(fd, DECLARE, strlen(DECLARE), MSG_NOSIGNAL) < 0)
			_exit(errno == EPIPE || errno == ECONNRESET ? 0 : 5);
		/* Closed without a reply (a reset: our request was left unread). */
		n = recv(fd, buf, sizeof(buf), 0);
		_exit(n == 0 || (n < 0 && errno == ECONNRESET) ? 0 : 4);
	}
	for (int i = 0; i < 40 && (r = waitpid(pid, &status, WNOHANG)) == 0; i++)
		pump(f);
	assert_int_equal(r, pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_null(registry_by_uuid(&f->reg, UUID));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_control_declare_and_update_rates,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_control_refusals_name_the_cause,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_control_one_adopted_connection_per_domain,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_control_declared_pid_claims_an_earlier_connection,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_control_forget_drops_the_guest,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_control_refuses_other_uids,
						fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
