/*
 * Keep a given list of capabilities (the agent: CAP_SYS_ADMIN for
 * RNDADDENTROPY and RNDRESEEDCRNG, plus CAP_SYSLOG while it watches the
 * kernel log for VM forks) or nothing, in every set including the bounding
 * set, optionally as another user.  Only the calling thread is changed: call
 * before starting any thread.
 */
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>

#include "privs.h"

int privs_drop_keep(const char *user, const int *caps, size_t n_caps)
{
	bool have[PRIVS_MAX_KEEP], bounding;
	struct passwd *pw = NULL;
	capng_select_t sets;
	int r;

	if (n_caps > PRIVS_MAX_KEEP)
		return -E2BIG;
	if (user && *user) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw)
			return errno ? -errno : -ESRCH;
	}
	/* A capability we do not have is not kept: the calls needing it will fail and say so. */
	capng_get_caps_process();
	for (size_t i = 0; i < n_caps; i++)
		have[i] = capng_have_capability(CAPNG_EFFECTIVE, (unsigned)caps[i]);
	/* Without CAP_SETPCAP the bounding set cannot be changed (libcap-ng 0.8.4+ then fails
	 * the whole drop): a unit's CapabilityBoundingSet= has already narrowed it. */
	bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	sets = bounding ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS;
	capng_clear(sets);
	for (size_t i = 0; i < n_caps; i++)
		if (have[i] &&
		    capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)caps[i]) < 0)
			return -EPERM;
	if (pw)
		r = capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
				    CAPNG_DROP_SUPP_GRP | (bounding ? CAPNG_CLEAR_BOUNDING : 0));
	else
		r = capng_apply(sets);
	if (r < 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int privs_drop(const char *user, bool keep_sys_admin)
{
	static const int sys_admin[] = { CAP_SYS_ADMIN };

	return privs_drop_keep(user, sys_admin, keep_sys_admin ? 1 : 0);
}
