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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/shadow.h"
#include "godwit/stream.h"

#define VALIDATE_MARK "godwit: validate"

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

/*
 * Capture into the shadow: triggers (statements in out), or replication,
 * set up at once (stream.h).
 */
static int capture_job(struct gw_conn *c, const struct gw_job *job, struct gw_steps *out,
		       struct gw_error *err)
{
	const char *t = job->table;
	char *shadow = gw_shadow_name(t, "new"), *old = gw_shadow_name(t, "old");
	bool kept = false;
	int rc = gw_table_exists(c, old, &kept, err);

	if (rc == 0 && kept) {
		rc = gw_error_set(err, GW_ERR_STATE,
				  "table '%s' still keeps '%s' from an earlier rebuild, for its revert",
				  t, old);
		gw_error_hint(err, "run 'godwit cleanup' for that migration first");
	}
	if (rc == 0)
		rc = gw_shadow_defer_sql(c, t, out, err);
	if (rc == 0 && job->replication)
		rc = gw_capture_setup(c, t, err);
	else if (rc == 0)
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
	sw->qt = gw_sql_quoted(d, t);
	sw->qo = gw_sql_quoted(d, sw->other);
	sw->qa = gw_sql_quoted(d, sw->aside);
	rc = gw_table_exists(c, sw->other, &has_other, err);
	if (rc == 0)
		rc = gw_table_exists(c, sw->aside, &has_aside, err);
	if (rc == 0 && has_other && has_aside && d->id == GW_DIALECT_MYSQL) {
		/* The sentry of a cut-over that was interrupted (see gw_shadow_cutover_mysql). */
		char *sql = gw_asprintf("DROP TABLE %s", sw->qa);

		gw_info(t, "dropping the sentry '%s' of an interrupted cut-over", sw->aside);
		rc = gw_conn_exec(c, sql, err);
		free(sql);
		has_aside = false;
	}
	*done = rc == 0 && !has_other && has_aside;
	if (*done)
		gw_info(t, "already swapped before the interruption");
	else if (rc == 0 && (!has_other || has_aside))
		rc = gw_error_set(err, GW_ERR_STATE, "cannot swap '%s': expected '%s' and no '%s'", t,
				  sw->other, sw->aside);
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
			q1 = gw_sql_quoted(d, an);
			q2 = gw_sql_quoted(d, bn);
			q3 = gw_sql_quoted(d, tmp);
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
	char *qt = gw_sql_quoted(gw_conn_dialect(c), t);
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
		return capture_job(c, job, out, err);
	case GW_JOB_SWAP:
	case GW_JOB_UNSWAP: {
		struct swap sw;
		bool done = false;
		int rc;

		if (!pg)
			GW_BUG("MariaDB/MySQL swaps run by gw_shadow_cutover_mysql");
		rc = swap_init(c, job->table, job->kind == GW_JOB_UNSWAP, &sw, &done, err);
		if (rc == 0)
			rc = pg_swap(c, &sw, done, out, err);
		swap_release(&sw);
		return rc;
	}
	case GW_JOB_VALIDATE:
		return pg ? pg_validate(c, job->table, out, err) : 0;
	case GW_JOB_COPY:
	case GW_JOB_VERIFY:
	case GW_JOB_RELEASE:
		break;
	}
	GW_BUG("a walking job or a release has no statements");
}

/* Run the statements of steps in order. */
static int exec_all(struct gw_conn *c, const char *t, const struct gw_steps *steps,
		    struct gw_error *err)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < steps->n; i++) {
		gw_info(t, "%s", steps->v[i].sql);
		rc = gw_conn_exec(c, steps->v[i].sql, err);
	}
	return rc;
}

/* The RENAME, run on a connection of its own while the tables are locked. */
struct renamer {
	struct gw_conn *c;
	char *sql;
	int rc;
	struct gw_error err;
};

static void *rename_thread(void *arg)
{
	struct renamer *r = arg;

	r->rc = gw_conn_exec(r->c, r->sql, &r->err);
	return NULL;
}

/* Wait until the RENAME of connection id waits for our locks (at most 10 s). */
static int wait_queued(struct gw_conn *c, const char *id, struct gw_error *err)
{
	for (int i = 0; i < 1000; i++) {
		struct gw_result *r = NULL;
		int rc = gw_conn_query(c,
				       "SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = $1 "
				       "AND STATE LIKE '%metadata lock%' AND INFO LIKE 'RENAME%'",
				       1, (const char *const[]){id}, &r, err);
		bool queued = rc == 0 && r->nrows > 0;

		gw_result_free(r);
		if (rc < 0 || queued)
			return rc;
		nanosleep(&(struct timespec){0, 10000000L}, NULL);
	}
	return gw_error_set(err, GW_ERR_DB_LOCK_TIMEOUT, "the cut-over RENAME did not queue");
}

/*
 * Under the lock: drain the capture, carry AUTO_INCREMENT over, queue the
 * RENAME on conn b, then drop the sentry and unlock: the queued RENAME
 * goes before the writes waiting for the table.
 */
static int locked_swap(struct gw_conn *c, struct gw_conn *b, const struct swap *sw,
		       struct gw_capture *cap, double *blocked_ms, struct gw_error *err)
{
	struct renamer rn = {b, NULL, 0, GW_ERROR_INIT};
	struct gw_result *r = NULL, *idr = NULL;
	pthread_t th;
	bool started = false;
	double t0;
	char *sql = gw_asprintf("LOCK TABLES %s WRITE, %s WRITE, %s WRITE", sw->qt, sw->qo, sw->qa);
	int rc = gw_conn_query(b, "SELECT CONNECTION_ID()", 0, NULL, &idr, err);

