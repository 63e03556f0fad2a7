/*
 * Migration files: load and validate one JSON file per revision into the
 * typed model of migration.h, and load the directory of all of them.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "godwit/buf.h"
#include "godwit/migration.h"

#define IDENT_MAX 63 /* PostgreSQL NAMEDATALEN - 1; MariaDB allows 64 */

/* Kinds of field value; each names the JSON shape and the C target. */
enum ftype {
	F_IDENT,       /* identifier string -> char * */
	F_EXPR,        /* non-empty SQL text -> char * */
	F_TEXT,        /* any string -> char * */
	F_BOOL,        /* true/false -> bool */
	F_TRISTATE,    /* true/false -> enum gw_tristate */
	F_ENUM,        /* string among aux (NULL-terminated) -> char * */
	F_INT,         /* integer within aux (struct range) -> long */
	F_IDENTS,      /* non-empty list of identifiers -> char ** at off, count at off2 */
	F_ID,          /* migration id -> char * */
	F_IDS,         /* list of migration ids, maybe empty -> as F_IDENTS */
	F_TEXTS,       /* non-empty list of non-empty strings -> as F_IDENTS */
	F_OBJECT,      /* nested object parsed by table aux into base + off */
	F_COLUMN,      /* column object -> struct gw_column_def */
	F_COLUMNS,     /* non-empty list of column objects -> array at off, count at off2 */
	F_INDEXES,     /* list of index objects -> array at off, count at off2 */
	F_ASSIGNS,     /* non-empty object column -> expression, array at off, count at off2 */
	F_DEFAULT,     /* string, number or boolean -> char *; with NULL_OK null sets bool at off2 */
	F_UPDATE_DOWN, /* update_rows "down": SQL text or an object like "set" (struct gw_op) */
	F_OPS,         /* the "operations" list (struct gw_migration) */
	F_CON_CHECK,   /* add_constraint forms, each into struct gw_constraint_def at off */
	F_CON_FK,
	F_CON_UNIQUE,
	F_CON_NOT_NULL,
};

/* Field flags. */
#define REQUIRED 0x1u /* must be present */
#define ONE_OF 0x2u   /* exactly one of the ONE_OF fields of the kind is present */
#define ANY_OF 0x4u   /* at least one of the ANY_OF fields of the kind is present */
#define NULL_OK 0x8u  /* F_DEFAULT: JSON null allowed */
#define ICASE 0x10u   /* F_ENUM: compare case-insensitively, store the listed spelling */

#define ANY_KIND (-1) /* a row that applies to every kind */

struct field {
	int kind;          /* enum gw_op_kind, or ANY_KIND */
	const char *name;  /* JSON key */
	enum ftype type;
	size_t off;        /* target offset in the base struct */
	size_t off2;       /* count of a list, drop flag of F_DEFAULT */
	unsigned flags;
	const void *aux;   /* F_ENUM values, F_INT range, F_OBJECT table */
};

struct table {
	const struct field *rows;
	size_t n;
};

struct range {
	long min, max;
};

/* Where a message points: "path: operation 2 (alter_column): columns[1]". */
struct ctx {
	struct gw_error *err;
	char where[256];
	size_t len;
};

static const char *const op_names[GW_OP__COUNT] = {
	[GW_OP_CREATE_TABLE] = "create_table",
	[GW_OP_DROP_TABLE] = "drop_table",
	[GW_OP_RENAME_TABLE] = "rename_table",
	[GW_OP_ADD_COLUMN] = "add_column",
	[GW_OP_DROP_COLUMN] = "drop_column",
	[GW_OP_RENAME_COLUMN] = "rename_column",
	[GW_OP_ALTER_COLUMN] = "alter_column",
	[GW_OP_CREATE_INDEX] = "create_index",
	[GW_OP_DROP_INDEX] = "drop_index",
	[GW_OP_ADD_CONSTRAINT] = "add_constraint",
	[GW_OP_UPDATE_ROWS] = "update_rows",
	[GW_OP_REBUILD_TABLE] = "rebuild_table",
	[GW_OP_SQL] = "sql",
};

static const char *const strategy_values[] = {"inplace", "shadow", NULL};
static const char *const capture_values[] = {"triggers", "replication", NULL};
static const char *const phase_values[] = {"expand", "contract", NULL};
static const char *const on_duplicate_values[] = {"fail", "ignore", "replace", NULL};
static const char *const fk_action_values[] = {"CASCADE", "SET NULL", "SET DEFAULT",
					       "RESTRICT", "NO ACTION", NULL};
static const struct range chunk_time_range = {1, 3600000};
static const struct range max_rate_range = {0, LONG_MAX};

#define COL(k, n, t, f, fl) {k, n, t, offsetof(struct gw_column_def, f), 0, fl, NULL}
static const struct field column_rows[] = {
	COL(ANY_KIND, "name", F_IDENT, name, REQUIRED),
	COL(ANY_KIND, "type", F_EXPR, type, REQUIRED),
	COL(ANY_KIND, "nullable", F_TRISTATE, nullable, 0),
	COL(ANY_KIND, "default", F_DEFAULT, default_expr, 0),
	COL(ANY_KIND, "primary_key", F_BOOL, primary_key, 0),
	COL(ANY_KIND, "autoincrement", F_BOOL, autoincrement, 0),
	COL(ANY_KIND, "unique", F_BOOL, unique, 0),
};
#undef COL

