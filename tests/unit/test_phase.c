/*
 * Phases: the per-phase state machine, the rules across phases, and the
 * exact steps (SQL and flags) each phase runs per operation, forward and
 * in reverse, on MariaDB/MySQL and PostgreSQL, offline and with a live
 * table; and the JSON form of a step list that the runner stores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/migration.h"
#include "godwit/phase.h"
#include "godwit/runner.h"
#include "godwit/shadow.h"
#include "godwit/triggers.h"

/* Mutable char * from a literal, for the char * fields of the live model. */
#define S(x) ((char *)(x))

#define PATH "migrations/0007_test.json"
#define MY "mysql"
#define PG "postgres"

#define MODIFY_OFFLINE "/* nullability and default restated from the live column at run time */"
#define HINT_DOWN "give the operation a \"down\" with the SQL that undoes it"

enum { E = GW_PHASE_EXPAND, B = GW_PHASE_BACKFILL, C = GW_PHASE_CONTRACT };
#define FWD false
#define UNDO true

#define NT GW_STEP_NO_TXN
#define MB GW_STEP_MAY_BLOCK
#define LK GW_STEP_LOCKED

/*
 * A migration whose "operations" list is ops and whose "options" object is
 * options (NULL: none). In both, ' stands for " and ~ for ', so that they
 * read like the migration file.
 */
static void mig_with(const char *options, const char *ops, struct gw_migration *m)
{
	static const char head[] = "{\"id\": \"0007_test\", \"parents\": [\"0006_prev\"], ";
	size_t len = strlen(head) + (options ? strlen(options) + 16 : 0) + strlen(ops) + 20;
	char *text = malloc(len);
	struct gw_error err = GW_ERROR_INIT;
	char *q;
	int rc;

	assert_non_null(text);
	snprintf(text, len, "%s%s%s%s'operations': [%s]}", head, options ? "'options': " : "",
		 options ? options : "", options ? ", " : "", ops);
	for (q = text + strlen(head); *q; q++) {
		if (*q == '\'')
			*q = '"';
		else if (*q == '~')
			*q = '\'';
	}
	memset(m, 0, sizeof(*m));
	rc = gw_migration_parse(text, strlen(text), PATH, m, &err);
	if (rc)
		print_error("bad test migration: %s\n", err.msg);
	assert_int_equal(rc, 0);
	free(text);
}

static void mig(const char *ops, struct gw_migration *m)
{
	mig_with(NULL, ops, m);
}

static const struct gw_dialect *dialect(const char *name)
{
	const struct gw_dialect *d = gw_dialect_find(name);

	assert_non_null(d);
	return d;
}

static int steps(const char *d, const struct gw_migration *m, size_t op, int phase, bool undo,
		 const struct gw_table_info *live, struct gw_steps *out, struct gw_error *err)
{
	struct gw_phase_req req = {(enum gw_phase)phase, undo, m, NULL, dialect(d), live};

	assert_true(op < m->nops);
	req.op = &m->ops[op];
	return gw_phase_steps(&req, out, err);
}

/* Markers in expected steps for the statements of gw_sync_create/_drop. */
#define SYNC_CREATE "@sync_create"
#define SYNC_DROP "@sync_drop"

/*
 * Exactly the steps given as n pairs (unsigned flags, const char *sql), for
 * operation op of m in phase (forward or undo). A pair whose sql is
 * SYNC_CREATE or SYNC_DROP stands for all the statements gw_sync_create or
 * gw_sync_drop make for sync, with the pair's flags added to theirs.
 */
static void expect_v(const char *d, const struct gw_migration *m, size_t op, int phase,
		     bool undo, const struct gw_table_info *live, const struct gw_sync *sync,
		     size_t n, va_list ap)
{
	struct gw_steps out = GW_STEPS_INIT, want = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;
	int rc;

	for (size_t i = 0; i < n; i++) {
		unsigned flags = va_arg(ap, unsigned);
		const char *sql = va_arg(ap, const char *);
		size_t from = want.n;

		if (strcmp(sql, SYNC_CREATE) == 0 || strcmp(sql, SYNC_DROP) == 0) {
			assert_non_null(sync);
			if (strcmp(sql, SYNC_CREATE) == 0)
				gw_sync_create(&want, dialect(d), sync);
			else
				gw_sync_drop(&want, dialect(d), sync);
			for (size_t k = from; k < want.n; k++)
				want.v[k].flags |= flags;
		} else {
			gw_steps_add(&want, flags, strdup(sql));
		}
	}
	rc = steps(d, m, op, phase, undo, live, &out, &err);
	if (rc)
		print_error("%s %s%s: unexpected failure: %s\n", d, gw_phase_name(phase),
			    undo ? " undo" : "", err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(err.code, 0);
	if (out.n != want.n) {
		for (size_t i = 0; i < out.n; i++)
			print_error("%s %s%s step %zu: [%u] %s\n", d, gw_phase_name(phase),
				    undo ? " undo" : "", i, out.v[i].flags, out.v[i].sql);
	}
	assert_int_equal(out.n, want.n);
	for (size_t i = 0; i < want.n; i++) {
		assert_string_equal(out.v[i].sql, want.v[i].sql);
		assert_int_equal(out.v[i].flags, want.v[i].flags);
		/* fills, and only they, are shown as run in keyset chunks */
		assert_int_equal(out.v[i].fill != NULL,
				 strstr(out.v[i].sql, " -- in keyset chunks") != NULL);
	}
	gw_steps_release(&want);
	gw_steps_release(&out);
}

static void expect(const char *d, const struct gw_migration *m, size_t op, int phase, bool undo,
		   const struct gw_table_info *live, size_t n, ...)
{
	va_list ap;

	va_start(ap, n);
	expect_v(d, m, op, phase, undo, live, NULL, n, ap);
	va_end(ap);
}

/* As expect, with the triggers of sync standing for SYNC_CREATE and SYNC_DROP. */
static void expect_sync(const char *d, const struct gw_migration *m, size_t op, int phase,
			bool undo, const struct gw_table_info *live, const struct gw_sync *sync,
			size_t n, ...)
{
	va_list ap;

	va_start(ap, n);
	expect_v(d, m, op, phase, undo, live, sync, n, ap);
	va_end(ap);
}

/*
 * Step i of the phase is a fill of table: set, where (NULL: none) and mode
 * (NULL: none); every other step is a plain statement.
 */
static void expect_fill(const char *d, const struct gw_migration *m, size_t op, int phase,
			bool undo, const struct gw_table_info *live, size_t i, const char *table,
			const char *set, const char *where, const char *mode)
{
	struct gw_steps out = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;
	const struct gw_fill *f;

	assert_int_equal(steps(d, m, op, phase, undo, live, &out, &err), 0);
	assert_true(i < out.n);
	for (size_t k = 0; k < out.n; k++)
		if (k != i)
			assert_null(out.v[k].fill);
	f = out.v[i].fill;
	assert_non_null(f);
	assert_string_equal(f->table, table);
	assert_string_equal(f->set, set);
	if (where)
		assert_string_equal(f->where, where);
	else
		assert_null(f->where);
	if (mode)
		assert_string_equal(f->mode, mode);
	else
		assert_null(f->mode);
	/* a fill runs in its own chunked transactions */
	assert_int_equal(out.v[i].flags, 0);
	gw_steps_release(&out);
}

#define expect_none(d, m, op, phase, undo, live) expect((d), (m), (op), (phase), (undo), (live), 0)

/* Fails with code, message msg and hint (NULL: not checked), adding no step. */
static void expect_fail(const char *d, const struct gw_migration *m, size_t op, int phase,
			bool undo, const struct gw_table_info *live, int code, const char *msg,
			const char *hint)
{
	struct gw_steps out = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;
	int rc;

	rc = steps(d, m, op, phase, undo, live, &out, &err);
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
	if (hint)
		assert_string_equal(err.hint, hint);
	assert_int_equal(out.n, 0);
	gw_steps_release(&out);
}

/* Every phase, both directions, both dialects: nothing to do. */
static void expect_nothing_but(const struct gw_migration *m, size_t op, int phase_with_work)
{
	static const char *const dialects[] = {MY, PG};

	for (size_t k = 0; k < 2; k++)
		for (int p = 0; p < GW_NPHASES; p++)
			if (p != phase_with_work) {
				expect_none(dialects[k], m, op, p, FWD, NULL);
				expect_none(dialects[k], m, op, p, UNDO, NULL);
			}
}

/* ---------------------------------------------------------------- names */

static void test_phase_names(void **state)
{
	static const char *const names[] = {"expand", "backfill", "contract"};

	(void)state;
	assert_int_equal(GW_NPHASES, 3);
	for (int i = 0; i < GW_NPHASES; i++) {
		assert_string_equal(gw_phase_name(i), names[i]);
		assert_int_equal(gw_phase_parse(names[i]), i);
		assert_int_equal(gw_phase_parse(gw_phase_name(i)), i);
	}
	assert_int_equal(GW_PHASE_EXPAND, 0);
	assert_int_equal(GW_PHASE_BACKFILL, 1);
	assert_int_equal(GW_PHASE_CONTRACT, 2);
	assert_null(gw_phase_name(-1));
	assert_null(gw_phase_name(GW_NPHASES));
	assert_null(gw_phase_name(1000));
	assert_int_equal(gw_phase_parse(NULL), -1);
	assert_int_equal(gw_phase_parse(""), -1);
	assert_int_equal(gw_phase_parse("Expand"), -1);
	assert_int_equal(gw_phase_parse("expand "), -1);
	assert_int_equal(gw_phase_parse("expan"), -1);
	assert_int_equal(gw_phase_parse("pending"), -1);
}

static void test_state_names(void **state)
{
	static const char *const names[] = {"pending",   "running", "paused",
					    "completed", "failed",  "rolled_back"};

	(void)state;
	assert_int_equal(GW_NSTATES, 6);
	for (int i = 0; i < GW_NSTATES; i++) {
		assert_string_equal(gw_state_name(i), names[i]);
		assert_int_equal(gw_state_parse(names[i]), i);
	}
	assert_int_equal(GW_STATE_PENDING, 0);
	assert_int_equal(GW_STATE_ROLLED_BACK, 5);
	assert_null(gw_state_name(-1));
	assert_null(gw_state_name(GW_NSTATES));
	assert_int_equal(gw_state_parse(NULL), -1);
	assert_int_equal(gw_state_parse(""), -1);
	assert_int_equal(gw_state_parse("Running"), -1);
	assert_int_equal(gw_state_parse("rolled back"), -1);
	assert_int_equal(gw_state_parse("rolledback"), -1);
	assert_int_equal(gw_state_parse("expand"), -1);
}

/* --------------------------------------------------------- state machine */

static void test_transition_table(void **state)
{
	/* rows: from; columns: to, in enum order (pending .. rolled_back) */
	static const bool ok[GW_NSTATES][GW_NSTATES] = {
		/*               pend   run    pause  compl  fail   rolled */
		/* pending   */ {false, true, true, true, false, false},
		/* running   */ {false, true, true, true, true, true},
		/* paused    */ {true, true, false, false, true, true},
		/* completed */ {false, true, false, false, true, true},
		/* failed    */ {false, true, true, false, true, true},
		/* rolled_b. */ {false, true, false, true, false, false},
	};

	(void)state;
	for (int from = 0; from < GW_NSTATES; from++) {
		for (int to = 0; to < GW_NSTATES; to++) {
			bool got = gw_state_transition_ok((enum gw_state)from, (enum gw_state)to);

			if (got != ok[from][to])
				print_error("%s -> %s: got %d\n", gw_state_name(from),
					    gw_state_name(to), got);
			assert_int_equal(got, ok[from][to]);
		}
	}
}

static void test_transition_out_of_range(void **state)
{
	(void)state;
	for (int s = 0; s < GW_NSTATES; s++) {
		assert_false(gw_state_transition_ok((enum gw_state)GW_NSTATES, (enum gw_state)s));
		assert_false(gw_state_transition_ok((enum gw_state)-1, (enum gw_state)s));
		assert_false(gw_state_transition_ok((enum gw_state)s, (enum gw_state)GW_NSTATES));
		assert_false(gw_state_transition_ok((enum gw_state)s, (enum gw_state)-1));
	}
}

/* The three states as a number in base GW_NSTATES, to walk all 216 combinations. */
static void states_of(int k, enum gw_state st[GW_NPHASES])
{
	for (int p = 0; p < GW_NPHASES; p++) {
		st[p] = (enum gw_state)(k % GW_NSTATES);
		k /= GW_NSTATES;
	}
}

static void test_may_start_all(void **state)
{
	enum gw_state st[GW_NPHASES];

	(void)state;
	for (int k = 0; k < GW_NSTATES * GW_NSTATES * GW_NSTATES; k++) {
		states_of(k, st);
		assert_int_equal(gw_phase_may_start(st, GW_PHASE_EXPAND),
				 st[0] != GW_STATE_COMPLETED);
		assert_int_equal(gw_phase_may_start(st, GW_PHASE_BACKFILL),
				 st[0] == GW_STATE_COMPLETED && st[1] != GW_STATE_COMPLETED);
		assert_int_equal(gw_phase_may_start(st, GW_PHASE_CONTRACT),
				 st[1] == GW_STATE_COMPLETED && st[2] != GW_STATE_COMPLETED);
	}
}

static void test_may_start_examples(void **state)
{
	const enum gw_state fresh[] = {GW_STATE_PENDING, GW_STATE_PENDING, GW_STATE_PENDING};
	const enum gw_state expanded[] = {GW_STATE_COMPLETED, GW_STATE_PENDING, GW_STATE_PENDING};
	const enum gw_state failed_bf[] = {GW_STATE_COMPLETED, GW_STATE_FAILED, GW_STATE_PENDING};
	const enum gw_state paused_bf[] = {GW_STATE_COMPLETED, GW_STATE_PAUSED, GW_STATE_PENDING};
	const enum gw_state filled[] = {GW_STATE_COMPLETED, GW_STATE_COMPLETED, GW_STATE_PENDING};
	const enum gw_state done[] = {GW_STATE_COMPLETED, GW_STATE_COMPLETED, GW_STATE_COMPLETED};
	const enum gw_state exp_rb[] = {GW_STATE_ROLLED_BACK, GW_STATE_PENDING, GW_STATE_PENDING};

	(void)state;
	assert_true(gw_phase_may_start(fresh, GW_PHASE_EXPAND));
	assert_false(gw_phase_may_start(fresh, GW_PHASE_BACKFILL));
	assert_false(gw_phase_may_start(fresh, GW_PHASE_CONTRACT));
	assert_false(gw_phase_may_start(expanded, GW_PHASE_EXPAND));
	assert_true(gw_phase_may_start(expanded, GW_PHASE_BACKFILL));
	assert_false(gw_phase_may_start(expanded, GW_PHASE_CONTRACT));
	/* a failed or paused phase resumes; the next one waits for it */
	assert_true(gw_phase_may_start(failed_bf, GW_PHASE_BACKFILL));
	assert_false(gw_phase_may_start(failed_bf, GW_PHASE_CONTRACT));
	assert_true(gw_phase_may_start(paused_bf, GW_PHASE_BACKFILL));
	assert_false(gw_phase_may_start(paused_bf, GW_PHASE_CONTRACT));
	assert_true(gw_phase_may_start(filled, GW_PHASE_CONTRACT));
	assert_false(gw_phase_may_start(filled, GW_PHASE_BACKFILL));
	for (int p = 0; p < GW_NPHASES; p++)
		assert_false(gw_phase_may_start(done, (enum gw_phase)p));
	assert_true(gw_phase_may_start(exp_rb, GW_PHASE_EXPAND));
	assert_false(gw_phase_may_start(exp_rb, GW_PHASE_BACKFILL));
}

static bool undone(enum gw_state s)
{
	return s == GW_STATE_PENDING || s == GW_STATE_ROLLED_BACK;
}

static void test_may_rollback_all(void **state)
{
	enum gw_state st[GW_NPHASES];

	(void)state;
	for (int k = 0; k < GW_NSTATES * GW_NSTATES * GW_NSTATES; k++) {
		states_of(k, st);
		assert_int_equal(gw_phase_may_rollback(st, GW_PHASE_EXPAND),
				 undone(st[1]) && undone(st[2]));
		assert_int_equal(gw_phase_may_rollback(st, GW_PHASE_BACKFILL), undone(st[2]));
		assert_true(gw_phase_may_rollback(st, GW_PHASE_CONTRACT));
	}
}

static void test_may_rollback_examples(void **state)
{
	const enum gw_state done[] = {GW_STATE_COMPLETED, GW_STATE_COMPLETED, GW_STATE_COMPLETED};
	const enum gw_state c_rb[] = {GW_STATE_COMPLETED, GW_STATE_COMPLETED, GW_STATE_ROLLED_BACK};
	const enum gw_state b_rb[] = {GW_STATE_COMPLETED, GW_STATE_ROLLED_BACK, GW_STATE_PENDING};
	const enum gw_state b_run[] = {GW_STATE_COMPLETED, GW_STATE_RUNNING, GW_STATE_PENDING};
	const enum gw_state b_fail[] = {GW_STATE_COMPLETED, GW_STATE_FAILED, GW_STATE_PENDING};
	const enum gw_state b_pause[] = {GW_STATE_COMPLETED, GW_STATE_PAUSED, GW_STATE_PENDING};

	(void)state;
	assert_false(gw_phase_may_rollback(done, GW_PHASE_EXPAND));
	assert_false(gw_phase_may_rollback(done, GW_PHASE_BACKFILL));
	assert_true(gw_phase_may_rollback(done, GW_PHASE_CONTRACT));
	assert_true(gw_phase_may_rollback(c_rb, GW_PHASE_BACKFILL));
	assert_false(gw_phase_may_rollback(c_rb, GW_PHASE_EXPAND));
	assert_true(gw_phase_may_rollback(b_rb, GW_PHASE_EXPAND));
	assert_false(gw_phase_may_rollback(b_run, GW_PHASE_EXPAND));
	assert_false(gw_phase_may_rollback(b_fail, GW_PHASE_EXPAND));
	assert_false(gw_phase_may_rollback(b_pause, GW_PHASE_EXPAND));
	assert_true(gw_phase_may_rollback(b_fail, GW_PHASE_BACKFILL));
}

/* ------------------------------------------------------------ step list */

static void test_steps_add_release(void **state)
{
	struct gw_steps s = GW_STEPS_INIT;
	char want[32];

	(void)state;
	for (unsigned i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "SELECT %u", i);
		gw_steps_add(&s, i % 4, strdup(want));
		assert_int_equal(s.n, i + 1);
		assert_true(s.cap >= s.n);
	}
	for (unsigned i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "SELECT %u", i);
		assert_string_equal(s.v[i].sql, want);
		assert_int_equal(s.v[i].flags, i % 4);
	}
	gw_steps_release(&s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.cap, 0);
	assert_null(s.v);
	gw_steps_release(&s); /* twice is safe */
	assert_int_not_equal(GW_STEP_NO_TXN, GW_STEP_MAY_BLOCK);
	assert_int_equal(GW_STEP_NO_TXN & GW_STEP_MAY_BLOCK, 0);
}

