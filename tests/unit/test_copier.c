/*
 * The copier's pure parts (copier/keyset.c): which key a table is walked
 * by, the adaptive chunk size, and the SQL of a key range per dialect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "godwit/buf.h"
#include "godwit/copier.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"

/* Mutable char * from a literal, for the char * fields of the live model. */
#define S(x) ((char *)(x))

static const struct gw_dialect *const my = &gw_dialect_mysql;
static const struct gw_dialect *const pg = &gw_dialect_postgres;

/* ------------------------------------------------------------ key choice */

/* Chooses a key of t, which must succeed, and checks it column by column. */
static void expect_key(const struct gw_table_info *t, const char *index, size_t n,
		       const char *const *cols, const bool *integer)
{
	struct gw_key k;
	struct gw_error err = GW_ERROR_INIT;

	assert_int_equal(gw_key_choose(t, &k, &err), 0);
	assert_int_equal(err.code, 0);
	assert_string_equal(k.index, index);
	assert_int_equal(k.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(k.cols[i], cols[i]);
		if (k.integer[i] != integer[i])
			print_error("key column %zu '%s': integer %d\n", i, cols[i], k.integer[i]);
		assert_int_equal(k.integer[i], integer[i]);
	}
	gw_key_release(&k);
	assert_int_equal(k.n, 0);
	assert_null(k.cols);
	assert_null(k.integer);
	assert_null(k.index);
}

static void test_key_primary(void **state)
{
	struct gw_column_info cols[] = {
		{S("email"), S("varchar(255)"), false, NULL, false, false},
		{S("id"), S("bigint"), false, NULL, true, false},
	};
	char *pk[] = {S("id")};
	char *uq_cols[] = {S("email")};
	/* a usable unique key listed before the primary key does not win */
	struct gw_index_info idx[] = {
		{S("idx_email"), true, false, 1, uq_cols},
		{S("users_pkey"), true, true, 1, pk},
	};
	struct gw_table_info t = {.name = S("users"), .ncolumns = 2, .columns = cols,
				  .npk = 1, .pk = pk, .nindexes = 2, .indexes = idx};
	static const char *const want[] = {"id"};
	static const bool integer[] = {true};

	(void)state;
	expect_key(&t, "users_pkey", 1, want, integer);
	/* the primary key without its index in the list is named "PRIMARY" */
	t.nindexes = 0;
	expect_key(&t, "PRIMARY", 1, want, integer);
}

/* Key order is the primary key's, not the columns' order in the table. */
static void test_key_composite_primary(void **state)
{
	struct gw_column_info cols[] = {
		{S("code"), S("varchar(20)"), false, NULL, false, false},
		{S("payload"), S("text"), true, NULL, false, false},
		{S("tenant_id"), S("int(11) unsigned"), false, NULL, false, false},
	};
	char *pk[] = {S("tenant_id"), S("code")};
	struct gw_index_info idx[] = {{S("PRIMARY"), true, true, 2, pk}};
	struct gw_table_info t = {.name = S("items"), .ncolumns = 3, .columns = cols,
				  .npk = 2, .pk = pk, .nindexes = 1, .indexes = idx};
	static const char *const want[] = {"tenant_id", "code"};
	static const bool integer[] = {true, false};

	(void)state;
	expect_key(&t, "PRIMARY", 2, want, integer);
}

/* Without a primary key: the first unique index on NOT NULL columns only. */
static void test_key_unique_fallback(void **state)
{
	struct gw_column_info cols[] = {
		{S("org_id"), S("integer"), false, NULL, false, false},
		{S("email"), S("character varying(255)"), false, NULL, false, false},
		{S("nick"), S("text"), true, NULL, false, false},
	};
	char *nick[] = {S("nick")};
	char *email[] = {S("email")};
	char *mixed[] = {S("email"), S("nick")};
	char *expr[] = {S("lower(email)")};
	char *good[] = {S("email"), S("org_id")};
	struct gw_index_info idx[] = {
		{S("uq_nick"), true, false, 1, nick},          /* nullable column */
		{S("idx_email"), false, false, 1, email},      /* not unique */
		{S("uq_email_nick"), true, false, 2, mixed},   /* one nullable column */
		{S("uq_lower_email"), true, false, 1, expr},   /* an expression */
		{S("uq_none"), true, false, 0, NULL},          /* no columns */
		{S("uq_email_org"), true, false, 2, good},
		{S("uq_email"), true, false, 1, email},        /* usable, but later */
	};
	struct gw_table_info t = {.name = S("members"), .ncolumns = 3, .columns = cols,
				  .nindexes = GW_ARRAY_SIZE(idx), .indexes = idx};
	static const char *const want[] = {"email", "org_id"};
	static const bool integer[] = {false, true};

	(void)state;
	expect_key(&t, "uq_email_org", 2, want, integer);
}

