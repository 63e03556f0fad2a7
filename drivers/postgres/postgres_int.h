/*
 * Private to the postgres driver: the connection struct and the functions
 * shared between conn.c and introspect.c.
 */
#ifndef GODWIT_POSTGRES_INT_H
#define GODWIT_POSTGRES_INT_H

#include <libpq-fe.h>

#include "godwit/driver.h"

/* A postgres connection; base must stay first (see gw_pg_downcast). */
struct pg_conn {
	struct gw_conn base;
	PGconn *pg;  /* owned; PQfinish in close */
};

/* Borrowed pg_conn of c, which must be a postgres connection. */
static inline struct pg_conn *gw_pg_downcast(struct gw_conn *c)
{
	gw_assert(c && c->drv == &gw_driver_postgres);
	return (struct pg_conn *)c;
}

/*
 * conn.c: run sql as gw_drv_query_fn does; on failure the message is
 * "<what>: <server message>" (what: e.g. "could not describe table 't'").
 */
GW_MUSTCHECK int gw_pg_run(struct pg_conn *pc, const char *sql, int nparams,
			   const char *const *params, struct gw_result **res,
			   const char *what, struct gw_error *err);

/* conn.c: the query op (see gw_drv_query_fn); messages start "query failed". */
GW_MUSTCHECK int gw_pg_query(struct gw_conn *c, const char *sql, int nparams,
			     const char *const *params, struct gw_result **res,
			     struct gw_error *err);

/* introspect.c: the describe and list_tables ops. */
GW_MUSTCHECK int gw_pg_describe(struct gw_conn *c, const char *table,
				struct gw_table_info **out, struct gw_error *err);
GW_MUSTCHECK int gw_pg_list_tables(struct gw_conn *c, struct gw_result **out,
				   struct gw_error *err);

/*
 * conn.c: a replication connection (replication=database) to url_text's
 * server, with options as libpq's "options" (e.g. "-c datestyle=ISO").
 */
GW_MUSTCHECK int gw_pg_connect_replication(const char *url_text, const char *options,
					   PGconn **out, struct gw_error *err);

/* logical.c: replication capture from a logical slot with pgoutput. */
extern const struct gw_stream_ops gw_pg_stream;

#endif
