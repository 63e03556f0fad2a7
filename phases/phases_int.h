/*
 * Helpers shared by the phase builders.
 */
#ifndef GODWIT_PHASES_INT_H
#define GODWIT_PHASES_INT_H

#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/phase.h"
#include "godwit/shadow.h"

/* New name a dropped table is parked under until contract: "_gw_del_<table>". */
char *gw_aside_name(const char *table);

/* True if add_column defers NOT NULL to contract (added nullable, then filled). */
bool gw_add_column_defers_not_null(const struct gw_op *op);

/* Append op->down as a raw SQL step, or fail with GW_ERR_NO_INVERSE saying why. */
GW_MUSTCHECK int gw_down_or_refuse(const struct gw_phase_req *req, struct gw_steps *out,
				   const char *why, struct gw_error *err);

/* The live column named col, or NULL (offline, or no such column). */
const struct gw_column_info *gw_live_column(const struct gw_phase_req *req, const char *col);

/* Append "ALTER TABLE t ". */
void gw_alter_table_prefix(struct gw_buf *b, const struct gw_dialect *d, const char *table);

/* True for the column changes done in place (phases/inplace.c), all phases. */
bool gw_inplace(const struct gw_op *op);
GW_MUSTCHECK int gw_inplace_steps(const struct gw_phase_req *req, struct gw_steps *out,
				  struct gw_error *err);

/*
 * Shadow-table rebuilds (phases/shadow.c): rebuild_table, and alter_column
 * with strategy "shadow", all phases.
 */
GW_MUSTCHECK int gw_shadow_steps(const struct gw_phase_req *req, struct gw_steps *out,
				 struct gw_error *err);

/*
 * NOT NULL on PostgreSQL without a long lock: a CHECK (c IS NOT NULL) NOT
 * VALID, validated while writes go on (backfill); then SET NOT NULL, which
 * the valid check spares its scan, and the check dropped (contract).
 */
void gw_not_null_prove(struct gw_steps *out, const struct gw_dialect *d, const char *table,
		       const char *column, const char *check);
void gw_not_null_set(struct gw_steps *out, const struct gw_dialect *d, const char *table,
		     const char *column, const char *check);
void gw_drop_check_if_exists(struct gw_steps *out, const struct gw_dialect *d,
			     const char *table, const char *check);

#endif
