/*
 * A fixed-window rate limit for log lines, like systemd's RateLimit: pure,
 * the time is a parameter.  The caller logs; when an event is let through
 * after others were refused, it learns how many, to say so once.
 */
#include "ratelimit.h"

/**
 * ratelimit_below() - may one more event happen at @now_usec?
 * @ret_suppressed: set to the events refused since the previous one let
 * through (only when true is returned; may be NULL).
 * Return: true if the event is within the limit.
 */
bool ratelimit_below(struct ratelimit *rl, uint64_t now_usec, unsigned *ret_suppressed)
{
	if (rl->begin_usec == 0 || now_usec - rl->begin_usec >= rl->interval_usec) {
		rl->begin_usec = now_usec ? now_usec : 1;
		rl->num = 0;
	}
	if (rl->num >= rl->burst) {
		rl->suppressed++;
		return false;
	}
	rl->num++;
	if (ret_suppressed)
		*ret_suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}