/* ---------------------------------------------------------- create_table */

static void test_create_table(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'create_table': {'table': 'users', 'columns': ["
	    "  {'name': 'id', 'type': 'BIGINT', 'primary_key': true, 'autoincrement': true},"
	    "  {'name': 'email', 'type': 'VARCHAR(255)', 'nullable': false, 'unique': true},"
	    "  {'name': 'created_at', 'type': 'TIMESTAMP', 'default': 'CURRENT_TIMESTAMP'}],"
	    " 'indexes': [{'name': 'idx_users_created', 'columns': ['created_at']}]}}",
	    &m);
	expect(PG, &m, 0, E, FWD, NULL, 2,
	       0, "CREATE TABLE \"users\" (\"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY, "
		  "\"email\" VARCHAR(255) NOT NULL, \"created_at\" TIMESTAMP DEFAULT "
		  "CURRENT_TIMESTAMP, PRIMARY KEY (\"id\"), UNIQUE (\"email\"))",
	       0, "CREATE INDEX \"idx_users_created\" ON \"users\" (\"created_at\")");
	expect(MY, &m, 0, E, FWD, NULL, 2,
	       0, "CREATE TABLE `users` (`id` BIGINT NOT NULL AUTO_INCREMENT, "
		  "`email` VARCHAR(255) NOT NULL, `created_at` TIMESTAMP DEFAULT CURRENT_TIMESTAMP, "
		  "PRIMARY KEY (`id`), UNIQUE (`email`))",
	       0, "CREATE INDEX `idx_users_created` ON `users` (`created_at`)");
	expect(PG, &m, 0, E, UNDO, NULL, 1, 0, "DROP TABLE \"users\"");
	expect(MY, &m, 0, E, UNDO, NULL, 1, 0, "DROP TABLE `users`");
	expect_nothing_but(&m, 0, E);
	gw_migration_release(&m);
}

/* ------------------------------------------------------------ drop_table */

static void test_drop_table_expand(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'drop_table': {'table': 'sessions'}}", &m);
	expect(PG, &m, 0, E, FWD, NULL, 1, 0,
	       "ALTER TABLE \"sessions\" RENAME TO \"_gw_del_sessions\"");
	expect(MY, &m, 0, E, FWD, NULL, 1, 0, "RENAME TABLE `sessions` TO `_gw_del_sessions`");
	expect(PG, &m, 0, E, UNDO, NULL, 1, 0,
	       "ALTER TABLE \"_gw_del_sessions\" RENAME TO \"sessions\"");
	expect(MY, &m, 0, E, UNDO, NULL, 1, 0, "RENAME TABLE `_gw_del_sessions` TO `sessions`");
	expect_none(PG, &m, 0, B, FWD, NULL);
	expect_none(MY, &m, 0, B, UNDO, NULL);
	gw_migration_release(&m);
}

static void test_drop_table_contract(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'sql': {'up': 'SELECT 1', 'down': 'SELECT 2'}},"
	    "{'drop_table': {'table': 'sessions'}},"
	    "{'drop_table': {'table': 'tokens', 'down': 'CREATE TABLE tokens (id BIGINT)'}}",
	    &m);
	expect(PG, &m, 1, C, FWD, NULL, 1, 0, "DROP TABLE \"_gw_del_sessions\"");
	expect(MY, &m, 1, C, FWD, NULL, 1, 0, "DROP TABLE `_gw_del_sessions`");
	expect_fail(PG, &m, 1, C, UNDO, NULL, GW_ERR_NO_INVERSE,
		    PATH ": operation 1 (drop_table) has no safe inverse: the table and its rows "
			 "were dropped",
		    HINT_DOWN);
	expect_fail(MY, &m, 1, C, UNDO, NULL, GW_ERR_NO_INVERSE,
		    PATH ": operation 1 (drop_table) has no safe inverse: the table and its rows "
			 "were dropped",
		    HINT_DOWN);
	expect(PG, &m, 2, C, UNDO, NULL, 1, 0, "CREATE TABLE tokens (id BIGINT)");
	expect(MY, &m, 2, C, UNDO, NULL, 1, 0, "CREATE TABLE tokens (id BIGINT)");
	/* the down is for contract only: expand's reverse still renames back */
	expect(MY, &m, 2, E, UNDO, NULL, 1, 0, "RENAME TABLE `_gw_del_tokens` TO `tokens`");
	gw_migration_release(&m);
}

static void test_drop_table_long_name(void **state)
{
	struct gw_migration m;
	char ops[256], want[256];
	const char *t63 = "t23456789_123456789_123456789_123456789_123456789_123456789_123";

	(void)state;
	assert_int_equal(strlen(t63), 63);
	snprintf(ops, sizeof(ops), "{'drop_table': {'table': '%s'}}", t63);
	mig(ops, &m);
	/* the aside name keeps to 63 bytes: "_gw_del_" and the first 55 of the name */
	snprintf(want, sizeof(want), "DROP TABLE \"_gw_del_%.55s\"", t63);
	expect(PG, &m, 0, C, FWD, NULL, 1, 0, want);
	assert_int_equal(strlen(want) - strlen("DROP TABLE \"\""), 63);
	gw_migration_release(&m);
}

/* ---------------------------------------------------------- rename_table */

static void test_rename_table(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'rename_table': {'from': 'people', 'to': 'persons'}}", &m);
	expect(PG, &m, 0, C, FWD, NULL, 1, 0, "ALTER TABLE \"people\" RENAME TO \"persons\"");
	expect(MY, &m, 0, C, FWD, NULL, 1, 0, "RENAME TABLE `people` TO `persons`");
	expect(PG, &m, 0, C, UNDO, NULL, 1, 0, "ALTER TABLE \"persons\" RENAME TO \"people\"");
	expect(MY, &m, 0, C, UNDO, NULL, 1, 0, "RENAME TABLE `persons` TO `people`");
	expect_nothing_but(&m, 0, C);
	gw_migration_release(&m);
}

/* ------------------------------------------------------------ add_column */

static void test_add_column_nullable(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'add_column': {'table': 'users', 'column': {'name': 'nickname', 'type': 'TEXT'}}}",
	    &m);
	expect(PG, &m, 0, E, FWD, NULL, 1, 0, "ALTER TABLE \"users\" ADD COLUMN \"nickname\" TEXT");
	expect(MY, &m, 0, E, FWD, NULL, 1, 0, "ALTER TABLE `users` ADD COLUMN `nickname` TEXT");
	expect(PG, &m, 0, E, UNDO, NULL, 1, 0, "ALTER TABLE \"users\" DROP COLUMN \"nickname\"");
	expect(MY, &m, 0, E, UNDO, NULL, 1, 0, "ALTER TABLE `users` DROP COLUMN `nickname`");
	expect_nothing_but(&m, 0, E);
	gw_migration_release(&m);
}