static void expect_no_key(const struct gw_table_info *t)
{
	char msg[256];
	struct gw_key k;
	struct gw_error err = GW_ERROR_INIT;

	snprintf(msg, sizeof(msg),
		 "table '%s' has no primary key and no unique key on NOT NULL columns, so it "
		 "cannot be walked in chunks",
		 t->name);
	memset(&k, 0xff, sizeof(k));
	assert_int_equal(gw_key_choose(t, &k, &err), GW_ERR_INPUT);
	assert_int_equal(err.code, GW_ERR_INPUT);
	assert_string_equal(err.msg, msg);
	assert_string_equal(err.hint, "add a primary key first (a migration of its own), then retry");
	/* left empty, so that releasing it is safe */
	assert_int_equal(k.n, 0);
	assert_null(k.cols);
	gw_key_release(&k);
	/* no error record is fine */
	assert_int_equal(gw_key_choose(t, &k, NULL), GW_ERR_INPUT);
	gw_key_release(&k);
}

static void test_key_refused(void **state)
{
	struct gw_column_info cols[] = {
		{S("a"), S("int"), true, NULL, false, false},
		{S("b"), S("int"), false, NULL, false, false},
	};
	char *a[] = {S("a")};
	char *ab[] = {S("a"), S("b")};
	char *b[] = {S("b")};
	struct gw_index_info nullable[] = {
		{S("uq_a"), true, false, 1, a},
		{S("uq_ab"), true, false, 2, ab},
		{S("idx_b"), false, false, 1, b},
	};
	struct gw_table_info t = {.name = S("event log"), .ncolumns = 2, .columns = cols,
				  .nindexes = 3, .indexes = nullable};
	struct gw_table_info bare = {.name = S("heap"), .ncolumns = 2, .columns = cols};

	(void)state;
	expect_no_key(&t);
	expect_no_key(&bare);
}

/* Which column types are walked with inline integers, by gw_key_choose. */
static void test_key_integer_types(void **state)
{
	static const struct {
		const char *type;
		bool integer;
	} cases[] = {
		{"int", true},
		{"INT", true},
		{"int(11)", true},
		{"int unsigned", true},
		{"bigint", true},
		{"bigint(20) unsigned", true},
		{"BIGINT", true},
		{"integer", true},
		{"smallint", true},
		{"mediumint(8)", true},
		{"tinyint(1)", true},
		{"interval", false},
		{"int4range", false},
		{"integer[]", false},
		{"tinytext", false},
		{"bigserial", false},
		{"numeric(20,0)", false},
		{"decimal(10,0)", false},
		{"character varying(20)", false},
		{"uuid", false},
		{"binary(16)", false},
		{"point", false},
	};
	char *pk[] = {S("k")};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		struct gw_column_info col = {S("k"), S(cases[i].type), false, NULL, false, false};
		struct gw_table_info t = {.name = S("t"), .ncolumns = 1, .columns = &col,
					  .npk = 1, .pk = pk};
		struct gw_key k;

		assert_int_equal(gw_key_choose(&t, &k, NULL), 0);
		if (k.integer[0] != cases[i].integer)
			print_error("type '%s': integer %d\n", cases[i].type, k.integer[0]);
		assert_int_equal(k.integer[0], cases[i].integer);
		gw_key_release(&k);
	}
}

/* -------------------------------------------------------------- chunker */

static void test_chunker_init(void **state)
{
	struct gw_chunker c;

	(void)state;
	assert_true(GW_CHUNK_MIN < GW_CHUNK_FIRST && GW_CHUNK_FIRST < GW_CHUNK_MAX);
	gw_chunker_init(&c, 250);
	assert_int_equal(c.size, GW_CHUNK_FIRST);
	assert_int_equal(c.size, 1000);
	assert_int_equal(c.min, GW_CHUNK_MIN);
	assert_int_equal(c.max, GW_CHUNK_MAX);
	assert_true(c.target_ms == 250);
	/* no target: the default of 500 ms */
	gw_chunker_init(&c, 0);
	assert_true(c.target_ms == 500);
	gw_chunker_init(&c, -3);
	assert_true(c.target_ms == 500);
}

