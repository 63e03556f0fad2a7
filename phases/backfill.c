/*
 * Backfill: fill the new structures from the old, in keyset chunks run by
 * the copier (see include/godwit/copier.h), and prove what contract will
 * rely on (NOT NULL) while writes go on.
 */
#include <stdlib.h>

#include "godwit/buf.h"
#include "godwit/triggers.h"
#include "phases_int.h"

static int add_column(const struct gw_phase_req *req, struct gw_steps *out)
{
	const struct gw_op *op = req->op;
	const struct gw_dialect *d = req->dialect;
	bool prove = d->id == GW_DIALECT_POSTGRES && gw_add_column_defers_not_null(op);
	char *check = gw_sync_name(op->table, op->column.name, "nn");

	/* The fill is undone by expand's rollback, which drops the column. */
	if (req->undo) {
		if (prove)
			gw_drop_check_if_exists(out, d, op->table, check);
	} else {
		if (op->backfill) {
			struct gw_assign set = {op->column.name, op->backfill};
			struct gw_buf where = GW_BUF_INIT;

			d->ident(&where, op->column.name);
			gw_buf_puts(&where, " IS NULL");
			gw_steps_add_fill(out, d, op->table, 1, &set, where.data);
			gw_buf_release(&where);
		}
		if (prove)
			gw_not_null_prove(out, d, op->table, op->column.name, check);
	}
	free(check);
	return 0;
}

int gw_backfill_steps(const struct gw_phase_req *req, struct gw_steps *out,
		      struct gw_error *err)
{
	const struct gw_op *op = req->op;
	const struct gw_dialect *d = req->dialect;

	switch (op->kind) {
	case GW_OP_ADD_COLUMN:
		return add_column(req, out);
	case GW_OP_UPDATE_ROWS:
		if (!req->undo) {
			gw_steps_add_fill(out, d, op->table, op->nset, op->set, op->where);
			return 0;
		}
		if (op->ndown_set) {
			gw_steps_add_fill(out, d, op->table, op->ndown_set, op->down_set, op->where);
			return 0;
		}
		return gw_down_or_refuse(req, out, "the old values were overwritten", err);
	default:
		return 0;
	}
}
