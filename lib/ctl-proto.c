/*
 * Control codec: "key=value\n" lines, the first one op=NAME.  A message is
 * valid as a whole or refused with one static string naming the key and the
 * cause; keys an op does not take, repeated keys and bad values are refused.
 * No syscalls, malloc, logging or clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl-proto.h"
#include "egd-conf.h"
#include "macro.h"

#define CTL_MAX_VALUE 64

enum {
	K_NAME = 1 << 0, K_UUID = 1 << 1, K_CLASS = 1 << 2, K_RATE = 1 << 3,
	K_CEIL = 1 << 4, K_BURST = 1 << 5, K_PID = 1 << 6,
};

static const struct {
	const char *name;
	enum ctl_op op;
	unsigned required, allowed;
} ops[] = {
	{ "domain", CTL_OP_DOMAIN, K_NAME | K_UUID,
	  K_NAME | K_UUID | K_CLASS | K_RATE | K_CEIL | K_BURST | K_PID },
	{ "adopt", CTL_OP_ADOPT, K_UUID, K_UUID },
	{ "forget", CTL_OP_FORGET, K_UUID, K_UUID },
};

static const char *const keys[] = { "name", "uuid", "class", "rate", "ceil", "burst", "pid" };

bool ctl_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CTL_MAX_NAME)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("_.+-", *s))
			return false;
	return true;
}

/* Lower-case 8-4-4-4-12, as libvirt prints it. */
bool ctl_valid_uuid(const char *s)
{
	if (strlen(s) != CTL_UUID_LEN)
		return false;
	for (size_t i = 0; i < CTL_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') ||
					   (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static int parse_pid(const char *v, pid_t *ret)
{
	char *end;
	unsigned long long p;

	if (!(v[0] >= '1' && v[0] <= '9'))
		return -EINVAL;
	errno = 0;
	p = strtoull(v, &end, 10);
	if (errno || *end || p > INT32_MAX)
		return -EINVAL;
	*ret = (pid_t)p;
	return 0;
}

static const char *set_key(struct ctl_msg *m, unsigned k, const char *v)
{
	uint64_t *size = k == K_RATE ? &m->rate : k == K_CEIL ? &m->ceil : &m->burst;

	switch (k) {
	case K_NAME:
		if (!ctl_valid_name(v))
			return "name: not 1-63 of [A-Za-z0-9_.+-]";
		strcpy(m->name, v);
		return NULL;
	case K_CLASS:
		if (!ctl_valid_name(v))
			return "class: not 1-63 of [A-Za-z0-9_.+-]";
		strcpy(m->class, v);
		return NULL;
	case K_UUID:
		if (!ctl_valid_uuid(v))
			return "uuid: not a lower-case 36-character UUID";
		strcpy(m->uuid, v);
		return NULL;
	case K_PID:
		return parse_pid(v, &m->pid) < 0 ? "pid: not a process id" : NULL;
	default:
		if (egd_conf_parse_size(v, size) < 0 || *size == 0)
			return k == K_RATE ? "rate: not a size > 0 within the token bucket limit" :
			       k == K_CEIL ? "ceil: not a size > 0 within the token bucket limit" :
			       "burst: not a size > 0 within the token bucket limit";
		return NULL;
	}
}

static const char *parse_op(const char *line, size_t len, size_t *ret_op)
{
	for (size_t i = 0; i < ELEMENTSOF(ops); i++)
		if (len == 3 + strlen(ops[i].name) && strncmp(line, "op=", 3) == 0 &&
		    memcmp(line + 3, ops[i].name, len - 3) == 0) {
			*ret_op = i;
			return NULL;
		}
	return "op: not domain, adopt or forget";
}

/* One "key=value" line into m; *seen collects the keys. */
static const char *parse_line(const char *line, size_t len, unsigned allowed, unsigned *seen,
			      struct ctl_msg *m)
{
	const char *eq = memchr(line, '=', len);
	char v[CTL_MAX_VALUE];

	if (!eq)
		return "line without '='";
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		unsigned k = 1u << i;

		if ((size_t)(eq - line) != strlen(keys[i]) || memcmp(line, keys[i], eq - line))
			continue;
		if (!(allowed & k))
			return "key not taken by this op";
		if (*seen & k)
			return "key given twice";
		if (len - (eq - line) - 1 >= sizeof(v))
			return "value too long";
		memcpy(v, eq + 1, len - (eq - line) - 1);
		v[len - (eq - line) - 1] = '\0';
		*seen |= k;
		return set_key(m, k, v);
	}
	return "unknown key";
}

/**
 * ctl_parse() - parse one control message.
 * Returns 0 and fills *ret_msg, or -EBADMSG with *ret_err naming the cause.
 */
int ctl_parse(const char *buf, size_t n, struct ctl_msg *ret_msg, const char **ret_err)
{
	struct ctl_msg m = {};
	const char *err = NULL, *p = buf, *end = buf + n;
	unsigned seen = 0;
	size_t op = 0;

	if (n == 0 || n > CTL_MAX_MSG || buf[n - 1] != '\n' || memchr(buf, '\0', n))
		err = "not newline-terminated text of at most 4096 bytes";
	for (bool first = true; !err && p < end; first = false) {
		const char *nl = memchr(p, '\n', end - p);

		if (first)
			err = parse_op(p, nl - p, &op);
		else
			err = parse_line(p, nl - p, ops[op].allowed, &seen, &m);
		p = nl + 1;
	}
	if (!err && (seen & ops[op].required) != ops[op].required)
		err = (ops[op].required & ~seen & K_NAME) ? "name: missing" : "uuid: missing";
	if (err) {
		*ret_err = err;
		return -EBADMSG;
	}
	m.op = ops[op].op;
	*ret_msg = m;
	return 0;
}

static int append(char *buf, size_t size, size_t *pos, const char *key, const char *v)
{
	int r = snprintf(buf + *pos, size - *pos, "%s=%s\n", key, v);

	if (r < 0 || (size_t)r >= size - *pos)
		return -ENOBUFS;
	*pos += r;
	return 0;
}

static int append_u64(char *buf, size_t size, size_t *pos, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	return append(buf, size, pos, key, num);
}

/**
 * ctl_build() - write m into buf; unset optional fields are left out.
 * Returns the length, or -ENOBUFS.
 */
ssize_t ctl_build(char *buf, size_t size, const struct ctl_msg *m)
{
	const char *op = m->op == CTL_OP_DOMAIN ? "domain" : m->op == CTL_OP_ADOPT ? "adopt" :
			 "forget";
	size_t pos = 0;
	int r;

	r = append(buf, size, &pos, "op", op);
	if (r >= 0 && m->op == CTL_OP_DOMAIN)
		r = append(buf, size, &pos, "name", m->name);
	if (r >= 0)
		r = append(buf, size, &pos, "uuid", m->uuid);
	if (m->op != CTL_OP_DOMAIN)
		return r < 0 ? r : (ssize_t)pos;
	if (r >= 0 && m->class[0])
		r = append(buf, size, &pos, "class", m->class);
	if (r >= 0 && m->rate)
		r = append_u64(buf, size, &pos, "rate", m->rate);
	if (r >= 0 && m->ceil)
		r = append_u64(buf, size, &pos, "ceil", m->ceil);
	if (r >= 0 && m->burst)
		r = append_u64(buf, size, &pos, "burst", m->burst);
	if (r >= 0 && m->pid)
		r = append_u64(buf, size, &pos, "pid", (uint64_t)m->pid);
	return r < 0 ? r : (ssize_t)pos;
}

/* "ok\n", or "error=TEXT\n" with TEXT cut to one line of CTL_MAX_ERROR - 1 bytes. */
ssize_t ctl_build_reply(char *buf, size_t size, const char *err)
{
	int r;

	if (!err)
		r = snprintf(buf, size, "ok\n");
	else
		r = snprintf(buf, size, "error=%.*s\n", (int)MIN(strcspn(err, "\n"),
							      CTL_MAX_ERROR - 1), err);
	if (r < 0 || (size_t)r >= size)
		return -ENOBUFS;
	return r;
}

/* 0 for "ok", -EPROTO with the text in ret_err for an error, -EBADMSG otherwise. */
int ctl_parse_reply(const char *buf, size_t n, char *ret_err, size_t err_size)
{
	if (n == 3 && memcmp(buf, "ok\n", 3) == 0)
		return 0;
	if (n < 8 || n > 6 + CTL_MAX_ERROR || memcmp(buf, "error=", 6) || buf[n - 1] != '\n' ||
	    memchr(buf, '\n', n - 1) || memchr(buf, '\0', n))
		return -EBADMSG;
	snprintf(ret_err, err_size, "%.*s", (int)(n - 7), buf + 6);
	return -EPROTO;
}
