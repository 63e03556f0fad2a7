/*
 * The run-time part of shadow-table rebuilds: the statements of the jobs
 * that depend on the tables as they are when they run (capture triggers
 * need the columns of both tables; a swap needs what points at the table).
 *
 * MariaDB/MySQL: the swap is one atomic RENAME TABLE, which waiting writes
 * follow to the new table; the capture triggers of both directions stay in
 * place across it (each ignores its missing target), so that no write
 * falls between them.
 *
 * PostgreSQL: the swap is one transaction under a short lock_timeout that
 * takes both tables, moves to the new table what points at the old one
 * (foreign keys of other tables, added back NOT VALID and validated after;
 * views; the application's triggers; sequence ownership and identity
 * positions; grants; owner; index names) and replaces the capture
 * triggers. A swap back is the same with the roles exchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/shadow.h"

#define VALIDATE_MARK "godwit: validate"

static int exists(struct gw_conn *c, const char *table, bool *yes, struct gw_error *err)
{
	struct gw_table_info *t = NULL;
	struct gw_error e = GW_ERROR_INIT;
	int rc = gw_conn_describe(c, table, &t, &e);

	gw_table_info_free(t);
	*yes = rc == 0;
	if (rc == GW_ERR_DB_UNDEFINED)
		return 0;
	if (rc < 0)
		*err = e;
	return rc;
}

static char *quoted(const struct gw_dialect *d, const char *name)
{
	struct gw_buf b = GW_BUF_INIT;

	d->ident(&b, name);
	return gw_buf_detach(&b);
}

static void add(struct gw_steps *out, unsigned flags, const char *fmt, ...) GW_PRINTF(3, 4);

static void add(struct gw_steps *out, unsigned flags, const char *fmt, ...)
{
	struct gw_buf b = GW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	gw_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	gw_steps_add(out, flags, gw_buf_detach(&b));
}

/*
 * Capture from `from` into `to` (its name at run time may differ from the
 * table mapped now: map_from/map_to are the tables as they are now).
 */
static int capture(struct gw_conn *c, const char *map_from, const char *map_to,
		   const char *from, const char *to, const char *table, const char *dir,
		   struct gw_steps *out, struct gw_error *err)
{
	struct gw_shadow_map map;
	int rc = gw_shadow_map_resolve(c, map_from, map_to, &map, err);

	if (rc < 0)
		return rc;
	free(map.from);
	free(map.to);
	map.from = gw_strdup(from);
	map.to = gw_strdup(to);
	gw_capture_create(out, gw_conn_dialect(c), &map, table, dir);
	gw_shadow_map_release(&map);
	return 0;
}

static int capture_job(struct gw_conn *c, const char *t, struct gw_steps *out,
		       struct gw_error *err)
{
	char *shadow = gw_shadow_name(t, "new"), *old = gw_shadow_name(t, "old");
	bool kept = false;
	int rc = exists(c, old, &kept, err);

	if (rc == 0 && kept) {
		rc = gw_error_set(err, GW_ERR_STATE,
				  "table '%s' still keeps '%s' from an earlier rebuild, for its revert",
				  t, old);
		gw_error_hint(err, "run 'godwit cleanup' for that migration first");
	}
	if (rc == 0)
		rc = capture(c, t, shadow, t, shadow, t, "fwd", out, err);
	free(shadow);
	free(old);
	return rc;
}

/*
 * A swap of t with other, t then kept as aside: the shadow and the old
 * table forward, the other way round back. q*: the names quoted.
 */
struct swap {
	const char *t;
	bool back;
	char *other, *aside;
	char *qt, *qo, *qa;
};

static void swap_release(struct swap *sw)
{
	free(sw->other);
	free(sw->aside);
	free(sw->qt);
	free(sw->qo);
	free(sw->qa);
}

