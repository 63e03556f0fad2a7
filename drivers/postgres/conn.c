/*
 * The postgres connection: connect, run queries, map server errors to
 * godwit's classes, advisory locks.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "postgres_int.h"

#define DEFAULT_APPLICATION_NAME "godwit"
#define DEFAULT_CONNECT_TIMEOUT "10"

/* SQLSTATEs with a class other than GW_ERR_DB; class 08 is handled apart. */
static const struct {
	const char *state;
	int code;
} sqlstates[] = {
	{"55P03", GW_ERR_DB_LOCK_TIMEOUT},  /* lock_not_available (lock_timeout) */
	{"57014", GW_ERR_DB_LOCK_TIMEOUT},  /* query_canceled (statement_timeout) */
	{"40001", GW_ERR_DB_RETRY},         /* serialization_failure */
	{"40P01", GW_ERR_DB_RETRY},         /* deadlock_detected */
	{"57P01", GW_ERR_DB_RETRY},         /* admin_shutdown */
	{"57P02", GW_ERR_DB_RETRY},         /* crash_shutdown */
	{"57P03", GW_ERR_DB_RETRY},         /* cannot_connect_now */
	{"23505", GW_ERR_DB_DUPLICATE},     /* unique_violation */
	{"42P01", GW_ERR_DB_UNDEFINED},     /* undefined_table */
	{"42703", GW_ERR_DB_UNDEFINED},     /* undefined_column */
	{"42704", GW_ERR_DB_UNDEFINED},     /* undefined_object */
	{"3F000", GW_ERR_DB_UNDEFINED},     /* invalid_schema_name */
	{"3D000", GW_ERR_DB_UNDEFINED},     /* invalid_catalog_name */
	{"42P07", GW_ERR_DB_EXISTS},        /* duplicate_table */
	{"42701", GW_ERR_DB_EXISTS},        /* duplicate_column */
	{"42710", GW_ERR_DB_EXISTS},        /* duplicate_object */
	{"42P06", GW_ERR_DB_EXISTS},        /* duplicate_schema */
};

static int classify(const char *state)
{
	if (!state)
		return GW_ERR_DB;
	if (strncmp(state, "08", 2) == 0)
		return GW_ERR_DB_RETRY;
	for (size_t i = 0; i < GW_ARRAY_SIZE(sqlstates); i++)
		if (strcmp(sqlstates[i].state, state) == 0)
			return sqlstates[i].code;
	return GW_ERR_DB;
}

