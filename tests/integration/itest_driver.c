/*
 * The driver contract against a real MariaDB/MySQL or PostgreSQL server:
 * connect, parameters, error classes, advisory locks and introspection.
 *
 * Usage: itest_driver mysql|postgres. The server comes from GW_TEST_MYSQL_DSN
 * or GW_TEST_PG_DSN; unset skips (77), set but unreachable fails. Every test
 * gets a fresh database gw_itest_driver, created through the DSN's own
 * connection and dropped at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "godwit/driver.h"

#define TEST_DB "gw_itest_driver"
#define WRONG_PASSWORD "Wr0ng-pw-Q7xz"
#define LOCK_NAME "gw_itest_driver:x"
/* Held by the admin connection: runs sharing one server take turns. */
#define RUN_LOCK "gw_itest_driver:run"
#define RUN_LOCK_WAIT_S 600

static bool is_pg;
static const char *dsn;        /* the DSN as given */
static char *test_url;         /* dsn with the database replaced by TEST_DB */
static struct gw_conn *admin;  /* connection to the DSN's own database */

/* Engine-specific SQL text. */
#define SQL(my, pg) (is_pg ? (pg) : (my))

/* What one test holds; teardown frees it even after a failed assertion. */
struct fx {
	struct gw_conn *a, *b;
	struct gw_result *res;
	struct gw_table_info *ti[3];
	char *text[2];
};

/* ---- helpers ----------------------------------------------------------- */

/* New dsn with the path (database) replaced by db; query options kept. */
static char *with_database(const char *url, const char *db)
{
	const char *auth = strstr(url, "://");
	const char *q, *at, *path;

	assert_non_null(auth);
	auth += 3;
	q = auth + strcspn(auth, "?");
	/* the host starts after the last '@' of the authority */
	at = auth;
	for (const char *p = auth; p < q; p++)
		if (*p == '@')
			at = p + 1;
	path = at + strcspn(at, "/?");
	return gw_asprintf("%.*s/%s%s", (int)(path - url), url, db, q);
}

/* New url with the scheme replaced. */
static char *with_scheme(const char *url, const char *scheme)
{
	const char *rest = strstr(url, "://");

	assert_non_null(rest);
	return gw_asprintf("%s%s", scheme, rest);
}

/* New url with the password replaced by pw (user kept). */
static char *with_password(const char *url, const char *pw)
{
	const char *auth = strstr(url, "://");
	const char *q, *at = NULL, *colon;

	assert_non_null(auth);
	auth += 3;
	q = auth + strcspn(auth, "?");
	for (const char *p = auth; p < q; p++)
		if (*p == '@')
			at = p;
	assert_non_null(at);
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (!colon)
		colon = at;
	return gw_asprintf("%.*s:%s%s", (int)(colon - url), url, pw, at);
}

