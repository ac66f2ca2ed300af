/* The one monotonic clock of the daemons; everything below them is handed its value. */
#pragma once

#include <stdint.h>

uint64_t now_usec(void);
