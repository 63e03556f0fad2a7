/*
 * The shadow's secondary indexes that are not unique, built after the copy
 * instead of row by row during it (see shadow.h).
 *
 * They are dropped at expand, before the capture is installed (so that no
 * write to the shadow waits for the DROP), their definitions kept first in
 * "_gw_<t>_ix" (name, definition) so that an interrupted expand or build
 * finds them again; the record goes once every index is back. Unique
 * indexes stay: the copy and the capture rely on them to find duplicates
 * as rows arrive.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/shadow.h"

#define BUILD_ATTEMPTS 5

struct ixdef {
	char *name;
	char *def;   /* PostgreSQL: CREATE INDEX ...; MariaDB/MySQL: KEY `name` (...) ... */
	char *note;  /* PostgreSQL: its comment, or NULL */
};

struct ixset {
	const struct gw_dialect *d;
	bool pg;
	char *shadow, *qshadow;
	char *qschema, *regclass;           /* PostgreSQL: the shadow's schema, qualified name */
	char *record, *qrecord;
	struct ixdef *v;
	size_t n;
};

static void ixset_init(struct ixset *s, struct gw_conn *c, const char *table)
{
	memset(s, 0, sizeof(*s));
	s->d = gw_conn_dialect(c);
	s->pg = s->d->id == GW_DIALECT_POSTGRES;
	s->shadow = gw_shadow_name(table, "new");
	s->qshadow = gw_sql_quoted(s->d, s->shadow);
	if (s->pg) {
		s->qschema = gw_sql_quoted(s->d, c->schema);
		s->regclass = gw_asprintf("%s.%s", s->qschema, s->qshadow);
	}
	s->record = gw_shadow_name(table, "ix");
	s->qrecord = gw_sql_quoted(s->d, s->record);
}

static void ixset_release(struct ixset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].def);
		free(s->v[i].note);
	}
	free(s->v);
	free(s->shadow);
	free(s->qshadow);
	free(s->qschema);
	free(s->regclass);
	free(s->record);
	free(s->qrecord);
}

static void ixset_add(struct ixset *s, const char *name, const char *def, const char *note)
{
	s->v = gw_realloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n].name = gw_strdup(name);
	s->v[s->n].def = gw_strdup(def);
	s->v[s->n].note = note ? gw_strdup(note) : NULL;
	s->n++;
}

/* Append the backquoted name at p (`` for a backquote) to b; the end of it. */
static const char *my_name(const char *p, struct gw_buf *b)
{
	for (p++; *p && !(p[0] == '`' && p[1] != '`'); p++) {
		gw_buf_putc(b, *p);
		if (*p == '`')
			p++;
	}
	return *p ? p + 1 : p;
}

/*
 * MariaDB/MySQL: the "KEY `name` (...)" lines of SHOW CREATE TABLE, as the
 * server spells them (prefix lengths, order, comments, IGNORED), without
 * UNIQUE, FULLTEXT and SPATIAL ones, nor one that starts with the
 * AUTO_INCREMENT column (the engine wants that column to lead an index).
 */
static int my_list(struct gw_conn *c, struct ixset *s, struct gw_error *err)
{
	struct gw_result *r = NULL;
	struct gw_buf autoinc = GW_BUF_INIT;
	char *sql = gw_asprintf("SHOW CREATE TABLE %s", s->qshadow);
	int rc = gw_conn_query(c, sql, 0, NULL, &r, err);
	const char *text = rc == 0 && r->nrows ? gw_result_get(r, 0, 1) : NULL;

	for (const char *p = text; p && *p; p += strcspn(p, "\n"), p += *p == '\n') {
		size_t len = strcspn(p, "\n");
		char *line = gw_strndup(p, len);

		if (strncmp(line, "  `", 3) == 0 && strstr(line, " AUTO_INCREMENT")) {
			gw_buf_release(&autoinc);
			my_name(line + 2, &autoinc);
		}
		if (strncmp(line, "  KEY `", 7) == 0) {
			struct gw_buf name = GW_BUF_INIT, first = GW_BUF_INIT;
			const char *q = my_name(line + 6, &name);

			if (strncmp(q, " (`", 3) == 0)
				my_name(q + 2, &first);
			if (line[len - 1] == ',')
				line[len - 1] = '\0';
			if (!autoinc.data || !first.data || strcmp(autoinc.data, first.data) != 0)
				ixset_add(s, name.data ? name.data : "", line + 2, NULL);
			gw_buf_release(&name);
			gw_buf_release(&first);
		}
		free(line);
	}
	gw_buf_release(&autoinc);
	gw_result_free(r);
	free(sql);
	return rc;
}

