/*
 * Contract: switch to the new structure and remove what is old. Runs after
 * the application that needs the old structure is gone.
 */
#include <stdlib.h>

#include "godwit/buf.h"
#include "godwit/triggers.h"
#include "phases_int.h"

static const char *path_of(const struct gw_phase_req *req)
{
	return req->m && req->m->path ? req->m->path : "migration";
}

static int alter_forward(const struct gw_phase_req *req, struct gw_steps *out,
			 struct gw_error *err)
{
	const struct gw_op *op = req->op;
	struct gw_alter a = {
		.table = op->table,
		.column = op->column_name,
		.type = op->type,
		.nullable = op->nullable,
		.default_expr = op->default_expr,
		.drop_default = op->drop_default,
	};

	return req->dialect->alter_column(out, &a, gw_live_column(req, op->column_name), err);
}

/* Restore the column as it was before: needs the pre-change column. */
static int alter_reverse(const struct gw_phase_req *req, struct gw_steps *out,
			 struct gw_error *err)
{
	const struct gw_op *op = req->op;
	const struct gw_column_info *was = gw_live_column(req, op->column_name);
	struct gw_column_info now;
	struct gw_alter a = {.table = op->table, .column = op->column_name, .nullable = GW_UNSET};

	if (!was) {
		gw_error_set(err, GW_ERR_NO_INVERSE,
			     "%s: operation %d (alter_column): the column as it was before is "
			     "not recorded (the migration was stamped, not run)",
			     path_of(req), op->index);
		gw_error_hint(err, "restore column '%s' by hand, then stamp the parent revision",
			      op->column_name);
		return GW_ERR_NO_INVERSE;
	}
	if (op->type)
		a.type = was->type;
	if (op->nullable != GW_UNSET)
		a.nullable = was->nullable ? GW_TRUE : GW_FALSE;
	if (op->default_expr || op->drop_default) {
		a.default_expr = was->default_expr;
		a.drop_default = !was->default_expr;
	}
	/* MySQL restates the whole column: describe it as it will be after the forward step. */
	now = *was;
	if (op->type)
		now.type = op->type;
	if (op->nullable != GW_UNSET)
		now.nullable = op->nullable == GW_TRUE;
	if (op->default_expr || op->drop_default)
		now.default_expr = op->default_expr;
	return req->dialect->alter_column(out, &a, &now, err);
}

static int contract_op(const struct gw_phase_req *req, struct gw_steps *out,
		       struct gw_error *err)
{
	const struct gw_op *op = req->op;
	const struct gw_dialect *d = req->dialect;
	char *aside;

	switch (op->kind) {
	case GW_OP_DROP_TABLE:
		aside = gw_aside_name(op->table);
		d->drop_table(out, aside);
		free(aside);
		return 0;
	case GW_OP_RENAME_TABLE:
		d->rename_table(out, op->from, op->to);
		return 0;
	case GW_OP_ADD_COLUMN:
		if (gw_add_column_defers_not_null(op) && d->id == GW_DIALECT_POSTGRES) {
			/* Backfill validated the check that spares this a scan. */
			char *check = gw_sync_name(op->table, op->column.name, "nn");

			gw_not_null_set(out, d, op->table, op->column.name, check);
			free(check);
		} else if (gw_add_column_defers_not_null(op)) {
			struct gw_alter a = {.table = op->table, .column = op->column.name,
					     .nullable = GW_FALSE};

			return d->alter_column(out, &a, gw_live_column(req, op->column.name), err);
		}
		return 0;
	case GW_OP_DROP_COLUMN:
		d->drop_column(out, op->table, op->column_name);
		return 0;
	case GW_OP_ALTER_COLUMN:
		return alter_forward(req, out, err);
	case GW_OP_DROP_INDEX:
		d->drop_index(out, op->table, op->name);
		return 0;
	case GW_OP_SQL:
		if (op->phase && gw_phase_parse(op->phase) == GW_PHASE_CONTRACT)
			gw_steps_add(out, op->transactional ? 0 : GW_STEP_NO_TXN,
				     gw_strdup(op->up));
		return 0;
	default:
		return 0;
	}
}

static int contract_undo(const struct gw_phase_req *req, struct gw_steps *out,
			 struct gw_error *err)
{
	const struct gw_op *op = req->op;
	const struct gw_dialect *d = req->dialect;
	const struct gw_index_info *idx;

	switch (op->kind) {
	case GW_OP_DROP_TABLE:
		return gw_down_or_refuse(req, out, "the table and its rows were dropped", err);
	case GW_OP_RENAME_TABLE:
		d->rename_table(out, op->to, op->from);
		return 0;
	case GW_OP_ADD_COLUMN:
		if (gw_add_column_defers_not_null(op)) {
			const struct gw_column_info *was = gw_live_column(req, op->column.name);
			struct gw_column_info now;
			struct gw_alter a = {.table = op->table, .column = op->column.name,
					     .nullable = GW_TRUE};

			if (was) {
				now = *was;
				now.nullable = false;
			}
			return d->alter_column(out, &a, was ? &now : NULL, err);
		}
		return 0;
	case GW_OP_DROP_COLUMN:
		return gw_down_or_refuse(req, out, "the column and its data were dropped", err);
	case GW_OP_ALTER_COLUMN:
		return alter_reverse(req, out, err);
	case GW_OP_DROP_INDEX:
		idx = req->live ? gw_table_info_index(req->live, op->name) : NULL;
		if (idx) {
			d->create_index(out, op->table, op->name, idx->ncolumns, idx->columns,
					idx->unique);
			return 0;
		}
		if (op->nidx_columns) {
			d->create_index(out, op->table, op->name, op->nidx_columns, op->idx_columns,
					op->unique);
			return 0;
		}
		return gw_down_or_refuse(req, out, "its columns are not known", err);
	case GW_OP_SQL:
		if (op->phase && gw_phase_parse(op->phase) == GW_PHASE_CONTRACT)
			return gw_down_or_refuse(req, out, "it runs arbitrary SQL", err);
		return 0;
	default:
		return 0;
	}
}

int gw_contract_steps(const struct gw_phase_req *req, struct gw_steps *out,
		      struct gw_error *err)
{
	return req->undo ? contract_undo(req, out, err) : contract_op(req, out, err);
}
