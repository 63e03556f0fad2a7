/*
 * Binlog row images: TABLE_MAP metadata, every column type's literal, the
 * null and column bitmaps, truncated and malformed images, and column
 * definitions from information_schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mysql.h>

#include "../../drivers/mysql/binlog_int.h"
#include "godwit/buf.h"

/* Bytes and their count, for the helpers below. */
#define B(...) ((const unsigned char[]){__VA_ARGS__}), sizeof((const unsigned char[]){__VA_ARGS__})

static struct gw_binlog_col col(unsigned char type, unsigned meta)
{
	struct gw_binlog_col c = {.name = "c1", .type = type, .meta = meta};

	return c;
}

static struct gw_binlog_col unsigned_col(unsigned char type)
{
	struct gw_binlog_col c = col(type, 0);

	c.is_unsigned = true;
	return c;
}

/* c with its definition from column_type and charset. */
static struct gw_binlog_col defined(unsigned char type, unsigned meta, const char *column_type,
				    const char *charset)
{
	struct gw_binlog_col c = col(type, meta);

	gw_binlog_col_define(&c, column_type, charset);
	return c;
}

/*
 * Decode the image of one present column, not NULL, holding the value v
 * (n bytes), from a heap copy of exactly its size so that a read past the
 * end trips the sanitizer; expect the literal want and all bytes consumed.
 * Then every shorter image must fail naming the column.
 */
static void check_value(const struct gw_binlog_col *c, const unsigned char *v, size_t n,
			const char *want)
{
	const unsigned char present[1] = {1};
	unsigned char *img = malloc(n + 1);
	char *vals[1] = {NULL};
	struct gw_error e = GW_ERROR_INIT;

	img[0] = 0; /* null bitmap */
	memcpy(img + 1, v, n);
	assert_int_equal(gw_binlog_row(c, 1, present, img, n + 1, vals, &e), (long)(n + 1));
	assert_non_null(vals[0]);
	assert_string_equal(vals[0], want);
	free(vals[0]);
	free(img);
	/* k bytes: the null bitmap and k - 1 bytes of the value */
	for (size_t k = 0; k <= n; k++) {
		unsigned char *cut = malloc(k ? k : 1);

		if (k) {
			cut[0] = 0;
			memcpy(cut + 1, v, k - 1);
		}
		gw_error_clear(&e);
		vals[0] = (char *)"untouched";
		assert_int_equal(gw_binlog_row(c, 1, present, cut, k, vals, &e), -1);
		assert_null(vals[0]);
		assert_int_equal(e.code, GW_ERR_DB);
		if (k)
			assert_non_null(strstr(e.msg, "'c1'"));
		free(cut);
	}
}

/* The value must be refused with a message containing what. */
static void check_refused(const struct gw_binlog_col *c, const unsigned char *v, size_t n,
			  const char *what)
{
	const unsigned char present[1] = {1};
	unsigned char img[64] = {0};
	char *vals[1];
	struct gw_error e = GW_ERROR_INIT;

	assert_true(n < sizeof(img));
	memcpy(img + 1, v, n);
	assert_int_equal(gw_binlog_row(c, 1, present, img, n + 1, vals, &e), -1);
	assert_null(vals[0]);
	assert_int_equal(e.code, GW_ERR_DB);
	assert_non_null(strstr(e.msg, "'c1'"));
	if (!strstr(e.msg, what))
		fail_msg("'%s' does not contain '%s'", e.msg, what);
}

/* ---- metadata ---------------------------------------------------------- */