/* New copy of the url's password, percent-escapes left as they are, or NULL. */
static char *url_password(const char *url)
{
	const char *auth = strstr(url, "://") + 3;
	const char *q = auth + strcspn(auth, "?"), *at = NULL, *colon;

	for (const char *p = auth; p < q; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return NULL;
	colon = memchr(auth, ':', (size_t)(at - auth));
	return colon ? gw_strndup(colon + 1, (size_t)(at - colon - 1)) : NULL;
}

static void fail_with(const char *what, const char *sql, const struct gw_error *e)
{
	fail_msg("%s: %s\n  sql: %s\n  error %d (%s) sqlstate '%s' errno %d", what, e->msg, sql,
		 e->code, gw_strerror(e->code), e->sqlstate, e->db_errno);
}

/* Run sql without result; fail the test on error. */
static void exec_ok(struct gw_conn *c, const char *sql)
{
	struct gw_error e = GW_ERROR_INIT;

	if (gw_conn_exec(c, sql, &e) != 0)
		fail_with("exec failed", sql, &e);
}

/* Run sql into fx->res (replacing the previous result); fail on error. */
static struct gw_result *query_ok(struct fx *fx, struct gw_conn *c, const char *sql, int n,
				  const char *const *params)
{
	struct gw_error e = GW_ERROR_INIT;

	gw_result_free(fx->res);
	fx->res = NULL;
	if (gw_conn_query(c, sql, n, params, &fx->res, &e) != 0)
		fail_with("query failed", sql, &e);
	assert_non_null(fx->res);
	return fx->res;
}

/* Run sql expecting failure; returns the code, e is filled. */
static int query_err(struct gw_conn *c, const char *sql, int n, const char *const *params,
		     struct gw_error *e)
{
	struct gw_result *r = NULL;
	int rc;

	gw_error_clear(e);
	rc = gw_conn_query(c, sql, n, params, &r, e);
	assert_null(r);
	assert_int_not_equal(rc, 0);
	assert_int_equal(rc, e->code);
	assert_true(e->msg[0] != '\0');
	return rc;
}

static struct gw_conn *connect_ok(const char *url)
{
	struct gw_error e = GW_ERROR_INIT;
	struct gw_conn *c = NULL;

	if (gw_connect(url, &c, &e) != 0)
		fail_with("connect failed", "(connect)", &e);
	assert_non_null(c);
	return c;
}

/* The describe of table into fx->ti[slot]; fail on error. */
static struct gw_table_info *describe_ok(struct fx *fx, int slot, const char *table)
{
	struct gw_error e = GW_ERROR_INIT;

	gw_table_info_free(fx->ti[slot]);
	fx->ti[slot] = NULL;
	if (gw_conn_describe(fx->a, table, &fx->ti[slot], &e) != 0)
		fail_with("describe failed", table, &e);
	assert_non_null(fx->ti[slot]);
	return fx->ti[slot];
}

/* Whether s contains needle, s lower-cased first. */
static bool has_ci(const char *s, const char *needle)
{
	char *low = gw_strdup(s);
	bool found;

	for (char *p = low; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	found = strstr(low, needle) != NULL;
	free(low);
	return found;
}

#define assert_has_ci(s, needle)                                                    \
	do {                                                                        \
		assert_non_null(s);                                                 \
		if (!has_ci((s), (needle)))                                         \
			fail_msg("'%s' does not contain '%s'", (s), (needle));      \
	} while (0)

static void assert_strv(char *const *v, size_t n, const char *const *want, size_t nwant)
{
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(v[i]);
		assert_string_equal(v[i], want[i]);
	}
}

/* The cell, asserting its bounds first (gw_result_get would abort). */
static const char *cell(const struct gw_result *r, int row, int col)
{
	assert_in_range(row, 0, r->nrows - 1);
	assert_in_range(col, 0, r->ncols - 1);
	return gw_result_get(r, row, col);
}

static void assert_cell(const struct gw_result *r, int row, int col, const char *want)
{
	const char *v = cell(r, row, col);

	if (!want) {
		if (v)
			fail_msg("row %d col %d: want NULL, got '%s'", row, col, v);
		return;
	}
	if (!v)
		fail_msg("row %d col %d: want '%s', got NULL", row, col, want);
	assert_string_equal(v, want);
}

/* ---- fixtures ---------------------------------------------------------- */

static void recreate_database(void)
{
	struct gw_error e = GW_ERROR_INIT;
	const char *drop = is_pg && admin->server_num >= 130000
				   ? "DROP DATABASE IF EXISTS " TEST_DB " WITH (FORCE)"
				   : "DROP DATABASE IF EXISTS " TEST_DB;
	const char *create = SQL("CREATE DATABASE " TEST_DB " CHARACTER SET utf8mb4",
				 "CREATE DATABASE " TEST_DB " ENCODING 'UTF8' TEMPLATE template0");

	if (gw_conn_exec(admin, drop, &e) != 0 || gw_conn_exec(admin, create, &e) != 0)
		fail_with("could not recreate the test database", TEST_DB, &e);
}

static int setup(void **state)
{
	struct fx *fx = gw_calloc(1, sizeof(*fx));

	*state = fx;
	recreate_database();
	fx->a = connect_ok(test_url);
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	gw_result_free(fx->res);
	for (size_t i = 0; i < GW_ARRAY_SIZE(fx->ti); i++)
		gw_table_info_free(fx->ti[i]);
	for (size_t i = 0; i < GW_ARRAY_SIZE(fx->text); i++)
		free(fx->text[i]);
	gw_conn_close(fx->b);
	gw_conn_close(fx->a);
	free(fx);
	return 0;
}

/* ---- connect ----------------------------------------------------------- */

static void test_connect(void **state)
{
	struct fx *fx = *state;
	struct gw_conn *c = fx->a;

	assert_string_equal(c->drv->name, is_pg ? "postgres" : "mysql");
	assert_true(c->server_version[0] != '\0');
	assert_true(c->server_num > 0);
	/* a plausible major version: MySQL 5+, MariaDB 10+, PostgreSQL 9.6+ */
	assert_true(c->server_num >= (is_pg ? 90600 : 50000));
	assert_non_null(c->database);
	assert_string_equal(c->database, TEST_DB);
	assert_non_null(c->schema);
	assert_string_equal(c->schema, is_pg ? "public" : TEST_DB);

	query_ok(fx, c, SQL("SELECT DATABASE()", "SELECT current_database()"), 0, NULL);
	assert_cell(fx->res, 0, 0, TEST_DB);
}

static void test_connect_wrong_password(void **state)
{
	struct fx *fx = *state;
	struct gw_error e = GW_ERROR_INIT;
	const char *env_pw = getenv("GW_TEST_PASSWORD");
	struct gw_conn *c = NULL;
	int rc;

	fx->text[0] = with_password(test_url, WRONG_PASSWORD);
	fx->text[1] = url_password(dsn);
	rc = gw_connect(fx->text[0], &c, &e);
	gw_conn_close(c);
	assert_null(c);
	assert_int_equal(rc, GW_ERR_CONNECT);
	assert_int_equal(e.code, GW_ERR_CONNECT);
	assert_true(e.msg[0] != '\0');
	assert_null(strstr(e.msg, WRONG_PASSWORD));
	assert_null(strstr(e.hint, WRONG_PASSWORD));
	if (env_pw && env_pw[0]) {
		assert_null(strstr(e.msg, env_pw));
		assert_null(strstr(e.hint, env_pw));
	}
	if (fx->text[1] && fx->text[1][0]) {
		assert_null(strstr(e.msg, fx->text[1]));
		assert_null(strstr(e.hint, fx->text[1]));
	}
}

static void test_connect_sqlalchemy_scheme(void **state)
{
	struct fx *fx = *state;

	fx->text[0] = with_scheme(test_url, SQL("mysql+aiomysql", "postgresql+asyncpg"));
	fx->b = connect_ok(fx->text[0]);
	assert_string_equal(fx->b->drv->name, is_pg ? "postgres" : "mysql");
	assert_non_null(fx->b->database);
	assert_string_equal(fx->b->database, TEST_DB);
	query_ok(fx, fx->b, "SELECT 41 + 1", 0, NULL);
	assert_cell(fx->res, 0, 0, "42");
}

/* ---- parameters -------------------------------------------------------- */

static const char *const tricky[] = {
	"plain",
	"it's",
	"say \"hi\"",
	"back\\slash \\' \\\" \\\\ end\\",
	"$1",
	"$2 and $1 and $$ and $0",
	"'; DROP TABLE vals; --",
	"/* not a comment */ -- nor this\n# nor this",
	"`backtick` and ``",
	"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 \xe2\x9c\x93",
	"tab\tnewline\ncr\r",
	"",
	NULL,
};

/* Insert every tricky value into vals and read each back, twice. */
static void round_trip(struct fx *fx, int base)
{
	struct gw_conn *c = fx->a;
	size_t n = GW_ARRAY_SIZE(tricky);

	for (size_t i = 0; i < n; i++) {
		char id[16];
		const char *p[2] = {id, tricky[i]};

		snprintf(id, sizeof(id), "%d", base + (int)i);
		query_ok(fx, c, "INSERT INTO vals (id, s) VALUES ($1, $2)", 2, p);
		assert_int_equal(fx->res->affected, 1);
		assert_int_equal(fx->res->nrows, 0);
	}
	for (size_t i = 0; i < n; i++) {
		char id[16];
		const char *p[1] = {id};
		const char *p2[2];

		snprintf(id, sizeof(id), "%d", base + (int)i);
		query_ok(fx, c, "SELECT s, id FROM vals WHERE id = $1", 1, p);
		assert_int_equal(fx->res->nrows, 1);
		assert_int_equal(fx->res->ncols, 2);
		assert_cell(fx->res, 0, 0, tricky[i]);
		assert_cell(fx->res, 0, 1, id);
		if (!tricky[i])
			continue;
		/* and as a parameter in a WHERE clause */
		p2[0] = tricky[i];
		p2[1] = id;
		query_ok(fx, c, "SELECT id FROM vals WHERE s = $1 AND id >= $2 ORDER BY id", 2,
			 p2);
		assert_true(fx->res->nrows >= 1);
		assert_cell(fx->res, 0, 0, id);
	}
}

static void test_params_round_trip(void **state)
{
	struct fx *fx = *state;

	exec_ok(fx->a, SQL("CREATE TABLE vals (id INT PRIMARY KEY, s TEXT)",
			   "CREATE TABLE vals (id integer PRIMARY KEY, s text)"));
	round_trip(fx, 1);
	/* the other quoting mode of each engine */
	exec_ok(fx->a, SQL("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')",
			   "SET standard_conforming_strings = off"));
	round_trip(fx, 101);
	query_ok(fx, fx->a, "SELECT COUNT(*) FROM vals", 0, NULL);
	assert_cell(fx->res, 0, 0, "26");
}

static void test_params_placement(void **state)
{
	struct fx *fx = *state;
	const char *p3[3] = {"one", NULL, "th'ree"};
	const char *p1[1] = {"x\\'y"};

	/* out of order and repeated, NULL in the middle */
	query_ok(fx, fx->a, "SELECT $3 AS c, $1 AS a, $2 AS b, $1 AS a2", 3, p3);
	assert_int_equal(fx->res->nrows, 1);
	assert_int_equal(fx->res->ncols, 4);
	assert_string_equal(fx->res->colnames[0], "c");
	assert_string_equal(fx->res->colnames[3], "a2");
	assert_cell(fx->res, 0, 0, "th'ree");
	assert_cell(fx->res, 0, 1, "one");
	assert_cell(fx->res, 0, 2, NULL);
	assert_cell(fx->res, 0, 3, "one");
	/* $N inside literals and comments is text, not a parameter */
	query_ok(fx, fx->a, "SELECT '$1' AS lit, $1 AS p /* $2 */ -- $3\n", 1, p1);
	assert_int_equal(fx->res->ncols, 2);
	assert_cell(fx->res, 0, 0, "$1");
	assert_cell(fx->res, 0, 1, "x\\'y");
	/* a SELECT is not a change */
	assert_int_equal(fx->res->affected, -1);
}

static void test_affected_rows(void **state)
{
	struct fx *fx = *state;
	const char *up[2] = {"changed", "3"};
	const char *del[1] = {"5"};
	const char *none[1] = {"999"};

	exec_ok(fx->a, SQL("CREATE TABLE cnt (id INT PRIMARY KEY, s VARCHAR(20))",
			   "CREATE TABLE cnt (id integer PRIMARY KEY, s varchar(20))"));
	query_ok(fx, fx->a,
		 "INSERT INTO cnt (id, s) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'),"
		 " (5, 'e'), (6, 'f'), (7, 'g')",
		 0, NULL);
	assert_int_equal(fx->res->affected, 7);
	query_ok(fx, fx->a, "UPDATE cnt SET s = $1 WHERE id <= $2", 2, up);
	assert_int_equal(fx->res->affected, 3);
	query_ok(fx, fx->a, "DELETE FROM cnt WHERE id > $1", 1, del);
	assert_int_equal(fx->res->affected, 2);
	query_ok(fx, fx->a, "UPDATE cnt SET s = 'x' WHERE id = $1", 1, none);
	assert_int_equal(fx->res->affected, 0);
	query_ok(fx, fx->a, "DELETE FROM cnt", 0, NULL);
	assert_int_equal(fx->res->affected, 5);
	query_ok(fx, fx->a, "SELECT id FROM cnt", 0, NULL);
	assert_int_equal(fx->res->nrows, 0);
	assert_int_equal(fx->res->ncols, 1);
	assert_int_equal(fx->res->affected, -1);
}

/* ---- error classes ----------------------------------------------------- */

static void test_error_duplicate(void **state)
{
	struct fx *fx = *state;
	struct gw_error e = GW_ERROR_INIT;
	const char *p[1] = {"1"};

	exec_ok(fx->a, "CREATE TABLE u (id INT PRIMARY KEY)");
	query_ok(fx, fx->a, "INSERT INTO u (id) VALUES ($1)", 1, p);
	query_err(fx->a, "INSERT INTO u (id) VALUES ($1)", 1, p, &e);
	assert_int_equal(e.code, GW_ERR_DB_DUPLICATE);
	assert_string_equal(e.sqlstate, SQL("23000", "23505"));
	if (!is_pg)
		assert_int_equal(e.db_errno, 1062);
	/* the connection is still usable */
	query_ok(fx, fx->a, "SELECT COUNT(*) FROM u", 0, NULL);
	assert_cell(fx->res, 0, 0, "1");
}

static void test_error_undefined(void **state)
{
	struct fx *fx = *state;
	struct gw_error e = GW_ERROR_INIT;

	query_err(fx->a, "SELECT * FROM no_such_table", 0, NULL, &e);
	assert_int_equal(e.code, GW_ERR_DB_UNDEFINED);
	assert_string_equal(e.sqlstate, SQL("42S02", "42P01"));
	if (!is_pg)
		assert_int_equal(e.db_errno, 1146);
	assert_non_null(strstr(e.msg, "no_such_table"));

	exec_ok(fx->a, "CREATE TABLE has_cols (id INT)");
	query_err(fx->a, "SELECT nope FROM has_cols", 0, NULL, &e);
	assert_int_equal(e.code, GW_ERR_DB_UNDEFINED);
}

static void test_error_exists(void **state)
{
	struct fx *fx = *state;
	struct gw_error e = GW_ERROR_INIT;

	exec_ok(fx->a, "CREATE TABLE twice (id INT)");
	query_err(fx->a, "CREATE TABLE twice (id INT)", 0, NULL, &e);
	assert_int_equal(e.code, GW_ERR_DB_EXISTS);
	assert_string_equal(e.sqlstate, SQL("42S01", "42P07"));
	if (!is_pg)
		assert_int_equal(e.db_errno, 1050);
}

static void test_error_syntax(void **state)
{
	struct fx *fx = *state;
	struct gw_error e = GW_ERROR_INIT;

	query_err(fx->a, "SELEKT 1 FROM", 0, NULL, &e);
	assert_int_equal(e.code, GW_ERR_DB);
	assert_string_equal(e.sqlstate, SQL("42000", "42601"));
	if (!is_pg)
		assert_int_equal(e.db_errno, 1064);
	query_ok(fx, fx->a, "SELECT 1", 0, NULL);
	assert_cell(fx->res, 0, 0, "1");
}

static void test_error_lock_timeout(void **state)
{
	struct fx *fx = *state;
	struct gw_error e = GW_ERROR_INIT;

	exec_ok(fx->a, "CREATE TABLE lk (id INT PRIMARY KEY, v INT NOT NULL)");
	exec_ok(fx->a, "INSERT INTO lk (id, v) VALUES (1, 0), (2, 0)");
	fx->b = connect_ok(test_url);
	exec_ok(fx->b, SQL("SET SESSION innodb_lock_wait_timeout = 1", "SET lock_timeout = '500ms'"));

	exec_ok(fx->a, "BEGIN");
	query_ok(fx, fx->a, "UPDATE lk SET v = v + 1 WHERE id = 1", 0, NULL);
	assert_int_equal(fx->res->affected, 1);
	query_err(fx->b, "UPDATE lk SET v = 5 WHERE id = 1", 0, NULL, &e);
	assert_int_equal(e.code, GW_ERR_DB_LOCK_TIMEOUT);
	assert_string_equal(e.sqlstate, SQL("HY000", "55P03"));
	if (!is_pg)
		assert_int_equal(e.db_errno, 1205);
	/* another row is not locked */
	query_ok(fx, fx->b, "UPDATE lk SET v = 7 WHERE id = 2", 0, NULL);
	assert_int_equal(fx->res->affected, 1);
	exec_ok(fx->a, "ROLLBACK");
	/* once A is gone B gets the row */
	query_ok(fx, fx->b, "UPDATE lk SET v = 5 WHERE id = 1", 0, NULL);
	assert_int_equal(fx->res->affected, 1);
	query_ok(fx, fx->a, "SELECT v FROM lk ORDER BY id", 0, NULL);
	assert_int_equal(fx->res->nrows, 2);
	assert_cell(fx->res, 0, 0, "5");
	assert_cell(fx->res, 1, 0, "7");
}

/* ---- advisory locks ---------------------------------------------------- */

static void test_advisory_lock(void **state)
{
	struct fx *fx = *state;
	struct gw_error e = GW_ERROR_INIT;
	bool got = false;

	fx->b = connect_ok(test_url);
	assert_int_equal(gw_conn_try_lock(fx->a, LOCK_NAME, &got, &e), 0);
	assert_true(got);
	got = true;
	assert_int_equal(gw_conn_try_lock(fx->b, LOCK_NAME, &got, &e), 0);
	assert_false(got);
	/* another name is free */
	got = false;
	assert_int_equal(gw_conn_try_lock(fx->b, LOCK_NAME ".other", &got, &e), 0);
	assert_true(got);
	assert_int_equal(gw_conn_unlock(fx->b, LOCK_NAME ".other", &e), 0);

	assert_int_equal(gw_conn_unlock(fx->a, LOCK_NAME, &e), 0);
	got = false;
	assert_int_equal(gw_conn_try_lock(fx->b, LOCK_NAME, &got, &e), 0);
	assert_true(got);
	/* A does not hold it any more */
	got = true;
	assert_int_equal(gw_conn_try_lock(fx->a, LOCK_NAME, &got, &e), 0);
	assert_false(got);
	assert_int_not_equal(gw_conn_unlock(fx->a, LOCK_NAME, &e), 0);
	assert_true(e.msg[0] != '\0');
	gw_error_clear(&e);
	assert_int_equal(gw_conn_unlock(fx->b, LOCK_NAME, &e), 0);
	assert_int_equal(e.code, 0);
}

/* ---- describe ---------------------------------------------------------- */

static const char *const my_schema[] = {
	"CREATE TABLE p (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, label VARCHAR(40))"
	" ENGINE=InnoDB",
	"CREATE TABLE t ("
	" b VARCHAR(20) NOT NULL,"
	" a INT NOT NULL,"
	" p_id BIGINT NOT NULL DEFAULT 7,"
	" email VARCHAR(100) NULL,"
	" status VARCHAR(10) NOT NULL DEFAULT 'new',"
	" PRIMARY KEY (a, b),"
	" UNIQUE KEY t_email_uq (email),"
	" KEY t_status_pid_ix (status, p_id),"
	" KEY `Z_pid_ix` (p_id),"
	" CONSTRAINT t_p_fk FOREIGN KEY (p_id) REFERENCES p (id)"
	") ENGINE=InnoDB",
	"CREATE TABLE c (id INT NOT NULL PRIMARY KEY, tb VARCHAR(20) NOT NULL, ta INT NOT NULL,"
	" CONSTRAINT c_t_fk FOREIGN KEY (ta, tb) REFERENCES t (a, b)) ENGINE=InnoDB",
	"CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.email = LOWER(NEW.email)",
	"CREATE TRIGGER `Upd_au` AFTER UPDATE ON t FOR EACH ROW SET @gw_itest = 1",
};

static const char *const pg_schema[] = {
	"CREATE TABLE p (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" label varchar(40))",
	"CREATE TABLE t ("
	" b varchar(20) NOT NULL,"
	" a integer NOT NULL,"
	" p_id bigint NOT NULL DEFAULT 7,"
	" email varchar(100) NULL,"
	" status varchar(10) NOT NULL DEFAULT 'new',"
	" PRIMARY KEY (a, b),"
	" CONSTRAINT t_email_uq UNIQUE (email),"
	" CONSTRAINT t_p_fk FOREIGN KEY (p_id) REFERENCES p (id))",
	"CREATE INDEX t_status_pid_ix ON t (status, p_id)",
	"CREATE INDEX \"Z_pid_ix\" ON t (p_id)",
	"CREATE TABLE c (id integer PRIMARY KEY, tb varchar(20) NOT NULL, ta integer NOT NULL,"
	" CONSTRAINT c_t_fk FOREIGN KEY (ta, tb) REFERENCES t (a, b))",
	"CREATE FUNCTION t_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
	"CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION t_trg()",
	"CREATE TRIGGER \"Upd_au\" AFTER UPDATE OR INSERT ON t FOR EACH ROW"
	" EXECUTE FUNCTION t_trg()",
};

