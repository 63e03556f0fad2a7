/*
 * Unit tests of the migration-file loader: every operation kind and field,
 * bad input with its messages, checksums and directory loading.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "godwit/migration.h"

#define PATH "migrations/0003_x.json"

/*
 * JSON written with ' for " to keep the tables readable; returns a new
 * string the caller frees.
 */
static char *dq(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	for (char *q = p; *q; q++)
		if (*q == '\'')
			*q = '"';
	return p;
}

static int parse_q(const char *squoted, struct gw_migration *m, struct gw_error *err)
{
	char *text = dq(squoted);
	int rc;

	rc = gw_migration_parse(text, strlen(text), PATH, m, err);
	free(text);
	return rc;
}

static void parse_ok(const char *squoted, struct gw_migration *m)
{
	struct gw_error err = GW_ERROR_INIT;
	int rc = parse_q(squoted, m, &err);

	if (rc)
		print_error("unexpected failure: %s (hint: %s)\n", err.msg, err.hint);
	assert_int_equal(rc, 0);
	assert_int_equal(err.code, 0);
}

static bool is_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void test_spec_example_alter(void **state)
{
	static const char text[] =
		"{\n"
		"  \"id\": \"0003_retype_balance\",\n"
		"  \"parents\": [\"0002_users\"],\n"
		"  \"message\": \"retype users.balance to DECIMAL(12,2)\",\n"
		"  \"operations\": [\n"
		"    {\"alter_column\": {\"table\": \"users\", \"column\": \"balance\", \"type\": \"DECIMAL(12,2)\",\n"
		"                      \"up\": \"CAST(balance AS DECIMAL(12,2))\",\n"
		"                      \"down\": \"CAST(balance AS DOUBLE PRECISION)\"}}\n"
		"  ],\n"
		"  \"options\": {\"capture\": \"triggers\", \"chunk_time_ms\": 500}\n"
		"}\n";
	struct gw_migration m = {0};
	struct gw_error err = GW_ERROR_INIT;
	char sum[17];
	const struct gw_op *op;

	(void)state;
	assert_int_equal(gw_migration_parse(text, strlen(text), "migrations/0003_retype_balance.json",
					    &m, &err), 0);
	assert_string_equal(m.id, "0003_retype_balance");
	assert_int_equal(m.nparents, 1);
	assert_string_equal(m.parents[0], "0002_users");
	assert_string_equal(m.message, "retype users.balance to DECIMAL(12,2)");
	assert_string_equal(m.path, "migrations/0003_retype_balance.json");
	gw_checksum(text, strlen(text), sum);
	assert_string_equal(m.checksum, sum);
	assert_int_equal(strlen(m.checksum), 16);
	assert_int_equal(m.nops, 1);
	op = &m.ops[0];
	assert_int_equal(op->kind, GW_OP_ALTER_COLUMN);
	assert_int_equal(op->index, 0);
	assert_string_equal(op->table, "users");
	assert_string_equal(op->column_name, "balance");
	assert_string_equal(op->type, "DECIMAL(12,2)");
	assert_string_equal(op->up, "CAST(balance AS DECIMAL(12,2))");
	assert_string_equal(op->down, "CAST(balance AS DOUBLE PRECISION)");
	assert_int_equal(op->nullable, GW_UNSET);
	assert_null(op->default_expr);
	assert_false(op->drop_default);
	assert_null(op->strategy);
	assert_null(op->capture);
	assert_null(op->from);
	assert_null(op->name);
	assert_string_equal(m.options.capture, "triggers");
	assert_null(m.options.strategy);
	assert_int_equal(m.options.chunk_time_ms, 500);
	assert_int_equal(m.options.max_rate_rows, 0);
	assert_string_equal(m.options.on_duplicate, "fail");
	assert_false(m.options.postpone_cutover);
	gw_migration_release(&m);
	assert_true(is_zero(&m, sizeof(m)));
	gw_migration_release(&m); /* twice is safe */
}

static void test_spec_example_create(void **state)
{
	struct gw_migration m = {0};
	const struct gw_op *op;
	const struct gw_column_def *c;

	(void)state;
	parse_ok("{'id': '0002_users', 'parents': ['0001_init'], 'message': 'users',"
		 " 'operations': ["
		 "   {'create_table': {'table': 'users', 'columns': ["
		 "      {'name': 'id', 'type': 'BIGINT', 'primary_key': true, 'autoincrement': true},"
		 "      {'name': 'email', 'type': 'VARCHAR(255)', 'nullable': false},"
		 "      {'name': 'balance', 'type': 'DOUBLE PRECISION', 'nullable': true},"
		 "      {'name': 'created_at', 'type': 'TIMESTAMP', 'default': 'CURRENT_TIMESTAMP'}]}},"
		 "   {'create_index': {'table': 'users', 'name': 'idx_users_email', 'columns': ['email'], 'unique': true}}"
		 " ]}",
		 &m);
	assert_string_equal(m.id, "0002_users");
	assert_int_equal(m.nparents, 1);
	assert_string_equal(m.parents[0], "0001_init");
	assert_string_equal(m.message, "users");
	assert_string_equal(m.path, PATH);
	assert_string_equal(m.options.on_duplicate, "fail");
	assert_int_equal(m.options.chunk_time_ms, 0);
	assert_int_equal(m.nops, 2);

	op = &m.ops[0];
	assert_int_equal(op->kind, GW_OP_CREATE_TABLE);
	assert_int_equal(op->index, 0);
	assert_string_equal(op->table, "users");
	assert_int_equal(op->npk, 0);
	assert_int_equal(op->nindexes, 0);
	assert_int_equal(op->ncolumns, 4);
	c = op->columns;
	assert_string_equal(c[0].name, "id");
	assert_string_equal(c[0].type, "BIGINT");
	assert_true(c[0].primary_key);
	assert_true(c[0].autoincrement);
	assert_false(c[0].unique);
	assert_int_equal(c[0].nullable, GW_UNSET);
	assert_null(c[0].default_expr);
	assert_string_equal(c[1].name, "email");
	assert_string_equal(c[1].type, "VARCHAR(255)");
	assert_int_equal(c[1].nullable, GW_FALSE);
	assert_false(c[1].primary_key);
	assert_false(c[1].autoincrement);
	assert_string_equal(c[2].name, "balance");
	assert_string_equal(c[2].type, "DOUBLE PRECISION");
	assert_int_equal(c[2].nullable, GW_TRUE);
	assert_string_equal(c[3].name, "created_at");
	assert_string_equal(c[3].type, "TIMESTAMP");
	assert_string_equal(c[3].default_expr, "CURRENT_TIMESTAMP");
	assert_int_equal(c[3].nullable, GW_UNSET);

	op = &m.ops[1];
	assert_int_equal(op->kind, GW_OP_CREATE_INDEX);
	assert_int_equal(op->index, 1);
	assert_string_equal(op->table, "users");
	assert_string_equal(op->name, "idx_users_email");
	assert_int_equal(op->nidx_columns, 1);
	assert_string_equal(op->idx_columns[0], "email");
	assert_true(op->unique);
	gw_migration_release(&m);
}

