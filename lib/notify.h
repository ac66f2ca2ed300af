/* The systemd notification protocol, without linking libsystemd. */
#pragma once

#include <stdint.h>

int notify_send(const char *msg);
uint64_t notify_watchdog_usec(void);
