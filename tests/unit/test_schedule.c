/*
 * Schedule windows: parsing and its error messages, open/closed and the
 * next change for night, weekend, overlapping, wrapping and daily windows,
 * time zones and daylight saving days, the formatted time, and the fake
 * clock. Times are fixed instants; the machine's TZ is set to an unrelated
 * zone to show it does not matter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "godwit/schedule.h"

/* An instant given as UTC date and time (2026-11-23 is a Monday). */
static time_t utc(int y, int mo, int d, int h, int mi)
{
	return (time_t)(gw_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60);
}

static struct gw_schedule *parse_ok(size_t n, const char *const *windows, const char *tz)
{
	struct gw_error err = GW_ERROR_INIT;
	struct gw_schedule *s = NULL;
	int rc = gw_schedule_parse(&s, n, windows, tz, &err);

	if (rc != 0)
		print_error("parsing '%s' in '%s': %s\n", windows[0], tz ? tz : "(null)",
			    err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	assert_int_equal(err.code, 0);
	return s;
}

static struct gw_schedule *parse1(const char *window, const char *tz)
{
	return parse_ok(1, &window, tz);
}

/* s is open (or closed) at now, and that changes at want. */
static void expect_at(const struct gw_schedule *s, time_t now, bool open, time_t want)
{
	time_t change = 0;
	bool got = gw_schedule_open(s, now, &change);

	if (got != open || change != want) {
		char a[64], b[64], c[64];

		gw_schedule_format(s, now, a, sizeof(a));
		gw_schedule_format(s, change, b, sizeof(b));
		gw_schedule_format(s, want, c, sizeof(c));
		print_error("at %s: got %s until %s, want %s until %s\n", a,
			    got ? "open" : "closed", b, open ? "open" : "closed", c);
	}
	assert_true(got == open);
	assert_int_equal((long long)change, (long long)want);
}

static void test_days_from_civil(void **state)
{
	(void)state;
	assert_int_equal(gw_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(gw_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(gw_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(gw_days_from_civil(2024, 2, 29), 19782);
	/* date -u -d 2026-11-23T21:59:58Z +%s */
	assert_int_equal((long long)utc(2026, 11, 23, 21, 59) + 58, 1795471198LL);
}

static void test_parse_good(void **state)
{
	static const char *const good[] = {
		"mon-fri 22:00-06:00",     "sat-sun 00:00-24:00",  "mon,wed,fri 09:30-10:00",
		"daily 01:00-05:00",       "* 01:00-05:00",        "fri-mon 9:00-17:00",
		"  MON-Fri\t22:00-06:00 ", "Sun,mon-tue 23:59-00:01", "DAILY 00:00-24:00",
		"sat 22:00-00:00",         "sun-sun 12:00-13:00",
	};
	static const char *const zones[] = {NULL, "", "UTC", "Europe/Berlin",
					    "America/New_York", "Etc/UTC"};
	struct gw_schedule *s;

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(good); i++)
		gw_schedule_free(parse1(good[i], "UTC"));
	for (size_t i = 0; i < GW_ARRAY_SIZE(zones); i++)
		gw_schedule_free(parse1("daily 01:00-02:00", zones[i]));
	s = parse_ok(GW_ARRAY_SIZE(good), good, "Europe/Berlin");
	gw_schedule_free(s);
	gw_schedule_free(NULL);
}

static void test_parse_bad(void **state)
{
	static const struct {
		const char *window;
		const char *msg;
	} cases[] = {
		{"mon-fro 22:00-06:00", "schedule window 'mon-fro 22:00-06:00': unknown day 'fro'"},
		{"monday 22:00-06:00", "schedule window 'monday 22:00-06:00': unknown day 'monday'"},
		{"mon,,fri 01:00-02:00", "schedule window 'mon,,fri 01:00-02:00': unknown day ''"},
		{"mon, 01:00-02:00", "schedule window 'mon, 01:00-02:00': unknown day ''"},
		{"-fri 01:00-02:00", "schedule window '-fri 01:00-02:00': unknown day ''"},
		{"mon 25:00-06:00",
		 "schedule window 'mon 25:00-06:00': bad time '25:00' (want HH:MM from 00:00 to "
		 "24:00)"},
		{"mon 22:00-06:60",
		 "schedule window 'mon 22:00-06:60': bad time '06:60' (want HH:MM from 00:00 to "
		 "24:00)"},
		{"mon 22:00-24:01",
		 "schedule window 'mon 22:00-24:01': bad time '24:01' (want HH:MM from 00:00 to "
		 "24:00)"},
		{"mon 1:5-02:00",
		 "schedule window 'mon 1:5-02:00': bad time '1:5' (want HH:MM from 00:00 to "
		 "24:00)"},
		{"mon 2200-0600",
		 "schedule window 'mon 2200-0600': bad time '2200' (want HH:MM from 00:00 to "
		 "24:00)"},
		{"mon 22:00-", "schedule window 'mon 22:00-': bad time '' (want HH:MM from 00:00 to "
			       "24:00)"},
		{"mon 22:00",
		 "schedule window 'mon 22:00': bad time range '22:00' (want HH:MM-HH:MM)"},
		{"mon 24:00-06:00", "schedule window 'mon 24:00-06:00': a window cannot start at "
				    "24:00"},
		{"mon 22:00-22:00", "schedule window 'mon 22:00-22:00': start and end are the same "
				    "time (for a whole day write 00:00-24:00)"},
		{"mon 00:00-00:00", "schedule window 'mon 00:00-00:00': start and end are the same "
				    "time (for a whole day write 00:00-24:00)"},
		{"mon", "schedule window 'mon': want 'DAYS HH:MM-HH:MM', such as 'mon-fri "
			"22:00-06:00'"},
		{"", "schedule window '': want 'DAYS HH:MM-HH:MM', such as 'mon-fri 22:00-06:00'"},
		{"mon 22:00-06:00 tue",
		 "schedule window 'mon 22:00-06:00 tue': want 'DAYS HH:MM-HH:MM', such as 'mon-fri "
		 "22:00-06:00'"},
	};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		struct gw_error err = GW_ERROR_INIT;
		struct gw_schedule *s = (struct gw_schedule *)&err; /* must be reset */
		const char *const w[] = {"daily 01:00-02:00", cases[i].window};

		assert_int_equal(gw_schedule_parse(&s, 2, w, "UTC", &err), GW_ERR_INPUT);
		assert_null(s);
		assert_int_equal(err.code, GW_ERR_INPUT);
		assert_string_equal(err.msg, cases[i].msg);
		/* a NULL error record is allowed */
		assert_int_equal(gw_schedule_parse(&s, 2, w, "UTC", NULL), GW_ERR_INPUT);
		assert_null(s);
	}
}

static void test_parse_bad_list_and_zone(void **state)
{
	static const char *const zones[] = {"Europe/Berln", "../../../etc/passwd",
					    "/usr/share/zoneinfo/UTC", "Europe", "zone.tab",
					    "Europe/Berlin ", "utc"};
	const char *w = "daily 01:00-02:00";
	const char *const two_bad[] = {"mon 25:00-26:00", "tue 26:00-27:00"};
	struct gw_error err = GW_ERROR_INIT;
	struct gw_schedule *s = NULL;

	(void)state;
	assert_int_equal(gw_schedule_parse(&s, 0, NULL, "UTC", &err), GW_ERR_INPUT);
	assert_null(s);
	assert_string_equal(err.msg, "schedule has no windows");
	for (size_t i = 0; i < GW_ARRAY_SIZE(zones); i++) {
		char want[256];

		gw_error_clear(&err);
		assert_int_equal(gw_schedule_parse(&s, 1, &w, zones[i], &err), GW_ERR_INPUT);
		assert_null(s);
		snprintf(want, sizeof(want), "unknown time zone '%s'", zones[i]);
		assert_string_equal(err.msg, want);
		assert_non_null(strstr(err.hint, "Europe/Berlin"));
	}
	/* the first bad window is named */
	gw_error_clear(&err);
	assert_int_equal(gw_schedule_parse(&s, 2, two_bad, "UTC", &err), GW_ERR_INPUT);
	assert_string_equal(err.msg, "schedule window 'mon 25:00-26:00': bad time '25:00' (want "
				     "HH:MM from 00:00 to 24:00)");
}

/* "mon-fri 22:00-06:00": Monday night to Saturday morning, not Sunday night. */
static void test_weeknights(void **state)
{
	struct gw_schedule *s = parse1("mon-fri 22:00-06:00", "UTC");

	(void)state;
	/* Friday 23:00: open, closes Saturday 06:00 */
	expect_at(s, utc(2026, 11, 27, 23, 0), true, utc(2026, 11, 28, 6, 0));
	/* Monday 03:00 is Sunday night: closed until Monday 22:00 */
	expect_at(s, utc(2026, 11, 23, 3, 0), false, utc(2026, 11, 23, 22, 0));
	/* Tuesday 03:00 is Monday night */
	expect_at(s, utc(2026, 11, 24, 3, 0), true, utc(2026, 11, 24, 6, 0));
	/* the start is in the window, the end is not */
	expect_at(s, utc(2026, 11, 23, 22, 0), true, utc(2026, 11, 24, 6, 0));
	expect_at(s, utc(2026, 11, 23, 22, 0) - 1, false, utc(2026, 11, 23, 22, 0));
	expect_at(s, utc(2026, 11, 28, 6, 0) - 1, true, utc(2026, 11, 28, 6, 0));
	/* Saturday 06:00: closed over the weekend */
	expect_at(s, utc(2026, 11, 28, 6, 0), false, utc(2026, 11, 30, 22, 0));
	expect_at(s, utc(2026, 11, 29, 23, 0), false, utc(2026, 11, 30, 22, 0));
	/* change may be NULL */
	assert_true(gw_schedule_open(s, utc(2026, 11, 27, 23, 0), NULL));
	gw_schedule_free(s);
}

/* Two whole days are one stretch: open Saturday 00:00 closes Monday 00:00. */
static void test_weekend(void **state)
{
	static const char *const split[] = {"sat 00:00-24:00", "sun 00:00-24:00"};
	struct gw_schedule *s[] = {parse1("sat-sun 00:00-24:00", "UTC"),
				   parse1("sat,sun 00:00-24:00", "UTC"),
				   parse_ok(2, split, "UTC")};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(s); i++) {
		expect_at(s[i], utc(2026, 11, 28, 0, 0), true, utc(2026, 11, 30, 0, 0));
		expect_at(s[i], utc(2026, 11, 29, 23, 59), true, utc(2026, 11, 30, 0, 0));
		expect_at(s[i], utc(2026, 11, 27, 12, 0), false, utc(2026, 11, 28, 0, 0));
		expect_at(s[i], utc(2026, 11, 30, 0, 0), false, utc(2026, 12, 5, 0, 0));
		gw_schedule_free(s[i]);
	}
}

static void test_overlapping(void **state)
{
	static const char *const nights[] = {"mon-fri 22:00-06:00", "sat-sun 00:00-24:00",
					     "wed 05:00-07:00"};
	static const char *const chain[] = {"mon 04:00-05:00", "mon 01:00-03:00",
					    "mon 02:00-04:00", "mon 05:30-06:00"};
	static const char *const midnight[] = {"mon 22:00-00:00", "tue 00:00-01:00"};
	struct gw_schedule *s = parse_ok(GW_ARRAY_SIZE(nights), nights, "UTC");

	(void)state;
	/* Friday night runs into the weekend: open until Monday 00:00 */
	expect_at(s, utc(2026, 11, 27, 23, 0), true, utc(2026, 11, 30, 0, 0));
	/* Tuesday night runs into Wednesday's 05:00-07:00 */
	expect_at(s, utc(2026, 11, 25, 3, 0), true, utc(2026, 11, 25, 7, 0));
	/* Thursday morning does not */
	expect_at(s, utc(2026, 11, 26, 3, 0), true, utc(2026, 11, 26, 6, 0));
	expect_at(s, utc(2026, 11, 26, 6, 30), false, utc(2026, 11, 26, 22, 0));
	gw_schedule_free(s);

	/* overlapping and touching windows, given out of order, are one stretch */
	s = parse_ok(GW_ARRAY_SIZE(chain), chain, "UTC");
	expect_at(s, utc(2026, 11, 23, 0, 0), false, utc(2026, 11, 23, 1, 0));
	expect_at(s, utc(2026, 11, 23, 1, 30), true, utc(2026, 11, 23, 5, 0));
	expect_at(s, utc(2026, 11, 23, 5, 10), false, utc(2026, 11, 23, 5, 30));
	expect_at(s, utc(2026, 11, 23, 5, 30), true, utc(2026, 11, 23, 6, 0));
	gw_schedule_free(s);

	/* "22:00-00:00" ends at midnight and touches Tuesday's window */
	s = parse_ok(GW_ARRAY_SIZE(midnight), midnight, "UTC");
	expect_at(s, utc(2026, 11, 23, 23, 0), true, utc(2026, 11, 24, 1, 0));
	gw_schedule_free(s);
}

static void test_wrapping_days(void **state)
{
	struct gw_schedule *s = parse1("FRI-Mon 09:00-17:00", "UTC");

	(void)state;
	expect_at(s, utc(2026, 11, 28, 12, 0), true, utc(2026, 11, 28, 17, 0)); /* Sat */
	expect_at(s, utc(2026, 11, 29, 20, 0), false, utc(2026, 11, 30, 9, 0));  /* Sun */
	expect_at(s, utc(2026, 11, 30, 12, 0), true, utc(2026, 11, 30, 17, 0));  /* Mon */
	expect_at(s, utc(2026, 12, 1, 12, 0), false, utc(2026, 12, 4, 9, 0));    /* Tue */
	expect_at(s, utc(2026, 12, 3, 18, 0), false, utc(2026, 12, 4, 9, 0));    /* Thu */
	gw_schedule_free(s);

	/* a list with a wrapping range: Sunday to Tuesday plus Thursday */
	s = parse1("thu,sun-tue 10:00-11:00", "UTC");
	expect_at(s, utc(2026, 11, 24, 12, 0), false, utc(2026, 11, 26, 10, 0)); /* Tue */
	expect_at(s, utc(2026, 11, 26, 12, 0), false, utc(2026, 11, 29, 10, 0)); /* Thu */
	gw_schedule_free(s);
}

static void test_daily(void **state)
{
	struct gw_schedule *s[] = {parse1("daily 01:00-05:00", NULL),
				   parse1("* 01:00-05:00", ""),
				   parse1("mon-sun 01:00-05:00", "UTC")};
	struct gw_schedule *always = parse1("daily 00:00-24:00", "Europe/Berlin");
	time_t change = 0, now = utc(2026, 11, 25, 12, 0);

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(s); i++) {
		for (int d = 23; d <= 29; d++) {
			expect_at(s[i], utc(2026, 11, d, 0, 0), false, utc(2026, 11, d, 1, 0));
			expect_at(s[i], utc(2026, 11, d, 4, 0), true, utc(2026, 11, d, 5, 0));
			expect_at(s[i], utc(2026, 11, d, 5, 0), false, utc(2026, 11, d + 1, 1, 0));
		}
		gw_schedule_free(s[i]);
	}
	/* always open: the change is at least a week ahead */
	assert_true(gw_schedule_open(always, now, &change));
	assert_true(change >= now + 7 * 86400);
	gw_schedule_free(always);
}

