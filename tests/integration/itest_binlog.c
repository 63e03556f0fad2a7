/*
 * The binlog row decoder against a real MariaDB server: rows of every
 * column type are written, updated and deleted, read back through the
 * replication protocol, decoded, inserted as literals into twin tables and
 * compared byte for byte with what the server held.
 *
 * Usage: itest_binlog mysql|postgres. postgres skips (77): it has no
 * binlog. The server comes from GW_TEST_MYSQL_DSN; unset skips, set but
 * unreachable fails. The user needs REPLICATION SLAVE (the dump) and
 * BINLOG MONITOR (SHOW MASTER STATUS); the server needs log_bin with
 * binlog_format=ROW and binlog_row_image=FULL. Every test gets a fresh
 * database gw_itest_binlog, dropped at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <mysql.h>
#include <mariadb_rpl.h>

#include "godwit/buf.h"
#include "godwit/driver.h"
#include "godwit/url.h"
#include "../../drivers/mysql/binlog_int.h"

#define TEST_DB "gw_itest_binlog"
/* Held by the admin connection: runs sharing one server take turns. */
#define RUN_LOCK "gw_itest_binlog:run"
#define RUN_LOCK_WAIT_S 600

static const char *dsn;
static char *test_url;         /* dsn with the database replaced by TEST_DB */
static struct gw_conn *admin;  /* connection to the DSN's own database */

/* ---- the table -------------------------------------------------------- */

/* Every column type; enw and stw get their members at run time. */
static const struct {
	const char *name;
	const char *type;
} columns[] = {
	{"id", "INT NOT NULL PRIMARY KEY"},
	{"ti", "TINYINT"},
	{"tiu", "TINYINT UNSIGNED"},
	{"si", "SMALLINT"},
	{"siu", "SMALLINT UNSIGNED"},
	{"mi", "MEDIUMINT"},
	{"miu", "MEDIUMINT UNSIGNED"},
	{"i", "INT"},
	{"iu", "INT UNSIGNED"},
	{"bi", "BIGINT"},
	{"biu", "BIGINT UNSIGNED"},
	{"zf", "INT(5) ZEROFILL"},
	{"yr", "YEAR"},
	{"dc", "DECIMAL(10,2)"},
	{"dcw", "DECIMAL(65,30)"},
	{"dcf", "DECIMAL(5,5)"},
	{"dcu", "DECIMAL(18,0) UNSIGNED"},
	{"fl", "FLOAT"},
	{"dbl", "DOUBLE"},
	{"vc", "VARCHAR(20) CHARACTER SET utf8mb4"},
	{"vcl", "VARCHAR(300) CHARACTER SET latin1"},
	{"vb", "VARBINARY(300)"},
	{"ch", "CHAR(10) CHARACTER SET utf8mb4"},
	{"chl", "CHAR(255) CHARACTER SET utf8mb4"},
	{"chn", "CHAR(3) CHARACTER SET latin1"},
	{"bn", "BINARY(4)"},
	{"tx", "TEXT CHARACTER SET utf8mb4"},
	{"ttl", "TINYTEXT CHARACTER SET latin1"},
	{"mtx", "MEDIUMTEXT"},
	{"bl", "BLOB"},
	{"lb", "LONGBLOB"},
	{"js", "JSON"},
	{"en", "ENUM('a','it''s','x,y','é')"},
	{"enw", NULL},
	{"st", "SET('x','y','z','é')"},
	{"stw", NULL},
	{"da", "DATE"},
	{"tm", "TIME"},
	{"tm1", "TIME(1)"},
	{"tm3", "TIME(3)"},
	{"tm6", "TIME(6)"},
	{"dt", "DATETIME"},
	{"dt2", "DATETIME(2)"},
	{"dt4", "DATETIME(4)"},
	{"dt6", "DATETIME(6)"},
	{"ts", "TIMESTAMP NULL DEFAULT NULL"},
	{"ts3", "TIMESTAMP(3) NULL DEFAULT NULL"},
	{"ts6", "TIMESTAMP(6) NULL DEFAULT NULL"},
	{"b1", "BIT(1)"},
	{"b10", "BIT(10)"},
	{"b64", "BIT(64)"},
};

