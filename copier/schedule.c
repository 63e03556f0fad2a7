/*
 * Schedule windows: the weekly times, in one time zone, when the copier may
 * run, and when that changes next. Pure logic over the C library's zones.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "godwit/schedule.h"

#define DAY_SECS 86400
#define ALL_DAYS 0x7fu
/* Intervals are built for the days from today - HORIZON to today + HORIZON. */
#define HORIZON 8

struct window {
	unsigned days; /* bit 0 Monday .. bit 6 Sunday */
	int start;     /* minutes after midnight, 0..1439 */
	int end;       /* 1..1440 (24:00); at or before start: the next day */
};

struct gw_schedule {
	size_t n;
	struct window *w;
	char *tz; /* the TZ value: ":Europe/Berlin", or "UTC0" */
};

struct interval {
	time_t start, end;
};

static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int bad(struct gw_error *err, const char *text, const char *fmt, ...) GW_PRINTF(3, 4);

static int bad(struct gw_error *err, const char *text, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return gw_error_set(err, GW_ERR_INPUT, "schedule window '%.80s': %s", text, why);
}

static int day_index(const char *p, size_t len)
{
	for (int i = 0; i < 7; i++)
		if (len == 3 && strncasecmp(p, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* "daily", "*", or a comma list of days and ranges ("fri-mon" wraps). */
static int parse_days(const char *text, const char *p, size_t len, unsigned *days,
		      struct gw_error *err)
{
	const char *end = p + len;

	*days = 0;
	if ((len == 5 && strncasecmp(p, "daily", 5) == 0) || (len == 1 && *p == '*')) {
		*days = ALL_DAYS;
		return 0;
	}
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t item = comma ? (size_t)(comma - p) : (size_t)(end - p);
		const char *dash = memchr(p, '-', item);
		size_t na = dash ? (size_t)(dash - p) : item;
		int a = day_index(p, na), b = a;

		if (a < 0)
			return bad(err, text, "unknown day '%.*s'", (int)na, p);
		if (dash) {
			b = day_index(dash + 1, item - na - 1);
			if (b < 0)
				return bad(err, text, "unknown day '%.*s'", (int)(item - na - 1),
					   dash + 1);
		}
		for (int d = a;; d = (d + 1) % 7) {
			*days |= 1u << d;
			if (d == b)
				break;
		}
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* "H:MM" or "HH:MM", 00:00 to 24:00, into minutes; -1 if malformed. */
static int parse_time(const char *p, size_t len, int *minutes)
{
	size_t colon = len - 3;
	int h = 0, m;

	if ((len != 4 && len != 5) || p[colon] != ':')
		return -1;
	for (size_t i = 0; i < len; i++)
		if (i != colon && !isdigit((unsigned char)p[i]))
			return -1;
	for (size_t i = 0; i < colon; i++)
		h = h * 10 + (p[i] - '0');
	m = (p[colon + 1] - '0') * 10 + (p[colon + 2] - '0');
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return -1;
	*minutes = h * 60 + m;
	return 0;
}

static int parse_times(const char *text, const char *p, size_t len, struct window *w,
		       struct gw_error *err)
{
	const char *dash = memchr(p, '-', len);
	size_t ns = dash ? (size_t)(dash - p) : 0, ne = len - ns - 1;

	if (!dash)
		return bad(err, text, "bad time range '%.*s' (want HH:MM-HH:MM)", (int)len, p);
	if (parse_time(p, ns, &w->start) < 0)
		return bad(err, text, "bad time '%.*s' (want HH:MM from 00:00 to 24:00)", (int)ns,
			   p);
	if (parse_time(dash + 1, ne, &w->end) < 0)
		return bad(err, text, "bad time '%.*s' (want HH:MM from 00:00 to 24:00)", (int)ne,
			   dash + 1);
	if (w->start == 24 * 60)
		return bad(err, text, "a window cannot start at 24:00");
	if (w->start == w->end)
		return bad(err, text,
			   "start and end are the same time (for a whole day write "
			   "00:00-24:00)");
	if (w->end == 0)
		w->end = 24 * 60; /* "22:00-00:00" ends at midnight, as "22:00-24:00" */
	return 0;
}

/* "DAYS HH:MM-HH:MM" with blanks around and between the two parts. */
static int parse_window(const char *text, struct window *w, struct gw_error *err)
{
	const char *p = text + strspn(text, " \t");
	const char *days = p, *times;
	size_t ndays = strcspn(p, " \t"), ntimes;
	int rc;

	p += ndays;
	p += strspn(p, " \t");
	times = p;
	ntimes = strcspn(p, " \t");
	p += ntimes;
	p += strspn(p, " \t");
	if (ndays == 0 || ntimes == 0 || *p)
		return bad(err, text, "want 'DAYS HH:MM-HH:MM', such as 'mon-fri 22:00-06:00'");
	rc = parse_days(text, days, ndays, &w->days, err);
	if (rc == 0)
		rc = parse_times(text, times, ntimes, w, err);
	return rc;
}

/* A TZif file under $TZDIR, as the C library would load it. */
static bool zone_file(const char *name)
{
	const char *dir = getenv("TZDIR");
	char *path = gw_asprintf("%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", name);
	FILE *f = fopen(path, "rb");
	char magic[4];
	bool ok = f && fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
		  memcmp(magic, "TZif", sizeof(magic)) == 0;

	if (f)
		fclose(f);
	free(path);
	return ok;
}

/*
 * The TZ value for a zone name. UTC needs no file. Other names must be a
 * zone file: the C library falls back to UTC without a word for a name it
 * cannot load, and the leading ':' keeps it from reading the name as a
 * POSIX rule ("EST5EDT").
 */
static int tz_value(const char *tz, char **out, struct gw_error *err)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789/_-+";

	if (!tz || !tz[0] || strcmp(tz, "UTC") == 0) {
		*out = gw_strdup("UTC0");
		return 0;
	}
	if (tz[0] == '/' || strstr(tz, "..") || strspn(tz, allowed) != strlen(tz) ||
	    !zone_file(tz)) {
		gw_error_set(err, GW_ERR_INPUT, "unknown time zone '%.100s'", tz);
		gw_error_hint(err, "use a tz database name such as 'Europe/Berlin' or 'UTC' "
				   "(from /usr/share/zoneinfo, Debian package tzdata)");
		return GW_ERR_INPUT;
	}
	*out = gw_asprintf(":%s", tz);
	return 0;
}

int gw_schedule_parse(struct gw_schedule **out, size_t n, const char *const *windows,
		      const char *tz, struct gw_error *err)
{
	struct gw_schedule *s = NULL;
	int rc;

	*out = NULL;
	if (n == 0) {
		rc = gw_error_set(err, GW_ERR_INPUT, "schedule has no windows");
		goto out;
	}
	s = gw_calloc(1, sizeof(*s));
	s->n = n;
	s->w = gw_calloc(n, sizeof(*s->w));
	for (size_t i = 0; i < n; i++) {
		rc = parse_window(windows[i], &s->w[i], err);
		if (rc)
			goto out;
	}
	rc = tz_value(tz, &s->tz, err);
	if (rc)
		goto out;
	*out = s;
	s = NULL;
out:
	gw_schedule_free(s);
	return rc;
}

void gw_schedule_free(struct gw_schedule *s)
{
	if (!s)
		return;
	free(s->w);
	free(s->tz);
	free(s);
}

/* Switch the C library to s's zone; returns the old TZ for tz_leave(). */
static char *tz_enter(const struct gw_schedule *s)
{
	char *old = gw_strdup(getenv("TZ"));

	setenv("TZ", s->tz, 1);
	tzset();
	return old;
}

static void tz_leave(char *old)
{
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
}

/* The wall clock at t as seconds since 1970-01-01 00:00 on that clock. */
static long long wall(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return gw_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * DAY_SECS +
	       tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

static long long offset(time_t t)
{
	return wall(t) - (long long)t;
}

/*
 * The instant at which the wall clock shows w. Not mktime(): what it does
 * in a gap or an overlap is unspecified. Zones change their offset at most
 * once in two days, so the offsets a day before and a day after w are the
 * only candidates. Of the instants they give, the earliest that shows w
 * wins (the first occurrence when clocks fall back). When none does, w is
 * in a spring-forward gap, and the answer is the first instant after it:
 * the change itself, found by bisection.
 */
static time_t instant(long long w)
{
	long long before = offset((time_t)(w - DAY_SECS));
	long long after = offset((time_t)(w + DAY_SECS));
	bool by_before = wall((time_t)(w - before)) == w;
	bool by_after = wall((time_t)(w - after)) == w;
	long long lo = w - DAY_SECS, hi = w + DAY_SECS;

	if (by_before && by_after)
		return (time_t)(w - (before > after ? before : after));
	if (by_before || before == after)
		return (time_t)(w - before);
	if (by_after)
		return (time_t)(w - after);
	while (hi - lo > 1) {
		long long mid = lo + (hi - lo) / 2;

		if (offset((time_t)mid) == before)
			lo = mid;
		else
			hi = mid;
	}
	return (time_t)hi;
}

static int by_start(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* The schedule's intervals starting from today - HORIZON to today + HORIZON, in order. */
static size_t intervals(const struct gw_schedule *s, time_t now, struct interval *iv)
{
	char *old = tz_enter(s);
	long long w = wall(now);
	long long today = (w >= 0 ? w : w - (DAY_SECS - 1)) / DAY_SECS;
	size_t k = 0;

	for (long long d = today - HORIZON; d <= today + HORIZON; d++) {
		int wd = (int)(((d + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */

		for (size_t i = 0; i < s->n; i++) {
			const struct window *win = &s->w[i];
			long long end_day = win->end <= win->start ? d + 1 : d;

			if (!(win->days & 1u << wd))
				continue;
			iv[k].start = instant(d * DAY_SECS + win->start * 60);
			iv[k].end = instant(end_day * DAY_SECS + win->end * 60);
			if (iv[k].start < iv[k].end) /* not all in a gap */
				k++;
		}
	}
	tz_leave(old);
	qsort(iv, k, sizeof(*iv), by_start);
	return k;
}

bool gw_schedule_open(const struct gw_schedule *s, time_t now, time_t *change)
{
	struct interval *iv = gw_calloc((2 * HORIZON + 1) * s->n, sizeof(*iv));
	size_t k = intervals(s, now, iv);
	time_t at = now + 7 * DAY_SECS; /* unreachable: every window opens each week */
	bool open = false;

	/* Walk the stretches of overlapping or touching intervals in time order. */
	for (size_t i = 0; i < k;) {
		time_t start = iv[i].start, end = iv[i].end;

		for (i++; i < k && iv[i].start <= end; i++)
			if (iv[i].end > end)
				end = iv[i].end;
		if (end > now) {
			open = start <= now;
			at = open ? end : start;
			break;
		}
	}
	free(iv);
	if (change)
		*change = at;
	return open;
}

void gw_schedule_format(const struct gw_schedule *s, time_t t, char *buf, size_t n)
{
	/* Not strftime's %a: that follows the locale. */
	static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	char *old = tz_enter(s);
	char zone[32];
	struct tm tm;

	localtime_r(&t, &tm);
	if (strftime(zone, sizeof(zone), "%Z", &tm) == 0)
		zone[0] = '\0';
	tz_leave(old);
	snprintf(buf, n, "%s %04d-%02d-%02d %02d:%02d %s", wday[tm.tm_wday], tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, zone);
}
