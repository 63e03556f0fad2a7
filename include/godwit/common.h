/*
 * Error codes, the caller-owned error record, and small helpers shared by
 * every module.
 */
#ifndef GODWIT_COMMON_H
#define GODWIT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define GW_MUSTCHECK __attribute__((warn_unused_result))
#define GW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define GW_NORETURN __attribute__((noreturn))

/* Test builds see file-local functions (curl's UNITTEST). */
#ifdef GW_UNIT_TEST
#define GW_STATIC
#else
#define GW_STATIC static
#endif

/*
 * Stable error numbers: never renumber, only append. docs/errors.md
 * documents each one and gw_strerror() names each one (a test checks both).
 */
enum gw_err {
	GW_OK = 0,
	GW_ERR_NOMEM = -1,           /* out of memory */
	GW_ERR_USAGE = -2,           /* bad command line */
	GW_ERR_INPUT = -3,           /* bad migration file or other input */
	GW_ERR_IO = -4,              /* file system error */
	GW_ERR_URL = -5,             /* bad database URL */
	GW_ERR_CONNECT = -6,         /* could not connect */
	GW_ERR_DB = -7,              /* fatal database error */
	GW_ERR_DB_RETRY = -8,        /* retryable: deadlock, serialization, lost connection */
	GW_ERR_DB_LOCK_TIMEOUT = -9, /* lock wait timed out */
	GW_ERR_DB_DUPLICATE = -10,   /* unique key violation */
	GW_ERR_DB_UNDEFINED = -11,   /* missing table, column or object */
	GW_ERR_LOCKED = -12,         /* another runner holds the lock */
	GW_ERR_CHECKSUM = -13,       /* an applied migration file was edited */
	GW_ERR_GRAPH = -14,          /* bad revision graph or target */
	GW_ERR_STATE = -15,          /* state store missing or transition refused */
	GW_ERR_UNSUPPORTED = -16,    /* operation not supported on this engine */
	GW_ERR_NO_INVERSE = -17,     /* no safe inverse and no "down" given */
	GW_ERR_INTERRUPTED = -18,    /* stopped by signal or pause */
	GW_ERR_DB_EXISTS = -19,      /* object already exists */
};
#define GW_ERR_LAST GW_ERR_DB_EXISTS

/*
 * Detail of a failure, filled at the failure site. The first error wins:
 * later gw_error_set() calls on a filled record are ignored.
 */
struct gw_error {
	int code;          /* enum gw_err, 0 while unset */
	char sqlstate[6];  /* SQLSTATE from the server, "" if none */
	int db_errno;      /* native server error number, 0 if none */
	char msg[256];     /* primary message: lower case, no period */
	char hint[256];    /* advice line, "" if none */
};
#define GW_ERROR_INIT {0, "", 0, "", ""}

/* Fill err (may be NULL) unless already set; returns code. */
int gw_error_set(struct gw_error *err, int code, const char *fmt, ...) GW_PRINTF(3, 4);
/* Set the hint of err (may be NULL) unless one is set already. */
void gw_error_hint(struct gw_error *err, const char *fmt, ...) GW_PRINTF(2, 3);
void gw_error_clear(struct gw_error *err);

/* Borrowed static text for any code, "unknown error" for others. */
const char *gw_strerror(int code);
/* Process exit status for a code (SPEC section 7): 0, 1, 2, 3 or 4. */
int gw_exit_code(int code);

/* Allocation that aborts on failure, as git's xmalloc: callers never see NULL. */
void *gw_malloc(size_t n);
void *gw_calloc(size_t n, size_t size);
void *gw_realloc(void *p, size_t n);
char *gw_strdup(const char *s);      /* NULL in, NULL out */
char *gw_strndup(const char *s, size_t n);
char *gw_asprintf(const char *fmt, ...) GW_PRINTF(1, 2);
/* Monotonic clock in milliseconds, for durations; wall clock in microseconds since the epoch. */
double gw_now_ms(void);
long long gw_epoch_us(void);
/* Sleep ms milliseconds (a signal may end it early). */
void gw_sleep_ms(long ms);
/*
 * Wall clock in epoch seconds, for schedules. Tests can move it: when the
 * environment variable GODWIT_FAKE_NOW holds a UTC time, ISO 8601
 * ("2026-11-23T21:59:58Z") or epoch seconds ("1795471198"), it returns
 * that time plus the monotonic time elapsed since the first call, so a
 * process can start "2 s before the window closes". The variable is read
 * once, at the first call; a malformed value is ignored with one warning
 * and the real clock is used. Not thread-safe on the first call.
 */
time_t gw_clock_now(void);
#ifdef GW_UNIT_TEST
/* Forget the first call, so the next one reads GODWIT_FAKE_NOW again. */
void gw_clock_reset(void);
#endif
/* Days from 1970-01-01 to year-month-day (proleptic Gregorian, month 1..12). */
long long gw_days_from_civil(int year, int month, int day);
/* Bytes of the longest prefix of s of at most max bytes that ends between UTF-8 characters. */
int gw_utf8_prefix(const char *s, size_t max);

GW_NORETURN void gw_bug(const char *file, int line, const char *msg);
#define GW_BUG(msg) gw_bug(__FILE__, __LINE__, (msg))
#define gw_assert(x) ((x) ? (void)0 : gw_bug(__FILE__, __LINE__, #x))

#define GW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
