/*
 * Private to the MariaDB/MySQL driver: the connection struct and the
 * functions shared between conn.c and introspect.c.
 */
#ifndef GODWIT_MYSQL_INT_H
#define GODWIT_MYSQL_INT_H

#include <mysql.h>

#include "godwit/driver.h"

/* A MariaDB/MySQL connection; base must stay first (see gw_mysql_downcast). */
struct mysql_conn {
	struct gw_conn base;
	MYSQL *my;  /* owned; mysql_close in close */
};

/* Borrowed mysql_conn of c, which must be a mysql connection. */
static inline struct mysql_conn *gw_mysql_downcast(struct gw_conn *c)
{
	gw_assert(c && c->drv == &gw_driver_mysql);
	return (struct mysql_conn *)c;
}

/*
 * conn.c: run sql as gw_drv_query_fn does; on failure the message is
 * "<what>: <server message>" (what: e.g. "could not describe table 't'").
 */
GW_MUSTCHECK int gw_mysql_run(struct mysql_conn *mc, const char *sql, int nparams,
			      const char *const *params, struct gw_result **res,
			      const char *what, struct gw_error *err);

/* conn.c: the query op (see gw_drv_query_fn); messages start "query failed". */
GW_MUSTCHECK int gw_mysql_query(struct gw_conn *c, const char *sql, int nparams,
				const char *const *params, struct gw_result **res,
				struct gw_error *err);

/* introspect.c: the describe and list_tables ops. */
GW_MUSTCHECK int gw_mysql_describe(struct gw_conn *c, const char *table,
				   struct gw_table_info **out, struct gw_error *err);
GW_MUSTCHECK int gw_mysql_list_tables(struct gw_conn *c, struct gw_result **out,
				      struct gw_error *err);

/* binlog.c: replication capture from the binlog. */
extern const struct gw_stream_ops gw_mysql_stream;

#ifdef GW_UNIT_TEST
#include "godwit/buf.h"
/* conn.c internals, static outside test builds. */
int gw_mysql_classify_errno(unsigned int e);
int gw_mysql_expand_params(struct gw_buf *out, MYSQL *my, const char *sql, int nparams,
			   const char *const *params, const char *what, struct gw_error *err);
#endif

#endif
