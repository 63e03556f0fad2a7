/*
 * Column changes in place, without copying the table: rename_column, and
 * alter_column with an "up" conversion.
 *
 *   expand:   add the new column (nullable, no default) and the triggers
 *             that keep old and new in sync both ways;
 *   backfill: fill the new column in keyset chunks; build copies of the
 *             old column's indexes on the new one; prove NOT NULL with a
 *             validated check (PostgreSQL);
 *   contract: drop the triggers and the old column, give the new column
 *             the old one's name (alter_column), its indexes' names, its
 *             default and NOT NULL.
 *
 * Objects godwit adds are all named "_gw_...", so a rollback can be shown
 * to leave nothing behind.
 */
#include <stdlib.h>
#include <string.h>

#include "godwit/buf.h"
#include "godwit/triggers.h"
#include "phases_int.h"

struct change {
	const char *table;
	const char *old_col;
	char *new_col;                       /* owned */
	const char *type;                    /* of the new column */
	const char *up, *down;
	const struct gw_column_info *was;    /* the old column now, NULL offline */
	bool not_null;                       /* final */
	const char *default_expr;            /* final, NULL for none */
};

bool gw_inplace(const struct gw_op *op)
{
	return op->kind == GW_OP_RENAME_COLUMN || (op->kind == GW_OP_ALTER_COLUMN && op->up);
}

static void change_init(struct change *c, const struct gw_phase_req *req)
{
	const struct gw_op *op = req->op;

	memset(c, 0, sizeof(*c));
	c->table = op->table;
	if (op->kind == GW_OP_RENAME_COLUMN) {
		c->old_col = op->from;
		c->new_col = gw_strdup(op->to);
	} else {
		c->old_col = op->column_name;
		c->new_col = gw_asprintf("_gw_new_%.*s", gw_utf8_prefix(op->column_name, 55), op->column_name);
		c->up = op->up;
		c->down = op->down;
		c->type = op->type;
	}
	c->was = gw_live_column(req, c->old_col);
	if (!c->type)
		c->type = c->was ? c->was->type : "/* type of the old column */";
	c->not_null = c->was && !c->was->nullable;
	c->default_expr = c->was ? c->was->default_expr : NULL;
	if (op->kind == GW_OP_ALTER_COLUMN) {
		if (op->nullable != GW_UNSET)
			c->not_null = op->nullable == GW_FALSE;
		if (op->default_expr || op->drop_default)
			c->default_expr = op->default_expr;
	}
}

static struct gw_sync sync_of(const struct change *c, const struct gw_phase_req *req)
{
	struct gw_sync s = {c->table, c->old_col, c->new_col, c->up, c->down, c->type, req->live};

	return s;
}

static char *index_copy_name(const char *index)
{
	return gw_asprintf("_gw_new_%.*s", gw_utf8_prefix(index, 55), index);
}

static char *check_name(const struct change *c)
{
	return gw_sync_name(c->table, c->old_col, "nn");
}

static const char *path_of(const struct gw_phase_req *req)
{
	return req->m && req->m->path ? req->m->path : "migration";
}

static bool names_column(size_t n, char *const *cols, const char *col)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(cols[i], col) == 0)
			return true;
	return false;
}

/* True for an index of the old column that the new one gets a copy of. */
static bool copied(const struct gw_index_info *ix, const struct change *c)
{
	return !ix->primary && names_column(ix->ncolumns, ix->columns, c->old_col);
}

/* What in place cannot do safely: refused before anything changes. */
static int refuse(const struct gw_phase_req *req, const struct change *c, struct gw_error *err)
{
	const struct gw_table_info *t = req->live;
	const char *why = NULL;

	if (!t)
		return 0;
	if (!c->was)
		why = "it does not exist";
	else if (gw_table_info_column(t, c->new_col))
		why = "the new column already exists";
	else if (names_column(t->npk, t->pk, c->old_col))
		why = "it is part of the primary key";
	else if (c->was->generated)
		why = "it is a generated column";
	else if (c->was->autoincrement)
		why = "it is an auto-increment or identity column";
	for (size_t i = 0; !why && i < t->nfk_out; i++)
		if (names_column(t->fk_out[i].ncolumns, t->fk_out[i].columns, c->old_col))
			why = "a foreign key uses it";
	for (size_t i = 0; !why && i < t->nfk_in; i++)
		if (names_column(t->fk_in[i].ncolumns, t->fk_in[i].ref_columns, c->old_col))
			why = "a foreign key of another table references it";
	for (size_t i = 0; !why && i < t->nindexes; i++) {
		const struct gw_index_info *ix = &t->indexes[i];

		if (!names_column(ix->ncolumns, ix->columns, c->old_col))
			continue;
		for (size_t k = 0; k < ix->ncolumns; k++)
			if (!gw_table_info_column(t, ix->columns[k]))
				why = "an expression index uses it";
	}
	if (!why)
		return 0;
	gw_error_set(err, GW_ERR_UNSUPPORTED,
		     "%s: operation %d (%s): column '%s.%s' cannot be changed in place: %s",
		     path_of(req), req->op->index, gw_op_kind_name(req->op->kind), c->table,
		     c->old_col, why);
	gw_error_hint(err, "use rebuild_table (a shadow-table copy) for this change");
	return GW_ERR_UNSUPPORTED;
}