/* nullable with a backfill: filled, but nothing to enforce in contract */
static void test_add_column_nullable_backfill(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'add_column': {'table': 'users', 'column': {'name': 'slug', 'type': 'TEXT',"
	    " 'nullable': true}, 'backfill': 'lower(name)'}}",
	    &m);
	expect(PG, &m, 0, E, FWD, NULL, 1, 0, "ALTER TABLE \"users\" ADD COLUMN \"slug\" TEXT");
	expect(PG, &m, 0, B, FWD, NULL, 1, 0,
	       "UPDATE \"users\" SET \"slug\" = (lower(name)) WHERE (\"slug\" IS NULL) "
	       "-- in keyset chunks");
	expect(MY, &m, 0, B, FWD, NULL, 1, 0,
	       "UPDATE `users` SET `slug` = (lower(name)) WHERE (`slug` IS NULL) "
	       "-- in keyset chunks");
	expect_fill(PG, &m, 0, B, FWD, NULL, 0, "users", "\"slug\" = (lower(name))",
		    "\"slug\" IS NULL", NULL);
	expect_fill(MY, &m, 0, B, FWD, NULL, 0, "users", "`slug` = (lower(name))", "`slug` IS NULL",
		    NULL);
	expect_none(PG, &m, 0, B, UNDO, NULL);
	expect_none(MY, &m, 0, B, UNDO, NULL);
	expect_none(PG, &m, 0, C, FWD, NULL);
	expect_none(MY, &m, 0, C, FWD, NULL);
	expect_none(PG, &m, 0, C, UNDO, NULL);
	gw_migration_release(&m);
}

#define STATUS_OP                                                                              \
	"{'add_column': {'table': 'users', 'column': {'name': 'status', 'type': 'VARCHAR(16)',"  \
	" 'nullable': false, 'default': '~active~'},"                                           \
	" 'backfill': 'CASE WHEN banned THEN ~banned~ ELSE ~active~ END'}}"

static void test_add_column_not_null_expand_backfill(void **state)
{
	struct gw_migration m;

	(void)state;
	mig(STATUS_OP, &m);
	/* added nullable (with its default) so that old writers keep working */
	expect(PG, &m, 0, E, FWD, NULL, 1, 0,
	       "ALTER TABLE \"users\" ADD COLUMN \"status\" VARCHAR(16) DEFAULT 'active'");
	expect(MY, &m, 0, E, FWD, NULL, 1, 0,
	       "ALTER TABLE `users` ADD COLUMN `status` VARCHAR(16) DEFAULT 'active'");
	expect(PG, &m, 0, E, UNDO, NULL, 1, 0, "ALTER TABLE \"users\" DROP COLUMN \"status\"");
	/* PostgreSQL proves NOT NULL now, without blocking writes, for contract */
	expect(PG, &m, 0, B, FWD, NULL, 4,
	       0, "UPDATE \"users\" SET \"status\" = (CASE WHEN banned THEN 'banned' ELSE "
		  "'active' END) WHERE (\"status\" IS NULL) -- in keyset chunks",
	       0, "ALTER TABLE \"users\" DROP CONSTRAINT IF EXISTS \"_gw_users_status_nn\"",
	       MB, "ALTER TABLE \"users\" ADD CONSTRAINT \"_gw_users_status_nn\" "
		   "CHECK (\"status\" IS NOT NULL) NOT VALID",
	       0, "ALTER TABLE \"users\" VALIDATE CONSTRAINT \"_gw_users_status_nn\"");
	expect_fill(PG, &m, 0, B, FWD, NULL, 0, "users",
		    "\"status\" = (CASE WHEN banned THEN 'banned' ELSE 'active' END)",
		    "\"status\" IS NULL", NULL);
	expect(MY, &m, 0, B, FWD, NULL, 1, 0,
	       "UPDATE `users` SET `status` = (CASE WHEN banned THEN 'banned' ELSE 'active' "
	       "END) WHERE (`status` IS NULL) -- in keyset chunks");
	/* the fill is undone by expand's rollback, which drops the column */
	expect(PG, &m, 0, B, UNDO, NULL, 1, 0,
	       "ALTER TABLE \"users\" DROP CONSTRAINT IF EXISTS \"_gw_users_status_nn\"");
	expect_none(MY, &m, 0, B, UNDO, NULL);
	gw_migration_release(&m);
}

static void test_add_column_not_null_contract_offline(void **state)
{
	struct gw_migration m;

	(void)state;
	mig(STATUS_OP, &m);
	/* the check validated in backfill spares SET NOT NULL its scan */
	expect(PG, &m, 0, C, FWD, NULL, 1, MB,
	       "ALTER TABLE \"users\" ALTER COLUMN \"status\" SET NOT NULL, "
	       "DROP CONSTRAINT IF EXISTS \"_gw_users_status_nn\"");
	expect(PG, &m, 0, C, UNDO, NULL, 1, 0,
	       "ALTER TABLE \"users\" ALTER COLUMN \"status\" DROP NOT NULL");
	expect(MY, &m, 0, C, FWD, NULL, 1, 0,
	       "ALTER TABLE `users` MODIFY COLUMN `status` /* current type */ NOT NULL "
	       MODIFY_OFFLINE);
	expect(MY, &m, 0, C, UNDO, NULL, 1, 0,
	       "ALTER TABLE `users` MODIFY COLUMN `status` /* current type */ " MODIFY_OFFLINE);
	gw_migration_release(&m);
}

static void test_add_column_not_null_contract_live(void **state)
{
	/* the table as contract finds it: status added nullable by expand */
	struct gw_column_info cols[] = {
		{S("id"), S("bigint"), false, NULL, true, false},
		{S("status"), S("varchar(16)"), true, S("'active'"), false, false},
	};
	struct gw_table_info live = {.name = S("users"), .ncolumns = 2, .columns = cols};
	struct gw_migration m;

	(void)state;
	mig(STATUS_OP, &m);
	expect(MY, &m, 0, C, FWD, &live, 1, 0,
	       "ALTER TABLE `users` MODIFY COLUMN `status` varchar(16) NOT NULL DEFAULT 'active'");
	expect(MY, &m, 0, C, UNDO, &live, 1, 0,
	       "ALTER TABLE `users` MODIFY COLUMN `status` varchar(16) DEFAULT 'active'");
	expect(PG, &m, 0, C, FWD, &live, 1, MB,
	       "ALTER TABLE \"users\" ALTER COLUMN \"status\" SET NOT NULL, "
	       "DROP CONSTRAINT IF EXISTS \"_gw_users_status_nn\"");
	expect(PG, &m, 0, C, UNDO, &live, 1, 0,
	       "ALTER TABLE \"users\" ALTER COLUMN \"status\" DROP NOT NULL");
	/* MariaDB's "NULL" text for "no default" is not restated as a default */
	cols[1].default_expr = S("NULL");
	expect(MY, &m, 0, C, FWD, &live, 1, 0,
	       "ALTER TABLE `users` MODIFY COLUMN `status` varchar(16) NOT NULL");
	gw_migration_release(&m);
}

/* NOT NULL without default nor backfill: still deferred to contract */
static void test_add_column_not_null_no_default(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'add_column': {'table': 'users', 'column': {'name': 'tz', 'type': 'TEXT',"
	    " 'nullable': false}}}",
	    &m);
	expect(PG, &m, 0, E, FWD, NULL, 1, 0, "ALTER TABLE \"users\" ADD COLUMN \"tz\" TEXT");
	/* nothing to fill, but NOT NULL is still proven before contract relies on it */
	expect(PG, &m, 0, B, FWD, NULL, 3,
	       0, "ALTER TABLE \"users\" DROP CONSTRAINT IF EXISTS \"_gw_users_tz_nn\"",
	       MB, "ALTER TABLE \"users\" ADD CONSTRAINT \"_gw_users_tz_nn\" "
		   "CHECK (\"tz\" IS NOT NULL) NOT VALID",
	       0, "ALTER TABLE \"users\" VALIDATE CONSTRAINT \"_gw_users_tz_nn\"");
	expect(PG, &m, 0, B, UNDO, NULL, 1, 0,
	       "ALTER TABLE \"users\" DROP CONSTRAINT IF EXISTS \"_gw_users_tz_nn\"");
	expect_none(MY, &m, 0, B, FWD, NULL);
	expect_none(MY, &m, 0, B, UNDO, NULL);
	expect(PG, &m, 0, C, FWD, NULL, 1, MB,
	       "ALTER TABLE \"users\" ALTER COLUMN \"tz\" SET NOT NULL, "
	       "DROP CONSTRAINT IF EXISTS \"_gw_users_tz_nn\"");
	gw_migration_release(&m);
}

/* NOT NULL with a constant default and no backfill: added NOT NULL DEFAULT at once */
static void test_add_column_not_null_constant_default(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'add_column': {'table': 'users', 'column': {'name': 'score', 'type': 'INT',"
	    " 'nullable': false, 'default': 0}}},"
	    "{'add_column': {'table': 'users', 'column': {'name': 'plan', 'type': 'TEXT',"
	    " 'nullable': false, 'default': '~free~'}}}",
	    &m);
	expect(PG, &m, 0, E, FWD, NULL, 1, 0,
	       "ALTER TABLE \"users\" ADD COLUMN \"score\" INT NOT NULL DEFAULT 0");
	expect(MY, &m, 0, E, FWD, NULL, 1, 0,
	       "ALTER TABLE `users` ADD COLUMN `score` INT NOT NULL DEFAULT 0");
	expect(MY, &m, 1, E, FWD, NULL, 1, 0,
	       "ALTER TABLE `users` ADD COLUMN `plan` TEXT NOT NULL DEFAULT 'free'");
	expect(MY, &m, 0, E, UNDO, NULL, 1, 0, "ALTER TABLE `users` DROP COLUMN `score`");
	expect_nothing_but(&m, 0, E);
	expect_nothing_but(&m, 1, E);
	gw_migration_release(&m);
}

/* ----------------------------------------------------------- drop_column */

static void test_drop_column(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'drop_column': {'table': 'users', 'column': 'legacy'}},"
	    "{'drop_column': {'table': 'users', 'column': 'old',"
	    " 'down': 'ALTER TABLE users ADD COLUMN old TEXT'}}",
	    &m);
	expect(PG, &m, 0, C, FWD, NULL, 1, 0, "ALTER TABLE \"users\" DROP COLUMN \"legacy\"");
	expect(MY, &m, 0, C, FWD, NULL, 1, 0, "ALTER TABLE `users` DROP COLUMN `legacy`");
	expect_fail(PG, &m, 0, C, UNDO, NULL, GW_ERR_NO_INVERSE,
		    PATH ": operation 0 (drop_column) has no safe inverse: the column and its "
			 "data were dropped",
		    HINT_DOWN);
	expect_fail(MY, &m, 0, C, UNDO, NULL, GW_ERR_NO_INVERSE,
		    PATH ": operation 0 (drop_column) has no safe inverse: the column and its "
			 "data were dropped",
		    HINT_DOWN);
	expect(MY, &m, 1, C, UNDO, NULL, 1, 0, "ALTER TABLE users ADD COLUMN old TEXT");
	/* nothing is dropped before contract, so nothing to restore before it */
	expect_nothing_but(&m, 0, C);
	expect_nothing_but(&m, 1, C);
	gw_migration_release(&m);
}

/* ---------------------------------------------------- rename_column (in place) */

/*
 * users(id PK, name NOT NULL DEFAULT 'anon', org_id) with a unique index on
 * name, an index on (org_id, name) and one on org_id alone, as MariaDB and
 * PostgreSQL describe it before expand; and before contract, when expand
 * and backfill have added full_name and the index copies.
 */
static char *users_pk[] = {S("id")};
static char *users_name[] = {S("name")};
static char *users_org_name[] = {S("org_id"), S("name")};
static char *users_org[] = {S("org_id")};
static char *users_full[] = {S("full_name")};
static char *users_org_full[] = {S("org_id"), S("full_name")};
static struct gw_index_info users_idx[] = {
	{S("PRIMARY"), true, true, 1, users_pk},
	{S("idx_users_org"), false, false, 1, users_org},
	{S("idx_users_org_name"), false, false, 2, users_org_name},
	{S("uq_users_name"), true, false, 1, users_name},
	{S("_gw_new_idx_users_org_name"), false, false, 2, users_org_full},
	{S("_gw_new_uq_users_name"), true, false, 1, users_full},
};
static struct gw_column_info users_cols_my[] = {
	{S("id"), S("bigint"), false, NULL, true, false},
	{S("name"), S("varchar(80)"), false, S("'anon'"), false, false},
	{S("org_id"), S("int"), true, NULL, false, false},
	{S("full_name"), S("varchar(80)"), true, NULL, false, false},
};
static struct gw_column_info users_cols_pg[] = {
	{S("id"), S("bigint"), false, NULL, true, false},
	{S("name"), S("character varying(80)"), false, S("'anon'::character varying"), false,
	 false},
	{S("org_id"), S("integer"), true, NULL, false, false},
	{S("full_name"), S("character varying(80)"), true, NULL, false, false},
};
/* before expand: the first 3 columns and the first 4 indexes */
static struct gw_table_info users_my = {.name = S("users"), .ncolumns = 3,
					.columns = users_cols_my, .npk = 1, .pk = users_pk,
					.nindexes = 4, .indexes = users_idx};
static struct gw_table_info users_pg = {.name = S("users"), .ncolumns = 3,
					.columns = users_cols_pg, .npk = 1, .pk = users_pk,
					.nindexes = 4, .indexes = users_idx};
static struct gw_table_info users_my_c = {.name = S("users"), .ncolumns = 4,
					  .columns = users_cols_my, .npk = 1, .pk = users_pk,
					  .nindexes = 6, .indexes = users_idx};
static struct gw_table_info users_pg_c = {.name = S("users"), .ncolumns = 4,
					  .columns = users_cols_pg, .npk = 1, .pk = users_pk,
					  .nindexes = 6, .indexes = users_idx};

#define RENAME_OP "{'rename_column': {'table': 'users', 'from': 'name', 'to': 'full_name'}}"
#define FILL_DOWN_NOTE " -- in keyset chunks, the triggers filling the old column"

static void test_rename_column_mysql(void **state)
{
	const struct gw_sync s = {"users", "name", "full_name", NULL, NULL, "varchar(80)",
				  &users_my};
	const struct gw_sync sc = {"users", "name", "full_name", NULL, NULL, "varchar(80)",
				   &users_my_c};
	struct gw_migration m;

	(void)state;
	mig(RENAME_OP, &m);
	/* expand: the new column nullable without default, and the triggers */
	expect_sync(MY, &m, 0, E, FWD, &users_my, &s, 2,
		    0, "ALTER TABLE `users` ADD COLUMN `full_name` varchar(80)",
		    0, SYNC_CREATE);
	expect_sync(MY, &m, 0, E, UNDO, &users_my, &s, 2,
		    0, SYNC_DROP,
		    0, "ALTER TABLE `users` DROP COLUMN IF EXISTS `full_name`");
	/* backfill: the fill, then copies of the indexes on name (not of the others) */
	expect(MY, &m, 0, B, FWD, &users_my, 5,
	       0, "UPDATE `users` SET `full_name` = (`name`) WHERE (`full_name` IS NULL) "
		  "-- in keyset chunks",
	       0, "DROP INDEX IF EXISTS `_gw_new_idx_users_org_name` ON `users`",
	       0, "CREATE INDEX `_gw_new_idx_users_org_name` ON `users` (`org_id`, `full_name`) "
		  "ALGORITHM=INPLACE LOCK=NONE",
	       0, "DROP INDEX IF EXISTS `_gw_new_uq_users_name` ON `users`",
	       0, "CREATE UNIQUE INDEX `_gw_new_uq_users_name` ON `users` (`full_name`) "
		  "ALGORITHM=INPLACE LOCK=NONE");
	expect_fill(MY, &m, 0, B, FWD, &users_my, 0, "users", "`full_name` = (`name`)",
		    "`full_name` IS NULL", NULL);
	expect(MY, &m, 0, B, UNDO, &users_my, 2,
	       0, "DROP INDEX IF EXISTS `_gw_new_idx_users_org_name` ON `users`",
	       0, "DROP INDEX IF EXISTS `_gw_new_uq_users_name` ON `users`");
	/*
	 * contract: under one brief LOCK TABLES, the triggers go and one ALTER
	 * drops name and its indexes, gives full_name name's default and place
	 * and the copies the old index names; NOT NULL follows without the lock
	 */
	expect_sync(MY, &m, 0, C, FWD, &users_my_c, &sc, 5,
		    MB | LK, "LOCK TABLES `users` WRITE",
		    LK, SYNC_DROP,
		    LK, "ALTER TABLE `users` DROP INDEX `idx_users_org_name`, DROP INDEX "
			"`uq_users_name`, DROP COLUMN `name`, CHANGE COLUMN `full_name` `full_name` "
			"varchar(80) NULL DEFAULT 'anon' AFTER `id`, RENAME INDEX "
			"`_gw_new_idx_users_org_name` TO `idx_users_org_name`, RENAME INDEX "
			"`_gw_new_uq_users_name` TO `uq_users_name`, ALGORITHM=NOCOPY",
		    LK, "UNLOCK TABLES",
		    0, "ALTER TABLE `users` MODIFY COLUMN `full_name` varchar(80) NOT NULL DEFAULT "
		       "'anon', LOCK=NONE");
	/* contract's undo: back to the state after backfill, name refilled through the triggers */
	expect_sync(MY, &m, 0, C, UNDO, &users_my_c, &sc, 11,
		    0, "ALTER TABLE `users` ADD COLUMN `name` varchar(80) NULL AFTER `id`",
		    0, "ALTER TABLE `users` MODIFY COLUMN `full_name` varchar(80) NULL, LOCK=NONE",
		    0, SYNC_CREATE,
		    0, "ALTER TABLE `users` RENAME INDEX `idx_users_org_name` TO "
		       "`_gw_new_idx_users_org_name`, LOCK=NONE",
		    0, "ALTER TABLE `users` RENAME INDEX `uq_users_name` TO `_gw_new_uq_users_name`, "
		       "LOCK=NONE",
		    0, "UPDATE `users` SET `full_name` = `full_name` WHERE (`name` IS NULL)"
		       FILL_DOWN_NOTE,
		    0, "DROP INDEX IF EXISTS `idx_users_org_name` ON `users`",
		    0, "CREATE INDEX `idx_users_org_name` ON `users` (`org_id`, `name`) "
		       "ALGORITHM=INPLACE LOCK=NONE",
		    0, "DROP INDEX IF EXISTS `uq_users_name` ON `users`",
		    0, "CREATE UNIQUE INDEX `uq_users_name` ON `users` (`name`) "
		       "ALGORITHM=INPLACE LOCK=NONE",
		    0, "ALTER TABLE `users` MODIFY COLUMN `name` varchar(80) NOT NULL DEFAULT 'anon', "
		       "LOCK=NONE");
	expect_fill(MY, &m, 0, C, UNDO, &users_my_c, 6, "users", "`full_name` = `full_name`",
		    "`name` IS NULL", "down");
	gw_migration_release(&m);
}

static void test_rename_column_postgres(void **state)
{
	const struct gw_sync s = {"users", "name", "full_name", NULL, NULL,
				  "character varying(80)", &users_pg};
	const struct gw_sync sc = {"users", "name", "full_name", NULL, NULL,
				   "character varying(80)", &users_pg_c};
	struct gw_migration m;

	(void)state;
	mig(RENAME_OP, &m);
	expect_sync(PG, &m, 0, E, FWD, &users_pg, &s, 2,
		    0, "ALTER TABLE \"users\" ADD COLUMN \"full_name\" character varying(80)",
		    0, SYNC_CREATE);
	expect_sync(PG, &m, 0, E, UNDO, &users_pg, &s, 2,
		    0, SYNC_DROP,
		    0, "ALTER TABLE \"users\" DROP COLUMN IF EXISTS \"full_name\"");
	/* backfill: the fill, concurrent index copies, NOT NULL proven by a validated check */
	expect(PG, &m, 0, B, FWD, &users_pg, 8,
	       0, "UPDATE \"users\" SET \"full_name\" = (\"name\") WHERE (\"full_name\" IS NULL) "
		  "-- in keyset chunks",
	       NT, "DROP INDEX CONCURRENTLY IF EXISTS \"_gw_new_idx_users_org_name\"",
	       NT, "CREATE INDEX CONCURRENTLY \"_gw_new_idx_users_org_name\" ON \"users\" "
		   "(\"org_id\", \"full_name\")",
	       NT, "DROP INDEX CONCURRENTLY IF EXISTS \"_gw_new_uq_users_name\"",
	       NT, "CREATE UNIQUE INDEX CONCURRENTLY \"_gw_new_uq_users_name\" ON \"users\" "
		   "(\"full_name\")",
	       0, "ALTER TABLE \"users\" DROP CONSTRAINT IF EXISTS \"_gw_users_name_nn\"",
	       MB, "ALTER TABLE \"users\" ADD CONSTRAINT \"_gw_users_name_nn\" "
		   "CHECK (\"full_name\" IS NOT NULL) NOT VALID",
	       0, "ALTER TABLE \"users\" VALIDATE CONSTRAINT \"_gw_users_name_nn\"");
	expect_fill(PG, &m, 0, B, FWD, &users_pg, 0, "users", "\"full_name\" = (\"name\")",
		    "\"full_name\" IS NULL", NULL);
	expect(PG, &m, 0, B, UNDO, &users_pg, 3,
	       0, "ALTER TABLE \"users\" DROP CONSTRAINT IF EXISTS \"_gw_users_name_nn\"",
	       NT, "DROP INDEX CONCURRENTLY IF EXISTS \"_gw_new_idx_users_org_name\"",
	       NT, "DROP INDEX CONCURRENTLY IF EXISTS \"_gw_new_uq_users_name\"");
	/* contract: short statements in one transaction; DROP COLUMN drops name's indexes */
	expect_sync(PG, &m, 0, C, FWD, &users_pg_c, &sc, 6,
		    0, SYNC_DROP,
		    MB, "ALTER TABLE \"users\" DROP COLUMN \"name\"",
		    0, "ALTER INDEX \"_gw_new_idx_users_org_name\" RENAME TO \"idx_users_org_name\"",
		    0, "ALTER INDEX \"_gw_new_uq_users_name\" RENAME TO \"uq_users_name\"",
		    0, "ALTER TABLE \"users\" ALTER COLUMN \"full_name\" SET DEFAULT "
		       "'anon'::character varying",
		    MB, "ALTER TABLE \"users\" ALTER COLUMN \"full_name\" SET NOT NULL, "
			"DROP CONSTRAINT IF EXISTS \"_gw_users_name_nn\"");
	expect_sync(PG, &m, 0, C, UNDO, &users_pg_c, &sc, 15,
		    0, "ALTER TABLE \"users\" ADD COLUMN \"name\" character varying(80)",
		    0, "ALTER TABLE \"users\" ALTER COLUMN \"full_name\" DROP DEFAULT, "
		       "ALTER COLUMN \"full_name\" DROP NOT NULL",
		    0, SYNC_CREATE,
		    0, "ALTER INDEX \"idx_users_org_name\" RENAME TO \"_gw_new_idx_users_org_name\"",
		    0, "ALTER INDEX \"uq_users_name\" RENAME TO \"_gw_new_uq_users_name\"",
		    0, "UPDATE \"users\" SET \"full_name\" = \"full_name\" WHERE (\"name\" IS NULL)"
		       FILL_DOWN_NOTE,
		    NT, "DROP INDEX CONCURRENTLY IF EXISTS \"idx_users_org_name\"",
		    NT, "CREATE INDEX CONCURRENTLY \"idx_users_org_name\" ON \"users\" "
			"(\"org_id\", \"name\")",
		    NT, "DROP INDEX CONCURRENTLY IF EXISTS \"uq_users_name\"",
		    NT, "CREATE UNIQUE INDEX CONCURRENTLY \"uq_users_name\" ON \"users\" (\"name\")",
		    0, "ALTER TABLE \"users\" ALTER COLUMN \"name\" SET DEFAULT "
		       "'anon'::character varying",
		    0, "ALTER TABLE \"users\" DROP CONSTRAINT IF EXISTS \"_gw_users_name_nn\"",
		    MB, "ALTER TABLE \"users\" ADD CONSTRAINT \"_gw_users_name_nn\" "
			"CHECK (\"name\" IS NOT NULL) NOT VALID",
		    0, "ALTER TABLE \"users\" VALIDATE CONSTRAINT \"_gw_users_name_nn\"",
		    MB, "ALTER TABLE \"users\" ALTER COLUMN \"name\" SET NOT NULL, "
			"DROP CONSTRAINT IF EXISTS \"_gw_users_name_nn\"");
	expect_fill(PG, &m, 0, C, UNDO, &users_pg_c, 6, "users", "\"full_name\" = \"full_name\"",
		    "\"name\" IS NULL", "down");
	gw_migration_release(&m);
}

/* A nullable column without default: nothing to restore but the column. */
static void test_rename_column_nullable(void **state)
{
	struct gw_column_info cols[] = {
		{S("id"), S("bigint"), false, NULL, true, false},
		{S("nick"), S("text"), true, NULL, false, false},
		{S("handle"), S("text"), true, NULL, false, false},
	};
	struct gw_table_info before = {.name = S("users"), .ncolumns = 2, .columns = cols};
	struct gw_table_info before_c = {.name = S("users"), .ncolumns = 3, .columns = cols};
	const struct gw_sync s = {"users", "nick", "handle", NULL, NULL, "text", &before_c};
	struct gw_migration m;

	(void)state;
	mig("{'rename_column': {'table': 'users', 'from': 'nick', 'to': 'handle'}}", &m);
	expect(PG, &m, 0, B, FWD, &before, 1, 0,
	       "UPDATE \"users\" SET \"handle\" = (\"nick\") WHERE (\"handle\" IS NULL) "
	       "-- in keyset chunks");
	expect_none(PG, &m, 0, B, UNDO, &before);
	expect_none(MY, &m, 0, B, UNDO, &before);
	expect_sync(PG, &m, 0, C, FWD, &before_c, &s, 2,
		    0, SYNC_DROP,
		    MB, "ALTER TABLE \"users\" DROP COLUMN \"nick\"");
	expect_sync(MY, &m, 0, C, FWD, &before_c, &s, 4,
		    MB | LK, "LOCK TABLES `users` WRITE",
		    LK, SYNC_DROP,
		    LK, "ALTER TABLE `users` DROP COLUMN `nick`, CHANGE COLUMN `handle` `handle` text "
			"NULL AFTER `id`, ALGORITHM=NOCOPY",
		    LK, "UNLOCK TABLES");
	/* MariaDB keeps the column where the old one was: first here */
	before_c.columns = cols + 1;
	before_c.ncolumns = 2;
	expect_sync(MY, &m, 0, C, FWD, &before_c, &s, 4,
		    MB | LK, "LOCK TABLES `users` WRITE",
		    LK, SYNC_DROP,
		    LK, "ALTER TABLE `users` DROP COLUMN `nick`, CHANGE COLUMN `handle` `handle` text "
			"NULL FIRST, ALGORITHM=NOCOPY",
		    LK, "UNLOCK TABLES");
	expect_sync(MY, &m, 0, C, UNDO, &before_c, &s, 3,
		    0, "ALTER TABLE `users` ADD COLUMN `nick` text NULL FIRST",
		    0, SYNC_CREATE,
		    0, "UPDATE `users` SET `handle` = `handle` WHERE (`nick` IS NULL)" FILL_DOWN_NOTE);
	before_c.columns = cols;
	before_c.ncolumns = 3;
	expect_sync(PG, &m, 0, C, UNDO, &before_c, &s, 3,
		    0, "ALTER TABLE \"users\" ADD COLUMN \"nick\" text",
		    0, SYNC_CREATE,
		    0, "UPDATE \"users\" SET \"handle\" = \"handle\" WHERE (\"nick\" IS NULL)"
		       FILL_DOWN_NOTE);
	expect_sync(MY, &m, 0, C, UNDO, &before_c, &s, 3,
		    0, "ALTER TABLE `users` ADD COLUMN `nick` text NULL AFTER `id`",
		    0, SYNC_CREATE,
		    0, "UPDATE `users` SET `handle` = `handle` WHERE (`nick` IS NULL)" FILL_DOWN_NOTE);
	gw_migration_release(&m);
}

/* Offline: the old column's type is left to run time; contract cannot be undone. */
static void test_rename_column_offline(void **state)
{
	static const char msg[] = PATH ": operation 0 (rename_column): the column as it was before "
				  "contract is not recorded (the migration was stamped, not run)";
	static const char hint[] = "restore column 'name' by hand, then stamp the parent revision";
	const struct gw_sync s = {"users", "name", "full_name", NULL, NULL,
				  "/* type of the old column */", NULL};
	struct gw_migration m;

	(void)state;
	mig(RENAME_OP, &m);
	expect_sync(MY, &m, 0, E, FWD, NULL, &s, 2,
		    0, "ALTER TABLE `users` ADD COLUMN `full_name` /* type of the old column */",
		    0, SYNC_CREATE);
	expect_sync(PG, &m, 0, E, FWD, NULL, &s, 2,
		    0, "ALTER TABLE \"users\" ADD COLUMN \"full_name\" /* type of the old column */",
		    0, SYNC_CREATE);
	expect_sync(PG, &m, 0, E, UNDO, NULL, &s, 2,
		    0, SYNC_DROP,
		    0, "ALTER TABLE \"users\" DROP COLUMN IF EXISTS \"full_name\"");
	expect(MY, &m, 0, B, FWD, NULL, 1, 0,
	       "UPDATE `users` SET `full_name` = (`name`) WHERE (`full_name` IS NULL) "
	       "-- in keyset chunks");
	expect_fail(MY, &m, 0, C, UNDO, NULL, GW_ERR_NO_INVERSE, msg, hint);
	expect_fail(PG, &m, 0, C, UNDO, NULL, GW_ERR_NO_INVERSE, msg, hint);
	gw_migration_release(&m);
}

/* ----------------------------------------------------- alter_column (in place) */

/*
 * accounts(id PK, balance double NOT NULL DEFAULT 0, owner) with an index
 * on balance; before contract also _gw_new_balance and its index copy.
 */
static char *acc_pk[] = {S("id")};
static char *acc_bal[] = {S("balance")};
static char *acc_new_bal[] = {S("_gw_new_balance")};
static struct gw_index_info acc_idx[] = {
	{S("accounts_pkey"), true, true, 1, acc_pk},
	{S("idx_accounts_balance"), false, false, 1, acc_bal},
	{S("_gw_new_idx_accounts_balance"), false, false, 1, acc_new_bal},
};
static struct gw_column_info acc_cols_my[] = {
	{S("id"), S("bigint"), false, NULL, true, false},
	{S("balance"), S("double"), false, S("0"), false, false},
	{S("owner"), S("text"), true, NULL, false, false},
	{S("_gw_new_balance"), S("numeric(12,2)"), true, NULL, false, false},
};
static struct gw_column_info acc_cols_pg[] = {
	{S("id"), S("bigint"), false, NULL, true, false},
	{S("balance"), S("double precision"), false, S("0"), false, false},
	{S("owner"), S("text"), true, NULL, false, false},
	{S("_gw_new_balance"), S("numeric(12,2)"), true, NULL, false, false},
};
static struct gw_table_info acc_my = {.name = S("accounts"), .ncolumns = 3,
				      .columns = acc_cols_my, .npk = 1, .pk = acc_pk,
				      .nindexes = 2, .indexes = acc_idx};
static struct gw_table_info acc_pg = {.name = S("accounts"), .ncolumns = 3,
				      .columns = acc_cols_pg, .npk = 1, .pk = acc_pk,
				      .nindexes = 2, .indexes = acc_idx};
static struct gw_table_info acc_my_c = {.name = S("accounts"), .ncolumns = 4,
					.columns = acc_cols_my, .npk = 1, .pk = acc_pk,
					.nindexes = 3, .indexes = acc_idx};
static struct gw_table_info acc_pg_c = {.name = S("accounts"), .ncolumns = 4,
					.columns = acc_cols_pg, .npk = 1, .pk = acc_pk,
					.nindexes = 3, .indexes = acc_idx};

#define RETYPE_UP "round(balance, 2)"
#define RETYPE_DOWN "CAST(balance AS double precision)"
#define RETYPE_OPS                                                                             \
	"{'sql': {'up': 'SELECT 1'}},"                                                          \
	"{'alter_column': {'table': 'accounts', 'column': 'balance', 'type': 'numeric(12,2)',"  \
	" 'up': '" RETYPE_UP "', 'down': '" RETYPE_DOWN "'}}"

static void test_alter_column_inplace_mysql(void **state)
{
	const struct gw_sync s = {"accounts", "balance", "_gw_new_balance", RETYPE_UP,
				  RETYPE_DOWN, "numeric(12,2)", &acc_my};
	const struct gw_sync sc = {"accounts", "balance", "_gw_new_balance", RETYPE_UP,
				   RETYPE_DOWN, "numeric(12,2)", &acc_my_c};
	struct gw_migration m;

	(void)state;
	mig(RETYPE_OPS, &m);
	expect_sync(MY, &m, 1, E, FWD, &acc_my, &s, 2,
		    0, "ALTER TABLE `accounts` ADD COLUMN `_gw_new_balance` numeric(12,2)",
		    0, SYNC_CREATE);
	expect_sync(MY, &m, 1, E, UNDO, &acc_my, &s, 2,
		    0, SYNC_DROP,
		    0, "ALTER TABLE `accounts` DROP COLUMN IF EXISTS `_gw_new_balance`");
	expect(MY, &m, 1, B, FWD, &acc_my, 3,
	       0, "UPDATE `accounts` SET `_gw_new_balance` = (" RETYPE_UP ") "
		  "WHERE (`_gw_new_balance` IS NULL) -- in keyset chunks",
	       0, "DROP INDEX IF EXISTS `_gw_new_idx_accounts_balance` ON `accounts`",
	       0, "CREATE INDEX `_gw_new_idx_accounts_balance` ON `accounts` (`_gw_new_balance`) "
		  "ALGORITHM=INPLACE LOCK=NONE");
	expect_fill(MY, &m, 1, B, FWD, &acc_my, 0, "accounts",
		    "`_gw_new_balance` = (" RETYPE_UP ")", "`_gw_new_balance` IS NULL", NULL);
	expect(MY, &m, 1, B, UNDO, &acc_my, 1,
	       0, "DROP INDEX IF EXISTS `_gw_new_idx_accounts_balance` ON `accounts`");
	expect_sync(MY, &m, 1, C, FWD, &acc_my_c, &sc, 5,
		    MB | LK, "LOCK TABLES `accounts` WRITE",
		    LK, SYNC_DROP,
		    LK, "ALTER TABLE `accounts` DROP INDEX `idx_accounts_balance`, DROP COLUMN "
			"`balance`, CHANGE COLUMN `_gw_new_balance` `balance` numeric(12,2) NULL "
			"DEFAULT 0 AFTER `id`, RENAME INDEX `_gw_new_idx_accounts_balance` TO "
			"`idx_accounts_balance`, ALGORITHM=NOCOPY",
		    LK, "UNLOCK TABLES",
		    0, "ALTER TABLE `accounts` MODIFY COLUMN `balance` numeric(12,2) NOT NULL "
		       "DEFAULT 0, LOCK=NONE");
	expect_sync(MY, &m, 1, C, UNDO, &acc_my_c, &sc, 9,
		    0, "ALTER TABLE `accounts` RENAME COLUMN `balance` TO `_gw_new_balance`",
		    0, "ALTER TABLE `accounts` ADD COLUMN `balance` double NULL AFTER `id`",
		    0, "ALTER TABLE `accounts` MODIFY COLUMN `_gw_new_balance` numeric(12,2) NULL, "
		       "LOCK=NONE",
		    0, SYNC_CREATE,
		    0, "ALTER TABLE `accounts` RENAME INDEX `idx_accounts_balance` TO "
		       "`_gw_new_idx_accounts_balance`, LOCK=NONE",
		    0, "UPDATE `accounts` SET `_gw_new_balance` = `_gw_new_balance` "
		       "WHERE (`balance` IS NULL)" FILL_DOWN_NOTE,
		    0, "DROP INDEX IF EXISTS `idx_accounts_balance` ON `accounts`",
		    0, "CREATE INDEX `idx_accounts_balance` ON `accounts` (`balance`) "
		       "ALGORITHM=INPLACE LOCK=NONE",
		    0, "ALTER TABLE `accounts` MODIFY COLUMN `balance` double NOT NULL DEFAULT 0, "
		       "LOCK=NONE");
	expect_fill(MY, &m, 1, C, UNDO, &acc_my_c, 6, "accounts",
		    "`_gw_new_balance` = `_gw_new_balance`", "`balance` IS NULL", "down");
	gw_migration_release(&m);
}

static void test_alter_column_inplace_postgres(void **state)
{
	const struct gw_sync s = {"accounts", "balance", "_gw_new_balance", RETYPE_UP,
				  RETYPE_DOWN, "numeric(12,2)", &acc_pg};
	const struct gw_sync sc = {"accounts", "balance", "_gw_new_balance", RETYPE_UP,
				   RETYPE_DOWN, "numeric(12,2)", &acc_pg_c};
	struct gw_migration m;

	(void)state;
	mig(RETYPE_OPS, &m);
	expect_sync(PG, &m, 1, E, FWD, &acc_pg, &s, 2,
		    0, "ALTER TABLE \"accounts\" ADD COLUMN \"_gw_new_balance\" numeric(12,2)",
		    0, SYNC_CREATE);
	expect_sync(PG, &m, 1, E, UNDO, &acc_pg, &s, 2,
		    0, SYNC_DROP,
		    0, "ALTER TABLE \"accounts\" DROP COLUMN IF EXISTS \"_gw_new_balance\"");
	expect(PG, &m, 1, B, FWD, &acc_pg, 6,
	       0, "UPDATE \"accounts\" SET \"_gw_new_balance\" = (" RETYPE_UP ") "
		  "WHERE (\"_gw_new_balance\" IS NULL) -- in keyset chunks",
	       NT, "DROP INDEX CONCURRENTLY IF EXISTS \"_gw_new_idx_accounts_balance\"",
	       NT, "CREATE INDEX CONCURRENTLY \"_gw_new_idx_accounts_balance\" ON \"accounts\" "
		   "(\"_gw_new_balance\")",
	       0, "ALTER TABLE \"accounts\" DROP CONSTRAINT IF EXISTS \"_gw_accounts_balance_nn\"",
	       MB, "ALTER TABLE \"accounts\" ADD CONSTRAINT \"_gw_accounts_balance_nn\" "
		   "CHECK (\"_gw_new_balance\" IS NOT NULL) NOT VALID",
	       0, "ALTER TABLE \"accounts\" VALIDATE CONSTRAINT \"_gw_accounts_balance_nn\"");
	expect(PG, &m, 1, B, UNDO, &acc_pg, 2,
	       0, "ALTER TABLE \"accounts\" DROP CONSTRAINT IF EXISTS \"_gw_accounts_balance_nn\"",
	       NT, "DROP INDEX CONCURRENTLY IF EXISTS \"_gw_new_idx_accounts_balance\"");
	expect_sync(PG, &m, 1, C, FWD, &acc_pg_c, &sc, 6,
		    0, SYNC_DROP,
		    MB, "ALTER TABLE \"accounts\" DROP COLUMN \"balance\"",
		    MB, "ALTER TABLE \"accounts\" RENAME COLUMN \"_gw_new_balance\" TO \"balance\"",
		    0, "ALTER INDEX \"_gw_new_idx_accounts_balance\" RENAME TO "
		       "\"idx_accounts_balance\"",
		    0, "ALTER TABLE \"accounts\" ALTER COLUMN \"balance\" SET DEFAULT 0",
		    MB, "ALTER TABLE \"accounts\" ALTER COLUMN \"balance\" SET NOT NULL, "
			"DROP CONSTRAINT IF EXISTS \"_gw_accounts_balance_nn\"");
	expect_sync(PG, &m, 1, C, UNDO, &acc_pg_c, &sc, 13,
		    0, "ALTER TABLE \"accounts\" RENAME COLUMN \"balance\" TO \"_gw_new_balance\"",
		    0, "ALTER TABLE \"accounts\" ADD COLUMN \"balance\" double precision",
		    0, "ALTER TABLE \"accounts\" ALTER COLUMN \"_gw_new_balance\" DROP DEFAULT, "
		       "ALTER COLUMN \"_gw_new_balance\" DROP NOT NULL",
		    0, SYNC_CREATE,
		    0, "ALTER INDEX \"idx_accounts_balance\" RENAME TO "
		       "\"_gw_new_idx_accounts_balance\"",
		    0, "UPDATE \"accounts\" SET \"_gw_new_balance\" = \"_gw_new_balance\" "
		       "WHERE (\"balance\" IS NULL)" FILL_DOWN_NOTE,
		    NT, "DROP INDEX CONCURRENTLY IF EXISTS \"idx_accounts_balance\"",
		    NT, "CREATE INDEX CONCURRENTLY \"idx_accounts_balance\" ON \"accounts\" "
			"(\"balance\")",
		    0, "ALTER TABLE \"accounts\" ALTER COLUMN \"balance\" SET DEFAULT 0",
		    0, "ALTER TABLE \"accounts\" DROP CONSTRAINT IF EXISTS \"_gw_accounts_balance_nn\"",
		    MB, "ALTER TABLE \"accounts\" ADD CONSTRAINT \"_gw_accounts_balance_nn\" "
			"CHECK (\"balance\" IS NOT NULL) NOT VALID",
		    0, "ALTER TABLE \"accounts\" VALIDATE CONSTRAINT \"_gw_accounts_balance_nn\"",
		    MB, "ALTER TABLE \"accounts\" ALTER COLUMN \"balance\" SET NOT NULL, "
			"DROP CONSTRAINT IF EXISTS \"_gw_accounts_balance_nn\"");
	expect_fill(PG, &m, 1, C, UNDO, &acc_pg_c, 6, "accounts",
		    "\"_gw_new_balance\" = \"_gw_new_balance\"", "\"balance\" IS NULL", "down");
	gw_migration_release(&m);
}

/* The operation's nullable and default win over the old column's. */
static void test_alter_column_inplace_overrides(void **state)
{
	const struct gw_sync sc = {"accounts", "balance", "_gw_new_balance", RETYPE_UP,
				   RETYPE_DOWN, "numeric(12,2)", &acc_pg_c};
	const struct gw_sync sc_my = {"accounts", "balance", "_gw_new_balance", RETYPE_UP,
				      RETYPE_DOWN, "numeric(12,2)", &acc_my_c};
	struct gw_migration m;

	(void)state;
	mig("{'alter_column': {'table': 'accounts', 'column': 'balance', 'type': 'numeric(12,2)',"
	    " 'nullable': true, 'default': null, 'up': '" RETYPE_UP "', 'down': '" RETYPE_DOWN
	    "'}},"
	    "{'alter_column': {'table': 'accounts', 'column': 'balance', 'type': 'numeric(12,2)',"
	    " 'default': '1.5', 'up': '" RETYPE_UP "', 'down': '" RETYPE_DOWN "'}}",
	    &m);
	/* nullable, no default: nothing to prove, nothing to set */
	expect(PG, &m, 0, B, FWD, &acc_pg, 3,
	       0, "UPDATE \"accounts\" SET \"_gw_new_balance\" = (" RETYPE_UP ") "
		  "WHERE (\"_gw_new_balance\" IS NULL) -- in keyset chunks",
	       NT, "DROP INDEX CONCURRENTLY IF EXISTS \"_gw_new_idx_accounts_balance\"",
	       NT, "CREATE INDEX CONCURRENTLY \"_gw_new_idx_accounts_balance\" ON \"accounts\" "
		   "(\"_gw_new_balance\")");
	expect(PG, &m, 0, B, UNDO, &acc_pg, 1,
	       NT, "DROP INDEX CONCURRENTLY IF EXISTS \"_gw_new_idx_accounts_balance\"");
	expect_sync(PG, &m, 0, C, FWD, &acc_pg_c, &sc, 4,
		    0, SYNC_DROP,
		    MB, "ALTER TABLE \"accounts\" DROP COLUMN \"balance\"",
		    MB, "ALTER TABLE \"accounts\" RENAME COLUMN \"_gw_new_balance\" TO \"balance\"",
		    0, "ALTER INDEX \"_gw_new_idx_accounts_balance\" RENAME TO "
		       "\"idx_accounts_balance\"");
	expect_sync(MY, &m, 0, C, FWD, &acc_my_c, &sc_my, 4,
		    MB | LK, "LOCK TABLES `accounts` WRITE",
		    LK, SYNC_DROP,
		    LK, "ALTER TABLE `accounts` DROP INDEX `idx_accounts_balance`, DROP COLUMN "
			"`balance`, CHANGE COLUMN `_gw_new_balance` `balance` numeric(12,2) NULL "
			"AFTER `id`, RENAME INDEX `_gw_new_idx_accounts_balance` TO "
			"`idx_accounts_balance`, ALGORITHM=NOCOPY",
		    LK, "UNLOCK TABLES");
	/* a new default; NOT NULL kept from the old column */
	expect_sync(MY, &m, 1, C, FWD, &acc_my_c, &sc_my, 5,
		    MB | LK, "LOCK TABLES `accounts` WRITE",
		    LK, SYNC_DROP,
		    LK, "ALTER TABLE `accounts` DROP INDEX `idx_accounts_balance`, DROP COLUMN "
			"`balance`, CHANGE COLUMN `_gw_new_balance` `balance` numeric(12,2) NULL "
			"DEFAULT 1.5 AFTER `id`, RENAME INDEX `_gw_new_idx_accounts_balance` TO "
			"`idx_accounts_balance`, ALGORITHM=NOCOPY",
		    LK, "UNLOCK TABLES",
		    0, "ALTER TABLE `accounts` MODIFY COLUMN `balance` numeric(12,2) NOT NULL "
		       "DEFAULT 1.5, LOCK=NONE");
	gw_migration_release(&m);
}

/* Column changes in place refuse what they cannot do safely, before any change. */
static void test_inplace_refused(void **state)
{
	static const char hint[] = "use rebuild_table (a shadow-table copy) for this change";
	struct gw_column_info cols[] = {
		{S("id"), S("bigint"), false, NULL, true, false},
		{S("name"), S("text"), false, NULL, false, false},
		{S("seq"), S("bigint"), false, NULL, true, false},
		{S("total"), S("numeric"), true, NULL, false, true},
		{S("org_id"), S("bigint"), true, NULL, false, false},
		{S("full_name"), S("text"), true, NULL, false, false},
	};
	char *pk[] = {S("id")};
	char *org[] = {S("org_id")};
	char *ref[] = {S("id")};
	char *name[] = {S("name")};
	char *name_expr[] = {S("name"), S("lower(name)")};
	struct gw_fk_info out_fk = {S("fk_org"), S("users"), 1, org, S("orgs"), ref};
	struct gw_fk_info in_fk = {S("fk_author"), S("posts"), 1, name, S("users"), name};
	struct gw_index_info expr_idx = {S("idx_name_lower"), false, false, 2, name_expr};
	static const struct {
		const char *op;
		const char *why;
	} cases[] = {
		{"{'rename_column': {'table': 'users', 'from': 'id', 'to': 'ident'}}",
		 "column 'users.id' cannot be changed in place: it is part of the primary key"},
		{"{'rename_column': {'table': 'users', 'from': 'total', 'to': 'sum'}}",
		 "column 'users.total' cannot be changed in place: it is a generated column"},
		{"{'rename_column': {'table': 'users', 'from': 'seq', 'to': 'serial'}}",
		 "column 'users.seq' cannot be changed in place: it is an auto-increment or "
		 "identity column"},
		{"{'rename_column': {'table': 'users', 'from': 'name', 'to': 'full_name'}}",
		 "column 'users.name' cannot be changed in place: the new column already exists"},
		{"{'alter_column': {'table': 'users', 'column': 'org_id', 'type': 'int',"
		 " 'up': 'org_id', 'down': 'org_id'}}",
		 "column 'users.org_id' cannot be changed in place: a foreign key uses it"},
		{"{'rename_column': {'table': 'users', 'from': 'name', 'to': 'login'}}",
		 "column 'users.name' cannot be changed in place: a foreign key of another table "
		 "references it"},
		{"{'alter_column': {'table': 'users', 'column': 'name', 'type': 'varchar(9)',"
		 " 'up': 'name', 'down': 'name'}}",
		 "column 'users.name' cannot be changed in place: an expression index uses it"},
	};
	/* one live table per case: the refusal each case is about comes first */
	struct gw_table_info live[] = {
		{.name = S("users"), .ncolumns = 6, .columns = cols, .npk = 1, .pk = pk},
		{.name = S("users"), .ncolumns = 6, .columns = cols, .npk = 1, .pk = pk},
		{.name = S("users"), .ncolumns = 6, .columns = cols, .npk = 1, .pk = pk},
		{.name = S("users"), .ncolumns = 6, .columns = cols, .npk = 1, .pk = pk},
		{.name = S("users"), .ncolumns = 6, .columns = cols, .npk = 1, .pk = pk,
		 .nfk_out = 1, .fk_out = &out_fk},
		{.name = S("users"), .ncolumns = 5, .columns = cols, .npk = 1, .pk = pk,
		 .nfk_in = 1, .fk_in = &in_fk},
		{.name = S("users"), .ncolumns = 5, .columns = cols, .npk = 1, .pk = pk,
		 .nindexes = 1, .indexes = &expr_idx},
	};

	(void)state;
	assert_int_equal(GW_ARRAY_SIZE(cases), GW_ARRAY_SIZE(live));
	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		struct gw_migration m;
		char msg[512];

		snprintf(msg, sizeof(msg), PATH ": operation 0 (%s): %s",
			 strstr(cases[i].op, "rename_column") ? "rename_column" : "alter_column",
			 cases[i].why);
		mig(cases[i].op, &m);
		expect_fail(MY, &m, 0, E, FWD, &live[i], GW_ERR_UNSUPPORTED, msg, hint);
		expect_fail(PG, &m, 0, E, FWD, &live[i], GW_ERR_UNSUPPORTED, msg, hint);
		gw_migration_release(&m);
	}
}