/* One update from a given size: rows in ms with a 500 ms target. */
static void test_chunker_updates(void **state)
{
	static const struct {
		long size;     /* before */
		long rows;
		double ms;
		long want;     /* after */
		const char *why;
	} cases[] = {
		{1000, 1000, 500, 1000, "on target: unchanged"},
		{1000, 1000, 400, 1250, "a little fast: grows to the rate"},
		{1000, 1000, 10, 2000, "much too fast: at most doubles"},
		{1000, 1000, 0, 2000, "no measurable time: at most doubles"},
		{1000, 1000, 0.2, 2000, "under 1 ms counts as 1 ms"},
		{1000, 1000, 2000, 250, "slow: shrinks at once to the rate"},
		{1000, 1000, 100000, 10, "very slow: not below min"},
		{10, 10, 100000, 10, "at min: stays"},
		{150000, 150000, 250, 200000, "doubling capped by max"},
		{200000, 200000, 1, 200000, "at max: stays"},
		{1000, 100, 100, 500, "a short chunk counts by its rows"},
		{1000, 0, 5000, 1000, "zero rows: ignored"},
		{1000, -5, 5000, 1000, "negative rows: ignored"},
		{1000, 0, 0, 1000, "zero rows in no time: ignored"},
	};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		struct gw_chunker c;

		gw_chunker_init(&c, 500);
		c.size = cases[i].size;
		gw_chunker_update(&c, cases[i].rows, cases[i].ms);
		if (c.size != cases[i].want)
			print_error("case %zu (%s): size %ld, want %ld\n", i, cases[i].why, c.size,
				    cases[i].want);
		assert_int_equal(c.size, cases[i].want);
		assert_int_equal(c.min, GW_CHUNK_MIN);
		assert_int_equal(c.max, GW_CHUNK_MAX);
	}
}

/* A sequence: growth doubles step by step, one slow chunk shrinks at once. */
static void test_chunker_sequence(void **state)
{
	static const long grow[] = {2000, 4000, 8000, 16000, 32000, 64000, 128000, 200000, 200000};
	struct gw_chunker c;

	(void)state;
	gw_chunker_init(&c, 500);
	for (size_t i = 0; i < GW_ARRAY_SIZE(grow); i++) {
		gw_chunker_update(&c, c.size, 1);
		assert_int_equal(c.size, grow[i]);
	}
	/* 200000 rows took 4 s: 25000 rows per 500 ms, at once */
	gw_chunker_update(&c, c.size, 4000);
	assert_int_equal(c.size, 25000);
	/* bounds set by the caller are obeyed */
	c.min = 100;
	c.max = 30000;
	gw_chunker_update(&c, c.size, 1e6);
	assert_int_equal(c.size, 100);
	gw_chunker_update(&c, c.size, 1);
	assert_int_equal(c.size, 200);
	c.size = 20000;
	gw_chunker_update(&c, c.size, 1);
	assert_int_equal(c.size, 30000);
}

/* ---------------------------------------------------------- key ranges */

struct cond_case {
	const struct gw_dialect *d;
	bool strict;
	int first;          /* *nparams on entry */
	const char *sql;
	int nparams;        /* *nparams on return */
	int params[6];      /* for each new parameter, the index of its value in v */
};

static void check_cond(const struct gw_key *k, const struct gw_keyval *v,
		       const struct cond_case *c, size_t ncases)
{
	for (size_t i = 0; i < ncases; i++) {
		const char *params[16];
		const char sentinel[] = "earlier";
		struct gw_buf b = GW_BUF_INIT;
		int n = c[i].first;

		for (size_t j = 0; j < GW_ARRAY_SIZE(params); j++)
			params[j] = sentinel;
		gw_buf_puts(&b, "WHERE ");
		gw_keyset_cond(&b, c[i].d, k, v, c[i].strict, &n, params);
		if (strcmp(b.data + 6, c[i].sql) != 0)
			print_error("case %zu: got %s\n", i, b.data + 6);
		/* appended to what b holds */
		assert_memory_equal(b.data, "WHERE ", 6);
		assert_string_equal(b.data + 6, c[i].sql);
		assert_int_equal(n, c[i].nparams);
		/* parameters before first are not touched */
		for (int j = 0; j < c[i].first; j++)
			assert_ptr_equal(params[j], sentinel);
		/* new ones borrow v's strings, in order */
		for (int j = c[i].first; j < n; j++)
			assert_ptr_equal(params[j], v->v[c[i].params[j - c[i].first]]);
		assert_ptr_equal(params[n], sentinel);
		gw_buf_release(&b);
	}
}

