/*
 * Errors, exit codes and allocation that never returns NULL.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "godwit/common.h"
#include "godwit/log.h"

static const struct {
	int code;
	const char *text;
	int exit_code;
} errors[] = {
	{GW_OK, "success", 0},
	{GW_ERR_NOMEM, "out of memory", 1},
	{GW_ERR_USAGE, "bad command line", 2},
	{GW_ERR_INPUT, "bad input", 2},
	{GW_ERR_IO, "file system error", 1},
	{GW_ERR_URL, "bad database url", 2},
	{GW_ERR_CONNECT, "could not connect", 1},
	{GW_ERR_DB, "database error", 1},
	{GW_ERR_DB_RETRY, "retryable database error", 1},
	{GW_ERR_DB_LOCK_TIMEOUT, "lock wait timeout", 1},
	{GW_ERR_DB_DUPLICATE, "duplicate key", 1},
	{GW_ERR_DB_UNDEFINED, "object does not exist", 1},
	{GW_ERR_LOCKED, "another runner holds the lock", 3},
	{GW_ERR_CHECKSUM, "applied migration file was edited", 2},
	{GW_ERR_GRAPH, "bad revision graph or target", 2},
	{GW_ERR_STATE, "state refused", 2},
	{GW_ERR_UNSUPPORTED, "not supported", 2},
	{GW_ERR_NO_INVERSE, "no safe inverse", 2},
	{GW_ERR_INTERRUPTED, "interrupted", 4},
	{GW_ERR_DB_EXISTS, "object already exists", 1},
};

static int find(int code)
{
	for (size_t i = 0; i < GW_ARRAY_SIZE(errors); i++)
		if (errors[i].code == code)
			return (int)i;
	return -1;
}

const char *gw_strerror(int code)
{
	int i = find(code);

	return i < 0 ? "unknown error" : errors[i].text;
}

int gw_exit_code(int code)
{
	int i = find(code);

	return i < 0 ? 1 : errors[i].exit_code;
}

int gw_error_set(struct gw_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->code != 0)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void gw_error_hint(struct gw_error *err, const char *fmt, ...)
{
	va_list ap;

	/* Like the message, the first hint wins: it belongs to the first error. */
	if (!err || err->hint[0])
		return;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
}

void gw_error_clear(struct gw_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

static void oom(size_t n)
{
	fprintf(stderr, "godwit: fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *gw_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *gw_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *gw_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *gw_strdup(const char *s)
{
	return s ? gw_strndup(s, strlen(s)) : NULL;
}

char *gw_strndup(const char *s, size_t n)
{
	char *p = gw_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *gw_asprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		GW_BUG("bad format");
	p = gw_malloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void gw_bug(const char *file, int line, const char *msg)
{
	fprintf(stderr, "godwit: BUG: %s:%d: %s\n", file, line, msg);
	abort();
}

int gw_utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return (int)n;
	/*
	 * Cut before s[n]; step left while s[n] is a continuation byte
	 * (its top two bits are 10), so that the cut falls where a character starts.
	 */
	for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return (int)n;
}

double gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void gw_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

long long gw_epoch_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long gw_days_from_civil(int year, int month, int day)
{
	/*
	 * Howard Hinnant's days_from_civil: years start in March, so the leap
	 * day is the last day of its year, and 400-year eras repeat exactly.
	 */
	long long y = (long long)year - (month <= 2);
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* "2026-11-23T21:59:58Z" or epoch seconds into *t; -1 if it is neither. */
static int parse_utc(const char *v, time_t *t)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
	int y, mo, d, h, mi, sec;
	struct tm tm;
	size_t i;

	if (v[0] && strspn(v, "0123456789") == strlen(v) && strlen(v) <= 12) {
		*t = (time_t)strtoll(v, NULL, 10);
		return 0;
	}
	if (strlen(v) != sizeof(pattern) - 1)
		return -1;
	for (i = 0; pattern[i]; i++)
		if (pattern[i] == 'd' ? !isdigit((unsigned char)v[i]) : v[i] != pattern[i])
			return -1;
	if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6 || mo < 1 ||
	    mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		return -1;
	*t = (time_t)(gw_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
	/* 2026-02-30 would silently be March 2: refuse it. */
	if (!gmtime_r(t, &tm) || tm.tm_mday != d)
		return -1;
	return 0;
}

static struct {
	bool read;       /* GODWIT_FAKE_NOW was looked at */
	bool fake;       /* and holds a valid time */
	time_t base;     /* that time */
	double start_ms; /* gw_now_ms() at the first call */
} fake_clock;

time_t gw_clock_now(void)
{
	if (!fake_clock.read) {
		const char *v = getenv("GODWIT_FAKE_NOW");

		fake_clock.read = true;
		if (v && v[0]) {
			fake_clock.fake = parse_utc(v, &fake_clock.base) == 0;
			fake_clock.start_ms = gw_now_ms();
			if (!fake_clock.fake)
				gw_warn(NULL,
					"ignoring GODWIT_FAKE_NOW '%s': want a UTC time such as "
					"2026-11-23T21:59:58Z or epoch seconds",
					v);
		}
	}
	if (!fake_clock.fake)
		return time(NULL);
	return fake_clock.base + (time_t)((gw_now_ms() - fake_clock.start_ms) / 1000.0);
}

#ifdef GW_UNIT_TEST
void gw_clock_reset(void)
{
	memset(&fake_clock, 0, sizeof(fake_clock));
}
#endif