/* Rows in column order, written with time_zone '+05:30'. */
#define ROW_MAX                                                                                   \
	"(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,"                 \
	" 9223372036854775807, 18446744073709551615, 99999, 2155, 99999999.99,"                   \
	" 99999999999999999999999999999999999.999999999999999999999999999999, 0.99999,"          \
	" 999999999999999999, 3.4e38, 1.7976931348623157e308, REPEAT('😀', 20),"                  \
	" REPEAT('é', 300), CONCAT(X'00', REPEAT(X'FF00', 149), X'01'), 'ab😀é',"                 \
	" REPEAT('€', 255), 'éèà', X'FF000000', REPEAT('ü😀', 1000), 'café', REPEAT('x', 70000)," \
	" X'00', REPEAT(X'00FF', 40000), '{\"k\": \"😀\", \"n\": [1, 2.5]}', 'é', 'm299',"       \
	" 'x,y,z,é', 18446744073709551615, '9999-12-31', '838:59:59', '838:59:59.9',"             \
	" '838:59:59.999', '838:59:59.999999', '9999-12-31 23:59:59', '9999-12-31 23:59:59.99',"  \
	" '9999-12-31 23:59:59.9999', '9999-12-31 23:59:59.999999', '2038-01-19 08:44:07',"       \
	" '2038-01-19 08:44:07.999', '2038-01-19 08:44:07.999999', b'1', b'1111111111',"          \
	" b'1111111111111111111111111111111111111111111111111111111111111111')"
#define ROW_MIN                                                                                  \
	"(3, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0, 1901," \
	" -99999999.99, -99999999999999999999999999999999999.999999999999999999999999999999,"    \
	" -0.99999, 0, -3.4e38, -1.7976931348623157e308, '', '', '', '', '', '', '', '', '', '',"  \
	" '', '', '[]', 'a', 'm0', '', 0, '1000-01-01', '-838:59:59', '-838:59:59.9',"           \
	" '-00:00:00.001', '-00:00:00.000001', '1000-01-01 00:00:00', '1000-01-01 00:00:00.01',"  \
	" '1000-01-01 00:00:00.0001', '1000-01-01 00:00:00.000001', '1970-01-01 05:30:01',"       \
	" '1970-01-01 05:30:01.001', '1970-01-01 05:30:01.000001', b'0', b'0', b'0')"
/* zeros, padding, NUL bytes, an invalid ENUM value (index 0), zero and partial dates */
#define ROW_ZERO                                                                                  \
	"(4, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, -0e0, 'a  ', 'é  ', X'0000',"     \
	" 'a  ', ' x', 'é', X'61', CONCAT('a', CHAR(0 USING utf8mb4), 'b'), 'é', '', X'0000',"    \
	" X'', 'null', 'zz', 'm150', 'y', 'b0,b63', '0000-00-00', '00:00:00', '00:00:00.0',"      \
	" '-00:00:00.500', '00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.00',"   \
	" '2024-02-00 10:00:00.5', '2024-00-00 00:00:00.000000', '0000-00-00 00:00:00',"          \
	" '0000-00-00 00:00:00.000', NULL, b'1', b'1000000001',"                                   \
	" b'1000000000000000000000000000000000000000000000000000000000000001')"
#define ROW_TYPICAL                                                                                \
	"(5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 42, 2024, 12.5,"                                       \
	" 3.141592653589793238462643383279502884197, 0.5, 12345, 0.1, 1e0 / 3, 'héllo wörld',"     \
	" 'crème brûlée', X'DEADBEEF00', 'ça', 'ünïcode ✓', 'abc', X'0102', 'text 😀', 'ü',"     \
	" 'medium', X'00FF00', X'CAFE', '{\"a\": 1}', 'it''s', 'm1', 'x,é', 'b1,b2', '2024-02-29'," \
	" '13:01:02', '-12:34:56.7', '12:34:56.789', '-01:00:00.000001', '2024-02-29 13:01:02',"    \
	" '2024-02-29 13:01:02.12', '2024-02-29 13:01:02.1234', '2024-02-29 13:01:02.123456',"     \
	" '2024-02-29 18:31:02', '2024-02-29 18:31:02.123', '2024-02-29 18:31:02.123456', b'0',"   \
	" b'101', b'101')"

/* SET lists that steps spell "SET *". */
enum set_all { SET_NONE, SET_COPY_5, SET_NULL };

/*
 * The statements on src, each one step: its before images must equal the
 * rows before it of the ids in before, its after images the rows after it
 * of the ids in after. then is run after it on other tables, whose rows
 * the reader must skip.
 */
