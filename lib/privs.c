/*
 * Keep CAP_SYS_ADMIN (RNDADDENTROPY, RNDRESEEDCRNG) or nothing, in every
 * set including the bounding set, optionally as another user.  Only the
 * calling thread is changed: call before starting any thread.
 */
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>

#include "privs.h"

int privs_drop(const char *user, bool keep_sys_admin)
{
	struct passwd *pw = NULL;
	int r;

	if (user && *user) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw)
			return errno ? -errno : -ESRCH;
	}
	/* Without CAP_SYS_ADMIN to keep, the ioctls will fail and say so. */
	capng_get_caps_process();
	keep_sys_admin = keep_sys_admin && capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN);
	capng_clear(CAPNG_SELECT_BOTH);
	if (keep_sys_admin &&
	    capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_SYS_ADMIN) < 0)
		return -EPERM;
	if (pw)
		r = capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
				    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	else
		r = capng_apply(CAPNG_SELECT_BOTH);
	if (r < 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
