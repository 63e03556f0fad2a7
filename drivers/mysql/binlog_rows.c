/*
 * Binlog row images: the values of MariaDB/MySQL ROWS events decoded into
 * SQL literals, and the column definitions the decoding needs.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mysql.h>

#include "godwit/buf.h"
#include "binlog_int.h"

/* Bytes of TABLE_MAP metadata per binlog type, and names for messages. */
static const struct {
	unsigned char type;
	unsigned char metalen;
	const char *name;
} types[] = {
	{MYSQL_TYPE_TINY, 0, "tinyint"},
	{MYSQL_TYPE_SHORT, 0, "smallint"},
	{MYSQL_TYPE_INT24, 0, "mediumint"},
	{MYSQL_TYPE_LONG, 0, "int"},
	{MYSQL_TYPE_LONGLONG, 0, "bigint"},
	{MYSQL_TYPE_YEAR, 0, "year"},
	{MYSQL_TYPE_FLOAT, 1, "float"},
	{MYSQL_TYPE_DOUBLE, 1, "double"},
	{MYSQL_TYPE_NEWDECIMAL, 2, "decimal"},
	{MYSQL_TYPE_VARCHAR, 2, "varchar"},
	{MYSQL_TYPE_VAR_STRING, 2, "varchar"},
	{MYSQL_TYPE_STRING, 2, "char"},
	{MYSQL_TYPE_ENUM, 2, "enum"},
	{MYSQL_TYPE_SET, 2, "set"},
	{MYSQL_TYPE_BLOB, 1, "blob"},
	{MYSQL_TYPE_BIT, 2, "bit"},
	{MYSQL_TYPE_DATE, 0, "date"},
	{MYSQL_TYPE_TIME, 0, "time"},
	{MYSQL_TYPE_DATETIME, 0, "datetime"},
	{MYSQL_TYPE_TIMESTAMP, 0, "timestamp"},
	{MYSQL_TYPE_TIME2, 1, "time"},
	{MYSQL_TYPE_DATETIME2, 1, "datetime"},
	{MYSQL_TYPE_TIMESTAMP2, 1, "timestamp"},
	{MYSQL_TYPE_GEOMETRY, 1, "geometry"},
	{MYSQL_TYPE_JSON, 1, "json"},
};

static int type_index(unsigned type)
{
	for (size_t i = 0; i < GW_ARRAY_SIZE(types); i++)
		if (types[i].type == type)
			return (int)i;
	return -1;
}

/* ---- column definitions ------------------------------------------------ */