static const struct step {
	const char *sql;
	enum set_all set;
	const char *before;
	const char *after;
	const char *then;
} steps[] = {
	{"INSERT INTO src (id) VALUES (1)", SET_NONE, NULL, "1", NULL},
	{"INSERT INTO src VALUES " ROW_MAX, SET_NONE, NULL, "2", "INSERT INTO other SELECT * FROM src"},
	{"INSERT INTO src VALUES " ROW_MIN ", " ROW_ZERO ", " ROW_TYPICAL, SET_NONE, NULL, "3,4,5",
	 NULL},
	{"INSERT INTO src (id, i, vc, dt6, en) VALUES (6, 6, 'six', '2001-01-01 00:00:00.5', 'a'),"
	 " (7, 7, 'seven', NULL, NULL), (8, 8, 'eight ✓', '2002-02-02 02:02:02', 'x,y')",
	 SET_NONE, NULL, "6,7,8", NULL},
	{"UPDATE src a JOIN src b ON b.id = 5 SET * WHERE a.id = 1", SET_COPY_5, "1", "1", NULL},
	{"UPDATE src SET i = i + 1, vc = CONCAT(COALESCE(vc, ''), '✓'),"
	 " dt6 = COALESCE(dt6, '2000-01-01') + INTERVAL 1 SECOND, tm3 = NULL, en = 'x,y', bn = X'01'"
	 " WHERE id IN (3, 4, 5)",
	 SET_NONE, "3,4,5", "3,4,5", "UPDATE other SET i = -1"},
	{"UPDATE src SET * WHERE id = 6", SET_NULL, "6", "6", NULL},
	{"UPDATE src SET id = 10 WHERE id = 7", SET_NONE, "7", "10", "DELETE FROM other WHERE id = 1"},
	{"DELETE FROM src WHERE id IN (3, 8)", SET_NONE, "3,8", NULL, NULL},
	{"DELETE FROM src WHERE id = 10", SET_NONE, "10", NULL, NULL},
};
#define NSTEPS GW_ARRAY_SIZE(steps)

/* ---- helpers ----------------------------------------------------------- */

/* New dsn with the path (database) replaced by db; query options kept. */
static char *with_database(const char *url, const char *db)
{
	const char *auth = strstr(url, "://");
	const char *q, *at, *path;

	assert_non_null(auth);
	auth += 3;
	q = auth + strcspn(auth, "?");
	at = auth;
	for (const char *p = auth; p < q; p++)
		if (*p == '@')
			at = p + 1;
	path = at + strcspn(at, "/?");
	return gw_asprintf("%.*s/%s%s", (int)(path - url), url, db, q);
}

static void fail_with(const char *what, const char *sql, const struct gw_error *e)
{
	fail_msg("%s: %s\n  sql: %.300s\n  error %d (%s) errno %d", what, e->msg, sql, e->code,
		 gw_strerror(e->code), e->db_errno);
}

static void exec_ok(struct gw_conn *c, const char *sql)
{
	struct gw_error e = GW_ERROR_INIT;

	if (gw_conn_exec(c, sql, &e) != 0)
		fail_with("exec failed", sql, &e);
}

/* New result of sql; fail on error. */
static struct gw_result *query_ok(struct gw_conn *c, const char *sql)
{
	struct gw_error e = GW_ERROR_INIT;
	struct gw_result *r = NULL;

	if (gw_conn_query(c, sql, 0, NULL, &r, &e) != 0)
		fail_with("query failed", sql, &e);
	assert_non_null(r);
	return r;
}

static struct gw_conn *connect_ok(const char *url, const char *session)
{
	struct gw_error e = GW_ERROR_INIT;
	struct gw_conn *c = NULL;

	if (gw_connect(url, &c, &e) != 0)
		fail_with("connect failed", "(connect)", &e);
	if (session)
		exec_ok(c, session);
	return c;
}

/* "CREATE TABLE src (...)" with the generated ENUM and SET. */
static char *create_src_sql(void)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "CREATE TABLE src (");
	for (size_t i = 0; i < GW_ARRAY_SIZE(columns); i++) {
		/* enw: 300 members, two index bytes; stw: 64 members, eight bytes */
		bool is_enum = strcmp(columns[i].name, "enw") == 0;

		gw_buf_printf(&b, "%s`%s` ", i ? ", " : "", columns[i].name);
		if (columns[i].type) {
			gw_buf_puts(&b, columns[i].type);
			continue;
		}
		gw_buf_puts(&b, is_enum ? "ENUM(" : "SET(");
		for (int m = 0; m < (is_enum ? 300 : 64); m++)
			gw_buf_printf(&b, "%s'%c%d'", m ? "," : "", is_enum ? 'm' : 'b', m);
		gw_buf_puts(&b, ")");
	}
	gw_buf_puts(&b, ") DEFAULT CHARSET utf8mb4");
	return gw_buf_detach(&b);
}

