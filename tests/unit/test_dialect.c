/*
 * Dialect SQL: the exact statements and step flags of every builder on
 * MariaDB/MySQL and PostgreSQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "godwit/dialect.h"
#include "godwit/driver.h"

/* Mutable char * from a literal, for the char * fields of the model. */
#define S(x) ((char *)(x))

static const struct gw_dialect *const my = &gw_dialect_mysql;
static const struct gw_dialect *const pg = &gw_dialect_postgres;

#define MODIFY_OFFLINE "/* nullability and default restated from the live column at run time */"

static void step_is(const struct gw_steps *s, size_t i, unsigned flags, const char *sql)
{
	assert_true(i < s->n);
	assert_string_equal(s->v[i].sql, sql);
	assert_int_equal(s->v[i].flags, flags);
}

static char *ident(const struct gw_dialect *d, const char *name)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_sql_ident(&b, d, name);
	return gw_buf_detach(&b);
}

static char *literal(const struct gw_dialect *d, const char *s)
{
	struct gw_buf b = GW_BUF_INIT;

	d->literal(&b, s);
	return gw_buf_detach(&b);
}

#define assert_ident(d, name, want)                  \
	do {                                         \
		char *got_ = ident((d), (name));     \
		assert_string_equal(got_, (want));   \
		free(got_);                          \
	} while (0)

#define assert_literal(d, s, want)                   \
	do {                                         \
		char *got_ = literal((d), (s));      \
		assert_string_equal(got_, (want));   \
		free(got_);                          \
	} while (0)

static void test_find(void **state)
{
	(void)state;
	assert_ptr_equal(gw_dialect_find("mysql"), my);
	assert_ptr_equal(gw_dialect_find("mariadb"), my);
	assert_ptr_equal(gw_dialect_find("postgres"), pg);
	assert_ptr_equal(gw_dialect_find("postgresql"), pg);
	assert_ptr_equal(gw_dialect_find("MariaDB"), my);
	assert_null(gw_dialect_find("sqlite"));
	assert_null(gw_dialect_find("postgre"));
	assert_null(gw_dialect_find(""));
	assert_null(gw_dialect_find(NULL));
	assert_string_equal(my->name, "mysql");
	assert_string_equal(pg->name, "postgres");
	assert_int_equal(my->id, GW_DIALECT_MYSQL);
	assert_int_equal(pg->id, GW_DIALECT_POSTGRES);
	assert_int_equal(my->version, 1);
	assert_int_equal(pg->version, 1);
}

static void test_ident_mysql(void **state)
{
	(void)state;
	assert_ident(my, "users", "`users`");
	assert_ident(my, "select", "`select`");
	assert_ident(my, "order", "`order`");
	assert_ident(my, "first name", "`first name`");
	assert_ident(my, "a`b", "`a``b`");
	assert_ident(my, "``", "``````");
	assert_ident(my, "a\"b", "`a\"b`");
	assert_ident(my, "", "``");
}

static void test_ident_postgres(void **state)
{
	(void)state;
	assert_ident(pg, "users", "\"users\"");
	assert_ident(pg, "select", "\"select\"");
	assert_ident(pg, "order", "\"order\"");
	assert_ident(pg, "first name", "\"first name\"");
	assert_ident(pg, "a\"b", "\"a\"\"b\"");
	assert_ident(pg, "\"", "\"\"\"\"");
	assert_ident(pg, "a`b", "\"a`b\"");
	assert_ident(pg, "Users", "\"Users\"");
}

static void test_ident_list(void **state)
{
	char *names[] = {S("a"), S("select"), S("x y"), S("q`\"")};
	struct gw_buf b = GW_BUF_INIT;

	(void)state;
	gw_sql_ident_list(&b, my, 4, names);
	assert_string_equal(b.data, "`a`, `select`, `x y`, `q``\"`");
	gw_buf_reset(&b);
	gw_sql_ident_list(&b, pg, 4, names);
	assert_string_equal(b.data, "\"a\", \"select\", \"x y\", \"q`\"\"\"");
	gw_buf_reset(&b);
	gw_sql_ident_list(&b, pg, 1, names);
	assert_string_equal(b.data, "\"a\"");
	gw_buf_reset(&b);
	gw_sql_ident_list(&b, pg, 0, names);
	assert_string_equal(b.data, "");
	gw_buf_release(&b);
}

static void test_literal_mysql(void **state)
{
	(void)state;
	assert_literal(my, "abc", "'abc'");
	assert_literal(my, "", "''");
	assert_literal(my, "it's", "'it''s'");
	assert_literal(my, "a\\b", "'a\\\\b'");
	assert_literal(my, "\\'", "'\\\\'''");
	assert_literal(my, "say \"hi\" `x`", "'say \"hi\" `x`'");
	assert_literal(my, NULL, "NULL");
}

