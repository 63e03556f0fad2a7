/*
 * Postgres introspection: a table's columns, indexes, foreign keys and
 * triggers from the system catalogs, and the tables of the current schema.
 */
#include <stdlib.h>
#include <string.h>

#include "godwit/buf.h"
#include "godwit/driver.h"
#include "postgres_int.h"

/* Tables (ordinary and partitioned) are found in the schema of the connection. */
static const char table_sql[] =
	"SELECT c.oid, CASE WHEN c.reltuples < 0 THEN -1 ELSE c.reltuples::bigint END"
	" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	" WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')";

static const char list_sql[] =
	"SELECT c.relname AS name"
	" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	" WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')"
	" ORDER BY c.relname";

static const char triggers_sql[] =
	"SELECT t.tgname, t.tgtype::int FROM pg_trigger t"
	" WHERE t.tgrelid = $1::oid AND NOT t.tgisinternal"
	" ORDER BY t.tgname";

/* pg_trigger.tgtype bits (catalog/pg_trigger.h) */
#define TRIGGER_TYPE_BEFORE (1 << 1)
#define TRIGGER_TYPE_INSERT (1 << 2)
#define TRIGGER_TYPE_DELETE (1 << 3)
#define TRIGGER_TYPE_UPDATE (1 << 4)
#define TRIGGER_TYPE_TRUNCATE (1 << 5)
#define TRIGGER_TYPE_INSTEAD (1 << 6)

static bool is_true(const char *v)
{
	return v && strcmp(v, "t") == 0;
}

/* Number of runs of equal values in column col of r (rows come grouped). */
static size_t count_groups(const struct gw_result *r, int col)
{
	size_t n = 0;

	for (int i = 0; i < r->nrows; i++)
		if (i == 0 || strcmp(gw_result_get(r, i, col), gw_result_get(r, i - 1, col)) != 0)
			n++;
	return n;
}

/* Row index just past the run of equal values in column col starting at row. */
static int group_end(const struct gw_result *r, int col, int row)
{
	int end = row + 1;

	while (end < r->nrows &&
	       strcmp(gw_result_get(r, end, col), gw_result_get(r, row, col)) == 0)
		end++;
	return end;
}

static int read_columns(struct pg_conn *pc, const char *oid, struct gw_table_info *t,
			const char *what, struct gw_error *err)
{
	const char *params[1] = {oid};
	struct gw_result *r = NULL;
	char *sql = NULL;
	int rc;

	/* attidentity is PostgreSQL 10+, attgenerated 12+. */
	sql = gw_asprintf(
		"SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,"
		" pg_get_expr(d.adbin, d.adrelid), %s, %s"
		" FROM pg_attribute a"
		" LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
		" WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped"
		" ORDER BY a.attnum",
		pc->base.server_num >= 100000 ? "a.attidentity <> ''" : "false",
		pc->base.server_num >= 120000 ? "a.attgenerated <> ''" : "false");
	rc = gw_pg_run(pc, sql, 1, params, &r, what, err);
	if (rc < 0)
		goto out;
	t->columns = gw_calloc((size_t)r->nrows, sizeof(*t->columns));
	t->ncolumns = (size_t)r->nrows;
	for (int i = 0; i < r->nrows; i++) {
		struct gw_column_info *col = &t->columns[i];
		const char *def = gw_result_get(r, i, 3);

		col->name = gw_strdup(gw_result_get(r, i, 0));
		col->type = gw_strdup(gw_result_get(r, i, 1));
		col->nullable = is_true(gw_result_get(r, i, 2));
		col->generated = is_true(gw_result_get(r, i, 5));
		col->autoincrement = is_true(gw_result_get(r, i, 4)) ||
				     (def && strncmp(def, "nextval(", 8) == 0);
		/* A generated column's expression is not a default. */
		col->default_expr = col->generated ? NULL : gw_strdup(def);
	}
out:
	gw_result_free(r);
	free(sql);
	return rc;
}

