/*
 * virtseed-libvirt: tells the distributor which libvirt domains run, with
 * their name, UUID, class, rates and QEMU pid, and connects to the egd
 * sockets QEMU listens on (bind mode) to hand the connections over, also for
 * devices attached to a running domain.  One
 * thread in libvirt's default event loop; a read-only libvirt connection;
 * a 1 s tick reconnects to libvirtd and to the distributor and then
 * resynchronises every running domain, so restarts of either are absorbed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "domains.h"
#include "attach.h"
#include "log.h"
#include "macro.h"
#include "notify.h"

#define TICK_MSEC 1000
#define PID_FILE_MAX 32

struct svc {
	const char *uri, *run_dir;
	virConnectPtr conn;
	bool conn_lost, warned_conn;
	int cb_life, cb_meta, cb_add, cb_del, ctl_watch;
	struct domains doms;
	bool stop;
};

static void help(void)
{
	printf("Usage: virtseed-libvirt [OPTIONS]\n"
	       "       virtseed-libvirt attach|detach DOMAIN [--live] [--config]\n"
	       "                        [--mode bind|connect] [--path SOCKET] [--wait SECONDS]\n"
	       "                        [--uri URI]\n\n"
	       "Hand libvirt domains' egd RNG sockets and descriptions to virtseed-egd.\n\n"
	       "  -c --uri URI          libvirt connection (default " DEFAULT_URI ")\n"
	       "  -C --control PATH     the distributor's control socket (default "
	       DEFAULT_CONTROL ")\n"
	       "  -r --run-dir DIR      libvirt's QEMU state directory with NAME.pid (default "
	       DEFAULT_RUN_DIR ")\n"
	       "  -v --log-level LEVEL  err, warning, notice, info (default), debug\n"
	       "  -h --help             this text\n");
}

static void on_libvirt_error(void *data, virErrorPtr e)
{
	log_debug("libvirt: %s", e && e->message ? e->message : "?");
}

/* getopt_long() returned '?' or ':' (opterr = 0): one line naming the option. */
int args_error(int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return log_errno(-EINVAL, "Option '%s' needs a value.", arg);
	if (optopt && strncmp(arg, "--", 2) != 0)
		return log_errno(-EINVAL, "Unknown option '-%c'.", optopt);
	return log_errno(-EINVAL, "Unknown option '%.*s'.", (int)strcspn(arg, "="), arg);
}

int args_log_level(const char *v)
{
	int r = log_parse_level(v);

	if (r < 0)
		return log_errno(-EINVAL, "Invalid value '%s' for --log-level: allowed err, "
				 "warning, notice, info, debug.", v);
	log_max_level = r;
	return 0;
}

/* libvirt's own error printing goes to debug: we log once where we decide. */
void libvirt_quiet(void)
{
	virSetErrorFunc(NULL, on_libvirt_error);
}