static void test_create_table_full(void **state)
{
	struct gw_migration m = {0};
	const struct gw_op *op;

	(void)state;
	parse_ok("{'id': 'a1', 'parents': [], 'operations': [{'create_table': {"
		 " 'table': 'orders', 'strategy': 'inplace', 'capture': 'replication',"
		 " 'columns': ["
		 "  {'name': 'tenant', 'type': 'INT', 'nullable': false},"
		 "  {'name': 'n', 'type': 'INT', 'nullable': false, 'default': 0, 'unique': true},"
		 "  {'name': 'price', 'type': 'NUMERIC(8,2)', 'default': 1.25},"
		 "  {'name': 'ratio', 'type': 'DOUBLE PRECISION', 'default': 0.1},"
		 "  {'name': 'big', 'type': 'BIGINT', 'default': -9007199254740993},"
		 "  {'name': 'paid', 'type': 'BOOLEAN', 'default': false},"
		 "  {'name': 'ok', 'type': 'BOOLEAN', 'default': true}],"
		 " 'primary_key': ['tenant', 'n'],"
		 " 'indexes': [{'name': 'i_price', 'columns': ['price', 'n'], 'unique': true},"
		 "             {'name': 'i_paid', 'columns': ['paid']}]}}]}",
		 &m);
	assert_int_equal(m.nparents, 0);
	assert_null(m.parents);
	assert_string_equal(m.message, "");
	op = &m.ops[0];
	assert_string_equal(op->strategy, "inplace");
	assert_string_equal(op->capture, "replication");
	assert_int_equal(op->ncolumns, 7);
	assert_int_equal(op->columns[0].nullable, GW_FALSE);
	assert_string_equal(op->columns[1].default_expr, "0");
	assert_true(op->columns[1].unique);
	assert_string_equal(op->columns[2].default_expr, "1.25");
	assert_string_equal(op->columns[3].default_expr, "0.1");
	assert_string_equal(op->columns[4].default_expr, "-9007199254740993");
	assert_string_equal(op->columns[5].default_expr, "false");
	assert_string_equal(op->columns[6].default_expr, "true");
	assert_int_equal(op->npk, 2);
	assert_string_equal(op->pk[0], "tenant");
	assert_string_equal(op->pk[1], "n");
	assert_int_equal(op->nindexes, 2);
	assert_string_equal(op->indexes[0].name, "i_price");
	assert_int_equal(op->indexes[0].ncolumns, 2);
	assert_string_equal(op->indexes[0].columns[0], "price");
	assert_string_equal(op->indexes[0].columns[1], "n");
	assert_true(op->indexes[0].unique);
	assert_string_equal(op->indexes[1].name, "i_paid");
	assert_int_equal(op->indexes[1].ncolumns, 1);
	assert_string_equal(op->indexes[1].columns[0], "paid");
	assert_false(op->indexes[1].unique);
	gw_migration_release(&m);
}