/* ------------------------------------------------------------- alter_column */

/* Without "up", a type change is one ALTER in contract (phases/contract.c). */
static void test_alter_column_type_only(void **state)
{
	struct gw_column_info pgcols[] = {
		{S("balance"), S("double precision"), false, S("0"), false, false},
	};
	struct gw_column_info mycols[] = {
		{S("id"), S("bigint"), false, NULL, true, false},
		{S("balance"), S("double"), false, S("0"), false, false},
	};
	struct gw_table_info pglive = {.name = S("users"), .ncolumns = 1, .columns = pgcols};
	struct gw_table_info mylive = {.name = S("users"), .ncolumns = 2, .columns = mycols};
	struct gw_migration m;

	(void)state;
	mig("{'alter_column': {'table': 'users', 'column': 'balance', 'type': 'DECIMAL(12,2)'}}",
	    &m);
	expect(PG, &m, 0, C, FWD, &pglive, 1, MB,
	       "ALTER TABLE \"users\" ALTER COLUMN \"balance\" TYPE DECIMAL(12,2)");
	expect(PG, &m, 0, C, UNDO, &pglive, 1, MB,
	       "ALTER TABLE \"users\" ALTER COLUMN \"balance\" TYPE double precision");
	expect(MY, &m, 0, C, FWD, &mylive, 1, MB,
	       "ALTER TABLE `users` MODIFY COLUMN `balance` DECIMAL(12,2) NOT NULL DEFAULT 0");
	expect(MY, &m, 0, C, UNDO, &mylive, 1, MB,
	       "ALTER TABLE `users` MODIFY COLUMN `balance` double NOT NULL DEFAULT 0");
	expect(MY, &m, 0, C, FWD, NULL, 1, MB,
	       "ALTER TABLE `users` MODIFY COLUMN `balance` DECIMAL(12,2) " MODIFY_OFFLINE);
	expect_nothing_but(&m, 0, C);
	gw_migration_release(&m);
}

