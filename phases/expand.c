/*
 * Expand: add what is new alongside what is old, so that the application
 * running today keeps working. Also builds the reverse of each step.
 */
#include <stdlib.h>

#include "godwit/buf.h"
#include "phases_int.h"

static int expand_op(const struct gw_phase_req *req, struct gw_steps *out,
		     struct gw_error *err)
{
	const struct gw_op *op = req->op;
	const struct gw_dialect *d = req->dialect;
	char *aside;

	switch (op->kind) {
	case GW_OP_CREATE_TABLE:
		d->create_table(out, op);
		return 0;
	case GW_OP_DROP_TABLE:
		/* Soft delete: park the table under another name until contract. */
		aside = gw_aside_name(op->table);
		d->rename_table(out, op->table, aside);
		free(aside);
		return 0;
	case GW_OP_ADD_COLUMN:
		if (gw_add_column_defers_not_null(op)) {
			struct gw_column_def c = op->column;

			c.nullable = GW_TRUE;
			d->add_column(out, op->table, &c);
		} else {
			d->add_column(out, op->table, &op->column);
		}
		return 0;
	case GW_OP_CREATE_INDEX:
		d->create_index(out, op->table, op->name, op->nidx_columns, op->idx_columns,
				op->unique);
		return 0;
	case GW_OP_ADD_CONSTRAINT:
		return d->add_constraint(out, op->table, op->name, &op->constraint, err);
	case GW_OP_SQL:
		if (!op->phase || gw_phase_parse(op->phase) == GW_PHASE_EXPAND)
			gw_steps_add(out, op->transactional ? 0 : GW_STEP_NO_TXN,
				     gw_strdup(op->up));
		return 0;
	case GW_OP_REBUILD_TABLE:
		return gw_error_set(err, GW_ERR_UNSUPPORTED,
				    "%s: operation %d (rebuild_table): the shadow-table copier is "
				    "not available in this version",
				    req->m && req->m->path ? req->m->path : "migration", op->index);
	case GW_OP_RENAME_TABLE:
	case GW_OP_DROP_COLUMN:
	case GW_OP_RENAME_COLUMN:
	case GW_OP_ALTER_COLUMN:
	case GW_OP_DROP_INDEX:
	case GW_OP_UPDATE_ROWS:
	case GW_OP__COUNT:
		return 0;
	}
	return 0;
}

static int expand_undo(const struct gw_phase_req *req, struct gw_steps *out,
		       struct gw_error *err)
{
	const struct gw_op *op = req->op;
	const struct gw_dialect *d = req->dialect;
	char *aside;

	switch (op->kind) {
	case GW_OP_CREATE_TABLE:
		d->drop_table(out, op->table);
		return 0;
	case GW_OP_DROP_TABLE:
		aside = gw_aside_name(op->table);
		d->rename_table(out, aside, op->table);
		free(aside);
		return 0;
	case GW_OP_ADD_COLUMN:
		d->drop_column(out, op->table, op->column.name);
		return 0;
	case GW_OP_CREATE_INDEX:
		d->drop_index(out, op->table, op->name);
		return 0;
	case GW_OP_ADD_CONSTRAINT:
		d->drop_constraint(out, op->table, op->name, &op->constraint);
		return 0;
	case GW_OP_SQL:
		if (!op->phase || gw_phase_parse(op->phase) == GW_PHASE_EXPAND)
			return gw_down_or_refuse(req, out, "it runs arbitrary SQL", err);
		return 0;
	case GW_OP_REBUILD_TABLE:
	case GW_OP_RENAME_TABLE:
	case GW_OP_DROP_COLUMN:
	case GW_OP_RENAME_COLUMN:
	case GW_OP_ALTER_COLUMN:
	case GW_OP_DROP_INDEX:
	case GW_OP_UPDATE_ROWS:
	case GW_OP__COUNT:
		return 0;
	}
	return 0;
}

int gw_expand_steps(const struct gw_phase_req *req, struct gw_steps *out, struct gw_error *err)
{
	return req->undo ? expand_undo(req, out, err) : expand_op(req, out, err);
}
