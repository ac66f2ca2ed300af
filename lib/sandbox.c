/*
 * Allow-list seccomp filter by system call name.  Anything else fails with
 * EPERM rather than killing the process, so an unexpected libc call shows
 * up as a logged error instead of a crash.  Without libseccomp: nothing.
 */
#include <errno.h>

#include "sandbox.h"

/* The sanitizers' runtime needs system calls (ptrace, /proc reads) no allow-list should grant. */
#if defined(HAVE_SECCOMP) && !defined(__SANITIZE_ADDRESS__)
#include <seccomp.h>

int sandbox_allow_syscalls(const char *const *names, size_t n)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (nr != __NR_SCMP_ERROR)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
#else
int sandbox_allow_syscalls(const char *const *names, size_t n)
{
	return 0;
}
#endif