static void test_alter_column_undo_needs_live(void **state)
{
	static const char msg[] = PATH ": operation 1 (alter_column): the column as it was "
				  "before is not recorded (the migration was stamped, not run)";
	struct gw_column_info other[] = {{S("id"), S("bigint"), false, NULL, true, false}};
	struct gw_table_info live = {.name = S("users"), .ncolumns = 1, .columns = other};
	struct gw_migration m;

	(void)state;
	mig("{'sql': {'up': 'SELECT 1'}},"
	    "{'alter_column': {'table': 'users', 'column': 'balance', 'type': 'DECIMAL(12,2)'}}",
	    &m);
	expect_fail(PG, &m, 1, C, UNDO, NULL, GW_ERR_NO_INVERSE, msg,
		    "restore column 'balance' by hand, then stamp the parent revision");
	expect_fail(MY, &m, 1, C, UNDO, NULL, GW_ERR_NO_INVERSE, msg,
		    "restore column 'balance' by hand, then stamp the parent revision");
	/* a live table without the column is no better */
	expect_fail(PG, &m, 1, C, UNDO, &live, GW_ERR_NO_INVERSE, msg, NULL);
	gw_migration_release(&m);
}

static void test_alter_column_nullable_default(void **state)
{
	struct gw_column_info pgcols[] = {
		{S("email"), S("character varying(255)"), true, S("'x'::character varying"), false,
		 false},
	};
	struct gw_column_info mycols[] = {
		{S("email"), S("varchar(255)"), true, S("'x'"), false, false},
	};
	struct gw_table_info pglive = {.name = S("users"), .ncolumns = 1, .columns = pgcols};
	struct gw_table_info mylive = {.name = S("users"), .ncolumns = 1, .columns = mycols};
	struct gw_migration m;

	(void)state;
	mig("{'alter_column': {'table': 'users', 'column': 'email', 'nullable': false,"
	    " 'default': null}}",
	    &m);
	expect(PG, &m, 0, C, FWD, NULL, 2,
	       0, "ALTER TABLE \"users\" ALTER COLUMN \"email\" DROP DEFAULT",
	       MB, "ALTER TABLE \"users\" ALTER COLUMN \"email\" SET NOT NULL");
	expect(PG, &m, 0, C, UNDO, &pglive, 2,
	       0, "ALTER TABLE \"users\" ALTER COLUMN \"email\" SET DEFAULT 'x'::character varying",
	       0, "ALTER TABLE \"users\" ALTER COLUMN \"email\" DROP NOT NULL");
	/* MODIFY restates the type from live and changes nothing else */
	expect(MY, &m, 0, C, FWD, &mylive, 1, 0,
	       "ALTER TABLE `users` MODIFY COLUMN `email` varchar(255) NOT NULL");
	expect(MY, &m, 0, C, UNDO, &mylive, 1, 0,
	       "ALTER TABLE `users` MODIFY COLUMN `email` varchar(255) DEFAULT 'x'");
	expect_nothing_but(&m, 0, C);
	gw_migration_release(&m);
}

/* ----------------------------------------------------------------- index */

static void test_create_index(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'create_index': {'table': 'users', 'name': 'idx_users_email',"
	    " 'columns': ['email', 'id'], 'unique': true}},"
	    "{'create_index': {'table': 'users', 'name': 'idx_users_name', 'columns': ['name']}}",
	    &m);
	expect(PG, &m, 0, E, FWD, NULL, 1, NT,
	       "CREATE UNIQUE INDEX CONCURRENTLY \"idx_users_email\" ON \"users\" (\"email\", \"id\")");
	expect(MY, &m, 0, E, FWD, NULL, 1, 0,
	       "CREATE UNIQUE INDEX `idx_users_email` ON `users` (`email`, `id`) "
	       "ALGORITHM=INPLACE LOCK=NONE");
	expect(PG, &m, 1, E, FWD, NULL, 1, NT,
	       "CREATE INDEX CONCURRENTLY \"idx_users_name\" ON \"users\" (\"name\")");
	expect(PG, &m, 0, E, UNDO, NULL, 1, NT,
	       "DROP INDEX CONCURRENTLY IF EXISTS \"idx_users_email\"");
	expect(MY, &m, 0, E, UNDO, NULL, 1, 0, "DROP INDEX IF EXISTS `idx_users_email` ON `users`");
	expect_nothing_but(&m, 0, E);
	gw_migration_release(&m);
}

static void test_drop_index_forward(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'drop_index': {'table': 'users', 'name': 'idx_old'}}", &m);
	expect(PG, &m, 0, C, FWD, NULL, 1, NT, "DROP INDEX CONCURRENTLY IF EXISTS \"idx_old\"");
	expect(MY, &m, 0, C, FWD, NULL, 1, 0, "DROP INDEX IF EXISTS `idx_old` ON `users`");
	expect_none(PG, &m, 0, E, FWD, NULL);
	expect_none(MY, &m, 0, E, UNDO, NULL);
	expect_none(PG, &m, 0, B, FWD, NULL);
	expect_none(MY, &m, 0, B, UNDO, NULL);
	gw_migration_release(&m);
}

static void test_drop_index_undo(void **state)
{
	char *idxcols[] = {S("a"), S("b")};
	struct gw_index_info idx[] = {{S("idx_old"), true, false, 2, idxcols}};
	struct gw_table_info live = {.name = S("users"), .nindexes = 1, .indexes = idx};
	struct gw_table_info bare = {.name = S("users")};
	struct gw_migration m;

	(void)state;
	mig("{'drop_index': {'table': 'users', 'name': 'idx_old'}},"
	    "{'drop_index': {'table': 'users', 'name': 'idx_old', 'columns': ['email']}},"
	    "{'drop_index': {'table': 'users', 'name': 'idx_old', 'down': 'CREATE INDEX idx_old ON users (x)'}}",
	    &m);
	/* the live index wins over the operation's columns */
	expect(PG, &m, 0, C, UNDO, &live, 1, NT,
	       "CREATE UNIQUE INDEX CONCURRENTLY \"idx_old\" ON \"users\" (\"a\", \"b\")");
	expect(PG, &m, 1, C, UNDO, &live, 1, NT,
	       "CREATE UNIQUE INDEX CONCURRENTLY \"idx_old\" ON \"users\" (\"a\", \"b\")");
	expect(MY, &m, 0, C, UNDO, &live, 1, 0,
	       "CREATE UNIQUE INDEX `idx_old` ON `users` (`a`, `b`) ALGORITHM=INPLACE LOCK=NONE");
	/* then the operation's columns */
	expect(PG, &m, 1, C, UNDO, NULL, 1, NT,
	       "CREATE INDEX CONCURRENTLY \"idx_old\" ON \"users\" (\"email\")");
	expect(MY, &m, 1, C, UNDO, &bare, 1, 0,
	       "CREATE INDEX `idx_old` ON `users` (`email`) ALGORITHM=INPLACE LOCK=NONE");
	/* else the down, else no inverse */
	expect(PG, &m, 2, C, UNDO, &bare, 1, 0, "CREATE INDEX idx_old ON users (x)");
	expect_fail(PG, &m, 0, C, UNDO, NULL, GW_ERR_NO_INVERSE,
		    PATH ": operation 0 (drop_index) has no safe inverse: its columns are not known",
		    HINT_DOWN);
	expect_fail(MY, &m, 0, C, UNDO, &bare, GW_ERR_NO_INVERSE,
		    PATH ": operation 0 (drop_index) has no safe inverse: its columns are not known",
		    HINT_DOWN);
	gw_migration_release(&m);
}

/* ----------------------------------------------------------- update_rows */

static void test_update_rows(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'update_rows': {'table': 'orders', 'set': {'status': '~archived~',"
	    " 'archived_at': 'now()'}, 'where': 'created_at < ~2020-01-01~',"
	    " 'down': {'status': '~open~'}}}",
	    &m);
	expect(PG, &m, 0, B, FWD, NULL, 1, 0,
	       "UPDATE \"orders\" SET \"status\" = ('archived'), \"archived_at\" = (now()) "
	       "WHERE (created_at < '2020-01-01') -- in keyset chunks");
	expect(MY, &m, 0, B, FWD, NULL, 1, 0,
	       "UPDATE `orders` SET `status` = ('archived'), `archived_at` = (now()) "
	       "WHERE (created_at < '2020-01-01') -- in keyset chunks");
	expect(PG, &m, 0, B, UNDO, NULL, 1, 0,
	       "UPDATE \"orders\" SET \"status\" = ('open') WHERE (created_at < '2020-01-01') "
	       "-- in keyset chunks");
	expect(MY, &m, 0, B, UNDO, NULL, 1, 0,
	       "UPDATE `orders` SET `status` = ('open') WHERE (created_at < '2020-01-01') "
	       "-- in keyset chunks");
	expect_fill(PG, &m, 0, B, FWD, NULL, 0, "orders",
		    "\"status\" = ('archived'), \"archived_at\" = (now())",
		    "created_at < '2020-01-01'", NULL);
	expect_fill(MY, &m, 0, B, FWD, NULL, 0, "orders",
		    "`status` = ('archived'), `archived_at` = (now())", "created_at < '2020-01-01'",
		    NULL);
	expect_fill(MY, &m, 0, B, UNDO, NULL, 0, "orders", "`status` = ('open')",
		    "created_at < '2020-01-01'", NULL);
	expect_nothing_but(&m, 0, B);
	gw_migration_release(&m);
}

static void test_update_rows_no_down(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'sql': {'up': 'SELECT 1'}}, {'sql': {'up': 'SELECT 2'}},"
	    "{'update_rows': {'table': 'orders', 'set': {'total': 'price * qty'}}}",
	    &m);
	expect(PG, &m, 2, B, FWD, NULL, 1, 0,
	       "UPDATE \"orders\" SET \"total\" = (price * qty) -- in keyset chunks");
	expect(MY, &m, 2, B, FWD, NULL, 1, 0,
	       "UPDATE `orders` SET `total` = (price * qty) -- in keyset chunks");
	/* no where: the whole table */
	expect_fill(PG, &m, 2, B, FWD, NULL, 0, "orders", "\"total\" = (price * qty)", NULL, NULL);
	expect_fail(PG, &m, 2, B, UNDO, NULL, GW_ERR_NO_INVERSE,
		    PATH ": operation 2 (update_rows) has no safe inverse: the old values were "
			 "overwritten",
		    NULL);
	expect_fail(MY, &m, 2, B, UNDO, NULL, GW_ERR_NO_INVERSE,
		    PATH ": operation 2 (update_rows) has no safe inverse: the old values were "
			 "overwritten",
		    NULL);
	gw_migration_release(&m);
}

/* ------------------------------------------------------------------- sql */

static void test_sql_expand(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'sql': {'up': 'CREATE EXTENSION IF NOT EXISTS pg_trgm'}},"
	    "{'sql': {'up': 'INSERT INTO t VALUES (1)', 'down': 'DELETE FROM t WHERE id = 1'}},"
	    "{'sql': {'up': 'UPDATE t SET x = 1', 'phase': 'expand'}}",
	    &m);
	expect(PG, &m, 0, E, FWD, NULL, 1, 0, "CREATE EXTENSION IF NOT EXISTS pg_trgm");
	expect(MY, &m, 1, E, FWD, NULL, 1, 0, "INSERT INTO t VALUES (1)");
	expect(MY, &m, 2, E, FWD, NULL, 1, 0, "UPDATE t SET x = 1");
	expect_fail(PG, &m, 0, E, UNDO, NULL, GW_ERR_NO_INVERSE,
		    PATH ": operation 0 (sql) has no safe inverse: it runs arbitrary SQL",
		    HINT_DOWN);
	expect_fail(MY, &m, 2, E, UNDO, NULL, GW_ERR_NO_INVERSE,
		    PATH ": operation 2 (sql) has no safe inverse: it runs arbitrary SQL",
		    HINT_DOWN);
	expect(PG, &m, 1, E, UNDO, NULL, 1, 0, "DELETE FROM t WHERE id = 1");
	for (size_t i = 0; i < 3; i++)
		expect_nothing_but(&m, i, E);
	gw_migration_release(&m);
}

static void test_sql_contract(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'sql': {'up': 'DROP VIEW v_users', 'phase': 'contract'}},"
	    "{'sql': {'up': 'DROP VIEW v_orders', 'phase': 'contract',"
	    " 'down': 'CREATE VIEW v_orders AS SELECT * FROM orders'}}",
	    &m);
	expect(PG, &m, 0, C, FWD, NULL, 1, 0, "DROP VIEW v_users");
	expect(MY, &m, 1, C, FWD, NULL, 1, 0, "DROP VIEW v_orders");
	expect_fail(MY, &m, 0, C, UNDO, NULL, GW_ERR_NO_INVERSE,
		    PATH ": operation 0 (sql) has no safe inverse: it runs arbitrary SQL",
		    HINT_DOWN);
	expect(PG, &m, 1, C, UNDO, NULL, 1, 0, "CREATE VIEW v_orders AS SELECT * FROM orders");
	/* a contract statement has no expand part to undo */
	expect_nothing_but(&m, 0, C);
	expect_nothing_but(&m, 1, C);
	gw_migration_release(&m);
}

static void test_sql_not_transactional(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'sql': {'up': 'CREATE INDEX CONCURRENTLY i ON t (a)', 'transactional': false,"
	    " 'down': 'DROP INDEX CONCURRENTLY i'}},"
	    "{'sql': {'up': 'VACUUM t', 'transactional': false, 'phase': 'contract'}},"
	    "{'sql': {'up': 'ANALYZE t', 'transactional': true}}",
	    &m);
	expect(PG, &m, 0, E, FWD, NULL, 1, NT, "CREATE INDEX CONCURRENTLY i ON t (a)");
	expect(MY, &m, 0, E, FWD, NULL, 1, NT, "CREATE INDEX CONCURRENTLY i ON t (a)");
	expect(PG, &m, 1, C, FWD, NULL, 1, NT, "VACUUM t");
	expect(PG, &m, 0, E, UNDO, NULL, 1, NT, "DROP INDEX CONCURRENTLY i");
	expect(PG, &m, 2, E, FWD, NULL, 1, 0, "ANALYZE t");
	expect_none(PG, &m, 1, E, FWD, NULL);
	gw_migration_release(&m);
}

/* -------------------------------------------------------- add_constraint */

static void test_add_constraint(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'add_constraint': {'table': 'orders', 'name': 'chk_qty', 'check': 'qty > 0'}},"
	    "{'add_constraint': {'table': 'orders', 'name': 'nn_total', 'not_null': 'total'}}",
	    &m);
	expect(PG, &m, 0, E, FWD, NULL, 2,
	       0, "ALTER TABLE \"orders\" ADD CONSTRAINT \"chk_qty\" CHECK (qty > 0) NOT VALID",
	       0, "ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"chk_qty\"");
	expect(MY, &m, 0, E, FWD, NULL, 1, MB,
	       "ALTER TABLE `orders` ADD CONSTRAINT `chk_qty` CHECK (qty > 0)");
	expect(PG, &m, 0, E, UNDO, NULL, 1, 0, "ALTER TABLE \"orders\" DROP CONSTRAINT \"chk_qty\"");
	expect(MY, &m, 0, E, UNDO, NULL, 1, 0, "ALTER TABLE `orders` DROP CONSTRAINT `chk_qty`");
	expect_fail(MY, &m, 1, E, FWD, NULL, GW_ERR_UNSUPPORTED,
		    "could not add constraint 'nn_total' to 'orders': not_null constraints are "
		    "not supported on mysql",
		    "use alter_column with \"nullable\": false");
	expect(PG, &m, 1, E, UNDO, NULL, 1, 0,
	       "ALTER TABLE \"orders\" ALTER COLUMN \"total\" DROP NOT NULL");
	expect_nothing_but(&m, 0, E);
	gw_migration_release(&m);
}