static void test_table_and_column_ops(void **state)
{
	struct gw_migration m = {0};
	const struct gw_op *op;

	(void)state;
	parse_ok("{'id': 'b2', 'parents': ['a1'], 'message': 'm', 'operations': ["
		 " {'drop_table': {'table': 'old', 'down': 'CREATE TABLE old (id INT)'}},"
		 " {'rename_table': {'from': 'a', 'to': 'b', 'down': 'DROP VIEW a',"
		 "                   'strategy': 'shadow'}},"
		 " {'add_column': {'table': 't', 'column': {'name': 'c', 'type': 'TEXT',"
		 "   'nullable': false, 'default': 'now()', 'unique': true},"
		 "   'backfill': 'upper(b)', 'down': 'SELECT 1'}},"
		 " {'drop_column': {'table': 't', 'column': 'd', 'down': 'ALTER TABLE t ADD d INT'}},"
		 " {'rename_column': {'table': 't', 'from': 'e', 'to': 'f', 'capture': 'triggers'}},"
		 " {'alter_column': {'table': 't', 'column': 'g', 'nullable': false, 'default': null}},"
		 " {'alter_column': {'table': 't', 'column': 'h', 'type': 'BIGINT', 'default': 7}},"
		 " {'rebuild_table': {'table': 't', 'alter': 'MODIFY c VARCHAR(200)'}}"
		 "]}",
		 &m);
	assert_int_equal(m.nops, 8);

	op = &m.ops[0];
	assert_int_equal(op->kind, GW_OP_DROP_TABLE);
	assert_string_equal(op->table, "old");
	assert_string_equal(op->down, "CREATE TABLE old (id INT)");

	op = &m.ops[1];
	assert_int_equal(op->kind, GW_OP_RENAME_TABLE);
	assert_int_equal(op->index, 1);
	assert_null(op->table);
	assert_string_equal(op->from, "a");
	assert_string_equal(op->to, "b");
	assert_string_equal(op->down, "DROP VIEW a");
	assert_string_equal(op->strategy, "shadow");

	op = &m.ops[2];
	assert_int_equal(op->kind, GW_OP_ADD_COLUMN);
	assert_string_equal(op->table, "t");
	assert_string_equal(op->column.name, "c");
	assert_string_equal(op->column.type, "TEXT");
	assert_int_equal(op->column.nullable, GW_FALSE);
	assert_string_equal(op->column.default_expr, "now()");
	assert_true(op->column.unique);
	assert_false(op->column.primary_key);
	assert_string_equal(op->backfill, "upper(b)");
	assert_string_equal(op->down, "SELECT 1");

	op = &m.ops[3];
	assert_int_equal(op->kind, GW_OP_DROP_COLUMN);
	assert_string_equal(op->table, "t");
	assert_string_equal(op->column_name, "d");
	assert_null(op->column.name);
	assert_string_equal(op->down, "ALTER TABLE t ADD d INT");

	op = &m.ops[4];
	assert_int_equal(op->kind, GW_OP_RENAME_COLUMN);
	assert_string_equal(op->table, "t");
	assert_string_equal(op->from, "e");
	assert_string_equal(op->to, "f");
	assert_string_equal(op->capture, "triggers");
	assert_null(op->strategy);

	op = &m.ops[5];
	assert_int_equal(op->kind, GW_OP_ALTER_COLUMN);
	assert_string_equal(op->column_name, "g");
	assert_null(op->type);
	assert_int_equal(op->nullable, GW_FALSE);
	assert_true(op->drop_default);
	assert_null(op->default_expr);
	assert_null(op->up);

	op = &m.ops[6];
	assert_string_equal(op->column_name, "h");
	assert_string_equal(op->type, "BIGINT");
	assert_int_equal(op->nullable, GW_UNSET);
	assert_false(op->drop_default);
	assert_string_equal(op->default_expr, "7");
	assert_null(op->up);
	assert_null(op->down);

	op = &m.ops[7];
	assert_int_equal(op->kind, GW_OP_REBUILD_TABLE);
	assert_string_equal(op->table, "t");
	assert_string_equal(op->alter, "MODIFY c VARCHAR(200)");
	gw_migration_release(&m);
}

static void test_index_constraint_ops(void **state)
{
	struct gw_migration m = {0};
	const struct gw_op *op;

	(void)state;
	parse_ok("{'id': 'c3', 'parents': ['b2'], 'operations': ["
		 " {'drop_index': {'table': 't', 'name': 'i1'}},"
		 " {'drop_index': {'table': 't', 'name': 'i2', 'columns': ['a', 'b'], 'unique': true,"
		 "                 'down': 'CREATE INDEX i2 ON t (a, b)'}},"
		 " {'add_constraint': {'table': 't', 'name': 'ck', 'check': 'a > 0'}},"
		 " {'add_constraint': {'table': 't', 'name': 'fk', 'foreign_key': {"
		 "    'columns': ['u', 'v'], 'references': {'table': 'users', 'columns': ['id', 'w']},"
		 "    'on_delete': 'set null'}}},"
		 " {'add_constraint': {'table': 't', 'name': 'uq', 'unique': ['a', 'b']}},"
		 " {'add_constraint': {'table': 't', 'name': 'nn', 'not_null': 'a'}},"
		 " {'add_constraint': {'table': 't', 'name': 'nn2', 'not_null': ['a', 'b']}},"
		 " {'add_constraint': {'table': 't', 'name': 'fk2', 'foreign_key': {"
		 "    'columns': ['u'], 'references': {'table': 'users', 'columns': ['id']}}}}"
		 "]}",
		 &m);
	assert_int_equal(m.nops, 8);

	op = &m.ops[0];
	assert_int_equal(op->kind, GW_OP_DROP_INDEX);
	assert_string_equal(op->name, "i1");
	assert_int_equal(op->nidx_columns, 0);
	assert_null(op->idx_columns);
	assert_false(op->unique);
	assert_null(op->down);

	op = &m.ops[1];
	assert_string_equal(op->name, "i2");
	assert_int_equal(op->nidx_columns, 2);
	assert_string_equal(op->idx_columns[1], "b");
	assert_true(op->unique);
	assert_string_equal(op->down, "CREATE INDEX i2 ON t (a, b)");

	op = &m.ops[2];
	assert_int_equal(op->kind, GW_OP_ADD_CONSTRAINT);
	assert_string_equal(op->name, "ck");
	assert_int_equal(op->constraint.kind, GW_CONSTRAINT_CHECK);
	assert_string_equal(op->constraint.check, "a > 0");
	assert_int_equal(op->constraint.ncolumns, 0);

	op = &m.ops[3];
	assert_int_equal(op->constraint.kind, GW_CONSTRAINT_FOREIGN_KEY);
	assert_int_equal(op->constraint.ncolumns, 2);
	assert_string_equal(op->constraint.columns[0], "u");
	assert_string_equal(op->constraint.columns[1], "v");
	assert_string_equal(op->constraint.ref_table, "users");
	assert_int_equal(op->constraint.nref_columns, 2);
	assert_string_equal(op->constraint.ref_columns[0], "id");
	assert_string_equal(op->constraint.ref_columns[1], "w");
	assert_string_equal(op->constraint.on_delete, "SET NULL");
	assert_null(op->constraint.check);

	op = &m.ops[4];
	assert_int_equal(op->constraint.kind, GW_CONSTRAINT_UNIQUE);
	assert_int_equal(op->constraint.ncolumns, 2);
	assert_string_equal(op->constraint.columns[0], "a");
	assert_false(op->unique);

	op = &m.ops[5];
	assert_int_equal(op->constraint.kind, GW_CONSTRAINT_NOT_NULL);
	assert_int_equal(op->constraint.ncolumns, 1);
	assert_string_equal(op->constraint.columns[0], "a");

	op = &m.ops[6];
	assert_int_equal(op->constraint.kind, GW_CONSTRAINT_NOT_NULL);
	assert_int_equal(op->constraint.ncolumns, 2);
	assert_string_equal(op->constraint.columns[1], "b");

	op = &m.ops[7];
	assert_int_equal(op->constraint.kind, GW_CONSTRAINT_FOREIGN_KEY);
	assert_null(op->constraint.on_delete);
	gw_migration_release(&m);
}

