/* Dropping privileges once devices and sockets are open. */
#pragma once

#include <stdbool.h>

int privs_drop(const char *user, bool keep_sys_admin);