static const struct gw_column_info *column(const struct gw_table_info *t, size_t i,
					   const char *name)
{
	const struct gw_column_info *col = gw_table_info_column(t, name);

	assert_non_null(col);
	assert_true(i < t->ncolumns);
	assert_ptr_equal(col, &t->columns[i]);
	assert_string_equal(col->name, name);
	assert_non_null(col->type);
	return col;
}

static const struct gw_index_info *primary_index(const struct gw_table_info *t)
{
	const struct gw_index_info *pk = NULL;

	for (size_t i = 0; i < t->nindexes; i++) {
		if (!t->indexes[i].primary)
			continue;
		assert_null(pk);
		pk = &t->indexes[i];
	}
	assert_non_null(pk);
	assert_true(pk->unique);
	assert_string_equal(pk->name, is_pg ? "t_pkey" : "PRIMARY");
	return pk;
}

static void assert_fk(const struct gw_fk_info *fk, const char *name, const char *table,
		      const char *const *cols, const char *ref_table, const char *const *refs,
		      size_t n)
{
	assert_string_equal(fk->name, name);
	assert_string_equal(fk->table, table);
	assert_string_equal(fk->ref_table, ref_table);
	assert_strv(fk->columns, fk->ncolumns, cols, n);
	assert_strv(fk->ref_columns, fk->ncolumns, refs, n);
}

