/*
 * virtseed-libvirt attach|detach DOMAIN: add or remove an RNG device served
 * by virtseed through libvirt's API (like virsh attach-device), live and/or
 * persistently, and print what was done.  Bind mode (default): libvirt
 * (or QEMU, for a live attach: the directory belongs to QEMU_USER) creates
 * DEFAULT_BIND_DIR/DOMAIN.sock and virtseed-libvirt connects to it;
 * connect mode: QEMU connects to the distributor's shared socket.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "domxml.h"
#include "attach.h"
#include "conf-value.h"
#include "log.h"
#include "macro.h"

#define DETACH_WAIT_SEC 10          /* default --wait: the guest releasing a live device */
#define DETACH_WAIT_MAX 600

struct attach_args {
	const char *uri, *domain, *path;
	bool live, config, connect, detach;
	unsigned wait_sec;
	char path_buf[DOMXML_MAX_PATH];
};

static int parse(int argc, char **argv, struct attach_args *a)
{
	static const struct option opts[] = {
		{ "live", no_argument, NULL, 'l' },
		{ "config", no_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "path", required_argument, NULL, 's' },
		{ "wait", required_argument, NULL, 'w' },
		{ "uri", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'v' },
		{}
	};
	char xml[512];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":lpm:s:w:c:v:", opts, NULL)) >= 0) {
		switch (c) {
		case 'l': a->live = true; break;
		case 'p': a->config = true; break;
		case 's': a->path = optarg; break;
		case 'c': a->uri = optarg; break;
		case 'm':
			if (strcmp(optarg, "bind") && strcmp(optarg, "connect"))
				return log_errno(-EINVAL, "Invalid value '%s' for --mode: allowed "
						 "bind or connect.", optarg);
			a->connect = optarg[0] == 'c';
			break;
		case 'w':
			if (!a->detach)
				return log_errno(-EINVAL, "Option '--wait' is for detach only.");
			if (conf_parse_uint(optarg, 0, DETACH_WAIT_MAX, &a->wait_sec) < 0)
				return log_errno(-EINVAL, "Invalid value '%s' for --wait: allowed "
						 "seconds from 0 to %d.", optarg, DETACH_WAIT_MAX);
			break;
		case 'v':
			if (args_log_level(optarg) < 0)
				return -EINVAL;
			break;
		default: return args_error(c, argv);
		}
	}
	if (optind + 1 != argc)
		return log_errno(-EINVAL, "Expected one DOMAIN argument, got %d.", argc - optind);
	if (a->path && domxml_rng_element(xml, sizeof(xml), true, a->path) < 0)
		return log_errno(-EINVAL, "Invalid value '%s' for --path: allowed an absolute "
				 "path of < %zu bytes without quotes, < > or &.", a->path,
				 DOMXML_MAX_PATH);
	a->domain = argv[optind];
	if (!a->path && a->connect)
		a->path = DEFAULT_SHARED_SOCKET;
	if (!a->path) {
		snprintf(a->path_buf, sizeof(a->path_buf), "%s/%s.sock", DEFAULT_BIND_DIR,
			 a->domain);
		a->path = a->path_buf;
	}
	return 0;
}

/* VIR_DOMAIN_AFFECT_*: neither flag = live if running, else persistent (as virsh). */
static unsigned flags_of(const struct attach_args *a, virDomainPtr dom)
{
	unsigned f = (a->live ? VIR_DOMAIN_AFFECT_LIVE : 0) |
		     (a->config ? VIR_DOMAIN_AFFECT_CONFIG : 0);

	if (!f)
		f = virDomainIsActive(dom) == 1 ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
	return f;
}

static const char *flags_text(unsigned f)
{
	return (f & VIR_DOMAIN_AFFECT_LIVE) && (f & VIR_DOMAIN_AFFECT_CONFIG) ?
	       "live and persistent" : (f & VIR_DOMAIN_AFFECT_LIVE) ? "live" : "persistent";
}

static int make_bind_dir(const char *path)
{
	char dir[DOMXML_MAX_PATH];
	struct passwd *pw;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (strcmp(dir, DEFAULT_BIND_DIR) != 0)
		return 0;
	(void)mkdir(LOCALSTATEDIR "/lib/virtseed", 0755);
	if (mkdir(dir, 0755) < 0) {
		if (errno == EEXIST)
			return 0;
		return log_errno(-errno, "Failed to create '%s': %m", dir);
	}
	pw = getpwnam(QEMU_USER);
	if (pw && chown(dir, pw->pw_uid, pw->pw_gid) < 0)
		return log_errno(-errno, "Failed to give '%s' to %s: %m", dir, QEMU_USER);
	return 0;
}