	if (rc == 0)
		rc = gw_conn_exec(c, sql, err);
	if (rc < 0)
		goto out;
	t0 = gw_now_ms();
	if (cap)
		rc = gw_capture_sync(cap, true, err);
	if (rc == 0)
		rc = gw_conn_query(c,
				   "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
				   "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $1",
				   1, (const char *const[]){sw->t}, &r, err);
	/* Deleted rows past the largest id must not be reused by the new table. */
	if (rc == 0 && r->nrows && gw_result_get(r, 0, 0)) {
		free(sql);
		sql = gw_asprintf("ALTER TABLE %s AUTO_INCREMENT = %s", sw->qo, gw_result_get(r, 0, 0));
		rc = gw_conn_exec(c, sql, err);
	}
	if (rc == 0) {
		rn.sql = gw_asprintf("RENAME TABLE %s TO %s, %s TO %s", sw->qt, sw->qa, sw->qo, sw->qt);
		gw_info(sw->t, "%s", rn.sql);
		started = pthread_create(&th, NULL, rename_thread, &rn) == 0;
		if (!started)
			rc = gw_error_set(err, GW_ERR_DB, "could not start the cut-over RENAME");
	}
	if (rc == 0)
		rc = wait_queued(c, gw_result_get(idr, 0, 0), err);
	if (rc == 0) {
		free(sql);
		sql = gw_asprintf("DROP TABLE %s", sw->qa);
		rc = gw_conn_exec(c, sql, err);
	}
	/* Unlocked either way: without the sentry dropped, the RENAME fails. */
	if (gw_conn_exec(c, "UNLOCK TABLES", rc < 0 ? NULL : err) < 0 && rc == 0)
		rc = GW_ERR_DB;
	if (started) {
		pthread_join(th, NULL);
		*blocked_ms = gw_now_ms() - t0;
		if (rc == 0 && rn.rc < 0) {
			*err = rn.err;
			rc = rn.rc;
		}
	}
out:
	gw_result_free(r);
	gw_result_free(idr);
	free(rn.sql);
	free(sql);
	return rc;
}

int gw_shadow_cutover_mysql(struct gw_conn *c, const char *url, const struct gw_job *job,
			    struct gw_capture *cap, double *blocked_ms, struct gw_error *err)
{
	const struct gw_dialect *d = gw_conn_dialect(c);
	bool back = job->kind == GW_JOB_UNSWAP, done = false;
	struct gw_steps steps = GW_STEPS_INIT;
	struct gw_conn *b = NULL;
	struct swap sw;
	char *sql = NULL;
	int rc;

	*blocked_ms = -1;
	rc = swap_init(c, job->table, back, &sw, &done, err);
	if (rc < 0 || done)
		goto idle;
	/* Writes to other, once it is t, go to t once it is aside. */
	rc = capture(c, sw.other, sw.t, sw.other, sw.aside, sw.t, back ? "fwd" : "rev", &steps, err);
	/*
	 * The drain covers writes until the lock; a write that the server lets
	 * in between unlocking and the RENAME is caught by triggers.
	 */
	if (rc == 0 && cap)
		rc = capture(c, sw.t, sw.other, sw.t, sw.other, sw.t, "fwd", &steps, err);
	/*
	 * Catch up before the triggers, then again after: while both write
	 * the shadow, an application's write and a batch of the stream can
	 * deadlock (and the server may pick the application's as the victim),
	 * so that batch is kept to the few changes in between.
	 */
	if (rc == 0 && cap)
		rc = gw_capture_sync(cap, false, err);
	if (rc == 0)
		rc = exec_all(c, sw.t, &steps, err);
	if (rc == 0 && cap)
		rc = gw_capture_sync(cap, false, err);
	if (rc == 0)
		rc = gw_connect(url, &b, err);
	if (rc == 0)
		rc = gw_conn_exec(b, "SET SESSION lock_wait_timeout = 60", err);
	for (int attempt = 0; rc == 0; attempt++) {
		sql = gw_asprintf("CREATE TABLE %s LIKE %s", sw.qa, sw.qt);
		gw_info(sw.t, "%s (the sentry)", sql);
		rc = gw_conn_exec(c, sql, err);
		free(sql);
		sql = NULL;
		if (rc == 0)
			rc = locked_swap(c, b, &sw, cap, blocked_ms, err);
		if (rc != GW_ERR_DB_LOCK_TIMEOUT || attempt >= 4)
			break;
		/* Not swapped: the sentry may still be there. */
		gw_warn(sw.t, "lock wait timed out, retrying (%d of 4)", attempt + 1);
		gw_error_clear(err);
		sql = gw_asprintf("DROP TABLE IF EXISTS %s", sw.qa);
		rc = gw_conn_exec(c, sql, err);
		free(sql);
		sql = NULL;
		nanosleep(&(struct timespec){1, 0}, NULL);
	}
idle:
	/* The other direction is idle now (its target is gone): drop it. */
	gw_steps_release(&steps);
	if (rc == 0) {
		gw_capture_drop(&steps, d, sw.aside, sw.t, back ? "rev" : "fwd");
		rc = exec_all(c, sw.t, &steps, err);
	}
	gw_steps_release(&steps);
	gw_conn_close(b);
	swap_release(&sw);
	return rc;
}