/* The same window in Berlin (UTC+1 in winter, +2 in summer) and in UTC. */
static void test_zones(void **state)
{
	struct gw_schedule *berlin = parse1("daily 01:00-05:00", "Europe/Berlin");
	struct gw_schedule *utc_s = parse1("daily 01:00-05:00", "UTC");
	struct gw_schedule *ny = parse1("mon-fri 22:00-06:00", "America/New_York");

	(void)state;
	expect_at(berlin, utc(2026, 11, 23, 0, 30), true, utc(2026, 11, 23, 4, 0));
	expect_at(utc_s, utc(2026, 11, 23, 0, 30), false, utc(2026, 11, 23, 1, 0));
	expect_at(berlin, utc(2026, 11, 23, 4, 30), false, utc(2026, 11, 24, 0, 0));
	expect_at(utc_s, utc(2026, 11, 23, 4, 30), true, utc(2026, 11, 23, 5, 0));
	/* summer: 01:00 CEST is 23:00 UTC the day before */
	expect_at(berlin, utc(2026, 7, 14, 23, 0), true, utc(2026, 7, 15, 3, 0));
	/* UTC-5: Friday 22:00 EST is Saturday 03:00 UTC, its end Saturday 11:00 UTC */
	expect_at(ny, utc(2026, 11, 28, 3, 0), true, utc(2026, 11, 28, 11, 0));
	/* Monday 03:00 UTC is Sunday 22:00 in New York: closed */
	expect_at(ny, utc(2026, 11, 23, 3, 0), false, utc(2026, 11, 24, 3, 0));
	gw_schedule_free(berlin);
	gw_schedule_free(utc_s);
	gw_schedule_free(ny);
}