/* --------------------------------------------------------- rebuild_table */

/* Offline requests without a migration (m NULL) name "migration" in messages. */
static void test_no_migration_path(void **state)
{
	struct gw_migration m;
	struct gw_steps out = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;
	struct gw_phase_req req = {GW_PHASE_CONTRACT, true, NULL, NULL, &gw_dialect_postgres, NULL};

	(void)state;
	mig("{'drop_column': {'table': 'users', 'column': 'legacy'}}", &m);
	req.op = &m.ops[0];
	assert_int_equal(gw_phase_steps(&req, &out, &err), GW_ERR_NO_INVERSE);
	assert_string_equal(err.msg, "migration: operation 0 (drop_column) has no safe inverse: "
				     "the column and its data were dropped");
	assert_int_equal(out.n, 0);
	gw_steps_release(&out);
	gw_migration_release(&m);
}

/* Every kind's phases without work, in one table. */
static void test_nothing_to_do(void **state)
{
	static const struct {
		const char *op;
		int phase;
		bool undo;
	} cases[] = {
		{"{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT'}]}}", B, FWD},
		{"{'create_table': {'table': 't', 'columns': [{'name': 'a', 'type': 'INT'}]}}", C, UNDO},
		{"{'drop_table': {'table': 't'}}", B, FWD},
		{"{'rename_table': {'from': 'a', 'to': 'b'}}", E, FWD},
		{"{'rename_table': {'from': 'a', 'to': 'b'}}", E, UNDO},
		{"{'rename_table': {'from': 'a', 'to': 'b'}}", B, FWD},
		{"{'add_column': {'table': 't', 'column': {'name': 'c', 'type': 'INT'}}}", B, FWD},
		{"{'add_column': {'table': 't', 'column': {'name': 'c', 'type': 'INT'}}}", C, FWD},
		{"{'add_column': {'table': 't', 'column': {'name': 'c', 'type': 'INT'}}}", C, UNDO},
		{"{'drop_column': {'table': 't', 'column': 'c'}}", E, FWD},
		{"{'drop_column': {'table': 't', 'column': 'c'}}", E, UNDO},
		{"{'rename_column': {'table': 't', 'from': 'a', 'to': 'b'}}", B, UNDO},
		{"{'alter_column': {'table': 't', 'column': 'c', 'type': 'TEXT'}}", E, FWD},
		{"{'alter_column': {'table': 't', 'column': 'c', 'type': 'TEXT'}}", E, UNDO},
		{"{'alter_column': {'table': 't', 'column': 'c', 'type': 'TEXT'}}", B, FWD},
		{"{'alter_column': {'table': 't', 'column': 'c', 'type': 'TEXT'}}", B, UNDO},
		{"{'create_index': {'table': 't', 'name': 'i', 'columns': ['a']}}", B, FWD},
		{"{'create_index': {'table': 't', 'name': 'i', 'columns': ['a']}}", C, FWD},
		{"{'create_index': {'table': 't', 'name': 'i', 'columns': ['a']}}", C, UNDO},
		{"{'drop_index': {'table': 't', 'name': 'i'}}", E, UNDO},
		{"{'add_constraint': {'table': 't', 'name': 'k', 'check': 'a > 0'}}", B, FWD},
		{"{'add_constraint': {'table': 't', 'name': 'k', 'check': 'a > 0'}}", C, FWD},
		{"{'add_constraint': {'table': 't', 'name': 'k', 'check': 'a > 0'}}", C, UNDO},
		{"{'update_rows': {'table': 't', 'set': {'a': '1'}}}", E, FWD},
		{"{'update_rows': {'table': 't', 'set': {'a': '1'}}}", E, UNDO},
		{"{'update_rows': {'table': 't', 'set': {'a': '1'}}}", C, FWD},
		{"{'update_rows': {'table': 't', 'set': {'a': '1'}}}", C, UNDO},
		{"{'sql': {'up': 'SELECT 1'}}", B, FWD},
		{"{'sql': {'up': 'SELECT 1'}}", B, UNDO},
		{"{'sql': {'up': 'SELECT 1'}}", C, FWD},
		{"{'sql': {'up': 'SELECT 1'}}", C, UNDO},
		{"{'sql': {'up': 'SELECT 1', 'phase': 'contract'}}", E, FWD},
		{"{'sql': {'up': 'SELECT 1', 'phase': 'contract'}}", E, UNDO},
		{"{'rebuild_table': {'table': 't', 'alter': 'ENGINE=InnoDB'}}", B, UNDO},
	};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		struct gw_migration m;

		mig(cases[i].op, &m);
		expect_none(MY, &m, 0, cases[i].phase, cases[i].undo, NULL);
		expect_none(PG, &m, 0, cases[i].phase, cases[i].undo, NULL);
		gw_migration_release(&m);
	}
}

/* The SPEC's example migration, all three phases on PostgreSQL. */
static void test_spec_example(void **state)
{
	struct gw_migration m;

	(void)state;
	mig("{'create_table': {'table': 'users', 'columns': ["
	    "  {'name': 'id', 'type': 'BIGINT', 'primary_key': true, 'autoincrement': true},"
	    "  {'name': 'email', 'type': 'VARCHAR(255)', 'nullable': false},"
	    "  {'name': 'balance', 'type': 'DOUBLE PRECISION', 'nullable': true},"
	    "  {'name': 'created_at', 'type': 'TIMESTAMP', 'default': 'CURRENT_TIMESTAMP'}]}},"
	    "{'create_index': {'table': 'users', 'name': 'idx_users_email', 'columns': ['email'],"
	    " 'unique': true}}",
	    &m);
	expect(PG, &m, 0, E, FWD, NULL, 1, 0,
	       "CREATE TABLE \"users\" (\"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY, "
	       "\"email\" VARCHAR(255) NOT NULL, \"balance\" DOUBLE PRECISION, \"created_at\" "
	       "TIMESTAMP DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (\"id\"))");
	expect(PG, &m, 1, E, FWD, NULL, 1, NT,
	       "CREATE UNIQUE INDEX CONCURRENTLY \"idx_users_email\" ON \"users\" (\"email\")");
	gw_migration_release(&m);
}

/* ------------------------------------------------------------ steps JSON */

static void test_steps_json_exact(void **state)
{
	struct gw_steps s = GW_STEPS_INIT;
	char *text;

	(void)state;
	gw_steps_add(&s, GW_STEP_MAY_BLOCK, strdup("SELECT 1"));
	gw_steps_add(&s, 0, strdup("it's \"q\""));
	text = gw_steps_to_json(&s);
	assert_string_equal(text, "[{\"sql\":\"SELECT 1\",\"flags\":2},"
				  "{\"sql\":\"it's \\\"q\\\"\",\"flags\":0}]");
	free(text);
	gw_steps_release(&s);
}

static void test_steps_json_round_trip(void **state)
{
	static const struct {
		const char *sql;
		unsigned flags;
	} in[] = {
		{"UPDATE \"t\" SET `a` = ('it''s'), b = E'back\\\\slash'", 0},
		{"SELECT '\\n' -- a backslash and an n\nFROM t\r\n\tWHERE x", GW_STEP_NO_TXN},
		{"INSERT INTO t VALUES ('caf\xc3\xa9', '\xe2\x82\xac', '\xf0\x9f\xa6\x86')",
		 GW_STEP_MAY_BLOCK},
		{"-- no inverse: migrations/x.json: operation 3 (sql) has no safe inverse",
		 GW_STEP_NO_TXN | GW_STEP_MAY_BLOCK},
		{"", 0},
		{"\x01\x1f control \x7f", 0},
	};
	struct gw_steps s = GW_STEPS_INIT, back = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;
	char *text, *again;

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(in); i++)
		gw_steps_add(&s, in[i].flags, strdup(in[i].sql));
	text = gw_steps_to_json(&s);
	assert_non_null(text);
	assert_null(strchr(text, '\n')); /* one line, newlines escaped */
	assert_int_equal(gw_steps_from_json(text, &back, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(back.n, GW_ARRAY_SIZE(in));
	for (size_t i = 0; i < GW_ARRAY_SIZE(in); i++) {
		assert_string_equal(back.v[i].sql, in[i].sql);
		assert_int_equal(back.v[i].flags, in[i].flags);
	}
	again = gw_steps_to_json(&back);
	assert_string_equal(again, text);
	free(again);
	free(text);
	gw_steps_release(&s);
	gw_steps_release(&back);
}

/* Two steps are the same, fill included. */
static void same_step(const struct gw_step *a, const struct gw_step *b)
{
	assert_string_equal(a->sql, b->sql);
	assert_int_equal(a->flags, b->flags);
	if (!a->fill) {
		assert_null(b->fill);
		return;
	}
	assert_non_null(b->fill);
	assert_string_equal(a->fill->table, b->fill->table);
	assert_string_equal(a->fill->set, b->fill->set);
	if (a->fill->where)
		assert_string_equal(a->fill->where, b->fill->where);
	else
		assert_null(b->fill->where);
	if (a->fill->mode)
		assert_string_equal(a->fill->mode, b->fill->mode);
	else
		assert_null(b->fill->mode);
}

/* The steps of real phases survive the store, fills included. */
static void test_steps_json_from_phase(void **state)
{
	static const struct {
		const char *d;
		int phase;
		bool undo;
		const struct gw_table_info *live;
		size_t nfills;
	} cases[] = {
		{PG, C, UNDO, &acc_pg_c, 1},  /* a "down" fill among DDL and triggers */
		{MY, C, UNDO, &acc_my_c, 1},
		{PG, B, FWD, &acc_pg, 1},     /* a fill without mode, NO_TXN steps */
		{MY, C, FWD, &acc_my_c, 0},
	};
	struct gw_migration m;

	(void)state;
	mig(RETYPE_OPS, &m);
	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		struct gw_steps s = GW_STEPS_INIT, back = GW_STEPS_INIT;
		struct gw_error err = GW_ERROR_INIT;
		size_t nfills = 0;
		char *text, *again;

		assert_int_equal(steps(cases[i].d, &m, 1, cases[i].phase, cases[i].undo,
				       cases[i].live, &s, &err),
				 0);
		assert_true(s.n > 2);
		text = gw_steps_to_json(&s);
		assert_int_equal(gw_steps_from_json(text, &back, &err), 0);
		assert_int_equal(back.n, s.n);
		for (size_t k = 0; k < s.n; k++) {
			same_step(&s.v[k], &back.v[k]);
			nfills += s.v[k].fill != NULL;
		}
		assert_int_equal(nfills, cases[i].nfills);
		again = gw_steps_to_json(&back);
		assert_string_equal(again, text);
		free(again);
		free(text);
		gw_steps_release(&s);
		gw_steps_release(&back);
	}
	gw_migration_release(&m);
}

/* A fill's parts are stored with the step; where and mode as null when unset. */
static void test_steps_json_fill(void **state)
{
	struct gw_steps s = GW_STEPS_INIT, back = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;
	const struct gw_assign set = {S("total"), S("price * qty")};
	char *text;

	(void)state;
	gw_steps_add_fill(&s, &gw_dialect_mysql, "orders", 1, &set, NULL);
	gw_steps_add_fill_raw(&s, &gw_dialect_postgres, "or\"ders", "\"b\" = \"b\"",
			      "\"a\" IS NULL", "down");
	gw_steps_add(&s, GW_STEP_MAY_BLOCK, strdup("SELECT 1"));
	text = gw_steps_to_json(&s);
	assert_string_equal(
		text,
		"[{\"sql\":\"UPDATE `orders` SET `total` = (price * qty) -- in keyset chunks\","
		"\"flags\":0,\"fill\":{\"table\":\"orders\",\"set\":\"`total` = (price * qty)\","
		"\"where\":null,\"mode\":null}},"
		"{\"sql\":\"UPDATE \\\"or\\\"\\\"ders\\\" SET \\\"b\\\" = \\\"b\\\" WHERE "
		"(\\\"a\\\" IS NULL) -- in keyset chunks, the triggers filling the old column\","
		"\"flags\":0,\"fill\":{\"table\":\"or\\\"ders\",\"set\":\"\\\"b\\\" = "
		"\\\"b\\\"\",\"where\":\"\\\"a\\\" IS NULL\",\"mode\":\"down\"}},"
		"{\"sql\":\"SELECT 1\",\"flags\":2}]");
	assert_int_equal(gw_steps_from_json(text, &back, &err), 0);
	assert_int_equal(back.n, 3);
	for (size_t i = 0; i < 3; i++)
		same_step(&s.v[i], &back.v[i]);
	assert_null(back.v[0].fill->where);
	assert_null(back.v[0].fill->mode);
	assert_string_equal(back.v[1].fill->mode, "down");
	assert_null(back.v[2].fill);
	free(text);
	gw_steps_release(&back);
	/* "where" and "mode" may be left out; both read as unset */
	assert_int_equal(gw_steps_from_json("[{\"sql\": \"x\", \"fill\": {\"table\": \"t\", "
					    "\"set\": \"a = 1\"}}]",
					    &back, &err),
			 0);
	assert_int_equal(back.n, 1);
	assert_string_equal(back.v[0].fill->table, "t");
	assert_string_equal(back.v[0].fill->set, "a = 1");
	assert_null(back.v[0].fill->where);
	assert_null(back.v[0].fill->mode);
	assert_int_equal(err.code, 0);
	gw_steps_release(&back);
	gw_steps_release(&s);
}

static void test_steps_json_empty(void **state)
{
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;
	char *text;

	(void)state;
	text = gw_steps_to_json(&s);
	assert_string_equal(text, "[]");
	assert_int_equal(gw_steps_from_json(text, &s, &err), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(gw_steps_from_json(" [ ] \n", &s, &err), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(err.code, 0);
	free(text);
	gw_steps_release(&s);
}

/* A missing "flags" is 0; the list read is appended to what s holds. */
static void test_steps_json_lenient(void **state)
{
	struct gw_steps s = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;

	(void)state;
	gw_steps_add(&s, 1, strdup("first"));
	assert_int_equal(gw_steps_from_json("[{\"sql\": \"SELECT 2\"}, {\"flags\": 3, \"sql\": "
					    "\"SELECT 3\"}]",
					    &s, &err),
			 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0].sql, "first");
	assert_string_equal(s.v[1].sql, "SELECT 2");
	assert_int_equal(s.v[1].flags, 0);
	assert_string_equal(s.v[2].sql, "SELECT 3");
	assert_int_equal(s.v[2].flags, 3);
	gw_steps_release(&s);
}

static void test_steps_json_invalid(void **state)
{
	static const char *const not_a_list[] = {
		"", "not json", "[", "{}", "{\"sql\": \"SELECT 1\"}", "\"[]\"", "null", "42",
		"[{\"sql\": \"a\"}] trailing",
	};
	static const struct {
		const char *text;
		const char *msg;
	} bad_step[] = {
		{"[1]", "recorded step 0 has no sql"},
		{"[{\"flags\": 0}]", "recorded step 0 has no sql"},
		{"[{\"sql\": \"ok\"}, {\"sql\": null}]", "recorded step 1 has no sql"},
		{"[{\"sql\": \"ok\"}, {\"sql\": 7}]", "recorded step 1 has no sql"},
		{"[{\"sql\": \"ok\"}, \"SELECT 1\"]", "recorded step 1 has no sql"},
		/* a fill needs its table and its assignments */
		{"[{\"sql\": \"ok\"}, {\"sql\": \"u\", \"fill\": {\"set\": \"a = 1\"}}]",
		 "recorded fill step 1 is not valid"},
		{"[{\"sql\": \"u\", \"fill\": {\"table\": \"t\"}}]",
		 "recorded fill step 0 is not valid"},
		{"[{\"sql\": \"u\", \"fill\": {\"table\": \"t\", \"set\": 1}}]",
		 "recorded fill step 0 is not valid"},
		{"[{\"sql\": \"u\", \"fill\": \"UPDATE t SET a = 1\"}]",
		 "recorded fill step 0 is not valid"},
	};
	static const char prefix[] = "recorded steps are not valid: ";

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(not_a_list); i++) {
		struct gw_steps s = GW_STEPS_INIT;
		struct gw_error err = GW_ERROR_INIT;

		assert_int_equal(gw_steps_from_json(not_a_list[i], &s, &err), GW_ERR_STATE);
		assert_int_equal(err.code, GW_ERR_STATE);
		assert_memory_equal(err.msg, prefix, strlen(prefix));
		assert_int_equal(s.n, 0);
		gw_steps_release(&s);
	}
	for (size_t i = 0; i < GW_ARRAY_SIZE(bad_step); i++) {
		struct gw_steps s = GW_STEPS_INIT;
		struct gw_error err = GW_ERROR_INIT;

		assert_int_equal(gw_steps_from_json(bad_step[i].text, &s, &err), GW_ERR_STATE);
		assert_int_equal(err.code, GW_ERR_STATE);
		assert_string_equal(err.msg, bad_step[i].msg);
		/* what was read before the bad step is the caller's to release */
		gw_steps_release(&s);
	}
}

/* ---------------------------------------------------- shadow-table rebuilds */

/* A step that is no job, for expect_shadow. */
#define NOJOB (-1)

#define REBUILD_ALTER "ADD COLUMN score int NOT NULL DEFAULT 0"
#define REBUILD_OP "{'rebuild_table': {'table': 'users', 'alter': '" REBUILD_ALTER "'}}"

/*
 * Exactly the steps given as n triples (unsigned flags, int job kind or
 * NOJOB, const char *sql) for operation op of m in phase. Every job is on
 * the operation's table; no step is a fill.
 */
