/*
 * VM forks: watch what the kernel offers (lib/fork.c chooses), and on a fork
 * reseed from fresh entropy within the same wakeup (lib/forkseed.c).  Setup
 * runs before privileges are dropped: /dev/kmsg needs CAP_SYSLOG to open
 * under dmesg_restrict, the uevent socket must be bound, vmclock mapped.
 * After that only read(), recv() and poll() are needed.  Nothing here logs
 * per kernel record: a kmsg watcher is woken by every kernel message.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include "agent.h"
#include "forkseed.h"
#include "log.h"

#define VMGENID_DRIVER "/sys/bus/acpi/drivers/vmgenid"
#define VMCLOCK_DEV "/dev/vmclock0"
#define KMSG_DEV "/dev/kmsg"
#define FORK_RECORD_MAX 8192    /* /dev/kmsg returns one record per read, at most this */
#define FORK_RECORDS_PER_WAKEUP 64
#define FORK_UEVENT_MAX 8192

/* The vmgenid ACPI device bound to the driver ("QEMUVGID:00"), if any. */
static bool vmgenid_device(char *ret_path, size_t size)
{
	DIR *d = opendir(VMGENID_DRIVER);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		if (strchr(e->d_name, ':')) {
			snprintf(ret_path, size, VMGENID_DRIVER "/%s", e->d_name);
			found = true;
		}
	closedir(d);
	return found;
}

static int read_counter(int fd, uint64_t *ret)
{
	char buf[32];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	return fork_counter_parse(buf, (size_t)n, ret);
}

static int vmclock_gen(const struct fork_watch *w, uint64_t *ret)
{
	uint8_t copy[FORK_VMCLOCK_MIN_SIZE];
	int r = -EAGAIN;

	for (int i = 0; i < 3 && r == -EAGAIN; i++) {
		memcpy(copy, w->vmclock, sizeof(copy));
		r = fork_vmclock_parse(copy, sizeof(copy), ret);
	}
	return r;
}

static void probe_vmclock(struct fork_watch *w, struct fork_env *env)
{
	int fd = open(VMCLOCK_DEV, O_RDONLY | O_CLOEXEC);
	void *p;
	uint64_t gen;

	if (fd < 0)
		return;
	p = mmap(NULL, FORK_VMCLOCK_MIN_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return;
	}
	w->vmclock = p;
	w->vmclock_fd = fd;
	env->vmclock_gen = vmclock_gen(w, &gen) == 0;
}

static void probe(struct fork_watch *w, struct fork_env *env)
{
	struct utsname u;
	char path[PATH_MAX + 16];

	env->vmgenid = vmgenid_device(w->device, sizeof(w->device));
	if (env->vmgenid) {
		snprintf(path, sizeof(path), "%s/generation", w->device);
		w->sysfs_fd = open(path, O_RDONLY | O_CLOEXEC);
		env->sysfs_counter = w->sysfs_fd >= 0;
	}
	env->uevent = env->vmgenid && uname(&u) == 0 && strncmp(u.release, "6.8.", 4) == 0;
	probe_vmclock(w, env);
	w->kmsg_fd = open(KMSG_DEV, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	env->kmsg = w->kmsg_fd >= 0;
}

static int uevent_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_KOBJECT_UEVENT);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* Returns FD positioned after the newest record, or -errno (FD closed). */
static int kmsg_seek_end(int fd)
{
	int r;

	if (lseek(fd, 0, SEEK_END) >= 0)
		return fd;
	r = -errno;
	close(fd);
	return r;
}

#define KMSG_MARK "virtseedd: watching the kernel log for VM forks"

/*
 * Kernel log timestamps are local_clock(), which differs from CLOCK_MONOTONIC by tens of
 * ms: measure the difference on a record of our own, written once at start.  0 if the
 * kernel refuses the write (printk.devkmsg=off).
 */
static int64_t kmsg_clock_offset(int rd)
{
	char rec[FORK_RECORD_MAX];
	int wr = open(KMSG_DEV, O_WRONLY | O_CLOEXEC);
	uint64_t t0, t1;
	ssize_t n;
	bool sent;

	if (wr < 0)
		return 0;
	t0 = now_usec();
	sent = write(wr, "<6>" KMSG_MARK "\n", sizeof("<6>" KMSG_MARK "\n") - 1) > 0;
	t1 = now_usec();
	close(wr);
	for (int i = 0; sent && i < FORK_RECORDS_PER_WAKEUP; i++) {
		struct fork_kmsg k;

		n = read(rd, rec, sizeof(rec));
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		if (fork_kmsg_parse(rec, (size_t)n, &k) == 0 &&
		    memmem(rec, (size_t)n, ";" KMSG_MARK "\n", sizeof(KMSG_MARK) + 1))
			return (int64_t)k.ts_usec - (int64_t)((t0 + t1) / 2);
	}
	return 0;
}