/* Name the tables of the swap; *done when it happened before an interruption. */
static int swap_init(struct gw_conn *c, const char *t, bool back, struct swap *sw, bool *done,
		     struct gw_error *err)
{
	const struct gw_dialect *d = gw_conn_dialect(c);
	bool has_other = false, has_aside = false;
	int rc;

	sw->t = t;
	sw->back = back;
	sw->other = gw_shadow_name(t, back ? "old" : "new");
	sw->aside = gw_shadow_name(t, back ? "new" : "old");
	sw->qt = quoted(d, t);
	sw->qo = quoted(d, sw->other);
	sw->qa = quoted(d, sw->aside);
	rc = exists(c, sw->other, &has_other, err);
	if (rc == 0)
		rc = exists(c, sw->aside, &has_aside, err);
	*done = rc == 0 && !has_other && has_aside;
	if (*done)
		gw_info(t, "already swapped before the interruption");
	else if (rc == 0 && (!has_other || has_aside))
		rc = gw_error_set(err, GW_ERR_STATE, "cannot swap '%s': expected '%s' and no '%s'", t,
				  sw->other, sw->aside);
	return rc;
}

/* MariaDB/MySQL: one atomic RENAME, the capture of both directions in place. */
static int my_swap(struct gw_conn *c, const struct swap *sw, bool done, struct gw_steps *out,
		   struct gw_error *err)
{
	const struct gw_dialect *d = gw_conn_dialect(c);
	const char *t = sw->t, *other = sw->other, *aside = sw->aside;
	const char *qt = sw->qt, *qo = sw->qo, *qa = sw->qa;
	bool back = sw->back;
	struct gw_result *r = NULL;
	int rc;

	if (done) {
		gw_capture_drop(out, d, aside, t, back ? "rev" : "fwd");
		return 0;
	}
	/* Writes to other, once it is t, go to t once it is aside. */
	rc = capture(c, other, t, other, aside, t, back ? "fwd" : "rev", out, err);
	if (rc == 0)
		rc = gw_conn_query(c,
				   "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
				   "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $1",
				   1, (const char *const[]){t}, &r, err);
	if (rc < 0)
		goto out;
	/* Deleted rows past the largest id must not be reused by the new table. */
	if (r->nrows && gw_result_get(r, 0, 0))
		add(out, GW_STEP_LOCKED, "ALTER TABLE %s AUTO_INCREMENT = %s", qo,
		    gw_result_get(r, 0, 0));
	add(out, GW_STEP_LOCKED, "RENAME TABLE %s TO %s, %s TO %s", qt, qa, qo, qt);
	/* The other direction is idle now (its target is gone): drop it. */
	gw_capture_drop(out, d, aside, t, back ? "rev" : "fwd");
out:
	gw_result_free(r);
	return rc;
}

/* Run a catalog query with the table's quoted name as $1 (and $2). */
static int catalog(struct gw_conn *c, const char *sql, const char *a, const char *b,
		   struct gw_result **r, struct gw_error *err)
{
	return gw_conn_query(c, sql, b ? 2 : 1, (const char *const[]){a, b}, r, err);
}

/*
 * Add foreign key name (definition def) to rel NOT VALID, marked for the
 * validate job; one that was not valid before stays so, unmarked.
 */
static void add_fk(struct gw_steps *out, const char *rel, const char *name, const char *def,
		   bool valid)
{
	add(out, 0, "ALTER TABLE %s ADD CONSTRAINT %s %s%s", rel, name, def,
	    valid ? " NOT VALID" : "");
	if (valid)
		add(out, 0, "COMMENT ON CONSTRAINT %s ON %s IS '" VALIDATE_MARK "'", name, rel);
}

/* Swap the names of the indexes of a (name qa) with their equals on b. */
static int pg_index_names(struct gw_conn *c, const char *qa, const char *qb,
			  struct gw_steps *out, struct gw_error *err)
{
	static const char sql[] =
		"SELECT i.relname, x.indisunique, regexp_replace(pg_get_indexdef(i.oid), "
		"'^.* USING ', '') FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
		"WHERE x.indrelid = $1::regclass ORDER BY i.relname";
	const struct gw_dialect *d = gw_conn_dialect(c);
	struct gw_result *ra = NULL, *rb = NULL;
	int rc = catalog(c, sql, qa, NULL, &ra, err);
	bool *used = NULL;