static void test_literal_postgres(void **state)
{
	(void)state;
	assert_literal(pg, "abc", "'abc'");
	assert_literal(pg, "", "''");
	assert_literal(pg, "it's", "'it''s'");
	assert_literal(pg, "a\\b", "E'a\\\\b'");
	assert_literal(pg, "\\'", "E'\\\\'''");
	assert_literal(pg, "say \"hi\"", "'say \"hi\"'");
	assert_literal(pg, NULL, "NULL");
}

/* The users table of SPEC section 3. */
static struct gw_column_def users_columns[] = {
	{S("id"), S("BIGINT"), GW_UNSET, NULL, true, true, false},
	{S("email"), S("VARCHAR(255)"), GW_FALSE, NULL, false, false, false},
	{S("balance"), S("DOUBLE PRECISION"), GW_TRUE, NULL, false, false, false},
	{S("created_at"), S("TIMESTAMP"), GW_UNSET, S("CURRENT_TIMESTAMP"), false, false, false},
};
static char *email_col[] = {S("email")};
static char *two_cols[] = {S("created_at"), S("balance")};
static struct gw_index_def users_indexes[] = {
	{S("idx_users_email"), 1, email_col, true},
	{S("idx users created"), 2, two_cols, false},
};

static void users_op(struct gw_op *op)
{
	memset(op, 0, sizeof(*op));
	op->kind = GW_OP_CREATE_TABLE;
	op->table = S("users");
	op->ncolumns = GW_ARRAY_SIZE(users_columns);
	op->columns = users_columns;
	op->nindexes = GW_ARRAY_SIZE(users_indexes);
	op->indexes = users_indexes;
}

static void test_create_table_mysql(void **state)
{
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_op op;

	(void)state;
	users_op(&op);
	my->create_table(&s, &op);
	assert_int_equal(s.n, 3);
	step_is(&s, 0, 0,
		"CREATE TABLE `users` (`id` BIGINT NOT NULL AUTO_INCREMENT, "
		"`email` VARCHAR(255) NOT NULL, `balance` DOUBLE PRECISION, "
		"`created_at` TIMESTAMP DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (`id`))");
	step_is(&s, 1, 0, "CREATE UNIQUE INDEX `idx_users_email` ON `users` (`email`)");
	step_is(&s, 2, 0,
		"CREATE INDEX `idx users created` ON `users` (`created_at`, `balance`)");
	gw_steps_release(&s);
}

static void test_create_table_postgres(void **state)
{
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_op op;

	(void)state;
	users_op(&op);
	pg->create_table(&s, &op);
	assert_int_equal(s.n, 3);
	step_is(&s, 0, 0,
		"CREATE TABLE \"users\" (\"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY, "
		"\"email\" VARCHAR(255) NOT NULL, \"balance\" DOUBLE PRECISION, "
		"\"created_at\" TIMESTAMP DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (\"id\"))");
	step_is(&s, 1, 0, "CREATE UNIQUE INDEX \"idx_users_email\" ON \"users\" (\"email\")");
	step_is(&s, 2, 0,
		"CREATE INDEX \"idx users created\" ON \"users\" (\"created_at\", \"balance\")");
	gw_steps_release(&s);
}

/*
 * Reserved and odd names, a table-level key in its own order united with a
 * column flag, and a unique column.
 */
static struct gw_column_def odd_columns[] = {
	{S("select"), S("INT"), GW_UNSET, NULL, true, false, false},
	{S("a`b\"c d"), S("TEXT"), GW_UNSET, S("'x'"), false, false, true},
	{S("tenant"), S("INT"), GW_TRUE, NULL, false, false, false},
};
static char *odd_pk[] = {S("tenant")};

static void odd_op(struct gw_op *op)
{
	memset(op, 0, sizeof(*op));
	op->kind = GW_OP_CREATE_TABLE;
	op->table = S("order");
	op->ncolumns = GW_ARRAY_SIZE(odd_columns);
	op->columns = odd_columns;
	op->npk = 1;
	op->pk = odd_pk;
}

static void test_create_table_composite(void **state)
{
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_op op;

	(void)state;
	odd_op(&op);
	my->create_table(&s, &op);
	pg->create_table(&s, &op);
	assert_int_equal(s.n, 2);
	step_is(&s, 0, 0,
		"CREATE TABLE `order` (`select` INT NOT NULL, `a``b\"c d` TEXT DEFAULT 'x', "
		"`tenant` INT NOT NULL, PRIMARY KEY (`tenant`, `select`), UNIQUE (`a``b\"c d`))");
	step_is(&s, 1, 0,
		"CREATE TABLE \"order\" (\"select\" INT NOT NULL, \"a`b\"\"c d\" TEXT DEFAULT 'x', "
		"\"tenant\" INT NOT NULL, PRIMARY KEY (\"tenant\", \"select\"), "
		"UNIQUE (\"a`b\"\"c d\"))");
	gw_steps_release(&s);
}