/* New copy of libpq's message s on one line: each whitespace run becomes one space. */
static char *one_line(const char *s)
{
	char *out = gw_malloc(strlen(s) + 1);
	size_t n = 0;

	for (; *s; s++) {
		if (!isspace((unsigned char)*s))
			out[n++] = *s;
		else if (n > 0 && out[n - 1] != ' ')
			out[n++] = ' ';
	}
	if (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return out;
}

static void silent_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Fill err from a failed result r (NULL: libpq gave none); returns the class. */
static int set_error(struct pg_conn *pc, const PGresult *r, const char *what,
		     struct gw_error *err)
{
	const char *state = NULL, *primary = NULL, *detail = NULL, *hint = NULL;
	bool fresh = err && err->code == 0;
	char *text = NULL;
	int code;

	if (r) {
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
		hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
	}
	if (primary)
		text = one_line(primary);
	else if (r && PQresultErrorMessage(r)[0])
		text = one_line(PQresultErrorMessage(r));
	else
		text = one_line(PQerrorMessage(pc->pg));
	if (!text[0]) {
		free(text);
		text = gw_strdup("unknown error");
	}
	code = classify(state);
	if (PQstatus(pc->pg) == CONNECTION_BAD)
		code = GW_ERR_DB_RETRY;
	gw_error_set(err, code, "%s: %s", what, text);
	if (fresh) {
		if (state)
			snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
		err->db_errno = 0;
		if (detail || hint) {
			char *line = one_line(detail ? detail : hint);

			gw_error_hint(err, "%s", line);
			free(line);
		}
	}
	free(text);
	return code;
}

/* Finish a COPY that PQexec started: godwit never streams COPY data this way. */
static int end_copy(struct pg_conn *pc, ExecStatusType st, const char *what,
		    struct gw_error *err)
{
	PGresult *r;

	if (st == PGRES_COPY_IN || st == PGRES_COPY_BOTH)
		(void)PQputCopyEnd(pc->pg, "COPY from the client is not supported by godwit");
	if (st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
		char *buf = NULL;

		while (PQgetCopyData(pc->pg, &buf, 0) > 0) {
			PQfreemem(buf);
			buf = NULL;
		}
	}
	while ((r = PQgetResult(pc->pg)) != NULL)
		PQclear(r);
	return gw_error_set(err, GW_ERR_UNSUPPORTED,
			    "%s: COPY FROM STDIN and COPY TO STDOUT are not supported", what);
}

/* Whether a command tag names a row change: INSERT, UPDATE, DELETE or MERGE. */
static bool is_change(const char *tag)
{
	static const char *const verbs[] = {"INSERT ", "UPDATE ", "DELETE ", "MERGE "};

	for (size_t i = 0; tag && i < GW_ARRAY_SIZE(verbs); i++)
		if (strncmp(tag, verbs[i], strlen(verbs[i])) == 0)
			return true;
	return false;
}

static struct gw_result *to_result(PGresult *r)
{
	int ncols = PQnfields(r), nrows = PQntuples(r);
	const char **vals = gw_calloc((size_t)ncols, sizeof(*vals));
	const char *tuples = PQcmdTuples(r);
	struct gw_result *res;

	for (int j = 0; j < ncols; j++)
		vals[j] = PQfname(r, j);
	res = gw_result_new(ncols, vals);
	for (int i = 0; i < nrows; i++) {
		for (int j = 0; j < ncols; j++)
			vals[j] = PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
		gw_result_add_row(res, vals);
	}
	/* PQcmdTuples also counts SELECT, FETCH, MOVE, COPY and CREATE TABLE AS rows */
	if (tuples[0] && is_change(PQcmdStatus(r)))
		res->affected = atoll(tuples);
	free(vals);
	return res;
}

int gw_pg_run(struct pg_conn *pc, const char *sql, int nparams, const char *const *params,
	      struct gw_result **res, const char *what, struct gw_error *err)
{
	PGresult *r = NULL;
	ExecStatusType st;
	int rc = 0;

	gw_assert(nparams >= 0 && (nparams == 0 || params));
	/*
	 * Without parameters use the simple protocol, which allows scripts of
	 * several statements and CREATE INDEX CONCURRENTLY.
	 */
	if (nparams == 0)
		r = PQexec(pc->pg, sql);
	else
		r = PQexecParams(pc->pg, sql, nparams, NULL, params, NULL, NULL, 0);
	if (!r) {
		rc = set_error(pc, NULL, what, err);
		goto out;
	}
	st = PQresultStatus(r);
	switch (st) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		break;
	case PGRES_COPY_IN:
	case PGRES_COPY_OUT:
	case PGRES_COPY_BOTH:
		rc = end_copy(pc, st, what, err);
		goto out;
	default:
		rc = set_error(pc, r, what, err);
		goto out;
	}
	if (res)
		*res = to_result(r);
out:
	PQclear(r);
	return rc;
}

int gw_pg_query(struct gw_conn *c, const char *sql, int nparams, const char *const *params,
		struct gw_result **res, struct gw_error *err)
{
	return gw_pg_run(gw_pg_downcast(c), sql, nparams, params, res, "query failed", err);
}

/* New "host:port" naming the server for messages; never holds the password. */
static char *server_name(const struct gw_url *url, PGconn *pg)
{
	const char *host = url->host, *port = NULL;
	char portbuf[16];

	if (!host)
		host = gw_url_option(url, "host");
	if (!host && pg)
		host = PQhost(pg);
	if (!host || !host[0])
		host = "localhost";
	if (url->port > 0) {
		snprintf(portbuf, sizeof(portbuf), "%d", url->port);
		port = portbuf;
	}
	if (!port)
		port = gw_url_option(url, "port");
	if (!port && pg)
		port = PQport(pg);
	if (!port || !port[0])
		port = "5432";
	if (strchr(host, ':') && host[0] != '[')
		return gw_asprintf("[%s]:%s", host, port);
	return gw_asprintf("%s:%s", host, port);
}