/*
 * Europe/Berlin changes from CET to CEST on 2026-03-29 at 02:00 (01:00
 * UTC) and back on 2026-10-25 at 03:00 CEST (01:00 UTC).
 */
static void test_dst(void **state)
{
	struct gw_schedule *night = parse1("daily 01:00-05:00", "Europe/Berlin");
	struct gw_schedule *gap = parse1("sun 02:30-04:00", "Europe/Berlin");
	struct gw_schedule *in_gap = parse1("sun 02:00-02:30", "Europe/Berlin");
	struct gw_schedule *twice = parse1("sun 02:30-03:30", "Europe/Berlin");

	(void)state;
	/* spring: 01:00 CET (00:00 UTC) to 05:00 CEST (03:00 UTC), three hours */
	expect_at(night, utc(2026, 3, 29, 0, 0), true, utc(2026, 3, 29, 3, 0));
	expect_at(night, utc(2026, 3, 28, 12, 0), false, utc(2026, 3, 29, 0, 0));
	/* and the day after, in CEST: 23:00 UTC */
	expect_at(night, utc(2026, 3, 29, 12, 0), false, utc(2026, 3, 29, 23, 0));
	/* autumn: 01:00 CEST (23:00 UTC) to 05:00 CET (04:00 UTC), five hours */
	expect_at(night, utc(2026, 10, 24, 23, 0), true, utc(2026, 10, 25, 4, 0));
	expect_at(night, utc(2026, 10, 25, 12, 0), false, utc(2026, 10, 26, 0, 0));
	/* 02:30 does not exist on 2026-03-29: the window opens at 03:00 CEST */
	expect_at(gap, utc(2026, 3, 28, 12, 0), false, utc(2026, 3, 29, 1, 0));
	expect_at(gap, utc(2026, 3, 29, 1, 0), true, utc(2026, 3, 29, 2, 0));
	/* a window all in the gap does not open that day: next Sunday, in CEST */
	expect_at(in_gap, utc(2026, 3, 28, 12, 0), false, utc(2026, 4, 5, 0, 0));
	/* 02:30 happens twice on 2026-10-25: the first one, until 03:30 CET */
	expect_at(twice, utc(2026, 10, 24, 12, 0), false, utc(2026, 10, 25, 0, 30));
	expect_at(twice, utc(2026, 10, 25, 0, 30), true, utc(2026, 10, 25, 2, 30));
	gw_schedule_free(night);
	gw_schedule_free(gap);
	gw_schedule_free(in_gap);
	gw_schedule_free(twice);
}