static void test_meta(void **state)
{
	const unsigned char types[] = {
		MYSQL_TYPE_TINY,    MYSQL_TYPE_VARCHAR,   MYSQL_TYPE_BIT,      MYSQL_TYPE_NEWDECIMAL,
		MYSQL_TYPE_STRING,  MYSQL_TYPE_STRING,    MYSQL_TYPE_FLOAT,    MYSQL_TYPE_DOUBLE,
		MYSQL_TYPE_BLOB,    MYSQL_TYPE_TIME2,     MYSQL_TYPE_DATETIME2, MYSQL_TYPE_TIMESTAMP2,
		MYSQL_TYPE_DATE,    MYSQL_TYPE_LONGLONG,  MYSQL_TYPE_YEAR,     MYSQL_TYPE_ENUM,
		MYSQL_TYPE_SET,     MYSQL_TYPE_VAR_STRING, MYSQL_TYPE_GEOMETRY, MYSQL_TYPE_JSON,
		MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIME,
	};
	const unsigned char meta[] = {
		0x2c, 0x01, /* varchar: 300 little-endian */
		0x02, 0x01, /* bit(10): 10 % 8, 10 / 8 */
		0x0a, 0x02, /* decimal(10,2) */
		0xfe, 0x28, /* char(10) utf8mb4 */
		0xce, 0xfc, /* char(255) utf8mb4: 1020 bytes */
		0x04, 0x08, 0x02, 0x03, 0x06, 0x00, /* float, double, blob, time2, datetime2, ts2 */
		0xf7, 0x01, 0xf8, 0x02, /* enum, set */
		0x10, 0x00, /* var_string: 16 */
		0x04, 0x04, /* geometry, json */
	};
	const unsigned want[] = {0,      300,   0x0102, 0x0a02, 0xfe28, 0xcefc, 4,  8,
				 2,      3,     6,      0,      0,      0,      0,  0xf701,
				 0xf802, 16,    4,      4,      0,      0,      0};
	unsigned out[GW_ARRAY_SIZE(types)];
	const unsigned char unknown[] = {MYSQL_TYPE_TINY, MYSQL_TYPE_DECIMAL};

	(void)state;
	assert_int_equal(GW_ARRAY_SIZE(want), GW_ARRAY_SIZE(types));
	assert_int_equal(gw_binlog_meta(types, GW_ARRAY_SIZE(types), meta, sizeof(meta), out), 0);
	for (size_t i = 0; i < GW_ARRAY_SIZE(types); i++)
		assert_int_equal(out[i], want[i]);
	/* too short, by one byte or inside a two-byte field */
	for (size_t n = 0; n < sizeof(meta); n++)
		assert_int_equal(gw_binlog_meta(types, GW_ARRAY_SIZE(types), meta, n, out), -1);
	/* bytes left over mean the types were misread */
	assert_int_equal(gw_binlog_meta(types, 1, meta, 2, out), -1);
	assert_int_equal(gw_binlog_meta(unknown, 2, meta, 0, out), -1);
	assert_int_equal(gw_binlog_meta(types, 0, meta, 0, out), 0);
}

/* ---- numbers ----------------------------------------------------------- */