/* Session settings and the facts base needs, right after connecting. */
static int setup_session(struct pg_conn *pc, const char *where, struct gw_error *err)
{
	struct gw_error e = GW_ERROR_INIT;
	struct gw_result *r = NULL;
	const char *v;
	size_t n;
	int rc;

	rc = gw_pg_run(pc, "SET client_min_messages TO warning", 0, NULL, NULL,
		       "could not set client_min_messages", &e);
	if (rc < 0)
		goto out;
	/*
	 * The schema "godwit" holds the state store. A role named godwit would
	 * otherwise find it first through "$user" in the default search_path and
	 * put the application's tables there: leave it out of the path.
	 */
	rc = gw_pg_run(pc,
		       "SELECT set_config('search_path', COALESCE((SELECT string_agg("
		       "quote_ident(s), ', ' ORDER BY o) FROM unnest(current_schemas(false))"
		       " WITH ORDINALITY AS u(s, o) WHERE s <> 'godwit'), 'public'), false)",
		       0, NULL, NULL, "could not set search_path", &e);
	if (rc < 0)
		goto out;
	rc = gw_pg_run(pc,
		       "SELECT current_setting('server_version'), current_database(),"
		       " current_schema()",
		       0, NULL, &r, "could not read server version and schema", &e);
	if (rc < 0)
		goto out;
	if (r->nrows != 1 || r->ncols != 3) {
		rc = gw_error_set(&e, GW_ERR_DB, "unexpected reply to the session query");
		goto out;
	}
	/* "15.8 (Debian 15.8-1.pgdg120+1)" -> "15.8" */
	v = gw_result_get(r, 0, 0);
	v = v ? v : "";
	n = strcspn(v, " ");
	if (n >= sizeof(pc->base.server_version))
		n = sizeof(pc->base.server_version) - 1;
	memcpy(pc->base.server_version, v, n);
	pc->base.server_version[n] = '\0';
	pc->base.server_num = PQserverVersion(pc->pg);
	v = gw_result_get(r, 0, 1);
	pc->base.database = gw_strdup(v ? v : "");
	v = gw_result_get(r, 0, 2);
	pc->base.schema = gw_strdup(v ? v : "public");
out:
	if (rc < 0) {
		bool fresh = err && err->code == 0;

		gw_error_set(err, GW_ERR_CONNECT, "could not set up session on postgres server at '%s': %s",
			     where, e.msg);
		if (fresh) {
			memcpy(err->sqlstate, e.sqlstate, sizeof(err->sqlstate));
			memcpy(err->hint, e.hint, sizeof(err->hint));
		}
	}
	gw_result_free(r);
	return rc < 0 ? GW_ERR_CONNECT : 0;
}

/*
 * Connect to url's server, with the extra keywords xkeys/xvals (nx of
 * them) after the URL's own; *pg set only on success.
 */
static int open_pg(const struct gw_url *url, const char *const *xkeys, const char *const *xvals,
		   size_t nx, PGconn **out, struct gw_error *err)
{
	size_t cap = (size_t)(url->nopts > 0 ? url->nopts : 0) + nx + 8, n = 0;
	const char **keys = gw_calloc(cap, sizeof(*keys));
	const char **vals = gw_calloc(cap, sizeof(*vals));
	PGconn *pg = NULL;
	char *where = NULL, *why = NULL;
	char port[16];
	int rc = 0;

#define ADD(k, v) do { keys[n] = (k); vals[n] = (v); n++; } while (0)
	if (url->host)
		ADD("host", url->host);
	if (url->port > 0) {
		snprintf(port, sizeof(port), "%d", url->port);
		ADD("port", port);
	}
	if (url->user)
		ADD("user", url->user);
	if (url->password)
		ADD("password", url->password);
	if (url->database)
		ADD("dbname", url->database);
	if (!gw_url_option(url, "application_name"))
		ADD("application_name", DEFAULT_APPLICATION_NAME);
	if (!gw_url_option(url, "connect_timeout"))
		ADD("connect_timeout", DEFAULT_CONNECT_TIMEOUT);
	/* Query options last: for a repeated keyword libpq keeps the last value. */
	for (int i = 0; i < url->nopts; i++)
		ADD(url->keys[i], url->values[i]);
	for (size_t i = 0; i < nx; i++)
		ADD(xkeys[i], xvals[i]);
#undef ADD
	keys[n] = NULL;
	vals[n] = NULL;

	/* expand_dbname 0: a dbname is a name, never a conninfo string. */
	pg = PQconnectdbParams(keys, vals, 0);
	where = server_name(url, pg);
	if (!pg) {
		rc = gw_error_set(err, GW_ERR_CONNECT,
				  "could not connect to postgres server at '%s': out of memory", where);
		goto out;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		why = one_line(PQerrorMessage(pg));
		rc = gw_error_set(err, GW_ERR_CONNECT, "could not connect to postgres server at '%s': %s",
				  where, why);
		goto out;
	}
	PQsetNoticeProcessor(pg, silent_notice, NULL);
	*out = pg;
	pg = NULL;
out:
	PQfinish(pg);
	free(why);
	free(where);
	free(keys);
	free(vals);
	return rc;
}