static int pg_list(struct gw_conn *c, struct ixset *s, struct gw_error *err)
{
	struct gw_result *r = NULL;
	int rc = gw_conn_query(c,
			       "SELECT c.relname, pg_get_indexdef(i.indexrelid), "
			       "obj_description(i.indexrelid, 'pg_class') FROM pg_index i "
			       "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass "
			       "AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion "
			       "ORDER BY c.relname",
			       1, (const char *const[]){s->regclass}, &r, err);

	for (int i = 0; rc == 0 && i < r->nrows; i++)
		ixset_add(s, gw_result_get(r, i, 0), gw_result_get(r, i, 1), gw_result_get(r, i, 2));
	gw_result_free(r);
	return rc;
}

/* The definitions recorded in "_gw_<t>_ix". */
static int recorded(struct gw_conn *c, struct ixset *s, struct gw_error *err)
{
	struct gw_result *r = NULL;
	char *sql = gw_asprintf("SELECT name, def, note FROM %s ORDER BY name", s->qrecord);
	int rc = gw_conn_query(c, sql, 0, NULL, &r, err);

	for (int i = 0; rc == 0 && i < r->nrows; i++)
		ixset_add(s, gw_result_get(r, i, 0), gw_result_get(r, i, 1), gw_result_get(r, i, 2));
	gw_result_free(r);
	free(sql);
	return rc;
}

/* Whether index name is on the shadow, and (PostgreSQL) usable. */
static int present(struct gw_conn *c, const struct ixset *s, const char *name, bool *yes,
		   bool *valid, struct gw_error *err)
{
	struct gw_result *r = NULL;
	int rc = s->pg ? gw_conn_query(c, "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON "
					  "c.oid = i.indexrelid WHERE i.indrelid = $1::regclass "
					  "AND c.relname = $2",
				       2, (const char *const[]){s->regclass, name}, &r, err)
		       : gw_conn_query(c, "SELECT 1 FROM information_schema.STATISTICS WHERE "
					  "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $1 AND "
					  "INDEX_NAME = $2 LIMIT 1",
				       2, (const char *const[]){s->shadow, name}, &r, err);

	if (rc == 0) {
		*yes = r->nrows > 0;
		*valid = *yes && (!s->pg || strcmp(gw_result_get(r, 0, 0), "t") == 0);
	}
	gw_result_free(r);
	return rc;
}

static char *drop_sql(const struct ixset *s, const char *name, bool online)
{
	char *q = gw_sql_quoted(s->d, name);
	char *sql = s->pg ? gw_asprintf("DROP INDEX %sIF EXISTS %s.%s", online ? "CONCURRENTLY " : "",
					s->qschema, q)
			  : gw_asprintf("ALTER TABLE %s DROP INDEX %s", s->qshadow, q);

	free(q);
	return sql;
}

int gw_shadow_defer_sql(struct gw_conn *c, const char *table, struct gw_steps *out,
			struct gw_error *err)
{
	struct ixset s;
	struct gw_buf b = GW_BUF_INIT;
	bool have = false;
	int rc;

	ixset_init(&s, c, table);
	rc = gw_table_exists(c, s.record, &have, err);
	if (rc == 0 && have) {
		/* recorded before an interruption: drop what is still there */
		rc = recorded(c, &s, err);
		for (size_t i = 0; rc == 0 && i < s.n; i++) {
			bool yes = false, valid = false;

			rc = present(c, &s, s.v[i].name, &yes, &valid, err);
			if (rc == 0 && yes)
				gw_steps_add(out, 0, drop_sql(&s, s.v[i].name, false));
		}
		goto out;
	}
	if (rc == 0)
		rc = s.pg ? pg_list(c, &s, err) : my_list(c, &s, err);
	if (rc < 0 || s.n == 0)
		goto out;
	gw_steps_add(out, 0, gw_asprintf("CREATE TABLE %s (name VARCHAR(255) NOT NULL PRIMARY KEY, "
					 "def TEXT NOT NULL, note TEXT)",
					 s.qrecord));
	gw_buf_printf(&b, "INSERT INTO %s (name, def, note) VALUES ", s.qrecord);
	for (size_t i = 0; i < s.n; i++) {
		gw_buf_puts(&b, i ? ", (" : "(");
		s.d->literal(&b, s.v[i].name);
		gw_buf_puts(&b, ", ");
		s.d->literal(&b, s.v[i].def);
		gw_buf_puts(&b, ", ");
		s.d->literal(&b, s.v[i].note);
		gw_buf_putc(&b, ')');
	}
	gw_steps_add(out, 0, gw_buf_detach(&b));
	for (size_t i = 0; i < s.n; i++)
		gw_steps_add(out, 0, drop_sql(&s, s.v[i].name, false));
out:
	ixset_release(&s);
	return rc;
}

/* Run sql, waiting for locks a few times. */
static int with_retries(struct gw_conn *c, const struct ixset *s, const char *sql,
			struct gw_error *err)
{
	for (int attempt = 1;; attempt++) {
		int rc = gw_conn_exec(c, sql, err);

		if (rc != GW_ERR_DB_LOCK_TIMEOUT || attempt == BUILD_ATTEMPTS)
			return rc;
		gw_warn(s->shadow, "building its indexes: lock wait timed out, retrying (%d of %d)",
			attempt, BUILD_ATTEMPTS - 1);
		gw_error_clear(err);
		gw_sleep_ms(500L << attempt);
	}
}