static void test_update_rows_sql_options(void **state)
{
	struct gw_migration m = {0};
	const struct gw_op *op;

	(void)state;
	parse_ok("{'id': 'd4', 'parents': ['c3'], 'message': '', 'operations': ["
		 " {'update_rows': {'table': 't', 'set': {'a': 'a + 1', 'b': 'NULL'},"
		 "                  'where': 'a < 10', 'down': {'a': 'a - 1'}}},"
		 " {'update_rows': {'table': 't', 'set': {'c': '0'}, 'down': 'UPDATE t SET c = 1'}},"
		 " {'sql': {'up': 'CREATE EXTENSION x'}},"
		 " {'sql': {'up': 'CREATE INDEX CONCURRENTLY i ON t (a)', 'down': 'DROP INDEX i',"
		 "          'transactional': false, 'phase': 'contract'}}"
		 "], 'options': {'strategy': 'shadow', 'capture': 'replication', 'chunk_time_ms': 3600000,"
		 " 'max_rate_rows': 5000, 'on_duplicate': 'replace', 'postpone_cutover': true}}",
		 &m);
	op = &m.ops[0];
	assert_int_equal(op->kind, GW_OP_UPDATE_ROWS);
	assert_int_equal(op->nset, 2);
	assert_string_equal(op->set[0].column, "a");
	assert_string_equal(op->set[0].expr, "a + 1");
	assert_string_equal(op->set[1].column, "b");
	assert_string_equal(op->set[1].expr, "NULL");
	assert_string_equal(op->where, "a < 10");
	assert_int_equal(op->ndown_set, 1);
	assert_string_equal(op->down_set[0].column, "a");
	assert_string_equal(op->down_set[0].expr, "a - 1");
	assert_null(op->down);

	op = &m.ops[1];
	assert_int_equal(op->nset, 1);
	assert_null(op->where);
	assert_int_equal(op->ndown_set, 0);
	assert_string_equal(op->down, "UPDATE t SET c = 1");

	op = &m.ops[2];
	assert_int_equal(op->kind, GW_OP_SQL);
	assert_null(op->table);
	assert_string_equal(op->up, "CREATE EXTENSION x");
	assert_null(op->down);
	assert_true(op->transactional);
	assert_string_equal(op->phase, "expand");

	op = &m.ops[3];
	assert_string_equal(op->down, "DROP INDEX i");
	assert_false(op->transactional);
	assert_string_equal(op->phase, "contract");

	assert_string_equal(m.options.strategy, "shadow");
	assert_string_equal(m.options.capture, "replication");
	assert_int_equal(m.options.chunk_time_ms, 3600000);
	assert_int_equal(m.options.max_rate_rows, 5000);
	assert_string_equal(m.options.on_duplicate, "replace");
	assert_true(m.options.postpone_cutover);
	gw_migration_release(&m);
}

static void test_merge_and_odd_identifiers(void **state)
{
	/* Identifiers may hold spaces, quotes and reserved words: the driver quotes. */
	static const char text[] =
		"{\"id\": \"m5\", \"parents\": [\"a\", \"b\"], \"operations\": []}";
	static const char odd[] =
		"{\"id\": \"e6\", \"parents\": [\"d4\"], \"operations\": ["
		"{\"rename_column\": {\"table\": \"select\", \"from\": \"my col\","
		" \"to\": \"it's \\\"q\\\"\"}},"
		"{\"drop_table\": {\"table\": \"" /* 63 bytes: the limit */
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk\"}}]}";
	struct gw_migration m = {0};
	struct gw_error err = GW_ERROR_INIT;

	(void)state;
	assert_int_equal(gw_migration_parse(text, strlen(text), PATH, &m, &err), 0);
	assert_int_equal(m.nparents, 2);
	assert_int_equal(m.nops, 0);
	assert_null(m.ops);
	assert_string_equal(m.message, "");
	gw_migration_release(&m);

	assert_int_equal(gw_migration_parse(odd, strlen(odd), PATH, &m, &err), 0);
	assert_string_equal(m.ops[0].table, "select");
	assert_string_equal(m.ops[0].from, "my col");
	assert_string_equal(m.ops[0].to, "it's \"q\"");
	assert_int_equal(strlen(m.ops[1].table), 63);
	gw_migration_release(&m);
}

/* One valid operation, then the one under test at index 1. */
#define OP1(op) "{'id': '0003_x', 'parents': ['0002'], 'operations': [{'sql': {'up': 'SELECT 1'}}, " op "]}"
#define TOP(rest) "{'id': '0003_x', 'parents': ['0002'], 'operations': [{'sql': {'up': 'SELECT 1'}}]" rest "}"