/* Keep only the fd of the chosen method. */
static int arm(struct fork_watch *w)
{
	uint64_t gen;

	switch (w->method) {
	case FORK_SYSFS:
		w->fd = w->sysfs_fd;
		w->sysfs_fd = -1;
		w->events = POLLPRI;
		if (read_counter(w->fd, &gen) == 0)
			(void)fork_gen_update(&w->gen, gen);
		return 0;
	case FORK_UEVENT:
		w->fd = uevent_open();
		w->events = POLLIN;
		return w->fd < 0 ? w->fd : 0;
	case FORK_VMCLOCK: {
		/* A vmclock without notifications polls readable at once: checked each wakeup. */
		struct pollfd p = { .fd = w->vmclock_fd, .events = POLLIN };

		w->fd = poll(&p, 1, 0) == 0 ? w->vmclock_fd : -1;
		w->events = POLLIN;
		if (vmclock_gen(w, &gen) == 0)
			(void)fork_gen_update(&w->gen, gen);
		return 0;
	}
	case FORK_KMSG:
		w->fd = kmsg_seek_end(w->kmsg_fd);
		w->kmsg_fd = -1;
		w->events = POLLIN;
		if (w->fd >= 0) {
			w->clock_offset_usec = kmsg_clock_offset(w->fd);
			log_debug("Kernel log time is CLOCK_MONOTONIC %+lld us.",
				  (long long)w->clock_offset_usec);
		}
		return w->fd < 0 ? w->fd : 0;
	case FORK_NONE:
		break;
	}
	return 0;
}

int agent_fork_setup(struct agent *a)
{
	struct fork_watch *w = &a->fork;
	struct fork_env env = {};
	int r;

	*w = (struct fork_watch){ .fd = -1, .sysfs_fd = -1, .kmsg_fd = -1, .vmclock_fd = -1 };
	if (a->config.fork_detect == FORK_MODE_OFF || a->mode == MODE_UNTIL_READY ||
	    a->mode == MODE_ONCE)
		return 0;
	probe(w, &env);
	w->method = fork_choose(a->config.fork_detect, &env);
	r = a->mode == MODE_STATUS ? 0 : arm(w);
	w->sysfs_fd = safe_close(w->sysfs_fd);
	w->kmsg_fd = safe_close(w->kmsg_fd);
	if (w->vmclock && w->method != FORK_VMCLOCK) {
		munmap((void *)w->vmclock, FORK_VMCLOCK_MIN_SIZE);
		w->vmclock = NULL;
		w->vmclock_fd = safe_close(w->vmclock_fd);
	}
	if (r < 0) {
		log_warning_errno(r, "VM fork detection (%s) unavailable: %m",
				  fork_method_name(w->method));
		w->method = FORK_NONE;
	}
	if (w->method == FORK_NONE && a->config.fork_detect != FORK_MODE_AUTO)
		log_warning("VM fork detection: fork-detect=%s, but this kernel offers nothing "
			    "for it%s.", fork_mode_name(a->config.fork_detect),
			    env.vmgenid ? "" : " (no vmgenid device)");
	else
		log_info("VM fork detection: %s%s%s.", fork_method_name(w->method),
			 w->device[0] ? " of " : "", w->device);
	return 0;
}

/* A counter that moved counts its difference: notifications may coalesce. */
static unsigned counter_forks(struct fork_watch *w, int r, uint64_t value)
{
	uint64_t old = w->gen.value;

	if (r < 0 || !fork_gen_update(&w->gen, value))
		return 0;
	return value > old && value - old < 1000 ? (unsigned)(value - old) : 1;
}