static pid_t read_pid(const struct svc *s, const char *name)
{
	char path[512], buf[PID_FILE_MAX + 1];
	long pid;
	char *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.pid", s->run_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = read(fd, buf, PID_FILE_MAX);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	if (pid <= 0 || pid > INT32_MAX || (*end && *end != '\n') ||
	    (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return 0;
	return (pid_t)pid;
}

static void sync_domain(struct svc *s, virDomainPtr dom)
{
	_cleanup_(freep) char *xml = virDomainGetXMLDesc(dom, 0);
	char err[DOMXML_MAX_ERROR + 64];
	struct domxml x;

	if (!xml) {
		log_warning("Cannot read the XML of domain '%s', ignoring it.",
			    virDomainGetName(dom));
		return;
	}
	if (domxml_parse(xml, strlen(xml), &x, err, sizeof(err)) < 0) {
		log_warning("Ignoring a domain: %s.", err);
		return;
	}
	domains_update(&s->doms, &x, read_pid(s, x.name));
}

static void ctl_watch_sync(struct svc *s);

static void resync(struct svc *s)
{
	virDomainPtr *list = NULL;
	int n = virConnectListAllDomains(s->conn, &list, VIR_CONNECT_LIST_DOMAINS_ACTIVE);

	if (n < 0) {
		log_warning("Cannot list libvirt's domains; retrying.");
		return;
	}
	domains_begin_sync(&s->doms);
	for (int i = 0; i < n; i++) {
		sync_domain(s, list[i]);
		virDomainFree(list[i]);
	}
	free(list);
	domains_end_sync(&s->doms);
	ctl_watch_sync(s);
}

static int on_lifecycle(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct svc *s = opaque;
	char uuid[VIR_UUID_STRING_BUFLEN];

	if (event == VIR_DOMAIN_EVENT_STARTED) {
		sync_domain(s, dom);
	} else if (event == VIR_DOMAIN_EVENT_STOPPED && virDomainGetUUIDString(dom, uuid) == 0) {
		domains_forget(&s->doms, uuid);
	}
	ctl_watch_sync(s);
	return 0;
}

static void on_metadata(virConnectPtr c, virDomainPtr dom, int type, const char *nsuri,
			void *opaque)
{
	struct svc *s = opaque;

	if (type != VIR_DOMAIN_METADATA_ELEMENT || !nsuri || strcmp(nsuri, DOMXML_NS))
		return;
	if (virDomainIsActive(dom) == 1)
		sync_domain(s, dom);
	ctl_watch_sync(s);
}

/* A device attached or detached live: the domain's bind socket may have come or gone. */
static void on_device(virConnectPtr c, virDomainPtr dom, const char *alias, void *opaque)
{
	struct svc *s = opaque;

	if (virDomainIsActive(dom) == 1)
		sync_domain(s, dom);
	ctl_watch_sync(s);
}

static void on_close(virConnectPtr c, int reason, void *opaque)
{
	struct svc *s = opaque;

	s->conn_lost = true;
}

static void libvirt_close(struct svc *s)
{
	if (!s->conn)
		return;
	(void)virConnectDomainEventDeregisterAny(s->conn, s->cb_life);
	(void)virConnectDomainEventDeregisterAny(s->conn, s->cb_meta);
	(void)virConnectDomainEventDeregisterAny(s->conn, s->cb_add);
	(void)virConnectDomainEventDeregisterAny(s->conn, s->cb_del);
	(void)virConnectUnregisterCloseCallback(s->conn, on_close);
	(void)virConnectClose(s->conn);
	s->conn = NULL;
}

static int libvirt_open(struct svc *s)
{
	s->conn = virConnectOpenReadOnly(s->uri);
	if (!s->conn)
		return -ECONNREFUSED;
	s->conn_lost = false;
	(void)virConnectRegisterCloseCallback(s->conn, on_close, s, NULL);
	s->cb_life = virConnectDomainEventRegisterAny(s->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
						      VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
						      s, NULL);
	s->cb_meta = virConnectDomainEventRegisterAny(
		s->conn, NULL, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
		VIR_DOMAIN_EVENT_CALLBACK(on_metadata), s, NULL);
	s->cb_add = virConnectDomainEventRegisterAny(s->conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
						     VIR_DOMAIN_EVENT_CALLBACK(on_device), s, NULL);
	s->cb_del = virConnectDomainEventRegisterAny(s->conn, NULL,
						     VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
						     VIR_DOMAIN_EVENT_CALLBACK(on_device), s, NULL);
	if (s->cb_life < 0 || s->cb_meta < 0 || s->cb_add < 0 || s->cb_del < 0) {
		libvirt_close(s);
		return -EIO;
	}
	return 0;
}

static void on_ctl(int watch, int fd, int events, void *opaque)
{
	struct svc *s = opaque;
	char buf[CTL_MAX_MSG];

	/* Replies are read by ctl_call(); anything else here is the end of the connection. */
	if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN)
		return;
	domains_ctl_lost(&s->doms);
	ctl_watch_sync(s);
}