static void create_schema(struct fx *fx)
{
	const char *const *v = is_pg ? pg_schema : my_schema;
	size_t n = is_pg ? GW_ARRAY_SIZE(pg_schema) : GW_ARRAY_SIZE(my_schema);

	for (size_t i = 0; i < n; i++)
		exec_ok(fx->a, v[i]);
}

static void test_describe_table(void **state)
{
	struct fx *fx = *state;
	static const char *const ab[] = {"a", "b"};
	static const char *const email[] = {"email"};
	static const char *const status_pid[] = {"status", "p_id"};
	static const char *const p_id[] = {"p_id"};
	static const char *const id[] = {"id"};
	static const char *const ta_tb[] = {"ta", "tb"};
	const struct gw_column_info *col;
	const struct gw_index_info *ix;
	struct gw_table_info *t;

	create_schema(fx);
	t = describe_ok(fx, 0, "t");
	assert_string_equal(t->name, "t");

	/* columns in ordinal order */
	assert_int_equal(t->ncolumns, 5);
	col = column(t, 0, "b");
	assert_has_ci(col->type, "char");
	assert_has_ci(col->type, "20");
	assert_false(col->nullable);
	assert_null(col->default_expr);
	assert_false(col->autoincrement);
	assert_false(col->generated);
	col = column(t, 1, "a");
	assert_has_ci(col->type, "int");
	assert_false(col->nullable);
	assert_null(col->default_expr);
	assert_false(col->autoincrement);
	col = column(t, 2, "p_id");
	assert_has_ci(col->type, "bigint");
	assert_false(col->nullable);
	assert_non_null(col->default_expr);
	assert_has_ci(col->default_expr, "7");
	assert_false(col->autoincrement);
	col = column(t, 3, "email");
	assert_has_ci(col->type, "char");
	assert_has_ci(col->type, "100");
	assert_true(col->nullable);
	assert_null(col->default_expr);
	col = column(t, 4, "status");
	assert_false(col->nullable);
	assert_has_ci(col->default_expr, "'new'");
	assert_null(gw_table_info_column(t, "nope"));

	/* primary key in key order, not column order */
	assert_strv(t->pk, t->npk, ab, 2);
	ix = primary_index(t);
	assert_strv(ix->columns, ix->ncolumns, ab, 2);

	ix = gw_table_info_index(t, "t_email_uq");
	assert_non_null(ix);
	assert_true(ix->unique);
	assert_false(ix->primary);
	assert_strv(ix->columns, ix->ncolumns, email, 1);

	ix = gw_table_info_index(t, "t_status_pid_ix");
	assert_non_null(ix);
	assert_false(ix->unique);
	assert_false(ix->primary);
	assert_strv(ix->columns, ix->ncolumns, status_pid, 2);
	assert_null(gw_table_info_index(t, "nope"));
	ix = gw_table_info_index(t, "Z_pid_ix");
	assert_non_null(ix);
	assert_false(ix->unique);
	assert_strv(ix->columns, ix->ncolumns, p_id, 1);
	/* sorted by name in byte order, as strcmp: upper case first */
	for (size_t i = 1; i < t->nindexes; i++)
		assert_true(strcmp(t->indexes[i - 1].name, t->indexes[i].name) < 0);

	assert_int_equal(t->nfk_out, 1);
	assert_fk(&t->fk_out[0], "t_p_fk", "t", p_id, "p", id, 1);
	assert_int_equal(t->nfk_in, 1);
	assert_fk(&t->fk_in[0], "c_t_fk", "c", ta_tb, "t", ab, 2);

	/* triggers by name in byte order */
	assert_int_equal(t->ntriggers, 2);
	assert_string_equal(t->triggers[0].name, "Upd_au");
	assert_string_equal(t->triggers[0].timing, "AFTER");
	assert_string_equal(t->triggers[0].event, is_pg ? "INSERT OR UPDATE" : "UPDATE");
	assert_string_equal(t->triggers[1].name, "t_bi");
	assert_string_equal(t->triggers[1].timing, "BEFORE");
	assert_string_equal(t->triggers[1].event, "INSERT");
	assert_true(t->row_estimate >= -1);
}