static const struct bad_case {
	const char *json;  /* with ' for " */
	const char *where; /* expected in the message after the file name, or NULL */
	const char *field; /* expected field name (or other key text), or NULL */
} bad_cases[] = {
	/* malformed JSON: file:line:column */
	{"{\n 'id': '0003_x',\n 'parents': [,]\n}", PATH ":3:", "invalid JSON"},
	{"{'id': '0003_x'", PATH ":1:", "invalid JSON"},
	{"", PATH ":1:", "invalid JSON"},
	{"{'id': 'a', 'id': 'b', 'parents': [], 'operations': []}", "invalid JSON", "duplicate"},
	{"[1, 2]", "top level", NULL},
	/* top level */
	{TOP(", 'colour': 'red'"), "unknown field", "colour"},
	{"{'parents': [], 'operations': [{'sql': {'up': 'x'}}]}", "missing field", "id"},
	{"{'id': '0003_x', 'operations': [{'sql': {'up': 'x'}}]}", "missing field", "parents"},
	{"{'id': '0003_x', 'parents': []}", "missing field", "operations"},
	{"{'id': '0003-x', 'parents': [], 'operations': [{'sql': {'up': 'x'}}]}", "field 'id'", "0003-x"},
	{"{'id': '', 'parents': [], 'operations': [{'sql': {'up': 'x'}}]}", "field 'id'", "invalid"},
	{"{'id': 3, 'parents': [], 'operations': [{'sql': {'up': 'x'}}]}", "field 'id'", "string"},
	{"{'id': 'a', 'parents': 'b', 'operations': [{'sql': {'up': 'x'}}]}", "field 'parents'", "list"},
	{"{'id': 'a', 'parents': ['b c'], 'operations': [{'sql': {'up': 'x'}}]}", "field 'parents'", "item 0"},
	{"{'id': 'a', 'parents': ['b', 7], 'operations': [{'sql': {'up': 'x'}}]}", "field 'parents'", "item 1"},
	{"{'id': 'a', 'parents': ['b', 'b'], 'operations': [{'sql': {'up': 'x'}}]}", "field 'parents'", "duplicate 'b'"},
	{"{'id': 'a', 'parents': ['a'], 'operations': [{'sql': {'up': 'x'}}]}", "field 'parents'", "own parent"},
	{"{'id': 'a', 'parents': [], 'operations': {}}", "field 'operations'", "list"},
	{TOP(", 'message': 5"), "field 'message'", "string"},
	/* options */
	{TOP(", 'options': []"), "field 'options'", "object"},
	{TOP(", 'options': {'chunk': 5}"), "field 'options'", "unknown field 'chunk'"},
	{TOP(", 'options': {'chunk_time_ms': 0}"), "field 'options'", "field 'chunk_time_ms'"},
	{TOP(", 'options': {'chunk_time_ms': 3600001}"), "field 'options'", "field 'chunk_time_ms'"},
	{TOP(", 'options': {'chunk_time_ms': 1.5}"), "field 'options'", "field 'chunk_time_ms'"},
	{TOP(", 'options': {'max_rate_rows': -1}"), "field 'options'", "field 'max_rate_rows'"},
	{TOP(", 'options': {'on_duplicate': 'skip'}"), "field 'options'", "field 'on_duplicate'"},
	{TOP(", 'options': {'strategy': 'fast'}"), "field 'options'", "field 'strategy'"},
	{TOP(", 'options': {'capture': 'binlog'}"), "field 'options'", "field 'capture'"},
	{TOP(", 'options': {'postpone_cutover': 'yes'}"), "field 'options'", "field 'postpone_cutover'"},
	/* operation shape */
	{OP1("{'add_colum': {'table': 't'}}"), "operation 1: ", "unknown operation 'add_colum'"},
	{OP1("{'drop_table': {'table': 't'}, 'sql': {'up': 'x'}}"), "operation 1: ", "exactly one key"},
	{OP1("{}"), "operation 1: ", "exactly one key"},
	{OP1("'drop_table'"), "operation 1: ", "operation name"},
	{OP1("{'drop_table': 'users'}"), "operation 1 (drop_table): ", "object"},
	{OP1("{'create_table': {'table': 't', 'colums': [{'name': 'a', 'type': 'INT'}]}}"),
	 "operation 1 (create_table): ", "unknown field 'colums'"},
	{OP1("{'create_table': {'columns': [{'name': 'a', 'type': 'INT'}]}}"),
	 "operation 1 (create_table): ", "missing field 'table'"},
	{OP1("{'drop_table': {'table': 't', 'backfill': 'x'}}"), "operation 1 (drop_table): ", "unknown field 'backfill'"},
	{OP1("{'rebuild_table': {'table': 't'}}"), "operation 1 (rebuild_table): ", "missing field 'alter'"},
	{OP1("{'sql': {'down': 'x'}}"), "operation 1 (sql): ", "missing field 'up'"},
	/* field types */
	{OP1("{'alter_column': {'table': 't', 'column': 'c', 'type': 42}}"),
	 "operation 1 (alter_column): ", "field 'type': expected a string"},
	{OP1("{'alter_column': {'table': 't', 'column': 'c', 'up': 'c'}}"),
	 "operation 1 (alter_column): ", "nothing to change"},
	{OP1("{'alter_column': {'table': 't', 'column': 'c', 'nullable': 'no'}}"),
	 "operation 1 (alter_column): ", "field 'nullable'"},
	{OP1("{'alter_column': {'table': 't', 'column': 'c', 'default': []}}"),
	 "operation 1 (alter_column): ", "field 'default'"},
	{OP1("{'alter_column': {'table': 't', 'column': 'c', 'type': ''}}"),
	 "operation 1 (alter_column): ", "field 'type': must not be empty"},
	{OP1("{'create_index': {'table': 't', 'name': 'i', 'columns': ['a'], 'unique': 'yes'}}"),
	 "operation 1 (create_index): ", "field 'unique'"},
	{OP1("{'create_index': {'table': 't', 'name': 'i', 'columns': 'a'}}"),
	 "operation 1 (create_index): ", "field 'columns'"},
	{OP1("{'create_index': {'table': 't', 'name': 'i', 'columns': ['a', 1]}}"),
	 "operation 1 (create_index): ", "field 'columns': item 1"},
	{OP1("{'create_index': {'table': 't', 'name': 'i', 'columns': []}}"),
	 "operation 1 (create_index): ", "field 'columns': expected a non-empty list"},
	{OP1("{'create_index': {'table': 't', 'name': 'i', 'columns': ['a', 'a']}}"),
	 "operation 1 (create_index): ", "field 'columns': duplicate"},
	{OP1("{'drop_table': {'table': ''}}"), "operation 1 (drop_table): ", "field 'table': must not be empty"},
	{OP1("{'drop_table': {'table': 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl'}}"),
	 "operation 1 (drop_table): ", "field 'table': identifier longer"},
	{OP1("{'drop_column': {'table': 't', 'column': {'name': 'c'}}}"),
	 "operation 1 (drop_column): ", "field 'column': expected a string"},
	{OP1("{'rename_column': {'table': 't', 'from': 'a', 'to': 'a'}}"),
	 "operation 1 (rename_column): ", "field 'to'"},
	/* column objects */
	{OP1("{'create_table': {'table': 't', 'columns': []}}"), "operation 1 (create_table): ", "field 'columns'"},
	{OP1("{'create_table': {'table': 't', 'columns': {'name': 'a'}}}"), "operation 1 (create_table): ", "field 'columns'"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT'}, {'name': 'b', 'type': 'INT'},"
	     " {'type': 'INT'}]}}"), "operation 1 (create_table): columns[2]: ", "missing field 'name'"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT'}, 5]}}"),
	 "operation 1 (create_table): columns[1]: ", "expected an object"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT', 'nullable': 1}]}}"),
	 "operation 1 (create_table): columns[0]: ", "field 'nullable'"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT', 'default': null}]}}"),
	 "operation 1 (create_table): columns[0]: ", "field 'default'"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT', 'primary_key': true,"
	     " 'nullable': true}]}}"), "operation 1 (create_table): columns[0]: ", "field 'nullable'"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT'}, {'name': 'a', 'type': 'INT'}]}}"),
	 "operation 1 (create_table): ", "field 'columns': duplicate column 'a'"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT'}], 'primary_key': ['b']}}"),
	 "operation 1 (create_table): ", "field 'primary_key': unknown column 'b'"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT'}],"
	     " 'indexes': [{'name': 'i', 'columns': 'a'}]}}"), "operation 1 (create_table): indexes[0]: ", "field 'columns'"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT'}],"
	     " 'indexes': [{'name': 'i', 'columns': ['z']}]}}"),
	 "operation 1 (create_table): indexes[0]: ", "field 'columns': unknown column 'z'"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT'}],"
	     " 'indexes': [{'name': 'i', 'columns': ['a']}, {'name': 'i', 'columns': ['a']}]}}"),
	 "operation 1 (create_table): indexes[1]: ", "field 'name': duplicate index 'i'"},
	{OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT', 'primary_key': true}],"
	     " 'primary_key': ['a']}}"), "operation 1 (create_table): ", "field 'primary_key'"},
	{OP1("{'add_column': {'table': 't', 'column': {'name': 'c', 'type': 'INT', 'size': 4}}}"),
	 "operation 1 (add_column): field 'column': ", "unknown field 'size'"},
	{OP1("{'add_column': {'table': 't', 'column': 'c'}}"), "operation 1 (add_column): field 'column': ", "object"},
	/* update_rows */
	{OP1("{'update_rows': {'table': 't', 'set': {}}}"), "operation 1 (update_rows): ", "field 'set'"},
	{OP1("{'update_rows': {'table': 't', 'set': ['a']}}"), "operation 1 (update_rows): ", "field 'set'"},
	{OP1("{'update_rows': {'table': 't', 'set': {'status': 1}}}"),
	 "operation 1 (update_rows): field 'set': ", "field 'status'"},
	{OP1("{'update_rows': {'table': 't', 'set': {'a': '1'}, 'down': 3}}"), "operation 1 (update_rows): ", "field 'down'"},
	{OP1("{'update_rows': {'table': 't', 'set': {'a': '1'}, 'where': true}}"), "operation 1 (update_rows): ", "field 'where'"},
	/* add_constraint */
	{OP1("{'add_constraint': {'table': 't', 'name': 'c', 'check': 'a > 0', 'unique': ['a']}}"),
	 "operation 1 (add_constraint): ", "exactly one of 'check'"},
	{OP1("{'add_constraint': {'table': 't', 'name': 'c'}}"), "operation 1 (add_constraint): ", "exactly one of 'check'"},
	{OP1("{'add_constraint': {'table': 't', 'name': 'c', 'foreign_key': {'columns': ['a']}}}"),
	 "operation 1 (add_constraint): field 'foreign_key': ", "missing field 'references'"},
	{OP1("{'add_constraint': {'table': 't', 'name': 'c', 'foreign_key': {'columns': ['a', 'b'],"
	     " 'references': {'table': 'u', 'columns': ['id']}}}}"),
	 "operation 1 (add_constraint): field 'foreign_key': ", "'references'"},
	{OP1("{'add_constraint': {'table': 't', 'name': 'c', 'foreign_key': {'columns': ['a'],"
	     " 'references': {'table': 'u', 'columns': ['id']}, 'on_delete': 'explode'}}}"),
	 "operation 1 (add_constraint): field 'foreign_key': ", "field 'on_delete'"},
	{OP1("{'add_constraint': {'table': 't', 'name': 'c', 'foreign_key': {'columns': ['a'],"
	     " 'references': {'columns': ['id']}}}}"),
	 "operation 1 (add_constraint): field 'foreign_key': field 'references': ", "missing field 'table'"},
	{OP1("{'add_constraint': {'table': 't', 'name': 'c', 'not_null': 5}}"),
	 "operation 1 (add_constraint): ", "field 'not_null'"},
	{OP1("{'add_constraint': {'table': 't', 'name': 'c', 'check': ''}}"),
	 "operation 1 (add_constraint): ", "field 'check'"},
	/* strategy, capture, sql */
	{OP1("{'drop_table': {'table': 't', 'strategy': 'fast'}}"), "operation 1 (drop_table): ", "field 'strategy'"},
	{OP1("{'drop_table': {'table': 't', 'capture': 'binlog'}}"), "operation 1 (drop_table): ", "field 'capture'"},
	{OP1("{'sql': {'up': 'x', 'phase': 'backfill'}}"), "operation 1 (sql): ", "field 'phase'"},
	{OP1("{'sql': {'up': 'x', 'transactional': 'no'}}"), "operation 1 (sql): ", "field 'transactional'"},
	{OP1("{'sql': {'up': 'x', 'phase': 'contract', 'transactional': 0}}"), "operation 1 (sql): ", "field 'transactional'"},
};

