/*
 * virtseedd: keeps the kernel's RNG seeded.  It sleeps in poll() on the
 * kernel (/dev/random POLLOUT: "I want entropy"; POLLIN: "the CRNG became
 * ready"), on its signals and on the fds of quarantined sources (a stalled
 * device that answers again).  The only timed wakeups are the configured
 * reseed cadence, a quarantined source's retry and the systemd watchdog.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/signalfd.h>

#include "agent.h"
#include "log.h"
#include "notify.h"
#include "privs.h"
#include "sandbox.h"

/* What the loop needs after setup: I/O, the kernel ioctls, threads, time, exit. */
static const char *const allowed_syscalls[] = {
	"read", "write", "writev", "poll", "ppoll", "ioctl", "openat", "close", "fstat",
	"newfstatat", "lseek", "getrandom", "clock_gettime", "clock_nanosleep", "nanosleep",
	"rt_sigprocmask", "rt_sigreturn", "signalfd4", "socket", "connect", "sendto",
	"recvfrom", "sendmsg", "getsockopt", "fcntl", "clone", "clone3", "mmap", "munmap",
	"mprotect", "madvise", "brk", "set_robust_list", "rseq", "futex", "tgkill", "getpid",
	"gettid", "exit", "exit_group", "sched_yield", "prctl", "getsockname", "pipe2",
};

#define MAX_POLLFDS (3 + SEEDER_MAX_SOURCES) /* + the VM fork watch (agent/fork.c), last */

struct loop {
	struct agent *a;
	int sig_fd;
	uint64_t deadline_usec;  /* --until-ready */
	uint64_t watchdog_usec;  /* half the systemd watchdog period, 0 = off */
	uint64_t last_watchdog_usec;
	bool ready_notified;
	bool done;
	int exit_code;
};

static void notify(const char *msg)
{
	(void)notify_send(msg);
}

static void notify_status(struct loop *l)
{
	char line[512], msg[600];

	agent_status_line(l->a, line, sizeof(line));
	snprintf(msg, sizeof(msg), "STATUS=%s", line);
	notify(msg);
}

static int signals_open(void)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

static void on_signal(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			agent_log_counters(l->a, "counters");
		} else if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: configuration is read at start only, ignoring.");
		} else {
			l->done = true;
			l->exit_code = EXIT_SUCCESS;
		}
	}
}

static void on_satisfied(struct loop *l, const struct kernel_state *st)
{
	uint64_t ms = (now_usec() - l->a->start_usec) / USEC_PER_MSEC;
	char line[512];

	if (l->ready_notified)
		return;
	l->ready_notified = true;
	agent_status_line(l->a, line, sizeof(line));
	log_notice("virtseed: seeded: %s after %llu ms, entropy_avail %u/%u: %s",
		   st->ready ? "crng ready" : "pool filled", (unsigned long long)ms,
		   st->entropy_avail, st->poolsize, line);
	notify("READY=1");
	notify_status(l);
}

/* Feed the kernel; returns whether its target is met now. */
static bool fill(struct loop *l, struct kernel_state *st)
{
	struct agent *a = l->a;
	int r = seeder_fill(&a->seeder, now_usec());

	if (r < 0)
		log_warning_errno(r, "Failed to add entropy to the kernel: %m");
	if (pool_ops.state(&a->pool, st) < 0)
		return false;
	if (!seeder_satisfied(&a->seeder, st))
		return false;
	if (a->mode != MODE_ONCE)
		on_satisfied(l, st);
	return true;
}

static int reseed(struct loop *l)
{
	int r = seeder_reseed(&l->a->seeder, now_usec());

	if (r == -ENODATA)
		log_warning("Reseed skipped: no source gave healthy bytes.");
	else if (r < 0)
		log_warning_errno(r, "Failed to reseed the CRNG: %m");
	else
		log_debug("Reseeded the CRNG.");
	notify_status(l);
	return r;
}

static size_t build_pollfds(struct loop *l, const struct seeder_plan *plan, struct pollfd *pfd)
{
	const struct seeder *sd = &l->a->seeder;
	size_t n = 0;

	pfd[n++] = (struct pollfd){ .fd = l->sig_fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){
		.fd = plan->pollout || plan->pollin ? l->a->pool.random_fd : -1,
		.events = (short)((plan->pollout ? POLLOUT : 0) | (plan->pollin ? POLLIN : 0)),
	};
	/* A quarantined source whose fd turns readable has answered again. */
	for (size_t i = 0; i < sd->n_sources; i++) {
		const struct source *s = sd->sources[i];

		pfd[n++] = (struct pollfd){
			.fd = s->state == SOURCE_QUARANTINED ? s->fd : -1,
			.events = POLLIN,
		};
	}
	pfd[n++] = agent_fork_pollfd(l->a);
	return n;
}

static int poll_timeout(const struct loop *l, uint64_t wake_usec, uint64_t now)
{
	uint64_t t = wake_usec;

	if (l->deadline_usec && (t == 0 || l->deadline_usec < t))
		t = l->deadline_usec;
	if (l->watchdog_usec) {
		uint64_t w = l->last_watchdog_usec + l->watchdog_usec;

		if (t == 0 || w < t)
			t = w;
	}
	if (t == 0)
		return -1;
	return t <= now ? 0 : (int)MIN((t - now + 999) / 1000, (uint64_t)INT32_MAX);
}