static void test_describe_referenced(void **state)
{
	struct fx *fx = *state;
	static const char *const id[] = {"id"};
	static const char *const p_id[] = {"p_id"};
	static const char *const ta_tb[] = {"ta", "tb"};
	static const char *const ab[] = {"a", "b"};
	const struct gw_column_info *col;
	struct gw_table_info *p, *c;

	create_schema(fx);
	p = describe_ok(fx, 0, "p");
	assert_int_equal(p->ncolumns, 2);
	col = column(p, 0, "id");
	assert_has_ci(col->type, "bigint");
	assert_false(col->nullable);
	assert_true(col->autoincrement);
	assert_false(col->generated);
	col = column(p, 1, "label");
	assert_true(col->nullable);
	assert_false(col->autoincrement);
	assert_strv(p->pk, p->npk, id, 1);
	assert_int_equal(p->nindexes, 1);
	assert_true(p->indexes[0].primary);
	assert_int_equal(p->nfk_out, 0);
	assert_int_equal(p->nfk_in, 1);
	assert_fk(&p->fk_in[0], "t_p_fk", "t", p_id, "p", id, 1);
	assert_int_equal(p->ntriggers, 0);

	c = describe_ok(fx, 1, "c");
	assert_int_equal(c->nfk_out, 1);
	assert_fk(&c->fk_out[0], "c_t_fk", "c", ta_tb, "t", ab, 2);
	assert_int_equal(c->nfk_in, 0);
}