static const struct field index_rows[] = {
	{ANY_KIND, "name", F_IDENT, offsetof(struct gw_index_def, name), 0, REQUIRED, NULL},
	{ANY_KIND, "columns", F_IDENTS, offsetof(struct gw_index_def, columns),
	 offsetof(struct gw_index_def, ncolumns), REQUIRED, NULL},
	{ANY_KIND, "unique", F_BOOL, offsetof(struct gw_index_def, unique), 0, 0, NULL},
};

#define CON(f) offsetof(struct gw_constraint_def, f)
static const struct field references_rows[] = {
	{ANY_KIND, "table", F_IDENT, CON(ref_table), 0, REQUIRED, NULL},
	{ANY_KIND, "columns", F_IDENTS, CON(ref_columns), CON(nref_columns), REQUIRED, NULL},
};
static const struct table references_table = {references_rows, GW_ARRAY_SIZE(references_rows)};

static const struct field foreign_key_rows[] = {
	{ANY_KIND, "columns", F_IDENTS, CON(columns), CON(ncolumns), REQUIRED, NULL},
	{ANY_KIND, "references", F_OBJECT, 0, 0, REQUIRED, &references_table},
	{ANY_KIND, "on_delete", F_ENUM, CON(on_delete), 0, ICASE, fk_action_values},
};
#undef CON

/*
 * The fields of every operation kind (SPEC section 3). A row's kind is the
 * operation it belongs to; ANY_KIND rows are accepted by every operation.
 */
#define OP(f) offsetof(struct gw_op, f)
#define R(k, n, t, f, fl) {GW_OP_##k, n, t, OP(f), 0, fl, NULL}
#define RL(k, n, t, f, nf, fl) {GW_OP_##k, n, t, OP(f), OP(nf), fl, NULL}
static const struct field op_rows[] = {
	R(CREATE_TABLE, "table", F_IDENT, table, REQUIRED),
	RL(CREATE_TABLE, "columns", F_COLUMNS, columns, ncolumns, REQUIRED),
	RL(CREATE_TABLE, "primary_key", F_IDENTS, pk, npk, 0),
	RL(CREATE_TABLE, "indexes", F_INDEXES, indexes, nindexes, 0),

	R(DROP_TABLE, "table", F_IDENT, table, REQUIRED),
	R(DROP_TABLE, "down", F_EXPR, down, 0),

	R(RENAME_TABLE, "from", F_IDENT, from, REQUIRED),
	R(RENAME_TABLE, "to", F_IDENT, to, REQUIRED),
	R(RENAME_TABLE, "down", F_EXPR, down, 0),

	R(ADD_COLUMN, "table", F_IDENT, table, REQUIRED),
	R(ADD_COLUMN, "column", F_COLUMN, column, REQUIRED),
	R(ADD_COLUMN, "backfill", F_EXPR, backfill, 0),
	R(ADD_COLUMN, "down", F_EXPR, down, 0),

	R(DROP_COLUMN, "table", F_IDENT, table, REQUIRED),
	R(DROP_COLUMN, "column", F_IDENT, column_name, REQUIRED),
	R(DROP_COLUMN, "down", F_EXPR, down, 0),

	R(RENAME_COLUMN, "table", F_IDENT, table, REQUIRED),
	R(RENAME_COLUMN, "from", F_IDENT, from, REQUIRED),
	R(RENAME_COLUMN, "to", F_IDENT, to, REQUIRED),

	R(ALTER_COLUMN, "table", F_IDENT, table, REQUIRED),
	R(ALTER_COLUMN, "column", F_IDENT, column_name, REQUIRED),
	R(ALTER_COLUMN, "type", F_EXPR, type, ANY_OF),
	R(ALTER_COLUMN, "nullable", F_TRISTATE, nullable, ANY_OF),
	RL(ALTER_COLUMN, "default", F_DEFAULT, default_expr, drop_default, ANY_OF | NULL_OK),
	R(ALTER_COLUMN, "up", F_EXPR, up, 0),
	R(ALTER_COLUMN, "down", F_EXPR, down, 0),

	R(CREATE_INDEX, "table", F_IDENT, table, REQUIRED),
	R(CREATE_INDEX, "name", F_IDENT, name, REQUIRED),
	RL(CREATE_INDEX, "columns", F_IDENTS, idx_columns, nidx_columns, REQUIRED),
	R(CREATE_INDEX, "unique", F_BOOL, unique, 0),

	R(DROP_INDEX, "table", F_IDENT, table, REQUIRED),
	R(DROP_INDEX, "name", F_IDENT, name, REQUIRED),
	RL(DROP_INDEX, "columns", F_IDENTS, idx_columns, nidx_columns, 0),
	R(DROP_INDEX, "unique", F_BOOL, unique, 0),
	R(DROP_INDEX, "down", F_EXPR, down, 0),

	R(ADD_CONSTRAINT, "table", F_IDENT, table, REQUIRED),
	R(ADD_CONSTRAINT, "name", F_IDENT, name, REQUIRED),
	R(ADD_CONSTRAINT, "check", F_CON_CHECK, constraint, ONE_OF),
	R(ADD_CONSTRAINT, "foreign_key", F_CON_FK, constraint, ONE_OF),
	R(ADD_CONSTRAINT, "unique", F_CON_UNIQUE, constraint, ONE_OF),
	R(ADD_CONSTRAINT, "not_null", F_CON_NOT_NULL, constraint, ONE_OF),

	R(UPDATE_ROWS, "table", F_IDENT, table, REQUIRED),
	RL(UPDATE_ROWS, "set", F_ASSIGNS, set, nset, REQUIRED),
	R(UPDATE_ROWS, "where", F_EXPR, where, 0),
	R(UPDATE_ROWS, "down", F_UPDATE_DOWN, down, 0),

	R(REBUILD_TABLE, "table", F_IDENT, table, REQUIRED),
	R(REBUILD_TABLE, "alter", F_EXPR, alter, REQUIRED),

	R(SQL, "up", F_EXPR, up, REQUIRED),
	R(SQL, "down", F_EXPR, down, 0),
	R(SQL, "transactional", F_BOOL, transactional, 0),
	{GW_OP_SQL, "phase", F_ENUM, OP(phase), 0, 0, phase_values},

	{ANY_KIND, "strategy", F_ENUM, OP(strategy), 0, 0, strategy_values},
	{ANY_KIND, "capture", F_ENUM, OP(capture), 0, 0, capture_values},
};
#undef R
#undef RL
#undef OP