static int attach(virDomainPtr dom, const struct attach_args *a, unsigned f)
{
	char xml[512];

	if (domxml_rng_element(xml, sizeof(xml), !a->connect, a->path) < 0)
		return log_errno(-EINVAL, "Domain name '%s' makes the socket path too long.",
				 a->domain);
	if (!a->connect && make_bind_dir(a->path) < 0)
		return -EIO;
	if (virDomainAttachDeviceFlags(dom, xml, f) < 0)
		return log_errno(-EIO, "Failed to attach to '%s': %s", a->domain,
				 virGetLastErrorMessage());
	printf("Attached to '%s' (%s): %s\n", a->domain, flags_text(f), xml);
	return 0;
}

/* libvirt gives up waiting after 5 s; a guest under TCG or load (q35: ACPI hotplug)
 * may take longer to let go: poll the live XML for --wait seconds more. */
static bool still_attached(virDomainPtr dom, const char *path, unsigned wait_sec)
{
	for (unsigned i = 0; i <= wait_sec * 10; i++) {
		_cleanup_(freep) char *xml = virDomainGetXMLDesc(dom, 0);
		_cleanup_(freep) char *element = NULL;

		if (!xml || domxml_find_rng(xml, strlen(xml), path, &element) == -ENOENT)
			return false;
		if (i < wait_sec * 10)
			(void)usleep(100 * 1000);
	}
	return true;
}

/* Each of live and persistent: the element is looked up in that definition. */
static int detach_one(virDomainPtr dom, const struct attach_args *a, unsigned f)
{
	_cleanup_(freep) char *xml = virDomainGetXMLDesc(dom, f == VIR_DOMAIN_AFFECT_CONFIG ?
							 VIR_DOMAIN_XML_INACTIVE : 0);
	_cleanup_(freep) char *element = NULL;

	if (!xml)
		return log_errno(-EIO, "Failed to read the XML of '%s': %s", a->domain,
				 virGetLastErrorMessage());
	if (domxml_find_rng(xml, strlen(xml), a->path, &element) < 0)
		return log_errno(-ENOENT, "Domain '%s' has no RNG device on '%s' (%s).",
				 a->domain, a->path, flags_text(f));
	if (virDomainDetachDeviceFlags(dom, element, f) < 0)
		return log_errno(-EIO, "Failed to detach from '%s': %s", a->domain,
				 virGetLastErrorMessage());
	if (f == VIR_DOMAIN_AFFECT_LIVE && still_attached(dom, a->path, a->wait_sec))
		printf("Asked '%s' to release the RNG device on '%s' (live); the guest has not "
		       "yet.\n", a->domain, a->path);
	else
		printf("Detached from '%s' (%s): the RNG device on '%s'\n", a->domain,
		       flags_text(f), a->path);
	return 0;
}

static int detach(virDomainPtr dom, const struct attach_args *a, unsigned f)
{
	int r = 0;

	if (f & VIR_DOMAIN_AFFECT_LIVE)
		r = detach_one(dom, a, VIR_DOMAIN_AFFECT_LIVE);
	if (r >= 0 && (f & VIR_DOMAIN_AFFECT_CONFIG))
		r = detach_one(dom, a, VIR_DOMAIN_AFFECT_CONFIG);
	return r;
}

int attach_main(int argc, char **argv, bool is_detach)
{
	struct attach_args a = { .uri = DEFAULT_URI, .wait_sec = DETACH_WAIT_SEC,
				  .detach = is_detach };
	virConnectPtr conn;
	virDomainPtr dom;
	int r;

	if (parse(argc, argv, &a) < 0)
		return EXIT_FAILURE;
	libvirt_quiet();
	conn = virConnectOpen(a.uri);
	if (!conn) {
		log_error("Failed to connect to libvirt at '%s': %s", a.uri,
			  virGetLastErrorMessage());
		return EXIT_FAILURE;
	}
	dom = virDomainLookupByName(conn, a.domain);
	if (!dom) {
		log_error("No domain '%s': %s", a.domain, virGetLastErrorMessage());
		virConnectClose(conn);
		return EXIT_FAILURE;
	}
	r = is_detach ? detach(dom, &a, flags_of(&a, dom)) : attach(dom, &a, flags_of(&a, dom));
	virDomainFree(dom);
	virConnectClose(conn);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