static void test_cond_single_integer(void **state)
{
	char *cols[] = {S("id")};
	bool integer[] = {true};
	struct gw_key k = {1, cols, integer, S("PRIMARY")};
	char *vals[] = {S("42")};
	char *neg[] = {S("-9223372036854775808")};
	struct gw_keyval v = {1, vals}, vneg = {1, neg};
	const struct cond_case cases[] = {
		{my, true, 0, "(`id`) > (42)", 0, {0}},
		{my, false, 0, "(`id`) <= (42)", 0, {0}},
		{pg, true, 0, "(\"id\") > (42)", 0, {0}},
		{pg, false, 3, "(\"id\") <= (42)", 3, {0}},
	};
	const struct cond_case negative[] = {
		{pg, true, 0, "(\"id\") > (-9223372036854775808)", 0, {0}},
		{my, false, 1, "(`id`) <= (-9223372036854775808)", 1, {0}},
	};

	(void)state;
	check_cond(&k, &v, cases, GW_ARRAY_SIZE(cases));
	check_cond(&k, &vneg, negative, GW_ARRAY_SIZE(negative));
}

static void test_cond_single_text(void **state)
{
	char *cols[] = {S("code")};
	bool integer[] = {false};
	struct gw_key k = {1, cols, integer, S("uq_code")};
	/* digits in a text column are still text: '10' < '9' */
	char *vals[] = {S("10")};
	struct gw_keyval v = {1, vals};
	const struct cond_case cases[] = {
		{my, true, 0, "(`code`) > ($1)", 1, {0}},
		{my, false, 0, "(`code`) <= ($1)", 1, {0}},
		{pg, true, 0, "(\"code\") > ($1)", 1, {0}},
		{pg, false, 2, "(\"code\") <= ($3)", 3, {0}},
	};

	(void)state;
	check_cond(&k, &v, cases, GW_ARRAY_SIZE(cases));
}

/* What is not an integer literal is never written into the SQL. */
static void test_cond_integer_column_not_integer_text(void **state)
{
	static const char *const values[] = {
		"1; DROP TABLE t", "1 OR 1=1", "12abc", "1.5", "1e3", "", "-", "--1", " 1",
		"1 ", "0x10", "+1", "123456789012345678901", "'1'",
	};
	char *cols[] = {S("id")};
	bool integer[] = {true};
	struct gw_key k = {1, cols, integer, S("PRIMARY")};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(values); i++) {
		char *vals[] = {S(values[i])};
		struct gw_keyval v = {1, vals};
		const struct cond_case cases[] = {
			{my, true, 0, "(`id`) > ($1)", 1, {0}},
			{pg, false, 4, "(\"id\") <= ($5)", 5, {0}},
		};

		check_cond(&k, &v, cases, GW_ARRAY_SIZE(cases));
	}
}

static void test_cond_composite(void **state)
{
	char *cols[] = {S("a"), S("b")};
	bool integer[] = {true, false};
	struct gw_key k = {2, cols, integer, S("PRIMARY")};
	char *vals[] = {S("1"), S("x'y")};
	struct gw_keyval v = {2, vals};
	const struct cond_case cases[] = {
		/* PostgreSQL: a row comparison, which uses the index */
		{pg, true, 0, "(\"a\", \"b\") > (1, $1)", 1, {1}},
		{pg, false, 0, "(\"a\", \"b\") <= (1, $1)", 1, {1}},
		{pg, true, 1, "(\"a\", \"b\") > (1, $2)", 2, {1}},
		/* MariaDB/MySQL: the expanded disjunction */
		{my, true, 0, "((`a` > 1) OR (`a` = 1 AND `b` > $1))", 1, {1}},
		{my, false, 0, "((`a` < 1) OR (`a` = 1 AND `b` <= $1))", 1, {1}},
		{my, false, 2, "((`a` < 1) OR (`a` = 1 AND `b` <= $3))", 3, {1}},
	};

	(void)state;
	check_cond(&k, &v, cases, GW_ARRAY_SIZE(cases));
}

