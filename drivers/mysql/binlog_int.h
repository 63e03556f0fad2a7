/*
 * Private to the MariaDB/MySQL driver: decoding the row images of binlog
 * ROWS events (WRITE/UPDATE/DELETE_ROWS, v1 and v2) into SQL literals.
 * Pure functions on bytes, used by the binlog stream (binlog.c).
 */
#ifndef GODWIT_BINLOG_INT_H
#define GODWIT_BINLOG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "godwit/common.h"

/*
 * One column of a table as the decoder needs it: its binlog type and
 * metadata from the TABLE_MAP event, the rest from the table's definition
 * (the TABLE_MAP event carries them only with binlog_row_metadata=FULL).
 */
struct gw_binlog_col {
	const char *name;        /* for messages */
	unsigned char type;      /* MYSQL_TYPE_* byte of the TABLE_MAP event */
	unsigned meta;           /* its metadata, from gw_binlog_meta */
	bool is_unsigned;        /* integer columns */
	unsigned precision;      /* TIME, DATETIME, TIMESTAMP: fractional digits; MariaDB's
				    pre-10.1 formats of these are logged without them */
	char *charset;           /* text columns: character set name ("utf8mb4", "latin1");
				    "binary" for BINARY/VARBINARY/BLOB; NULL for the rest */
	size_t nmembers;         /* ENUM/SET: members in order */
	char **members;
};

/*
 * Fill the definition part of c (is_unsigned, precision, charset, members; name,
 * type and meta are left alone) from information_schema.COLUMNS:
 * column_type as COLUMN_TYPE ("int(10) unsigned", "enum('a','it''s')",
 * "set('x','y')"), charset as CHARACTER_SET_NAME (NULL for non-text
 * columns; BINARY/VARBINARY/BLOB columns get "binary"). Strings are
 * copied; gw_binlog_col_release frees them.
 */
void gw_binlog_col_define(struct gw_binlog_col *c, const char *column_type, const char *charset);
void gw_binlog_col_release(struct gw_binlog_col *c);

/*
 * Split the metadata block of a TABLE_MAP event (meta, metalen bytes) into
 * out[i] for each of the ncols columns of types. 0, or -1 when the block is
 * too short, has bytes left over or a type is unknown. Two-byte metadata
 * is read as the server does: little-endian for VARCHAR and BIT (bits % 8
 * in the low byte), first byte high for DECIMAL (precision) and
 * STRING/ENUM/SET (real type).
 */
GW_MUSTCHECK int gw_binlog_meta(const unsigned char *types, size_t ncols,
				const unsigned char *meta, size_t metalen, unsigned *out);

/*
 * Decode one row image at p (len bytes left): the null bitmap of the
 * columns set in present (bit i of present[i / 8], LSB first: the
 * column bitmap of the event), then their values. vals[i] receives a new
 * SQL literal (free()) for each present column i and NULL for the others.
 * Literals evaluate to the value in the column's own type:
 *   NULL
 *   -12, 18446744073709551615              integers, YEAR
 *   -12.50                                 DECIMAL (its scale)
 *   1.50000000000000000e+00                FLOAT and DOUBLE: %.17e of the value
 *                                          (a FLOAT widened to double exactly)
 *   _utf8mb4 X'c3a9'                       text in its character set
 *   _binary X'00ff'                        binary strings and blobs (BINARY(n)
 *                                          padded back to n bytes with 0x00)
 *   DATE'2024-02-29'  TIME'-838:59:59.000000'  TIMESTAMP'2024-02-29 13:01:02.123400'
 *                                          fractions to the column's precision;
 *                                          TIMESTAMP columns in UTC (the applier runs
 *                                          with time_zone '+00:00');
 *                                          zero or partial dates ('0000-00-00',
 *                                          '2024-00-00 00:00:00') as plain strings
 *   _utf8mb4 X'..'                         ENUM and SET: the member names
 *                                          (index 0 / empty set: '')
 *   b'101'                                 BIT
 * Returns the bytes consumed, or -1 with every vals[i] NULL and err
 * (GW_ERR_DB, naming the column and its type) on malformed data or a type it cannot decode (GEOMETRY,
 * MySQL's binary JSON).
 */
GW_MUSTCHECK long gw_binlog_row(const struct gw_binlog_col *cols, size_t ncols,
				const unsigned char *present, const unsigned char *p, size_t len,
				char **vals, struct gw_error *err);

#endif
