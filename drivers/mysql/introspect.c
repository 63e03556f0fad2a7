/*
 * MariaDB/MySQL introspection from information_schema: a table's columns,
 * indexes, foreign keys and triggers, and the base tables of the database.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "mysql_int.h"

static const char table_sql[] =
	"SELECT TABLE_ROWS FROM information_schema.TABLES"
	" WHERE TABLE_SCHEMA = $1 AND TABLE_NAME = $2";

static const char columns_sql[] =
	"SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,"
	" GENERATION_EXPRESSION FROM information_schema.COLUMNS"
	" WHERE TABLE_SCHEMA = $1 AND TABLE_NAME = $2 ORDER BY ORDINAL_POSITION";

/* Before MariaDB 10.2 and MySQL 5.7.6 there is no GENERATION_EXPRESSION. */
static const char columns_old_sql[] =
	"SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,"
	" NULL FROM information_schema.COLUMNS"
	" WHERE TABLE_SCHEMA = $1 AND TABLE_NAME = $2 ORDER BY ORDINAL_POSITION";

/*
 * Names in byte order like tables_sql and the postgres driver (the
 * information_schema collation is case-insensitive).
 */
static const char indexes_sql[] =
	"SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS"
	" WHERE TABLE_SCHEMA = $1 AND TABLE_NAME = $2"
	" ORDER BY CAST(INDEX_NAME AS BINARY), SEQ_IN_INDEX";

/* MySQL 8.0.13+ functional key parts have no COLUMN_NAME but an EXPRESSION. */
static const char indexes_expr_sql[] =
	"SELECT INDEX_NAME, NON_UNIQUE, COALESCE(COLUMN_NAME, EXPRESSION)"
	" FROM information_schema.STATISTICS"
	" WHERE TABLE_SCHEMA = $1 AND TABLE_NAME = $2"
	" ORDER BY CAST(INDEX_NAME AS BINARY), SEQ_IN_INDEX";

static const char fk_out_sql[] =
	"SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,"
	" k.REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE k"
	" JOIN information_schema.REFERENTIAL_CONSTRAINTS r"
	" ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME"
	" AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME"
	" WHERE k.TABLE_SCHEMA = $1 AND k.TABLE_NAME = $2"
	" ORDER BY CAST(k.CONSTRAINT_NAME AS BINARY), k.ORDINAL_POSITION";

static const char fk_in_sql[] =
	"SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,"
	" k.REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE k"
	" JOIN information_schema.REFERENTIAL_CONSTRAINTS r"
	" ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME"
	" AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME"
	" WHERE k.TABLE_SCHEMA = $1 AND k.REFERENCED_TABLE_SCHEMA = $1"
	" AND k.REFERENCED_TABLE_NAME = $2"
	" ORDER BY CAST(k.TABLE_NAME AS BINARY), CAST(k.CONSTRAINT_NAME AS BINARY),"
	" k.ORDINAL_POSITION";

static const char triggers_sql[] =
	"SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION FROM information_schema.TRIGGERS"
	" WHERE EVENT_OBJECT_SCHEMA = $1 AND EVENT_OBJECT_TABLE = $2"
	" ORDER BY CAST(TRIGGER_NAME AS BINARY)";

/* Byte order, so callers may compare names with strcmp. */
static const char tables_sql[] =
	"SELECT TABLE_NAME AS name FROM information_schema.TABLES"
	" WHERE TABLE_SCHEMA = $1 AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')"
	" ORDER BY CAST(TABLE_NAME AS BINARY)";

static bool is_mariadb(const struct gw_conn *c)
{
	return strstr(c->server_version, "MariaDB") != NULL;
}

/* Cell text with SQL NULL read as "". */
static const char *cell(const struct gw_result *r, int row, int col)
{
	const char *v = gw_result_get(r, row, col);

	return v ? v : "";
}

/* Whether hay contains needle, ignoring ASCII case. */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/*
 * Default as SQL text, NULL if none. MariaDB 10.2.7+ reports SQL already
 * ('abc', 1, current_timestamp(), and the text NULL for DEFAULT NULL);
 * MySQL and older MariaDB report the bare value, which is quoted here
 * unless it is an expression.
 */
