/*
 * Backfill: fill the new structures from the old. In this version a fill is
 * one UPDATE statement; the chunked, throttled copier replaces it later.
 */
#include <stdlib.h>

#include "godwit/buf.h"
#include "phases_int.h"

int gw_backfill_steps(const struct gw_phase_req *req, struct gw_steps *out,
		      struct gw_error *err)
{
	const struct gw_op *op = req->op;
	const struct gw_dialect *d = req->dialect;
	struct gw_assign set;
	char *where;

	switch (op->kind) {
	case GW_OP_ADD_COLUMN:
		/* Undone by expand's rollback, which drops the column. */
		if (req->undo || !op->backfill)
			return 0;
		set.column = op->column.name;
		set.expr = op->backfill;
		{
			struct gw_buf w = GW_BUF_INIT;

			d->ident(&w, op->column.name);
			gw_buf_puts(&w, " IS NULL");
			where = gw_buf_detach(&w);
		}
		gw_steps_add(out, 0, gw_update_sql(d, op->table, 1, &set, where));
		free(where);
		return 0;
	case GW_OP_UPDATE_ROWS:
		if (!req->undo) {
			gw_steps_add(out, 0, gw_update_sql(d, op->table, op->nset, op->set, op->where));
			return 0;
		}
		if (op->ndown_set) {
			gw_steps_add(out, 0, gw_update_sql(d, op->table, op->ndown_set, op->down_set,
							   op->where));
			return 0;
		}
		return gw_down_or_refuse(req, out, "the old values were overwritten", err);
	default:
		return 0;
	}
}