/* PostgreSQL: create one recorded index with its comment, dropping an invalid one first. */
static int pg_build(struct gw_conn *c, const struct ixset *s, const struct ixdef *x, bool online,
		    struct gw_error *err)
{
	static const char head[] = "CREATE INDEX ";
	struct gw_buf b = GW_BUF_INIT;
	bool yes = false, valid = false;
	int rc;

	if (strncmp(x->def, head, sizeof(head) - 1) != 0)
		return gw_error_set(err, GW_ERR_STATE, "index '%s' of '%s' is recorded as '%s', "
				    "not a CREATE INDEX", x->name, s->shadow, x->def);
	rc = present(c, s, x->name, &yes, &valid, err);
	if (rc < 0 || valid)
		return rc;
	/* a build interrupted half-way leaves an invalid index */
	if (yes) {
		char *drop = drop_sql(s, x->name, online);

		rc = with_retries(c, s, drop, err);
		free(drop);
	}
	gw_buf_printf(&b, "%s%s%s", head, online ? "CONCURRENTLY " : "", x->def + sizeof(head) - 1);
	if (rc == 0)
		rc = with_retries(c, s, b.data, err);
	if (rc == 0 && x->note) {
		gw_buf_reset(&b);
		gw_buf_printf(&b, "COMMENT ON INDEX %s.", s->qschema);
		s->d->ident(&b, x->name);
		gw_buf_puts(&b, " IS ");
		s->d->literal(&b, x->note);
		rc = gw_conn_exec(c, b.data, err);
	}
	gw_buf_release(&b);
	return rc;
}

/* MariaDB/MySQL: the missing recorded indexes, in one ALTER (one scan, one lock cycle). */
static int my_build(struct gw_conn *c, const struct ixset *s, bool online, struct gw_error *err)
{
	struct gw_buf b = GW_BUF_INIT;
	bool any = false;
	int rc = 0;

	gw_buf_printf(&b, "ALTER TABLE %s", s->qshadow);
	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		bool yes = false, valid = false;

		rc = present(c, s, s->v[i].name, &yes, &valid, err);
		if (rc == 0 && !yes) {
			gw_buf_printf(&b, "%s ADD %s", any ? "," : "", s->v[i].def);
			any = true;
		}
	}
	gw_buf_puts(&b, online ? ", ALGORITHM=INPLACE, LOCK=NONE" : ", ALGORITHM=INPLACE");
	if (rc == 0 && any)
		rc = with_retries(c, s, b.data, err);
	gw_buf_release(&b);
	return rc;
}

int gw_shadow_build_indexes(struct gw_conn *c, const char *table, bool online,
			    struct gw_error *err)
{
	struct ixset s;
	struct gw_result *lt = NULL;   /* lock_timeout before */
	bool have = false;
	double t0 = gw_now_ms();
	char *sql;
	int rc;

	ixset_init(&s, c, table);
	rc = gw_table_exists(c, s.record, &have, err);
	if (rc == 0 && have)
		rc = recorded(c, &s, err);
	if (rc == 0 && s.n)
		gw_info(table, "building %zu secondary index%s of '%s'%s", s.n, s.n == 1 ? "" : "es",
			s.shadow, online ? " without blocking writes" : "");
	/*
	 * PostgreSQL: CONCURRENTLY blocks no write, it only waits for older
	 * transactions: without lock_timeout, set back after.
	 */
	if (rc == 0 && s.n && s.pg && online)
		rc = gw_conn_query(c, "SELECT current_setting('lock_timeout'), "
				      "set_config('lock_timeout', '0', false)", 0, NULL, &lt, err);
	for (size_t i = 0; rc == 0 && s.pg && i < s.n; i++)
		rc = pg_build(c, &s, &s.v[i], online, err);
	if (rc == 0 && !s.pg && s.n)
		rc = my_build(c, &s, online, err);
	if (lt && gw_conn_query(c, "SELECT set_config('lock_timeout', $1, false)", 1,
				(const char *const[]){gw_result_get(lt, 0, 0)}, NULL,
				rc < 0 ? NULL : err) < 0 && rc == 0)
		rc = GW_ERR_DB;
	gw_result_free(lt);
	sql = gw_asprintf("DROP TABLE IF EXISTS %s", s.qrecord);
	if (rc == 0 && have)
		rc = gw_conn_exec(c, sql, err);
	free(sql);
	if (rc == 0 && s.n)
		gw_info(table, "built the secondary indexes of '%s' (%.1f s)", s.shadow,
			(gw_now_ms() - t0) / 1000.0);
	ixset_release(&s);
	return rc;
}