int gw_pg_connect_replication(const char *url_text, const char *options, PGconn **out,
			      struct gw_error *err)
{
	static const char *const keys[] = {"replication", "options"};
	const char *vals[] = {"database", options};
	struct gw_url url = GW_URL_INIT;
	int rc = gw_url_parse(url_text, &url, err);

	if (rc == 0)
		rc = open_pg(&url, keys, vals, 2, out, err);
	gw_url_release(&url);
	return rc;
}

static int pg_connect(const struct gw_url *url, struct gw_conn **out, struct gw_error *err)
{
	struct pg_conn *pc = NULL;
	PGconn *pg = NULL;
	char *where = NULL;
	int rc = open_pg(url, NULL, NULL, 0, &pg, err);

	if (rc < 0)
		return rc;
	where = server_name(url, pg);
	pc = gw_calloc(1, sizeof(*pc));
	pc->base.drv = &gw_driver_postgres;
	pc->pg = pg;
	rc = setup_session(pc, where, err);
	if (rc == 0) {
		*out = &pc->base;
		pc = NULL;
	}
	if (pc)
		gw_conn_close(&pc->base);
	free(where);
	return rc;
}

static void pg_close(struct gw_conn *c)
{
	struct pg_conn *pc = gw_pg_downcast(c);

	PQfinish(pc->pg);
	free(pc->base.database);
	free(pc->base.schema);
	free(pc);
}

/*
 * Advisory locks take a bigint: hash the name. hashtextextended is
 * PostgreSQL 11+, hashtext (32 bits) before.
 */
static const char *lock_sql(const struct pg_conn *pc, bool lock)
{
	if (pc->base.server_num >= 110000)
		return lock ? "SELECT pg_try_advisory_lock(hashtextextended($1, 0))"
			    : "SELECT pg_advisory_unlock(hashtextextended($1, 0))";
	return lock ? "SELECT pg_try_advisory_lock(hashtext($1)::bigint)"
		    : "SELECT pg_advisory_unlock(hashtext($1)::bigint)";
}

static int pg_try_lock(struct gw_conn *c, const char *name, bool *got, struct gw_error *err)
{
	struct pg_conn *pc = gw_pg_downcast(c);
	const char *params[1] = {name};
	struct gw_result *r = NULL;
	char *what = gw_asprintf("could not take advisory lock '%s'", name);
	const char *v;
	int rc;

	rc = gw_pg_run(pc, lock_sql(pc, true), 1, params, &r, what, err);
	if (rc < 0)
		goto out;
	v = r->nrows == 1 && r->ncols == 1 ? gw_result_get(r, 0, 0) : NULL;
	*got = v && strcmp(v, "t") == 0;
out:
	gw_result_free(r);
	free(what);
	return rc;
}

static int pg_unlock(struct gw_conn *c, const char *name, struct gw_error *err)
{
	struct pg_conn *pc = gw_pg_downcast(c);
	const char *params[1] = {name};
	struct gw_result *r = NULL;
	char *what = gw_asprintf("could not release advisory lock '%s'", name);
	const char *v;
	int rc;

	rc = gw_pg_run(pc, lock_sql(pc, false), 1, params, &r, what, err);
	if (rc < 0)
		goto out;
	v = r->nrows == 1 && r->ncols == 1 ? gw_result_get(r, 0, 0) : NULL;
	if (!v || strcmp(v, "t") != 0)
		rc = gw_error_set(err, GW_ERR_DB, "%s: not held by this session", what);
out:
	gw_result_free(r);
	free(what);
	return rc;
}

const struct gw_driver gw_driver_postgres = {
	.version = 1,
	.name = "postgres",
	.dialect = &gw_dialect_postgres,
	.connect = pg_connect,
	.close = pg_close,
	.query = gw_pg_query,
	.try_lock = pg_try_lock,
	.unlock = pg_unlock,
	.describe = gw_pg_describe,
	.list_tables = gw_pg_list_tables,
	.stream = &gw_pg_stream,
};