/* Indexes by name, key columns in order; also sets the primary key. */
static int read_indexes(struct pg_conn *pc, const char *oid, struct gw_table_info *t,
			const char *what, struct gw_error *err)
{
	const char *params[1] = {oid};
	struct gw_result *r = NULL;
	char *sql = NULL;
	size_t k = 0;
	int rc;

	/* Key columns only (not INCLUDE); indnkeyatts is PostgreSQL 11+. */
	sql = gw_asprintf(
		"SELECT i.indexrelid, ic.relname, i.indisunique, i.indisprimary,"
		" CASE WHEN i.indkey[k.n - 1] = 0"
		" THEN pg_get_indexdef(i.indexrelid, k.n, true) ELSE a.attname::text END"
		" FROM pg_index i"
		" JOIN pg_class ic ON ic.oid = i.indexrelid"
		" CROSS JOIN LATERAL generate_series(1, i.%s::int) AS k(n)"
		" LEFT JOIN pg_attribute a"
		" ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n - 1]"
		" WHERE i.indrelid = $1::oid"
		" ORDER BY ic.relname, i.indexrelid, k.n",
		pc->base.server_num >= 110000 ? "indnkeyatts" : "indnatts");
	rc = gw_pg_run(pc, sql, 1, params, &r, what, err);
	if (rc < 0)
		goto out;
	t->nindexes = count_groups(r, 0);
	t->indexes = gw_calloc(t->nindexes, sizeof(*t->indexes));
	for (int i = 0; i < r->nrows; k++) {
		struct gw_index_info *ix = &t->indexes[k];
		int end = group_end(r, 0, i);

		ix->name = gw_strdup(gw_result_get(r, i, 1));
		ix->unique = is_true(gw_result_get(r, i, 2));
		ix->primary = is_true(gw_result_get(r, i, 3));
		ix->columns = gw_calloc((size_t)(end - i), sizeof(char *));
		ix->ncolumns = (size_t)(end - i);
		for (int j = i; j < end; j++)
			ix->columns[j - i] = gw_strdup(gw_result_get(r, j, 4));
		if (ix->primary && !t->pk) {
			t->pk = gw_calloc(ix->ncolumns, sizeof(char *));
			t->npk = ix->ncolumns;
			for (size_t j = 0; j < ix->ncolumns; j++)
				t->pk[j] = gw_strdup(ix->columns[j]);
		}
		i = end;
	}
out:
	gw_result_free(r);
	free(sql);
	return rc;
}

/*
 * Foreign keys of the table (out) or referencing it (in). Tables outside
 * the connection's schema are named "schema.table". Partitioned tables:
 * the per-partition copies PostgreSQL keeps of one constraint are skipped
 * when their parent constraint is on the same side of this table.
 */
static int read_fks(struct pg_conn *pc, const char *oid, bool out_side, struct gw_table_info *t,
		    const char *what, struct gw_error *err)
{
	const char *params[2] = {oid, pc->base.schema};
	const char *side = out_side ? "conrelid" : "confrelid";
	struct gw_fk_info **fks = out_side ? &t->fk_out : &t->fk_in;
	size_t *nfks = out_side ? &t->nfk_out : &t->nfk_in;
	struct gw_result *r = NULL;
	char *sql = NULL, *dedup = NULL;
	size_t k = 0;
	int rc;

	if (pc->base.server_num >= 110000)
		dedup = gw_asprintf(" AND NOT EXISTS (SELECT 1 FROM pg_constraint p"
				    " WHERE p.oid = con.conparentid AND p.%s = con.%s)",
				    side, side);
	sql = gw_asprintf(
		"SELECT con.oid, con.conname,"
		" CASE WHEN cn.nspname = $2 THEN cl.relname::text"
		" ELSE cn.nspname || '.' || cl.relname END,"
		" CASE WHEN fn.nspname = $2 THEN fl.relname::text"
		" ELSE fn.nspname || '.' || fl.relname END,"
		" a.attname, fa.attname"
		" FROM pg_constraint con"
		" JOIN pg_class cl ON cl.oid = con.conrelid"
		" JOIN pg_namespace cn ON cn.oid = cl.relnamespace"
		" JOIN pg_class fl ON fl.oid = con.confrelid"
		" JOIN pg_namespace fn ON fn.oid = fl.relnamespace"
		" CROSS JOIN LATERAL unnest(con.conkey, con.confkey)"
		" WITH ORDINALITY AS k(att, fatt, ord)"
		" JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.att"
		" JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.fatt"
		" WHERE con.contype = 'f' AND con.%s = $1::oid%s"
		" ORDER BY con.conname, con.oid, k.ord",
		side, dedup ? dedup : "");
	rc = gw_pg_run(pc, sql, 2, params, &r, what, err);
	if (rc < 0)
		goto out;
	*nfks = count_groups(r, 0);
	*fks = gw_calloc(*nfks, sizeof(**fks));
	for (int i = 0; i < r->nrows; k++) {
		struct gw_fk_info *fk = &(*fks)[k];
		int end = group_end(r, 0, i);

		fk->name = gw_strdup(gw_result_get(r, i, 1));
		fk->table = gw_strdup(gw_result_get(r, i, 2));
		fk->ref_table = gw_strdup(gw_result_get(r, i, 3));
		fk->columns = gw_calloc((size_t)(end - i), sizeof(char *));
		fk->ref_columns = gw_calloc((size_t)(end - i), sizeof(char *));
		fk->ncolumns = (size_t)(end - i);
		for (int j = i; j < end; j++) {
			fk->columns[j - i] = gw_strdup(gw_result_get(r, j, 4));
			fk->ref_columns[j - i] = gw_strdup(gw_result_get(r, j, 5));
		}
		i = end;
	}
out:
	gw_result_free(r);
	free(sql);
	free(dedup);
	return rc;
}

