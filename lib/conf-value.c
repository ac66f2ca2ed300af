/*
 * The meaning of a value is the same in every configuration file: booleans
 * are 1/yes/true/on and 0/no/false/off, sizes and rates are bytes with an
 * optional K, M or G (powers of 1024).  Malformed input is -EINVAL, a
 * well-formed value outside its range -ERANGE; conf_value_error() words
 * them for the caller's one error line.  Pure: no I/O, no logging.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-value.h"
#include "macro.h"

static const char *const yes[] = { "1", "yes", "true", "on" };
static const char *const no[] = { "0", "no", "false", "off" };

/**
 * conf_parse_bool() - 1/yes/true/on or 0/no/false/off.
 * Return: 0 or -EINVAL.
 */
int conf_parse_bool(const char *v, bool *ret)
{
	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcmp(v, yes[i]) == 0)
			return *ret = true, 0;
		if (strcmp(v, no[i]) == 0)
			return *ret = false, 0;
	}
	return -EINVAL;
}

/**
 * conf_parse_size() - "123", "64K", "16M", "1G" (powers of 1024), at most @max.
 * Return: 0, -EINVAL if malformed, -ERANGE above @max.
 */
int conf_parse_size(const char *v, uint64_t max, uint64_t *ret)
{
	unsigned long long x;
	unsigned shift = 0;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno)
		return -ERANGE;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end != '\0')
		return -EINVAL;
	if (x > (max >> shift))
		return -ERANGE;
	*ret = (uint64_t)x << shift;
	return 0;
}

/* conf_parse_rate() - bytes per second, a size up to CONF_MAX_SIZE. */
int conf_parse_rate(const char *v, uint64_t *ret)
{
	return conf_parse_size(v, CONF_MAX_SIZE, ret);
}

/**
 * conf_parse_uint() - a plain decimal number in [@min, @max].
 * Return: 0, -EINVAL if malformed, -ERANGE outside the range.
 */
int conf_parse_uint(const char *v, uint64_t min, uint64_t max, unsigned *ret)
{
	unsigned long long x;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno || x < min || x > max || x > UINT32_MAX)
		return -ERANGE;
	*ret = (unsigned)x;
	return 0;
}

/* conf_parse_string() - a non-empty string that fits @size with its NUL. */
int conf_parse_string(const char *v, char *dst, size_t size)
{
	size_t n = strlen(v);

	if (n == 0)
		return -EINVAL;
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, v, n + 1);
	return 0;
}

/**
 * conf_parse_address() - an address of one of the kinds in @kinds
 * (CONF_ADDRESS_KIND(ADDRESS_UNIX) | ...).
 * Return: 0, -EINVAL if malformed, -EAFNOSUPPORT for a kind not allowed here.
 */
int conf_parse_address(const char *v, unsigned kinds, struct address *ret)
{
	struct address a;

	if (address_parse(v, &a) < 0)
		return -EINVAL;
	if (!(kinds & CONF_ADDRESS_KIND(a.kind)))
		return -EAFNOSUPPORT;
	*ret = a;
	return 0;
}

int conf_item_bool(const struct conf_item *it, const char *value, void *data)
{
	return conf_parse_bool(value, (bool *)((char *)data + it->offset));
}

int conf_item_size(const struct conf_item *it, const char *value, void *data)
{
	uint64_t v;
	int r = conf_parse_size(value, it->max ? it->max : CONF_MAX_SIZE, &v);

	if (r < 0)
		return r;
	if (v < it->min)
		return -ERANGE;
	*(uint64_t *)((char *)data + it->offset) = v;
	return 0;
}

/* An unsigned field that takes a size ("1K"). */
int conf_item_unsigned(const struct conf_item *it, const char *value, void *data)
{
	uint64_t v;
	int r = conf_parse_size(value, MIN(it->max ? it->max : UINT32_MAX, UINT32_MAX), &v);

	if (r < 0)
		return r;
	if (v < it->min)
		return -ERANGE;
	*(unsigned *)((char *)data + it->offset) = (unsigned)v;
	return 0;
}

int conf_item_string(const struct conf_item *it, const char *value, void *data)
{
	return conf_parse_string(value, (char *)data + it->offset, (size_t)it->max);
}

int conf_item_enum(const struct conf_item *it, const char *value, void *data)
{
	for (unsigned i = 0; it->names[i]; i++)
		if (strcmp(value, it->names[i]) == 0) {
			*(unsigned *)((char *)data + it->offset) = i;
			return 0;
		}
	return -EINVAL;
}

/* The item for @key in @section (items with section NULL match any). */
const struct conf_item *conf_table_find(const struct conf_item *table, size_t n,
					const char *section, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if ((!table[i].section || strcmp(table[i].section, section) == 0) &&
		    strcmp(table[i].key, key) == 0)
			return &table[i];
	return NULL;
}

/**
 * conf_item_format() - the value of @it in @data as the file would write it.
 * Return: 0, -ENOBUFS if @size is too small, -EOPNOTSUPP for a custom parser.
 */
int conf_item_format(const struct conf_item *it, const void *data, char *buf, size_t size)
{
	const char *p = (const char *)data + it->offset;
	int n;

	if (it->parse == conf_item_bool)
		n = snprintf(buf, size, "%s", *(const bool *)p ? "yes" : "no");
	else if (it->parse == conf_item_size)
		n = snprintf(buf, size, "%" PRIu64, *(const uint64_t *)p);
	else if (it->parse == conf_item_unsigned)
		n = snprintf(buf, size, "%u", *(const unsigned *)p);
	else if (it->parse == conf_item_string)
		n = snprintf(buf, size, "%s", p);
	else if (it->parse == conf_item_enum)
		n = snprintf(buf, size, "%s", it->names[*(const unsigned *)p]);
	else
		return -EOPNOTSUPP;
	return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

/**
 * conf_item_allowed() - what @it takes, in words, for "allowed ..." in a message.
 * Return: 0, or -EOPNOTSUPP for a custom parser (the caller knows its words).
 */
int conf_item_allowed(const struct conf_item *it, char *buf, size_t size)
{
	int n = 0;

	if (it->parse == conf_item_bool)
		n = snprintf(buf, size, "yes or no");
	else if (it->parse == conf_item_size || it->parse == conf_item_unsigned)
		n = snprintf(buf, size, "%" PRIu64 " to %" PRIu64 "%s (a K, M or G suffix multiplies "
			     "by 1024)", it->min, (uint64_t)(it->max ? it->max : CONF_MAX_SIZE),
			     it->parse == conf_item_size ? " bytes" : "");
	else if (it->parse == conf_item_string)
		n = snprintf(buf, size, "a text of 1 to %" PRIu64 " bytes", it->max - 1);
	else if (it->parse == conf_item_enum)
		for (unsigned i = 0; it->names[i] && n >= 0 && (size_t)n < size; i++)
			n += snprintf(buf + n, size - (size_t)n, "%s%s", i == 0 ? "" :
				      it->names[i + 1] ? ", " : " or ", it->names[i]);
	else
		return -EOPNOTSUPP;
	return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

/* Why a value was refused, for "KEY: CAUSE" messages. */
const char *conf_value_error(int r)
{
	switch (r) {
	case -ERANGE:
		return "out of range";
	case -ENAMETOOLONG:
		return "too long";
	case -EAFNOSUPPORT:
		return "address kind not allowed here";
	case -E2BIG:
		return "too many entries";
	default:
		return "malformed value";
	}
}