static void on_timers(struct loop *l, const struct seeder_plan *plan, uint64_t now)
{
	struct kernel_state st;

	if (l->watchdog_usec && now >= l->last_watchdog_usec + l->watchdog_usec) {
		notify("WATCHDOG=1");
		l->last_watchdog_usec = now;
	}
	if (plan->wake_usec && now >= plan->wake_usec) {
		if (pool_ops.state(&l->a->pool, &st) == 0 && seeder_satisfied(&l->a->seeder, &st) &&
		    l->a->seeder.gen == KERNEL_GEN_NEW)
			(void)reseed(l);
		else
			(void)fill(l, &st);
	}
	if (l->deadline_usec && now >= l->deadline_usec) {
		log_error("virtseed: not seeded: no source made the CRNG ready within %u s",
			  l->a->config.timeout_sec);
		l->done = true;
		l->exit_code = EXIT_FAILURE;
	}
}

static void on_events(struct loop *l, const struct pollfd *pfd, size_t n)
{
	struct kernel_state st;

	if (agent_fork_on_wakeup(l->a, &pfd[--n]) > 0)
		notify_status(l);
	if (pfd[0].revents)
		on_signal(l);
	for (size_t i = 2; i < n; i++)
		if (pfd[i].revents)
			source_resume(l->a->seeder.sources[i - 2], now_usec());
	if (pfd[1].revents & POLLOUT) {
		(void)fill(l, &st);
	} else if (pfd[1].revents & POLLIN) {
		if (pool_ops.state(&l->a->pool, &st) == 0 && seeder_satisfied(&l->a->seeder, &st))
			on_satisfied(l, &st);
	}
}

static int run(struct loop *l)
{
	struct kernel_state st;

	if (fill(l, &st) && l->a->mode == MODE_UNTIL_READY)
		return EXIT_SUCCESS;
	while (!l->done) {
		struct pollfd pfd[MAX_POLLFDS];
		struct seeder_plan plan;
		uint64_t now = now_usec();
		size_t n;

		if (pool_ops.state(&l->a->pool, &st) < 0)
			return EXIT_FAILURE;
		if (l->a->mode == MODE_UNTIL_READY && seeder_satisfied(&l->a->seeder, &st)) {
			on_satisfied(l, &st);
			return EXIT_SUCCESS;
		}
		seeder_plan(&l->a->seeder, &st, now, &plan);
		n = build_pollfds(l, &plan, pfd);
		if (poll(pfd, n, poll_timeout(l, plan.wake_usec, now)) < 0 && errno != EINTR)
			return log_errno(-errno, "poll() failed: %m"), EXIT_FAILURE;
		on_events(l, pfd, n);
		on_timers(l, &plan, now_usec());
	}
	return l->exit_code;
}

/* Fills until the target is met; a fill that ran out of time (a slow start-up test) is
 * followed by another, as long as some source may still give and `timeout` allows. */
static bool once_fill(struct loop *l, struct kernel_state *st)
{
	struct agent *a = l->a;
	uint64_t end = a->start_usec + a->config.timeout_sec * USEC_PER_SEC;

	for (;;) {
		uint64_t before = a->seeder.bits_credited;

		if (fill(l, st))
			return true;
		if (now_usec() >= end || (a->seeder.bits_credited == before && !a->seeder.more))
			return false;
	}
}

static int run_once(struct agent *a)
{
	struct loop l = { .a = a };
	struct kernel_state st;
	bool ok = once_fill(&l, &st);

	/* A ready kernel still gets fresh bytes, used at once through RNDRESEEDCRNG. */
	if (ok && a->seeder.gen == KERNEL_GEN_NEW)
		ok = reseed(&l) == 0;
	agent_log_counters(a, ok ? "once" : "once, target not reached");
	if (!ok)
		log_error("virtseed: not seeded: no source could feed the kernel");
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

static void loop_init(struct loop *l, struct agent *a)
{
	*l = (struct loop){ .a = a, .sig_fd = -1 };
	if (a->mode == MODE_UNTIL_READY)
		l->deadline_usec = a->start_usec + a->config.timeout_sec * USEC_PER_SEC;
	if (a->mode == MODE_DAEMON) {
		l->watchdog_usec = notify_watchdog_usec() / 2;
		l->last_watchdog_usec = now_usec();
	}
}

static int run_loop(struct agent *a)
{
	struct loop l;
	int r;

	loop_init(&l, a);
	l.sig_fd = signals_open();
	if (l.sig_fd < 0)
		return log_errno(l.sig_fd, "Failed to set up signals: %m"), EXIT_FAILURE;
	agent_fork_start(a);
	r = run(&l);
	if (a->mode == MODE_DAEMON)
		notify("STOPPING=1");
	agent_log_counters(a, "exiting");
	close(l.sig_fd);
	return r;
}

static int drop_privileges(struct agent *a)
{
	const int keep[] = { CAP_SYS_ADMIN, CAP_SYSLOG };
	int r = privs_drop_keep(a->config.user, keep, agent_fork_needs_syslog(a) ? 2 : 1);

	if (r < 0)
		return log_errno(r, "Failed to drop privileges: %m");
	r = sandbox_allow_syscalls(allowed_syscalls, ELEMENTSOF(allowed_syscalls));
	if (r < 0)
		return log_errno(r, "Failed to install the seccomp filter: %m");
	return 0;
}

int main(int argc, char **argv)
{
	static struct agent a;
	int r;

	(void)machine_read("", &a.machine);
	r = agent_config_load(&a.config, &a.machine, argc, argv, &a.mode);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	log_max_level = a.config.log_level;
	if (a.config.disabled) {
		log_notice("virtseed: disabled by rd.virtseed=0 on the kernel command line.");
		return EXIT_SUCCESS;
	}
	if (a.mode == MODE_STATUS)
		return agent_print_status(&a) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	if (agent_setup(&a) < 0 || drop_privileges(&a) < 0)
		return EXIT_FAILURE;
	if (a.seeder.n_sources == 0)
		log_warning("No source available: waiting for the kernel to seed itself.");
	if (a.mode == MODE_ONCE)
		return run_once(&a);
	return run_loop(&a);
}