static bool starts_with(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * The quoted members of "enum('a','it''s')" or "set(...)" from
 * COLUMN_TYPE, which doubles quotes and escapes backslash, newline, CR and
 * NUL with a backslash. A member holding NUL ends there.
 */
static void parse_members(struct gw_binlog_col *c, const char *s)
{
	struct gw_buf m = GW_BUF_INIT;
	size_t cap = 0;

	while (*s == '\'') {
		gw_buf_reset(&m);
		for (s++; *s && !(*s == '\'' && s[1] != '\''); s++) {
			char ch = *s;

			if (ch == '\'') {
				ch = *++s;
			} else if (ch == '\\' && s[1]) {
				ch = *++s;
				ch = ch == '0' ? '\0' : ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch;
			}
			gw_buf_putc(&m, ch);
		}
		if (c->nmembers == cap) {
			cap = cap ? 2 * cap : 8;
			c->members = gw_realloc(c->members, cap * sizeof(*c->members));
		}
		c->members[c->nmembers++] = gw_strdup(m.data);
		if (*s == '\'')
			s++;
		if (*s == ',')
			s++;
	}
	gw_buf_release(&m);
}

void gw_binlog_col_define(struct gw_binlog_col *c, const char *column_type, const char *charset)
{
	static const char *const binary_types[] = {"binary", "varbinary", "tinyblob", "blob",
						   "mediumblob", "longblob"};

	c->is_unsigned = false;
	c->precision = 0;
	c->charset = NULL;
	c->nmembers = 0;
	c->members = NULL;
	if (starts_with(column_type, "enum("))
		parse_members(c, column_type + 5);
	else if (starts_with(column_type, "set("))
		parse_members(c, column_type + 4);
	else
		c->is_unsigned = strstr(column_type, " unsigned") || strstr(column_type, " zerofill");
	if (starts_with(column_type, "time(") || starts_with(column_type, "datetime(") ||
	    starts_with(column_type, "timestamp("))
		c->precision = (unsigned)strtoul(strchr(column_type, '(') + 1, NULL, 10);
	if (charset) {
		c->charset = gw_strdup(charset);
		return;
	}
	for (size_t i = 0; i < GW_ARRAY_SIZE(binary_types); i++) {
		size_t n = strlen(binary_types[i]);

		if (strncasecmp(column_type, binary_types[i], n) == 0 &&
		    (column_type[n] == '\0' || column_type[n] == '(' || column_type[n] == ' '))
			c->charset = gw_strdup("binary");
	}
}

void gw_binlog_col_release(struct gw_binlog_col *c)
{
	for (size_t i = 0; i < c->nmembers; i++)
		free(c->members[i]);
	free(c->members);
	free(c->charset);
	c->members = NULL;
	c->nmembers = 0;
	c->charset = NULL;
}

/* ---- metadata ---------------------------------------------------------- */

int gw_binlog_meta(const unsigned char *coltypes, size_t ncols, const unsigned char *meta,
		   size_t metalen, unsigned *out)
{
	size_t pos = 0;

	for (size_t i = 0; i < ncols; i++) {
		int t = type_index(coltypes[i]);

		if (t < 0 || metalen - pos < types[t].metalen)
			return -1;
		out[i] = 0;
		if (types[t].metalen == 1) {
			out[i] = meta[pos];
		} else if (types[t].metalen == 2) {
			/* VARCHAR and BIT little-endian; the others real type or precision first */
			if (coltypes[i] == MYSQL_TYPE_VARCHAR || coltypes[i] == MYSQL_TYPE_VAR_STRING ||
			    coltypes[i] == MYSQL_TYPE_BIT)
				out[i] = meta[pos] | (unsigned)meta[pos + 1] << 8;
			else
				out[i] = (unsigned)meta[pos] << 8 | meta[pos + 1];
		}
		pos += types[t].metalen;
	}
	return pos == metalen ? 0 : -1;
}

/* ---- values ------------------------------------------------------------ */

/* The unread rest of a row image. */
struct reader {
	const unsigned char *p;
	size_t left;
};

/* The next n bytes, or NULL when fewer are left. */
static const unsigned char *take(struct reader *r, size_t n)
{
	const unsigned char *b = r->p;

	if (n > r->left)
		return NULL;
	r->p += n;
	r->left -= n;
	return b;
}

static uint64_t get_le(const unsigned char *b, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | b[n];
	return v;
}

static uint64_t get_be(const unsigned char *b, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

/* STRING columns carry their real type (CHAR, ENUM or SET) in the metadata. */
static unsigned string_real_type(unsigned meta)
{
	return (meta >> 8) | 0x30;
}

static const char *type_name(const struct gw_binlog_col *c)
{
	unsigned type = c->type == MYSQL_TYPE_STRING ? string_real_type(c->meta) : c->type;
	int t = type_index(type);

	if (t >= 0 && type == MYSQL_TYPE_STRING && c->charset && strcmp(c->charset, "binary") == 0)
		return "binary";
	return t >= 0 ? types[t].name : "unknown";
}

GW_PRINTF(3, 4)
static int bad(const struct gw_binlog_col *c, struct gw_error *err, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	gw_error_set(err, GW_ERR_DB, "could not decode column '%s' of type %s (binlog type %u): %s",
		     c->name, type_name(c), c->type, why);
	return -1;
}

#define TRUNCATED "the row image is truncated"

static void put_hex(struct gw_buf *out, const char *charset, const unsigned char *s, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	gw_buf_printf(out, "_%s X'", charset);
	for (size_t i = 0; i < n; i++) {
		gw_buf_putc(out, digits[s[i] >> 4]);
		gw_buf_putc(out, digits[s[i] & 15]);
	}
	gw_buf_putc(out, '\'');
}

static int put_int(struct gw_buf *out, const struct gw_binlog_col *c, struct reader *r,
		   size_t n, struct gw_error *err)
{
	const unsigned char *b = take(r, n);
	uint64_t v;

	if (!b)
		return bad(c, err, TRUNCATED);
	v = get_le(b, n);
	if (c->is_unsigned) {
		gw_buf_printf(out, "%llu", (unsigned long long)v);
	} else {
		if (n < 8 && v >> (8 * n - 1))
			v |= UINT64_MAX << (8 * n);
		gw_buf_printf(out, "%lld", (long long)v);
	}
	return 0;
}

static int put_float(struct gw_buf *out, const struct gw_binlog_col *c, struct reader *r,
		     struct gw_error *err)
{
	bool is_double = c->type == MYSQL_TYPE_DOUBLE;
	const unsigned char *b = take(r, is_double ? 8 : 4);
	uint64_t bits;
	double d;

	if (!b)
		return bad(c, err, TRUNCATED);
	bits = get_le(b, is_double ? 8 : 4);
	if (is_double) {
		memcpy(&d, &bits, sizeof(d));
	} else {
		uint32_t bits32 = (uint32_t)bits;
		float f;

		memcpy(&f, &bits32, sizeof(f));
		d = f;
	}
	gw_buf_printf(out, "%.17e", d);
	return 0;
}

/* Bytes of a group of 0..9 decimal digits. */
static const unsigned char dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

/*
 * MySQL's binary DECIMAL: big-endian groups of 9 digits in 4 bytes, aligned
 * on the decimal point, so the integer part's leftover digits come first
 * and the fraction's last, each in fewer bytes. The first bit is flipped
 * so that positive values have it set; negative values have every bit
 * inverted.
 */
struct decimal {
	unsigned char b[32]; /* the value with sign bit and inversion undone; 30 bytes at most */
	size_t pos;          /* next group in b */
	char digits[80];     /* every digit, without the point; 65 at most */
	size_t nd;           /* digits so far */
};

static int decimal_group(struct decimal *d, unsigned ndigits)
{
	uint64_t v = get_be(d->b + d->pos, dig2bytes[ndigits]), limit = 1;

	for (unsigned i = 0; i < ndigits; i++)
		limit *= 10;
	if (v >= limit)
		return -1;
	d->pos += dig2bytes[ndigits];
	d->nd += (size_t)snprintf(d->digits + d->nd, sizeof(d->digits) - d->nd, "%0*u",
				  (int)ndigits, (unsigned)v);
	return 0;
}

static int put_decimal(struct gw_buf *out, const struct gw_binlog_col *c, struct reader *r,
		       struct gw_error *err)
{
	unsigned prec = c->meta >> 8, scale = c->meta & 0xff, intg = prec - scale;
	struct decimal d = {.pos = 0};
	size_t size, start = 0;
	const unsigned char *p;
	bool neg;
	int rc = 0;

	if (prec == 0 || prec > 65 || scale > prec)
		return bad(c, err, "bad metadata precision %u scale %u", prec, scale);
	size = intg / 9 * 4 + dig2bytes[intg % 9] + scale / 9 * 4 + dig2bytes[scale % 9];
	if (!(p = take(r, size)))
		return bad(c, err, TRUNCATED);
	memcpy(d.b, p, size);
	neg = !(d.b[0] & 0x80);
	d.b[0] ^= 0x80;
	for (size_t i = 0; neg && i < size; i++)
		d.b[i] = (unsigned char)~d.b[i];
	if (intg % 9)
		rc |= decimal_group(&d, intg % 9);
	for (unsigned i = 0; i < intg / 9 + scale / 9; i++)
		rc |= decimal_group(&d, 9);
	if (scale % 9)
		rc |= decimal_group(&d, scale % 9);
	if (rc)
		return bad(c, err, "a group of digits is out of range");
	while (start + 1 < intg && d.digits[start] == '0')
		start++;
	gw_buf_puts(out, neg ? "-" : "");
	gw_buf_put(out, intg ? d.digits + start : "0", intg ? intg - start : 1);
	if (scale) {
		gw_buf_putc(out, '.');
		gw_buf_put(out, d.digits + intg, scale);
	}
	return 0;
}

/*
 * A text literal of a value of at most max bytes after its length in
 * lenbytes little-endian bytes, padded with 0x00 to pad bytes.
 */
static int put_text(struct gw_buf *out, const struct gw_binlog_col *c, struct reader *r,
		    size_t lenbytes, size_t max, size_t pad, struct gw_error *err)
{
	const unsigned char *b = take(r, lenbytes);
	size_t n;

	if (!c->charset)
		return bad(c, err, "the column has no character set");
	if (!b)
		return bad(c, err, TRUNCATED);
	n = (size_t)get_le(b, lenbytes);
	if (n > max)
		return bad(c, err, "length %zu exceeds the maximum %zu", n, max);
	if (!(b = take(r, n)))
		return bad(c, err, TRUNCATED);
	if (n >= pad) {
		put_hex(out, c->charset, b, n);
	} else {
		unsigned char *padded = gw_calloc(1, pad);

		memcpy(padded, b, n);
		put_hex(out, c->charset, padded, pad);
		free(padded);
	}
	return 0;
}

static void put_member(struct gw_buf *out, const char *s)
{
	if (*s)
		put_hex(out, "utf8mb4", (const unsigned char *)s, strlen(s));
	else
		gw_buf_puts(out, "''");
}

static int put_enum(struct gw_buf *out, const struct gw_binlog_col *c, struct reader *r,
		    size_t n, struct gw_error *err)
{
	const unsigned char *b;
	uint64_t idx;

	if (n != 1 && n != 2)
		return bad(c, err, "bad metadata length %zu", n);
	if (!(b = take(r, n)))
		return bad(c, err, TRUNCATED);
	idx = get_le(b, n);
	if (idx > c->nmembers)
		return bad(c, err, "index %llu beyond the %zu members", (unsigned long long)idx,
			   c->nmembers);
	put_member(out, idx ? c->members[idx - 1] : "");
	return 0;
}

static int put_set(struct gw_buf *out, const struct gw_binlog_col *c, struct reader *r,
		   size_t n, struct gw_error *err)
{
	struct gw_buf s = GW_BUF_INIT;
	const unsigned char *b;
	uint64_t bits;

	if (n < 1 || n > 8)
		return bad(c, err, "bad metadata length %zu", n);
	if (!(b = take(r, n)))
		return bad(c, err, TRUNCATED);
	bits = get_le(b, n);
	if (c->nmembers < 64 && bits >> c->nmembers)
		return bad(c, err, "bits beyond the %zu members", c->nmembers);
	for (size_t i = 0; i < c->nmembers; i++) {
		if (!(bits >> i & 1))
			continue;
		if (s.len)
			gw_buf_putc(&s, ',');
		gw_buf_puts(&s, c->members[i]);
	}
	put_member(out, s.data);
	gw_buf_release(&s);
	return 0;
}

static int put_bit(struct gw_buf *out, const struct gw_binlog_col *c, struct reader *r,
		   struct gw_error *err)
{
	unsigned nbits = (c->meta >> 8) * 8 + (c->meta & 0xff);
	const unsigned char *b;
	uint64_t v;
	int top = 0;

	if (nbits == 0 || nbits > 64 || (c->meta & 0xff) > 7)
		return bad(c, err, "bad metadata %#x", c->meta);
	if (!(b = take(r, (nbits + 7) / 8)))
		return bad(c, err, TRUNCATED);
	v = get_be(b, (nbits + 7) / 8);
	while (top < 63 && v >> (top + 1))
		top++;
	gw_buf_puts(out, "b'");
	for (int i = top; i >= 0; i--)
		gw_buf_putc(out, (char)('0' + (v >> i & 1)));
	gw_buf_putc(out, '\'');
	return 0;
}

static const uint64_t powers10[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};

/* A fraction of fsp digits from microseconds, "" for fsp 0. */
static void put_frac(struct gw_buf *out, unsigned long us, unsigned fsp)
{
	if (fsp)
		gw_buf_printf(out, ".%0*lu", (int)fsp, us / (unsigned long)powers10[6 - fsp]);
}

/*
 * DATE'…' or TIMESTAMP'…', or a plain string for zero and partial dates,
 * which the typed literals reject.
 */
static void put_datetime(struct gw_buf *out, bool with_time, unsigned year, unsigned month,
			 unsigned day, unsigned hour, unsigned minute, unsigned second,
			 unsigned long us, unsigned fsp)
{
	if (month && day)
		gw_buf_puts(out, with_time ? "TIMESTAMP" : "DATE");
	gw_buf_printf(out, "'%04u-%02u-%02u", year, month, day);
	if (with_time) {
		gw_buf_printf(out, " %02u:%02u:%02u", hour, minute, second);
		put_frac(out, us, fsp);
	}
	gw_buf_putc(out, '\'');
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, unsigned *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned)(yoe + era * 400 + (*m <= 2));
}

static void put_epoch(struct gw_buf *out, uint64_t secs, unsigned long us, unsigned fsp)
{
	unsigned y, m, d;

	if (secs == 0 && us == 0) {
		put_datetime(out, true, 0, 0, 0, 0, 0, 0, 0, fsp);
		return;
	}
	civil_from_days((int64_t)(secs / 86400), &y, &m, &d);
	put_datetime(out, true, y, m, d, (unsigned)(secs % 86400 / 3600),
		     (unsigned)(secs % 3600 / 60), (unsigned)(secs % 60), us, fsp);
}

/* The fraction bytes of the MySQL 5.6 temporal formats and their unit. */
static size_t frac_bytes(unsigned fsp)
{
	return (fsp + 1) / 2;
}

static unsigned long frac_unit(unsigned fsp)
{
	return fsp <= 2 ? 10000 : fsp <= 4 ? 100 : 1;
}

/*
 * MariaDB's own fractional formats (tables from before 10.1.2 or made with
 * mysql56_temporal_format=OFF), logged as the old types without metadata:
 * big-endian counts of 10^-precision seconds, TIME offset by 838:59:59 + 1
 * second, DATETIME as ((((year * 13 + month) * 32 + day) * 24 + hour) * 60 +
 * minute) * 60 + second, TIMESTAMP as seconds then the fraction.
 */
static int put_hires(struct gw_buf *out, const struct gw_binlog_col *c, struct reader *r,
		     struct gw_error *err)
{
	static const unsigned char time_bytes[7] = {3, 4, 4, 5, 5, 5, 6};
	static const unsigned char datetime_bytes[7] = {5, 6, 6, 7, 7, 7, 8};
	unsigned p = c->precision;
	size_t n;
	const unsigned char *b;
	uint64_t v, us;

	if (p > 6)
		return bad(c, err, "bad precision %u", p);
	n = c->type == MYSQL_TYPE_TIME       ? time_bytes[p]
	    : c->type == MYSQL_TYPE_DATETIME ? datetime_bytes[p]
					     : 4 + frac_bytes(p);
	if (!(b = take(r, n)))
		return bad(c, err, TRUNCATED);
	if (c->type == MYSQL_TYPE_TIMESTAMP) {
		us = get_be(b + 4, n - 4) * powers10[6 - p];
		if (us > 999999)
			return bad(c, err, "fraction out of range");
		put_epoch(out, get_be(b, 4), (unsigned long)us, p);
		return 0;
	}
	v = get_be(b, n);
	if (c->type == MYSQL_TYPE_TIME) {
		uint64_t zero = UINT64_C(3020400) * powers10[p];
		bool neg = v < zero;

		v = neg ? zero - v : v - zero;
		gw_buf_printf(out, "TIME'%s%02llu:%02u:%02u", neg ? "-" : "",
			      (unsigned long long)(v / powers10[p] / 3600),
			      (unsigned)(v / powers10[p] / 60 % 60), (unsigned)(v / powers10[p] % 60));
		put_frac(out, (unsigned long)(v % powers10[p] * powers10[6 - p]), p);
		gw_buf_putc(out, '\'');
		return 0;
	}
	us = v % powers10[p] * powers10[6 - p];
	v /= powers10[p];
	put_datetime(out, true, (unsigned)(v / 35942400), (unsigned)(v / 2764800 % 13),
		     (unsigned)(v / 86400 % 32), (unsigned)(v / 3600 % 24), (unsigned)(v / 60 % 60),
		     (unsigned)(v % 60), (unsigned long)us, p);
	return 0;
}

static int put_temporal(struct gw_buf *out, const struct gw_binlog_col *c, struct reader *r,
			struct gw_error *err)
{
	static const size_t sizes[] = {
		[MYSQL_TYPE_DATE] = 3, [MYSQL_TYPE_TIME] = 3, [MYSQL_TYPE_DATETIME] = 8,
		[MYSQL_TYPE_TIMESTAMP] = 4, [MYSQL_TYPE_TIME2] = 3, [MYSQL_TYPE_DATETIME2] = 5,
		[MYSQL_TYPE_TIMESTAMP2] = 4,
	};
	bool fractional = c->type == MYSQL_TYPE_TIME2 || c->type == MYSQL_TYPE_DATETIME2 ||
			  c->type == MYSQL_TYPE_TIMESTAMP2;
	unsigned fsp = fractional ? c->meta : 0;
	size_t fb = frac_bytes(fsp), n = sizes[c->type] + fb;
	const unsigned char *b;
	uint64_t v;

	if (fsp > 6)
		return bad(c, err, "bad metadata precision %u", fsp);
	if (!fractional && c->precision)
		return put_hires(out, c, r, err);
	if (!(b = take(r, n)))
		return bad(c, err, TRUNCATED);
	switch (c->type) {
	case MYSQL_TYPE_DATE:
		v = get_le(b, 3);
		put_datetime(out, false, (unsigned)(v >> 9), (unsigned)(v >> 5 & 15),
			     (unsigned)(v & 31), 0, 0, 0, 0, 0);
		return 0;
	case MYSQL_TYPE_DATETIME: {
		uint64_t date, time;

		v = get_le(b, 8);
		date = v / 1000000, time = v % 1000000;
		put_datetime(out, true, (unsigned)(date / 10000), (unsigned)(date / 100 % 100),
			     (unsigned)(date % 100), (unsigned)(time / 10000),
			     (unsigned)(time / 100 % 100), (unsigned)(time % 100), 0, 0);
		return 0;
	}
	case MYSQL_TYPE_TIMESTAMP:
		put_epoch(out, get_le(b, 4), 0, 0);
		return 0;
	case MYSQL_TYPE_TIMESTAMP2: {
		unsigned long us = (unsigned long)(get_be(b + 4, fb) * frac_unit(fsp));

		if (us > 999999)
			return bad(c, err, "fraction out of range");
		put_epoch(out, get_be(b, 4), us, fsp);
		return 0;
	}
	case MYSQL_TYPE_DATETIME2: {
		/* 1 sign bit, 17 bits year * 13 + month, 5 day, 5 hour, 6 minute, 6 second */
		uint64_t packed = get_be(b, n), ofs = UINT64_C(0x8000000000) << 8 * fb;
		uint64_t ymd, hms, us;

		if (packed < ofs)
			return bad(c, err, "negative datetime");
		packed -= ofs;
		ymd = packed >> 8 * fb >> 17;
		hms = packed >> 8 * fb & 0x1ffff;
		us = (packed & ((1u << 8 * fb) - 1)) * frac_unit(fsp);
		if (us > 999999)
			return bad(c, err, "fraction out of range");
		put_datetime(out, true, (unsigned)(ymd >> 5) / 13, (unsigned)(ymd >> 5) % 13,
			     (unsigned)(ymd & 31), (unsigned)(hms >> 12), (unsigned)(hms >> 6 & 63),
			     (unsigned)(hms & 63), (unsigned long)us, fsp);
		return 0;
	}
	case MYSQL_TYPE_TIME: {
		int64_t t = (int64_t)get_le(b, 3);
		uint64_t hms;

		if (t & 0x800000)
			t -= 0x1000000;
		hms = (uint64_t)(t < 0 ? -t : t);
		gw_buf_printf(out, "TIME'%s%02u:%02u:%02u'", t < 0 ? "-" : "",
			      (unsigned)(hms / 10000), (unsigned)(hms / 100 % 100),
			      (unsigned)(hms % 100));
		return 0;
	}
	default: { /* MYSQL_TYPE_TIME2 */
		/*
		 * Offset binary of (1 sign, 1 unused, 10 hour, 6 minute,
		 * 6 second) then the fraction: negative values carry a
		 * negative fraction, hence the division towards zero.
		 */
		int64_t packed = (int64_t)get_be(b, n) - (INT64_C(0x800000) << 8 * fb);
		int64_t unit = INT64_C(1) << 8 * fb;
		uint64_t hms = (uint64_t)(packed < 0 ? -(packed / unit) : packed / unit);
		uint64_t us = (uint64_t)(packed < 0 ? -(packed % unit) : packed % unit) *
			      frac_unit(fsp);

		if (us > 999999)
			return bad(c, err, "fraction out of range");
		gw_buf_printf(out, "TIME'%s%02u:%02u:%02u", packed < 0 ? "-" : "",
			      (unsigned)(hms >> 12 & 1023), (unsigned)(hms >> 6 & 63),
			      (unsigned)(hms & 63));
		put_frac(out, (unsigned long)us, fsp);
		gw_buf_putc(out, '\'');
		return 0;
	}
	}
}

static int put_value(struct gw_buf *out, const struct gw_binlog_col *c, struct reader *r,
		     struct gw_error *err)
{
	switch (c->type) {
	case MYSQL_TYPE_TINY:
		return put_int(out, c, r, 1, err);
	case MYSQL_TYPE_SHORT:
		return put_int(out, c, r, 2, err);
	case MYSQL_TYPE_INT24:
		return put_int(out, c, r, 3, err);
	case MYSQL_TYPE_LONG:
		return put_int(out, c, r, 4, err);
	case MYSQL_TYPE_LONGLONG:
		return put_int(out, c, r, 8, err);
	case MYSQL_TYPE_YEAR: {
		const unsigned char *b = take(r, 1);

		if (!b)
			return bad(c, err, TRUNCATED);
		gw_buf_printf(out, "%u", *b ? *b + 1900u : 0u);
		return 0;
	}
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
		return put_float(out, c, r, err);
	case MYSQL_TYPE_NEWDECIMAL:
		return put_decimal(out, c, r, err);
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_VAR_STRING:
		return put_text(out, c, r, c->meta < 256 ? 1 : 2, c->meta, 0, err);
	case MYSQL_TYPE_BLOB:
		if (c->meta < 1 || c->meta > 4)
			return bad(c, err, "bad metadata length %u", c->meta);
		return put_text(out, c, r, c->meta, SIZE_MAX, 0, err);
	case MYSQL_TYPE_ENUM:
		return put_enum(out, c, r, c->meta & 0xff, err);
	case MYSQL_TYPE_SET:
		return put_set(out, c, r, c->meta & 0xff, err);
	case MYSQL_TYPE_STRING: {
		/* CHAR(n) over 255 bytes keeps length bits 8 and 9 inverted in the type byte */
		size_t max = (((c->meta >> 4) & 0x300) ^ 0x300) + (c->meta & 0xff);
		bool binary = c->charset && strcmp(c->charset, "binary") == 0;

		switch (string_real_type(c->meta)) {
		case MYSQL_TYPE_ENUM:
			return put_enum(out, c, r, c->meta & 0xff, err);
		case MYSQL_TYPE_SET:
			return put_set(out, c, r, c->meta & 0xff, err);
		case MYSQL_TYPE_STRING:
			/*
			 * The image drops the trailing pad; BINARY(n) values are
			 * padded back with 0x00 as a SELECT returns them, CHAR
			 * values stay stripped as a SELECT returns them.
			 */
			return put_text(out, c, r, max < 256 ? 1 : 2, max, binary ? max : 0, err);
		default:
			return bad(c, err, "bad metadata %#x", c->meta);
		}
	}
	case MYSQL_TYPE_BIT:
		return put_bit(out, c, r, err);
	case MYSQL_TYPE_DATE:
	case MYSQL_TYPE_TIME:
	case MYSQL_TYPE_DATETIME:
	case MYSQL_TYPE_TIMESTAMP:
	case MYSQL_TYPE_TIME2:
	case MYSQL_TYPE_DATETIME2:
	case MYSQL_TYPE_TIMESTAMP2:
		return put_temporal(out, c, r, err);
	default:
		return bad(c, err, "the type is not supported");
	}
}

long gw_binlog_row(const struct gw_binlog_col *cols, size_t ncols, const unsigned char *present,
		   const unsigned char *p, size_t len, char **vals, struct gw_error *err)
{
	struct reader r = {p, len};
	struct gw_buf out = GW_BUF_INIT;
	const unsigned char *nulls;
	size_t npresent = 0, j = 0;
	long rc = -1;

	for (size_t i = 0; i < ncols; i++) {
		vals[i] = NULL;
		npresent += present[i / 8] >> (i % 8) & 1;
	}
	if (!(nulls = take(&r, (npresent + 7) / 8))) {
		gw_error_set(err, GW_ERR_DB, "could not decode a row image: its null bitmap is truncated");
		goto out;
	}
	for (size_t i = 0; i < ncols; i++) {
		if (!(present[i / 8] >> (i % 8) & 1))
			continue;
		if (nulls[j / 8] >> (j % 8) & 1)
			gw_buf_puts(&out, "NULL");
		else if (put_value(&out, &cols[i], &r, err) != 0)
			goto out;
		vals[i] = gw_buf_detach(&out);
		j++;
	}
	rc = (long)(len - r.left);
out:
	if (rc < 0)
		for (size_t i = 0; i < ncols; i++) {
			free(vals[i]);
			vals[i] = NULL;
		}
	gw_buf_release(&out);
	return rc;
}