static void drop_column_if_exists(struct gw_steps *out, const struct gw_dialect *d,
				  const char *table, const char *col)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_alter_table_prefix(&b, d, table);
	gw_buf_puts(&b, "DROP COLUMN IF EXISTS ");
	d->ident(&b, col);
	gw_steps_add(out, 0, gw_buf_detach(&b));
}

static int expand(const struct gw_phase_req *req, const struct change *c, struct gw_steps *out,
		  struct gw_error *err)
{
	const struct gw_dialect *d = req->dialect;
	struct gw_sync s = sync_of(c, req);
	struct gw_column_def def = {.name = c->new_col, .type = (char *)c->type,
				    .nullable = GW_TRUE};
	int rc;

	if (req->undo) {
		gw_sync_drop(out, d, &s);
		drop_column_if_exists(out, d, c->table, c->new_col);
		return 0;
	}
	rc = refuse(req, c, err);
	if (rc < 0)
		return rc;
	d->add_column(out, c->table, &def);
	gw_sync_create(out, d, &s);
	return 0;
}

/* Indexes of the live table that use the old column (not the primary key). */
static void each_index(const struct gw_phase_req *req, const struct change *c,
		       void (*fn)(struct gw_steps *, const struct gw_dialect *,
				  const struct change *, const struct gw_index_info *),
		       struct gw_steps *out)
{
	for (size_t i = 0; req->live && i < req->live->nindexes; i++) {
		const struct gw_index_info *ix = &req->live->indexes[i];

		if (copied(ix, c))
			fn(out, req->dialect, c, ix);
	}
}

static void index_copy(struct gw_steps *out, const struct gw_dialect *d, const struct change *c,
		       const struct gw_index_info *ix)
{
	char *name = index_copy_name(ix->name);
	char **cols = gw_calloc(ix->ncolumns, sizeof(char *));

	for (size_t k = 0; k < ix->ncolumns; k++)
		cols[k] = strcmp(ix->columns[k], c->old_col) == 0 ? c->new_col : ix->columns[k];
	/* An invalid index left by a failed concurrent build is dropped first. */
	d->drop_index(out, c->table, name);
	d->create_index(out, c->table, name, ix->ncolumns, cols, ix->unique);
	free(cols);
	free(name);
}

static void index_copy_drop(struct gw_steps *out, const struct gw_dialect *d,
			    const struct change *c, const struct gw_index_info *ix)
{
	char *name = index_copy_name(ix->name);

	d->drop_index(out, c->table, name);
	free(name);
}

static int backfill(const struct gw_phase_req *req, const struct change *c,
		    struct gw_steps *out)
{
	const struct gw_dialect *d = req->dialect;
	bool pg = d->id == GW_DIALECT_POSTGRES;
	char *check = check_name(c);

	if (req->undo) {
		if (pg && c->not_null)
			gw_drop_check_if_exists(out, d, c->table, check);
		each_index(req, c, index_copy_drop, out);
		goto out;
	}
	{
		struct gw_assign set = {c->new_col, (char *)(c->up ? c->up : "")};
		struct gw_buf src = GW_BUF_INIT, where = GW_BUF_INIT;

		if (!c->up) {
			d->ident(&src, c->old_col);
			set.expr = src.data;
		}
		d->ident(&where, c->new_col);
		gw_buf_puts(&where, " IS NULL");
		gw_steps_add_fill(out, d, c->table, 1, &set, where.data);
		gw_buf_release(&src);
		gw_buf_release(&where);
	}
	each_index(req, c, index_copy, out);
	/* NOT NULL proven now by a check validated without blocking writes. */
	if (pg && c->not_null)
		gw_not_null_prove(out, d, c->table, c->new_col, check);
out:
	free(check);
	return 0;
}