/* The step's SQL with "SET *" spelt out. */
static char *step_sql(const struct step *s)
{
	struct gw_buf b = GW_BUF_INIT;
	const char *star = strstr(s->sql, "SET *");

	if (s->set == SET_NONE)
		return gw_strdup(s->sql);
	assert_non_null(star);
	gw_buf_put(&b, s->sql, (size_t)(star - s->sql));
	gw_buf_puts(&b, "SET ");
	for (size_t i = 1; i < GW_ARRAY_SIZE(columns); i++) {
		const char *n = columns[i].name;

		if (s->set == SET_COPY_5)
			gw_buf_printf(&b, "%sa.`%s` = b.`%s`", i > 1 ? ", " : "", n, n);
		else
			gw_buf_printf(&b, "%s`%s` = NULL", i > 1 ? ", " : "", n);
	}
	gw_buf_puts(&b, star + 5);
	return gw_buf_detach(&b);
}

/* ---- reading the binlog ------------------------------------------------ */

struct image {
	size_t step;   /* statement on the table, from 0, by STMT_END_F */
	char **before; /* literals of every column; NULL for writes */
	char **after;  /* NULL for deletes */
};

/* The decoded images of one table between two binlog positions. */
struct capture {
	const char *table;
	struct gw_binlog_col *cols; /* definition, then types and metadata from TABLE_MAP */
	size_t ncols;
	unsigned long long table_id;
	bool mapped;
	size_t step;
	struct image *images;
	size_t nimages;
	size_t skipped; /* rows events of other tables */
	size_t events;  /* rows events of the table */
	bool v2;        /* saw version 2 rows events */
};

static void capture_init(struct capture *cap, struct gw_conn *c, const char *table)
{
	char *sql = gw_asprintf("SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME"
				" FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '%s'"
				" AND TABLE_NAME = '%s' ORDER BY ORDINAL_POSITION",
				TEST_DB, table);
	struct gw_result *r = query_ok(c, sql);

	memset(cap, 0, sizeof(*cap));
	cap->table = table;
	cap->ncols = (size_t)r->nrows;
	cap->cols = gw_calloc(cap->ncols, sizeof(*cap->cols));
	for (size_t i = 0; i < cap->ncols; i++) {
		cap->cols[i].name = gw_strdup(gw_result_get(r, (int)i, 0));
		gw_binlog_col_define(&cap->cols[i], gw_result_get(r, (int)i, 1),
				     gw_result_get(r, (int)i, 2));
	}
	gw_result_free(r);
	free(sql);
}