static char *trigger_event(int type)
{
	static const struct {
		int bit;
		const char *name;
	} events[] = {
		/* the order pg_get_triggerdef uses */
		{TRIGGER_TYPE_INSERT, "INSERT"},
		{TRIGGER_TYPE_DELETE, "DELETE"},
		{TRIGGER_TYPE_UPDATE, "UPDATE"},
		{TRIGGER_TYPE_TRUNCATE, "TRUNCATE"},
	};
	struct gw_buf b = GW_BUF_INIT;

	for (size_t i = 0; i < GW_ARRAY_SIZE(events); i++) {
		if (!(type & events[i].bit))
			continue;
		if (b.len)
			gw_buf_puts(&b, " OR ");
		gw_buf_puts(&b, events[i].name);
	}
	return gw_buf_detach(&b);
}

static int read_triggers(struct pg_conn *pc, const char *oid, struct gw_table_info *t,
			 const char *what, struct gw_error *err)
{
	const char *params[1] = {oid};
	struct gw_result *r = NULL;
	int rc;

	rc = gw_pg_run(pc, triggers_sql, 1, params, &r, what, err);
	if (rc < 0)
		goto out;
	t->triggers = gw_calloc((size_t)r->nrows, sizeof(*t->triggers));
	t->ntriggers = (size_t)r->nrows;
	for (int i = 0; i < r->nrows; i++) {
		struct gw_trigger_info *tg = &t->triggers[i];
		int type = atoi(gw_result_get(r, i, 1));

		tg->name = gw_strdup(gw_result_get(r, i, 0));
		if (type & TRIGGER_TYPE_INSTEAD)
			tg->timing = gw_strdup("INSTEAD OF");
		else if (type & TRIGGER_TYPE_BEFORE)
			tg->timing = gw_strdup("BEFORE");
		else
			tg->timing = gw_strdup("AFTER");
		tg->event = trigger_event(type);
	}
out:
	gw_result_free(r);
	return rc;
}

int gw_pg_describe(struct gw_conn *c, const char *table, struct gw_table_info **out,
		   struct gw_error *err)
{
	struct pg_conn *pc = gw_pg_downcast(c);
	const char *params[2] = {pc->base.schema, table};
	struct gw_table_info *t = gw_calloc(1, sizeof(*t));
	struct gw_result *r = NULL;
	char *what = gw_asprintf("could not describe table '%s.%s'", pc->base.schema, table);
	char *oid = NULL;
	const char *est;
	int rc;

	t->name = gw_strdup(table);
	t->row_estimate = -1;
	rc = gw_pg_run(pc, table_sql, 2, params, &r, what, err);
	if (rc < 0)
		goto out;
	if (r->nrows == 0) {
		rc = gw_error_set(err, GW_ERR_DB_UNDEFINED, "table '%s.%s' does not exist",
				  pc->base.schema, table);
		goto out;
	}
	oid = gw_strdup(gw_result_get(r, 0, 0));
	est = gw_result_get(r, 0, 1);
	t->row_estimate = est ? atoll(est) : -1;

	rc = read_columns(pc, oid, t, what, err);
	if (rc < 0)
		goto out;
	rc = read_indexes(pc, oid, t, what, err);
	if (rc < 0)
		goto out;
	rc = read_fks(pc, oid, true, t, what, err);
	if (rc < 0)
		goto out;
	rc = read_fks(pc, oid, false, t, what, err);
	if (rc < 0)
		goto out;
	rc = read_triggers(pc, oid, t, what, err);
	if (rc < 0)
		goto out;
	*out = t;
	t = NULL;
out:
	gw_table_info_free(t);
	gw_result_free(r);
	free(oid);
	free(what);
	return rc;
}

int gw_pg_list_tables(struct gw_conn *c, struct gw_result **out, struct gw_error *err)
{
	struct pg_conn *pc = gw_pg_downcast(c);
	const char *params[1] = {pc->base.schema};
	char *what = gw_asprintf("could not list the tables of schema '%s'", pc->base.schema);
	int rc;

	rc = gw_pg_run(pc, list_sql, 1, params, out, what, err);
	free(what);
	return rc;
}