static void test_describe_missing(void **state)
{
	struct fx *fx = *state;
	struct gw_error e = GW_ERROR_INIT;
	int rc;

	/* a table of another database/schema is not this connection's */
	exec_ok(admin, SQL("CREATE TABLE IF NOT EXISTS gw_itest_driver_elsewhere (id INT)",
			   "CREATE TABLE IF NOT EXISTS gw_itest_driver_elsewhere (id int)"));
	rc = gw_conn_describe(fx->a, "gw_itest_driver_elsewhere", &fx->ti[0], &e);
	exec_ok(admin, "DROP TABLE gw_itest_driver_elsewhere");
	assert_int_equal(rc, GW_ERR_DB_UNDEFINED);
	assert_null(fx->ti[0]);

	gw_error_clear(&e);
	rc = gw_conn_describe(fx->a, "no_such_table", &fx->ti[0], &e);
	assert_int_equal(rc, GW_ERR_DB_UNDEFINED);
	assert_int_equal(e.code, GW_ERR_DB_UNDEFINED);
	assert_null(fx->ti[0]);
	assert_non_null(strstr(e.msg, "no_such_table"));
}

static void test_describe_quoted_names(void **state)
{
	struct fx *fx = *state;
	static const char *const sel[] = {"select"};
	const struct gw_column_info *col;
	struct gw_table_info *t;
	const char *p[2] = {"1", "v'\"x"};

	exec_ok(fx->a, SQL("CREATE TABLE `odd \"name` (`select` INT NOT NULL PRIMARY KEY,"
			   " `it's` VARCHAR(10) NULL, `x``y` INT NOT NULL DEFAULT 3)",
			   "CREATE TABLE \"odd \"\"name\" (\"select\" integer PRIMARY KEY,"
			   " \"it's\" varchar(10) NULL, \"x`y\" integer NOT NULL DEFAULT 3)"));
	query_ok(fx, fx->a,
		 SQL("INSERT INTO `odd \"name` (`select`, `it's`) VALUES ($1, $2)",
		     "INSERT INTO \"odd \"\"name\" (\"select\", \"it's\") VALUES ($1, $2)"),
		 2, p);
	assert_int_equal(fx->res->affected, 1);
	query_ok(fx, fx->a,
		 SQL("SELECT `it's`, `x``y` FROM `odd \"name` WHERE `select` = $1",
		     "SELECT \"it's\", \"x`y\" FROM \"odd \"\"name\" WHERE \"select\" = $1"),
		 1, p);
	assert_cell(fx->res, 0, 0, "v'\"x");
	assert_cell(fx->res, 0, 1, "3");

	t = describe_ok(fx, 0, "odd \"name");
	assert_string_equal(t->name, "odd \"name");
	assert_int_equal(t->ncolumns, 3);
	col = column(t, 0, "select");
	assert_has_ci(col->type, "int");
	assert_false(col->nullable);
	col = column(t, 1, "it's");
	assert_true(col->nullable);
	col = column(t, 2, "x`y");
	assert_false(col->nullable);
	assert_has_ci(col->default_expr, "3");
	assert_strv(t->pk, t->npk, sel, 1);
	assert_int_equal(t->nindexes, 1);
	assert_strv(t->indexes[0].columns, t->indexes[0].ncolumns, sel, 1);
}