static void test_create_table_keys(void **state)
{
	struct gw_column_def cols[] = {
		{S("a"), S("INT"), GW_UNSET, NULL, false, false, false},
		{S("b"), S("INT"), GW_UNSET, NULL, true, false, false},
		{S("c"), S("INT"), GW_UNSET, NULL, false, false, false},
	};
	char *pk[] = {S("c"), S("b"), S("a")};
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_op op;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.table = S("t");
	op.ncolumns = 3;
	op.columns = cols;
	/* table-level key only, in key order; the flag on b is already in it */
	op.npk = 3;
	op.pk = pk;
	my->create_table(&s, &op);
	pg->create_table(&s, &op);
	/* no key at all */
	op.npk = 0;
	cols[1].primary_key = false;
	my->create_table(&s, &op);
	pg->create_table(&s, &op);
	assert_int_equal(s.n, 4);
	step_is(&s, 0, 0,
		"CREATE TABLE `t` (`a` INT NOT NULL, `b` INT NOT NULL, `c` INT NOT NULL, "
		"PRIMARY KEY (`c`, `b`, `a`))");
	step_is(&s, 1, 0,
		"CREATE TABLE \"t\" (\"a\" INT NOT NULL, \"b\" INT NOT NULL, \"c\" INT NOT NULL, "
		"PRIMARY KEY (\"c\", \"b\", \"a\"))");
	step_is(&s, 2, 0, "CREATE TABLE `t` (`a` INT, `b` INT, `c` INT)");
	step_is(&s, 3, 0, "CREATE TABLE \"t\" (\"a\" INT, \"b\" INT, \"c\" INT)");
	gw_steps_release(&s);
}

static void test_table_ops(void **state)
{
	struct gw_steps s = GW_STEPS_INIT;

	(void)state;
	my->drop_table(&s, "order");
	pg->drop_table(&s, "order");
	my->rename_table(&s, "a`b", "select");
	pg->rename_table(&s, "a\"b", "select");
	assert_int_equal(s.n, 4);
	step_is(&s, 0, 0, "DROP TABLE `order`");
	step_is(&s, 1, 0, "DROP TABLE \"order\"");
	step_is(&s, 2, 0, "RENAME TABLE `a``b` TO `select`");
	step_is(&s, 3, 0, "ALTER TABLE \"a\"\"b\" RENAME TO \"select\"");
	gw_steps_release(&s);
}

static void test_column_ops(void **state)
{
	struct gw_column_def plain = {S("nick name"), S("VARCHAR(40)"), GW_UNSET, NULL,
				      false, false, false};
	struct gw_column_def full = {S("order"), S("INT"), GW_FALSE, S("0"), false, false, true};
	struct gw_column_def serial = {S("n"), S("BIGINT"), GW_UNSET, NULL, false, true, false};
	struct gw_column_info live = {S("a"), S("int"), true, NULL, false, false};
	struct gw_steps s = GW_STEPS_INIT;

	(void)state;
	my->add_column(&s, "users", &plain);
	pg->add_column(&s, "users", &plain);
	my->add_column(&s, "users", &full);
	pg->add_column(&s, "users", &full);
	my->add_column(&s, "users", &serial);
	pg->add_column(&s, "users", &serial);
	my->drop_column(&s, "select", "a`b");
	pg->drop_column(&s, "select", "a\"b");
	my->rename_column(&s, "users", "a", "b c", &live);
	pg->rename_column(&s, "users", "a", "b c", NULL);
	assert_int_equal(s.n, 10);
	step_is(&s, 0, 0, "ALTER TABLE `users` ADD COLUMN `nick name` VARCHAR(40)");
	step_is(&s, 1, 0, "ALTER TABLE \"users\" ADD COLUMN \"nick name\" VARCHAR(40)");
	step_is(&s, 2, 0, "ALTER TABLE `users` ADD COLUMN `order` INT NOT NULL DEFAULT 0");
	step_is(&s, 3, 0, "ALTER TABLE \"users\" ADD COLUMN \"order\" INT NOT NULL DEFAULT 0");
	step_is(&s, 4, 0, "ALTER TABLE `users` ADD COLUMN `n` BIGINT NOT NULL AUTO_INCREMENT");
	step_is(&s, 5, 0,
		"ALTER TABLE \"users\" ADD COLUMN \"n\" BIGINT GENERATED BY DEFAULT AS IDENTITY");
	step_is(&s, 6, 0, "ALTER TABLE `select` DROP COLUMN `a``b`");
	step_is(&s, 7, 0, "ALTER TABLE \"select\" DROP COLUMN \"a\"\"b\"");
	step_is(&s, 8, 0, "ALTER TABLE `users` RENAME COLUMN `a` TO `b c`");
	step_is(&s, 9, 0, "ALTER TABLE \"users\" RENAME COLUMN \"a\" TO \"b c\"");
	gw_steps_release(&s);
}