static void expect_shadow(const char *d, const struct gw_migration *m, size_t op, int phase,
			  bool undo, const struct gw_table_info *live, size_t n, ...)
{
	struct gw_steps out = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;
	va_list ap;
	int rc;

	rc = steps(d, m, op, phase, undo, live, &out, &err);
	if (rc)
		print_error("%s %s%s: unexpected failure: %s\n", d, gw_phase_name(phase),
			    undo ? " undo" : "", err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(err.code, 0);
	if (out.n != n) {
		for (size_t i = 0; i < out.n; i++)
			print_error("%s %s%s step %zu: [%u] %s\n", d, gw_phase_name(phase),
				    undo ? " undo" : "", i, out.v[i].flags, out.v[i].sql);
	}
	assert_int_equal(out.n, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		unsigned flags = va_arg(ap, unsigned);
		int job = va_arg(ap, int);
		const char *sql = va_arg(ap, const char *);

		if (strcmp(out.v[i].sql, sql) != 0)
			print_error("%s %s%s step %zu: %s\n", d, gw_phase_name(phase),
				    undo ? " undo" : "", i, out.v[i].sql);
		assert_string_equal(out.v[i].sql, sql);
		assert_int_equal(out.v[i].flags, flags);
		assert_null(out.v[i].fill);
		if (job == NOJOB) {
			assert_null(out.v[i].job);
		} else {
			assert_non_null(out.v[i].job);
			assert_int_equal(out.v[i].job->kind, job);
			assert_string_equal(out.v[i].job->table, m->ops[op].table);
		}
	}
	va_end(ap);
	gw_steps_release(&out);
}

#define CAPTURE_NOTE(t)                                                                        \
	"-- capture: triggers on " t " apply every INSERT, UPDATE and DELETE to _gw_" t "_new"
#define COPY_NOTE(t)                                                                           \
	"-- copy: INSERT INTO _gw_" t "_new SELECT ... FROM " t " in keyset chunks, each "      \
	"committed with the checkpoint; secondary indexes that are not unique are built after it"
#define VERIFY_NOTE(t)                                                                         \
	"-- verify: checksum of " t " against _gw_" t "_new chunk by chunk; a chunk that "      \
	"differs is copied again"
#define PG_SWAP_NOTE(t)                                                                        \
	"-- swap: rename " t " to _gw_" t "_old and _gw_" t "_new to " t "; move foreign keys " \
	"(NOT VALID), views, triggers, sequences, grants and index names to it; capture from " \
	t " into _gw_" t "_old"
#define PG_UNSWAP_NOTE(t)                                                                      \
	"-- swap back: rename " t " to _gw_" t "_new and _gw_" t "_old to " t "; move foreign " \
	"keys (NOT VALID), views, triggers, sequences, grants and index names to it; capture " \
	"from " t " into _gw_" t "_new"
#define MY_SWAP_NOTE(t)                                                                        \
	"-- swap: capture from _gw_" t "_new into " t "; sentry _gw_" t "_old; LOCK TABLES; "   \
	"RENAME TABLE " t " TO _gw_" t "_old, _gw_" t "_new TO " t " queued from a second "     \
	"connection; drop the sentry; UNLOCK TABLES"
#define MY_UNSWAP_NOTE(t)                                                                      \
	"-- swap back: capture from _gw_" t "_old into " t "; sentry _gw_" t "_new; LOCK "      \
	"TABLES; RENAME TABLE " t " TO _gw_" t "_new, _gw_" t "_old TO " t " queued from a "    \
	"second connection; drop the sentry; UNLOCK TABLES"
#define VALIDATE_NOTE "-- validate the foreign keys the swap added NOT VALID"

/* The phases of a rebuild after expand, the same for rebuild_table and alter_column. */
#define expect_shadow_rest_pg(m, op, live, t)                                                  \
	do {                                                                                   \
		expect_shadow(PG, (m), (op), B, FWD, (live), 3,                                \
			      NT, GW_JOB_COPY, COPY_NOTE(t),                                   \
			      NT, GW_JOB_VERIFY, VERIFY_NOTE(t),                               \
			      0, NOJOB, "ANALYZE \"_gw_" t "_new\"");                          \
		expect_shadow(PG, (m), (op), B, UNDO, (live), 0);                              \
		expect_shadow(PG, (m), (op), C, FWD, (live), 3,                                \
			      LK, NOJOB, "LOCK TABLE \"" t "\", \"_gw_" t "_new\" IN ACCESS "  \
					 "EXCLUSIVE MODE",                                     \
			      LK, GW_JOB_SWAP, PG_SWAP_NOTE(t),                                \
			      NT, GW_JOB_VALIDATE, VALIDATE_NOTE);                             \
		expect_shadow(PG, (m), (op), C, UNDO, (live), 3,                               \
			      LK, NOJOB, "LOCK TABLE \"" t "\", \"_gw_" t "_old\" IN ACCESS "  \
					 "EXCLUSIVE MODE",                                     \
			      LK, GW_JOB_UNSWAP, PG_UNSWAP_NOTE(t),                            \
			      NT, GW_JOB_VALIDATE, VALIDATE_NOTE);                             \
	} while (0)
#define expect_shadow_rest_my(m, op, live, t)                                                  \
	do {                                                                                   \
		expect_shadow(MY, (m), (op), B, FWD, (live), 2,                                \
			      NT, GW_JOB_COPY, COPY_NOTE(t),                                   \
			      NT, GW_JOB_VERIFY, VERIFY_NOTE(t));                              \
		expect_shadow(MY, (m), (op), B, UNDO, (live), 0);                              \
		expect_shadow(MY, (m), (op), C, FWD, (live), 1,                                \
			      LK, GW_JOB_SWAP, MY_SWAP_NOTE(t));                               \
		expect_shadow(MY, (m), (op), C, UNDO, (live), 1,                               \
			      LK, GW_JOB_UNSWAP, MY_UNSWAP_NOTE(t));                           \
	} while (0)

#define PG_CAPTURE_DROP(t)                                                                     \
	MB, NOJOB, "DROP TRIGGER IF EXISTS \"_gw_" t "_fwd\" ON \"" t "\"",                     \
	0, NOJOB, "DROP FUNCTION IF EXISTS \"_gw_" t "_fwd\"()"
#define MY_CAPTURE_DROP(t)                                                                     \
	MB, NOJOB, "DROP TRIGGER IF EXISTS `_gw_" t "_fwd_ins`",                                \
	MB, NOJOB, "DROP TRIGGER IF EXISTS `_gw_" t "_fwd_upd`",                                \
	MB, NOJOB, "DROP TRIGGER IF EXISTS `_gw_" t "_fwd_del`"

static void test_shadow_rebuild_postgres(void **state)
{
	struct gw_migration m;

	(void)state;
	mig(REBUILD_OP, &m);
	/* offline and live: the same statements, decided at run time by the jobs */
	for (int k = 0; k < 2; k++) {
		const struct gw_table_info *live = k ? &users_pg : NULL;

		expect_shadow(PG, &m, 0, E, FWD, live, 4,
			      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_users_ix\"",
			      0, NOJOB, "CREATE TABLE \"_gw_users_new\" (LIKE \"users\" INCLUDING ALL)",
			      0, NOJOB, "ALTER TABLE \"_gw_users_new\" " REBUILD_ALTER,
			      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("users"));
		expect_shadow(PG, &m, 0, E, UNDO, live, 4,
			      PG_CAPTURE_DROP("users"),
			      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_users_new\"",
			      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_users_ix\"");
		expect_shadow_rest_pg(&m, 0, live, "users");
	}
	gw_migration_release(&m);
}

static void test_shadow_rebuild_mysql(void **state)
{
	struct gw_migration m;

	(void)state;
	mig(REBUILD_OP, &m);
	for (int k = 0; k < 2; k++) {
		const struct gw_table_info *live = k ? &users_my : NULL;

		expect_shadow(MY, &m, 0, E, FWD, live, 4,
			      0, NOJOB, "DROP TABLE IF EXISTS `_gw_users_ix`",
			      0, NOJOB, "CREATE TABLE `_gw_users_new` LIKE `users`",
			      0, NOJOB, "ALTER TABLE `_gw_users_new` " REBUILD_ALTER,
			      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("users"));
		expect_shadow(MY, &m, 0, E, UNDO, live, 5,
			      MY_CAPTURE_DROP("users"),
			      0, NOJOB, "DROP TABLE IF EXISTS `_gw_users_new`",
			      0, NOJOB, "DROP TABLE IF EXISTS `_gw_users_ix`");
		expect_shadow_rest_my(&m, 0, live, "users");
	}
	gw_migration_release(&m);
}

/* The replication flag of the jobs of a phase: set on every job but a swap back. */
static void expect_replication(const char *d, const struct gw_migration *m, enum gw_phase p,
			       bool undo, const struct gw_table_info *live)
{
	struct gw_steps out = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;

	assert_int_equal(steps(d, m, 0, p, undo, live, &out, &err), 0);
	for (size_t i = 0; i < out.n; i++)
		if (out.v[i].job)
			assert_int_equal(out.v[i].job->replication,
					 out.v[i].job->kind != GW_JOB_UNSWAP);
	gw_steps_release(&out);
}

/* Replication capture: no trigger; the stream is set up, drained at the swap and released. */
static void test_shadow_replication(void **state)
{
	struct gw_migration m;

	(void)state;
	mig_with("{'capture': 'replication'}", REBUILD_OP, &m);
	expect_shadow(MY, &m, 0, E, FWD, &users_my, 4,
		      0, NOJOB, "DROP TABLE IF EXISTS `_gw_users_ix`",
		      0, NOJOB, "CREATE TABLE `_gw_users_new` LIKE `users`",
		      0, NOJOB, "ALTER TABLE `_gw_users_new` " REBUILD_ALTER,
		      NT, GW_JOB_CAPTURE,
		      "-- capture: every change of users read from the binlog and applied to "
		      "_gw_users_new");
	expect_shadow(PG, &m, 0, E, FWD, &users_pg, 4,
		      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_users_ix\"",
		      0, NOJOB, "CREATE TABLE \"_gw_users_new\" (LIKE \"users\" INCLUDING ALL)",
		      0, NOJOB, "ALTER TABLE \"_gw_users_new\" " REBUILD_ALTER,
		      NT, GW_JOB_CAPTURE,
		      "-- capture: every change of users read from the logical replication slot "
		      "(pgoutput) and applied to _gw_users_new");
	/* rollback of expand releases the stream first */
	expect_shadow(PG, &m, 0, E, UNDO, &users_pg, 5,
		      NT, GW_JOB_RELEASE,
		      "-- release the replication capture of users: drop its slot and publication",
		      PG_CAPTURE_DROP("users"),
		      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_users_new\"",
		      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_users_ix\"");
	expect_shadow(MY, &m, 0, C, FWD, &users_my, 2,
		      LK, GW_JOB_SWAP,
		      "-- swap: capture from _gw_users_new into users; sentry _gw_users_old; LOCK "
		      "TABLES; drain the binlog; RENAME TABLE users TO _gw_users_old, _gw_users_new "
		      "TO users queued from a second connection; drop the sentry; UNLOCK TABLES",
		      NT, GW_JOB_RELEASE, "-- release the replication capture of users");
	expect_shadow(PG, &m, 0, C, FWD, &users_pg, 4,
		      LK, NOJOB, "LOCK TABLE \"users\", \"_gw_users_new\" IN ACCESS EXCLUSIVE MODE",
		      LK, GW_JOB_SWAP, PG_SWAP_NOTE("users"),
		      NT, GW_JOB_RELEASE,
		      "-- release the replication capture of users: drop its slot and publication",
		      NT, GW_JOB_VALIDATE, VALIDATE_NOTE);
	for (int p = 0; p < GW_NPHASES; p++) {
		for (int u = 0; u < 2; u++) {
			expect_replication(MY, &m, (enum gw_phase)p, u, &users_my);
			expect_replication(PG, &m, (enum gw_phase)p, u, &users_pg);
		}
	}
	gw_migration_release(&m);
}

/* What "godwit cleanup" drops once the contract is done: the reverse capture, the old table. */
static void test_shadow_cleanup_steps(void **state)
{
	struct gw_migration m;
	struct gw_steps s = GW_STEPS_INIT;

	(void)state;
	mig(REBUILD_OP, &m);
	gw_shadow_cleanup_steps(dialect(PG), &m.ops[0], &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0].sql, "DROP TRIGGER IF EXISTS \"_gw_users_rev\" ON \"users\"");
	assert_int_equal(s.v[0].flags, MB);
	assert_string_equal(s.v[1].sql, "DROP FUNCTION IF EXISTS \"_gw_users_rev\"()");
	assert_int_equal(s.v[1].flags, 0);
	assert_string_equal(s.v[2].sql, "DROP TABLE IF EXISTS \"_gw_users_old\"");
	assert_int_equal(s.v[2].flags, 0);
	gw_steps_release(&s);
	gw_shadow_cleanup_steps(dialect(MY), &m.ops[0], &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.v[0].sql, "DROP TRIGGER IF EXISTS `_gw_users_rev_ins`");
	assert_string_equal(s.v[1].sql, "DROP TRIGGER IF EXISTS `_gw_users_rev_upd`");
	assert_string_equal(s.v[2].sql, "DROP TRIGGER IF EXISTS `_gw_users_rev_del`");
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(s.v[i].flags, MB);
	assert_string_equal(s.v[3].sql, "DROP TABLE IF EXISTS `_gw_users_old`");
	assert_int_equal(s.v[3].flags, 0);
	for (size_t i = 0; i < s.n; i++)
		assert_null(s.v[i].job);
	gw_steps_release(&s);
	gw_migration_release(&m);
}

#define SHADOW_RETYPE                                                                          \
	"{'alter_column': {'table': 'accounts', 'column': 'balance', 'type': 'numeric(12,2)',"  \
	" 'strategy': 'shadow'}}"

/* alter_column with "strategy": "shadow": the dialect's alter_column, on the shadow. */
static void test_shadow_alter_column(void **state)
{
	struct gw_migration m;

	(void)state;
	mig(SHADOW_RETYPE, &m);
	expect_shadow(PG, &m, 0, E, FWD, &acc_pg, 4,
		      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_accounts_ix\"",
		      0, NOJOB, "CREATE TABLE \"_gw_accounts_new\" (LIKE \"accounts\" INCLUDING ALL)",
		      MB, NOJOB, "ALTER TABLE \"_gw_accounts_new\" ALTER COLUMN \"balance\" TYPE "
				 "numeric(12,2)",
		      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("accounts"));
	/* MODIFY restates NOT NULL and the default of the live column */
	expect_shadow(MY, &m, 0, E, FWD, &acc_my, 4,
		      0, NOJOB, "DROP TABLE IF EXISTS `_gw_accounts_ix`",
		      0, NOJOB, "CREATE TABLE `_gw_accounts_new` LIKE `accounts`",
		      MB, NOJOB, "ALTER TABLE `_gw_accounts_new` MODIFY COLUMN `balance` "
				 "numeric(12,2) NOT NULL DEFAULT 0",
		      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("accounts"));
	expect_shadow(MY, &m, 0, E, FWD, NULL, 4,
		      0, NOJOB, "DROP TABLE IF EXISTS `_gw_accounts_ix`",
		      0, NOJOB, "CREATE TABLE `_gw_accounts_new` LIKE `accounts`",
		      MB, NOJOB, "ALTER TABLE `_gw_accounts_new` MODIFY COLUMN `balance` "
				 "numeric(12,2) " MODIFY_OFFLINE,
		      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("accounts"));
	expect_shadow(PG, &m, 0, E, UNDO, &acc_pg, 4,
		      PG_CAPTURE_DROP("accounts"),
		      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_accounts_new\"",
		      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_accounts_ix\"");
	expect_shadow(MY, &m, 0, E, UNDO, &acc_my, 5,
		      MY_CAPTURE_DROP("accounts"),
		      0, NOJOB, "DROP TABLE IF EXISTS `_gw_accounts_new`",
		      0, NOJOB, "DROP TABLE IF EXISTS `_gw_accounts_ix`");
	expect_shadow_rest_pg(&m, 0, &acc_pg, "accounts");
	expect_shadow_rest_my(&m, 0, &acc_my, "accounts");
	gw_migration_release(&m);
}

/* The migration's "strategy" applies to its operations; an operation's own wins. */
static void test_shadow_strategy_option(void **state)
{
	struct gw_migration m;

	(void)state;
	mig_with("{'strategy': 'shadow'}",
		 "{'alter_column': {'table': 'accounts', 'column': 'balance', 'type': "
		 "'numeric(12,2)', 'nullable': true, 'default': '1.5'}},"
		 "{'alter_column': {'table': 'accounts', 'column': 'balance', 'type': "
		 "'numeric(12,2)', 'strategy': 'inplace'}}",
		 &m);
	assert_true(gw_shadow(&m, &m.ops[0]));
	assert_false(gw_shadow(&m, &m.ops[1]));
	expect_shadow(PG, &m, 0, E, FWD, &acc_pg, 6,
		      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_accounts_ix\"",
		      0, NOJOB, "CREATE TABLE \"_gw_accounts_new\" (LIKE \"accounts\" INCLUDING ALL)",
		      MB, NOJOB, "ALTER TABLE \"_gw_accounts_new\" ALTER COLUMN \"balance\" TYPE "
				 "numeric(12,2)",
		      0, NOJOB, "ALTER TABLE \"_gw_accounts_new\" ALTER COLUMN \"balance\" SET "
				"DEFAULT 1.5",
		      0, NOJOB, "ALTER TABLE \"_gw_accounts_new\" ALTER COLUMN \"balance\" DROP "
				"NOT NULL",
		      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("accounts"));
	expect_shadow(MY, &m, 0, E, FWD, &acc_my, 4,
		      0, NOJOB, "DROP TABLE IF EXISTS `_gw_accounts_ix`",
		      0, NOJOB, "CREATE TABLE `_gw_accounts_new` LIKE `accounts`",
		      MB, NOJOB, "ALTER TABLE `_gw_accounts_new` MODIFY COLUMN `balance` "
				 "numeric(12,2) DEFAULT 1.5",
		      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("accounts"));
	expect_shadow_rest_pg(&m, 0, &acc_pg, "accounts");
	expect_shadow_rest_my(&m, 0, &acc_my, "accounts");
	/* "inplace" on the operation: a plain type change, one ALTER in contract */
	expect_none(PG, &m, 1, E, FWD, &acc_pg);
	expect_none(PG, &m, 1, B, FWD, &acc_pg);
	expect(PG, &m, 1, C, FWD, &acc_pg, 1, MB,
	       "ALTER TABLE \"accounts\" ALTER COLUMN \"balance\" TYPE numeric(12,2)");
	gw_migration_release(&m);

	/* without a strategy anywhere, alter_column is not a rebuild; rebuild_table always is */
	mig("{'alter_column': {'table': 'accounts', 'column': 'balance', 'type': 'numeric(12,2)'}},"
	    REBUILD_OP, &m);
	assert_false(gw_shadow(&m, &m.ops[0]));
	assert_true(gw_shadow(&m, &m.ops[1]));
	assert_true(gw_shadow(NULL, &m.ops[1]));
	gw_migration_release(&m);
}

