/*
 * MariaDB/MySQL dialect: how godwit spells identifiers, literals and the
 * DDL of each operation for MariaDB 10.5+ and MySQL 8.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "godwit/dialect.h"
#include "godwit/driver.h"

/* Column comment of a MODIFY built without the live column (offline plan). */
#define RESTATED_AT_RUN_TIME "/* nullability and default restated from the live column at run time */"

static void ident(struct gw_buf *b, const char *name)
{
	const char *p;

	gw_assert(name != NULL);
	gw_buf_putc(b, '`');
	for (p = name; *p; p++) {
		if (*p == '`')
			gw_buf_putc(b, '`');
		gw_buf_putc(b, *p);
	}
	gw_buf_putc(b, '`');
}

/* A NULL string is the NULL literal. */
static void literal(struct gw_buf *b, const char *s)
{
	const char *p;

	if (!s) {
		gw_buf_puts(b, "NULL");
		return;
	}
	gw_buf_putc(b, '\'');
	for (p = s; *p; p++) {
		if (*p == '\'' || *p == '\\')
			gw_buf_putc(b, *p);
		gw_buf_putc(b, *p);
	}
	gw_buf_putc(b, '\'');
}

static void add_step(struct gw_steps *out, unsigned flags, struct gw_buf *b)
{
	gw_steps_add(out, flags, gw_buf_detach(b));
}

static void alter_table(struct gw_buf *b, const char *table)
{
	gw_buf_puts(b, "ALTER TABLE ");
	ident(b, table);
	gw_buf_putc(b, ' ');
}

static void ident_list(struct gw_buf *b, size_t n, char *const *names)
{
	gw_buf_putc(b, '(');
	gw_sql_ident_list(b, &gw_dialect_mysql, n, names);
	gw_buf_putc(b, ')');
}

/*
 * "name TYPE [NOT NULL] [DEFAULT d] [AUTO_INCREMENT]". unique and
 * primary_key are table-level matters, left to the caller.
 */
static void column_def(struct gw_buf *b, const struct gw_column_def *c, bool not_null)
{
	ident(b, c->name);
	gw_buf_putc(b, ' ');
	gw_buf_puts(b, c->type);
	if (not_null || c->nullable == GW_FALSE || c->autoincrement)
		gw_buf_puts(b, " NOT NULL");
	if (c->default_expr)
		gw_buf_printf(b, " DEFAULT %s", c->default_expr);
	if (c->autoincrement)
		gw_buf_puts(b, " AUTO_INCREMENT");
}

static bool name_in(char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/*
 * The primary key: the table-level list in its order, then any column
 * flagged primary_key that the list lacks, in column order. New array of
 * borrowed names; caller frees the array.
 */
static char **primary_key(const struct gw_op *op, size_t *npk)
{
	char **pk = gw_calloc(op->npk + op->ncolumns + 1, sizeof(*pk));
	size_t i, n = 0;

	for (i = 0; i < op->npk; i++)
		if (!name_in(pk, n, op->pk[i]))
			pk[n++] = op->pk[i];
	for (i = 0; i < op->ncolumns; i++)
		if (op->columns[i].primary_key && !name_in(pk, n, op->columns[i].name))
			pk[n++] = op->columns[i].name;
	*npk = n;
	return pk;
}

/*
 * The table's indexes follow as plain CREATE INDEX: nobody uses the table
 * yet, so there is nothing to build online for.
 */
static void create_table(struct gw_steps *out, const struct gw_op *op)
{
	struct gw_buf b = GW_BUF_INIT;
	size_t npk = 0, i;
	char **pk = primary_key(op, &npk);

	gw_buf_puts(&b, "CREATE TABLE ");
	ident(&b, op->table);
	gw_buf_puts(&b, " (");
	for (i = 0; i < op->ncolumns; i++) {
		const struct gw_column_def *c = &op->columns[i];

		if (i > 0)
			gw_buf_puts(&b, ", ");
		column_def(&b, c, name_in(pk, npk, c->name));
	}
	if (npk > 0) {
		gw_buf_puts(&b, ", PRIMARY KEY ");
		ident_list(&b, npk, pk);
	}
	for (i = 0; i < op->ncolumns; i++) {
		if (!op->columns[i].unique)
			continue;
		gw_buf_puts(&b, ", UNIQUE (");
		ident(&b, op->columns[i].name);
		gw_buf_putc(&b, ')');
	}
	gw_buf_putc(&b, ')');
	add_step(out, 0, &b);

	for (i = 0; i < op->nindexes; i++) {
		const struct gw_index_def *x = &op->indexes[i];

		gw_buf_puts(&b, x->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
		ident(&b, x->name);
		gw_buf_puts(&b, " ON ");
		ident(&b, op->table);
		gw_buf_putc(&b, ' ');
		ident_list(&b, x->ncolumns, x->columns);
		add_step(out, 0, &b);
	}
	free(pk);
}

static void drop_table(struct gw_steps *out, const char *table)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "DROP TABLE ");
	ident(&b, table);
	add_step(out, 0, &b);
}

