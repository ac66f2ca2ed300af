/* Dropping privileges once devices and sockets are open. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define PRIVS_MAX_KEEP 4

int privs_drop_keep(const char *user, const int *caps, size_t n_caps);
int privs_drop(const char *user, bool keep_sys_admin);
