/* The one monotonic clock of the daemons.  lib/ modules are handed the time, except the
 * bounded loops that measure the time they spend (source.c start-up test, seeder fill). */
#pragma once

#include <stdint.h>

uint64_t now_usec(void);