#define OPT(f) offsetof(struct gw_options, f)
static const struct field schedule_rows[] = {
	{ANY_KIND, "windows", F_TEXTS, OPT(windows), OPT(nwindows), REQUIRED, NULL},
	{ANY_KIND, "timezone", F_TEXT, OPT(timezone), 0, 0, NULL},
};
static const struct table schedule_table = {schedule_rows, GW_ARRAY_SIZE(schedule_rows)};

static const struct field options_rows[] = {
	{ANY_KIND, "strategy", F_ENUM, OPT(strategy), 0, 0, strategy_values},
	{ANY_KIND, "capture", F_ENUM, OPT(capture), 0, 0, capture_values},
	{ANY_KIND, "chunk_time_ms", F_INT, OPT(chunk_time_ms), 0, 0, &chunk_time_range},
	{ANY_KIND, "max_rate_rows", F_INT, OPT(max_rate_rows), 0, 0, &max_rate_range},
	{ANY_KIND, "on_duplicate", F_ENUM, OPT(on_duplicate), 0, 0, on_duplicate_values},
	{ANY_KIND, "postpone_cutover", F_BOOL, OPT(postpone_cutover), 0, 0, NULL},
	{ANY_KIND, "max_lag_ms", F_INT, OPT(max_lag_ms), 0, 0, &max_rate_range},
	{ANY_KIND, "replicas", F_TEXTS, OPT(replicas), OPT(nreplicas), 0, NULL},
	{ANY_KIND, "max_load", F_INT, OPT(max_load), 0, 0, &max_rate_range},
	{ANY_KIND, "load_query", F_EXPR, OPT(load_query), 0, 0, NULL},
	{ANY_KIND, "throttle_flag_file", F_TEXT, OPT(throttle_flag_file), 0, 0, NULL},
	{ANY_KIND, "schedule", F_OBJECT, 0, 0, 0, &schedule_table},
};
#undef OPT
static const struct table options_table = {options_rows, GW_ARRAY_SIZE(options_rows)};

#define MIG(f) offsetof(struct gw_migration, f)
static const struct field migration_rows[] = {
	{ANY_KIND, "id", F_ID, MIG(id), 0, REQUIRED, NULL},
	{ANY_KIND, "parents", F_IDS, MIG(parents), MIG(nparents), REQUIRED, NULL},
	{ANY_KIND, "message", F_TEXT, MIG(message), 0, 0, NULL},
	{ANY_KIND, "operations", F_OPS, MIG(ops), MIG(nops), REQUIRED, NULL},
	{ANY_KIND, "options", F_OBJECT, MIG(options), 0, 0, &options_table},
};
#undef MIG

/* Typed access to the target of a row. */
#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))

static int parse_fields(struct ctx *c, const struct field *rows, size_t nrows, int kind,
			json_t *obj, void *base);

static size_t push(struct ctx *c, const char *fmt, ...) GW_PRINTF(2, 3);
static int fail(struct ctx *c, const char *field, const char *fmt, ...) GW_PRINTF(3, 4);

/* Append ": <text>" to the location; returns the length to restore. */
static size_t push(struct ctx *c, const char *fmt, ...)
{
	size_t old = c->len;
	va_list ap;
	int n;

	if (c->len + 2 < sizeof(c->where)) {
		memcpy(c->where + c->len, ": ", 3);
		c->len += 2;
		va_start(ap, fmt);
		n = vsnprintf(c->where + c->len, sizeof(c->where) - c->len, fmt, ap);
		va_end(ap);
		if (n > 0)
			c->len += (size_t)n;
		if (c->len >= sizeof(c->where))
			c->len = sizeof(c->where) - 1;
	}
	return old;
}

static void pop(struct ctx *c, size_t len)
{
	c->len = len;
	c->where[len] = '\0';
}

/* Fail with "<where>: field '<field>': <detail>" (field may be NULL). */
static int fail(struct ctx *c, const char *field, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (field)
		return gw_error_set(c->err, GW_ERR_INPUT, "%s: field '%s': %s", c->where, field,
				    detail);
	return gw_error_set(c->err, GW_ERR_INPUT, "%s: %s", c->where, detail);
}

/*
 * NULL when s (len bytes) is a usable identifier, else why not. Spaces,
 * quotes and reserved words are fine: the driver always quotes.
 */
static const char *ident_text_problem(const char *s, size_t len)
{
	if (len == 0)
		return "must not be empty";
	if (strlen(s) != len)
		return "must not contain a NUL byte";
	if (len > IDENT_MAX)
		return "identifier longer than 63 bytes";
	return NULL;
}

static const char *ident_problem(const json_t *v)
{
	if (!json_is_string(v))
		return "expected a string";
	return ident_text_problem(json_string_value(v), json_string_length(v));
}

static int get_ident(struct ctx *c, const char *field, const json_t *v, char **out)
{
	const char *why = ident_problem(v);

	if (why)
		return fail(c, field, "%s", why);
	*out = gw_strdup(json_string_value(v));
	return 0;
}

