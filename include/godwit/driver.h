/*
 * The driver interface: one ops table per backend (drivers/mysql,
 * drivers/postgres), a base connection embedded first in each backend's
 * connection, result sets, and introspection of tables. Only drivers/
 * includes the client libraries' headers.
 */
#ifndef GODWIT_DRIVER_H
#define GODWIT_DRIVER_H

#include <stddef.h>

#include "godwit/common.h"
#include "godwit/url.h"

struct gw_conn;
struct gw_result;
struct gw_table_info;
struct gw_dialect;
struct gw_stream_ops;

/*
 * Run sql. Parameters are written $1..$n in sql for both engines and bound
 * (postgres) or escaped by the client library (mysql); params[i] NULL is
 * SQL NULL. When res is not NULL it receives a new result (rows may be 0).
 * Errors map to GW_ERR_DB_* classes with sqlstate, db_errno and message.
 */
typedef int gw_drv_query_fn(struct gw_conn *c, const char *sql, int nparams,
			    const char *const *params, struct gw_result **res,
			    struct gw_error *err);
/* New connection from url; *out set only on success. */
typedef int gw_drv_connect_fn(const struct gw_url *url, struct gw_conn **out,
			      struct gw_error *err);
typedef void gw_drv_close_fn(struct gw_conn *c);
/* Session advisory lock: *got = true if taken now, false if held elsewhere. */
typedef int gw_drv_try_lock_fn(struct gw_conn *c, const char *name, bool *got,
			       struct gw_error *err);
typedef int gw_drv_unlock_fn(struct gw_conn *c, const char *name, struct gw_error *err);
/* Introspect table of the connection's database/schema. GW_ERR_DB_UNDEFINED if missing. */
typedef int gw_drv_describe_fn(struct gw_conn *c, const char *table,
			       struct gw_table_info **out, struct gw_error *err);
/* Names of the base tables of the current database/schema, sorted. */
typedef int gw_drv_list_tables_fn(struct gw_conn *c, struct gw_result **out,
				  struct gw_error *err);

struct gw_driver {
	int version;                     /* 1 */
	const char *name;                /* "mysql" or "postgres" */
	const struct gw_dialect *dialect;
	gw_drv_connect_fn *connect;
	gw_drv_close_fn *close;
	gw_drv_query_fn *query;
	gw_drv_try_lock_fn *try_lock;
	gw_drv_unlock_fn *unlock;
	gw_drv_describe_fn *describe;
	gw_drv_list_tables_fn *list_tables;
	const struct gw_stream_ops *stream;   /* replication capture (stream.h) */
};

extern const struct gw_driver gw_driver_mysql, gw_driver_postgres;

/* Borrowed driver by name ("mysql", "postgres"), or NULL. */
const struct gw_driver *gw_driver_find(const char *name);

/* Embedded first in each backend's connection struct. */
struct gw_conn {
	const struct gw_driver *drv;
	char server_version[64];  /* e.g. "10.11.6-MariaDB", "15.8" */
	int server_num;           /* e.g. 101106, 150008 */
	char *database;           /* current database (owned) */
	char *schema;             /* postgres: current schema; mysql: = database */
};

/* Parse url_text, find its driver and connect. Passwords never reach err. */
GW_MUSTCHECK int gw_connect(const char *url_text, struct gw_conn **out, struct gw_error *err);

static inline void gw_conn_close(struct gw_conn *c)
{
	if (c)
		c->drv->close(c);
}

/* See gw_drv_query_fn. */
GW_MUSTCHECK static inline int gw_conn_query(struct gw_conn *c, const char *sql, int nparams,
					     const char *const *params, struct gw_result **res,
					     struct gw_error *err)
{
	return c->drv->query(c, sql, nparams, params, res, err);
}

/* Run sql without parameters or result. */
GW_MUSTCHECK static inline int gw_conn_exec(struct gw_conn *c, const char *sql,
					    struct gw_error *err)
{
	return c->drv->query(c, sql, 0, NULL, NULL, err);
}

