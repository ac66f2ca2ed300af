/*
 * Allow-list seccomp filter by system call name.  Anything else fails with
 * EPERM rather than killing the process, so an unexpected libc call shows
 * up as a logged error instead of a crash.  Every filter also allows what
 * lib/'s sources need, whichever binary runs them: the caller lists only
 * its own loop's calls.  Without libseccomp: nothing.
 */
#include <errno.h>

#include "sandbox.h"

/* The sanitizers' runtime needs system calls (ptrace, /proc reads) no allow-list should grant. */
#if defined(HAVE_SECCOMP) && !defined(__SANITIZE_ADDRESS__)
#include <seccomp.h>

/*
 * The sources: hwrng's pipes and reader thread (glibc's pthread_create()
 * uses clone3, or clone before 2.34, then rseq and set_robust_list, and
 * mprotect for the guard page; pthread_cancel() installs its SIGCANCEL
 * handler with rt_sigaction and sends it with tgkill), egd's sockets and
 * poll, rdrand's dlopen() of libgcrypt, getrandom.
 */
static const char *const source_syscalls[] = {
	"pipe2", "clone", "clone3", "rseq", "set_robust_list", "mprotect", "mmap", "munmap",
	"madvise", "futex", "rt_sigaction", "rt_sigprocmask", "tgkill", "gettid", "getpid",
	"read", "write", "openat", "close", "fstat", "newfstatat", "fcntl", "poll", "ppoll",
	"socket", "connect", "sendto", "recvfrom", "clock_gettime", "clock_nanosleep",
	"nanosleep", "getrandom", "exit", "sched_yield",
};

static int allow(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (nr != __NR_SCMP_ERROR)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	return r;
}

int sandbox_allow_syscalls(const char *const *names, size_t n)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r;

	if (!ctx)
		return -ENOMEM;
	r = allow(ctx, source_syscalls, sizeof(source_syscalls) / sizeof(source_syscalls[0]));
	if (r == 0)
		r = allow(ctx, names, n);
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