static void rename_table(struct gw_steps *out, const char *from, const char *to)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "RENAME TABLE ");
	ident(&b, from);
	gw_buf_puts(&b, " TO ");
	ident(&b, to);
	add_step(out, 0, &b);
}

/* unique and primary_key of c are ignored: the phase adds those online. */
static void add_column(struct gw_steps *out, const char *table, const struct gw_column_def *c)
{
	struct gw_buf b = GW_BUF_INIT;

	alter_table(&b, table);
	gw_buf_puts(&b, "ADD COLUMN ");
	column_def(&b, c, false);
	add_step(out, 0, &b);
}

static void drop_column(struct gw_steps *out, const char *table, const char *column)
{
	struct gw_buf b = GW_BUF_INIT;

	alter_table(&b, table);
	gw_buf_puts(&b, "DROP COLUMN ");
	ident(&b, column);
	add_step(out, 0, &b);
}

/* RENAME COLUMN needs MariaDB 10.5+ or MySQL 8; live is not needed then. */
static void rename_column(struct gw_steps *out, const char *table, const char *from,
			  const char *to, const struct gw_column_info *live)
{
	struct gw_buf b = GW_BUF_INIT;

	(void)live;
	alter_table(&b, table);
	gw_buf_puts(&b, "RENAME COLUMN ");
	ident(&b, from);
	gw_buf_puts(&b, " TO ");
	ident(&b, to);
	add_step(out, 0, &b);
}

/*
 * The column attributes after the name in MODIFY/CHANGE, which forget
 * whatever they do not restate: what a changes, the rest from live. MariaDB
 * reports "no default" of a nullable column as the text NULL, which must
 * not become DEFAULT NULL on a column turning NOT NULL.
 */
static void restate(struct gw_buf *b, const char *type, const struct gw_alter *a,
		    const struct gw_column_info *live)
{
	const char *def = NULL;
	bool not_null = false;

	if (a->nullable != GW_UNSET)
		not_null = a->nullable == GW_FALSE;
	else if (live)
		not_null = !live->nullable;
	if (a->default_expr)
		def = a->default_expr;
	else if (!a->drop_default && live && live->default_expr &&
		 strcasecmp(live->default_expr, "NULL") != 0)
		def = live->default_expr;

	gw_buf_puts(b, type);
	if (not_null)
		gw_buf_puts(b, " NOT NULL");
	if (def)
		gw_buf_printf(b, " DEFAULT %s", def);
	if (live && live->autoincrement)
		gw_buf_puts(b, " AUTO_INCREMENT");
	if (!live)
		gw_buf_puts(b, " " RESTATED_AT_RUN_TIME);
}

/*
 * MODIFY restates the whole column, so every attribute not changed comes
 * from live; offline the statement says so in a comment. Conversions with
 * an expression are done in place by phases/inplace.c, not here.
 */