static void test_bad_inputs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct gw_migration m = {0};
		struct gw_error err = GW_ERROR_INIT;
		size_t len;
		int rc;

		rc = parse_q(bc->json, &m, &err);
		if (rc != GW_ERR_INPUT || !strstr(err.msg, PATH) ||
		    (bc->where && !strstr(err.msg, bc->where)) ||
		    (bc->field && !strstr(err.msg, bc->field)))
			print_error("case %zu: rc %d, message '%s'\n", i, rc, err.msg);
		assert_int_equal(rc, GW_ERR_INPUT);
		assert_int_equal(err.code, GW_ERR_INPUT);
		assert_non_null(strstr(err.msg, PATH));
		if (bc->where)
			assert_non_null(strstr(err.msg, bc->where));
		if (bc->field)
			assert_non_null(strstr(err.msg, bc->field));
		/* STYLE.md section 3: no newline, no trailing period */
		len = strlen(err.msg);
		assert_true(len > 0);
		assert_null(strchr(err.msg, '\n'));
		assert_int_not_equal(err.msg[len - 1], '.');
		/* released on failure */
		assert_true(is_zero(&m, sizeof(m)));
	}
}

static void test_error_hints(void **state)
{
	struct gw_migration m = {0};
	struct gw_error err = GW_ERROR_INIT;

	(void)state;
	assert_int_equal(parse_q(OP1("{'add_colum': {'table': 't'}}"), &m, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg, PATH ": operation 1: unknown operation 'add_colum'");
	assert_non_null(strstr(err.hint, "add_column"));
	assert_non_null(strstr(err.hint, "rebuild_table"));

	gw_error_clear(&err);
	assert_int_equal(parse_q(OP1("{'create_table': {'table': 't', 'colums': []}}"), &m, &err),
			 GW_ERR_INPUT);
	assert_string_equal(err.msg, PATH ": operation 1 (create_table): unknown field 'colums'");
	assert_non_null(strstr(err.hint, "'columns'"));
	assert_non_null(strstr(err.hint, "'strategy'"));

	gw_error_clear(&err);
	assert_int_equal(parse_q(OP1("{'alter_column': {'table': 't', 'column': 'c', 'type': 1}}"),
				 &m, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg,
			    PATH ": operation 1 (alter_column): field 'type': expected a string");

	gw_error_clear(&err);
	assert_int_equal(parse_q(TOP(", 'options': {'on_duplicate': 'skip'}"), &m, &err),
			 GW_ERR_INPUT);
	assert_string_equal(err.msg, PATH ": field 'options': field 'on_duplicate': expected one of "
				     "'fail', 'ignore', 'replace', got 'skip'");

	gw_error_clear(&err);
	assert_int_equal(parse_q("{\n  'id': 'x',\n  'parents': [,]\n}", &m, &err), GW_ERR_INPUT);
	assert_true(strncmp(err.msg, PATH ":3:15: invalid JSON: ", strlen(PATH ":3:15: invalid JSON: ")) == 0);

	/* nested list item location */
	gw_error_clear(&err);
	assert_int_equal(parse_q(OP1("{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT'},"
				     " {'name': 'b', 'type': 'INT'}, {'name': 7, 'type': 'INT'}]}}"),
				 &m, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg, PATH ": operation 1 (create_table): columns[2]: field 'name': "
				     "expected a string");
	assert_true(is_zero(&m, sizeof(m)));
}

static void test_kind_names(void **state)
{
	static const char *const names[] = {
		"create_table", "drop_table", "rename_table", "add_column", "drop_column",
		"rename_column", "alter_column", "create_index", "drop_index", "add_constraint",
		"update_rows", "rebuild_table", "sql",
	};

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), GW_OP__COUNT);
	for (int k = 0; k < GW_OP__COUNT; k++)
		assert_string_equal(gw_op_kind_name((enum gw_op_kind)k), names[k]);
	assert_null(gw_op_kind_name(GW_OP__COUNT));
	assert_null(gw_op_kind_name((enum gw_op_kind)-1));
}

static void test_id_valid(void **state)
{
	(void)state;
	assert_true(gw_migration_id_valid("0003_retype_balance"));
	assert_true(gw_migration_id_valid("A"));
	assert_true(gw_migration_id_valid("_"));
	assert_false(gw_migration_id_valid(""));
	assert_false(gw_migration_id_valid(NULL));
	assert_false(gw_migration_id_valid("a-b"));
	assert_false(gw_migration_id_valid("a b"));
	assert_false(gw_migration_id_valid("a.json"));
	assert_false(gw_migration_id_valid("\xc3\xa9t\xc3\xa9"));
}

static void test_checksum(void **state)
{
	char out[17];

	(void)state;
	gw_checksum("", 0, out);
	assert_string_equal(out, "cbf29ce484222325");
	gw_checksum("a", 1, out);
	assert_string_equal(out, "af63dc4c8601ec8c");
	gw_checksum("foobar", 6, out);
	assert_string_equal(out, "85944171f73967e8");
	/* every byte counts, NUL included */
	gw_checksum("a\0", 2, out);
	assert_string_not_equal(out, "af63dc4c8601ec8c");
}

static void write_file(const char *dir, const char *name, const char *squoted)
{
	char path[512];
	char *text = dq(squoted);
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	free(text);
}

static void remove_file(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(unlink(path), 0);
}

static void test_set_load(void **state)
{
	char dir[] = "/tmp/gw_test_migration_XXXXXX";
	char path[600];
	struct gw_migration_set set = GW_MIGRATION_SET_INIT;
	struct gw_error err = GW_ERROR_INIT;
	struct gw_migration m = {0};

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "0002_b.json", "{'id': 'b', 'parents': ['a'], 'operations': [{'sql': {'up': 'x'}}]}");
	write_file(dir, "0001_a.json", "{'id': 'a', 'parents': [], 'operations': [{'sql': {'up': 'x'}}]}");
	write_file(dir, "0010_c.json", "{'id': 'c', 'parents': ['b'], 'operations': [{'sql': {'up': 'x'}}]}");
	write_file(dir, "README.txt", "not json");
	write_file(dir, ".#0003.json", "editor lock file");

	assert_int_equal(gw_migration_set_load(dir, false, &set, &err), 0);
	assert_string_equal(set.dir, dir);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.v[0].id, "a");
	assert_string_equal(set.v[1].id, "b");
	assert_string_equal(set.v[2].id, "c");
	snprintf(path, sizeof(path), "%s/0010_c.json", dir);
	assert_string_equal(set.v[2].path, path);
	assert_ptr_equal(gw_migration_set_find(&set, "b"), &set.v[1]);
	assert_null(gw_migration_set_find(&set, "z"));
	/* checksum of the file equals that of a single load */
	assert_int_equal(gw_migration_load(path, &m, &err), 0);
	assert_string_equal(m.checksum, set.v[2].checksum);
	assert_string_not_equal(set.v[0].checksum, set.v[1].checksum);
	gw_migration_release(&m);
	gw_migration_set_release(&set);
	assert_int_equal(set.n, 0);
	assert_null(set.v);
	assert_null(set.dir);
	gw_migration_set_release(&set);

	/* duplicate id names both files */
	write_file(dir, "0005_dup.json", "{'id': 'b', 'parents': ['a'], 'operations': [{'sql': {'up': 'y'}}]}");
	assert_int_equal(gw_migration_set_load(dir, false, &set, &err), GW_ERR_INPUT);
	assert_non_null(strstr(err.msg, "duplicate migration id 'b'"));
	assert_non_null(strstr(err.msg, "0002_b.json"));
	assert_non_null(strstr(err.msg, "0005_dup.json"));
	assert_int_equal(set.n, 0);
	assert_null(set.v);
	assert_null(set.dir);
	remove_file(dir, "0005_dup.json");

	/* a bad file fails the set and names the file */
	gw_error_clear(&err);
	write_file(dir, "0004_bad.json", "{'id': 'd', 'parents': ['c'], 'operations': [{'sql': {}}]}");
	assert_int_equal(gw_migration_set_load(dir, false, &set, &err), GW_ERR_INPUT);
	snprintf(path, sizeof(path), "%s/0004_bad.json: operation 0 (sql): missing field 'up'", dir);
	assert_string_equal(err.msg, path);
	assert_int_equal(set.n, 0);
	remove_file(dir, "0004_bad.json");

	/* empty, then missing directory */
	remove_file(dir, "0001_a.json");
	remove_file(dir, "0002_b.json");
	remove_file(dir, "0010_c.json");
	remove_file(dir, "README.txt");
	remove_file(dir, ".#0003.json");
	assert_int_equal(gw_migration_set_load(dir, false, &set, &err), 0);
	assert_int_equal(set.n, 0);
	gw_migration_set_release(&set);
	assert_int_equal(rmdir(dir), 0);

	gw_error_clear(&err);
	assert_int_equal(gw_migration_set_load(dir, true, &set, &err), 0);
	assert_int_equal(set.n, 0);
	assert_string_equal(set.dir, dir);
	gw_migration_set_release(&set);

	assert_int_equal(gw_migration_set_load(dir, false, &set, &err), GW_ERR_IO);
	snprintf(path, sizeof(path), "could not open migrations directory '%s': %s", dir,
		 strerror(ENOENT));
	assert_string_equal(err.msg, path);
	assert_null(set.dir);

	gw_error_clear(&err);
	assert_int_equal(gw_migration_load("/nonexistent/x.json", &m, &err), GW_ERR_IO);
	assert_non_null(strstr(err.msg, "'/nonexistent/x.json'"));
	assert_true(is_zero(&m, sizeof(m)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example_alter),
		cmocka_unit_test(test_spec_example_create),
		cmocka_unit_test(test_create_table_full),
		cmocka_unit_test(test_table_and_column_ops),
		cmocka_unit_test(test_index_constraint_ops),
		cmocka_unit_test(test_update_rows_sql_options),
		cmocka_unit_test(test_merge_and_odd_identifiers),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_error_hints),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_set_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