static void index_rename(struct gw_buf *b, const struct gw_dialect *d, const char *from,
			 const char *to)
{
	if (d->id == GW_DIALECT_POSTGRES) {
		gw_buf_puts(b, "ALTER INDEX ");
		d->ident(b, from);
		gw_buf_puts(b, " RENAME TO ");
	} else {
		gw_buf_puts(b, "RENAME INDEX ");
		d->ident(b, from);
		gw_buf_puts(b, " TO ");
	}
	d->ident(b, to);
}

/*
 * MariaDB/MySQL run DDL outside transactions: for a rename, which cannot
 * run twice, the query a resumed run asks whether it went through (the
 * name it renames is gone). PostgreSQL needs none: its DDL commits with
 * the checkpoint.
 */
static void done_when_gone(struct gw_steps *out, const struct gw_dialect *d, const char *table,
			   const char *name, bool index)
{
	struct gw_buf b = GW_BUF_INIT;

	if (d->id == GW_DIALECT_POSTGRES)
		return;
	gw_buf_printf(&b, "SELECT COUNT(*) = 0 FROM information_schema.%s WHERE "
			  "table_schema = DATABASE() AND table_name = ",
		      index ? "statistics" : "columns");
	d->literal(&b, table);
	gw_buf_printf(&b, " AND %s = ", index ? "index_name" : "column_name");
	d->literal(&b, name);
	out->v[out->n - 1].done_if = gw_buf_detach(&b);
}

/* PostgreSQL: one transaction of short statements. */
static void contract_pg(const struct gw_phase_req *req, const struct change *c,
			struct gw_steps *out)
{
	const struct gw_dialect *d = req->dialect;
	struct gw_sync s = sync_of(c, req);
	const char *final = req->op->kind == GW_OP_RENAME_COLUMN ? c->new_col : c->old_col;
	struct gw_buf b = GW_BUF_INIT;
	char *check = check_name(c);

	gw_sync_drop(out, d, &s);
	gw_alter_table_prefix(&b, d, c->table);
	gw_buf_puts(&b, "DROP COLUMN ");
	d->ident(&b, c->old_col);
	gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
	if (req->op->kind == GW_OP_ALTER_COLUMN) {
		gw_alter_table_prefix(&b, d, c->table);
		gw_buf_puts(&b, "RENAME COLUMN ");
		d->ident(&b, c->new_col);
		gw_buf_puts(&b, " TO ");
		d->ident(&b, c->old_col);
		gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
	}
	for (size_t i = 0; req->live && i < req->live->nindexes; i++) {
		const struct gw_index_info *ix = &req->live->indexes[i];
		char *copy;

		if (!copied(ix, c))
			continue;
		copy = index_copy_name(ix->name);
		index_rename(&b, d, copy, ix->name);
		gw_steps_add(out, 0, gw_buf_detach(&b));
		free(copy);
	}
	if (c->default_expr) {
		gw_alter_table_prefix(&b, d, c->table);
		gw_buf_puts(&b, "ALTER COLUMN ");
		d->ident(&b, final);
		gw_buf_printf(&b, " SET DEFAULT %s", c->default_expr);
		gw_steps_add(out, 0, gw_buf_detach(&b));
	}
	if (c->not_null)
		gw_not_null_set(out, d, c->table, final, check);
	free(check);
}

/* MariaDB/MySQL: " FIRST" or " AFTER prev", where col is in t (nothing if absent). */
static void put_position(struct gw_buf *b, const struct gw_dialect *d,
			 const struct gw_table_info *t, const char *col)
{
	for (size_t i = 0; t && i < t->ncolumns; i++) {
		if (strcmp(t->columns[i].name, col) != 0)
			continue;
		if (i == 0) {
			gw_buf_puts(b, " FIRST");
		} else {
			gw_buf_puts(b, " AFTER ");
			d->ident(b, t->columns[i - 1].name);
		}
	}
}