static int get_string(struct ctx *c, const char *field, const json_t *v, bool nonempty,
		      char **out)
{
	if (!json_is_string(v))
		return fail(c, field, "expected a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fail(c, field, "must not contain a NUL byte");
	if (nonempty && json_string_length(v) == 0)
		return fail(c, field, "must not be empty");
	*out = gw_strdup(json_string_value(v));
	return 0;
}

static int get_enum(struct ctx *c, const struct field *f, const json_t *v, char **out)
{
	const char *const *vals = f->aux;
	const char *s;
	struct gw_buf list = GW_BUF_INIT;
	int rc;

	if (!json_is_string(v))
		return fail(c, f->name, "expected a string");
	s = json_string_value(v);
	for (size_t i = 0; vals[i]; i++) {
		if ((f->flags & ICASE) ? !strcasecmp(s, vals[i]) : !strcmp(s, vals[i])) {
			*out = gw_strdup(vals[i]);
			return 0;
		}
	}
	for (size_t i = 0; vals[i]; i++)
		gw_buf_printf(&list, "%s'%s'", i ? ", " : "", vals[i]);
	rc = fail(c, f->name, "expected one of %s, got '%s'", list.data, s);
	gw_buf_release(&list);
	return rc;
}

static int get_int(struct ctx *c, const struct field *f, const json_t *v, long *out)
{
	const struct range *r = f->aux;
	json_int_t n;

	if (!json_is_integer(v))
		return fail(c, f->name, "expected an integer");
	n = json_integer_value(v);
	if (n < r->min || n > r->max) {
		if (r->max == LONG_MAX)
			return fail(c, f->name, "expected an integer >= %ld, got %" JSON_INTEGER_FORMAT,
				    r->min, n);
		return fail(c, f->name, "expected an integer from %ld to %ld, got %" JSON_INTEGER_FORMAT,
			    r->min, r->max, n);
	}
	*out = (long)n;
	return 0;
}

/*
 * A list of identifiers (or of migration ids when ids). The count is set
 * before the items so that a failure half-way leaves nothing unowned.
 */
static int get_list(struct ctx *c, const char *field, const json_t *v, enum ftype kind,
		    char ***out, size_t *nout)
{
	bool ids = kind == F_IDS;
	size_t n;
	const char *why;

	if (!json_is_array(v))
		return fail(c, field, "expected a list of strings");
	n = json_array_size(v);
	if (n == 0) {
		if (!ids)
			return fail(c, field, "expected a non-empty list");
		return 0;
	}
	*out = gw_calloc(n, sizeof(**out));
	*nout = n;
	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_array_get(v, i);

		if (ids) {
			if (!json_is_string(item))
				return fail(c, field, "item %zu: expected a string", i);
			if (!gw_migration_id_valid(json_string_value(item)) ||
			    strlen(json_string_value(item)) != json_string_length(item))
				return fail(c, field,
					    "item %zu: invalid migration id '%s' (expected letters, digits and '_')",
					    i, json_string_value(item));
		} else if (kind == F_TEXTS) {
			if (!json_is_string(item) || !*json_string_value(item))
				return fail(c, field, "item %zu: expected a non-empty string", i);
		} else if ((why = ident_problem(item)) != NULL) {
			return fail(c, field, "item %zu: %s", i, why);
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp((*out)[j], json_string_value(item)))
				return fail(c, field, "duplicate '%s'", (*out)[j]);
		(*out)[i] = gw_strdup(json_string_value(item));
	}
	return 0;
}

/* Shortest text of a JSON number that reads back to the same value. */
static char *number_text(const json_t *v)
{
	char tmp[64];
	double d;

	if (json_is_integer(v))
		return gw_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	d = json_real_value(v);
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	return gw_strdup(tmp);
}

static int get_default(struct ctx *c, const struct field *f, const json_t *v, void *base)
{
	char **out = AT(base, f->off, char *);

	if (json_is_null(v) && (f->flags & NULL_OK)) {
		*AT(base, f->off2, bool) = true;
		return 0;
	}
	if (json_is_string(v))
		return get_string(c, f->name, v, true, out);
	if (json_is_number(v)) {
		*out = number_text(v);
		return 0;
	}
	if (json_is_boolean(v)) {
		*out = gw_strdup(json_is_true(v) ? "true" : "false");
		return 0;
	}
	if (f->flags & NULL_OK)
		return fail(c, f->name, "expected a string, number, boolean or null");
	return fail(c, f->name, "expected a string, number or boolean");
}

static int get_assigns(struct ctx *c, const char *field, json_t *v, struct gw_assign **out,
		       size_t *nout)
{
	const char *key;
	json_t *val;
	size_t i = 0;
	int rc = 0;

	if (!json_is_object(v))
		return fail(c, field, "expected an object of column: expression");
	if (json_object_size(v) == 0)
		return fail(c, field, "expected a non-empty object");
	*out = gw_calloc(json_object_size(v), sizeof(**out));
	*nout = json_object_size(v);
	json_object_foreach(v, key, val) {
		size_t at = push(c, "field '%s'", field);
		const char *why = ident_text_problem(key, strlen(key));

		if (why)
			rc = fail(c, NULL, "column '%s': %s", key, why);
		else
			rc = get_string(c, key, val, true, &(*out)[i].expr);
		pop(c, at);
		if (rc)
			return rc;
		(*out)[i++].column = gw_strdup(key);
	}
	return 0;
}

