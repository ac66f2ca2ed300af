/*
 * Value parsers shared by virtseed.conf and virtseed-egd.conf, and a table
 * type (systemd's ConfigTableItem) so one table drives parsing and printing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"

#define CONF_MAX_SIZE (1ULL << 34)      /* largest size or rate: 16 GiB(/s) */

int conf_parse_bool(const char *v, bool *ret);
int conf_parse_size(const char *v, uint64_t max, uint64_t *ret);
int conf_parse_rate(const char *v, uint64_t *ret);
int conf_parse_uint(const char *v, uint64_t min, uint64_t max, unsigned *ret);
int conf_parse_string(const char *v, char *dst, size_t size);
int conf_parse_address(const char *v, unsigned kinds, struct address *ret);
#define CONF_ADDRESS_KIND(k) (1U << (k))

struct conf_item;
/* Parse @value into the field @it describes inside @data. */
typedef int (*conf_parse_fn)(const struct conf_item *it, const char *value, void *data);

struct conf_item {
	const char *section;    /* "global", "class", "guest"; NULL: every section */
	const char *key;
	conf_parse_fn parse;
	size_t offset;          /* of the field in the section's struct */
	uint64_t min, max;      /* uint, size; for strings max is the buffer size */
	const char *const *names;       /* enum: NULL-terminated, index = value */
};

int conf_item_bool(const struct conf_item *it, const char *value, void *data);
int conf_item_size(const struct conf_item *it, const char *value, void *data);
int conf_item_unsigned(const struct conf_item *it, const char *value, void *data);
int conf_item_string(const struct conf_item *it, const char *value, void *data);
int conf_item_enum(const struct conf_item *it, const char *value, void *data);

const struct conf_item *conf_table_find(const struct conf_item *table, size_t n,
					const char *section, const char *key);
int conf_item_format(const struct conf_item *it, const void *data, char *buf, size_t size);
int conf_item_allowed(const struct conf_item *it, char *buf, size_t size);
const char *conf_value_error(int r);
