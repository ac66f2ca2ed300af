/* An allow-list seccomp filter (a no-op when built without libseccomp). */
#pragma once

#include <stddef.h>

int sandbox_allow_syscalls(const char *const *names, size_t n);