/* Records lost to the ring buffer (EPIPE) are skipped; another error reopens the device. */
static unsigned kmsg_forks(struct fork_watch *w, uint64_t *ret_notice_usec)
{
	char rec[FORK_RECORD_MAX];
	unsigned forks = 0;

	for (int i = 0; i < FORK_RECORDS_PER_WAKEUP; i++) {
		ssize_t n = read(w->fd, rec, sizeof(rec));
		struct fork_kmsg k;

		if (n < 0 && errno == EPIPE)
			continue;
		if (n < 0 && errno != EAGAIN) {
			log_warning_errno(-errno, "Failed to read " KMSG_DEV ", reopening: %m");
			close(w->fd);
			w->fd = open(KMSG_DEV, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
			w->fd = w->fd < 0 ? -errno : kmsg_seek_end(w->fd);
		}
		if (n <= 0)
			break;
		if (fork_kmsg_parse(rec, (size_t)n, &k) == 0 && k.fork) {
			forks++;
			*ret_notice_usec = (uint64_t)((int64_t)k.ts_usec - w->clock_offset_usec);
		}
	}
	explicit_bzero(rec, sizeof(rec));
	return forks;
}

static unsigned uevent_forks(struct fork_watch *w)
{
	char msg[FORK_UEVENT_MAX];
	unsigned forks = 0;
	ssize_t n;

	for (int i = 0; i < FORK_RECORDS_PER_WAKEUP; i++) {
		n = recv(w->fd, msg, sizeof(msg), MSG_DONTWAIT);
		if (n <= 0)
			break;
		forks += fork_uevent_is_fork(msg, (size_t)n);
	}
	return forks;
}

static unsigned detect(struct fork_watch *w, uint64_t *ret_notice_usec)
{
	uint64_t gen = 0;
	int r;

	switch (w->method) {
	case FORK_SYSFS:
		r = read_counter(w->fd, &gen);
		return counter_forks(w, r, gen);
	case FORK_VMCLOCK:
		r = vmclock_gen(w, &gen);
		return counter_forks(w, r, gen);
	case FORK_UEVENT:
		return uevent_forks(w);
	case FORK_KMSG:
		return w->fd < 0 ? 0 : kmsg_forks(w, ret_notice_usec);
	case FORK_NONE:
		break;
	}
	return 0;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void fork_reseed(struct agent *a, uint64_t notice_usec)
{
	struct fork_watch *w = &a->fork;
	struct forkseed_result res;
	char digest[2 * 16 + 1];
	uint64_t done, delay;
	int r;

	uint64_t woke = now_usec();

	r = forkseed_run(&a->seeder, w->has_hwrng ? &w->hwrng : NULL, FORKSEED_HWRNG_STALE, woke,
			 &res);
	done = now_usec();
	log_debug("VM fork: woke %lld us after the notice, fresh bytes took %llu us",
		  (long long)(woke - notice_usec), (unsigned long long)(done - woke));
	delay = done > notice_usec ? done - notice_usec : 0;
	if (r == -ENODATA) {
		log_warning("virtseed: VM fork: no source gave fresh bytes, the clone runs on the "
			    "kernel's own reseed only.");
		return;
	}
	if (r < 0) {
		log_warning_errno(r, "virtseed: VM fork: failed to reseed the CRNG: %m");
		return;
	}
	w->reseeds++;
	log_notice("virtseed: VM fork: reseeded from %s, %zu bytes (%u bits credited), "
		   "%llu.%llu ms after the kernel's notice (%s); forks %llu, fork reseeds %llu",
		   res.source, res.bytes, res.bits, (unsigned long long)(delay / 1000),
		   (unsigned long long)(delay % 1000 / 100), fork_method_name(w->method),
		   (unsigned long long)w->forks, (unsigned long long)w->reseeds);
	hex(res.digest, 16, digest);
	log_debug("VM fork: SHA-256 of the bytes added begins %s", digest);
	explicit_bzero(&res, sizeof(res));
}

int agent_fork_on_wakeup(struct agent *a, const struct pollfd *p)
{
	struct fork_watch *w = &a->fork;
	uint64_t notice = 0;
	unsigned forks;

	if (w->method == FORK_NONE || (w->fd >= 0 && !p->revents))
		return 0;
	forks = detect(w, &notice);
	if (forks == 0)
		return 0;
	w->forks += forks;
	fork_reseed(a, notice ? notice : now_usec());
	return 1;
}

struct pollfd agent_fork_pollfd(const struct agent *a)
{
	return (struct pollfd){ .fd = a->fork.fd, .events = a->fork.events };
}

bool agent_fork_needs_syslog(const struct agent *a)
{
	return a->fork.method == FORK_KMSG;
}

/*
 * The fork-only /dev/hwrng reader runs its start-up health test now, once, after
 * privileges are dropped (it starts a thread): 1 KiB through virtio-rng costs a
 * TCG guest ~0.5 s, too long to spend after a fork.  Afterwards it reads 64 bytes
 * per fork and leaves the device to the kernel's hwrng thread otherwise.
 */
void agent_fork_start(struct agent *a)
{
	struct fork_watch *w = &a->fork;
	uint8_t buf[SEEDER_CHUNK];
	uint64_t t0 = now_usec();
	ssize_t n;

	if (!w->has_hwrng)
		return;
	n = source_take(&w->hwrng, buf, sizeof(buf), t0);
	explicit_bzero(buf, sizeof(buf));
	if (n > 0)
		log_debug("Source hwrng: start-up test passed in %llu ms, read again at the next "
			  "VM fork only.", (unsigned long long)((now_usec() - t0) / 1000));
}