GW_MUSTCHECK static inline int gw_conn_try_lock(struct gw_conn *c, const char *name, bool *got,
						struct gw_error *err)
{
	return c->drv->try_lock(c, name, got, err);
}

GW_MUSTCHECK static inline int gw_conn_unlock(struct gw_conn *c, const char *name,
					      struct gw_error *err)
{
	return c->drv->unlock(c, name, err);
}

GW_MUSTCHECK static inline int gw_conn_describe(struct gw_conn *c, const char *table,
						struct gw_table_info **out, struct gw_error *err)
{
	return c->drv->describe(c, table, out, err);
}

/* *yes when table exists (0 either way); other failures are errors. */
GW_MUSTCHECK int gw_table_exists(struct gw_conn *c, const char *table, bool *yes,
				 struct gw_error *err);

GW_MUSTCHECK static inline int gw_conn_list_tables(struct gw_conn *c, struct gw_result **out,
						   struct gw_error *err)
{
	return c->drv->list_tables(c, out, err);
}

static inline const struct gw_dialect *gw_conn_dialect(const struct gw_conn *c)
{
	return c->drv->dialect;
}

/* A fully buffered result: every value as text, NULL for SQL NULL. */
struct gw_result {
	int nrows;
	int ncols;
	char **colnames;       /* ncols */
	char **cells;          /* nrows * ncols, row-major */
	long long affected;    /* rows affected by INSERT/UPDATE/DELETE, else -1 */
};

/* Borrowed cell text, NULL for SQL NULL. Asserts bounds. */
const char *gw_result_get(const struct gw_result *r, int row, int col);
/* New empty result with ncols columns named by colnames (copied). */
struct gw_result *gw_result_new(int ncols, const char *const *colnames);
/* Append a row of ncols values (copied; NULL allowed). */
void gw_result_add_row(struct gw_result *r, const char *const *values);
void gw_result_free(struct gw_result *r);

/* Introspection. All strings owned by the table info. */
struct gw_column_info {
	char *name;
	char *type;          /* full engine type: "varchar(255)", "character varying(255)" */
	bool nullable;
	char *default_expr;  /* as the engine reports it, NULL if none */
	bool autoincrement;  /* AUTO_INCREMENT, identity or serial */
	bool generated;      /* generated (computed) column */
};

struct gw_index_info {
	char *name;
	bool unique;
	bool primary;
	size_t ncolumns;
	char **columns;      /* expression indexes list the expression text */
};

struct gw_fk_info {
	char *name;
	char *table;         /* referencing table */
	size_t ncolumns;
	char **columns;
	char *ref_table;     /* referenced table */
	char **ref_columns;  /* ncolumns */
};

struct gw_trigger_info {
	char *name;
	char *timing;        /* "BEFORE", "AFTER", "INSTEAD OF" */
	char *event;         /* "INSERT", "UPDATE", "DELETE" (postgres may join: "INSERT OR UPDATE") */
};

struct gw_table_info {
	char *name;
	size_t ncolumns;
	struct gw_column_info *columns;   /* in ordinal order */
	size_t npk;
	char **pk;                        /* primary key columns in key order, npk 0 if none */
	size_t nindexes;
	struct gw_index_info *indexes;    /* every index including the primary key, by name */
	size_t nfk_out;
	struct gw_fk_info *fk_out;        /* foreign keys of this table */
	size_t nfk_in;
	struct gw_fk_info *fk_in;         /* foreign keys of other tables referencing this one */
	size_t ntriggers;
	struct gw_trigger_info *triggers;
	long long row_estimate;           /* from statistics, -1 if unknown */
};

void gw_table_info_free(struct gw_table_info *t);
/* Borrowed column by name, NULL if absent. */
const struct gw_column_info *gw_table_info_column(const struct gw_table_info *t,
						 const char *name);
/* Borrowed index by name, NULL if absent. */
const struct gw_index_info *gw_table_info_index(const struct gw_table_info *t,
					       const char *name);

#endif