static void free_vals(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void capture_release(struct capture *cap)
{
	for (size_t i = 0; i < cap->nimages; i++) {
		free_vals(cap->images[i].before, cap->ncols);
		free_vals(cap->images[i].after, cap->ncols);
	}
	free(cap->images);
	for (size_t i = 0; i < cap->ncols; i++) {
		free((char *)cap->cols[i].name);
		gw_binlog_col_release(&cap->cols[i]);
	}
	free(cap->cols);
}

static bool named(const MARIADB_STRING *s, const char *name)
{
	return s->length == strlen(name) && memcmp(s->str, name, s->length) == 0;
}

static void table_map(struct capture *cap, const MARIADB_RPL_EVENT *ev)
{
	const struct st_mariadb_rpl_table_map_event *tm = &ev->event.table_map;
	const unsigned char *types = (const unsigned char *)tm->column_types.str;
	unsigned *meta;

	if (!named(&tm->database, TEST_DB) || !named(&tm->table, cap->table))
		return;
	assert_int_equal(tm->column_count, cap->ncols);
	meta = gw_calloc(cap->ncols, sizeof(*meta));
	assert_int_equal(gw_binlog_meta(types, cap->ncols, (const unsigned char *)tm->metadata.str,
					tm->metadata.length, meta),
			 0);
	for (size_t i = 0; i < cap->ncols; i++) {
		cap->cols[i].type = types[i];
		cap->cols[i].meta = meta[i];
	}
	free(meta);
	cap->table_id = tm->table_id;
	cap->mapped = true;
}

/* One row image; -1 with e set when it does not decode. */
static int decode(struct capture *cap, const unsigned char *bitmap, const unsigned char **p,
		  size_t *left, char ***vals, struct gw_error *e)
{
	long n;

	*vals = gw_calloc(cap->ncols, sizeof(**vals));
	n = gw_binlog_row(cap->cols, cap->ncols, bitmap, *p, *left, *vals, e);
	if (n < 0)
		return -1;
	assert_true(n > 0 && (size_t)n <= *left);
	*p += n;
	*left -= (size_t)n;
	return 0;
}

static int rows_event(struct capture *cap, const MARIADB_RPL_EVENT *ev, struct gw_error *e)
{
	const struct st_mariadb_rpl_rows_event *rows = &ev->event.rows;
	const unsigned char *p = rows->row_data;
	size_t left = rows->row_data_size;

	if (!cap->mapped || rows->table_id != cap->table_id) {
		cap->skipped++;
		return 0;
	}
	cap->events++;
	cap->v2 |= ev->event_type == WRITE_ROWS_EVENT || ev->event_type == UPDATE_ROWS_EVENT ||
		   ev->event_type == DELETE_ROWS_EVENT;
	assert_int_equal(rows->column_count, cap->ncols);
	assert_false(rows->compressed);
	while (left > 0) {
		struct image img = {cap->step, NULL, NULL};
		int rc = 0;

		if (rows->type != WRITE_ROWS)
			rc = decode(cap, rows->column_bitmap, &p, &left, &img.before, e);
		if (rc == 0 && rows->type != DELETE_ROWS)
			rc = decode(cap, rows->type == UPDATE_ROWS ? rows->column_update_bitmap
								   : rows->column_bitmap,
				    &p, &left, &img.after, e);
		cap->images = gw_realloc(cap->images, (cap->nimages + 1) * sizeof(*cap->images));
		cap->images[cap->nimages++] = img;
		if (rc != 0)
			return -1;
	}
	if (rows->flags & STMT_END_F)
		cap->step++;
	return 0;
}

/*
 * Decode the rows of cap's table from file:pos up to end_file:end_pos
 * through COM_BINLOG_DUMP. -1 with e set when a row does not decode.
 */
static int capture_binlog(struct capture *cap, const char *file, unsigned long pos,
			  const char *end_file, unsigned long end_pos, struct gw_error *e)
{
	struct gw_url url = GW_URL_INIT;
	struct gw_error ue = GW_ERROR_INIT;
	MYSQL *my = mysql_init(NULL);
	MARIADB_RPL *rpl = NULL;
	MARIADB_RPL_EVENT *ev = NULL;
	char *cur = gw_strdup(file);
	int rc = 0;

	if (gw_url_parse(test_url, &url, &ue) != 0)
		fail_with("bad url", "(url)", &ue);
	assert_non_null(my);
	mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(my, url.host, url.user, url.password, NULL,
				(unsigned)(url.port ? url.port : 3306), NULL, 0))
		fail_msg("replication connection failed: %s", mysql_error(my));
	/* the server sends checksums only to readers that say they expect them */
	if (mysql_query(my, "SET @master_binlog_checksum = @@global.binlog_checksum") != 0)
		fail_msg("%s", mysql_error(my));
	rpl = mariadb_rpl_init(my);
	assert_non_null(rpl);
	assert_int_equal(mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file, strlen(file)), 0);
	assert_int_equal(mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, pos), 0);
	assert_int_equal(mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID,
					      (unsigned)(4000 + getpid() % 1000)),
			 0);
	assert_int_equal(mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS,
					      (unsigned)MARIADB_RPL_BINLOG_DUMP_NON_BLOCK),
			 0);
	if (mariadb_rpl_open(rpl) != 0)
		fail_msg("could not start the binlog dump: %s", mysql_error(my));
	while (rc == 0 && (strcmp(cur, end_file) != 0 || pos < end_pos)) {
		if (!(ev = mariadb_rpl_fetch(rpl, ev)))
			fail_msg("the binlog ended at %s:%lu before %s:%lu: %s", cur, pos, end_file,
				 end_pos, mysql_error(my));
		switch (ev->event_type) {
		case ROTATE_EVENT:
			free(cur);
			cur = gw_strndup(ev->event.rotate.filename.str,
					 ev->event.rotate.filename.length);
			pos = (unsigned long)ev->event.rotate.position;
			continue;
		case TABLE_MAP_EVENT:
			table_map(cap, ev);
			break;
		case WRITE_ROWS_EVENT_V1:
		case UPDATE_ROWS_EVENT_V1:
		case DELETE_ROWS_EVENT_V1:
		case WRITE_ROWS_EVENT:
		case UPDATE_ROWS_EVENT:
		case DELETE_ROWS_EVENT:
			rc = rows_event(cap, ev, e);
			break;
		default:
			break;
		}
		if (ev->next_event_pos)
			pos = ev->next_event_pos;
	}
	mariadb_free_rpl_event(ev);
	mariadb_rpl_close(rpl);
	mysql_close(my);
	gw_url_release(&url);
	free(cur);
	return rc;
}

