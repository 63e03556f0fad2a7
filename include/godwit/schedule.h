/*
 * Schedule windows: the weekly times, in one time zone, at which the copier
 * may run ("mon-fri 22:00-06:00"). Pure logic over the C library's time
 * zone conversion.
 *
 * Not thread-safe: every call that converts times switches the process's
 * TZ variable (setenv + tzset) and restores it before returning. The
 * runner calls these from its one thread.
 */
#ifndef GODWIT_SCHEDULE_H
#define GODWIT_SCHEDULE_H

#include <time.h>

#include "godwit/common.h"

struct gw_schedule;

/*
 * Parse n windows and a time zone into *out (new; caller frees with
 * gw_schedule_free()). Each window is "DAYS HH:MM-HH:MM":
 *
 *   DAYS    "daily" or "*", or a comma list of days and day ranges: "mon",
 *           "mon-fri", "mon,wed,fri", "fri-mon" (wraps over Sunday). Day
 *           names are mon..sun, case-insensitive.
 *   times   the window opens at the start on each listed day. An end at
 *           or before the start ends the next day ("mon-fri 22:00-06:00"
 *           covers Saturday 00:00-06:00, not Monday 00:00-06:00). "24:00"
 *           is midnight at the end of the day and only allowed as an end;
 *           start == end is refused (write "00:00-24:00" for a whole day).
 *
 * tz is a tz database name ("Europe/Berlin", "UTC"); NULL or "" mean UTC.
 * A name other than "UTC" must be a TZif file under $TZDIR (default
 * /usr/share/zoneinfo).
 *
 * GW_ERR_INPUT naming the window text and what is wrong with it, for an
 * empty list, or for an unknown time zone; *out is NULL then.
 */
GW_MUSTCHECK int gw_schedule_parse(struct gw_schedule **out, size_t n, const char *const *windows,
				   const char *tz, struct gw_error *err);
/* Accepts NULL. */
void gw_schedule_free(struct gw_schedule *s);

/*
 * Whether s is open at now (epoch seconds). *change (may be NULL) is when
 * that changes: when open, the end of the open stretch, where windows that
 * overlap or touch are one stretch ("sat-sun 00:00-24:00" opened on
 * Saturday closes on Monday 00:00); when closed, the next opening. A
 * schedule open the whole week reports a change at least 7 days ahead, at
 * which the caller just asks again.
 *
 * Daylight saving time: wall-clock times are converted in the schedule's
 * zone on each day. A time that does not exist that day (skipped by a
 * spring-forward change) means the first instant after the gap, so
 * "02:30-04:00" on 2026-03-29 in Europe/Berlin opens at 03:00 CEST. A time
 * that happens twice (fall back) means its first occurrence. A window that
 * lies entirely in a gap is empty that day.
 */
bool gw_schedule_open(const struct gw_schedule *s, time_t now, time_t *change);

/* Format t in s's time zone, "Mon 2026-11-23 22:00 CET", into buf of size n. */
void gw_schedule_format(const struct gw_schedule *s, time_t t, char *buf, size_t n);

#endif