static int alter_column(struct gw_steps *out, const struct gw_alter *a,
			const struct gw_column_info *live, struct gw_error *err)
{
	struct gw_buf b = GW_BUF_INIT;
	const char *type;
	unsigned flags = 0;
	int rc = 0;

	if (!a->type && a->nullable == GW_UNSET && !a->default_expr &&
	    !a->drop_default) {
		rc = gw_error_set(err, GW_ERR_INPUT, "could not alter column '%s.%s': nothing to change",
				  a->table, a->column);
		goto out;
	}
	if (a->default_expr && a->drop_default) {
		rc = gw_error_set(err, GW_ERR_INPUT,
				  "could not alter column '%s.%s': both sets and drops the default",
				  a->table, a->column);
		goto out;
	}
	if (live && live->generated) {
		rc = gw_error_set(err, GW_ERR_UNSUPPORTED,
				  "could not alter column '%s.%s': it is a generated column",
				  a->table, a->column);
		gw_error_hint(err, "use rebuild_table with the full column definition");
		goto out;
	}
	type = a->type ? a->type : live ? live->type : "/* current type */";
	if (a->type && (!live || strcasecmp(a->type, live->type) != 0))
		flags |= GW_STEP_MAY_BLOCK;

	alter_table(&b, a->table);
	gw_buf_puts(&b, "MODIFY COLUMN ");
	ident(&b, a->column);
	gw_buf_putc(&b, ' ');
	restate(&b, type, a, live);
	add_step(out, flags, &b);
out:
	gw_buf_release(&b);
	return rc;
}

static void create_index(struct gw_steps *out, const char *table, const char *name,
			 size_t ncols, char *const *cols, bool unique)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
	ident(&b, name);
	gw_buf_puts(&b, " ON ");
	ident(&b, table);
	gw_buf_putc(&b, ' ');
	ident_list(&b, ncols, cols);
	gw_buf_puts(&b, " ALGORITHM=INPLACE LOCK=NONE");
	add_step(out, 0, &b);
}

static void drop_index(struct gw_steps *out, const char *table, const char *name)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "DROP INDEX IF EXISTS ");
	ident(&b, name);
	gw_buf_puts(&b, " ON ");
	ident(&b, table);
	add_step(out, 0, &b);
}

/* The canonical spelling of an ON DELETE action, NULL if unknown. */
static const char *on_delete_action(const char *s)
{
	static const char *const actions[] = {"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT",
					      "NO ACTION"};
	size_t i;

	for (i = 0; i < GW_ARRAY_SIZE(actions); i++)
		if (strcasecmp(s, actions[i]) == 0)
			return actions[i];
	return NULL;
}

/* Checks what each kind needs; fills err and returns its code if not. */
static int check_constraint(const char *table, const char *name,
			    const struct gw_constraint_def *c, struct gw_error *err)
{
	const char *what = NULL, *action;

	if (!name)
		return gw_error_set(err, GW_ERR_INPUT,
				    "could not add constraint to '%s': it has no name", table);
	switch (c->kind) {
	case GW_CONSTRAINT_CHECK:
		if (!c->check)
			what = "check has no expression";
		break;
	case GW_CONSTRAINT_FOREIGN_KEY:
		if (c->ncolumns == 0)
			what = "foreign key has no columns";
		else if (!c->ref_table)
			what = "foreign key has no referenced table";
		else if (c->nref_columns != c->ncolumns)
			what = "foreign key needs as many referenced columns as columns";
		break;
	case GW_CONSTRAINT_UNIQUE:
		if (c->ncolumns == 0)
			what = "unique constraint has no columns";
		break;
	case GW_CONSTRAINT_NOT_NULL:
		gw_error_set(err, GW_ERR_UNSUPPORTED,
			     "could not add constraint '%s' to '%s': not_null constraints are not "
			     "supported on mysql",
			     name, table);
		gw_error_hint(err, "use alter_column with \"nullable\": false");
		return GW_ERR_UNSUPPORTED;
	default:
		GW_BUG("unknown constraint kind");
	}
	if (what)
		return gw_error_set(err, GW_ERR_INPUT, "could not add constraint '%s' to '%s': %s",
				    name, table, what);
	if (c->kind != GW_CONSTRAINT_FOREIGN_KEY || !c->on_delete)
		return 0;
	action = on_delete_action(c->on_delete);
	if (!action) {
		gw_error_set(err, GW_ERR_INPUT,
			     "could not add constraint '%s' to '%s': unknown on_delete action '%s'",
			     name, table, c->on_delete);
		gw_error_hint(err, "use CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION");
		return GW_ERR_INPUT;
	}
	/* InnoDB parses SET DEFAULT and then refuses the table: refuse it before anything runs. */
	if (strcmp(action, "SET DEFAULT") == 0)
		return gw_error_set(err, GW_ERR_UNSUPPORTED,
				    "could not add constraint '%s' to '%s': on_delete SET DEFAULT is "
				    "not supported by InnoDB",
				    name, table);
	return 0;
}

