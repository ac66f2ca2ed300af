/*
 * virtseed-libvirt's hand-over (libvirt/domains.c) against a scripted
 * distributor: a SOCK_SEQPACKET socketpair whose replies are queued before
 * each call, and a real listening unix socket standing for QEMU's bind
 * socket.  Asserts the exact requests sent, the fd handed over, and what is
 * (not) sent again after changes, refusals and a lost control connection.
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
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "domains.h"
#include "macro.h"

#define UUID "727e378c-abbc-4506-abea-97862a503b2c"
#define DECL "op=domain\nname=vm1\nuuid=" UUID "\nclass=gold\nrate=2048\npid=42\n"
#define ADOPT "op=adopt\nuuid=" UUID "\n"

struct fixture {
	char dir[64];
	struct domains d;
	struct domxml x;
	int distributor;        /* the scripted distributor's end */
	int qemu;               /* listening: QEMU's bind socket */
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sp[2];

	strcpy(f->dir, "/tmp/test-libvirt-domains.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/vm1.sock", f->dir);
	f->qemu = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(f->qemu, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->qemu, 4), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	f->d = (struct domains){ .ctl_fd = sp[0], .ctl_path = "/nonexistent" };
	f->distributor = sp[1];
	f->x = (struct domxml){ .name = "vm1", .uuid = UUID, .class = "gold", .rate = 2048,
				.n_rng = 1, .rng = { { .bind = true } } };
	strcpy(f->x.rng[0].path, sa.sun_path);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	domains_done(&f->d);
	close(f->distributor);
	close(f->qemu);
	snprintf(path, sizeof(path), "%s/vm1.sock", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void reply(struct fixture *f, const char *text)
{
	assert_int_equal(send(f->distributor, text, strlen(text), 0), (ssize_t)strlen(text));
}

/* The next request, exactly; *ret_fd gets the attached fd (or -1). */
static void expect(struct fixture *f, const char *text, int *ret_fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctrl;
	char buf[CTL_MAX_MSG + 1];
	struct iovec iov = { .iov_base = buf, .iov_len = CTL_MAX_MSG };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf,
			     .msg_controllen = sizeof(ctrl.buf) };
	ssize_t n = recvmsg(f->distributor, &mh, MSG_DONTWAIT);
	int fd = -1;

	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, text);
	if (CMSG_FIRSTHDR(&mh))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	if (ret_fd)
		*ret_fd = fd;
	else
		assert_int_equal(fd, -1);
}

static void expect_nothing(struct fixture *f)
{
	char buf[16];

	assert_int_equal(recv(f->distributor, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* The handed fd is connected to QEMU's listening socket: QEMU can accept it. */
static void expect_handed(struct fixture *f)
{
	int fd, peer;

	expect(f, ADOPT, &fd);
	assert_true(fd >= 0);
	peer = accept(f->qemu, NULL, NULL);
	assert_true(peer >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	close(peer);
}

static void test_domains_declare_then_hand_over(void **state)
{
	struct fixture *f = *state;

	reply(f, "ok\n");
	reply(f, "ok\n");
	domains_update(&f->d, &f->x, 42);
	expect(f, DECL, NULL);
	expect_handed(f);
	expect_nothing(f);
	domains_update(&f->d, &f->x, 42);       /* the same description: nothing */
	expect_nothing(f);
}

static void test_domains_change_declares_again_only(void **state)
{
	struct fixture *f = *state;

	reply(f, "ok\n");
	reply(f, "ok\n");
	domains_update(&f->d, &f->x, 42);
	expect(f, DECL, NULL);
	expect_handed(f);
	f->x.rate = 6144;
	reply(f, "ok\n");
	domains_update(&f->d, &f->x, 42);
	expect(f, "op=domain\nname=vm1\nuuid=" UUID "\nclass=gold\nrate=6144\npid=42\n", NULL);
	expect_nothing(f);                      /* the connection stays */
}

static void test_domains_already_connected_is_done(void **state)
{
	struct fixture *f = *state;
	int fd;

	reply(f, "ok\n");
	reply(f, "error=already connected\n");
	domains_update(&f->d, &f->x, 42);
	expect(f, DECL, NULL);
	expect(f, ADOPT, &fd);
	close(fd);
	assert_true(f->d.v[0].adopted);
	assert_false(domains_flush(&f->d));
	expect_nothing(f);
}

static void test_domains_refused_until_changed(void **state)
{
	struct fixture *f = *state;

	reply(f, "error=class: not defined in virtseed-egd.conf\n");
	domains_update(&f->d, &f->x, 42);
	expect(f, DECL, NULL);
	assert_false(domains_flush(&f->d));     /* no retry, no hand-over */
	expect_nothing(f);
	strcpy(f->x.class, "");
	reply(f, "ok\n");
	reply(f, "ok\n");
	domains_update(&f->d, &f->x, 42);
	expect(f, "op=domain\nname=vm1\nuuid=" UUID "\nrate=2048\npid=42\n", NULL);
	expect_handed(f);
}

static void test_domains_lost_distributor_gets_everything_again(void **state)
{
	struct fixture *f = *state;
	int sp[2];

	reply(f, "ok\n");
	reply(f, "ok\n");
	domains_update(&f->d, &f->x, 42);
	expect(f, DECL, NULL);
	expect_handed(f);
	close(f->distributor);                  /* the distributor restarts */
	f->x.rate = 4096;
	domains_update(&f->d, &f->x, 42);       /* fails: the connection is dropped */
	assert_int_equal(f->d.ctl_fd, -EBADF);
	assert_true(domains_flush(&f->d));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	f->d.ctl_fd = sp[0];
	f->distributor = sp[1];
	reply(f, "ok\n");
	reply(f, "ok\n");
	assert_false(domains_flush(&f->d));
	expect(f, "op=domain\nname=vm1\nuuid=" UUID "\nclass=gold\nrate=4096\npid=42\n", NULL);
	expect_handed(f);
}

static void test_domains_stopped_and_vanished_are_forgotten(void **state)
{
	struct fixture *f = *state;
	struct domxml y = { .name = "vm2", .uuid = "827e378c-abbc-4506-abea-97862a503b2c" };

	reply(f, "ok\n");
	reply(f, "ok\n");
	reply(f, "ok\n");
	domains_update(&f->d, &f->x, 42);
	domains_update(&f->d, &y, 0);
	expect(f, DECL, NULL);
	expect_handed(f);
	expect(f, "op=domain\nname=vm2\nuuid=827e378c-abbc-4506-abea-97862a503b2c\n", NULL);
	reply(f, "ok\n");
	domains_forget(&f->d, UUID);
	expect(f, "op=forget\nuuid=" UUID "\n", NULL);
	assert_int_equal(f->d.n, 1);
	reply(f, "ok\n");
	domains_begin_sync(&f->d);              /* libvirt lists nothing after its restart */
	domains_end_sync(&f->d);
	expect(f, "op=forget\nuuid=827e378c-abbc-4506-abea-97862a503b2c\n", NULL);
	assert_int_equal(f->d.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domains_declare_then_hand_over,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_domains_change_declares_again_only,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_domains_already_connected_is_done,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_domains_refused_until_changed,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_domains_lost_distributor_gets_everything_again,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_domains_stopped_and_vanished_are_forgotten,
						fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