/* ---- list_tables ------------------------------------------------------- */

static void test_list_tables(void **state)
{
	struct fx *fx = *state;
	struct gw_error e = GW_ERROR_INIT;
	static const char *const want[] = {"Mid", "alpha", "beta", "beta_2", "odd \"name", "zeta"};
	int rc;

	/* empty database: no rows, one column */
	if (gw_conn_list_tables(fx->a, &fx->res, &e) != 0)
		fail_with("list_tables failed", "(list)", &e);
	assert_int_equal(fx->res->nrows, 0);
	assert_int_equal(fx->res->ncols, 1);
	gw_result_free(fx->res);
	fx->res = NULL;

	exec_ok(fx->a, "CREATE TABLE zeta (id INT)");
	exec_ok(fx->a, "CREATE TABLE beta_2 (id INT)");
	exec_ok(fx->a, "CREATE TABLE alpha (id INT)");
	exec_ok(fx->a, SQL("CREATE TABLE `Mid` (id INT)", "CREATE TABLE \"Mid\" (id INT)"));
	exec_ok(fx->a, "CREATE TABLE beta (id INT)");
	exec_ok(fx->a, SQL("CREATE TABLE `odd \"name` (id INT)",
			   "CREATE TABLE \"odd \"\"name\" (id INT)"));
	exec_ok(fx->a, "CREATE VIEW v_alpha AS SELECT id FROM alpha");
	if (is_pg)
		exec_ok(fx->a, "CREATE SEQUENCE s_alpha");
	/* tables of another database/schema are not listed */
	exec_ok(admin, "CREATE TABLE IF NOT EXISTS gw_itest_driver_elsewhere (id INT)");

	gw_error_clear(&e);
	rc = gw_conn_list_tables(fx->a, &fx->res, &e);
	exec_ok(admin, "DROP TABLE gw_itest_driver_elsewhere");
	if (rc != 0)
		fail_with("list_tables failed", "(list)", &e);
	assert_int_equal(fx->res->ncols, 1);
	assert_string_equal(fx->res->colnames[0], "name");
	assert_int_equal(fx->res->nrows, (int)GW_ARRAY_SIZE(want));
	for (int i = 0; i < fx->res->nrows; i++)
		assert_cell(fx->res, i, 0, want[i]);
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
			fprintf(stderr, "itest_driver: waiting for another run to finish\n");
		nanosleep(&second, NULL);
	}
	return gw_error_set(e, GW_ERR_LOCKED, "another run held '%s' for %d s", RUN_LOCK,
			    RUN_LOCK_WAIT_S);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_connect),
		T(test_connect_wrong_password),
		T(test_connect_sqlalchemy_scheme),
		T(test_params_round_trip),
		T(test_params_placement),
		T(test_affected_rows),
		T(test_error_duplicate),
		T(test_error_undefined),
		T(test_error_exists),
		T(test_error_syntax),
		T(test_error_lock_timeout),
		T(test_advisory_lock),
		T(test_describe_table),
		T(test_describe_referenced),
		T(test_describe_missing),
		T(test_describe_quoted_names),
		T(test_list_tables),