/*
 * CHECK and FOREIGN KEY copy the table (MySQL has no INPLACE way to add
 * them while checks are on), hence MAY_BLOCK; UNIQUE builds in place.
 */
static int add_constraint(struct gw_steps *out, const char *table, const char *name,
			  const struct gw_constraint_def *c, struct gw_error *err)
{
	struct gw_buf b = GW_BUF_INIT;
	unsigned flags = GW_STEP_MAY_BLOCK;
	int rc;

	rc = check_constraint(table, name, c, err);
	if (rc < 0)
		goto out;
	alter_table(&b, table);
	gw_buf_puts(&b, "ADD CONSTRAINT ");
	ident(&b, name);
	switch (c->kind) {
	case GW_CONSTRAINT_CHECK:
		gw_buf_printf(&b, " CHECK (%s)", c->check);
		break;
	case GW_CONSTRAINT_FOREIGN_KEY:
		gw_buf_puts(&b, " FOREIGN KEY ");
		ident_list(&b, c->ncolumns, c->columns);
		gw_buf_puts(&b, " REFERENCES ");
		ident(&b, c->ref_table);
		gw_buf_putc(&b, ' ');
		ident_list(&b, c->nref_columns, c->ref_columns);
		if (c->on_delete)
			gw_buf_printf(&b, " ON DELETE %s", on_delete_action(c->on_delete));
		break;
	case GW_CONSTRAINT_UNIQUE:
		gw_buf_puts(&b, " UNIQUE ");
		ident_list(&b, c->ncolumns, c->columns);
		flags = 0;
		break;
	default:
		GW_BUG("constraint kind not checked");
	}
	add_step(out, flags, &b);
out:
	gw_buf_release(&b);
	return rc;
}

/* NOT NULL is never added on MySQL (add_constraint refuses it): nothing to undo. */
static void drop_constraint(struct gw_steps *out, const char *table, const char *name,
			    const struct gw_constraint_def *c)
{
	struct gw_buf b = GW_BUF_INIT;

	switch (c->kind) {
	case GW_CONSTRAINT_CHECK:
		alter_table(&b, table);
		gw_buf_puts(&b, "DROP CONSTRAINT ");
		ident(&b, name);
		break;
	case GW_CONSTRAINT_FOREIGN_KEY:
		alter_table(&b, table);
		gw_buf_puts(&b, "DROP FOREIGN KEY ");
		ident(&b, name);
		break;
	case GW_CONSTRAINT_UNIQUE:
		gw_buf_puts(&b, "DROP INDEX ");
		ident(&b, name);
		gw_buf_puts(&b, " ON ");
		ident(&b, table);
		break;
	case GW_CONSTRAINT_NOT_NULL:
		return;
	default:
		GW_BUG("unknown constraint kind");
	}
	add_step(out, 0, &b);
}

const struct gw_dialect gw_dialect_mysql = {
	.version = 1,
	.name = "mysql",
	.id = GW_DIALECT_MYSQL,
	.ident = ident,
	.literal = literal,
	.create_table = create_table,
	.drop_table = drop_table,
	.rename_table = rename_table,
	.add_column = add_column,
	.drop_column = drop_column,
	.rename_column = rename_column,
	.alter_column = alter_column,
	.create_index = create_index,
	.drop_index = drop_index,
	.add_constraint = add_constraint,
	.drop_constraint = drop_constraint,
};