/* The binlog file and position now. */
static void master_status(struct gw_conn *c, char **file, unsigned long *pos)
{
	struct gw_result *r = query_ok(c, "SHOW MASTER STATUS");

	if (r->nrows != 1)
		fail_msg("SHOW MASTER STATUS returned no row: is log_bin on?");
	*file = gw_strdup(gw_result_get(r, 0, 0));
	*pos = strtoul(gw_result_get(r, 0, 1), NULL, 10);
	gw_result_free(r);
}

/* ---- comparing --------------------------------------------------------- */

static bool is_string(const struct gw_binlog_col *c)
{
	return c->charset != NULL;
}

/* The NULL-safe, byte-exact equality of column i of x and y. */
static void put_equal(struct gw_buf *b, const struct gw_binlog_col *c)
{
	if (is_string(c))
		gw_buf_printf(b, "BINARY x.`%s` <=> BINARY y.`%s`", c->name, c->name);
	else
		gw_buf_printf(b, "x.`%s` <=> y.`%s`", c->name, c->name);
}

/* Print what differs between the row sets a and b, column by column. */
static void explain(struct gw_conn *c, const struct capture *cap, const char *a, const char *b)
{
	for (size_t i = 0; i < cap->ncols; i++) {
		const char *n = cap->cols[i].name;
		const char *show = is_string(&cap->cols[i]) ? "HEX" : "CAST";
		const char *as = is_string(&cap->cols[i]) ? "" : " AS CHAR";
		struct gw_buf sql = GW_BUF_INIT;
		struct gw_result *r;

		gw_buf_printf(&sql, "SELECT x.id, %s(x.`%s`%s), %s(y.`%s`%s) FROM %s x JOIN %s y"
				    " ON x.id = y.id WHERE NOT (",
			      show, n, as, show, n, as, a, b);
		put_equal(&sql, &cap->cols[i]);
		gw_buf_puts(&sql, ")");
		r = query_ok(c, sql.data);
		for (int k = 0; k < r->nrows; k++)
			print_message("  id %s column %s: %.200s vs %.200s\n", gw_result_get(r, k, 0), n,
				      gw_result_get(r, k, 1) ? gw_result_get(r, k, 1) : "NULL",
				      gw_result_get(r, k, 2) ? gw_result_get(r, k, 2) : "NULL");
		gw_result_free(r);
		gw_buf_release(&sql);
	}
}

/* The row sets a and b (tables or parenthesised SELECTs with alias room) must be equal. */
static void assert_same_rows(struct gw_conn *c, const struct capture *cap, const char *what,
			     const char *a, const char *b)
{
	struct gw_buf sql = GW_BUF_INIT;
	struct gw_result *r;
	long long na, nb, nboth;

	gw_buf_printf(&sql, "SELECT (SELECT COUNT(*) FROM %s x), (SELECT COUNT(*) FROM %s y),"
			    " (SELECT COUNT(*) FROM %s x JOIN %s y ON ",
		      a, b, a, b);
	for (size_t i = 0; i < cap->ncols; i++) {
		gw_buf_puts(&sql, i ? " AND " : "");
		put_equal(&sql, &cap->cols[i]);
	}
	gw_buf_puts(&sql, ")");
	r = query_ok(c, sql.data);
	na = atoll(gw_result_get(r, 0, 0));
	nb = atoll(gw_result_get(r, 0, 1));
	nboth = atoll(gw_result_get(r, 0, 2));
	gw_result_free(r);
	gw_buf_release(&sql);
	if (na != nb || na != nboth) {
		print_message("%s: %lld decoded rows, %lld on the server, %lld equal\n", what, na, nb,
			      nboth);
		explain(c, cap, a, b);
		fail_msg("%s: the decoded rows differ from the server's", what);
	}
}