#undef T
	};
	struct gw_error e = GW_ERROR_INIT;
	const char *var;
	int failed;

	if (argc != 2 || (strcmp(argv[1], "mysql") != 0 && strcmp(argv[1], "postgres") != 0)) {
		fprintf(stderr, "usage: %s mysql|postgres\n", argv[0]);
		return 2;
	}
	is_pg = strcmp(argv[1], "postgres") == 0;
	var = is_pg ? "GW_TEST_PG_DSN" : "GW_TEST_MYSQL_DSN";
	dsn = getenv(var);
	if (!dsn || !dsn[0]) {
		printf("skipped: %s not set\n", var);
		return 77;
	}
	if (gw_connect(dsn, &admin, &e) != 0) {
		fprintf(stderr, "itest_driver: %s is set but connecting failed: %s\n", var, e.msg);
		return 1;
	}
	if (strcmp(admin->drv->name, argv[1]) != 0) {
		fprintf(stderr, "itest_driver: %s names a %s server\n", var, admin->drv->name);
		gw_conn_close(admin);
		return 1;
	}
	if (take_run_lock(&e) != 0) {
		fprintf(stderr, "itest_driver: %s\n", e.msg);
		gw_conn_close(admin);
		return 1;
	}
	test_url = with_database(dsn, TEST_DB);

	failed = cmocka_run_group_tests_name(argv[1], tests, NULL, NULL);

	if (gw_conn_exec(admin, is_pg && admin->server_num >= 130000
					? "DROP DATABASE IF EXISTS " TEST_DB " WITH (FORCE)"
					: "DROP DATABASE IF EXISTS " TEST_DB,
			 &e) != 0) {
		fprintf(stderr, "itest_driver: could not drop %s: %s\n", TEST_DB, e.msg);
		failed = failed ? failed : 1;
	}
	gw_conn_close(admin);
	free(test_url);
	return failed;
}