static void test_integers(void **state)
{
	struct gw_binlog_col s, u;

	(void)state;
	s = col(MYSQL_TYPE_TINY, 0);
	u = unsigned_col(MYSQL_TYPE_TINY);
	check_value(&s, B(0x80), "-128");
	check_value(&s, B(0x7f), "127");
	check_value(&s, B(0xff), "-1");
	check_value(&u, B(0xff), "255");
	check_value(&u, B(0x00), "0");
	s = col(MYSQL_TYPE_SHORT, 0);
	u = unsigned_col(MYSQL_TYPE_SHORT);
	check_value(&s, B(0x00, 0x80), "-32768");
	check_value(&s, B(0xff, 0x7f), "32767");
	check_value(&u, B(0xff, 0xff), "65535");
	s = col(MYSQL_TYPE_INT24, 0);
	u = unsigned_col(MYSQL_TYPE_INT24);
	check_value(&s, B(0x00, 0x00, 0x80), "-8388608");
	check_value(&s, B(0xff, 0xff, 0x7f), "8388607");
	check_value(&s, B(0xf4, 0xff, 0xff), "-12");
	check_value(&u, B(0xff, 0xff, 0xff), "16777215");
	s = col(MYSQL_TYPE_LONG, 0);
	u = unsigned_col(MYSQL_TYPE_LONG);
	check_value(&s, B(0x00, 0x00, 0x00, 0x80), "-2147483648");
	check_value(&s, B(0xff, 0xff, 0xff, 0x7f), "2147483647");
	check_value(&s, B(0x01, 0x02, 0x03, 0x04), "67305985");
	check_value(&u, B(0xff, 0xff, 0xff, 0xff), "4294967295");
	s = col(MYSQL_TYPE_LONGLONG, 0);
	u = unsigned_col(MYSQL_TYPE_LONGLONG);
	check_value(&s, B(0, 0, 0, 0, 0, 0, 0, 0x80), "-9223372036854775808");
	check_value(&s, B(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), "9223372036854775807");
	check_value(&s, B(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "-1");
	check_value(&u, B(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "18446744073709551615");
	s = col(MYSQL_TYPE_YEAR, 0);
	check_value(&s, B(0), "0");
	check_value(&s, B(1), "1901");
	check_value(&s, B(124), "2024");
	check_value(&s, B(255), "2155");
}

static void test_decimal(void **state)
{
	struct gw_binlog_col c = col(MYSQL_TYPE_NEWDECIMAL, 10 << 8 | 2);

	(void)state;
	check_value(&c, B(0x80, 0x00, 0x00, 0x0c, 0x32), "12.50");
	check_value(&c, B(0x7f, 0xff, 0xff, 0xf3, 0xcd), "-12.50");
	check_value(&c, B(0x80, 0x00, 0x00, 0x00, 0x00), "0.00");
	c.meta = 5 << 8 | 5;
	check_value(&c, B(0x80, 0x30, 0x39), "0.12345");
	c.meta = 18 << 8;
	check_value(&c, B(0x44, 0x65, 0x36, 0x00, 0xc4, 0x65, 0x36, 0x00), "-999999999999999999");
	c.meta = 1 << 8;
	check_value(&c, B(0x81), "1");
	c.meta = 10 << 8 | 9;
	check_value(&c, B(0x7f, 0xff, 0xff, 0xff, 0xfe), "-0.000000001");
	c.meta = 10 << 8 | 1;
	check_value(&c, B(0x85, 0xf5, 0xe1, 0x00, 0x05), "100000000.5");
	c.meta = 65 << 8 | 30;
	check_value(&c,
		    B(0x7f, 0x43, 0x9e, 0xb1, 0xca, 0x48, 0x40, 0x78, 0xca, 0xf1, 0xcb, 0x3f, 0xd0,
		      0xf8, 0xa0, 0x86, 0xf8, 0xa4, 0x32, 0xea, 0xff, 0x43, 0x9e, 0xb1, 0xca, 0x48,
		      0x40, 0x78, 0xfc, 0x85),
		    "-12345678901234567890123456789012345.123456789012345678901234567890");
	/* a group of 9 digits holding 10 digits */
	c.meta = 9 << 8;
	check_refused(&c, B(0xbb, 0x9a, 0xca, 0x00), "out of range");
	c.meta = 2 << 8 | 3;
	check_refused(&c, B(0x80, 0x00), "bad metadata");
	c.meta = 0;
	check_refused(&c, B(0x80), "bad metadata");
}

static void test_float_double(void **state)
{
	struct gw_binlog_col f = col(MYSQL_TYPE_FLOAT, 4), d = col(MYSQL_TYPE_DOUBLE, 8);

	(void)state;
	check_value(&f, B(0x00, 0x00, 0xc0, 0x3f), "1.50000000000000000e+00");
	/* widened exactly, not through its shortest decimal form */
	check_value(&f, B(0xcd, 0xcc, 0xcc, 0x3d), "1.00000001490116119e-01");
	check_value(&f, B(0xff, 0xff, 0x7f, 0xff), "-3.40282346638528860e+38");
	check_value(&f, B(0x01, 0x00, 0x00, 0x00), "1.40129846432481707e-45");
	check_value(&d, B(0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f),
		    "1.50000000000000000e+00");
	check_value(&d, B(0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f),
		    "1.00000000000000006e-01");
	check_value(&d, B(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xff),
		    "-1.79769313486231571e+308");
	check_value(&d, B(0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
		    "4.94065645841246544e-324");
	check_value(&d, B(0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80),
		    "-0.00000000000000000e+00");
}

static void test_bit(void **state)
{
	struct gw_binlog_col c = col(MYSQL_TYPE_BIT, 0x0001);

	(void)state;
	check_value(&c, B(0x01), "b'1'");
	check_value(&c, B(0x00), "b'0'");
	c.meta = 0x0102; /* bit(10) */
	check_value(&c, B(0x02, 0x05), "b'1000000101'");
	c.meta = 0x0100; /* bit(8) */
	check_value(&c, B(0x80), "b'10000000'");
	c.meta = 0x0800; /* bit(64) */
	check_value(&c, B(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		    "b'1111111111111111111111111111111111111111111111111111111111111111'");
	check_value(&c, B(0, 0, 0, 0, 0, 0, 0, 0x05), "b'101'");
	c.meta = 0;
	check_refused(&c, B(0x00), "bad metadata");
	c.meta = 0x0801;
	check_refused(&c, B(0x00), "bad metadata");
}

/* ---- strings ----------------------------------------------------------- */

static void test_varchar(void **state)
{
	struct gw_binlog_col c = defined(MYSQL_TYPE_VARCHAR, 40, "varchar(10)", "utf8mb4");
	struct gw_binlog_col l = defined(MYSQL_TYPE_VARCHAR, 10, "varchar(10)", "latin1");
	struct gw_binlog_col b = defined(MYSQL_TYPE_VARCHAR, 300, "varbinary(300)", NULL);

	(void)state;
	check_value(&c, B(2, 0xc3, 0xa9), "_utf8mb4 X'c3a9'");
	check_value(&c, B(4, 0xf0, 0x9f, 0x98, 0x80), "_utf8mb4 X'f09f9880'");
	check_value(&c, B(0), "_utf8mb4 X''");
	check_value(&l, B(1, 0xe9), "_latin1 X'e9'");
	/* a maximum over 255 bytes takes a two-byte length */
	check_value(&b, B(3, 0, 0x00, 0xff, 0x00), "_binary X'00ff00'");
	check_refused(&c, B(41), "exceeds");
	c.meta = 0x2020;
	check_value(&c, B(2, 0, 'h', 'i'), "_utf8mb4 X'6869'");
	c.type = MYSQL_TYPE_VAR_STRING;
	check_value(&c, B(2, 0, 'h', 'i'), "_utf8mb4 X'6869'");
	gw_binlog_col_release(&c);
	gw_binlog_col_release(&l);
	gw_binlog_col_release(&b);
	/* a text type without a character set means the definition is wrong */
	c = col(MYSQL_TYPE_VARCHAR, 10);
	check_refused(&c, B(1, 'x'), "character set");
}

static void test_char_binary(void **state)
{
	struct gw_binlog_col c = defined(MYSQL_TYPE_STRING, 0xfe28, "char(10)", "utf8mb4");
	struct gw_binlog_col b = defined(MYSQL_TYPE_STRING, 0xfe04, "binary(4)", NULL);
	unsigned char v[2 + 1020];
	struct gw_buf want = GW_BUF_INIT;

	(void)state;
	check_value(&c, B(3, 'a', 'b', 'c'), "_utf8mb4 X'616263'");
	check_value(&c, B(0), "_utf8mb4 X''");
	check_refused(&c, B(41), "exceeds");
	/* BINARY values come back with the 0x00 padding the image drops */
	check_value(&b, B(2, 0x00, 0x61), "_binary X'00610000'");
	check_value(&b, B(4, 1, 2, 3, 4), "_binary X'01020304'");
	check_value(&b, B(0), "_binary X'00000000'");
	/* char(255) utf8mb4: 1020 bytes, bits 8 and 9 of the length in the type byte */
	c.meta = 0xcefc;
	memset(v, 'x', sizeof(v));
	v[0] = 0xfc, v[1] = 0x03;
	gw_buf_puts(&want, "_utf8mb4 X'");
	for (int i = 0; i < 1020; i++)
		gw_buf_puts(&want, "78");
	gw_buf_puts(&want, "'");
	check_value(&c, v, sizeof(v), want.data);
	gw_buf_release(&want);
	check_value(&c, B(1, 0, 'y'), "_utf8mb4 X'79'");
	check_refused(&c, B(0xfd, 0x03), "exceeds");
	/* a type byte that is neither CHAR, ENUM nor SET */
	c.meta = 0xf504;
	check_refused(&c, B(0), "bad metadata");
	gw_binlog_col_release(&c);
	gw_binlog_col_release(&b);
}

static void test_blob(void **state)
{
	struct gw_binlog_col b = defined(MYSQL_TYPE_BLOB, 2, "blob", NULL);
	struct gw_binlog_col t = defined(MYSQL_TYPE_BLOB, 4, "longtext", "utf8mb4");

	(void)state;
	check_value(&b, B(3, 0, 0x00, 0x00, 0x7f), "_binary X'00007f'");
	check_value(&b, B(0, 0), "_binary X''");
	check_value(&t, B(2, 0, 0, 0, '{', '}'), "_utf8mb4 X'7b7d'");
	b.meta = 1;
	check_value(&b, B(1, 0xab), "_binary X'ab'");
	b.meta = 3;
	check_value(&b, B(1, 0, 0, 0xab), "_binary X'ab'");
	/* a length beyond the image */
	t.meta = 4;
	check_refused(&t, B(0xff, 0xff, 0xff, 0x7f, 'x'), "truncated");
	b.meta = 5;
	check_refused(&b, B(0, 0, 0, 0, 0), "bad metadata");
	gw_binlog_col_release(&b);
	gw_binlog_col_release(&t);
}

static void test_enum_set(void **state)
{
	struct gw_binlog_col e = defined(MYSQL_TYPE_STRING, 0xf701, "enum('a','it''s','x,y')",
					 "utf8mb4");
	struct gw_binlog_col s = defined(MYSQL_TYPE_STRING, 0xf801, "set('x','y','z')", "utf8mb4");
	struct gw_binlog_col wide = col(MYSQL_TYPE_SET, 0xf808);

	(void)state;
	check_value(&e, B(1), "_utf8mb4 X'61'");
	check_value(&e, B(2), "_utf8mb4 X'69742773'");
	check_value(&e, B(3), "_utf8mb4 X'782c79'");
	check_value(&e, B(0), "''");
	check_refused(&e, B(4), "beyond the 3 members");
	e.meta = 0xf702;
	check_value(&e, B(2, 0), "_utf8mb4 X'69742773'");
	check_refused(&e, B(0, 1), "beyond");
	e.type = MYSQL_TYPE_ENUM;
	check_value(&e, B(3, 0), "_utf8mb4 X'782c79'");
	e.meta = 0xf703;
	check_refused(&e, B(1, 0, 0), "bad metadata");

	check_value(&s, B(0x05), "_utf8mb4 X'782c7a'");
	check_value(&s, B(0x02), "_utf8mb4 X'79'");
	check_value(&s, B(0x00), "''");
	check_refused(&s, B(0x08), "beyond the 3 members");
	s.type = MYSQL_TYPE_SET;
	s.meta = 0xf802;
	check_value(&s, B(0x07, 0x00), "_utf8mb4 X'782c792c7a'");
	s.meta = 0xf800;
	check_refused(&s, B(0), "bad metadata");

	/* 64 members: every bit of 8 bytes is a member */
	wide.nmembers = 64;
	wide.members = calloc(64, sizeof(char *));
	for (size_t i = 0; i < 64; i++)
		wide.members[i] = gw_asprintf("%c", (char)('0' + i));
	check_value(&wide, B(0, 0, 0, 0, 0, 0, 0, 0x80), "_utf8mb4 X'6f'");
	gw_binlog_col_release(&wide);
	gw_binlog_col_release(&e);
	gw_binlog_col_release(&s);
}

/* ---- temporal ---------------------------------------------------------- */

static void test_date(void **state)
{
	struct gw_binlog_col c = col(MYSQL_TYPE_DATE, 0);

	(void)state;
	check_value(&c, B(0x5d, 0xd0, 0x0f), "DATE'2024-02-29'");
	check_value(&c, B(0x81, 0x1f, 0x4e), "DATE'9999-12-01'");
	check_value(&c, B(0x00, 0x00, 0x00), "'0000-00-00'");
	check_value(&c, B(0x00, 0xd0, 0x0f), "'2024-00-00'");
	check_value(&c, B(0x21, 0x00, 0x00), "DATE'0000-01-01'");
}

static void test_datetime2(void **state)
{
	struct gw_binlog_col c = col(MYSQL_TYPE_DATETIME2, 0);

	(void)state;
	check_value(&c, B(0x99, 0xb2, 0xba, 0xd0, 0x42), "TIMESTAMP'2024-02-29 13:01:02'");
	check_value(&c, B(0x99, 0xb2, 0x00, 0x00, 0x00), "'2024-00-00 00:00:00'");
	c.meta = 4;
	check_value(&c, B(0x99, 0xb2, 0xba, 0xd0, 0x42, 0x04, 0xd2),
		    "TIMESTAMP'2024-02-29 13:01:02.1234'");
	c.meta = 3;
	check_value(&c, B(0x99, 0xb2, 0xba, 0xd0, 0x42, 0x04, 0xd2),
		    "TIMESTAMP'2024-02-29 13:01:02.123'");
	c.meta = 6;
	check_value(&c, B(0xfe, 0xf3, 0xff, 0x7e, 0xfb, 0x0f, 0x42, 0x3f),
		    "TIMESTAMP'9999-12-31 23:59:59.999999'");
	check_refused(&c, B(0xfe, 0xf3, 0xff, 0x7e, 0xfb, 0x0f, 0x42, 0x40), "fraction");
	c.meta = 1;
	check_value(&c, B(0x8c, 0xb2, 0x42, 0x00, 0x00, 0x32), "TIMESTAMP'1000-01-01 00:00:00.5'");
	c.meta = 2;
	check_value(&c, B(0x80, 0x00, 0x00, 0x00, 0x00, 0x00), "'0000-00-00 00:00:00.00'");
	check_refused(&c, B(0x7f, 0xff, 0xff, 0xff, 0xff, 0x00), "negative");
	c.meta = 7;
	check_refused(&c, B(0x80, 0, 0, 0, 0, 0, 0, 0, 0), "bad metadata");
}

static void test_timestamp2(void **state)
{
	struct gw_binlog_col c = col(MYSQL_TYPE_TIMESTAMP2, 0);

	(void)state;
	check_value(&c, B(0x65, 0xe0, 0x80, 0x0e), "TIMESTAMP'2024-02-29 13:01:02'");
	check_value(&c, B(0x7f, 0xff, 0xff, 0xff), "TIMESTAMP'2038-01-19 03:14:07'");
	check_value(&c, B(0x00, 0x00, 0x00, 0x01), "TIMESTAMP'1970-01-01 00:00:01'");
	check_value(&c, B(0x00, 0x00, 0x00, 0x00), "'0000-00-00 00:00:00'");
	/* MariaDB 11.5 goes up to 2106 */
	check_value(&c, B(0xff, 0xff, 0xff, 0xff), "TIMESTAMP'2106-02-07 06:28:15'");
	c.meta = 3;
	check_value(&c, B(0x65, 0xe0, 0x80, 0x0e, 0x04, 0xce), "TIMESTAMP'2024-02-29 13:01:02.123'");
	check_value(&c, B(0x00, 0x00, 0x00, 0x00, 0x00, 0x00), "'0000-00-00 00:00:00.000'");
	c.meta = 5;
	check_value(&c, B(0x65, 0xe0, 0x80, 0x0e, 0x01, 0xe2, 0x40), "TIMESTAMP'2024-02-29 13:01:02.12345'");
	check_refused(&c, B(0x65, 0xe0, 0x80, 0x0e, 0x0f, 0x42, 0x40), "fraction");
}

static void test_time2(void **state)
{
	struct gw_binlog_col c = col(MYSQL_TYPE_TIME2, 0);

	(void)state;
	check_value(&c, B(0x4b, 0x91, 0x05), "TIME'-838:59:59'");
	check_value(&c, B(0x80, 0x00, 0x00), "TIME'00:00:00'");
	check_value(&c, B(0xb4, 0x6e, 0xfb), "TIME'838:59:59'");
	c.meta = 1;
	check_value(&c, B(0x7f, 0xff, 0xff, 0xce), "TIME'-00:00:00.5'");
	c.meta = 2;
	check_value(&c, B(0x80, 0x00, 0x00, 0x00), "TIME'00:00:00.00'");
	check_value(&c, B(0x7f, 0xff, 0xfe, 0xe7), "TIME'-00:00:01.25'");
	c.meta = 3;
	check_value(&c, B(0x4b, 0x91, 0x04, 0xd8, 0xfa), "TIME'-838:59:59.999'");
	c.meta = 6;
	check_value(&c, B(0x80, 0xc8, 0xb8, 0x0c, 0x0a, 0x14), "TIME'12:34:56.789012'");
	check_value(&c, B(0x7f, 0xef, 0xff, 0xff, 0xff, 0xff), "TIME'-01:00:00.000001'");
	c.meta = 1;
	check_refused(&c, B(0x80, 0x00, 0x00, 0x64), "fraction");
}

static void test_old_temporal(void **state)
{
	struct gw_binlog_col t = col(MYSQL_TYPE_TIME, 0), dt = col(MYSQL_TYPE_DATETIME, 0);
	struct gw_binlog_col ts = col(MYSQL_TYPE_TIMESTAMP, 0);

	(void)state;
	check_value(&t, B(0x59, 0x0a, 0x80), "TIME'-838:59:59'");
	check_value(&t, B(0xa7, 0xf5, 0x7f), "TIME'838:59:59'");
	check_value(&t, B(0x00, 0x00, 0x00), "TIME'00:00:00'");
	check_value(&dt, B(0x76, 0xdf, 0xaa, 0x8b, 0x68, 0x12, 0x00, 0x00),
		    "TIMESTAMP'2024-02-29 13:01:02'");
	check_value(&dt, B(0, 0, 0, 0, 0, 0, 0, 0), "'0000-00-00 00:00:00'");
	check_value(&ts, B(0x0e, 0x80, 0xe0, 0x65), "TIMESTAMP'2024-02-29 13:01:02'");
	check_value(&ts, B(0, 0, 0, 0), "'0000-00-00 00:00:00'");
}

/*
 * MariaDB's pre-10.1 fractional formats: logged as the old types without
 * metadata, told apart by the precision of the definition. The bytes come
 * from a MariaDB 10.11 binlog of a table made with
 * mysql56_temporal_format=OFF.
 */
static void test_mariadb_hires(void **state)
{
	struct gw_binlog_col t1 = defined(MYSQL_TYPE_TIME, 0, "time(1)", NULL);
	struct gw_binlog_col t3 = defined(MYSQL_TYPE_TIME, 0, "time(3)", NULL);
	struct gw_binlog_col t6 = defined(MYSQL_TYPE_TIME, 0, "time(6)", NULL);
	struct gw_binlog_col d2 = defined(MYSQL_TYPE_DATETIME, 0, "datetime(2)", NULL);
	struct gw_binlog_col d3 = defined(MYSQL_TYPE_DATETIME, 0, "datetime(3)", NULL);
	struct gw_binlog_col d6 = defined(MYSQL_TYPE_DATETIME, 0, "datetime(6)", NULL);
	struct gw_binlog_col s1 = defined(MYSQL_TYPE_TIMESTAMP, 0, "timestamp(1)", NULL);
	struct gw_binlog_col s3 = defined(MYSQL_TYPE_TIMESTAMP, 0, "timestamp(3)", NULL);
	struct gw_binlog_col s6 = defined(MYSQL_TYPE_TIMESTAMP, 0, "timestamp(6)", NULL);

	(void)state;
	assert_int_equal(t1.precision, 1);
	assert_int_equal(d6.precision, 6);
	check_value(&t1, B(0x00, 0x00, 0x00, 0x01), "TIME'-838:59:59.9'");
	check_value(&t1, B(0x01, 0xcc, 0xe0, 0x5f), "TIME'-00:00:00.1'");
	check_value(&t3, B(0x00, 0xb3, 0xce, 0xd4, 0xc0), "TIME'-01:02:03.456'");
	check_value(&t6, B(0x05, 0x7e, 0x7b, 0xbc, 0xf7, 0xff), "TIME'838:59:59.999999'");
	check_value(&t6, B(0x02, 0xbf, 0x3d, 0xde, 0x7b, 0xff), "TIME'-00:00:00.000001'");
	check_value(&d2, B(0x20, 0xb0, 0x7d, 0xfb, 0xff, 0xff), "TIMESTAMP'9999-12-31 23:59:59.99'");
	check_value(&d2, B(0x00, 0x00, 0x00, 0x00, 0x00, 0x00), "'0000-00-00 00:00:00.00'");
	check_value(&d3, B(0x00, 0x42, 0x2b, 0xb5, 0xb6, 0x7b, 0x2b),
		    "TIMESTAMP'2024-02-29 13:01:02.123'");
	check_value(&d6, B(0x00, 0x7f, 0xb4, 0x03, 0xf9, 0x23, 0x60, 0x01),
		    "TIMESTAMP'1000-01-01 00:00:00.000001'");
	check_value(&d6, B(0x01, 0x02, 0x73, 0x64, 0x10, 0x67, 0xa1, 0x20),
		    "'2024-00-00 00:00:00.500000'");
	check_value(&s1, B(0x7f, 0xff, 0xff, 0xff, 0x09), "TIMESTAMP'2038-01-19 03:14:07.9'");
	check_value(&s1, B(0x00, 0x00, 0x00, 0x00, 0x00), "'0000-00-00 00:00:00.0'");
	check_value(&s3, B(0x65, 0xe0, 0x80, 0x0e, 0x00, 0x7b), "TIMESTAMP'2024-02-29 13:01:02.123'");
	check_value(&s6, B(0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01),
		    "TIMESTAMP'1970-01-01 00:00:01.000001'");
	check_refused(&s6, B(0x00, 0x00, 0x00, 0x01, 0x0f, 0x42, 0x40), "fraction");
	/* precision 0 is the old format */
	t1.precision = 0;
	check_value(&t1, B(0x59, 0x0a, 0x80), "TIME'-838:59:59'");
	t1.precision = 7;
	check_refused(&t1, B(0, 0, 0, 0, 0, 0, 0), "bad precision");
}

/* ---- rows -------------------------------------------------------------- */

static void test_nulls_and_present(void **state)
{
	/* ten INT columns; 0, 1, 3, 8, 9 present; the 2nd and 5th present are NULL */
	struct gw_binlog_col cols[10];
	const unsigned char present[2] = {0x0b, 0x03};
	const unsigned char img[] = {
		0x12,                   /* nulls: present #1 (col 1) and #4 (col 9) */
		0x01, 0x00, 0x00, 0x00, /* col 0 */
		0x03, 0x00, 0x00, 0x00, /* col 3 */
		0x08, 0x00, 0x00, 0x00, /* col 8 */
		0xaa, 0xbb,             /* the next row */
	};
	char *vals[10];
	struct gw_error e = GW_ERROR_INIT;

	(void)state;
	for (size_t i = 0; i < 10; i++)
		cols[i] = col(MYSQL_TYPE_LONG, 0);
	assert_int_equal(gw_binlog_row(cols, 10, present, img, sizeof(img), vals, &e), 13);
	assert_string_equal(vals[0], "1");
	assert_string_equal(vals[1], "NULL");
	assert_string_equal(vals[3], "3");
	assert_string_equal(vals[8], "8");
	assert_string_equal(vals[9], "NULL");
	for (size_t i = 0; i < 10; i++) {
		if (i == 2 || (i >= 4 && i <= 7))
			assert_null(vals[i]);
		free(vals[i]);
	}

	/* nothing present: an empty null bitmap and no values */
	{
		const unsigned char none[2] = {0, 0};

		assert_int_equal(gw_binlog_row(cols, 10, none, img, 0, vals, &e), 0);
		for (size_t i = 0; i < 10; i++)
			assert_null(vals[i]);
	}
	/* all NULL: nine columns need two bitmap bytes */
	{
		const unsigned char all[2] = {0xff, 0x01};
		const unsigned char nulls[] = {0xff, 0x01};

		assert_int_equal(gw_binlog_row(cols, 9, all, nulls, sizeof(nulls), vals, &e), 2);
		for (size_t i = 0; i < 9; i++) {
			assert_string_equal(vals[i], "NULL");
			free(vals[i]);
		}
		assert_int_equal(gw_binlog_row(cols, 9, all, nulls, 1, vals, &e), -1);
		assert_non_null(strstr(e.msg, "null bitmap"));
	}
}

static void test_error_frees_earlier_values(void **state)
{
	struct gw_binlog_col cols[3] = {col(MYSQL_TYPE_LONG, 0), col(MYSQL_TYPE_LONG, 0),
					col(MYSQL_TYPE_LONG, 0)};
	const unsigned char present[1] = {0x07};
	const unsigned char img[] = {0x00, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0};
	char *vals[3];
	struct gw_error e = GW_ERROR_INIT;

	(void)state;
	cols[2].name = "third";
	assert_int_equal(gw_binlog_row(cols, 3, present, img, sizeof(img), vals, &e), -1);
	assert_null(vals[0]);
	assert_null(vals[1]);
	assert_null(vals[2]);
	assert_int_equal(e.code, GW_ERR_DB);
	assert_non_null(strstr(e.msg, "'third'"));
	assert_non_null(strstr(e.msg, "int"));
	assert_non_null(strstr(e.msg, "truncated"));
	/* err may be NULL */
	assert_int_equal(gw_binlog_row(cols, 3, present, img, sizeof(img), vals, NULL), -1);
}

static void test_unsupported(void **state)
{
	struct gw_binlog_col g = col(MYSQL_TYPE_GEOMETRY, 4), j = col(MYSQL_TYPE_JSON, 4);
	struct gw_binlog_col d = col(MYSQL_TYPE_DECIMAL, 0);

	(void)state;
	check_refused(&g, B(1, 0, 0, 0, 0), "geometry");
	check_refused(&g, B(1, 0, 0, 0, 0), "not supported");
	check_refused(&j, B(1, 0, 0, 0, 0), "json");
	check_refused(&d, B(0), "not supported");
}

/* ---- definitions ------------------------------------------------------- */

static void test_col_define(void **state)
{
	struct gw_binlog_col c = {.name = "x", .type = MYSQL_TYPE_LONG, .meta = 7};

	(void)state;
	gw_binlog_col_define(&c, "int(10) unsigned", NULL);
	assert_true(c.is_unsigned);
	assert_null(c.charset);
	assert_int_equal(c.nmembers, 0);
	assert_string_equal(c.name, "x");
	assert_int_equal(c.type, MYSQL_TYPE_LONG);
	assert_int_equal(c.meta, 7);
	gw_binlog_col_release(&c);
	gw_binlog_col_define(&c, "tinyint(3) unsigned zerofill", NULL);
	assert_true(c.is_unsigned);
	gw_binlog_col_release(&c);
	gw_binlog_col_define(&c, "int(5) zerofill", NULL);
	assert_true(c.is_unsigned);
	gw_binlog_col_release(&c);
	gw_binlog_col_define(&c, "bigint(20)", NULL);
	assert_false(c.is_unsigned);
	gw_binlog_col_release(&c);
	gw_binlog_col_define(&c, "decimal(10,2) unsigned", NULL);
	assert_true(c.is_unsigned);
	gw_binlog_col_release(&c);

	gw_binlog_col_define(&c, "varchar(10)", "latin1");
	assert_string_equal(c.charset, "latin1");
	gw_binlog_col_release(&c);
	assert_null(c.charset);
	for (size_t i = 0; i < 6; i++) {
		static const char *const bin[] = {"binary(4)", "varbinary(300)", "tinyblob",
						  "blob",      "mediumblob",     "longblob"};

		gw_binlog_col_define(&c, bin[i], NULL);
		assert_non_null(c.charset);
		assert_string_equal(c.charset, "binary");
		gw_binlog_col_release(&c);
	}
	gw_binlog_col_define(&c, "datetime(4)", NULL);
	assert_int_equal(c.precision, 4);
	gw_binlog_col_define(&c, "time", NULL);
	assert_int_equal(c.precision, 0);
	gw_binlog_col_define(&c, "timestamp(6)", NULL);
	assert_int_equal(c.precision, 6);
	gw_binlog_col_define(&c, "bit(3)", NULL);
	assert_null(c.charset);
	gw_binlog_col_release(&c);
	gw_binlog_col_define(&c, "binaryish", NULL);
	assert_null(c.charset);
	gw_binlog_col_release(&c);

	/* quotes doubled, backslash escapes, commas and parentheses inside members */
	gw_binlog_col_define(&c, "enum('a','it''s','x,y','','a\\\\b','n\\nl','(p)','''')",
			     "utf8mb4");
	assert_false(c.is_unsigned);
	assert_string_equal(c.charset, "utf8mb4");
	assert_int_equal(c.nmembers, 8);
	assert_string_equal(c.members[0], "a");
	assert_string_equal(c.members[1], "it's");
	assert_string_equal(c.members[2], "x,y");
	assert_string_equal(c.members[3], "");
	assert_string_equal(c.members[4], "a\\b");
	assert_string_equal(c.members[5], "n\nl");
	assert_string_equal(c.members[6], "(p)");
	assert_string_equal(c.members[7], "'");
	gw_binlog_col_release(&c);
	assert_int_equal(c.nmembers, 0);
	assert_null(c.members);

	gw_binlog_col_define(&c, "set('unsigned','b')", "latin1");
	assert_false(c.is_unsigned);
	assert_int_equal(c.nmembers, 2);
	assert_string_equal(c.members[0], "unsigned");
	assert_string_equal(c.members[1], "b");
	gw_binlog_col_release(&c);

	/* many members grow the array */
	{
		struct gw_buf b = GW_BUF_INIT;

		gw_buf_puts(&b, "enum(");
		for (int i = 0; i < 100; i++)
			gw_buf_printf(&b, "%s'm%d'", i ? "," : "", i);
		gw_buf_puts(&b, ")");
		gw_binlog_col_define(&c, b.data, "utf8mb4");
		assert_int_equal(c.nmembers, 100);
		assert_string_equal(c.members[99], "m99");
		gw_binlog_col_release(&c);
		gw_buf_release(&b);
	}
	gw_binlog_col_release(&c); /* twice is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_float_double),
		cmocka_unit_test(test_bit),
		cmocka_unit_test(test_varchar),
		cmocka_unit_test(test_char_binary),
		cmocka_unit_test(test_blob),
		cmocka_unit_test(test_enum_set),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_datetime2),
		cmocka_unit_test(test_timestamp2),
		cmocka_unit_test(test_time2),
		cmocka_unit_test(test_old_temporal),
		cmocka_unit_test(test_mariadb_hires),
		cmocka_unit_test(test_nulls_and_present),
		cmocka_unit_test(test_error_frees_earlier_values),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_col_define),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