/* INSERT INTO table VALUES (vals...). */
static void insert_literals(struct gw_conn *c, const char *table, char **vals, size_t n)
{
	struct gw_buf sql = GW_BUF_INIT;

	gw_buf_printf(&sql, "INSERT INTO %s VALUES (", table);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(vals[i]);
		gw_buf_printf(&sql, "%s%s", i ? ", " : "", vals[i]);
	}
	gw_buf_puts(&sql, ")");
	exec_ok(c, sql.data);
	gw_buf_release(&sql);
}

/* ---- fixtures ---------------------------------------------------------- */

static void recreate_database(void)
{
	struct gw_error e = GW_ERROR_INIT;

	if (gw_conn_exec(admin, "DROP DATABASE IF EXISTS " TEST_DB, &e) != 0 ||
	    gw_conn_exec(admin, "CREATE DATABASE " TEST_DB " CHARACTER SET utf8mb4", &e) != 0)
		fail_with("could not recreate the test database", TEST_DB, &e);
}

static int setup(void **state)
{
	(void)state;
	recreate_database();
	return 0;
}

/* ---- tests ------------------------------------------------------------- */

static void test_round_trip(void **state)
{
	/* the writer's time zone differs from the twins' to catch local time */
	struct gw_conn *w = connect_ok(test_url, "SET time_zone = '+05:30',"
						 " sql_mode = 'NO_ENGINE_SUBSTITUTION'");
	/* not strict: ENUM index 0 comes back as '' */
	struct gw_conn *t = connect_ok(test_url, "SET time_zone = '+00:00',"
						 " sql_mode = 'NO_ENGINE_SUBSTITUTION'");
	struct gw_error e = GW_ERROR_INIT;
	struct capture cap;
	char *create = create_src_sql();
	char *start_file, *end_file, *sql;
	unsigned long start_pos, end_pos;

	(void)state;
	exec_ok(w, create);
	free(create);
	exec_ok(w, "CREATE TABLE other LIKE src");
	exec_ok(w, "CREATE TABLE replica LIKE src");
	for (size_t k = 0; k <= NSTEPS; k++) {
		sql = gw_asprintf("CREATE TABLE snap_%zu LIKE src", k);
		exec_ok(w, sql);
		free(sql);
		sql = gw_asprintf("CREATE TABLE before_%zu LIKE src", k);
		exec_ok(w, sql);
		free(sql);
		sql = gw_asprintf("CREATE TABLE after_%zu LIKE src", k);
		exec_ok(w, sql);
		free(sql);
	}
	capture_init(&cap, w, "src");
	master_status(w, &start_file, &start_pos);
	for (size_t k = 0; k < NSTEPS; k++) {
		sql = gw_asprintf("INSERT INTO snap_%zu SELECT * FROM src", k);
		exec_ok(w, sql);
		free(sql);
		sql = step_sql(&steps[k]);
		exec_ok(w, sql);
		free(sql);
		if (steps[k].then)
			exec_ok(w, steps[k].then);
	}
	sql = gw_asprintf("INSERT INTO snap_%zu SELECT * FROM src", NSTEPS);
	exec_ok(w, sql);
	free(sql);
	master_status(w, &end_file, &end_pos);

	if (capture_binlog(&cap, start_file, start_pos, end_file, end_pos, &e) != 0)
		fail_msg("decoding failed: %s", e.msg);
	print_message("decoded %zu images in %zu rows events (v2: %s), skipped %zu of other tables\n",
		      cap.nimages, cap.events, cap.v2 ? "yes" : "no", cap.skipped);
	assert_int_equal(cap.step, NSTEPS);
	/* other, snap_* */
	assert_true(cap.skipped >= NSTEPS + 3);

	for (size_t i = 0; i < cap.nimages; i++) {
		const struct image *img = &cap.images[i];

		if (img->before) {
			struct gw_result *r;

			sql = gw_asprintf("before_%zu", img->step);
			insert_literals(t, sql, img->before, cap.ncols);
			free(sql);
			/* the id literal finds the row in the replica */
			sql = gw_asprintf("DELETE FROM replica WHERE id = %s", img->before[0]);
			if (gw_conn_query(t, sql, 0, NULL, &r, &e) != 0)
				fail_with("delete failed", sql, &e);
			assert_int_equal(r->affected, 1);
			gw_result_free(r);
			free(sql);
		}
		if (img->after) {
			sql = gw_asprintf("after_%zu", img->step);
			insert_literals(t, sql, img->after, cap.ncols);
			free(sql);
			insert_literals(t, "replica", img->after, cap.ncols);
		}
	}
	for (size_t k = 0; k < NSTEPS; k++) {
		char *what = gw_asprintf("step %zu before images", k);
		char *want = gw_asprintf("(SELECT * FROM snap_%zu WHERE id IN (%s))", k,
					 steps[k].before ? steps[k].before : "NULL");
		char *got = gw_asprintf("before_%zu", k);

		assert_same_rows(t, &cap, what, got, want);
		free(what), free(want), free(got);
		what = gw_asprintf("step %zu after images", k);
		want = gw_asprintf("(SELECT * FROM snap_%zu WHERE id IN (%s))", k + 1,
				   steps[k].after ? steps[k].after : "NULL");
		got = gw_asprintf("after_%zu", k);
		assert_same_rows(t, &cap, what, got, want);
		free(what), free(want), free(got);
	}
	assert_same_rows(t, &cap, "final state", "replica", "src");

	capture_release(&cap);
	free(start_file);
	free(end_file);
	gw_conn_close(t);
	gw_conn_close(w);
}