/* Three columns, text first: each use of a text value is its own parameter. */
static void test_cond_composite_three(void **state)
{
	char *cols[] = {S("region"), S("day"), S("seq")};
	bool integer[] = {false, false, true};
	struct gw_key k = {3, cols, integer, S("PRIMARY")};
	char *vals[] = {S("eu"), S("2024-01-31"), S("7")};
	struct gw_keyval v = {3, vals};
	const struct cond_case cases[] = {
		{pg, true, 0, "(\"region\", \"day\", \"seq\") > ($1, $2, 7)", 2, {0, 1}},
		{my, true, 0,
		 "((`region` > $1) OR (`region` = $2 AND `day` > $3) OR "
		 "(`region` = $4 AND `day` = $5 AND `seq` > 7))",
		 5, {0, 0, 1, 0, 1}},
		{my, false, 1,
		 "((`region` < $2) OR (`region` = $3 AND `day` < $4) OR "
		 "(`region` = $5 AND `day` = $6 AND `seq` <= 7))",
		 6, {0, 0, 1, 0, 1}},
	};

	(void)state;
	check_cond(&k, &v, cases, GW_ARRAY_SIZE(cases));
}

/* Identifiers are quoted by the dialect, quotes doubled. */
static void test_cond_quoting(void **state)
{
	char *cols[] = {S("we\"ird"), S("or`der")};
	bool integer[] = {true, true};
	struct gw_key k = {2, cols, integer, S("PRIMARY")};
	char *vals[] = {S("3"), S("4")};
	struct gw_keyval v = {2, vals};
	const struct cond_case cases[] = {
		{pg, true, 0, "(\"we\"\"ird\", \"or`der\") > (3, 4)", 0, {0}},
		{my, true, 0, "((`we\"ird` > 3) OR (`we\"ird` = 3 AND `or``der` > 4))", 0, {0}},
	};

	(void)state;
	check_cond(&k, &v, cases, GW_ARRAY_SIZE(cases));
}

static void test_edge_sql(void **state)
{
	char *one[] = {S("id")};
	char *two[] = {S("tenant_id"), S("code")};
	bool integer[] = {true, false};
	struct gw_key k1 = {1, one, integer, S("PRIMARY")};
	struct gw_key k2 = {2, two, integer, S("PRIMARY")};
	const struct {
		const struct gw_dialect *d;
		const struct gw_key *k;
		bool last;
		const char *sql;
	} cases[] = {
		{my, &k1, false, "SELECT `id` FROM `order` ORDER BY `id` LIMIT 1"},
		{my, &k1, true, "SELECT `id` FROM `order` ORDER BY `id` DESC LIMIT 1"},
		{pg, &k2, false,
		 "SELECT \"tenant_id\", \"code\" FROM \"order\" ORDER BY \"tenant_id\", \"code\" "
		 "LIMIT 1"},
		{pg, &k2, true,
		 "SELECT \"tenant_id\", \"code\" FROM \"order\" ORDER BY \"tenant_id\" DESC, "
		 "\"code\" DESC LIMIT 1"},
		{my, &k2, true,
		 "SELECT `tenant_id`, `code` FROM `order` ORDER BY `tenant_id` DESC, `code` DESC "
		 "LIMIT 1"},
	};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		char *sql = gw_keyset_edge_sql(cases[i].d, "order", cases[i].k, cases[i].last);

		assert_string_equal(sql, cases[i].sql);
		free(sql);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_primary),
		cmocka_unit_test(test_key_composite_primary),
		cmocka_unit_test(test_key_unique_fallback),
		cmocka_unit_test(test_key_refused),
		cmocka_unit_test(test_key_integer_types),
		cmocka_unit_test(test_chunker_init),
		cmocka_unit_test(test_chunker_updates),
		cmocka_unit_test(test_chunker_sequence),
		cmocka_unit_test(test_cond_single_integer),
		cmocka_unit_test(test_cond_single_text),
		cmocka_unit_test(test_cond_integer_column_not_integer_text),
		cmocka_unit_test(test_cond_composite),
		cmocka_unit_test(test_cond_composite_three),
		cmocka_unit_test(test_cond_quoting),
		cmocka_unit_test(test_edge_sql),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
