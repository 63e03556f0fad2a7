/*
 * Helpers shared by the phase builders.
 */
#ifndef GODWIT_PHASES_INT_H
#define GODWIT_PHASES_INT_H

#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/phase.h"

/* New name a dropped table is parked under until contract: "_gw_del_<table>". */
char *gw_aside_name(const char *table);

/* True if add_column defers NOT NULL to contract (added nullable, then filled). */
bool gw_add_column_defers_not_null(const struct gw_op *op);

/* Append op->down as a raw SQL step, or fail with GW_ERR_NO_INVERSE saying why. */
GW_MUSTCHECK int gw_down_or_refuse(const struct gw_phase_req *req, struct gw_steps *out,
				   const char *why, struct gw_error *err);

/* The live column named col, or NULL (offline, or no such column). */
const struct gw_column_info *gw_live_column(const struct gw_phase_req *req, const char *col);

/* "UPDATE t SET a = (x), b = (y) [WHERE (w)]" */
char *gw_update_sql(const struct gw_dialect *d, const char *table, size_t n,
		    const struct gw_assign *set, const char *where);

#endif