static int get_column(struct ctx *c, json_t *v, struct gw_column_def *col)
{
	int rc;

	col->nullable = GW_UNSET;
	if (!json_is_object(v))
		return fail(c, NULL, "expected an object");
	rc = parse_fields(c, column_rows, GW_ARRAY_SIZE(column_rows), ANY_KIND, v, col);
	if (rc)
		return rc;
	if (col->primary_key && col->nullable == GW_TRUE)
		return fail(c, "nullable", "a primary key column cannot be nullable");
	return 0;
}

static int get_columns(struct ctx *c, const char *field, json_t *v, struct gw_column_def **out,
		       size_t *nout)
{
	size_t n;
	int rc;

	if (!json_is_array(v))
		return fail(c, field, "expected a list of column objects");
	n = json_array_size(v);
	if (n == 0)
		return fail(c, field, "expected a non-empty list");
	*out = gw_calloc(n, sizeof(**out));
	*nout = n;
	for (size_t i = 0; i < n; i++)
		(*out)[i].nullable = GW_UNSET;
	for (size_t i = 0; i < n; i++) {
		size_t at = push(c, "%s[%zu]", field, i);

		rc = get_column(c, json_array_get(v, i), &(*out)[i]);
		pop(c, at);
		if (rc)
			return rc;
	}
	return 0;
}

static int get_indexes(struct ctx *c, const char *field, json_t *v, struct gw_index_def **out,
		       size_t *nout)
{
	size_t n;
	int rc = 0;

	if (!json_is_array(v))
		return fail(c, field, "expected a list of index objects");
	n = json_array_size(v);
	if (n == 0)
		return 0;
	*out = gw_calloc(n, sizeof(**out));
	*nout = n;
	for (size_t i = 0; i < n; i++) {
		size_t at = push(c, "%s[%zu]", field, i);
		json_t *item = json_array_get(v, i);

		if (!json_is_object(item))
			rc = fail(c, NULL, "expected an object");
		else
			rc = parse_fields(c, index_rows, GW_ARRAY_SIZE(index_rows), ANY_KIND, item,
					  &(*out)[i]);
		pop(c, at);
		if (rc)
			return rc;
	}
	return 0;
}

static int get_constraint(struct ctx *c, const struct field *f, json_t *v,
			  struct gw_constraint_def *con)
{
	size_t at;
	int rc;

	switch (f->type) {
	case F_CON_CHECK:
		con->kind = GW_CONSTRAINT_CHECK;
		return get_string(c, f->name, v, true, &con->check);
	case F_CON_UNIQUE:
		con->kind = GW_CONSTRAINT_UNIQUE;
		return get_list(c, f->name, v, false, &con->columns, &con->ncolumns);
	case F_CON_NOT_NULL:
		con->kind = GW_CONSTRAINT_NOT_NULL;
		if (json_is_string(v)) {
			con->columns = gw_calloc(1, sizeof(*con->columns));
			con->ncolumns = 1;
			return get_ident(c, f->name, v, &con->columns[0]);
		}
		if (!json_is_array(v))
			return fail(c, f->name, "expected a column name or a list of them");
		return get_list(c, f->name, v, false, &con->columns, &con->ncolumns);
	case F_CON_FK:
		con->kind = GW_CONSTRAINT_FOREIGN_KEY;
		if (!json_is_object(v))
			return fail(c, f->name, "expected an object");
		at = push(c, "field '%s'", f->name);
		rc = parse_fields(c, foreign_key_rows, GW_ARRAY_SIZE(foreign_key_rows), ANY_KIND, v,
				  con);
		if (!rc && con->ncolumns != con->nref_columns)
			rc = fail(c, NULL, "'columns' has %zu columns but 'references' has %zu",
				  con->ncolumns, con->nref_columns);
		pop(c, at);
		return rc;
	default:
		GW_BUG("not a constraint field");
	}
}

static int get_op(struct ctx *c, json_t *v, size_t index, struct gw_op *op);