	if (rc == 0)
		rc = catalog(c, sql, qb, NULL, &rb, err);
	if (rc < 0)
		goto out;
	used = gw_calloc((size_t)rb->nrows + 1, sizeof(bool));
	for (int i = 0; i < ra->nrows; i++) {
		for (int j = 0; j < rb->nrows; j++) {
			const char *an = gw_result_get(ra, i, 0), *bn = gw_result_get(rb, j, 0);
			char *tmp, *q1, *q2, *q3;

			if (used[j] || strcmp(gw_result_get(ra, i, 1), gw_result_get(rb, j, 1)) ||
			    strcmp(gw_result_get(ra, i, 2), gw_result_get(rb, j, 2)))
				continue;
			used[j] = true;
			tmp = gw_shadow_name(an, "swap");
			q1 = quoted(d, an);
			q2 = quoted(d, bn);
			q3 = quoted(d, tmp);
			add(out, 0, "ALTER INDEX %s RENAME TO %s", q1, q3);
			add(out, 0, "ALTER INDEX %s RENAME TO %s", q2, q1);
			add(out, 0, "ALTER INDEX %s RENAME TO %s", q3, q2);
			free(tmp);
			free(q1);
			free(q2);
			free(q3);
			break;
		}
	}
out:
	free(used);
	gw_result_free(ra);
	gw_result_free(rb);
	return rc;
}

/* Identity columns of b continue where a's are. */
static int pg_identity(struct gw_conn *c, const char *qa, const char *qb, struct gw_steps *out,
		       struct gw_error *err)
{
	struct gw_result *r = NULL;
	int rc = catalog(c,
			 "SELECT pg_get_serial_sequence($1, a.attname), "
			 "pg_get_serial_sequence($2, a.attname) FROM pg_attribute a "
			 "WHERE a.attrelid = $2::regclass AND a.attidentity <> '' AND NOT a.attisdropped",
			 qa, qb, &r, err);

	for (int i = 0; rc == 0 && i < r->nrows; i++) {
		const char *sa = gw_result_get(r, i, 0), *sb = gw_result_get(r, i, 1);
		struct gw_result *v = NULL;
		char *sql;

		if (!sa || !sb || strcmp(sa, sb) == 0)
			continue;
		sql = gw_asprintf("SELECT last_value, is_called FROM %s", sa);
		rc = gw_conn_query(c, sql, 0, NULL, &v, err);
		if (rc == 0)
			add(out, 0, "SELECT setval('%s', %s, %s)", sb, gw_result_get(v, 0, 0),
			    strcmp(gw_result_get(v, 0, 1), "t") == 0 ? "true" : "false");
		gw_result_free(v);
		free(sql);
	}
	gw_result_free(r);
	return rc;
}

/* PostgreSQL: in the transaction that locked both tables. */
static int pg_swap(struct gw_conn *c, const struct swap *sw, bool done, struct gw_steps *out,
		   struct gw_error *err)
{
	const struct gw_dialect *d = gw_conn_dialect(c);
	const char *t = sw->t, *other = sw->other, *aside = sw->aside;
	const char *qt = sw->qt, *qo = sw->qo, *qa = sw->qa;
	bool back = sw->back;
	struct gw_steps after = GW_STEPS_INIT;
	struct gw_result *r = NULL;
	int rc = 0;

	if (done)
		return 0;
	gw_capture_drop(out, d, t, t, back ? "rev" : "fwd");