static void set_column(struct gw_steps *out, const struct gw_dialect *d, const char *table,
		       const char *col, const char *type, bool not_null, const char *def,
		       const char *check)
{
	struct gw_buf b = GW_BUF_INIT;

	if (d->id == GW_DIALECT_POSTGRES) {
		gw_alter_table_prefix(&b, d, table);
		gw_buf_puts(&b, "ALTER COLUMN ");
		d->ident(&b, col);
		if (def)
			gw_buf_printf(&b, " SET DEFAULT %s", def);
		else
			gw_buf_puts(&b, " DROP DEFAULT");
		if (!not_null) {
			gw_buf_puts(&b, ", ALTER COLUMN ");
			d->ident(&b, col);
			gw_buf_puts(&b, " DROP NOT NULL");
		}
		gw_steps_add(out, 0, gw_buf_detach(&b));
		if (not_null)
			gw_not_null_prove(out, d, table, col, check);
		if (not_null)
			gw_not_null_set(out, d, table, col, check);
		return;
	}
	gw_alter_table_prefix(&b, d, table);
	gw_buf_puts(&b, "MODIFY COLUMN ");
	d->ident(&b, col);
	gw_buf_printf(&b, " %s %s", type, not_null ? "NOT NULL" : "NULL");
	if (def)
		gw_buf_printf(&b, " DEFAULT %s", def);
	gw_buf_puts(&b, ", LOCK=NONE");
	gw_steps_add(out, 0, gw_buf_detach(&b));
}

/*
 * MariaDB/MySQL cannot drop triggers and columns in one transaction, so
 * writes are blocked (LOCK TABLES) while the triggers go and one ALTER
 * drops the old column and its indexes and gives the new one its name,
 * position and default: metadata changes, over in milliseconds. The index
 * copies take the old names in the same lock; NOT NULL, which may rebuild
 * the table, follows with LOCK=NONE once writes flow again.
 */
static void contract_mysql(const struct gw_phase_req *req, const struct change *c,
			   struct gw_steps *out)
{
	const struct gw_dialect *d = req->dialect;
	struct gw_sync s = sync_of(c, req);
	const char *final = req->op->kind == GW_OP_RENAME_COLUMN ? c->new_col : c->old_col;
	struct gw_buf b = GW_BUF_INIT, ren = GW_BUF_INIT;
	struct gw_steps drops = GW_STEPS_INIT;
	size_t first;

	gw_buf_puts(&b, "LOCK TABLES ");
	d->ident(&b, c->table);
	gw_buf_puts(&b, " WRITE");
	first = out->n;
	gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
	gw_sync_drop(&drops, d, &s);
	gw_steps_append(out, &drops);

	gw_alter_table_prefix(&b, d, c->table);
	for (size_t i = 0; req->live && i < req->live->nindexes; i++) {
		const struct gw_index_info *ix = &req->live->indexes[i];
		char *copy;

		if (!copied(ix, c))
			continue;
		gw_buf_puts(&b, "DROP INDEX ");
		d->ident(&b, ix->name);
		gw_buf_puts(&b, ", ");
		copy = index_copy_name(ix->name);
		gw_buf_puts(&ren, ", ");
		index_rename(&ren, d, copy, ix->name);
		free(copy);
	}
	gw_buf_puts(&b, "DROP COLUMN ");
	d->ident(&b, c->old_col);
	gw_buf_puts(&b, ", CHANGE COLUMN ");
	d->ident(&b, c->new_col);
	gw_buf_putc(&b, ' ');
	d->ident(&b, final);
	gw_buf_printf(&b, " %s NULL", c->type);
	if (c->default_expr)
		gw_buf_printf(&b, " DEFAULT %s", c->default_expr);
	put_position(&b, d, req->live, c->old_col);
	gw_buf_put(&b, ren.data, ren.len);
	/* Refused, rather than a table copy while everyone waits. */
	gw_buf_puts(&b, ", ALGORITHM=NOCOPY");
	gw_steps_add(out, 0, gw_buf_detach(&b));
	/* it drops the old column, or gives the new one's temporary name up */
	done_when_gone(out, d, c->table,
		       req->op->kind == GW_OP_RENAME_COLUMN ? c->old_col : c->new_col, false);
	gw_steps_add(out, 0, gw_strdup("UNLOCK TABLES"));
	for (size_t i = first; i < out->n; i++)
		out->v[i].flags |= GW_STEP_LOCKED;
	if (c->not_null)
		set_column(out, d, c->table, final, c->type, true, c->default_expr, NULL);
	gw_buf_release(&ren);
}

/*
 * Back to the state after backfill: the old column re-added and refilled
 * from the new one through the triggers' down rule, its indexes, default
 * and NOT NULL restored; the new column as it was in the window. Built
 * from the table as it is before contract.
 */