static int get_ops(struct ctx *c, const char *field, json_t *v, struct gw_migration *m)
{
	size_t n;
	int rc;

	if (!json_is_array(v))
		return fail(c, field, "expected a list of operations");
	n = json_array_size(v);
	if (n == 0)
		return 0;
	m->ops = gw_calloc(n, sizeof(*m->ops));
	m->nops = n;
	for (size_t i = 0; i < n; i++) {
		rc = get_op(c, json_array_get(v, i), i, &m->ops[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Parse the value v of row f into base. */
static int parse_value(struct ctx *c, const struct field *f, json_t *v, void *base)
{
	const struct table *t;
	struct gw_op *op;
	size_t at;
	int rc;

	switch (f->type) {
	case F_IDENT:
		return get_ident(c, f->name, v, AT(base, f->off, char *));
	case F_EXPR:
		return get_string(c, f->name, v, true, AT(base, f->off, char *));
	case F_TEXT:
		return get_string(c, f->name, v, false, AT(base, f->off, char *));
	case F_BOOL:
		if (!json_is_boolean(v))
			return fail(c, f->name, "expected true or false");
		*AT(base, f->off, bool) = json_is_true(v);
		return 0;
	case F_TRISTATE:
		if (!json_is_boolean(v))
			return fail(c, f->name, "expected true or false");
		*AT(base, f->off, enum gw_tristate) = json_is_true(v) ? GW_TRUE : GW_FALSE;
		return 0;
	case F_ENUM:
		return get_enum(c, f, v, AT(base, f->off, char *));
	case F_INT:
		return get_int(c, f, v, AT(base, f->off, long));
	case F_IDENTS:
	case F_IDS:
	case F_TEXTS:
		return get_list(c, f->name, v, f->type, AT(base, f->off, char **),
				AT(base, f->off2, size_t));
	case F_ID:
		if (!json_is_string(v))
			return fail(c, f->name, "expected a string");
		if (!gw_migration_id_valid(json_string_value(v)) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return fail(c, f->name,
				    "invalid migration id '%s' (expected letters, digits and '_')",
				    json_string_value(v));
		*AT(base, f->off, char *) = gw_strdup(json_string_value(v));
		return 0;
	case F_OBJECT:
		t = f->aux;
		if (!json_is_object(v))
			return fail(c, f->name, "expected an object");
		at = push(c, "field '%s'", f->name);
		rc = parse_fields(c, t->rows, t->n, ANY_KIND, v, AT(base, f->off, char));
		pop(c, at);
		return rc;
	case F_COLUMN:
		at = push(c, "field '%s'", f->name);
		rc = get_column(c, v, AT(base, f->off, struct gw_column_def));
		pop(c, at);
		return rc;
	case F_COLUMNS:
		return get_columns(c, f->name, v, AT(base, f->off, struct gw_column_def *),
				   AT(base, f->off2, size_t));
	case F_INDEXES:
		return get_indexes(c, f->name, v, AT(base, f->off, struct gw_index_def *),
				   AT(base, f->off2, size_t));
	case F_ASSIGNS:
		return get_assigns(c, f->name, v, AT(base, f->off, struct gw_assign *),
				   AT(base, f->off2, size_t));
	case F_DEFAULT:
		return get_default(c, f, v, base);
	case F_UPDATE_DOWN:
		/* Two shapes: SQL run on rollback, or assignments undoing "set". */
		op = base;
		if (json_is_object(v))
			return get_assigns(c, f->name, v, &op->down_set, &op->ndown_set);
		if (!json_is_string(v))
			return fail(c, f->name, "expected a string or an object of column: expression");
		return get_string(c, f->name, v, true, &op->down);
	case F_OPS:
		return get_ops(c, f->name, v, base);
	case F_CON_CHECK:
	case F_CON_FK:
	case F_CON_UNIQUE:
	case F_CON_NOT_NULL:
		return get_constraint(c, f, v, AT(base, f->off, struct gw_constraint_def));
	}
	GW_BUG("unknown field type");
}

static bool row_applies(const struct field *f, int kind)
{
	return f->kind == ANY_KIND || f->kind == kind;
}

/* "'a', 'b', 'c'" of the rows of kind that have any of flags (all rows if 0). */
static void row_names(struct gw_buf *b, const struct field *rows, size_t nrows, int kind,
		      unsigned flags)
{
	bool first = true;

	for (size_t i = 0; i < nrows; i++) {
		if (!row_applies(&rows[i], kind) || (flags && !(rows[i].flags & flags)))
			continue;
		gw_buf_printf(b, "%s'%s'", first ? "" : ", ", rows[i].name);
		first = false;
	}
}

/*
 * The one generic loop: every key of obj must be a row of kind, every
 * REQUIRED row present, the ONE_OF / ANY_OF groups satisfied, and each
 * value the row's type.
 */
static int parse_fields(struct ctx *c, const struct field *rows, size_t nrows, int kind,
			json_t *obj, void *base)
{
	struct gw_buf names = GW_BUF_INIT;
	const char *key;
	json_t *val;
	size_t one_of = 0, any_of = 0;
	bool has_one_of = false, has_any_of = false;
	int rc = 0;

	json_object_foreach(obj, key, val) {
		size_t i;

		for (i = 0; i < nrows; i++)
			if (row_applies(&rows[i], kind) && !strcmp(rows[i].name, key))
				break;
		if (i == nrows) {
			rc = fail(c, NULL, "unknown field '%s'", key);
			row_names(&names, rows, nrows, kind, 0);
			gw_error_hint(c->err, "valid fields: %s", names.data);
			goto out;
		}
	}
	for (size_t i = 0; i < nrows; i++) {
		bool present;

		if (!row_applies(&rows[i], kind))
			continue;
		present = json_object_get(obj, rows[i].name) != NULL;
		has_one_of |= (rows[i].flags & ONE_OF) != 0;
		has_any_of |= (rows[i].flags & ANY_OF) != 0;
		if (present && (rows[i].flags & ONE_OF))
			one_of++;
		if (present && (rows[i].flags & ANY_OF))
			any_of++;
	}
	if (has_one_of && one_of != 1) {
		row_names(&names, rows, nrows, kind, ONE_OF);
		rc = fail(c, NULL, "expected exactly one of %s, got %zu", names.data, one_of);
		goto out;
	}
	if (has_any_of && any_of == 0) {
		row_names(&names, rows, nrows, kind, ANY_OF);
		rc = fail(c, NULL, "nothing to change: expected at least one of %s", names.data);
		goto out;
	}
	for (size_t i = 0; i < nrows; i++) {
		if (!row_applies(&rows[i], kind))
			continue;
		val = json_object_get(obj, rows[i].name);
		if (!val) {
			if (rows[i].flags & REQUIRED) {
				rc = fail(c, NULL, "missing field '%s'", rows[i].name);
				goto out;
			}
			continue;
		}
		rc = parse_value(c, &rows[i], val, base);
		if (rc)
			goto out;
	}
out:
	gw_buf_release(&names);
	return rc;
}

static bool in_list(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool has_column(const struct gw_op *op, const char *name)
{
	for (size_t i = 0; i < op->ncolumns; i++)
		if (!strcmp(op->columns[i].name, name))
			return true;
	return false;
}

/* Checks across fields of create_table: names that must refer to its columns. */
static int check_create_table(struct ctx *c, const struct gw_op *op)
{
	bool column_pk = false;
	int rc = 0;

	for (size_t i = 0; i < op->ncolumns; i++) {
		column_pk |= op->columns[i].primary_key;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(op->columns[i].name, op->columns[j].name))
				return fail(c, "columns", "duplicate column '%s'",
					    op->columns[i].name);
	}
	if (op->npk && column_pk)
		return fail(c, "primary_key",
			    "give the primary key either here or per column, not both");
	for (size_t i = 0; i < op->npk; i++)
		if (!has_column(op, op->pk[i]))
			return fail(c, "primary_key", "unknown column '%s'", op->pk[i]);
	for (size_t i = 0; i < op->nindexes; i++) {
		const struct gw_index_def *ix = &op->indexes[i];
		size_t at = push(c, "indexes[%zu]", i);

		for (size_t j = 0; j < i && !rc; j++)
			if (!strcmp(ix->name, op->indexes[j].name))
				rc = fail(c, "name", "duplicate index '%s'", ix->name);
		for (size_t j = 0; j < ix->ncolumns && !rc; j++)
			if (!has_column(op, ix->columns[j]))
				rc = fail(c, "columns", "unknown column '%s'", ix->columns[j]);
		pop(c, at);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_op(struct ctx *c, struct gw_op *op)
{
	switch (op->kind) {
	case GW_OP_CREATE_TABLE:
		return check_create_table(c, op);
	case GW_OP_RENAME_TABLE:
	case GW_OP_RENAME_COLUMN:
		if (!strcmp(op->from, op->to))
			return fail(c, "to", "same name as 'from'");
		return 0;
	case GW_OP_UPDATE_ROWS:
		for (size_t i = 0; i < op->nset; i++)
			for (size_t j = 0; j < i; j++)
				if (!strcmp(op->set[i].column, op->set[j].column))
					return fail(c, "set", "duplicate column '%s'",
						    op->set[i].column);
		return 0;
	case GW_OP_ALTER_COLUMN:
		/* In place, old and new writers are kept in sync both ways. */
		if (op->up && !op->type)
			return fail(c, "up", "needs 'type': the conversion is to a new type");
		if (op->up && !op->down)
			return fail(c, "down", "required with 'up': writes to the new column fill "
					       "the old one through it");
		if (op->down && !op->up)
			return fail(c, "up", "required with 'down'");
		return 0;
	case GW_OP_SQL:
		if (!op->phase)
			op->phase = gw_strdup("expand");
		return 0;
	default:
		return 0;
	}
}

static int get_op(struct ctx *c, json_t *v, size_t index, struct gw_op *op)
{
	struct gw_buf names = GW_BUF_INIT;
	const char *key;
	json_t *body;
	size_t at = push(c, "operation %zu", index);
	int kind;
	int rc;

	op->index = (int)index;
	op->nullable = GW_UNSET;
	op->column.nullable = GW_UNSET;
	op->transactional = true;
	if (!json_is_object(v)) {
		rc = fail(c, NULL, "expected an object with one key, the operation name");
		goto out;
	}
	if (json_object_size(v) != 1) {
		rc = fail(c, NULL, "expected exactly one key, the operation name, got %zu",
			  json_object_size(v));
		goto out;
	}
	key = json_object_iter_key(json_object_iter(v));
	body = json_object_iter_value(json_object_iter(v));
	for (kind = 0; kind < GW_OP__COUNT; kind++)
		if (!strcmp(op_names[kind], key))
			break;
	if (kind == GW_OP__COUNT) {
		rc = fail(c, NULL, "unknown operation '%s'", key);
		for (int k = 0; k < GW_OP__COUNT; k++)
			gw_buf_printf(&names, "%s%s", k ? ", " : "", op_names[k]);
		gw_error_hint(c->err, "valid operations: %s", names.data);
		goto out;
	}
	op->kind = (enum gw_op_kind)kind;
	pop(c, at);
	push(c, "operation %zu (%s)", index, key);
	if (!json_is_object(body)) {
		rc = fail(c, NULL, "expected an object of fields");
		goto out;
	}
	rc = parse_fields(c, op_rows, GW_ARRAY_SIZE(op_rows), kind, body, op);
	if (!rc)
		rc = check_op(c, op);
out:
	pop(c, at);
	gw_buf_release(&names);
	return rc;
}

const char *gw_op_kind_name(enum gw_op_kind kind)
{
	if ((int)kind < 0 || kind >= GW_OP__COUNT)
		return NULL;
	return op_names[kind];
}

bool gw_migration_id_valid(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		char ch = *s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

void gw_checksum(const void *data, size_t len, char out[17])
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3u;
	}
	snprintf(out, 17, "%016" PRIx64, h);
}

int gw_migration_parse(const char *text, size_t len, const char *path, struct gw_migration *m,
		       struct gw_error *err)
{
	struct ctx c = {.err = err};
	json_error_t jerr;
	json_t *root = NULL;
	int rc = 0;

	snprintf(c.where, sizeof(c.where), "%s", path);
	c.len = strlen(c.where);
	m->path = gw_strdup(path);
	gw_checksum(text, len, m->checksum);

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = gw_error_set(err, GW_ERR_INPUT, "%s:%d:%d: invalid JSON: %s", path, jerr.line,
				  jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = fail(&c, NULL, "expected a JSON object at the top level");
		goto out;
	}
	rc = parse_fields(&c, migration_rows, GW_ARRAY_SIZE(migration_rows), ANY_KIND, root, m);
	if (rc)
		goto out;
	if (in_list(m->parents, m->nparents, m->id)) {
		rc = fail(&c, "parents", "a migration cannot be its own parent");
		goto out;
	}
	if (!m->message)
		m->message = gw_strdup("");
	if (!m->options.on_duplicate)
		m->options.on_duplicate = gw_strdup("fail");
out:
	json_decref(root);
	if (rc)
		gw_migration_release(m);
	return rc;
}

int gw_migration_load(const char *path, struct gw_migration *m, struct gw_error *err)
{
	struct gw_buf text = GW_BUF_INIT;
	char chunk[8192];
	FILE *fp = NULL;
	size_t n;
	int rc = 0;

	fp = fopen(path, "rb");
	if (!fp) {
		rc = gw_error_set(err, GW_ERR_IO, "could not open migration file '%s': %s", path,
				  strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		gw_buf_put(&text, chunk, n);
	if (ferror(fp)) {
		rc = gw_error_set(err, GW_ERR_IO, "could not read migration file '%s': %s", path,
				  strerror(errno));
		goto out;
	}
	rc = gw_migration_parse(text.data, text.len, path, m, err);
out:
	if (fp)
		fclose(fp);
	gw_buf_release(&text);
	return rc;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_assigns(struct gw_assign *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].column);
		free(a[i].expr);
	}
	free(a);
}

static void column_release(struct gw_column_def *col)
{
	free(col->name);
	free(col->type);
	free(col->default_expr);
}

static void op_release(struct gw_op *op)
{
	free(op->table);
	free(op->from);
	free(op->to);
	free(op->name);
	free(op->column_name);
	column_release(&op->column);
	for (size_t i = 0; i < op->ncolumns; i++)
		column_release(&op->columns[i]);
	free(op->columns);
	free_strv(op->pk, op->npk);
	for (size_t i = 0; i < op->nindexes; i++) {
		free(op->indexes[i].name);
		free_strv(op->indexes[i].columns, op->indexes[i].ncolumns);
	}
	free(op->indexes);
	free_strv(op->idx_columns, op->nidx_columns);
	free(op->type);
	free(op->default_expr);
	free(op->backfill);
	free(op->up);
	free(op->down);
	free_assigns(op->set, op->nset);
	free_assigns(op->down_set, op->ndown_set);
	free(op->where);
	free(op->alter);
	free(op->constraint.check);
	free_strv(op->constraint.columns, op->constraint.ncolumns);
	free(op->constraint.ref_table);
	free_strv(op->constraint.ref_columns, op->constraint.nref_columns);
	free(op->constraint.on_delete);
	free(op->phase);
	free(op->strategy);
	free(op->capture);
}

void gw_migration_release(struct gw_migration *m)
{
	if (!m)
		return;
	free(m->id);
	free_strv(m->parents, m->nparents);
	free(m->message);
	for (size_t i = 0; i < m->nops; i++)
		op_release(&m->ops[i]);
	free(m->ops);
	free(m->options.strategy);
	free(m->options.capture);
	free(m->options.on_duplicate);
	free(m->options.load_query);
	free_strv(m->options.replicas, m->options.nreplicas);
	free(m->options.throttle_flag_file);
	free_strv(m->options.windows, m->options.nwindows);
	free(m->options.timezone);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_json_name(const char *name)
{
	size_t len = strlen(name);

	/* Dot files (editor backups such as ".#x.json") are not migrations. */
	return name[0] != '.' && len > 5 && !strcmp(name + len - 5, ".json");
}

int gw_migration_set_load(const char *dir, bool allow_missing, struct gw_migration_set *set,
			  struct gw_error *err)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t nnames = 0, cap = 0;
	char *path = NULL;
	int rc = 0;

	set->dir = gw_strdup(dir);
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT && allow_missing)
			goto out;
		rc = gw_error_set(err, GW_ERR_IO, "could not open migrations directory '%s': %s",
				  dir, strerror(errno));
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!is_json_name(de->d_name))
			continue;
		if (nnames == cap) {
			cap = cap ? 2 * cap : 16;
			names = gw_realloc(names, cap * sizeof(*names));
		}
		names[nnames++] = gw_strdup(de->d_name);
	}
	if (errno) {
		rc = gw_error_set(err, GW_ERR_IO, "could not read migrations directory '%s': %s",
				  dir, strerror(errno));
		goto out;
	}
	if (nnames)
		qsort(names, nnames, sizeof(*names), cmp_names);
	set->v = gw_calloc(nnames, sizeof(*set->v));
	for (size_t i = 0; i < nnames; i++) {
		struct gw_migration *m = &set->v[set->n];

		free(path);
		path = gw_asprintf("%s/%s", dir, names[i]);
		rc = gw_migration_load(path, m, err);
		if (rc)
			goto out;
		set->n++;
		for (size_t j = 0; j + 1 < set->n; j++) {
			if (!strcmp(set->v[j].id, m->id)) {
				rc = gw_error_set(err, GW_ERR_INPUT,
						  "duplicate migration id '%s' in '%s' and '%s'", m->id,
						  set->v[j].path, m->path);
				goto out;
			}
		}
	}
out:
	if (d)
		closedir(d);
	free(path);
	free_strv(names, nnames);
	if (rc)
		gw_migration_set_release(set);
	return rc;
}

void gw_migration_set_release(struct gw_migration_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		gw_migration_release(&set->v[i]);
	free(set->v);
	free(set->dir);
	set->n = 0;
	set->v = NULL;
	set->dir = NULL;
}

const struct gw_migration *gw_migration_set_find(const struct gw_migration_set *set,
						 const char *id)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].id, id))
			return &set->v[i];
	return NULL;
}