	/* Foreign keys of other tables: dropped now, added back NOT VALID to the new t. */
	rc = catalog(c,
		     "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid), "
		     "convalidated FROM pg_constraint WHERE contype = 'f' AND confrelid = $1::regclass "
		     "AND conrelid <> $1::regclass ORDER BY 1, 2",
		     qt, NULL, &r, err);
	for (int i = 0; rc == 0 && i < r->nrows; i++) {
		const char *rel = gw_result_get(r, i, 0), *name = gw_result_get(r, i, 1);
		bool valid = strcmp(gw_result_get(r, i, 3), "t") == 0;

		add(out, 0, "ALTER TABLE %s DROP CONSTRAINT %s", rel, name);
		add_fk(&after, rel, name, gw_result_get(r, i, 2), valid);
	}
	gw_result_free(r);
	r = NULL;
	/* Foreign keys of t that the other table lacks. */
	if (rc == 0)
		rc = catalog(c,
			     "SELECT quote_ident(conname), pg_get_constraintdef(oid), convalidated "
			     "FROM pg_constraint WHERE contype = 'f' AND conrelid = $1::regclass "
			     "AND conname NOT IN (SELECT conname FROM pg_constraint "
			     "WHERE conrelid = $2::regclass) ORDER BY 1",
			     qt, qo, &r, err);
	for (int i = 0; rc == 0 && i < r->nrows; i++) {
		bool valid = strcmp(gw_result_get(r, i, 2), "t") == 0;

		add_fk(&after, qt, gw_result_get(r, i, 0), gw_result_get(r, i, 1), valid);
	}
	gw_result_free(r);
	r = NULL;
	/* The application's triggers move with the name. */
	if (rc == 0)
		rc = catalog(c,
			     "SELECT quote_ident(tgname), pg_get_triggerdef(oid) FROM pg_trigger "
			     "WHERE tgrelid = $1::regclass AND NOT tgisinternal "
			     "AND tgname NOT LIKE '\\_gw\\_%' ORDER BY 1",
			     qt, NULL, &r, err);
	for (int i = 0; rc == 0 && i < r->nrows; i++) {
		add(out, 0, "DROP TRIGGER %s ON %s", gw_result_get(r, i, 0), qt);
		add(&after, 0, "%s", gw_result_get(r, i, 1));
	}
	gw_result_free(r);
	r = NULL;
	/* Views are bound to the table itself: define them again over the name. */
	if (rc == 0)
		rc = catalog(c,
			     "SELECT DISTINCT v.oid::regclass::text, pg_get_viewdef(v.oid) "
			     "FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid "
			     "JOIN pg_class v ON v.oid = w.ev_class "
			     "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = $1::regclass "
			     "AND v.oid <> $1::regclass AND v.relkind = 'v' ORDER BY 1",
			     qt, NULL, &r, err);
	for (int i = 0; rc == 0 && i < r->nrows; i++)
		add(&after, 0, "CREATE OR REPLACE VIEW %s AS %s", gw_result_get(r, i, 0),
		    gw_result_get(r, i, 1));
	gw_result_free(r);
	r = NULL;
	/* Sequences owned by t's columns (serial) follow the name. */
	if (rc == 0)
		rc = catalog(c,
			     "SELECT s.oid::regclass::text, quote_ident(a.attname) FROM pg_depend d "
			     "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
			     "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
			     "WHERE d.classid = 'pg_class'::regclass AND d.refobjid = $1::regclass "
			     "AND d.deptype = 'a' ORDER BY 1",
			     qt, NULL, &r, err);
	for (int i = 0; rc == 0 && i < r->nrows; i++)
		add(&after, 0, "ALTER SEQUENCE %s OWNED BY %s.%s", gw_result_get(r, i, 0), qt,
		    gw_result_get(r, i, 1));
	gw_result_free(r);
	r = NULL;
	if (rc == 0)
		rc = pg_identity(c, qt, qo, out, err);
	/* Grants and owner. */
	if (rc == 0)
		rc = catalog(c,
			     "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.rolname) "
			     "END, a.privilege_type, a.is_grantable FROM pg_class c "
			     "CROSS JOIN LATERAL aclexplode(c.relacl) a "
			     "LEFT JOIN pg_roles g ON g.oid = a.grantee "
			     "WHERE c.oid = $1::regclass AND a.grantee <> c.relowner ORDER BY 1, 2",
			     qt, NULL, &r, err);
	for (int i = 0; rc == 0 && i < r->nrows; i++)
		add(out, 0, "GRANT %s ON %s TO %s%s", gw_result_get(r, i, 1), qo,
		    gw_result_get(r, i, 0),
		    strcmp(gw_result_get(r, i, 2), "t") == 0 ? " WITH GRANT OPTION" : "");
	gw_result_free(r);
	r = NULL;
	if (rc == 0)
		rc = catalog(c,
			     "SELECT quote_ident(pg_get_userbyid(a.relowner)) FROM pg_class a, pg_class b "
			     "WHERE a.oid = $1::regclass AND b.oid = $2::regclass "
			     "AND a.relowner <> b.relowner",
			     qt, qo, &r, err);
	if (rc == 0 && r->nrows)
		add(out, 0, "ALTER TABLE %s OWNER TO %s", qo, gw_result_get(r, 0, 0));
	if (rc == 0)
		rc = pg_index_names(c, qt, qo, out, err);
	/* Writes to the new t go on to the old one once renamed. */
	if (rc == 0)
		rc = capture(c, other, t, t, aside, t, back ? "fwd" : "rev", &after, err);
	if (rc < 0)
		goto out;
	add(out, 0, "ALTER TABLE %s RENAME TO %s", qt, qa);
	add(out, 0, "ALTER TABLE %s RENAME TO %s", qo, qt);
	gw_steps_append(out, &after);
out:
	gw_steps_release(&after);
	gw_result_free(r);
	return rc;
}