static char *column_default(const struct gw_conn *c, const char *def, const char *extra)
{
	struct gw_buf b = GW_BUF_INIT;

	if (!def)
		return NULL;
	if (is_mariadb(c) && c->server_num >= 100207)
		return strcmp(def, "NULL") == 0 ? NULL : gw_strdup(def);
	if (strncasecmp(def, "CURRENT_TIMESTAMP", 17) == 0 || strncmp(def, "b'", 2) == 0)
		return gw_strdup(def);
	if (contains_ci(extra, "DEFAULT_GENERATED"))
		return gw_asprintf("(%s)", def);
	gw_dialect_mysql.literal(&b, def);
	return gw_buf_detach(&b);
}

/* Virtual/stored (persistent) columns and system-versioning row start/end. */
static bool column_generated(const char *extra, const char *expr)
{
	return (expr && *expr) || contains_ci(extra, "VIRTUAL") || contains_ci(extra, "STORED") ||
	       contains_ci(extra, "PERSISTENT") || contains_ci(extra, "ROW START") ||
	       contains_ci(extra, "ROW END");
}

static int load_columns(struct mysql_conn *mc, const char *const *params,
			struct gw_table_info *t, const char *what, struct gw_error *err)
{
	const struct gw_conn *c = &mc->base;
	bool has_expr = is_mariadb(c) ? c->server_num >= 100200 : c->server_num >= 50706;
	struct gw_result *r = NULL;
	int rc;

	rc = gw_mysql_run(mc, has_expr ? columns_sql : columns_old_sql, 2, params, &r, what,
			  err);
	if (rc < 0)
		goto out;
	t->columns = gw_calloc((size_t)r->nrows, sizeof(*t->columns));
	for (int i = 0; i < r->nrows; i++) {
		struct gw_column_info *col = &t->columns[t->ncolumns++];
		const char *extra = cell(r, i, 4);

		col->name = gw_strdup(cell(r, i, 0));
		col->type = gw_strdup(cell(r, i, 1));
		col->nullable = strcmp(cell(r, i, 2), "YES") == 0;
		col->default_expr = column_default(c, gw_result_get(r, i, 3), extra);
		col->autoincrement = contains_ci(extra, "auto_increment");
		col->generated = column_generated(extra, gw_result_get(r, i, 5));
	}
out:
	gw_result_free(r);
	return rc;
}

/* First row after the group of rows from i on whose columns 0..ncols-1 are equal. */
static int group_end(const struct gw_result *r, int i, int ncols)
{
	int j;

	for (j = i + 1; j < r->nrows; j++)
		for (int k = 0; k < ncols; k++)
			if (strcmp(cell(r, j, k), cell(r, i, k)) != 0)
				return j;
	return j;
}

static int load_indexes(struct mysql_conn *mc, const char *const *params,
			struct gw_table_info *t, const char *what, struct gw_error *err)
{
	const struct gw_conn *c = &mc->base;
	bool has_expr = !is_mariadb(c) && c->server_num >= 80013;
	struct gw_result *r = NULL;
	int rc;

	rc = gw_mysql_run(mc, has_expr ? indexes_expr_sql : indexes_sql, 2, params, &r, what,
			  err);
	if (rc < 0)
		goto out;
	t->indexes = gw_calloc((size_t)r->nrows, sizeof(*t->indexes));
	for (int i = 0, j; i < r->nrows; i = j) {
		struct gw_index_info *ix = &t->indexes[t->nindexes++];

		j = group_end(r, i, 1);
		ix->name = gw_strdup(cell(r, i, 0));
		ix->unique = strcmp(cell(r, i, 1), "0") == 0;
		ix->primary = strcmp(ix->name, "PRIMARY") == 0;
		ix->columns = gw_calloc((size_t)(j - i), sizeof(char *));
		for (int k = i; k < j; k++)
			ix->columns[ix->ncolumns++] = gw_strdup(cell(r, k, 2));
		if (ix->primary && !t->pk) {
			t->pk = gw_calloc(ix->ncolumns, sizeof(char *));
			for (size_t k = 0; k < ix->ncolumns; k++)
				t->pk[t->npk++] = gw_strdup(ix->columns[k]);
		}
	}
out:
	gw_result_free(r);
	return rc;
}

/* Foreign keys from sql's rows: name, table, column, ref table, ref column. */
static int load_fks(struct mysql_conn *mc, const char *sql, const char *const *params,
		    struct gw_fk_info **fks, size_t *nfks, const char *what,
		    struct gw_error *err)
{
	struct gw_result *r = NULL;
	int rc;