/* What the engines or this version cannot do is refused in every phase, before any step. */
static void test_shadow_refused_options(void **state)
{
	static const char ignore[] =
		PATH ": operation 0 (rebuild_table): option 'on_duplicate': only \"fail\" is "
		     "available for shadow-table rebuilds";
	static const char up[] =
		PATH ": operation 0 (alter_column): field 'up': a shadow rebuild converts values as "
		     "the engine assigns them, with no expression";
	static const char up_hint[] = "drop \"up\" and \"down\", or use \"strategy\": \"inplace\"";
	static const char *const dialects[] = {MY, PG};
	struct gw_migration op_capture, opt_capture, dup, dup_replace, conv, conv_opt, triggers;

	(void)state;
	mig("{'rebuild_table': {'table': 'users', 'alter': '" REBUILD_ALTER "', "
	    "'capture': 'replication'}}",
	    &op_capture);
	mig_with("{'capture': 'replication'}", REBUILD_OP, &opt_capture);
	mig_with("{'on_duplicate': 'ignore'}", REBUILD_OP, &dup);
	mig_with("{'on_duplicate': 'replace'}", REBUILD_OP, &dup_replace);
	mig("{'alter_column': {'table': 'accounts', 'column': 'balance', 'type': 'numeric(12,2)',"
	    " 'up': '" RETYPE_UP "', 'down': '" RETYPE_DOWN "', 'strategy': 'shadow'}}",
	    &conv);
	mig_with("{'strategy': 'shadow'}",
		 "{'alter_column': {'table': 'accounts', 'column': 'balance', 'type': "
		 "'numeric(12,2)', 'up': '" RETYPE_UP "', 'down': '" RETYPE_DOWN "'}}",
		 &conv_opt);
	/* the operation's capture wins over the migration's */
	mig_with("{'capture': 'replication'}",
		 "{'rebuild_table': {'table': 'users', 'alter': '" REBUILD_ALTER "', "
		 "'capture': 'triggers'}}",
		 &triggers);
	for (size_t k = 0; k < GW_ARRAY_SIZE(dialects); k++) {
		const char *d = dialects[k];
		const struct gw_table_info *users = k ? &users_pg : &users_my;
		const struct gw_table_info *acc = k ? &acc_pg : &acc_my;

		for (int p = 0; p < GW_NPHASES; p++) {
			for (int u = 0; u < 2; u++) {
				expect_fail(d, &dup, 0, p, u, users, GW_ERR_UNSUPPORTED, ignore,
					    NULL);
				expect_fail(d, &conv, 0, p, u, acc, GW_ERR_INPUT, up, up_hint);
				expect_fail(d, &conv_opt, 0, p, u, NULL, GW_ERR_INPUT, up, up_hint);
			}
		}
		expect_fail(d, &dup_replace, 0, E, FWD, users, GW_ERR_UNSUPPORTED, ignore, NULL);
		/* an empty hint: none was given */
		expect_fail(d, &dup, 0, E, FWD, users, GW_ERR_UNSUPPORTED, ignore, "");
	}
	expect_shadow(PG, &triggers, 0, E, FWD, &users_pg, 4,
		      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_users_ix\"",
		      0, NOJOB, "CREATE TABLE \"_gw_users_new\" (LIKE \"users\" INCLUDING ALL)",
		      0, NOJOB, "ALTER TABLE \"_gw_users_new\" " REBUILD_ALTER,
		      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("users"));
	gw_migration_release(&op_capture);
	gw_migration_release(&opt_capture);
	gw_migration_release(&dup);
	gw_migration_release(&dup_replace);
	gw_migration_release(&conv);
	gw_migration_release(&conv_opt);
	gw_migration_release(&triggers);
}

/* The live table: what MariaDB/MySQL cannot rebuild, and a table with no key. */
static void test_shadow_refused_live(void **state)
{
	static const char fk_hint[] = "drop the foreign keys in a migration before this one and "
				      "add them back after, or change the table in place";
	static const char fk_out_msg[] =
		PATH ": operation 0 (rebuild_table): table 'users' has foreign keys; MariaDB/MySQL "
		     "bind them to the table itself, so a renamed copy would leave them pointing at "
		     "the old table";
	static const char fk_in_msg[] =
		PATH ": operation 0 (rebuild_table): table 'users' is referenced by foreign keys; "
		     "MariaDB/MySQL bind them to the table itself, so a renamed copy would leave "
		     "them pointing at the old table";
	static const char trigger_msg[] =
		PATH ": operation 0 (rebuild_table): table 'users' has trigger 'audit_users'; it "
		     "would not follow the table to its rebuild on MariaDB/MySQL";
	static const char trigger_hint[] =
		"drop the trigger before the rebuild and create it again after";
	static const char no_key_msg[] =
		"table 'users' has no primary key and no unique key on NOT NULL columns, so it "
		"cannot be walked in chunks";
	char *org[] = {S("org_id")};
	char *ref[] = {S("id")};
	char *author[] = {S("author_id")};
	struct gw_fk_info out_fk = {S("fk_org"), S("users"), 1, org, S("orgs"), ref};
	struct gw_fk_info in_fk = {S("fk_author"), S("posts"), 1, author, S("users"), ref};
	struct gw_trigger_info user_trg[] = {
		{S("_gw_users_fwd_ins"), S("AFTER"), S("INSERT")},
		{S("audit_users"), S("AFTER"), S("UPDATE")},
	};
	struct gw_trigger_info own_trg[] = {
		{S("_gw_users_name_ins"), S("BEFORE"), S("INSERT")},
		{S("_gw_users_fwd_upd"), S("AFTER"), S("UPDATE")},
	};
	/* no primary key; "name" is unique but nullable, org_id NOT NULL but not unique */
	struct gw_column_info nokey_cols[] = {
		{S("id"), S("bigint"), true, NULL, false, false},
		{S("name"), S("varchar(80)"), true, NULL, false, false},
		{S("org_id"), S("int"), false, NULL, false, false},
	};
	struct gw_index_info nokey_idx[] = {
		{S("uq_users_name"), true, false, 1, users_name},
		{S("idx_users_org"), false, false, 1, users_org},
	};
	struct gw_table_info nokey = {.name = S("users"), .ncolumns = 3, .columns = nokey_cols,
				      .nindexes = 2, .indexes = nokey_idx};
	struct gw_table_info fk_out_my = users_my, fk_in_my = users_my, trg_my = users_my;
	struct gw_table_info own_my = users_my, fk_out_pg = users_pg, trg_pg = users_pg;
	struct gw_migration m;

	(void)state;
	fk_out_my.nfk_out = 1;
	fk_out_my.fk_out = &out_fk;
	fk_in_my.nfk_in = 1;
	fk_in_my.fk_in = &in_fk;
	trg_my.ntriggers = 2;
	trg_my.triggers = user_trg;
	own_my.ntriggers = 2;
	own_my.triggers = own_trg;
	fk_out_pg.nfk_out = 1;
	fk_out_pg.fk_out = &out_fk;
	fk_out_pg.nfk_in = 1;
	fk_out_pg.fk_in = &in_fk;
	trg_pg.ntriggers = 2;
	trg_pg.triggers = user_trg;
	mig(REBUILD_OP, &m);
	expect_fail(MY, &m, 0, E, FWD, &fk_out_my, GW_ERR_UNSUPPORTED, fk_out_msg, fk_hint);
	expect_fail(MY, &m, 0, E, FWD, &fk_in_my, GW_ERR_UNSUPPORTED, fk_in_msg, fk_hint);
	expect_fail(MY, &m, 0, E, FWD, &trg_my, GW_ERR_UNSUPPORTED, trigger_msg, trigger_hint);
	expect_fail(MY, &m, 0, E, FWD, &nokey, GW_ERR_INPUT, no_key_msg,
		    "add a primary key first (a migration of its own), then retry");
	expect_fail(PG, &m, 0, E, FWD, &nokey, GW_ERR_INPUT, no_key_msg, NULL);
	/* godwit's own triggers are no obstacle */
	expect_shadow(MY, &m, 0, E, FWD, &own_my, 4,
		      0, NOJOB, "DROP TABLE IF EXISTS `_gw_users_ix`",
		      0, NOJOB, "CREATE TABLE `_gw_users_new` LIKE `users`",
		      0, NOJOB, "ALTER TABLE `_gw_users_new` " REBUILD_ALTER,
		      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("users"));
	/* PostgreSQL's swap moves foreign keys and triggers to the rebuilt table */
	expect_shadow(PG, &m, 0, E, FWD, &fk_out_pg, 4,
		      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_users_ix\"",
		      0, NOJOB, "CREATE TABLE \"_gw_users_new\" (LIKE \"users\" INCLUDING ALL)",
		      0, NOJOB, "ALTER TABLE \"_gw_users_new\" " REBUILD_ALTER,
		      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("users"));
	expect_shadow(PG, &m, 0, E, FWD, &trg_pg, 4,
		      0, NOJOB, "DROP TABLE IF EXISTS \"_gw_users_ix\"",
		      0, NOJOB, "CREATE TABLE \"_gw_users_new\" (LIKE \"users\" INCLUDING ALL)",
		      0, NOJOB, "ALTER TABLE \"_gw_users_new\" " REBUILD_ALTER,
		      MB, GW_JOB_CAPTURE, CAPTURE_NOTE("users"));
	/* the live table is judged before expand only: undoing it, and later phases, go on */
	expect_shadow(MY, &m, 0, E, UNDO, &fk_out_my, 5,
		      MY_CAPTURE_DROP("users"),
		      0, NOJOB, "DROP TABLE IF EXISTS `_gw_users_new`",
		      0, NOJOB, "DROP TABLE IF EXISTS `_gw_users_ix`");
	expect_shadow(MY, &m, 0, B, FWD, &trg_my, 2,
		      NT, GW_JOB_COPY, COPY_NOTE("users"),
		      NT, GW_JOB_VERIFY, VERIFY_NOTE("users"));
	expect_shadow(PG, &m, 0, C, FWD, &nokey, 3,
		      LK, NOJOB, "LOCK TABLE \"users\", \"_gw_users_new\" IN ACCESS EXCLUSIVE MODE",
		      LK, GW_JOB_SWAP, PG_SWAP_NOTE("users"),
		      NT, GW_JOB_VALIDATE, VALIDATE_NOTE);
	gw_migration_release(&m);
}

/* Two steps are the same, job included. */
static void same_job_step(const struct gw_step *a, const struct gw_step *b)
{
	assert_string_equal(a->sql, b->sql);
	assert_int_equal(a->flags, b->flags);
	assert_null(b->fill);
	if (!a->job) {
		assert_null(b->job);
		return;
	}
	assert_non_null(b->job);
	assert_int_equal(a->job->kind, b->job->kind);
	assert_string_equal(a->job->table, b->job->table);
}

/* A job is stored by the name of its kind and its table; every kind reads back. */
static void test_steps_json_job(void **state)
{
	struct gw_steps s = GW_STEPS_INIT, back = GW_STEPS_INIT;
	struct gw_error err = GW_ERROR_INIT;
	char *text;

	(void)state;
	gw_steps_add_job(&s, NT, GW_JOB_COPY, "us\"ers", strdup("-- copy"));
	gw_steps_add(&s, MB, strdup("SELECT 1"));
	text = gw_steps_to_json(&s);
	assert_string_equal(text, "[{\"sql\":\"-- copy\",\"flags\":1,"
				  "\"job\":{\"kind\":\"copy\",\"table\":\"us\\\"ers\"}},"
				  "{\"sql\":\"SELECT 1\",\"flags\":2}]");
	assert_int_equal(gw_steps_from_json(text, &back, &err), 0);
	assert_int_equal(back.n, 2);
	same_job_step(&s.v[0], &back.v[0]);
	same_job_step(&s.v[1], &back.v[1]);
	free(text);
	gw_steps_release(&s);
	gw_steps_release(&back);

	for (int k = 0; k < GW_NJOBS; k++) {
		const char *name = gw_job_name(k);

		assert_non_null(name);
		assert_int_equal(gw_job_parse(name), k);
		gw_steps_add_job(&s, (unsigned)k, (enum gw_job_kind)k, "t", gw_strdup(name));
	}
	assert_null(gw_job_name(-1));
	assert_null(gw_job_name(GW_NJOBS));
	assert_int_equal(gw_job_parse(NULL), -1);
	assert_int_equal(gw_job_parse("COPY"), -1);
	text = gw_steps_to_json(&s);
	assert_int_equal(gw_steps_from_json(text, &back, &err), 0);
	assert_int_equal(back.n, GW_NJOBS);
	for (size_t i = 0; i < back.n; i++)
		same_job_step(&s.v[i], &back.v[i]);
	free(text);
	gw_steps_release(&s);
	gw_steps_release(&back);
}

/* The steps of every phase of a rebuild survive the store, jobs included. */
static void test_steps_json_shadow_phases(void **state)
{
	static const char *const dialects[] = {MY, PG};
	struct gw_migration m;

	(void)state;
	mig(REBUILD_OP, &m);
	for (size_t k = 0; k < GW_ARRAY_SIZE(dialects); k++) {
		for (int p = 0; p < GW_NPHASES; p++) {
			for (int u = 0; u < 2; u++) {
				struct gw_steps s = GW_STEPS_INIT, back = GW_STEPS_INIT;
				struct gw_error err = GW_ERROR_INIT;
				size_t njobs = 0;
				char *text, *again;

				assert_int_equal(steps(dialects[k], &m, 0, p, u, NULL, &s, &err), 0);
				text = gw_steps_to_json(&s);
				assert_int_equal(gw_steps_from_json(text, &back, &err), 0);
				assert_int_equal(back.n, s.n);
				for (size_t i = 0; i < s.n; i++) {
					same_job_step(&s.v[i], &back.v[i]);
					njobs += s.v[i].job != NULL;
				}
				/* forward: capture; copy and verify; swap (and validate) */
				if (!u)
					assert_int_equal(njobs, p == E ? 1 : p == B ? 2 : 1 + k);
				again = gw_steps_to_json(&back);
				assert_string_equal(again, text);
				free(again);
				free(text);
				gw_steps_release(&s);
				gw_steps_release(&back);
			}
		}
	}
	gw_migration_release(&m);
}

static void test_steps_json_job_invalid(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{"[{\"sql\": \"x\", \"job\": {\"kind\": \"explode\", \"table\": \"t\"}}]",
		 "recorded job step 0 is not valid"},
		{"[{\"sql\": \"ok\"}, {\"sql\": \"x\", \"job\": {\"kind\": \"Copy\", \"table\": "
		 "\"t\"}}]",
		 "recorded job step 1 is not valid"},
		{"[{\"sql\": \"x\", \"job\": {\"kind\": 2, \"table\": \"t\"}}]",
		 "recorded job step 0 is not valid"},
		{"[{\"sql\": \"x\", \"job\": {\"table\": \"t\"}}]", "recorded job step 0 is not valid"},
		{"[{\"sql\": \"x\", \"job\": {\"kind\": \"copy\"}}]",
		 "recorded job step 0 is not valid"},
		{"[{\"sql\": \"x\", \"job\": {\"kind\": \"copy\", \"table\": null}}]",
		 "recorded job step 0 is not valid"},
		{"[{\"sql\": \"x\", \"job\": \"copy\"}]", "recorded job step 0 is not valid"},
		{"[{\"job\": {\"kind\": \"copy\", \"table\": \"t\"}}]", "recorded step 0 has no sql"},
	};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(bad); i++) {
		struct gw_steps s = GW_STEPS_INIT;
		struct gw_error err = GW_ERROR_INIT;

		assert_int_equal(gw_steps_from_json(bad[i].text, &s, &err), GW_ERR_STATE);
		assert_int_equal(err.code, GW_ERR_STATE);
		assert_string_equal(err.msg, bad[i].msg);
		gw_steps_release(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase_names),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test(test_transition_out_of_range),
		cmocka_unit_test(test_may_start_all),
		cmocka_unit_test(test_may_start_examples),
		cmocka_unit_test(test_may_rollback_all),
		cmocka_unit_test(test_may_rollback_examples),
		cmocka_unit_test(test_steps_add_release),
		cmocka_unit_test(test_create_table),
		cmocka_unit_test(test_drop_table_expand),
		cmocka_unit_test(test_drop_table_contract),
		cmocka_unit_test(test_drop_table_long_name),
		cmocka_unit_test(test_rename_table),
		cmocka_unit_test(test_add_column_nullable),
		cmocka_unit_test(test_add_column_nullable_backfill),
		cmocka_unit_test(test_add_column_not_null_expand_backfill),
		cmocka_unit_test(test_add_column_not_null_contract_offline),
		cmocka_unit_test(test_add_column_not_null_contract_live),
		cmocka_unit_test(test_add_column_not_null_no_default),
		cmocka_unit_test(test_add_column_not_null_constant_default),
		cmocka_unit_test(test_drop_column),
		cmocka_unit_test(test_rename_column_mysql),
		cmocka_unit_test(test_rename_column_postgres),
		cmocka_unit_test(test_rename_column_nullable),
		cmocka_unit_test(test_rename_column_offline),
		cmocka_unit_test(test_alter_column_inplace_mysql),
		cmocka_unit_test(test_alter_column_inplace_postgres),
		cmocka_unit_test(test_alter_column_inplace_overrides),
		cmocka_unit_test(test_inplace_refused),
		cmocka_unit_test(test_alter_column_type_only),
		cmocka_unit_test(test_alter_column_undo_needs_live),
		cmocka_unit_test(test_alter_column_nullable_default),
		cmocka_unit_test(test_create_index),
		cmocka_unit_test(test_drop_index_forward),
		cmocka_unit_test(test_drop_index_undo),
		cmocka_unit_test(test_update_rows),
		cmocka_unit_test(test_update_rows_no_down),
		cmocka_unit_test(test_sql_expand),
		cmocka_unit_test(test_sql_contract),
		cmocka_unit_test(test_sql_not_transactional),
		cmocka_unit_test(test_add_constraint),
		cmocka_unit_test(test_no_migration_path),
		cmocka_unit_test(test_nothing_to_do),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_steps_json_exact),
		cmocka_unit_test(test_steps_json_round_trip),
		cmocka_unit_test(test_steps_json_from_phase),
		cmocka_unit_test(test_steps_json_fill),
		cmocka_unit_test(test_steps_json_empty),
		cmocka_unit_test(test_steps_json_lenient),
		cmocka_unit_test(test_steps_json_invalid),
		cmocka_unit_test(test_shadow_rebuild_postgres),
		cmocka_unit_test(test_shadow_rebuild_mysql),
		cmocka_unit_test(test_shadow_replication),
		cmocka_unit_test(test_shadow_cleanup_steps),
		cmocka_unit_test(test_shadow_alter_column),
		cmocka_unit_test(test_shadow_strategy_option),
		cmocka_unit_test(test_shadow_refused_options),
		cmocka_unit_test(test_shadow_refused_live),
		cmocka_unit_test(test_steps_json_job),
		cmocka_unit_test(test_steps_json_shadow_phases),
		cmocka_unit_test(test_steps_json_job_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