static int contract_undo(const struct gw_phase_req *req, const struct change *c,
			 struct gw_steps *out, struct gw_error *err)
{
	const struct gw_dialect *d = req->dialect;
	struct gw_sync s = sync_of(c, req);
	struct gw_column_def def = {.name = (char *)c->old_col, .nullable = GW_TRUE};
	struct gw_buf set = GW_BUF_INIT, where = GW_BUF_INIT;
	char *check = check_name(c);

	if (!c->was) {
		free(check);
		gw_error_set(err, GW_ERR_NO_INVERSE,
			     "%s: operation %d (%s): the column as it was before contract is not "
			     "recorded (the migration was stamped, not run)",
			     path_of(req), req->op->index, gw_op_kind_name(req->op->kind));
		gw_error_hint(err, "restore column '%s' by hand, then stamp the parent revision",
			      c->old_col);
		return GW_ERR_NO_INVERSE;
	}
	def.type = c->was->type;
	if (req->op->kind == GW_OP_ALTER_COLUMN) {
		d->rename_column(out, c->table, c->old_col, c->new_col, NULL);
		done_when_gone(out, d, c->table, c->old_col, false);
	}
	if (d->id == GW_DIALECT_POSTGRES) {
		d->add_column(out, c->table, &def);
	} else {
		struct gw_buf b = GW_BUF_INIT;

		gw_alter_table_prefix(&b, d, c->table);
		gw_buf_puts(&b, "ADD COLUMN ");
		d->ident(&b, c->old_col);
		gw_buf_printf(&b, " %s NULL", c->was->type);
		put_position(&b, d, req->live, c->old_col);
		gw_steps_add(out, 0, gw_buf_detach(&b));
	}
	if (c->not_null || c->default_expr)
		set_column(out, d, c->table, c->new_col, c->type, false, NULL, check);
	gw_sync_create(out, d, &s);
	for (size_t i = 0; i < req->live->nindexes; i++) {
		const struct gw_index_info *ix = &req->live->indexes[i];
		char *copy;
		struct gw_buf b = GW_BUF_INIT;

		if (!copied(ix, c))
			continue;
		copy = index_copy_name(ix->name);
		if (d->id == GW_DIALECT_POSTGRES) {
			index_rename(&b, d, ix->name, copy);
		} else {
			gw_alter_table_prefix(&b, d, c->table);
			index_rename(&b, d, ix->name, copy);
			gw_buf_puts(&b, ", LOCK=NONE");
		}
		gw_steps_add(out, 0, gw_buf_detach(&b));
		done_when_gone(out, d, c->table, ix->name, true);
		free(copy);
	}
	d->ident(&set, c->new_col);
	gw_buf_puts(&set, " = ");
	d->ident(&set, c->new_col);
	d->ident(&where, c->old_col);
	gw_buf_puts(&where, " IS NULL");
	gw_steps_add_fill_raw(out, d, c->table, set.data, where.data, "down");
	for (size_t i = 0; i < req->live->nindexes; i++) {
		const struct gw_index_info *ix = &req->live->indexes[i];

		if (!copied(ix, c))
			continue;
		d->drop_index(out, c->table, ix->name);
		d->create_index(out, c->table, ix->name, ix->ncolumns, ix->columns, ix->unique);
	}
	if (!c->was->nullable || c->was->default_expr)
		set_column(out, d, c->table, c->old_col, c->was->type, !c->was->nullable,
			   c->was->default_expr, check);
	gw_buf_release(&set);
	gw_buf_release(&where);
	free(check);
	return 0;
}

static int contract(const struct gw_phase_req *req, const struct change *c,
		    struct gw_steps *out, struct gw_error *err)
{
	if (req->undo)
		return contract_undo(req, c, out, err);
	if (req->dialect->id == GW_DIALECT_POSTGRES)
		contract_pg(req, c, out);
	else
		contract_mysql(req, c, out);
	return 0;
}

int gw_inplace_steps(const struct gw_phase_req *req, struct gw_steps *out, struct gw_error *err)
{
	struct change c;
	int rc = 0;

	change_init(&c, req);
	switch (req->phase) {
	case GW_PHASE_EXPAND:
		rc = expand(req, &c, out, err);
		break;
	case GW_PHASE_BACKFILL:
		rc = backfill(req, &c, out);
		break;
	case GW_PHASE_CONTRACT:
		rc = contract(req, &c, out, err);
		break;
	}
	free(c.new_col);
	return rc;
}