	rc = gw_mysql_run(mc, sql, 2, params, &r, what, err);
	if (rc < 0)
		goto out;
	*fks = gw_calloc((size_t)r->nrows, sizeof(**fks));
	for (int i = 0, j; i < r->nrows; i = j) {
		struct gw_fk_info *fk = &(*fks)[(*nfks)++];

		j = group_end(r, i, 2);
		fk->name = gw_strdup(cell(r, i, 0));
		fk->table = gw_strdup(cell(r, i, 1));
		fk->ref_table = gw_strdup(cell(r, i, 3));
		fk->columns = gw_calloc((size_t)(j - i), sizeof(char *));
		fk->ref_columns = gw_calloc((size_t)(j - i), sizeof(char *));
		for (int k = i; k < j; k++) {
			fk->columns[fk->ncolumns] = gw_strdup(cell(r, k, 2));
			fk->ref_columns[fk->ncolumns++] = gw_strdup(cell(r, k, 4));
		}
	}
out:
	gw_result_free(r);
	return rc;
}

static int load_triggers(struct mysql_conn *mc, const char *const *params,
			 struct gw_table_info *t, const char *what, struct gw_error *err)
{
	struct gw_result *r = NULL;
	int rc;

	rc = gw_mysql_run(mc, triggers_sql, 2, params, &r, what, err);
	if (rc < 0)
		goto out;
	t->triggers = gw_calloc((size_t)r->nrows, sizeof(*t->triggers));
	for (int i = 0; i < r->nrows; i++) {
		struct gw_trigger_info *tg = &t->triggers[t->ntriggers++];

		tg->name = gw_strdup(cell(r, i, 0));
		tg->timing = gw_strdup(cell(r, i, 1));
		tg->event = gw_strdup(cell(r, i, 2));
	}
out:
	gw_result_free(r);
	return rc;
}

/* GW_ERR_INPUT with a hint when the connection has no current database. */
static int no_database(struct gw_error *err, const char *what)
{
	bool fresh = err && err->code == 0;
	int rc = gw_error_set(err, GW_ERR_INPUT, "%s: no database selected", what);

	if (fresh)
		gw_error_hint(err, "name the database in the URL: mysql://host/dbname");
	return rc;
}

int gw_mysql_describe(struct gw_conn *c, const char *table, struct gw_table_info **out,
		      struct gw_error *err)
{
	struct mysql_conn *mc = gw_mysql_downcast(c);
	const char *params[2] = {c->database, table};
	struct gw_table_info *t = NULL;
	struct gw_result *r = NULL;
	const char *rows;
	char *what = NULL;
	int rc;

	if (!c->database) {
		what = gw_asprintf("could not describe table '%s'", table);
		rc = no_database(err, what);
		goto out;
	}
	what = gw_asprintf("could not describe table '%s.%s'", c->database, table);
	rc = gw_mysql_run(mc, table_sql, 2, params, &r, what, err);
	if (rc < 0)
		goto out;
	if (r->nrows == 0) {
		rc = gw_error_set(err, GW_ERR_DB_UNDEFINED, "table '%s.%s' does not exist",
				  c->database, table);
		goto out;
	}
	t = gw_calloc(1, sizeof(*t));
	t->name = gw_strdup(table);
	rows = gw_result_get(r, 0, 0);
	t->row_estimate = rows ? strtoll(rows, NULL, 10) : -1;

	rc = load_columns(mc, params, t, what, err);
	if (rc == 0)
		rc = load_indexes(mc, params, t, what, err);
	if (rc == 0)
		rc = load_fks(mc, fk_out_sql, params, &t->fk_out, &t->nfk_out, what, err);
	if (rc == 0)
		rc = load_fks(mc, fk_in_sql, params, &t->fk_in, &t->nfk_in, what, err);
	if (rc == 0)
		rc = load_triggers(mc, params, t, what, err);
	if (rc < 0)
		goto out;
	*out = t;
	t = NULL;
out:
	gw_table_info_free(t);
	gw_result_free(r);
	free(what);
	return rc;
}

int gw_mysql_list_tables(struct gw_conn *c, struct gw_result **out, struct gw_error *err)
{
	struct mysql_conn *mc = gw_mysql_downcast(c);

	if (!c->database)
		return no_database(err, "could not list tables");
	return gw_mysql_run(mc, tables_sql, 1, (const char *const *)&c->database, out,
			    "could not list tables", err);
}