static void test_format(void **state)
{
	struct gw_schedule *berlin = parse1("daily 01:00-05:00", "Europe/Berlin");
	struct gw_schedule *utc_s = parse1("daily 01:00-05:00", NULL);
	char buf[64], small[8];

	(void)state;
	gw_schedule_format(berlin, utc(2026, 11, 23, 21, 0), buf, sizeof(buf));
	assert_string_equal(buf, "Mon 2026-11-23 22:00 CET");
	gw_schedule_format(berlin, utc(2026, 7, 14, 23, 30), buf, sizeof(buf));
	assert_string_equal(buf, "Wed 2026-07-15 01:30 CEST");
	gw_schedule_format(utc_s, utc(2026, 11, 23, 21, 0), buf, sizeof(buf));
	assert_string_equal(buf, "Mon 2026-11-23 21:00 UTC");
	gw_schedule_format(utc_s, utc(2026, 11, 29, 0, 5), buf, sizeof(buf));
	assert_string_equal(buf, "Sun 2026-11-29 00:05 UTC");
	gw_schedule_format(utc_s, utc(2026, 11, 23, 21, 0), small, sizeof(small));
	assert_string_equal(small, "Mon 202");
	gw_schedule_free(berlin);
	gw_schedule_free(utc_s);
}

/* The caller's TZ is put back, set or unset. */
static void test_tz_restored(void **state)
{
	struct gw_schedule *s = parse1("daily 01:00-05:00", "Europe/Berlin");
	char buf[64];

	(void)state;
	assert_true(gw_schedule_open(s, utc(2026, 11, 23, 0, 30), NULL));
	assert_string_equal(getenv("TZ"), "Asia/Kolkata");
	unsetenv("TZ");
	gw_schedule_format(s, utc(2026, 11, 23, 0, 30), buf, sizeof(buf));
	assert_null(getenv("TZ"));
	setenv("TZ", "Asia/Kolkata", 1);
	gw_schedule_free(s);
}

