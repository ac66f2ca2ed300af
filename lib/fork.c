/*
 * VM fork detection without I/O: the caller reads /dev/kmsg records, sysfs
 * files, uevent datagrams or the vmclock page and hands the bytes here.  A
 * method is chosen once at start: a kernel notification (sysfs counter, the
 * 6.8 uevent, vmclock) beats the kernel log, which wakes the reader for every
 * kernel message and needs CAP_SYSLOG.  Counters are compared, never assumed
 * to step by one: coalesced notifications still count as a fork.
 */
#include <errno.h>
#include <string.h>

#include "fork.h"
#include "macro.h"

static const char *const mode_names[_FORK_MODE_MAX] = { "auto", "kernel", "kmsg", "off" };

const char *fork_mode_name(enum fork_mode m)
{
	return m < _FORK_MODE_MAX ? mode_names[m] : "?";
}

int fork_mode_parse(const char *s, enum fork_mode *ret)
{
	for (int m = 0; m < _FORK_MODE_MAX; m++)
		if (strcmp(s, mode_names[m]) == 0) {
			*ret = (enum fork_mode)m;
			return 0;
		}
	return -EINVAL;
}

const char *fork_method_name(enum fork_method m)
{
	switch (m) {
	case FORK_NONE:
		return "none";
	case FORK_SYSFS:
		return "vmgenid generation counter";
	case FORK_UEVENT:
		return "vmgenid uevent";
	case FORK_VMCLOCK:
		return "vmclock vm_generation_counter";
	case FORK_KMSG:
		return "kernel log";
	}
	return "?";
}

/* auto: the best the kernel offers; kmsg only where a vmgenid device will log forks. */
enum fork_method fork_choose(enum fork_mode mode, const struct fork_env *env)
{
	bool kernel = mode == FORK_MODE_AUTO || mode == FORK_MODE_KERNEL;

	if (kernel && env->sysfs_counter)
		return FORK_SYSFS;
	if (kernel && env->uevent)
		return FORK_UEVENT;
	if (kernel && env->vmclock_gen)
		return FORK_VMCLOCK;
	if (mode == FORK_MODE_KMSG && env->kmsg)
		return FORK_KMSG;
	if (mode == FORK_MODE_AUTO && env->kmsg && env->vmgenid)
		return FORK_KMSG;
	return FORK_NONE;
}

static int parse_u64(const char **p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s == end || *s < '0' || *s > '9')
		return -EBADMSG;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*ret = v;
	return 0;
}

/* "PRIO,SEQ,TS_USEC,FLAGS[,...];MESSAGE\n[ KEY=VALUE\n...]"
 * (Documentation/ABI/testing/dev-kmsg). */
int fork_kmsg_parse(const char *rec, size_t n, struct fork_kmsg *ret)
{
	const char *p = rec, *end = rec + n, *msg, *eol;
	uint64_t prio, seq, ts;
	size_t len = sizeof(FORK_KMSG_NOTICE) - 1;

	if (parse_u64(&p, end, &prio) < 0 || p == end || *p++ != ',' ||
	    parse_u64(&p, end, &seq) < 0 || p == end || *p++ != ',' ||
	    parse_u64(&p, end, &ts) < 0 || p == end || *p != ',')
		return -EBADMSG;
	msg = memchr(p, ';', (size_t)(end - p));
	if (!msg)
		return -EBADMSG;
	msg++;
	eol = memchr(msg, '\n', (size_t)(end - msg));
	if (!eol)
		eol = end;
	*ret = (struct fork_kmsg){
		.seq = seq,
		.ts_usec = ts,
		/* Facility 0 is the kernel's: a write to /dev/kmsg is never given facility 0. */
		.fork = prio >> 3 == 0 && (size_t)(eol - msg) == len &&
			memcmp(msg, FORK_KMSG_NOTICE, len) == 0,
	};
	return 0;
}

/* A sysfs counter: decimal, optionally newline-terminated. */
int fork_counter_parse(const char *text, size_t n, uint64_t *ret)
{
	const char *p = text, *end = text + n;
	uint64_t v;

	if (parse_u64(&p, end, &v) < 0)
		return -EBADMSG;
	if (p < end && *p == '\n')
		p++;
	if (p != end)
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* A uevent datagram: "ACTION@DEVPATH\0KEY=VALUE\0...". */
bool fork_uevent_is_fork(const char *msg, size_t n)
{
	const char *p = memchr(msg, '\0', n), *end = msg + n;
	size_t klen = sizeof(FORK_UEVENT_KEY);

	if (!p || strncmp(msg, "change@", 7) != 0)
		return false;
	for (p++; p < end; p += strnlen(p, (size_t)(end - p)) + 1)
		if ((size_t)(end - p) >= klen && memcmp(p, FORK_UEVENT_KEY, klen) == 0)
			return true;
	return false;
}

static uint64_t le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = bytes; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/*
 * struct vmclock_abi (include/uapi/linux/vmclock-abi.h): magic at 0, size at 4,
 * seq_count at 12 (odd while the host updates the page), flags at 24,
 * vm_generation_counter at 104.  -EAGAIN: caught mid-update, read again;
 * -EOPNOTSUPP: a vmclock without the generation counter.
 */
int fork_vmclock_parse(const uint8_t *abi, size_t n, uint64_t *ret_gen)
{
	uint64_t seq;

	if (n < FORK_VMCLOCK_MIN_SIZE || le(abi, 4) != FORK_VMCLOCK_MAGIC ||
	    le(abi + 4, 4) < FORK_VMCLOCK_MIN_SIZE)
		return -EBADMSG;
	if (!(le(abi + 24, 8) & FORK_VMCLOCK_FLAG_GEN))
		return -EOPNOTSUPP;
	seq = le(abi + 12, 4);
	if (seq & 1)
		return -EAGAIN;
	*ret_gen = le(abi + 104, 8);
	return 0;
}

/* Whether VALUE differs from a value seen before; the first one is only recorded. */
bool fork_gen_update(struct fork_gen *g, uint64_t value)
{
	bool changed = g->known && g->value != value;

	g->known = true;
	g->value = value;
	return changed;
}
