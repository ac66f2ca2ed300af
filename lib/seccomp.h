/* An allow-list seccomp filter (a no-op when built without libseccomp). */
#pragma once

#include <stddef.h>

int seccomp_allow_list(const char *const *names, size_t n);