static void test_fake_clock(void **state)
{
	static const char *const bad[] = {"2026-11-23 21:59:58", "2026-11-23T21:59:58",
					  "2026-02-30T00:00:00Z", "2026-11-23T24:00:00Z",
					  "yesterday", "-5", "12345678901234"};
	time_t t, real;

	(void)state;
	setenv("GODWIT_FAKE_NOW", "2026-11-23T21:59:58Z", 1);
	gw_clock_reset();
	t = gw_clock_now();
	assert_true(t >= 1795471198 && t <= 1795471199);
	/* read once: a later change does not count */
	setenv("GODWIT_FAKE_NOW", "1000", 1);
	assert_true(gw_clock_now() >= 1795471198);

	gw_clock_reset();
	assert_true(gw_clock_now() >= 1000 && gw_clock_now() <= 1001);

	/* malformed or impossible: a warning, and the real clock */
	for (size_t i = 0; i < GW_ARRAY_SIZE(bad); i++) {
		setenv("GODWIT_FAKE_NOW", bad[i], 1);
		gw_clock_reset();
		real = time(NULL);
		t = gw_clock_now();
		assert_true(t >= real && t <= real + 1);
	}

	unsetenv("GODWIT_FAKE_NOW");
	gw_clock_reset();
	real = time(NULL);
	t = gw_clock_now();
	assert_true(t >= real && t <= real + 1);
}

/* The machine's zone must not matter: pick one far from UTC and Berlin. */
static int setup(void **state)
{
	(void)state;
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days_from_civil),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_bad_list_and_zone),
		cmocka_unit_test(test_weeknights),
		cmocka_unit_test(test_weekend),
		cmocka_unit_test(test_overlapping),
		cmocka_unit_test(test_wrapping_days),
		cmocka_unit_test(test_daily),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_dst),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_tz_restored),
		cmocka_unit_test(test_fake_clock),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