/* GEOMETRY cannot be decoded: the error names the column. */
static void test_geometry_refused(void **state)
{
	struct gw_conn *w = connect_ok(test_url, NULL);
	struct gw_error e = GW_ERROR_INIT;
	struct capture cap;
	char *start_file, *end_file;
	unsigned long start_pos, end_pos;

	(void)state;
	exec_ok(w, "CREATE TABLE geo (id INT PRIMARY KEY, pt POINT)");
	capture_init(&cap, w, "geo");
	master_status(w, &start_file, &start_pos);
	exec_ok(w, "INSERT INTO geo VALUES (1, POINT(1, 2))");
	master_status(w, &end_file, &end_pos);
	assert_int_equal(capture_binlog(&cap, start_file, start_pos, end_file, end_pos, &e), -1);
	assert_int_equal(e.code, GW_ERR_DB);
	if (!strstr(e.msg, "'pt'") || !strstr(e.msg, "geometry"))
		fail_msg("unexpected message: %s", e.msg);
	capture_release(&cap);
	free(start_file);
	free(end_file);
	gw_conn_close(w);
}

/*
 * Wait for other runs of this test against the same server (another build
 * directory, ctest -j) to finish: they share the database TEST_DB.
 */
static int take_run_lock(struct gw_error *e)
{
	const struct timespec second = {1, 0};

	for (int i = 0; i < RUN_LOCK_WAIT_S; i++) {
		bool got = false;
		int rc = gw_conn_try_lock(admin, RUN_LOCK, &got, e);

		if (rc != 0 || got)
			return rc;
		if (i == 0)
			fprintf(stderr, "itest_binlog: waiting for another run to finish\n");
		nanosleep(&second, NULL);
	}
	return gw_error_set(e, GW_ERR_LOCKED, "another run held '%s' for %d s", RUN_LOCK,
			    RUN_LOCK_WAIT_S);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_round_trip, setup),
		cmocka_unit_test_setup(test_geometry_refused, setup),
	};
	struct gw_error e = GW_ERROR_INIT;
	int failed;

	if (argc != 2 || (strcmp(argv[1], "mysql") != 0 && strcmp(argv[1], "postgres") != 0)) {
		fprintf(stderr, "usage: %s mysql|postgres\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "postgres") == 0) {
		printf("skipped: postgres has no binlog\n");
		return 77;
	}
	dsn = getenv("GW_TEST_MYSQL_DSN");
	if (!dsn || !dsn[0]) {
		printf("skipped: GW_TEST_MYSQL_DSN not set\n");
		return 77;
	}
	if (gw_connect(dsn, &admin, &e) != 0) {
		fprintf(stderr, "itest_binlog: GW_TEST_MYSQL_DSN is set but connecting failed: %s\n",
			e.msg);
		return 1;
	}
	if (take_run_lock(&e) != 0) {
		fprintf(stderr, "itest_binlog: %s\n", e.msg);
		gw_conn_close(admin);
		return 1;
	}
	test_url = with_database(dsn, TEST_DB);

	failed = cmocka_run_group_tests_name("binlog", tests, NULL, NULL);

	if (gw_conn_exec(admin, "DROP DATABASE IF EXISTS " TEST_DB, &e) != 0) {
		fprintf(stderr, "itest_binlog: could not drop %s: %s\n", TEST_DB, e.msg);
		failed = failed ? failed : 1;
	}
	gw_conn_close(admin);
	free(test_url);
	return failed;
}