static void ctl_watch_sync(struct svc *s)
{
	if (s->doms.ctl_fd < 0 && s->ctl_watch >= 0) {
		(void)virEventRemoveHandle(s->ctl_watch);
		s->ctl_watch = -1;
	} else if (s->doms.ctl_fd >= 0 && s->ctl_watch < 0) {
		s->ctl_watch = virEventAddHandle(s->doms.ctl_fd, VIR_EVENT_HANDLE_READABLE,
						 on_ctl, s, NULL);
	}
}

static void tick(struct svc *s)
{
	bool changed = false;

	if (s->conn_lost) {
		log_warning("Lost the connection to libvirt ('%s'); reconnecting.", s->uri);
		libvirt_close(s);
	}
	if (!s->conn) {
		changed = libvirt_open(s) >= 0;
		if (changed)
			log_info("Connected to libvirt at '%s' (read-only).", s->uri);
		else if (!s->warned_conn)
			log_warning("Cannot connect to libvirt at '%s' yet; retrying.", s->uri);
		s->warned_conn = !changed;
	}
	if (s->doms.ctl_fd < 0 && domains_ctl_open(&s->doms) >= 0)
		changed = true;
	ctl_watch_sync(s);
	if (changed && s->conn)
		resync(s);
	else
		(void)domains_flush(&s->doms);
	ctl_watch_sync(s);
}

static void on_tick(int timer, void *opaque)
{
	tick(opaque);
}

static void on_signal(int watch, int fd, int events, void *opaque)
{
	struct signalfd_siginfo si;
	struct svc *s = opaque;

	while (read(fd, &si, sizeof(si)) == sizeof(si))
		s->stop = true;
}

static int parse_args(int argc, char **argv, struct svc *s)
{
	static const struct option opts[] = {
		{ "uri", required_argument, NULL, 'c' },
		{ "control", required_argument, NULL, 'C' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:C:r:v:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'c': s->uri = optarg; break;
		case 'C': s->doms.ctl_path = optarg; break;
		case 'r': s->run_dir = optarg; break;
		case 'v':
			if (args_log_level(optarg) < 0)
				return -EINVAL;
			break;
		case 'h': help(); exit(EXIT_SUCCESS);
		default: return args_error(c, argv);
		}
	}
	if (optind < argc)
		return log_errno(-EINVAL, "Unexpected argument '%s' (attach and detach come first).",
				 argv[optind]);
	return 0;
}

static int setup(struct svc *s)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return log_errno(-errno, "Failed to block signals: %m");
	(void)signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return log_errno(-errno, "Failed to create a signalfd: %m");
	libvirt_quiet();
	if (virEventRegisterDefaultImpl() < 0 ||
	    virEventAddHandle(fd, VIR_EVENT_HANDLE_READABLE, on_signal, s, NULL) < 0 ||
	    virEventAddTimeout(TICK_MSEC, on_tick, s, NULL) < 0)
		return log_errno(-EIO, "Failed to set up libvirt's event loop.");
	return 0;
}

int main(int argc, char **argv)
{
	struct svc s = { .uri = DEFAULT_URI, .run_dir = DEFAULT_RUN_DIR, .ctl_watch = -1,
			 .doms = { .ctl_path = DEFAULT_CONTROL, .ctl_fd = -EBADF } };

	if (argc > 1 && (strcmp(argv[1], "attach") == 0 || strcmp(argv[1], "detach") == 0))
		return attach_main(argc - 1, argv + 1, argv[1][0] == 'd');
	if (parse_args(argc, argv, &s) < 0 || setup(&s) < 0)
		return EXIT_FAILURE;
	tick(&s);
	log_info("Watching libvirt at '%s' for the distributor at '%s'.", s.uri, s.doms.ctl_path);
	(void)notify_send("READY=1\nSTATUS=Watching libvirt's domains");
	while (!s.stop)
		if (virEventRunDefaultImpl() < 0)
			break;
	(void)notify_send("STOPPING=1");
	libvirt_close(&s);
	domains_done(&s.doms);
	return EXIT_SUCCESS;
}