static struct gw_alter alter_of(const char *column)
{
	struct gw_alter a = {"users", column, NULL, GW_UNSET, NULL, false};

	return a;
}

static void test_alter_mysql_live(void **state)
{
	struct gw_column_info balance = {S("balance"), S("double"), false, S("0"), false, false};
	struct gw_column_info id = {S("id"), S("bigint"), false, NULL, true, false};
	struct gw_column_info nick = {S("nick"), S("varchar(10)"), true, S("NULL"), false, false};
	struct gw_error err = GW_ERROR_INIT;
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_alter a;

	(void)state;
	/* new type; nullability and default come from live */
	a = alter_of("balance");
	a.type = "DECIMAL(12,2)";
	assert_int_equal(my->alter_column(&s, &a, &balance, &err), 0);
	/* the same type in other case is no type change */
	a.type = "DOUBLE";
	assert_int_equal(my->alter_column(&s, &a, &balance, &err), 0);
	/* new default only */
	a = alter_of("balance");
	a.default_expr = "1";
	assert_int_equal(my->alter_column(&s, &a, &balance, &err), 0);
	/* nullable again, default dropped */
	a = alter_of("balance");
	a.nullable = GW_TRUE;
	a.drop_default = true;
	assert_int_equal(my->alter_column(&s, &a, &balance, &err), 0);
	/* AUTO_INCREMENT survives */
	a = alter_of("id");
	a.type = "BIGINT UNSIGNED";
	assert_int_equal(my->alter_column(&s, &a, &id, &err), 0);
	/* MariaDB's "NULL" default is no default */
	a = alter_of("nick");
	a.nullable = GW_FALSE;
	assert_int_equal(my->alter_column(&s, &a, &nick, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(s.n, 6);
	step_is(&s, 0, GW_STEP_MAY_BLOCK,
		"ALTER TABLE `users` MODIFY COLUMN `balance` DECIMAL(12,2) NOT NULL DEFAULT 0");
	step_is(&s, 1, 0, "ALTER TABLE `users` MODIFY COLUMN `balance` DOUBLE NOT NULL DEFAULT 0");
	step_is(&s, 2, 0, "ALTER TABLE `users` MODIFY COLUMN `balance` double NOT NULL DEFAULT 1");
	step_is(&s, 3, 0, "ALTER TABLE `users` MODIFY COLUMN `balance` double");
	step_is(&s, 4, GW_STEP_MAY_BLOCK,
		"ALTER TABLE `users` MODIFY COLUMN `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT");
	step_is(&s, 5, 0, "ALTER TABLE `users` MODIFY COLUMN `nick` varchar(10) NOT NULL");
	gw_steps_release(&s);
}

static void test_alter_mysql_offline(void **state)
{
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_alter a;

	(void)state;
	a = alter_of("balance");
	a.type = "DECIMAL(12,2)";
	assert_int_equal(my->alter_column(&s, &a, NULL, NULL), 0);
	a = alter_of("balance");
	a.default_expr = "1";
	assert_int_equal(my->alter_column(&s, &a, NULL, NULL), 0);
	a = alter_of("select");
	a.nullable = GW_FALSE;
	assert_int_equal(my->alter_column(&s, &a, NULL, NULL), 0);
	assert_int_equal(s.n, 3);
	step_is(&s, 0, GW_STEP_MAY_BLOCK,
		"ALTER TABLE `users` MODIFY COLUMN `balance` DECIMAL(12,2) " MODIFY_OFFLINE);
	step_is(&s, 1, 0,
		"ALTER TABLE `users` MODIFY COLUMN `balance` /* current type */ DEFAULT 1 "
		MODIFY_OFFLINE);
	step_is(&s, 2, 0,
		"ALTER TABLE `users` MODIFY COLUMN `select` /* current type */ NOT NULL "
		MODIFY_OFFLINE);
	gw_steps_release(&s);
}

static void test_alter_errors(void **state)
{
	struct gw_column_info gen = {S("total"), S("int"), true, NULL, false, true};
	struct gw_error err = GW_ERROR_INIT;
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_alter a;

	(void)state;
	a = alter_of("balance");
	assert_int_equal(my->alter_column(&s, &a, NULL, &err), GW_ERR_INPUT);
	assert_int_equal(err.code, GW_ERR_INPUT);
	assert_string_equal(err.msg, "could not alter column 'users.balance': nothing to change");
	gw_error_clear(&err);
	assert_int_equal(pg->alter_column(&s, &a, NULL, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg, "could not alter column 'users.balance': nothing to change");
	gw_error_clear(&err);

	a.default_expr = "1";
	a.drop_default = true;
	assert_int_equal(my->alter_column(&s, &a, NULL, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg,
			    "could not alter column 'users.balance': both sets and drops the default");
	gw_error_clear(&err);
	assert_int_equal(pg->alter_column(&s, &a, NULL, NULL), GW_ERR_INPUT);

	a = alter_of("total");
	a.type = "BIGINT";
	assert_int_equal(my->alter_column(&s, &a, &gen, &err), GW_ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "could not alter column 'users.total': it is a generated column");
	gw_error_clear(&err);

	assert_int_equal(s.n, 0);
	gw_steps_release(&s);
}

static void test_alter_postgres(void **state)
{
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_alter a;

	(void)state;
	a = alter_of("balance");
	a.type = "DECIMAL(12,2)";
	a.default_expr = "0";
	a.nullable = GW_FALSE;
	assert_int_equal(pg->alter_column(&s, &a, NULL, NULL), 0);
	a = alter_of("order");
	a.drop_default = true;
	a.nullable = GW_TRUE;
	assert_int_equal(pg->alter_column(&s, &a, NULL, NULL), 0);
	a = alter_of("a\"b");
	a.type = "TEXT";
	assert_int_equal(pg->alter_column(&s, &a, NULL, NULL), 0);
	assert_int_equal(s.n, 6);
	step_is(&s, 0, GW_STEP_MAY_BLOCK,
		"ALTER TABLE \"users\" ALTER COLUMN \"balance\" TYPE DECIMAL(12,2)");
	step_is(&s, 1, 0, "ALTER TABLE \"users\" ALTER COLUMN \"balance\" SET DEFAULT 0");
	step_is(&s, 2, GW_STEP_MAY_BLOCK, "ALTER TABLE \"users\" ALTER COLUMN \"balance\" SET NOT NULL");
	step_is(&s, 3, 0, "ALTER TABLE \"users\" ALTER COLUMN \"order\" DROP DEFAULT");
	step_is(&s, 4, 0, "ALTER TABLE \"users\" ALTER COLUMN \"order\" DROP NOT NULL");
	step_is(&s, 5, GW_STEP_MAY_BLOCK, "ALTER TABLE \"users\" ALTER COLUMN \"a\"\"b\" TYPE TEXT");
	gw_steps_release(&s);
}

static void test_indexes(void **state)
{
	char *cols[] = {S("select"), S("a`b\"c")};
	struct gw_steps s = GW_STEPS_INIT;

	(void)state;
	my->create_index(&s, "order", "idx select", 2, cols, true);
	my->create_index(&s, "order", "idx_a", 1, cols, false);
	pg->create_index(&s, "order", "idx select", 2, cols, true);
	pg->create_index(&s, "order", "idx_a", 1, cols, false);
	my->drop_index(&s, "order", "idx select");
	pg->drop_index(&s, "order", "idx select");
	assert_int_equal(s.n, 6);
	step_is(&s, 0, 0,
		"CREATE UNIQUE INDEX `idx select` ON `order` (`select`, `a``b\"c`) "
		"ALGORITHM=INPLACE LOCK=NONE");
	step_is(&s, 1, 0, "CREATE INDEX `idx_a` ON `order` (`select`) ALGORITHM=INPLACE LOCK=NONE");
	step_is(&s, 2, GW_STEP_NO_TXN,
		"CREATE UNIQUE INDEX CONCURRENTLY \"idx select\" ON \"order\" "
		"(\"select\", \"a`b\"\"c\")");
	step_is(&s, 3, GW_STEP_NO_TXN,
		"CREATE INDEX CONCURRENTLY \"idx_a\" ON \"order\" (\"select\")");
	step_is(&s, 4, 0, "DROP INDEX IF EXISTS `idx select` ON `order`");
	step_is(&s, 5, GW_STEP_NO_TXN, "DROP INDEX CONCURRENTLY IF EXISTS \"idx select\"");
	gw_steps_release(&s);
}

static char *fk_cols[] = {S("user_id")};
static char *fk_ref[] = {S("id")};
static char *nn_cols[] = {S("email"), S("select")};

static struct gw_constraint_def check_def(void)
{
	struct gw_constraint_def c = {GW_CONSTRAINT_CHECK, S("balance >= 0"), 0, NULL,
				      NULL, 0, NULL, NULL};

	return c;
}

static struct gw_constraint_def fk_def(const char *on_delete)
{
	struct gw_constraint_def c = {GW_CONSTRAINT_FOREIGN_KEY, NULL, 1, fk_cols,
				      S("users"), 1, fk_ref, S(on_delete)};

	return c;
}

static struct gw_constraint_def cols_def(enum gw_constraint_kind kind, size_t n, char **cols)
{
	struct gw_constraint_def c = {kind, NULL, n, cols, NULL, 0, NULL, NULL};

	return c;
}

static void test_constraints_mysql(void **state)
{
	struct gw_constraint_def c;
	struct gw_error err = GW_ERROR_INIT;
	struct gw_steps s = GW_STEPS_INIT;

	(void)state;
	c = check_def();
	assert_int_equal(my->add_constraint(&s, "users", "chk balance", &c, &err), 0);
	c = fk_def("set null");
	assert_int_equal(my->add_constraint(&s, "orders", "fk_orders_user", &c, &err), 0);
	c = fk_def(NULL);
	assert_int_equal(my->add_constraint(&s, "orders", "fk`2", &c, &err), 0);
	c = cols_def(GW_CONSTRAINT_UNIQUE, 2, nn_cols);
	assert_int_equal(my->add_constraint(&s, "users", "uq_users_email", &c, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(s.n, 4);
	step_is(&s, 0, GW_STEP_MAY_BLOCK,
		"ALTER TABLE `users` ADD CONSTRAINT `chk balance` CHECK (balance >= 0)");
	step_is(&s, 1, GW_STEP_MAY_BLOCK,
		"ALTER TABLE `orders` ADD CONSTRAINT `fk_orders_user` FOREIGN KEY (`user_id`) "
		"REFERENCES `users` (`id`) ON DELETE SET NULL");
	step_is(&s, 2, GW_STEP_MAY_BLOCK,
		"ALTER TABLE `orders` ADD CONSTRAINT `fk``2` FOREIGN KEY (`user_id`) "
		"REFERENCES `users` (`id`)");
	step_is(&s, 3, 0,
		"ALTER TABLE `users` ADD CONSTRAINT `uq_users_email` UNIQUE (`email`, `select`)");
	gw_steps_release(&s);
}

static void test_constraints_postgres(void **state)
{
	struct gw_constraint_def c;
	struct gw_error err = GW_ERROR_INIT;
	struct gw_steps s = GW_STEPS_INIT;

	(void)state;
	c = check_def();
	assert_int_equal(pg->add_constraint(&s, "users", "chk balance", &c, &err), 0);
	c = fk_def("No Action");
	assert_int_equal(pg->add_constraint(&s, "orders", "fk_orders_user", &c, &err), 0);
	/* PostgreSQL may reference the primary key without naming it */
	c = fk_def("cascade");
	c.nref_columns = 0;
	c.ref_columns = NULL;
	assert_int_equal(pg->add_constraint(&s, "orders", "fk\"2", &c, &err), 0);
	c = cols_def(GW_CONSTRAINT_UNIQUE, 1, nn_cols);
	assert_int_equal(pg->add_constraint(&s, "users", "uq_users_email", &c, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(s.n, 8);
	step_is(&s, 0, 0,
		"ALTER TABLE \"users\" ADD CONSTRAINT \"chk balance\" CHECK (balance >= 0) NOT VALID");
	step_is(&s, 1, 0, "ALTER TABLE \"users\" VALIDATE CONSTRAINT \"chk balance\"");
	step_is(&s, 2, 0,
		"ALTER TABLE \"orders\" ADD CONSTRAINT \"fk_orders_user\" FOREIGN KEY (\"user_id\") "
		"REFERENCES \"users\" (\"id\") ON DELETE NO ACTION NOT VALID");
	step_is(&s, 3, 0, "ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"fk_orders_user\"");
	step_is(&s, 4, 0,
		"ALTER TABLE \"orders\" ADD CONSTRAINT \"fk\"\"2\" FOREIGN KEY (\"user_id\") "
		"REFERENCES \"users\" ON DELETE CASCADE NOT VALID");
	step_is(&s, 5, 0, "ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"fk\"\"2\"");
	step_is(&s, 6, GW_STEP_NO_TXN,
		"CREATE UNIQUE INDEX CONCURRENTLY \"uq_users_email\" ON \"users\" (\"email\")");
	step_is(&s, 7, 0,
		"ALTER TABLE \"users\" ADD CONSTRAINT \"uq_users_email\" UNIQUE USING INDEX "
		"\"uq_users_email\"");
	gw_steps_release(&s);
}

static void test_not_null_postgres(void **state)
{
	struct gw_constraint_def c;
	struct gw_steps s = GW_STEPS_INIT;

	(void)state;
	c = cols_def(GW_CONSTRAINT_NOT_NULL, 1, nn_cols);
	assert_int_equal(pg->add_constraint(&s, "users", "nn_email", &c, NULL), 0);
	assert_int_equal(s.n, 4);
	step_is(&s, 0, 0,
		"ALTER TABLE \"users\" ADD CONSTRAINT \"nn_email\" CHECK (\"email\" IS NOT NULL) "
		"NOT VALID");
	step_is(&s, 1, 0, "ALTER TABLE \"users\" VALIDATE CONSTRAINT \"nn_email\"");
	step_is(&s, 2, 0, "ALTER TABLE \"users\" ALTER COLUMN \"email\" SET NOT NULL");
	step_is(&s, 3, 0, "ALTER TABLE \"users\" DROP CONSTRAINT \"nn_email\"");
	gw_steps_release(&s);

	c = cols_def(GW_CONSTRAINT_NOT_NULL, 2, nn_cols);
	assert_int_equal(pg->add_constraint(&s, "order", "nn", &c, NULL), 0);
	assert_int_equal(s.n, 8);
	step_is(&s, 0, 0,
		"ALTER TABLE \"order\" ADD CONSTRAINT \"nn\" CHECK (\"email\" IS NOT NULL) NOT VALID");
	step_is(&s, 1, 0, "ALTER TABLE \"order\" VALIDATE CONSTRAINT \"nn\"");
	step_is(&s, 2, 0, "ALTER TABLE \"order\" ALTER COLUMN \"email\" SET NOT NULL");
	step_is(&s, 3, 0, "ALTER TABLE \"order\" DROP CONSTRAINT \"nn\"");
	step_is(&s, 4, 0,
		"ALTER TABLE \"order\" ADD CONSTRAINT \"nn_2\" CHECK (\"select\" IS NOT NULL) "
		"NOT VALID");
	step_is(&s, 5, 0, "ALTER TABLE \"order\" VALIDATE CONSTRAINT \"nn_2\"");
	step_is(&s, 6, 0, "ALTER TABLE \"order\" ALTER COLUMN \"select\" SET NOT NULL");
	step_is(&s, 7, 0, "ALTER TABLE \"order\" DROP CONSTRAINT \"nn_2\"");
	gw_steps_release(&s);
}

static void test_constraint_errors(void **state)
{
	struct gw_constraint_def c;
	struct gw_error err = GW_ERROR_INIT;
	struct gw_steps s = GW_STEPS_INIT;

	(void)state;
	c = cols_def(GW_CONSTRAINT_NOT_NULL, 1, nn_cols);
	assert_int_equal(my->add_constraint(&s, "users", "nn_email", &c, &err), GW_ERR_UNSUPPORTED);
	assert_int_equal(err.code, GW_ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "could not add constraint 'nn_email' to 'users': not_null "
				     "constraints are not supported on mysql");
	assert_string_equal(err.hint, "use alter_column with \"nullable\": false");
	gw_error_clear(&err);

	c = fk_def("DELETE");
	assert_int_equal(my->add_constraint(&s, "orders", "fk", &c, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg,
			    "could not add constraint 'fk' to 'orders': unknown on_delete action 'DELETE'");
	gw_error_clear(&err);
	assert_int_equal(pg->add_constraint(&s, "orders", "fk", &c, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg,
			    "could not add constraint 'fk' to 'orders': unknown on_delete action 'DELETE'");
	gw_error_clear(&err);
	c = fk_def("set  null");
	assert_int_equal(pg->add_constraint(&s, "orders", "fk", &c, NULL), GW_ERR_INPUT);

	/* InnoDB refuses SET DEFAULT; PostgreSQL takes it */
	c = fk_def("set default");
	assert_int_equal(my->add_constraint(&s, "orders", "fk", &c, &err), GW_ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "could not add constraint 'fk' to 'orders': on_delete SET "
				     "DEFAULT is not supported by InnoDB");
	gw_error_clear(&err);
	assert_int_equal(s.n, 0);
	assert_int_equal(pg->add_constraint(&s, "orders", "fk", &c, &err), 0);
	assert_int_equal(s.n, 2);
	step_is(&s, 0, 0,
		"ALTER TABLE \"orders\" ADD CONSTRAINT \"fk\" FOREIGN KEY (\"user_id\") "
		"REFERENCES \"users\" (\"id\") ON DELETE SET DEFAULT NOT VALID");
	gw_steps_release(&s);

	/* MySQL needs the referenced columns, and both need as many as columns */
	c = fk_def(NULL);
	c.nref_columns = 0;
	assert_int_equal(my->add_constraint(&s, "orders", "fk", &c, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg, "could not add constraint 'fk' to 'orders': foreign key "
				     "needs as many referenced columns as columns");
	gw_error_clear(&err);
	c = fk_def(NULL);
	c.nref_columns = 2;
	assert_int_equal(pg->add_constraint(&s, "orders", "fk", &c, NULL), GW_ERR_INPUT);
	c.ref_table = NULL;
	assert_int_equal(pg->add_constraint(&s, "orders", "fk", &c, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg, "could not add constraint 'fk' to 'orders': foreign key "
				     "has no referenced table");
	gw_error_clear(&err);

	c = check_def();
	c.check = NULL;
	assert_int_equal(my->add_constraint(&s, "users", "chk", &c, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg,
			    "could not add constraint 'chk' to 'users': check has no expression");
	gw_error_clear(&err);
	assert_int_equal(pg->add_constraint(&s, "users", "chk", &c, NULL), GW_ERR_INPUT);
	c = check_def();
	assert_int_equal(pg->add_constraint(&s, "users", NULL, &c, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg, "could not add constraint to 'users': it has no name");
	gw_error_clear(&err);
	c = cols_def(GW_CONSTRAINT_UNIQUE, 0, NULL);
	assert_int_equal(my->add_constraint(&s, "users", "uq", &c, NULL), GW_ERR_INPUT);
	assert_int_equal(pg->add_constraint(&s, "users", "uq", &c, NULL), GW_ERR_INPUT);
	c = cols_def(GW_CONSTRAINT_NOT_NULL, 0, NULL);
	assert_int_equal(pg->add_constraint(&s, "users", "nn", &c, &err), GW_ERR_INPUT);
	assert_string_equal(err.msg,
			    "could not add constraint 'nn' to 'users': not_null constraint has no columns");
	assert_int_equal(s.n, 0);
	gw_steps_release(&s);
}

static void test_drop_constraint(void **state)
{
	struct gw_constraint_def c;
	struct gw_steps s = GW_STEPS_INIT;

	(void)state;
	c = check_def();
	my->drop_constraint(&s, "users", "chk balance", &c);
	pg->drop_constraint(&s, "users", "chk balance", &c);
	c = fk_def("cascade");
	my->drop_constraint(&s, "orders", "fk`1", &c);
	pg->drop_constraint(&s, "orders", "fk\"1", &c);
	c = cols_def(GW_CONSTRAINT_UNIQUE, 1, nn_cols);
	my->drop_constraint(&s, "users", "uq", &c);
	pg->drop_constraint(&s, "users", "uq", &c);
	c = cols_def(GW_CONSTRAINT_NOT_NULL, 2, nn_cols);
	my->drop_constraint(&s, "order", "nn", &c);
	pg->drop_constraint(&s, "order", "nn", &c);
	assert_int_equal(s.n, 8);
	step_is(&s, 0, 0, "ALTER TABLE `users` DROP CONSTRAINT `chk balance`");
	step_is(&s, 1, 0, "ALTER TABLE \"users\" DROP CONSTRAINT \"chk balance\"");
	step_is(&s, 2, 0, "ALTER TABLE `orders` DROP FOREIGN KEY `fk``1`");
	step_is(&s, 3, 0, "ALTER TABLE \"orders\" DROP CONSTRAINT \"fk\"\"1\"");
	step_is(&s, 4, 0, "DROP INDEX `uq` ON `users`");
	step_is(&s, 5, 0, "ALTER TABLE \"users\" DROP CONSTRAINT \"uq\"");
	step_is(&s, 6, 0, "ALTER TABLE \"order\" ALTER COLUMN \"email\" DROP NOT NULL");
	step_is(&s, 7, 0, "ALTER TABLE \"order\" ALTER COLUMN \"select\" DROP NOT NULL");
	gw_steps_release(&s);
}

/* No statement ends in a semicolon: the runner runs one statement per step. */
static void test_no_semicolons(void **state)
{
	struct gw_column_info live = {S("balance"), S("double"), false, S("0"), false, false};
	struct gw_constraint_def c = cols_def(GW_CONSTRAINT_NOT_NULL, 2, nn_cols);
	const struct gw_dialect *d[] = {my, pg};
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_alter a = alter_of("balance");
	struct gw_op op;
	size_t i, k;

	(void)state;
	a.type = "BIGINT";
	a.nullable = GW_FALSE;
	a.default_expr = "0";
	users_op(&op);
	for (k = 0; k < 2; k++) {
		d[k]->create_table(&s, &op);
		assert_int_equal(d[k]->alter_column(&s, &a, &live, NULL), 0);
		assert_int_equal(d[k]->alter_column(&s, &a, NULL, NULL), 0);
		(void)d[k]->add_constraint(&s, "users", "nn", &c, NULL);
	}
	assert_true(s.n > 10);
	for (i = 0; i < s.n; i++) {
		size_t len = strlen(s.v[i].sql);

		assert_true(len > 0);
		assert_int_not_equal(s.v[i].sql[len - 1], ';');
	}
	gw_steps_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_ident_mysql),
		cmocka_unit_test(test_ident_postgres),
		cmocka_unit_test(test_ident_list),
		cmocka_unit_test(test_literal_mysql),
		cmocka_unit_test(test_literal_postgres),
		cmocka_unit_test(test_create_table_mysql),
		cmocka_unit_test(test_create_table_postgres),
		cmocka_unit_test(test_create_table_composite),
		cmocka_unit_test(test_create_table_keys),
		cmocka_unit_test(test_table_ops),
		cmocka_unit_test(test_column_ops),
		cmocka_unit_test(test_alter_mysql_live),
		cmocka_unit_test(test_alter_mysql_offline),
		cmocka_unit_test(test_alter_errors),
		cmocka_unit_test(test_alter_postgres),
		cmocka_unit_test(test_indexes),
		cmocka_unit_test(test_constraints_mysql),
		cmocka_unit_test(test_constraints_postgres),
		cmocka_unit_test(test_not_null_postgres),
		cmocka_unit_test(test_constraint_errors),
		cmocka_unit_test(test_drop_constraint),
		cmocka_unit_test(test_no_semicolons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
