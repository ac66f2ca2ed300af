/* The one monotonic clock of both daemons; lib/ code is handed times, except where a
 * bounded loop must look at the clock itself (source.c's start-up test). */
#pragma once

#include <stdint.h>

uint64_t now_usec(void);