/* Validate the foreign keys a swap added NOT VALID, and unmark them. */
static int pg_validate(struct gw_conn *c, const char *t, struct gw_steps *out,
		       struct gw_error *err)
{
	char *qt = quoted(gw_conn_dialect(c), t);
	struct gw_result *r = NULL;
	int rc = catalog(c,
			 "SELECT conrelid::regclass::text, quote_ident(conname) FROM pg_constraint "
			 "WHERE contype = 'f' AND NOT convalidated "
			 "AND (conrelid = $1::regclass OR confrelid = $1::regclass) "
			 "AND obj_description(oid, 'pg_constraint') = '" VALIDATE_MARK "' ORDER BY 1, 2",
			 qt, NULL, &r, err);

	for (int i = 0; rc == 0 && i < r->nrows; i++) {
		const char *rel = gw_result_get(r, i, 0), *name = gw_result_get(r, i, 1);

		add(out, 0, "ALTER TABLE %s VALIDATE CONSTRAINT %s", rel, name);
		add(out, 0, "COMMENT ON CONSTRAINT %s ON %s IS NULL", name, rel);
	}
	gw_result_free(r);
	free(qt);
	return rc;
}

int gw_shadow_job_sql(struct gw_conn *c, const struct gw_job *job, struct gw_steps *out,
		      struct gw_error *err)
{
	bool pg = gw_conn_dialect(c)->id == GW_DIALECT_POSTGRES;

	switch (job->kind) {
	case GW_JOB_CAPTURE:
		return capture_job(c, job->table, out, err);
	case GW_JOB_SWAP:
	case GW_JOB_UNSWAP: {
		struct swap sw;
		bool done = false;
		int rc = swap_init(c, job->table, job->kind == GW_JOB_UNSWAP, &sw, &done, err);

		if (rc == 0)
			rc = (pg ? pg_swap : my_swap)(c, &sw, done, out, err);
		swap_release(&sw);
		return rc;
	}
	case GW_JOB_VALIDATE:
		return pg ? pg_validate(c, job->table, out, err) : 0;
	case GW_JOB_COPY:
	case GW_JOB_VERIFY:
		break;
	}
	GW_BUG("a walking job has no statements");
}
